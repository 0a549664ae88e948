#!/usr/bin/env python3
"""Varied HTTP/1.1 over TLS for check_tls.py: keep-alive runs and pipelined batches, GET, HEAD,
POST, PUT and DELETE, bodies by Content-Length and chunked, responses of every size the
server has, 204s and 404s. Writes what it sent and received, one JSON line per exchange
(client port, method, target, status), to the file named by its second argument.

Usage: varied_client.py HOST:PORT OUT SEED CONNECTIONS
"""
import json
import random
import re
import socket
import ssl
import sys

SIZES = (0, 1, 1000, 16384, 70000, 300000)  # the server's /file/N (check_tls.py makes them)


def request(rng, conn, i):
    method = rng.choice(("GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE"))
    kind = rng.choice(("file", "file", "text", "s204", "s404"))
    target = {"file": f"/file/{rng.choice(SIZES)}", "text": f"/v/{conn}/{i}?q={rng.random()}",
              "s204": f"/s204/{conn}-{i}", "s404": f"/s404/{conn}-{i}"}[kind]
    if method in ("POST", "PUT", "DELETE") and kind == "file":
        target = f"/v/{conn}/{i}"  # nginx's static module answers 405 to those
    head = f"{method} {target} HTTP/1.1\r\nHost: t\r\nUser-Agent: varied/{conn}\r\n"
    body = b""
    if method in ("POST", "PUT"):
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 10, 5000, 100000))))
        if rng.random() < 0.5:
            head += f"Content-Length: {len(data)}\r\n"
            body = data
        else:
            head += "Transfer-Encoding: chunked\r\n"
            cut = sorted(rng.sample(range(1, len(data)), min(3, len(data) - 1))) if \
                len(data) > 3 else []
            parts = [data[a:b] for a, b in zip([0] + cut, cut + [len(data)])]
            body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
    return method, target, head.encode() + b"\r\n" + body


def read_response(s, buf, method):
    """One response from buf and the socket: (status, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        more = s.recv(65536)
        if not more:
            raise EOFError("connection closed mid-head")
        buf += more
    head, buf = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    n = int(m.group(1)) if m and method != "HEAD" and status not in (204, 304) else 0
    if re.search(rb"(?i)\r\ntransfer-encoding: *chunked", head) and method != "HEAD":
        raise ValueError("chunked response: not expected from this server")
    while len(buf) < n:
        buf += s.recv(65536)
    return status, buf[n:]


def connection(rng, host, port, conn, out, ctx):
    s = ctx.wrap_socket(socket.create_connection((host, port)), server_hostname="t")
    cport = s.getsockname()[1]
    buf = b""
    left = rng.randint(1, 8)
    i = 0
    while left:
        batch = [request(rng, conn, i + k) for k in range(min(left, rng.choice((1, 1, 2, 3, 4))))]
        s.sendall(b"".join(r[2] for r in batch))  # a batch of more than one is pipelined
        for method, target, _ in batch:
            status, buf = read_response(s, buf, method)
            out.write(json.dumps([cport, method, target, status]) + "\n")
        i += len(batch)
        left -= len(batch)
    s.close()


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    rng = random.Random(int(sys.argv[3]))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with open(sys.argv[2], "w") as out:
        for conn in range(int(sys.argv[4])):
            connection(rng, host, int(port), conn, out, ctx)


if __name__ == "__main__":
    main()
