#!/usr/bin/env python3
"""Writes hostile captures into OUTDIR. Each ends, where the file format allows, with a normal
request/response exchange on a fresh connection that must still be reported.

Usage: make_hostile.py OUTDIR [REAL_CAPTURE ...]   (real captures are the byte-flip sources)
       make_hostile.py --flood N BYTES   (to stdout: N connections, each an unterminated head
                                          of BYTES bytes, then the normal exchange)
       make_hostile.py --evict           (to stdout: a keep-alive connection ended at a 4 MiB
                                          --memory-limit in the middle of a head, which then
                                          goes on: evict() tells the story)
       make_hostile.py --frag-flood N    (to stdout: N IPv4 datagrams whose first 1400-byte
                                          fragment never gets the rest, then the exchange)
       make_hostile.py --h2-flood N S    (to stdout: N HTTP/2 connections, each S requests that
                                          never end, then the normal exchange)
"""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from pcaplib import LINKTYPE_RAW, PcapWriter, tcp_ip as ipv4_tcp  # noqa: E402

CLIENT, SERVER = bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2])


class Pcap(PcapWriter):
    """A pcap file with raw IP link type (101) and a clock: each packet 0.1 ms later."""

    def __init__(self, path, linktype=LINKTYPE_RAW):
        super().__init__(open(path, "wb") if isinstance(path, str) else path, linktype)
        self.t = 1700000000.0

    def packet(self, data, caplen=None, wirelen=None):
        self.t += 0.0001
        super().packet(self.t, data, caplen, wirelen)

    def close(self):
        self.f.close()


class Conn:
    """One TCP connection client:sport -> server:80 with its own sequence numbers."""

    def __init__(self, cap, sport, isn_c=1000, isn_s=5000, client=CLIENT, server=SERVER):
        self.cap, self.sport, self.client, self.server = cap, sport, client, server
        self.c, self.s = isn_c, isn_s

    def handshake(self):
        self.cap.packet(ipv4_tcp(self.client, self.server, self.sport, 80, self.c, 0, 0x02, b""))
        self.cap.packet(ipv4_tcp(self.server, self.client, 80, self.sport, self.s, self.c + 1,
                                 0x12, b""))
        self.c += 1
        self.s += 1

    def send(self, data, from_client=True, mss=1400):
        for i in range(0, len(data), mss):
            self.segment(data[i:i + mss], from_client)

    def segment(self, chunk, from_client=True, seq=None):
        if from_client:
            s = self.c if seq is None else seq
            self.cap.packet(ipv4_tcp(self.client, self.server, self.sport, 80, s, self.s, 0x18, chunk))
            if seq is None:
                self.c += len(chunk)
        else:
            s = self.s if seq is None else seq
            self.cap.packet(ipv4_tcp(self.server, self.client, 80, self.sport, s, self.c, 0x18, chunk))
            if seq is None:
                self.s += len(chunk)

    def close(self):
        self.cap.packet(ipv4_tcp(self.client, self.server, self.sport, 80, self.c, self.s, 0x11, b""))
        self.cap.packet(ipv4_tcp(self.server, self.client, 80, self.sport, self.s, self.c + 1, 0x11, b""))


TAIL_REQUEST = b"GET /after-hostile HTTP/1.1\r\nHost: tail.example\r\n\r\n"
TAIL_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def normal_tail(cap, sport=60999):
    c = Conn(cap, sport)
    c.handshake()
    c.send(TAIL_REQUEST)
    c.send(TAIL_RESPONSE, from_client=False)
    c.close()


def huge_head(out):
    cap = Pcap(os.path.join(out, "huge-head.pcap"))
    c = Conn(cap, 40000)
    c.handshake()
    c.send(b"GET /never-ends HTTP/1.1\r\nHost: x\r\n")
    line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    c.send(line * 1100)          # over 1 MiB, no empty line
    normal_tail(cap)
    cap.close()


