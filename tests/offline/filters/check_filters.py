#!/usr/bin/env python3
"""Filters (-f), packet export (-w) and the progress line, offline, on the capture that
make_capture.py writes. One TAP line per check (tests/checklib.py); exits 1 on failure."""
import json
import os
import pty
import select
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import Checks  # noqa: E402
import make_capture  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BIN = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
CHECKS = Checks("filters")
report = CHECKS.report


def run(args, stdin=None):
    return subprocess.run([BIN] + args, capture_output=True, stdin=stdin, timeout=60)


def keys(stdout):
    """One short key per event: REQ/RESP/EX with the fields that tell them apart."""
    out = []
    for line in stdout.decode().splitlines():
        e = json.loads(line)
        a = {x["name"]: x["value"] for x in e["args"]}
        if e["eventName"] == "net_flow_http":
            rq, rs = a["request"], a["response"]
            out.append("EX %s %s %s" % (rq["method"] if rq else "-", rq["uri_path"] if rq else "-",
                                        rs["status_code"] if rs else "-"))
        elif e["eventName"] == "net_packet_http_request":
            out.append("REQ %s %s" % (a["http_request"]["method"], a["http_request"]["uri_path"]))
        elif e["eventName"] == "net_packet_http_response":
            out.append("RESP %d" % a["http_response"]["status_code"])
        else:
            h = a["proto_http"]
            if h["direction"] == "request":
                out.append("REQ %s %s" % (h["method"], h["uri_path"]))
            else:
                port = a["dst_port"]
                out.append("RESP %d %d" % (h["status_code"], port))
    return sorted(out)


R1, R2, R3, R4, R5 = ("REQ POST /api/orders", "REQ POST /api/users", "REQ GET /api/orders",
                      "REQ POST /login", "REQ POST /api/big")
S1, S2, S3, S4, S5 = ("RESP 500 40001", "RESP 201 40002", "RESP 503 40003", "RESP 502 40004",
                      "RESP 500 40005")
X1, X2, X3, X4, X5 = ("EX POST /api/orders 500", "EX POST /api/users 201", "EX GET /api/orders 503",
                      "EX POST /login 502", "EX POST /api/big 500")
ALL = [R1, R2, R3, R4, R5, S1, S2, S3, S4, S5]

