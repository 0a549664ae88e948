#!/usr/bin/env python3
"""Test servers for the live test.

late-http PORT: accepts, waits before reading so that the request reaches the socket before any
process touched it, then answers 200 and closes.
echo PORT: echoes whatever a client sends (a non-HTTP protocol).
sink PORT: accepts any number of connections and reads them, never answering (heads that
  never end stay in progress).
pipe-http PORT: reads pipelined requests (bodies framed by Content-Length) until one says
  "Connection: close", then answers them all with small responses in one send(), so that the
  responses after the first start in the middle of a segment, behind a body.
ext6-http PORT: answers each request with 200 and closes, its packets carrying an IPv6
  destination options header (EXT6_OPTIONS).
Each prints "listening PORT" once it listens (the caller's signal that it is ready).
"""
import resource
import socket
import sys
import time


def listener(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(16)
    print("listening", port, flush=True)
    return s


# An IPv6 extension header of 8 bytes: next header (the kernel fills it), length 0, PadN of 4.
EXT6_OPTIONS = bytes([0, 0, 1, 4, 0, 0, 0, 0])


def read_head(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def ext6_http(port):
    srv = listener(port)
    while True:
        c, _ = srv.accept()
        c.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, EXT6_OPTIONS)
        read_head(c)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        c.close()


def late_http(port):
    srv = listener(port)
    while True:
        c, _ = srv.accept()
        time.sleep(0.2)
        read_head(c)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        c.close()


def split_requests(data):
    """Complete requests in data and the bytes after them."""
    reqs = []
    while b"\r\n\r\n" in data:
        head, rest = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(rest) < length:
            break
        reqs.append(head)
        data = rest[length:]
    return reqs, data


def pipe_http(port):
    srv = listener(port)
    while True:
        c, _ = srv.accept()
        data = b""
        reqs = []
        while not any(b"connection: close" in r.lower() for r in reqs):
            chunk = c.recv(65536)
            if not chunk:
                break
            got, data = split_requests(data + chunk)
            reqs += got
        out = b""
        for i, r in enumerate(reqs):
            close = b"Connection: close\r\n" if i == len(reqs) - 1 else b""
            out += b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n" + close + b"\r\nok\n"
        c.sendall(out)
        c.close()


def echo(port):
    srv = listener(port)
    while True:
        c, _ = srv.accept()
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            c.sendall(chunk)
        c.close()


def sink(port):
    import selectors
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    srv = listener(port)
    srv.listen(4096)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is srv:
                c, _ = srv.accept()
                sel.register(c, selectors.EVENT_READ)
            elif not key.fileobj.recv(65536):
                sel.unregister(key.fileobj)
                key.fileobj.close()


if __name__ == "__main__":
    {"late-http": late_http, "echo": echo, "pipe-http": pipe_http, "ext6-http": ext6_http,
     "sink": sink}[sys.argv[1]](int(sys.argv[2]))
