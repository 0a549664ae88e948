#!/usr/bin/python3
"""An HTTP/2 server for the differential test's h2 case, on python3-h2 (hyper-h2): h2c after
an HTTP/1.1 request with "Upgrade: h2c" (101, then that request's response on stream 1), and
prior knowledge (the preface). Every request gets 200 and a body of its path repeated, with
trailers (x-checksum) on POSTs. nghttpx, which also upgrades, defers accept(2)
(TCP_DEFER_ACCEPT), and the kernel programs see a request that completes a deferred
handshake on the listening socket: so this server.

h2c_server.py HOST PORT"""

import socket
import sys
import threading

import h2.config
import h2.connection
import h2.events

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def respond(conn, stream, path, post):
    body = (path.encode() * 40)[:2000]
    conn.send_headers(stream, [(":status", "200"), ("content-type", "text/plain"),
                               ("content-length", str(len(body)))])
    conn.send_data(stream, body, end_stream=not post)
    if post:
        conn.send_headers(stream, [("x-checksum", str(sum(body) % 65521))], end_stream=True)


def read_head(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
        if buf.startswith(PREFACE[:len(buf)]):
            return None, buf  # prior knowledge
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def serve(sock):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    head, rest = read_head(sock)
    paths = {}
    if head:
        lines = head.split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in
                  (line.partition(":") for line in lines[1:])}
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                     b"Upgrade: h2c\r\n\r\n")
        conn.initiate_upgrade_connection(fields.get("http2-settings", ""))
        respond(conn, 1, lines[0].split(" ")[1], False)
    else:
        conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    data = rest
    while True:
        for ev in conn.receive_data(data) if data else ():
            if isinstance(ev, h2.events.RequestReceived):
                h = dict(ev.headers)
                paths[ev.stream_id] = (h[b":path"].decode(), h[b":method"] == b"POST")
                if ev.stream_ended:
                    respond(conn, ev.stream_id, *paths.pop(ev.stream_id))
            elif isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id in paths:
                respond(conn, ev.stream_id, *paths.pop(ev.stream_id))
            elif isinstance(ev, h2.events.ConnectionTerminated):
                return
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
        data = sock.recv(65536)
        if not data:
            return


def handle(sock):
    try:
        serve(sock)
    except (OSError, h2.exceptions.ProtocolError):
        pass
    finally:
        sock.close()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    srv = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((sys.argv[1], int(sys.argv[2])))
    srv.listen(64)
    while True:
        sock, _ = srv.accept()
        threading.Thread(target=handle, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    main()
