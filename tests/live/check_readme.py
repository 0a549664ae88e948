#!/usr/bin/env python3
"""Runs the commands of the README's "First minute" and recipe sections as written, and checks
what each one printed or wrote, not only that it printed something.

Capture commands read tests/captures; each must exit 0 and show what EXPECT names for it. Live
commands (root) run while curl, in a network namespace of this run, talks to a server there
that fails POST /api/*, over HTTP (port 8080) and HTTPS (8443, a certificate made here). Each
live httpeek is started, waited for until set up (NoNewPrivs), stopped with SIGINT after the
traffic, and must exit 0; curl must have exited 0 with the status wanted. Then the messages
of this run's processes (curl's and the server's pids; other traffic on the host is left out)
must be exactly the ones the command's filters select from the traffic, and every event the
command wrote must match its filters. A command the README gains without an entry in EXPECT
fails. One TAP line per command (tests/checklib.py); exits 1 on failure.
"""
import http.server
import json
import os
import re
import shlex
import signal
import ssl
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from checklib import Checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
SECTIONS = ("## First minute", "## Recipe")
CHECKS = Checks("readme")
report = CHECKS.report
NS = "hpr-%d" % os.getpid()

# The traffic: (curl arguments, status wanted, request line, table request and response text).
TRAFFIC = [
    (["-X", "POST", "-d", "x", "http://127.0.0.1:8080/api/orders"], 503, "POST /api/orders"),
    (["http://127.0.0.1:8080/"], 200, "GET /"),
    (["-k", "--http1.1", "https://127.0.0.1:8443/"], 200, "GET / (TLS)"),
]
POST, GET, TLS_GET = 0, 1, 2

# What each command must show: for capture commands, text its output must hold ("in") or must
# not ("out"); for live ones, which of TRAFFIC's exchanges it reports ("exchanges", each at both
# socket ends) and the form of its lines.
EXPECT = {
    "sudo ./httpeek -o table": dict(exchanges=[POST, GET, TLS_GET], form="table"),
    "sudo ./httpeek -o table -f comm=curl": dict(exchanges=[POST, GET, TLS_GET], form="table",
                                                 ends=["curl"], every="curl/"),
    "sudo ./httpeek -f 'port=8080'": dict(exchanges=[POST, GET], form="json", port=8080),
    "sudo ./httpeek -o table -f tls=yes": dict(exchanges=[TLS_GET], form="table"),
    "./httpeek -r tests/captures/get.pcap -o table": dict(
        **{"in": ["REQUEST  GET 10.201.0.2 /index.html", "RESPONSE 200 OK"]}),
    "./httpeek -r tests/captures/keepalive.pcap": dict(
        **{"in": ['"uri_path":"/index.html"', '"uri_path":"/missing"', '"status_code":404']},
        json=4),
    "./httpeek -r tests/captures/keepalive.pcap -e net_flow_http -o table": dict(
        **{"in": ["EXCHANGE GET 10.201.0.2 /index.html -> 200 OK (",
                  "EXCHANGE GET 10.201.0.2 /missing -> 404 Not Found ("]}),
    "./httpeek -r tests/captures/keepalive.pcap -f 'status>=400' -o table": dict(
        **{"in": ["RESPONSE 404 Not Found"], "out": ["200 OK", "REQUEST"]}),
    "./httpeek -r tests/captures/pipelined.pcap -f path=/missing -w missing.pcapng": dict(
        **{"in": ['"uri_path":"/missing"'], "out": ["/index.html", "/small.txt"]}, json=2,
        file="missing.pcapng"),
    "tshark -r missing.pcapng -T fields -e frame.comment": dict(
        **{"in": ["net_packet_http GET /missing", "net_packet_http 404 Not Found"],
           "out": ["index.html"]}),
    "./httpeek --help": dict(**{"in": ["Usage: httpeek", "-f, --filter"]}),
    "sudo ./httpeek -e net_flow_http -f method=POST -f 'path=/api/*' -f 'status>=500' "
    "-O errors.jsonl": dict(exchanges=[POST], form="flows", file="errors.jsonl"),
    "python3 -c": dict(**{"in": ["/api/orders 503"]}),
    "sudo ./httpeek -o table -e net_flow_http -f method=POST -f 'path=/api/*' -f "
    "'status>=500'": dict(exchanges=[POST], form="table-flows"),
    "sudo ./httpeek -o table -e net_flow_http -f method=POST -f 'status>=500' -f "
    "container=3f2a": dict(exchanges=[], form="table-flows"),
}


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


