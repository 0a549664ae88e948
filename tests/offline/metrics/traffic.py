#!/usr/bin/env python3
"""Traffic with known answers for the Prometheus test.

serve PORT       HTTP/1.1 server, process name "routesrv": answers any path with the status and
                 after the delay its query asks for (/slow?status=200&delay_ms=150).
drive PORT PLAN  process name "loadgen": sends the requests of PLAN (a JSON list of
                 [method, path, status, delay_ms]) over 4 keep-alive connections, one thread
                 each; exits 1 unless every answer has the planned status."""
import ctypes
import http.client
import http.server
import json
import queue
import sys
import threading
import time
import urllib.parse

PR_SET_NAME = 15


def set_name(name):
    """The process name httpeek reports (threads started later inherit it)."""
    ctypes.CDLL(None).prctl(PR_SET_NAME, name.encode(), 0, 0, 0)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        time.sleep(int(q.get("delay_ms", ["0"])[0]) / 1000)
        self.send_response(int(q.get("status", ["200"])[0]))
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass


def serve(port):
    set_name("routesrv")
    http.server.ThreadingHTTPServer.daemon_threads = True
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def worker(port, work, failures):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        try:
            method, path, status, delay = work.get_nowait()
        except queue.Empty:
            break
        body = b"x" if method == "POST" else None
        conn.request(method, f"{path}?status={status}&delay_ms={delay}", body=body)
        resp = conn.getresponse()
        resp.read()
        if resp.status != status:
            failures.append(f"{method} {path}: {resp.status}")
    conn.close()


def drive(port, plan_path):
    set_name("loadgen")
    work, failures = queue.Queue(), []
    for item in json.load(open(plan_path)):
        work.put(item)
    threads = [threading.Thread(target=worker, args=(port, work, failures)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("\n".join(failures), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        sys.exit(drive(int(sys.argv[2]), sys.argv[3]))