def many_flows(out, n=200000):
    cap = Pcap(os.path.join(out, "many-flows.pcap"))
    for i in range(n):
        src = bytes([10, 10 + (i >> 16), (i >> 8) & 255, i & 255])
        c = Conn(cap, 1024 + i % 60000, client=src)
        c.send(b"GET /unterminated/%d HTTP/1.1\r\nHost: many.example\r\nX-Pad: " % i + b"p" * 64)
    normal_tail(cap)
    cap.close()


def conflicting_overlaps(out):
    cap = Pcap(os.path.join(out, "overlap-wrap.pcap"))
    c = Conn(cap, 40001, isn_c=0xFFFFFFFF - 30)
    c.handshake()
    req = b"GET /first-wins HTTP/1.1\r\nHost: wrap.example\r\nX-A: 1\r\n\r\n"
    evil = b"POST /evil-second HTTP/1.1\r\nHost: evil.example\r\n\r\n"
    base = c.c
    c.segment(req[20:], seq=base + 20)                    # ahead of a hole, across the wrap
    c.segment(evil[20:48], seq=base + 20)                 # conflicts with held bytes: ignored
    c.segment(req[:20], seq=base)                         # fills the hole
    c.segment(evil[:40], seq=base)                        # conflicts with delivered bytes: ignored
    c.c = base + len(req)
    c.send(b"HTTP/1.1 204 No Content\r\n\r\n", from_client=False)
    c.close()
    normal_tail(cap)
    cap.close()