def expectation(line):
    cmd = line.split("  #")[0].strip()
    for key, want in EXPECT.items():
        if cmd == key or (key == "python3 -c" and cmd.startswith(key)):
            return want
    return None


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


def serve(certdir):
    """The servers (in the namespace): HTTP on 8080, HTTPS on 8443; "listening" when ready."""
    import threading
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 8080), Handler)
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", 8443), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(certdir, "cert.pem"), os.path.join(certdir, "key.pem"))
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    threading.Thread(target=tls.serve_forever, daemon=True).start()
    print("listening", flush=True)
    plain.serve_forever()


def in_ns(argv):
    return ["ip", "netns", "exec", NS] + argv


def traffic():
    """Runs the curls in the namespace: ({exchange: curl pid}, problems)."""
    pids, problems = {}, []
    for i, (args, status, what) in enumerate(TRAFFIC):
        p = subprocess.Popen(in_ns(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"] +
                                   args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate(timeout=10)
        pids[i] = p.pid  # ip netns exec execs curl: the same process
        if p.returncode or out.decode() != str(status):
            problems.append(f"curl {what}: exit {p.returncode}, status {out.decode()!r}, "
                            f"{err.decode().strip()[-200:]}")
    return pids, problems


def wait_set_up(pid):
    r = subprocess.run([sys.executable, os.path.join(HERE, "check_live.py"), "wait-attached",
                        str(pid)], capture_output=True, text=True)
    return r.returncode == 0


def run_live(argv, tmp, server_pid):
    p = subprocess.Popen(argv, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    problems = [] if wait_set_up(p.pid) else ["httpeek was not set up"]
    pids, bad = traffic() if not problems else ({}, [])
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), pids, \
        problems + bad


TABLE = re.compile(r"^\S+ +\S+ +(\S+):(\d+) +-> +(\S+):(\d+) +(\S+)/(\d+) +(REQUEST|RESPONSE|"
                   r"EXCHANGE) +(\S+)(?: \S+ (\S+))?")


def classify(line, pids, server_pid):
    """(end, exchange, kind) of a table line of this run's processes, else None."""
    m = TABLE.match(line)
    if not m or int(m.group(6)) not in set(pids.values()) | {server_pid}:
        return None
    end = "server" if int(m.group(6)) == server_pid else "curl"
    port = {int(m.group(2)), int(m.group(4))} & {8080, 8443}
    kind, first = m.group(7), m.group(8)
    for i, (args, status, what) in enumerate(TRAFFIC):
        method, path = what.split(" ")[:2]
        if port != {8443 if "https" in args[-1] else 8080}:
            continue
        if kind == "RESPONSE" and first == str(status) or \
                kind != "RESPONSE" and first == method and m.group(9) == path:
            return end, i, kind
    return end, None, kind


def check_table(want, out, pids, server_pid, flows):
    """This run's lines: each wanted exchange at the wanted ends (a REQUEST and a RESPONSE
    line, or one EXCHANGE line), nothing else of this run's processes."""
    got = sorted(filter(None, (classify(line, pids, server_pid) for line in out.splitlines())),
                 key=str)
    kinds = ["EXCHANGE"] if flows else ["REQUEST", "RESPONSE"]
    wanted = sorted(((end, i, k) for i in want["exchanges"]
                     for end in want.get("ends", ["curl", "server"]) for k in kinds), key=str)
    problems = [] if got == wanted else [f"this run's lines (end, exchange, kind) {got}, "
                                         f"want {wanted}"]
    if "every" in want:
        stray = [line for line in out.splitlines() if want["every"] not in line]
        if stray:
            problems.append(f"a line without {want['every']}: {stray[0][:160]}")
    return problems


def check_events(want, text, pids, server_pid):
    """JSON lines: this run's messages are exactly the wanted ones, at both ends; every event
    on the command's port when it names one."""
    problems, ours = [], []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            e = json.loads(line)
        except ValueError as err:
            return [f"line {n} is not JSON: {err}"]
        a = {x["name"]: x["value"] for x in e["args"]}
        if "port" in want and want["port"] not in (a.get("src_port"), a.get("dst_port"),
                                                   a.get("server_port")):
            problems.append(f"an event off port {want['port']}: {line[:160]}")
        if e["hostProcessId"] in pids.values() or e["hostProcessId"] == server_pid:
            ours.append((e, a))
    if want["form"] == "flows":
        got = sorted((a["request"]["method"], a["request"]["uri_path"],
                      a["response"]["status_code"], e["processName"]) for e, a in ours)
        wanted = sorted((TRAFFIC[i][2].split()[0], TRAFFIC[i][2].split()[1], TRAFFIC[i][1],
                         comm) for i in want["exchanges"] for comm in ("curl", "python3"))
    else:
        got = sorted((a["proto_http"]["direction"], a["proto_http"]["method"],
                      a["proto_http"]["uri_path"], a["proto_http"]["status_code"],
                      e["processName"]) for e, a in ours)
        wanted = sorted(x for i in want["exchanges"] for comm in ("curl", "python3") for x in (
            ("request", TRAFFIC[i][2].split()[0], TRAFFIC[i][2].split()[1], 0, comm),
            ("response", "", "", TRAFFIC[i][1], comm)))
    if got != wanted:
        problems.append(f"this run's messages {got}, want {wanted}")
    return problems


def check_live(want, out, tmp, pids, server_pid):
    form = want["form"]
    if want.get("file"):
        path = os.path.join(tmp, want["file"])
        text = open(path).read() if os.path.exists(path) else ""
        if out.strip():
            return [f"standard output not empty with -O: {out[:160]!r}"]
        return check_events(want, text, pids, server_pid)
    if form == "json":
        return check_events(want, out, pids, server_pid)
    return check_table(want, out, pids, server_pid, form == "table-flows")


def check_capture(want, out, tmp):
    problems = [f"output lacks {t!r}" for t in want.get("in", []) if t not in out]
    problems += [f"output has {t!r}" for t in want.get("out", []) if t in out]
    if "json" in want:
        lines = [json.loads(line) for line in out.splitlines()]
        if len(lines) != want["json"]:
            problems.append(f"{len(lines)} events, want {want['json']}")
    if "file" in want and not os.path.getsize(os.path.join(tmp, want["file"])):
        problems.append(f"{want['file']} is empty")
    return problems


def run_one(line, tmp, server_pid):
    argv = shlex.split(line, comments=True)
    name = line.split("  #")[0].strip()
    name = name if len(name) < 100 else name[:97] + "..."
    want = expectation(line)
    if want is None:
        report(name, ["no expectation for this command in check_readme.py's EXPECT"])
        return
    live = argv[0] == "sudo"
    if live:
        argv = argv[1:]
        rc, out, err, pids, problems = run_live(argv, tmp, server_pid)
        if not problems:
            problems = check_live(want, out, tmp, pids, server_pid)
    else:
        p = subprocess.run(argv, cwd=tmp, capture_output=True, timeout=120)
        rc, out, err = p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode()
        problems = check_capture(want, out, tmp)
    if rc != 0:
        problems.insert(0, "exit %d: %s" % (rc, err.strip()[-300:]))
    report(name, problems)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
        return
    cmds = commands()
    report("commands found", [] if len(cmds) >= 10 else ["only %d" % len(cmds)])
    if os.getuid() != 0:
        for line in cmds:
            if line.startswith("sudo"):
                CHECKS.skip(line.split("  #")[0].strip()[:97], "live commands need root")
        cmds = [line for line in cmds if not line.startswith("sudo")]
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if os.getuid() == 0:
            subprocess.run(["ip", "netns", "add", NS], check=True)
            subprocess.run(in_ns(["ip", "link", "set", "lo", "up"]), check=True)
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                            "1", "-subj", "/CN=localhost", "-keyout", os.path.join(tmp, "key.pem"),
                            "-out", os.path.join(tmp, "cert.pem")], check=True,
                           capture_output=True)
            server = subprocess.Popen(in_ns([sys.executable, __file__, "--serve", tmp]),
                                      stdout=subprocess.PIPE)
            if server.stdout.readline().split() != [b"listening"]:
                report("servers", ["the servers did not start"])
        try:
            os.symlink(os.path.join(ROOT, "httpeek"), os.path.join(tmp, "httpeek"))
            os.symlink(os.path.join(ROOT, "tests"), os.path.join(tmp, "tests"))
            for line in cmds:
                run_one(line, tmp, server.pid if server else -1)
        finally:
            if server:
                server.kill()
                server.wait()
                subprocess.run(["ip", "netns", "del", NS])
    CHECKS.exit()


if __name__ == "__main__":
    main()
