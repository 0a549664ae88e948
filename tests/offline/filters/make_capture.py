#!/usr/bin/env python3
"""Writes api.pcap for the filter tests: five HTTP exchanges with known fields (IPv4 and IPv6,
ports 80 and 8080, curl and python user agents, 2xx and 5xx statuses, one request head split
over two segments), each a complete TCP connection on Ethernet.

Usage: make_capture.py OUT.pcap [--slow] (--slow: write to OUT, '-' for stdout, pausing
0.7 s half way, for the progress test)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from pcaplib import LINKTYPE_ETHERNET, PcapWriter, ethernet, tcp_ip  # noqa: E402

EXCHANGES = [
    # client, cport, server, sport, request head, response head
    ("10.0.0.1", 40001, "10.0.0.2", 8080,
     "POST /api/orders HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: curl/8.0\r\n"
     "Content-Length: 0\r\n\r\n",
     "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"),
    ("10.0.0.1", 40002, "10.0.0.2", 8080,
     "POST /api/users HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: python-requests/2.31\r\n"
     "Content-Length: 0\r\n\r\n",
     "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
    ("10.0.0.3", 40003, "10.0.0.2", 80,
     "GET /api/orders HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.0\r\n\r\n",
     "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"),
    ("fd00::1", 40004, "fd00::2", 80,
     "POST /login HTTP/1.1\r\nHost: example.org\r\nUser-Agent: curl/8.0\r\n"
     "Content-Length: 0\r\n\r\n",
     "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"),
    ("10.0.0.1", 40005, "10.0.0.2", 8080,
     "POST /api/big HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: curl/8.0\r\n"
     "X-Pad: " + "p" * 1800 + "\r\nContent-Length: 0\r\n\r\n",
     "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"),
]

MSS = 1400


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    return ethernet(tcp_ip(src, dst, sport, dport, seq, ack, flags, payload))


def connection(ex, t0):
    """(time, frame) pairs of one exchange: handshake, request, response, close."""
    cli, cport, srv, sport, req, resp = ex
    req, resp = req.encode(), resp.encode()
    c, s = 1000, 5000
    out = []
    t = [t0]

    def add(src, dst, sp, dp, seq, ack, flags, payload=b""):
        t[0] += 0.001
        out.append((t[0], frame(src, dst, sp, dp, seq, ack, flags, payload)))

    add(cli, srv, cport, sport, c, 0, 0x02)
    add(srv, cli, sport, cport, s, c + 1, 0x12)
    add(cli, srv, cport, sport, c + 1, s + 1, 0x10)
    seq = c + 1
    for i in range(0, len(req), MSS):
        add(cli, srv, cport, sport, seq, s + 1, 0x18, req[i:i + MSS])
        seq += len(req[i:i + MSS])
    add(srv, cli, sport, cport, s + 1, seq, 0x18, resp)
    add(cli, srv, cport, sport, seq, s + 1 + len(resp), 0x11)
    add(srv, cli, sport, cport, s + 1 + len(resp), seq + 1, 0x11)
    add(cli, srv, cport, sport, seq + 1, s + 2 + len(resp), 0x10)
    return out


def records(repeat=1):
    t = 1700000000.0
    for _ in range(repeat):
        for ex in EXCHANGES:
            for ts, data in connection(ex, t):
                yield ts, data
            t += 0.1


def write(out, recs, slow=False):
    pcap = PcapWriter(out, LINKTYPE_ETHERNET, 65535)
    recs = list(recs)
    for i, (ts, data) in enumerate(recs):
        pcap.packet(ts, data)
        if slow and i == len(recs) // 2:
            out.flush()
            time.sleep(0.7)
    out.flush()


def main():
    slow = "--slow" in sys.argv
    path = [a for a in sys.argv[1:] if a != "--slow"][0]
    if path == "-":
        write(sys.stdout.buffer, records(200 if slow else 1), slow)
    else:
        with open(path, "wb") as f:
            write(f, records(200 if slow else 1), slow)


if __name__ == "__main__":
    main()