# (name, filters, extra args, expected keys)
CASES = [
    ("no filter", [], [], ALL),
    ("method", ["method=POST"], [], [R1, R2, R4, R5, S1, S2, S4, S5]),
    ("method glob", ["method=P?S[Tt]"], [], [R1, R2, R4, R5, S1, S2, S4, S5]),
    ("method not", ["method!=POST"], [], [R3, S3]),
    ("status ge", ["status>=500"], [], [S1, S3, S4, S5]),
    ("status eq", ["status=500"], [], [S1, S5]),
    ("status ne", ["status!=500"], [], [S2, S3, S4]),
    ("status lt", ["status<300"], [], [S2]),
    ("status le gt", ["status<=502", "status>500"], [], [S4]),
    ("status spaces", ["status >= 503"], [], [S3]),
    ("host glob", ["host=*.example.com"], [], [R1, R2, R3, R5, S1, S2, S3, S5]),
    ("host case", ["host=API.Example.COM"], [], [R1, R2, R5, S1, S2, S5]),
    ("path glob", ["path=/api/*"], [], [R1, R2, R3, R5, S1, S2, S3, S5]),
    ("path set", ["path=/api/[!u]*"], [], [R1, R3, R5, S1, S3, S5]),
    ("path exact", ["path=/api"], [], []),
    ("header", ["header:user-agent=*curl*"], [], [R1, R3, R4, R5, S1, S3, S4, S5]),
    ("header missing", ["header:X-None=*"], [], []),
    ("header value", ["header:X-Pad=p*p"], [], [R5, S5]),
    ("port", ["port=8080"], [], [R1, R2, R5, S1, S2, S5]),
    ("port client end", ["port=40003"], [], [R3, S3]),
    ("port not", ["port!=8080"], [], [R3, R4, S3, S4]),
    ("port range", ["port>40003", "port<=40005"], [], [R4, R5, S4, S5]),
    ("src addr", ["src=10.0.0.1"], [], [R1, R2, R5]),
    ("src cidr", ["src=10.0.0.0/30"], [], [R1, R2, R3, R5, S1, S2, S3, S5]),
    ("src cidr odd", ["src=10.0.0.2/31"], [], [R3, S1, S2, S3, S5]),
    ("dst v6", ["dst=fd00::/64"], [], [R4, S4]),
    ("src v6 host", ["src=fd00::2"], [], [S4]),
    ("src not", ["src!=10.0.0.0/8"], [], [R4, S4]),
    ("direction", ["direction=egress"], [], []),
    ("direction not", ["direction!=ingress"], [], ALL),
    ("tls: a capture holds none", ["tls=yes"], [], []),
    ("tls=no keeps all", ["tls=no"], [], ALL),
    ("recipe", ["method=POST", "path=/api/*", "status>=500"], [], [S1, S5]),
    ("recipe exchanges", ["method=POST", "path=/api/*", "status>=500"], ["-e", "net_flow_http"],
     [X1, X5]),
    ("exchange src is client", ["src=10.0.0.3"], ["-e", "net_flow_http"], [X3]),
    ("exchange dst is server", ["dst=fd00::2"], ["-e", "net_flow_http"], [X4]),
    ("exchange header either side", ["header:Content-Length=0"], ["-e", "net_flow_http"],
     [X1, X2, X3, X4, X5]),
    ("request events", ["status>=500"], ["-e", "net_packet_http_request"], []),
    ("response events", ["path=/login"], ["-e", "net_packet_http_response"], ["RESP 502"]),
]

BAD = [
    "foo=1", "status>=abc", "status=1000", "method<POST", "src=1.2.3.4/33", "src=nothost",
    "dst=fd00::/129", "port=65536", "direction=up", "container=", "status", "=5", "header:=x",
    "cgroup=/no/such/cgroup", "path~/x", "tls=maybe", "tls<yes",
]


def check_cases(cap):
    for name, filters, extra, want in CASES:
        args = ["-r", cap] + extra
        for f in filters:
            args += ["-f", f]
        p = run(args)
        problems = []
        if p.returncode != 0:
            problems.append("exit %d: %s" % (p.returncode, p.stderr.decode().strip()))
        else:
            got = keys(p.stdout)
            if got != sorted(want):
                problems.append("got %s, want %s" % (got, sorted(want)))
            if filters and b"filtered out" not in p.stderr:
                problems.append("summary lacks the filtered count")
        report("filter " + name, problems)


def check_errors(cap):
    for expr in BAD:
        p = run(["-r", cap, "-f", expr])
        err = p.stderr.decode()
        problems = []
        if p.returncode != 1:
            problems.append("exit %d" % p.returncode)
        if err.count("\n") != 1 or ("'%s'" % expr) not in err:
            problems.append("stderr %r" % err)
        if p.stdout:
            problems.append("stdout not empty")
        report("bad expression %s" % expr, problems)
    for expr in ["comm=curl", "pid=1", "uid=0", "container=ab", "cgroup=/"]:
        p = run(["-r", cap, "-f", expr])
        err = p.stderr.decode()
        ok = p.returncode == 1 and "needs live mode" in err and expr in err
        ok = ok or (expr == "cgroup=/" and p.returncode == 1)
        report("live-only offline %s" % expr, [] if ok else ["exit %d: %r" % (p.returncode, err)])


def tshark(path, fields):
    p = subprocess.run(["tshark", "-r", path, "-T", "fields"] + sum([["-e", f] for f in fields], []),
                       capture_output=True, timeout=60)
    if p.returncode:
        return None
    return [line.split("\t") for line in p.stdout.decode().splitlines()]


