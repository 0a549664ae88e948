#!/usr/bin/env python3
"""Test servers for the live test.

late-http PORT: accepts, waits before reading so that the request reaches the socket before any
process touched it, then answers 200 and closes.
echo PORT: echoes whatever a client sends (a non-HTTP protocol).
"""
import socket
import sys
import time


def listener(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(16)
    return s


def late_http(port):
    srv = listener(port)
    while True:
        c, _ = srv.accept()
        time.sleep(0.2)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
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


if __name__ == "__main__":
    {"late-http": late_http, "echo": echo}[sys.argv[1]](int(sys.argv[2]))
