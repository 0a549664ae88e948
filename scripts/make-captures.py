#!/usr/bin/env python3
"""Makes the offline test captures that wrap recorded traffic the way network sensors see it.

Each capture is built from a recording of scripts/record-captures.sh (real curl and nginx in
tests/captures/): every IP packet of the conversation is wrapped in an encapsulation (GRE,
ERSPAN, VXLAN, Geneve, GTP-U, AYIYA, GRE in UDP, PPPoE, MPLS, 802.3 LLC/SNAP, Cisco HDLC),
or the conversation is changed the way a capture point changes it (the same 4-tuple on three
VLANs, a response retransmitted after both FINs, a packet the capture lost, link types and
encapsulations httpeek cannot open). Frames keep their time stamps and order, so the rows of
tests/offline/golden/expected.tsv for the source capture hold for the frames made from it; tshark
decodes every encapsulation here, which is how those rows were checked.

Usage: make-captures.py [OUTDIR [NAME...]]   (default: tests/captures, every capture)
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(os.path.dirname(HERE), "tests", "captures")

LINK_ETHER = 1
LINK_C_HDLC = 104
LINK_FDDI = 10

CLIENT_MAC = bytes.fromhex("02000000c001")
SERVER_MAC = bytes.fromhex("02000000c002")
TUNNEL_A = bytes([192, 0, 2, 1])     # the client's tunnel end
TUNNEL_B = bytes([192, 0, 2, 2])     # the server's tunnel end
MIRROR = bytes([192, 0, 2, 10])      # a switch that mirrors (ERSPAN)
COLLECTOR = bytes([192, 0, 2, 20])   # where the mirror sends


def read_pcap(path):
    """(linktype, magic bytes, [(header bytes, frame bytes)]) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        raise SystemExit("%s: not a little-endian pcap file" % path)
    linktype = struct.unpack("<I", data[20:24])[0]
    recs, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append((data[off:off + 16], data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return linktype, magic, recs


def write_pcap(path, linktype, magic, recs, snaplen=262144):
    """recs: (header, frame); a frame longer than snaplen is cut to it, as a capture cuts."""
    with open(path, "wb") as f:
        f.write(magic + struct.pack("<HHiIII", 2, 4, 0, 0, snaplen, linktype))
        for hdr, frame in recs:
            sec, frac = struct.unpack("<II", hdr[:8])
            cut = frame[:snaplen]
            f.write(struct.pack("<IIII", sec, frac, len(cut), len(frame)) + cut)
    print("make-captures: %s" % path)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, ident=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                    src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ether(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def ip_of(frame):
    """The IP packet of an Ethernet frame from the recordings (no VLAN tags there)."""
    return frame[14:]


def source(name):
    """The records of tests/captures/NAME.pcap, each with whether the client sent it."""
    linktype, magic, recs = read_pcap(os.path.join(CAPTURES, name + ".pcap"))
    if linktype != LINK_ETHER:
        raise SystemExit("%s: not Ethernet" % name)
    client = recs[0][1][6:12]  # the recordings start with the client's SYN
    return magic, [(hdr, f, f[6:12] == client) for hdr, f in recs]


def wrap(name, fn, src="get", linktype=LINK_ETHER):
    """Every frame of src, turned into fn(frame, index, sent by the client)."""
    magic, recs = source(src)
    return linktype, magic, [(hdr, fn(f, i, up)) for i, (hdr, f, up) in enumerate(recs)]


def outer_ip(up, proto, payload, i):
    """IPv4 between the tunnel ends, the client's end sending when up."""
    a, b = (TUNNEL_A, TUNNEL_B) if up else (TUNNEL_B, TUNNEL_A)
    return ipv4(a, b, proto, payload, ident=i + 1)


def outer_frame(up, proto, payload, i):
    macs = (SERVER_MAC, CLIENT_MAC) if up else (CLIENT_MAC, SERVER_MAC)
    return ether(macs[0], macs[1], 0x0800, outer_ip(up, proto, payload, i))


def gre(flags, proto, fields=b""):
    return struct.pack("!BBH", flags, 0, proto) + fields


def case_gre(name):
    return wrap(name, lambda f, i, up: outer_frame(up, 47, gre(0, 0x0800) + ip_of(f), i))


def case_gre_eth(name):
    # key 7 in both directions, an Ethernet frame inside (transparent bridging)
    return wrap(name, lambda f, i, up: outer_frame(
        up, 47, gre(0x20, 0x6558, struct.pack("!I", 7)) + f, i))


def mirrored(payload, i):
    return ether(SERVER_MAC, CLIENT_MAC, 0x0800, ipv4(MIRROR, COLLECTOR, 47, payload, i + 1))


def case_erspan2(name):
    # GRE with a sequence number, ERSPAN type II: version 1, VLAN 0, session 5, index 0
    def fn(f, i, up):
        hdr = struct.pack("!HHI", 1 << 12, 5, 0)
        return mirrored(gre(0x10, 0x88be, struct.pack("!I", i)) + hdr + f, i)
    return wrap(name, fn)


def case_erspan3(name):
    # ERSPAN type III: version 2, session 6, a time stamp, no platform sub-header
    def fn(f, i, up):
        hdr = struct.pack("!HHIHH", 2 << 12, 6, 1000 * i, 0, 0)
        return mirrored(gre(0x10, 0x22eb, struct.pack("!I", i)) + hdr + f, i)
    return wrap(name, fn)


def case_vxlan(name):
    def fn(f, i, up):
        vx = struct.pack("!BBHI", 0x08, 0, 0, 100 << 8)
        return outer_frame(up, 17, udp(49152 + (5 if up else 9), 4789, vx + f), i)
    return wrap(name, fn)


def case_geneve(name):
    # one 8-byte option (class 0x0102, type 0x80, 4 bytes of data), VNI 200, Ethernet inside
    def fn(f, i, up):
        gv = struct.pack("!BBHI", 2, 0, 0x6558, 200 << 8)
        opt = struct.pack("!HBBI", 0x0102, 0x80, 1, 0xdeadbeef)
        return outer_frame(up, 17, udp(49152 + (7 if up else 3), 6081, gv + opt + f), i)
    return wrap(name, fn)


def case_gtpu(name):
    # G-PDU, a sequence number (so the optional fields are there), each side's own TEID
    def fn(f, i, up):
        ip = ip_of(f)
        teid = 0x1001 if up else 0x2002
        gt = struct.pack("!BBHIHBB", 0x32, 0xff, 4 + len(ip), teid, i, 0, 0)
        return outer_frame(up, 17, udp(2152, 2152, gt + ip), i)
    return wrap(name, fn)


def case_ayiya(name):
    # AYIYA from a SixXS-style client: 16-byte identity, SHA-1 signature, forward, IPv6 inside
    def fn(f, i, up):
        hdr = struct.pack("!BBBBI", 0x41, 0x52, 0x11, 41, 1700000000 + i)
        ay = hdr + bytes(range(16)) + bytes(20) + ip_of(f)
        return outer_frame(up, 17, udp(5072, 5072, ay), i)
    return wrap(name, fn, src="ipv6")


def case_gre_udp(name):
    # RFC 8086: a GRE header in UDP to port 4754
    def fn(f, i, up):
        return outer_frame(up, 17, udp(49152 + (1 if up else 2), 4754,
                                       gre(0, 0x0800) + ip_of(f)), i)
    return wrap(name, fn)


def case_pppoe(name):
    def fn(f, i, up):
        ppp = struct.pack("!H", 0x0021) + ip_of(f)
        hdr = struct.pack("!BBHH", 0x11, 0, 0x0011, len(ppp))
        return ether(f[:6], f[6:12], 0x8864, hdr + ppp)
    return wrap(name, fn)


def labels(*ls):
    return b"".join(struct.pack("!I", l << 12 | (0x100 if k == len(ls) - 1 else 0) | 64)
                    for k, l in enumerate(ls))


def case_mpls(name):
    return wrap(name, lambda f, i, up: ether(f[:6], f[6:12], 0x8847,
                                             labels(1000 if up else 3000, 2000) + ip_of(f)))


def case_mpls_vlan(name):
    def fn(f, i, up):
        tag = struct.pack("!HH", 50, 0x8847)
        return ether(f[:6], f[6:12], 0x8100, tag + labels(1000 if up else 3000) + ip_of(f))
    return wrap(name, fn)


def case_llc_snap(name):
    # 802.3: a length for the type, LLC AA AA 03, SNAP OUI 0 and type IPv4 (RFC 1042)
    def fn(f, i, up):
        body = bytes([0xaa, 0xaa, 0x03, 0, 0, 0]) + struct.pack("!H", 0x0800) + ip_of(f)
        return f[:12] + struct.pack("!H", len(body)) + body
    return wrap(name, fn)


def case_c_hdlc(name):
    return wrap(name, lambda f, i, up: struct.pack("!BBH", 0x0f, 0, 0x0800) + ip_of(f),
                linktype=LINK_C_HDLC)


def retcp(ip, port, is_client):
    """ip with the client's port set to port and the TCP checksum made right again."""
    hl = (ip[0] & 0x0f) * 4
    tcp = bytearray(ip[hl:])
    struct.pack_into("!H", tcp, 0 if is_client else 2, port)
    struct.pack_into("!H", tcp, 16, 0)
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
    struct.pack_into("!H", tcp, 16, csum(pseudo + bytes(tcp)))
    return ip[:hl] + bytes(tcp)


def case_vlan_zones(name):
    # three recorded connections made into one 4-tuple (client port 40001), one per VLAN
    # (10: get, 20: head, 30: notmodified), their packets taken in turn: one flow per VLAN
    convs = []
    for vid, src in ((10, "get"), (20, "head"), (30, "notmodified")):
        magic, recs = source(src)
        convs.append([(hdr, vid, f, up) for hdr, f, up in recs])
    out, n = [], 0
    while any(convs):
        for conv in convs:
            if not conv:
                continue
            _, vid, f, up = conv.pop(0)
            hdr = struct.pack("<II", 1700000000, 1000 * n) + b"\0" * 8
            tag = struct.pack("!HH", vid, 0x0800)
            out.append((hdr, ether(f[:6], f[6:12], 0x8100, tag + retcp(ip_of(f), 40001, up))))
            n += 1
    return LINK_ETHER, magic, out


def case_fin_retransmit(name):
    # the response (frame 6) sent again a second after both FINs and the last ACK
    magic, recs = source("get")
    recs = [(hdr, f) for hdr, f, _ in recs]
    hdr, frame = recs[5]
    sec, frac = struct.unpack("<II", recs[-1][0][:8])
    late = struct.pack("<II", sec + 1, frac) + hdr[8:]
    return LINK_ETHER, magic, recs + [(late, frame)]


class Conversation:
    """A TCP connection written packet by packet: handshake, data each way (each send one
    segment, acknowledged), FINs. Time stamps step by 1 ms from 1700000000 s; frames are
    numbered from 1 in the order they are made."""

    def __init__(self, recs, client, server, cport, sport):
        self.recs = recs
        self.ends = ((bytes(client), cport), (bytes(server), sport))
        self.seq = [1000, 5000]
        self.tcp(0, 0x02, b"")
        self.seq[0] += 1
        self.tcp(1, 0x12, b"")
        self.seq[1] += 1
        self.tcp(0, 0x10, b"")

    def tcp(self, side, flags, payload, lost=False):
        (sa, sp), (da, dp) = self.ends[side], self.ends[1 - side]
        seg = struct.pack("!HHIIBBHHH", sp, dp, self.seq[side], self.seq[1 - side], 5 << 4,
                          flags, 65535, 0, 0) + payload
        pseudo = sa + da + struct.pack("!BBH", 0, 6, len(seg))
        seg = seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]
        macs = (SERVER_MAC, CLIENT_MAC) if side == 0 else (CLIENT_MAC, SERVER_MAC)
        hdr = struct.pack("<II", 1700000000, 1000 * len(self.recs)) + b"\0" * 8
        if not lost:
            self.recs.append((hdr, ether(macs[0], macs[1], 0x0800, ipv4(sa, da, 6, seg))))

    def send(self, side, payload, lost=False):
        """payload from the client (side 0) or the server (1) in one segment, maybe lost."""
        self.tcp(side, 0x18, payload, lost)
        self.seq[side] += len(payload)

    def close(self):
        self.tcp(0, 0x11, b"")
        self.seq[0] += 1
        self.tcp(1, 0x11, b"")
        self.seq[1] += 1
        self.tcp(0, 0x10, b"")


PCAP_MAGIC = b"\xd4\xc3\xb2\xa1"
CLIENT_IP = bytes([10, 203, 0, 1])
SERVER_IP = bytes([10, 203, 0, 2])
PROXY_IP = bytes([10, 203, 0, 3])


def made(convs, port=80):
    """Frames of conversations, each (client sends, server answers) pairs on its own
    connection (client ports 41001, 41002, ...): [(side, payload)]."""
    recs = []
    for n, sends in enumerate(convs):
        c = Conversation(recs, CLIENT_IP, SERVER_IP, 41001 + n, port)
        for side, payload, *lost in sends:
            c.send(side, payload, bool(lost))
        c.close()
    return LINK_ETHER, PCAP_MAGIC, recs


def case_request_lines(name):
    # request lines that servers answer though they break the grammar, one per connection,
    # and a versionless line from a method HTTP/0.9 never had
    return made([
        [(0, b"GET /uri afterspace HTTP/1.1\r\nHost: h\r\n\r\n"),
         (1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")],
        [(0, b"CONNECT host:25 / HTTP/1.0\r\n\r\n"),
         (1, b"HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n")],
        [(0, b"T /zeek.html\r\n\r\n"),
         (1, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")],
        [(0, b"GET /v HTTP/1.1\r\nHost: h\r\n\r\n"),
         (1, b"HTTP/1.10 200 OK\r\nContent-Length: 0\r\n\r\n")],
    ])


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_SETTINGS = bytes.fromhex("000006040000000000") + bytes.fromhex("000300000064")
H2_SETTINGS_ACK = bytes.fromhex("000000040100000000")
# HEADERS on stream 1, END_STREAM|END_HEADERS, HPACK ":status: 200" (indexed 8)
H2_HEADERS_200 = bytes.fromhex("000001010500000001") + b"\x88"
# HEADERS on stream 1: :method GET, :scheme http, :path /, :authority h
H2_HEADERS_GET = bytes.fromhex("000007010500000001") + bytes.fromhex("828684410168") + b"\x00"


def case_h2_prior(name):
    # HTTP/2 with prior knowledge: the preface and frames on port 80, nothing of HTTP/1
    return made([[(0, H2_PREFACE + H2_SETTINGS), (1, H2_SETTINGS + H2_SETTINGS_ACK),
                  (0, H2_SETTINGS_ACK + H2_HEADERS_GET[:-1]), (1, H2_HEADERS_200)]])


def case_h2c_upgrade(name):
    # an HTTP/1.1 request upgraded to h2c: the request and the 101 are HTTP/1, then HTTP/2
    return made([[(0, b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                   b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"),
                  (1, b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                   b"Upgrade: h2c\r\n\r\n" + H2_SETTINGS + H2_HEADERS_200),
                  (0, H2_PREFACE + H2_SETTINGS + H2_SETTINGS_ACK)]])


def case_gap_status(name):
    # a response whose head lost its second segment: what came is reported truncated; body
    # bytes follow in a segment of their own, then the next response starts a segment
    return made([[(0, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
                  (1, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConte"),
                  (1, b"nt-Length: 30\r\n\r\nfirst body ", True),
                  (1, b"bytes of the first"),
                  (0, b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
                  (1, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")]])


def case_snaplen(name):
    # the get recording captured with a snap length of 85 bytes: the request line is cut at
    # "HTT", the status line whole and its first field cut
    linktype, magic, recs = wrap(name, lambda f, i, up: f)
    return linktype, magic, recs, 85


GET_ROOT = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
OK_HELLO = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def case_socks(name):
    # HTTP through a SOCKS proxy (10.203.0.2:1080), the last handshake bytes and the first
    # message in one segment: SOCKS 5 to a name, SOCKS 5 with a username and password to an
    # IPv4 address, SOCKS 4a to a name, SOCKS 4 to an IPv4 address
    s5_name = b"\x05\x01\x00\x03\x0bexample.com\x00\x50"
    s5_ip = b"\x05\x01\x00\x01\x0a\xcb\x00\x09\x1f\x90"
    reply5 = b"\x05\x00\x00\x01\x0a\xcb\x00\x02\x04\x38"
    reply4 = b"\x00\x5a\x00\x00\x00\x00\x00\x00"
    return made([
        [(0, b"\x05\x01\x00"), (1, b"\x05\x00"), (0, s5_name + GET_ROOT),
         (1, reply5 + OK_HELLO)],
        [(0, b"\x05\x02\x00\x02"), (1, b"\x05\x02"), (0, b"\x01\x04user\x04pass"),
         (1, b"\x01\x00"), (0, s5_ip + b"GET /ip HTTP/1.1\r\nHost: 10.203.0.9:8080\r\n\r\n"),
         (1, reply5), (1, OK_HELLO)],
        [(0, b"\x04\x01\x00\x50\x00\x00\x00\x01user\x00example.com\x00" + GET_ROOT),
         (1, reply4 + OK_HELLO)],
        [(0, b"\x04\x01\x1f\x90\x0a\xcb\x00\x09\x00" +
          b"GET /four HTTP/1.1\r\nHost: 10.203.0.9:8080\r\n\r\n"), (1, reply4 + OK_HELLO)],
    ], port=1080)


TLS_HELLO = bytes.fromhex("160301002c0100002803030000000000000000000000000000000000000000"
                          "000000000000000000000000000002130101000000")


def case_connect_plain(name):
    # an HTTP proxy (10.203.0.2:3128) carrying an http:// request through CONNECT, and a
    # CONNECT whose tunnel carries TLS (opaque, no failure)
    return made([
        [(0, b"CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n"),
         (1, b"HTTP/1.1 200 Connection established\r\n\r\n"), (0, GET_ROOT), (1, OK_HELLO)],
        [(0, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
         (1, b"HTTP/1.1 200 Connection established\r\n\r\n"), (0, TLS_HELLO),
         (1, b"\x16\x03\x03\x00\x04\x0e\x00\x00\x00")],
    ], port=3128)


def case_undecoded_encap(name):
    # the get conversation, and around it what httpeek cannot look into: ESP, GRE with an
    # unknown protocol type, a local experimental ethertype
    magic, recs = source("get")
    hdr0 = recs[0][0]
    esp = outer_frame(True, 50, struct.pack("!II", 0x100, 1) + bytes(48), 0)
    odd_gre = outer_frame(True, 47, gre(0, 0x1234) + bytes(40), 1)
    local = ether(SERVER_MAC, CLIENT_MAC, 0x88b5, bytes(46))
    extra = [(hdr0, esp), (hdr0, esp), (hdr0, odd_gre), (hdr0, local), (hdr0, local),
             (hdr0, local)]
    return LINK_ETHER, magic, extra + [(hdr, f) for hdr, f, _ in recs]


def case_undecoded_link(name):
    # FDDI frames (link type 10), which httpeek does not decode: frame control (LLC,
    # asynchronous), addresses, LLC/SNAP
    magic, recs = source("get")
    out = []
    for hdr, f, _ in recs:
        fddi = bytes([0x50]) + f[:6] + f[6:12]
        out.append((hdr, fddi + bytes([0xaa, 0xaa, 3, 0, 0, 0, 8, 0]) + ip_of(f)))
    return LINK_FDDI, magic, out


CASES = {
    "gre": case_gre,
    "gre-eth": case_gre_eth,
    "erspan2": case_erspan2,
    "erspan3": case_erspan3,
    "vxlan": case_vxlan,
    "geneve": case_geneve,
    "gtpu": case_gtpu,
    "ayiya": case_ayiya,
    "gre-udp": case_gre_udp,
    "pppoe": case_pppoe,
    "mpls": case_mpls,
    "mpls-vlan": case_mpls_vlan,
    "llc-snap": case_llc_snap,
    "c-hdlc": case_c_hdlc,
    "vlan-zones": case_vlan_zones,
    "fin-retransmit": case_fin_retransmit,
    "undecoded-encap": case_undecoded_encap,
    "undecoded-link": case_undecoded_link,
    "request-lines": case_request_lines,
    "h2-prior": case_h2_prior,
    "h2c-upgrade": case_h2c_upgrade,
    "gap-status": case_gap_status,
    "snaplen": case_snaplen,
    "socks": case_socks,
    "connect-plain": case_connect_plain,
}

# HTTP/2 captures go to OUTDIR/h2, with the recorded ones (scripts/record-h2-captures.py):
# tests/offline/golden/check_h2.py checks them with tshark's http2 dissector; derive.py's
# tables are HTTP/1.x's.
H2_CASES = ("h2-prior", "h2c-upgrade")


def main(argv):
    out = argv[1] if len(argv) > 1 else CAPTURES
    names = argv[2:] or sorted(CASES)
    for name in names:
        if name not in CASES:
            raise SystemExit("make-captures: no case %r (cases: %s)" % (name, " ".join(CASES)))
        sub = "h2" if name in H2_CASES else ""
        write_pcap(os.path.join(out, sub, name + ".pcap"), *CASES[name](name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
