#!/usr/bin/env python3
"""Runs the commands of the README's "First minute" and recipe sections as written: capture
commands on tests/captures, live ones (root) for a few seconds each while curl talks to a local
server that fails POST /api/*, over HTTP and over HTTPS (a certificate made here). Prints "readme: <command> ok" or FAIL; exits 1 on failure."""
import http.server
import json
import os
import shlex
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import Checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECTIONS = ("## First minute", "## Recipe")
CHECKS = Checks("readme")
report = CHECKS.report


def commands():
    """Indented command lines of the chosen sections, in order."""
    out, take = [], False
    for line in open(os.path.join(ROOT, "README.md")):
        if line.startswith("## "):
            take = line.startswith(SECTIONS)
        elif take and line.startswith("    ") and line.strip().split(" ")[0] in (
                "sudo", "./httpeek", "tshark", "python3"):
            out.append(line.strip())
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fail = self.command == "POST" and self.path.startswith("/api/")
        self.send_response(503 if fail else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass


def traffic():
    for args in (["-X", "POST", "-d", "x", "http://127.0.0.1:8080/api/orders"],
                 ["http://127.0.0.1:8080/"], ["-k", "--http1.1", "https://127.0.0.1:8443/"]):
        subprocess.run(["curl", "-s", "-o", "/dev/null"] + args, timeout=10)


def check_json(stdout):
    for line in stdout.splitlines():
        json.loads(line)


def run_live(argv, tmp):
    p = subprocess.Popen(argv, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2)
    traffic()
    time.sleep(1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def run_one(line, tmp):
    argv = shlex.split(line, comments=True)
    live = argv[0] == "sudo"
    if live:
        argv = argv[1:]
    if live and os.getuid() != 0:
        report(line, ["live commands need root"])
        return
    if live:
        rc, out, err = run_live(argv, tmp)
    else:
        p = subprocess.run(argv, cwd=tmp, capture_output=True, timeout=120)
        rc, out, err = p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode()
    problems = [] if rc == 0 else ["exit %d: %s" % (rc, err.strip()[-300:])]
    try:
        if argv[0] == "./httpeek" and "-o" not in argv and "--help" not in argv and "-O" not in argv:
            check_json(out)
    except ValueError as e:
        problems.append("not JSON lines: %s" % e)
    if not live and not out.strip() and "-w" not in argv:
        problems.append("no output")
    if live and "-O" not in argv and "container=" not in line and not out.strip():
        problems.append("no events while curl ran")
    if argv[0] == "python3" and "/api/orders 503" not in out:
        problems.append("recipe summary %r" % out)
    if argv[0] == "tshark" and "net_packet_http GET /missing" not in out:
        problems.append("comments %r" % out)
    name = line.split("  #")[0].strip()
    report(name if len(name) < 100 else name[:97] + "...", problems)


def https_server(tmp):
    """The same handler over TLS on 127.0.0.1:8443, with a certificate made for it."""
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 8443), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    cmds = commands()
    report("commands found", [] if len(cmds) >= 10 else ["only %d" % len(cmds)])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 8080), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        https = https_server(tmp)
        os.symlink(os.path.join(ROOT, "httpeek"), os.path.join(tmp, "httpeek"))
        os.symlink(os.path.join(ROOT, "tests"), os.path.join(tmp, "tests"))
        for line in cmds:
            run_one(line, tmp)
    server.shutdown()
    https.shutdown()
    CHECKS.exit()


if __name__ == "__main__":
    main()
