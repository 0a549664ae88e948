#!/usr/bin/env python3
"""Test clients for the live test.

get HOST PORT PATH: one GET with http.client.
keepalive HOST PORT PATH...: one GET per path, one after the other on one connection.
handoff HOST PORT PIDFILE P1 P2 P3: one connection; the process sends P1, a forked child
  sends P2 (and writes its pid to PIDFILE), then the parent sends P3 again.
pipeline HOST PORT PATH...: every request in one send() on a raw socket (one segment).
post-pipeline HOST PORT PATH...: a POST with a small form body per path, all in one send().
binary HOST PORT: a non-HTTP exchange with an echo server.
chunked-spoof HOST PORT PATH: a POST with a chunked body: its head, then a segment with the
  chunk size and 1000 bytes of data, then a segment of chunk data that begins "GET /SPOOFED
  HTTP/1.1" (a request line inside a body); then GET /after on the same connection.
ext6 HOST PORT PATH: one GET whose packets carry IPv6 hop-by-hop and destination options
  headers (servers.EXT6_OPTIONS each).
flood HOST PORT N BYTES: N connections, each sending BYTES of a head that never ends; all
  stay open until the server closes them or 60 s pass.
"""
import http.client
import os
import socket
import sys
import time


def host_header(host, port):
    """The Host value http.client and curl send: IPv6 in brackets, the port unless 80."""
    name = f"[{host}]" if ":" in host else host
    return name if port == 80 else f"{name}:{port}"


def get(host, port, path):
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status != 200:
        sys.exit(1)


def keepalive(host, port, *paths):
    conn = http.client.HTTPConnection(host, port, timeout=5)
    for p in paths:
        conn.request("GET", p)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            sys.exit(1)
    conn.close()


def ext6(host, port, path):
    from servers import EXT6_OPTIONS
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(5)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, EXT6_OPTIONS)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, EXT6_OPTIONS)
    s.connect((host, port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host_header(host, port)}\r\n\r\n".encode())
    resp = http.client.HTTPResponse(s)
    resp.begin()
    resp.read()
    s.close()
    if resp.status != 200:
        sys.exit(1)


def exchange(s, host, path):
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())  # host_header()
    resp = http.client.HTTPResponse(s)
    resp.begin()
    resp.read()
    if resp.status != 200:
        sys.exit(1)


def handoff(host, port, pidfile, p1, p2, p3):
    s = socket.create_connection((host, port), timeout=5)
    host = host_header(host, port)
    exchange(s, host, p1)
    child = os.fork()
    if child == 0:
        exchange(s, host, p2)
        with open(pidfile, "w") as f:
            f.write(str(os.getpid()))
        os._exit(0)
    _, status = os.waitpid(child, 0)
    if status:
        sys.exit(1)
    time.sleep(0.1)
    exchange(s, host, p3)
    s.close()


def pipeline(host, port, *paths, bodies=None):
    reqs, name = [], host_header(host, port)
    for i, p in enumerate(paths):
        close = "Connection: close\r\n" if i == len(paths) - 1 else ""
        if bodies:
            body = bodies[i]
            reqs.append(f"POST {p} HTTP/1.1\r\nHost: {name}\r\n{close}"
                        "Content-Type: application/x-www-form-urlencoded\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
        else:
            reqs.append(f"GET {p} HTTP/1.1\r\nHost: {name}\r\n{close}\r\n".encode())
    s = socket.create_connection((host, port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(b"".join(reqs))
    data = read_to_close(s)
    if data.count(b"HTTP/1.1 200") != len(paths):
        sys.exit(1)


def post_pipeline(host, port, *paths):
    # Bodies that cannot be taken for a request line: the scanner stops at them.
    pipeline(host, port, *paths, bodies=[f"n={i}&x=1" for i in range(len(paths))])


def binary(host, port):
    s = socket.create_connection((host, port), timeout=5)
    for msg in (b"\x16\x03\x01\x00\x05hello", b"PING\r\n", b"\x00\x01 GET / HTTP/1.1\r\n"):
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            got += s.recv(4096)
    s.close()


def read_to_close(s):
    """Everything the peer sends until it closes; closes s."""
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


SPOOF = b"GET /SPOOFED HTTP/1.1\r\nHost: spoofed.example\r\nX-Evil: 1\r\n\r\n"


def chunked_spoof(host, port, path):
    s = socket.create_connection((host, port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    filler = b"a" * 1000
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n"
              .encode())
    # Each piece a segment of its own: the chunk size and some data (what a kernel may skip,
    # and with it the framing), then chunk data that looks like a request, then the end of the
    # body and a real request behind it.
    for piece in (b"%x\r\n" % (len(filler) + len(SPOOF)) + filler, SPOOF, b"\r\n0\r\n\r\n"):
        time.sleep(0.2)
        s.sendall(piece)
    time.sleep(0.2)
    s.sendall(f"GET /after HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    data = read_to_close(s)
    if data.count(b"HTTP/1.1 200") != 2:
        sys.exit(1)


def flood(host, port, n, size):
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    line = b"X-Flood: " + b"f" * 1389 + b"\r\n"
    socks = []
    for i in range(int(n)):
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(b"GET /flood/%d HTTP/1.1\r\nHost: flood.example\r\n" % i)
        socks.append(s)
    for _ in range(int(size) // len(line)):
        for s in socks:
            s.sendall(line)
    for s in socks:
        s.close()


if __name__ == "__main__":
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cmds = {"get": get, "keepalive": keepalive, "handoff": handoff, "pipeline": pipeline,
            "post-pipeline": post_pipeline, "binary": binary, "chunked-spoof": chunked_spoof,
            "flood": flood, "ext6": ext6}
    cmds[cmd](host, port, *sys.argv[4:])