def many_fields(out):
    cap = Pcap(os.path.join(out, "many-fields.pcap"))
    c = Conn(cap, 40002)
    c.handshake()
    head = b"GET /fields HTTP/1.1\r\nHost: f.example\r\n" + b"".join(
        b"X-F%d: v\r\n" % i for i in range(10000)) + b"\r\n"
    c.send(head)
    c.send(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", from_client=False)
    c.close()
    normal_tail(cap)
    cap.close()


def every_byte(out):
    cap = Pcap(os.path.join(out, "every-byte.pcap"))
    c = Conn(cap, 40003)
    c.handshake()
    value = bytes(b for b in range(256) if b not in (10, 13))
    c.send(b"GET /bytes HTTP/1.1\r\nHost: b.example\r\nX-All: " + value +
           b"\r\nX-Esc: \x1b[2J\x1b]0;pwned\x07\r\n\r\n")
    c.send(b"HTTP/1.1 200 OK\r\nX-Back: " + value + b"\r\nContent-Length: 0\r\n\r\n",
           from_client=False)
    c.close()
    normal_tail(cap)
    cap.close()


def broken_files(out):
    good = os.path.join(out, "good.pcap")
    cap = Pcap(good)
    normal_tail(cap)
    cap.close()
    data = open(good, "rb").read()
    with open(os.path.join(out, "truncated-record.pcap"), "wb") as f:
        f.write(data[:-7])                      # last record cut short
    with open(os.path.join(out, "truncated-header.pcap"), "wb") as f:
        f.write(data[:12])                      # global header cut short
    with open(os.path.join(out, "garbage.pcap"), "wb") as f:
        f.write(random.Random(1).randbytes(4096))
    absurd = Pcap(os.path.join(out, "absurd-caplen.pcap"))
    normal_tail(absurd)
    absurd.raw(struct.pack("<IIII", 1700000001, 0, 0x7FFFFFF0, 0x7FFFFFF0) + b"x" * 64)
    absurd.close()
    wire = Pcap(os.path.join(out, "wirelen-below-caplen.pcap"))
    normal_tail(wire)
    pkt = ipv4_tcp(CLIENT, SERVER, 5555, 80, 1, 1, 0x18, b"GET / HTTP/1.1\r\n\r\n")
    wire.packet(pkt, caplen=len(pkt), wirelen=3)
    wire.close()


def byte_flips(out, sources):
    rnd = random.Random(7)
    for src in sources:
        data = bytearray(open(src, "rb").read())
        for k in range(5):
            flipped = bytearray(data)
            for _ in range(max(1, len(data) // 200)):
                i = rnd.randrange(24, len(flipped))
                flipped[i] ^= 1 << rnd.randrange(8)
            name = f"flip-{os.path.basename(src).rsplit('.', 1)[0]}-{k}.pcap"
            with open(os.path.join(out, name), "wb") as f:
                f.write(flipped)


SECRETS = [b"Basic c2VjcmV0LWJhc2ljOnB3", b"sid=secret-cookie-1; tok=secret-cookie-2",
           b"secret-set-cookie=abc; Path=/", b"secret-api-key-77", b"secret-folded-tail",
           b"Bearer secret-pipelined-2"]


def secrets(out):
    """Credentials in request and response heads: split across segments, a folded line,
    pipelined requests in one segment, one header named on --redact's list."""
    cap = Pcap(os.path.join(out, "secrets.pcap"))
    c = Conn(cap, 40004)
    c.handshake()
    head = (b"GET /secret HTTP/1.1\r\nHost: s.example\r\nAuthorization: " + SECRETS[0] +
            b"\r\nCookie: " + SECRETS[1] + b"\r\nX-Api-Key: " + SECRETS[3] +
            b"\r\nX-Folded: visible\r\nCookie: a=1;\r\n " + SECRETS[4] + b"\r\n\r\n")
    c.send(head, mss=23)            # every value split across segments
    c.send(b"HTTP/1.1 200 OK\r\nSet-Cookie: " + SECRETS[2] + b"\r\nContent-Length: 2\r\n\r\nok",
           from_client=False)
    c.send(b"GET /p1 HTTP/1.1\r\nHost: s.example\r\n\r\nGET /p2 HTTP/1.1\r\nHost: s.example\r\n"
           b"Authorization: " + SECRETS[5] + b"\r\n\r\n")
    c.send(b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", from_client=False)
    c.close()
    normal_tail(cap)
    cap.close()


def many_exchanges(out, n=3000):
    """n small exchanges on 30 keep-alive connections: events to fill a small disk."""
    cap = Pcap(os.path.join(out, "many-exchanges.pcap"))
    conns = [Conn(cap, 41000 + i) for i in range(30)]
    for c in conns:
        c.handshake()
    for i in range(n):
        c = conns[i % len(conns)]
        c.send(b"GET /x/%d HTTP/1.1\r\nHost: many.example\r\nUser-Agent: test\r\n\r\n" % i)
        c.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", from_client=False)
    for c in conns:
        c.close()
    normal_tail(cap)
    cap.close()


def head_flood(f, n, size):
    """n connections that each send size bytes of a head that never ends, in 1400-byte
    segments, all open at once (the heads grow side by side)."""
    cap = Pcap(f)
    conns = []
    for i in range(n):
        c = Conn(cap, 1024 + i % 60000, client=bytes([10, 11 + (i >> 16), (i >> 8) & 255, i & 255]))
        c.handshake()
        c.send(b"GET /flood/%d HTTP/1.1\r\nHost: flood.example\r\n" % i)
        conns.append(c)
    line = b"X-Flood: " + b"f" * 1389 + b"\r\n"
    for _ in range(size // len(line)):
        for c in conns:
            c.segment(line)
    normal_tail(cap)
    cap.close()


EVICT_LINE = b"X-Fill: " + b"f" * 1390 + b"\r\n"


def evict(f):
    """A connection (port 50000) exchanges GET /v1 and 200, then sends most of the head of
    GET /v2 (20 KiB); 300 other connections each send 20 KiB of a head that never ends, past
    a 4 MiB limit, the victim's being the least recently active. Then the victim's head ends,
    GET /v3 follows at once (pipelined), the 200 to /v2 (body "v2") and the 404 to /v3 come
    back, POST /v4 (body "abc", chunked) gets 201 "made", and the connection closes; the
    normal exchange last."""
    cap = Pcap(f)
    v = Conn(cap, 50000)
    v.handshake()
    v.send(b"GET /v1 HTTP/1.1\r\nHost: v\r\n\r\n")
    v.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", from_client=False)
    v.send(b"GET /v2 HTTP/1.1\r\nHost: v\r\n")
    for _ in range(14):
        v.segment(EVICT_LINE)
    flood = []
    for i in range(300):
        c = Conn(cap, 51000 + i, client=bytes([10, 12, i >> 8, i & 255]))
        c.handshake()
        c.send(b"GET /flood/%d HTTP/1.1\r\nHost: flood.example\r\n" % i)
        flood.append(c)
    for _ in range(14):
        for c in flood:
            c.segment(EVICT_LINE)
    v.send(b"X-End: 1\r\n\r\n")
    v.send(b"GET /v3 HTTP/1.1\r\nHost: v\r\n\r\n")
    v.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv2", from_client=False)
    v.send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", from_client=False)
    v.send(b"POST /v4 HTTP/1.1\r\nHost: v\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n0\r\n\r\n")
    v.send(b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nmade", from_client=False)
    v.close()
    normal_tail(cap)
    cap.close()


def fragment(src, dst, ident, offset, more, data, proto=6):
    """An IPv4 fragment: data at byte offset of datagram ident."""
    flags = (0x2000 if more else 0) | offset // 8
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident & 0xffff, flags, 64,
                       proto, 0, src, dst) + data


def frag_flood(f, n):
    """n datagrams, each from its own source, whose first fragment (1400 bytes) comes alone."""
    cap = Pcap(f)
    chunk = b"\x55" * 1400
    for i in range(n):
        src = bytes([10, 12 + (i >> 16), (i >> 8) & 255, i & 255])
        cap.packet(fragment(src, SERVER, i, 0, True, chunk))
    normal_tail(cap)
    cap.close()


def frag_evasions(out):
    """What fragmenting evasions send: a datagram in 8-byte fragments past the fragments one
    datagram may hold, the same fragment 20,000 times with other bytes each time, 5,000
    tiny first fragments, fragments past 65535 bytes and ones that disagree on the end."""
    cap = Pcap(os.path.join(out, "frag-evasions.pcap"))
    for off in range(0, 60000, 8):
        cap.packet(fragment(CLIENT, SERVER, 1, off, True, bytes([off & 255]) * 8))
    for k in range(20000):
        cap.packet(fragment(CLIENT, SERVER, 2, 64, True, bytes([k & 255]) * 64))
    for k in range(5000):
        cap.packet(fragment(CLIENT, SERVER, 1000 + k, 0, True, b"\x01" * 8))
    cap.packet(fragment(CLIENT, SERVER, 3, 65528, False, b"x" * 16))
    cap.packet(fragment(CLIENT, SERVER, 4, 64, False, b"y" * 8))
    cap.packet(fragment(CLIENT, SERVER, 4, 64, False, b"y" * 16))
    normal_tail(cap)
    cap.close()


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h2_frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def hpack_int(v, prefix_bits, first):
    """An HPACK integer with an N-bit prefix, first holding the representation's flag bits."""
    top = (1 << prefix_bits) - 1
    if v < top:
        return bytes([first | v])
    out, v = bytearray([first | top]), v - top
    while v >= 128:
        out.append(0x80 | (v & 127))
        v >>= 7
    return bytes(out + bytes([v]))


def hpack_literal(name, value, indexing=True):
    """A literal field with a new name (incremental indexing, or without), no Huffman."""
    return (b"\x40" if indexing else b"\x00") + hpack_int(len(name), 7, 0) + name + \
        hpack_int(len(value), 7, 0) + value


# :method GET, :scheme http, :path /, :authority h (not indexed: the table keeps what the bomb
# puts there at index 62)
GET_SLASH = b"\x82\x86\x84\x01\x01h"


def h2_hostile(out):
    """HTTP/2 at its worst, one connection per case: an HPACK bomb (a 4000-byte table entry
    referenced 16000 times in one 16 KiB block: 64 MB if decoded whole), a CONTINUATION flood
    (one block of 2000 frames), a wrong preface, a server that never sends SETTINGS, frames
    whose lengths do not add up, then a normal exchange that must still be reported."""
    cap = Pcap(os.path.join(out, "h2-hostile.pcap"))
    settings = h2_frame(4, 0, 0, b"")
    c = Conn(cap, 41000)
    c.handshake()
    c.send(H2_PREFACE + settings)
    c.send(settings, from_client=False)
    c.send(h2_frame(1, 5, 1, GET_SLASH + hpack_literal(b"x-bomb", b"b" * 4000)))
    c.send(h2_frame(1, 5, 3, GET_SLASH + b"\xbe" * 16000))
    c.send(h2_frame(1, 5, 3, b"\x88"), from_client=False)
    block = [h2_frame(1, 1, 5, GET_SLASH)]
    for i in range(2000):
        block.append(h2_frame(9, 4 if i == 1999 else 0, 5,
                              hpack_literal(b"x-c", b"%04d" % i * 250, indexing=False)))
    c.send(b"".join(block))
    c.close()
    c = Conn(cap, 41001)
    c.handshake()
    c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + settings + h2_frame(1, 5, 1, GET_SLASH))
    c.close()
    c = Conn(cap, 41002)
    c.handshake()
    c.send(H2_PREFACE + settings + h2_frame(1, 5, 1, GET_SLASH))
    c.send(h2_frame(1, 5, 1, b"\x88"), from_client=False)  # a response, no SETTINGS ever
    c.close()
    c = Conn(cap, 41003)
    c.handshake()
    c.send(H2_PREFACE + settings + h2_frame(3, 0, 1, b"\0\0") + h2_frame(0, 8, 1, b"\x09ab") +
           h2_frame(4, 0, 0, b"\0\1\0") + h2_frame(9, 4, 7, b"") + h2_frame(1, 5, 9, GET_SLASH))
    c.close()
    normal_tail(cap)
    cap.close()


def h2_flood(f, n, streams):
    """n HTTP/2 connections, each with streams requests (2 KiB of fields, a full dynamic
    table) that never end: memory held for requests waiting, side by side."""
    cap = Pcap(f)
    conns = []
    for i in range(n):
        c = Conn(cap, 1024 + i % 60000, client=bytes([10, 12 + (i >> 16), (i >> 8) & 255, i & 255]))
        c.handshake()
        c.send(H2_PREFACE + h2_frame(4, 0, 0, b""))
        conns.append(c)
    fields = b"".join(hpack_literal(b"x-f%d" % k, b"v" * 200, indexing=False) for k in range(10))
    for s in range(streams):
        for c in conns:
            c.segment(h2_frame(1, 4, 2 * s + 1, GET_SLASH + fields))
    normal_tail(cap)
    cap.close()


def main():
    if sys.argv[1] == "--evict":
        evict(sys.stdout.buffer)
        return
    if sys.argv[1] == "--flood":
        head_flood(sys.stdout.buffer, int(sys.argv[2]), int(sys.argv[3]))
        return
    if sys.argv[1] == "--h2-flood":
        h2_flood(sys.stdout.buffer, int(sys.argv[2]), int(sys.argv[3]))
        return
    if sys.argv[1] == "--frag-flood":
        frag_flood(sys.stdout.buffer, int(sys.argv[2]))
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    huge_head(out)
    many_flows(out)
    conflicting_overlaps(out)
    many_fields(out)
    every_byte(out)
    broken_files(out)
    secrets(out)
    many_exchanges(out)
    frag_evasions(out)
    h2_hostile(out)
    byte_flips(out, sys.argv[2:])


if __name__ == "__main__":
    main()
