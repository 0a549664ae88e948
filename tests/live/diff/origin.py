#!/usr/bin/env python3
"""The differential test's own HTTP server, for the responses nginx does not send.

origin.py PORT: listens on [::]:PORT (IPv4 too), one thread per connection. Paths:
  /o/plain/N                 200 with N body bytes
  /o/chunked/N[/ext][/trailer]  200 chunked in N chunks, with chunk extensions, with trailers
  /o/interim/C-C-...[/one]   the 1xx codes C, then 200; each in its own write, or all in one
  /o/splithead/K             200 whose head is written in two pieces, split at byte K
  /o/cookie/N                200 with a Set-Cookie of N bytes
  /o/close/N                 200 without Content-Length: N bytes, then the connection closes
  /o/empty, /o/notmod        204, 304
  anything else              404
A request with "Expect: 100-continue" gets 100 Continue before its body is read. Responses to
requests already waiting in the buffer (pipelined) are written together in one send().
"""
import os
import socket
import sys
import threading
import time

from httpwire import Closed, Wire

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from servers import listener  # noqa: E402  (tests/live/servers.py)

REASONS = {100: "Continue", 102: "Processing", 103: "Early Hints", 200: "OK", 204: "No Content",
           304: "Not Modified", 404: "Not Found"}
FILL = b"0123456789abcdef" * 4096


def head_bytes(status, fields):
    lines = [f"HTTP/1.1 {status} {REASONS[status]}"] + [f"{k}: {v}" for k, v in fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def sized(status, body, method, extra=()):
    fields = [("Server", "origin"), *extra, ("Content-Length", str(len(body)))]
    return head_bytes(status, fields) + (b"" if method == "HEAD" else body)


def chunked(method, n, ext, trailer):
    fields = [("Server", "origin"), ("Transfer-Encoding", "chunked")]
    if trailer:
        fields.append(("Trailer", "X-Sum"))
    out = head_bytes(200, fields)
    if method == "HEAD":
        return out
    for i in range(n):
        size = i * 37 % 300 + 1
        out += f"{size:x}{';i=' + str(i) if ext else ''}\r\n".encode() + FILL[:size] + b"\r\n"
    return out + b"0\r\n" + (b"X-Sum: 1\r\n" if trailer else b"") + b"\r\n"


def simple(method, parts):
    """The response bytes for a path answered in one write (with others waiting)."""
    kind, arg = parts[0], parts[1] if len(parts) > 1 else "0"
    if kind == "plain":
        return sized(200, FILL[:int(arg)], method)
    if kind == "chunked":
        return chunked(method, int(arg), "ext" in parts, "trailer" in parts)
    if kind == "cookie":
        return sized(200, b"ok\n", method, [("Set-Cookie", "s=" + "c" * int(arg))])
    if kind == "empty":
        return head_bytes(204, [("Server", "origin")])
    if kind == "notmod":
        return head_bytes(304, [("Server", "origin"), ("ETag", '"v1"')])
    return sized(404, b"not found\n", method)


def interim(sock, method, codes, one_write):
    writes = [head_bytes(int(c), [("Link", "</s.css>; rel=preload")] if c == "103" else [])
              for c in codes.split("-")] + [sized(200, b"final\n", method)]
    if one_write:
        writes = [b"".join(writes)]
    for w in writes:
        sock.sendall(w)
        time.sleep(0.003)


def split_head(sock, method, at):
    out = sized(200, b"split\n", method, [("X-Pad", "p" * 64)])
    sock.sendall(out[:at])
    time.sleep(0.005)
    sock.sendall(out[at:])


def close_delimited(sock, method, n):
    fields = [("Server", "origin"), ("Connection", "close")]
    sock.sendall(head_bytes(200, fields) + (b"" if method == "HEAD" else FILL[:n]))


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.wire = Wire(sock)
        self.pending = []

    def flush(self):
        if self.pending:
            self.sock.sendall(b"".join(self.pending))
            self.pending = []

    def special(self, method, parts):
        """Answers the paths that write by themselves; False when the connection must end."""
        self.flush()
        if parts[0] == "interim":
            interim(self.sock, method, parts[1], "one" in parts)
        elif parts[0] == "splithead":
            split_head(self.sock, method, int(parts[1]))
        else:
            close_delimited(self.sock, method, int(parts[1]))
            return False
        return True

    def one(self):
        """Reads and answers one request; False when the connection ends."""
        got = self.wire.head()
        if got is None:
            return False
        start, fields = got
        method, target = start.split(" ")[:2]
        if fields.get("expect", "").lower() == "100-continue":
            self.flush()
            self.sock.sendall(head_bytes(100, []))
        self.wire.body(fields)
        parts = target.split("?")[0].split("/")[2:] or ["missing"]
        if parts[0] in ("interim", "splithead", "close"):
            return self.special(method, parts)
        self.pending.append(simple(method, parts))
        if not self.wire.has_head():
            self.flush()
        return True

    def serve(self):
        try:
            while self.one():
                pass
            self.flush()
        except (OSError, Closed, ValueError):
            pass
        finally:
            self.sock.close()


def main(port):
    srv = listener(port)
    while True:
        sock, _ = srv.accept()
        sock.settimeout(30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=Conn(sock).serve, daemon=True).start()


if __name__ == "__main__":
    main(int(sys.argv[1]))