def check_export(cap, tmp):
    out = os.path.join(tmp, "x.pcapng")
    recipe = ["-f", "method=POST", "-f", "path=/api/*", "-f", "status>=500"]
    fields = ["frame.comment", "tcp.srcport", "tcp.dstport", "frame.len", "pkt_comment",
              "frame.interface_id"]
    # message events: only the two 500 responses pass, one packet each
    p = run(["-r", cap, "-w", out] + recipe)
    rows = tshark(out, ["frame.comment", "tcp.dstport", "http.response.code"])
    want = [["net_packet_http 500 Internal Server Error", "40001", "500"],
            ["net_packet_http 500 Internal Server Error", "40005", "500"]]
    report("export responses", [] if p.returncode == 0 and rows == want else
           ["rc %d rows %s" % (p.returncode, rows)])
    # exchanges: the request's packets (two for the split head) and the response's
    p = run(["-r", cap, "-w", out, "-e", "net_flow_http"] + recipe)
    rows = tshark(out, ["frame.comment", "tcp.srcport", "tcp.dstport", "http.request.method"])
    c1 = "net_flow_http POST /api/orders -> 500 Internal Server Error"
    c5 = "net_flow_http POST /api/big -> 500 Internal Server Error"
    want = [[c1, "40001", "8080", "POST"], [c1, "8080", "40001", ""],
            [c5, "40005", "8080", ""], [c5, "40005", "8080", "POST"], [c5, "8080", "40005", ""]]
    report("export exchanges with split head", [] if p.returncode == 0 and rows == want else
           ["rc %d rows %s" % (p.returncode, rows)])
    # every message, all event types: one packet per head packet, names of all types
    p = run(["-r", cap, "-w", out, "-e", "all"])
    rows = tshark(out, ["frame.comment", "ipv6.src", "tcp.srcport"])
    problems = []
    if rows is None or len(rows) != 11:
        problems.append("rows %s" % rows)
    else:
        if not rows[0][0].startswith("net_packet_http net_packet_http_request POST /api/orders"):
            problems.append("first comment %r" % rows[0][0])
        if not any(r[1] == "fd00::2" and "net_packet_http_response 502 Bad Gateway" in r[0]
                   for r in rows):
            problems.append("no IPv6 502 response")
        if b"11 packets exported" not in p.stderr:
            problems.append("summary %r" % p.stderr)
    report("export all types", problems)
    # a filter that matches nothing leaves a valid empty pcapng
    p = run(["-r", cap, "-w", out, "-f", "status=418"])
    rows = tshark(out, ["frame.number"])
    report("export empty", [] if p.returncode == 0 and rows == [] else ["rows %s" % rows])
    p = run(["-r", cap, "-w", "/nonexistent/dir/x.pcapng"])
    report("export unwritable", [] if p.returncode == 1 and p.stderr.count(b"\n") == 1 else
           ["rc %d %r" % (p.returncode, p.stderr)])


def read_pty(master, proc):
    data = b""
    while True:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            data += chunk
        elif proc.poll() is not None:
            break
    return data


def check_progress(tmp):
    gen = [sys.executable, os.path.join(HERE, "make_capture.py"), "-", "--slow"]
    src = subprocess.Popen(gen, stdout=subprocess.PIPE)
    master, slave = pty.openpty()
    proc = subprocess.Popen([BIN, "-r", "-"], stdin=src.stdout, stdout=subprocess.DEVNULL,
                            stderr=slave)
    os.close(slave)
    err = read_pty(master, proc)
    proc.wait(timeout=60)
    src.wait(timeout=60)
    os.close(master)
    problems = []
    if proc.returncode:
        problems.append("exit %d" % proc.returncode)
    if b"\rhttpeek: " not in err or b"messages, " not in err or b"MiB/s" not in err:
        problems.append("no progress line in %r" % err[:200])
    if b"\r\x1b[K" not in err or not err.rstrip(b"\r\n").split(b"\n")[-1].split(b"\r\x1b[K")[-1] \
            .startswith(b"httpeek: 8200 packets"):
        problems.append("progress not erased before the summary: %r" % err[-300:])
    report("progress on a terminal", problems)
    p = subprocess.run("%s - --slow | %s -r -" % (" ".join(gen[:2]), BIN), shell=True,
                       capture_output=True, timeout=60)
    lines = p.stderr.decode().splitlines()
    ok = p.returncode == 0 and len(lines) == 1 and "\r" not in p.stderr.decode()
    report("no progress when stderr is not a terminal", [] if ok else ["stderr %r" % p.stderr])


