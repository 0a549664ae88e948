#!/usr/bin/env python3
"""Captures for the metrics tests: keep-alive connections, each exchange a request and a response
whose timestamps differ by a chosen latency, so that every bucket is known in advance.

As a module: write_pcap(path, connections), connections a list of lists of
(method, path, status, latency_s). As a script: make_exchanges.py OUT.pcap PATHS [CONNS] writes
PATHS exchanges with distinct random paths (GET, 200, 2 ms) over CONNS connections (100)."""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "filters"))
from make_capture import frame, write  # noqa: E402

CLIENT, SERVER, PORT = "10.0.0.1", "10.0.0.2", 8080
REASONS = {200: "OK", 201: "Created", 404: "Not Found", 500: "Internal Server Error",
           503: "Service Unavailable"}


def connection_records(n, exchanges, t):
    """(time, frame) of one connection from client port 20000 + n; the time after it."""
    cport, c, s = 20000 + n, 1000, 5000
    out = [(t, frame(CLIENT, SERVER, cport, PORT, c, 0, 0x02)),
           (t + 0.0001, frame(SERVER, CLIENT, PORT, cport, s, c + 1, 0x12))]
    c, s, t = c + 1, s + 1, t + 0.0002
    for method, path, status, latency in exchanges:
        req = (f"{method} {path} HTTP/1.1\r\nHost: api.example.com\r\n"
               f"Content-Length: 0\r\n\r\n").encode()
        resp = (f"HTTP/1.1 {status} {REASONS.get(status, 'X')}\r\n"
                f"Content-Length: 0\r\n\r\n").encode()
        out.append((t, frame(CLIENT, SERVER, cport, PORT, c, s, 0x18, req)))
        c += len(req)
        t += latency
        out.append((t, frame(SERVER, CLIENT, PORT, cport, s, c, 0x18, resp)))
        s += len(resp)
        t += 0.0001
    out.append((t, frame(CLIENT, SERVER, cport, PORT, c, s, 0x11)))
    out.append((t + 0.0001, frame(SERVER, CLIENT, PORT, cport, s, c + 1, 0x11)))
    return out, t + 0.001


def write_pcap(path, connections):
    recs, t = [], 1700000000.0
    for n, exchanges in enumerate(connections):
        conn, t = connection_records(n, exchanges, t)
        recs += conn
    with open(path, "wb") as f:
        write(f, recs)


def random_paths(count, seed=14):
    """Distinct paths of letters only: no {id} rule applies to them."""
    rnd, seen = random.Random(seed), set()
    while len(seen) < count:
        seen.add("/r/" + "".join(rnd.choice("ghijklmnopqrstuvwxyz") for _ in range(10)))
    return sorted(seen)


def paths_capture(out, distinct, total, conns=100):
    paths = random_paths(distinct)
    ex = [("GET", paths[i % distinct], 200, 0.002) for i in range(total)]
    write_pcap(out, [ex[i::conns] for i in range(conns)])


def main():
    distinct = int(sys.argv[2])
    paths_capture(sys.argv[1], distinct, int(sys.argv[3]) if len(sys.argv) > 3 else distinct)


if __name__ == "__main__":
    main()