# Targets with escapes: (request-target, the uri_path events show).
ESCAPED = [("/docs/a%20b", "/docs/a b"), ("/api%2Fv1/x?q=%20", "/api/v1/x"),
           ("/bad%zz", "/bad%zz"), ("/x+y", "/x+y")]
# path= matches the percent-decoded uri_path (the raw path only when an escape is bad).
PATH_CASES = [("path=/docs/a b", ["/docs/a b"]), ("path=/docs/a%20b", []),
              ("path=/api/*", ["/api/v1/x"]), ("path=/api%2F*", []),
              ("path=/bad%zz", ["/bad%zz"]), ("path=/x y", []), ("path=/x+y", ["/x+y"]),
              ("path!=/docs/*", ["/api/v1/x", "/bad%zz", "/x+y"])]


def check_paths(tmp):
    cap = os.path.join(tmp, "escaped.pcap")
    recs = []
    for i, (target, _) in enumerate(ESCAPED):
        ex = ("10.0.0.1", 41000 + i, "10.0.0.2", 80,
              "GET %s HTTP/1.1\r\nHost: example.com\r\n\r\n" % target,
              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        recs += make_capture.connection(ex, 1700000000.0 + i)
    with open(cap, "wb") as f:
        make_capture.write(f, recs)
    p = run(["-r", cap, "-e", "net_packet_http_request"])
    got = []
    for line in p.stdout.decode().splitlines():
        r = {x["name"]: x["value"] for x in json.loads(line)["args"]}["http_request"]
        got.append((r["uri"], r["uri_path"]))
    report("uri_path decoded, uri as sent", [] if got == ESCAPED else ["got %s" % got])
    for expr, want in PATH_CASES:
        p = run(["-r", cap, "-e", "net_packet_http_request", "-f", expr])
        paths = [{x["name"]: x["value"] for x in json.loads(line)["args"]}["http_request"]
                 ["uri_path"] for line in p.stdout.decode().splitlines()]
        report("filter %s" % expr, [] if p.returncode == 0 and paths == want else
               ["rc %d, got %s, want %s" % (p.returncode, paths, want)])


def check_export_frames(tmp):
    """-w of an A-MSDU (three responses in one frame: the frame once, with three comments) and
    of IP fragments (the reassembled datagrams, whole, as raw IP)."""
    caps = os.path.join(ROOT, "tests", "captures")
    out = os.path.join(tmp, "f.pcapng")
    p = run(["-r", os.path.join(caps, "wifi-amsdu.pcap"), "-w", out])
    rows = tshark(out, ["frame.comment", "http.response.code"])
    want = [["net_packet_http GET /index.html,net_packet_http GET /missing,"
             "net_packet_http GET /small.txt", ""],
            ["net_packet_http 200 OK,net_packet_http 404 Not Found,net_packet_http 200 OK",
             "200,404,200"]]
    report("export A-MSDU frame once", [] if p.returncode == 0 and rows == want else
           ["rc %d rows %s" % (p.returncode, rows)])
    p = run(["-r", os.path.join(caps, "frag-ip4.pcap"), "-w", out])
    rows = tshark(out, ["frame.comment", "http.request.method", "http.response.code",
                        "frame.len"])
    want = [["net_packet_http POST /submit", "POST", "", "229"],
            ["net_packet_http 201 Created", "", "201", "205"]]
    report("export reassembled datagrams", [] if p.returncode == 0 and rows == want else
           ["rc %d rows %s" % (p.returncode, rows)])


def check_directions():
    """direction= on a capture that knows directions; the events hold Tracee's numbers."""
    cap = os.path.join(ROOT, "tests", "captures", "sll2.pcap")
    for expr, want in (("direction=ingress", [("request", 1)]),
                       ("direction=egress", [("response", 2)]),
                       ("direction!=egress", [("request", 1)])):
        p = run(["-r", cap, "-f", expr])
        got = []
        for line in p.stdout.decode().splitlines():
            a = {x["name"]: x["value"] for x in json.loads(line)["args"]}
            got.append((a["proto_http"]["direction"], a["metadata"]["direction"]))
        report("filter %s" % expr, [] if got == want else ["got %s, want %s" % (got, want)])


GRPC = os.path.join(ROOT, "tests", "captures", "h2", "h2-grpc.pcap")


def grpc_flows(args):
    """(stream, path, grpc-status) of each net_flow_http of the gRPC capture under args."""
    p = run(["-r", GRPC, "-e", "net_flow_http"] + args)
    out = []
    for line in p.stdout.decode().splitlines():
        a = {x["name"]: x["value"] for x in json.loads(line)["args"]}
        rs = a["response"] or {}
        st = rs.get("headers", {}).get("grpc-status", ["-"])[0]
        out.append((rs.get("stream_id"), a["request"]["uri_path"], st))
    return p.returncode, sorted(out)


def check_h2(tmp):
    """gRPC over HTTP/2: -f grpc_status against the statuses the events show, and -w export of
    the matched streams' header frames (tshark reads them back, stream by stream)."""
    rc, every = grpc_flows([])
    problems = [] if rc == 0 and len(every) == 14 else ["rc %d, %d exchanges" % (rc, len(every))]
    for expr, keep in (("grpc_status>0", lambda s: s not in ("-", "0")),
                       ("grpc_status=5", lambda s: s == "5"),
                       ("grpc_status!=0", lambda s: s not in ("-", "0"))):
        rc, got = grpc_flows(["-f", expr])
        want = [f for f in every if keep(f[2])]
        if rc or got != want or not want:
            problems.append("%s: got %s, want %s" % (expr, got, want))
    report("h2 grpc_status filter", problems)
    out = os.path.join(tmp, "grpc.pcapng")
    p = run(["-r", GRPC, "-e", "net_flow_http", "-f", "grpc_status=7", "-w", out])
    rows = subprocess.run(["tshark", "-r", out, "-d", "tcp.port==50051,http2", "-T", "fields",
                           "-e", "frame.comment", "-e", "http2.streamid", "-e", "http2.type"],
                          capture_output=True, timeout=60).stdout.decode().splitlines()
    streams = {f[0] for f in every if f[2] == "7"}
    problems = [] if p.returncode == 0 and rows else ["rc %d, rows %s" % (p.returncode, rows)]
    headers_seen = set()
    for r in rows:
        comment, ids, types = r.split("\t")
        if comment != "net_flow_http POST /httpeek.test.Echo/Denied -> 200":
            problems.append("comment %r" % comment)
        for i, t in zip(ids.split(","), types.split(",")):
            if t == "1":
                headers_seen.add(int(i))
    if headers_seen != streams:
        problems.append("HEADERS of streams %s exported, want %s" % (headers_seen, streams))
    report("h2 export of the matched streams", problems)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_h2(tmp)
        cap = os.path.join(tmp, "api.pcap")
        subprocess.run([sys.executable, os.path.join(HERE, "make_capture.py"), cap], check=True)
        check_cases(cap)
        check_errors(cap)
        check_export(cap, tmp)
        check_progress(tmp)
        check_paths(tmp)
        check_export_frames(tmp)
    check_directions()
    CHECKS.exit()


if __name__ == "__main__":
    main()
