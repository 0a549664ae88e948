#!/usr/bin/env python3
"""Metrics from captures (no root): counts, buckets, routes and filters in --metrics-file; the
endpoint (GET /metrics, other paths and methods, oversized, silent and slow clients, more
clients than it has slots); promtool's check; one-line errors for bad options.
One TAP line per check (tests/checklib.py); exits 1 on failure."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from checklib import Checks  # noqa: E402
from make_exchanges import write_pcap  # noqa: E402
from endpoint import get, start, stop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BIN = os.path.abspath(os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek")))
CHECKS = Checks("metrics")
report = CHECKS.report
SERVER = "http_server_request_duration_seconds"

# (method, path, status, latency in s, count): what the capture holds.
TRAFFIC = [
    ("GET", "/users/1", 200, 0.003, 3), ("GET", "/users/22", 200, 0.030, 2),
    ("GET", "/users/550e8400-e29b-41d4-a716-446655440000/orders", 200, 0.120, 4),
    ("POST", "/orders", 201, 0.060, 5), ("GET", "/missing", 404, 0.001, 2),
    ("GET", "/boom", 503, 0.600, 1), ("GET", "/api/v1/items", 200, 0.002, 2),
    ("GET", "/api/v2/items", 200, 0.002, 1), ("BREW", "/pot", 418, 12.0, 1),
    ("GET", "/a%20b?q=1", 200, 0.004, 1),
]
ROUTES = ["--route", "/api/{version}/items"]
# (method, route, status) -> count, and the exact buckets of two series
EXPECTED = {
    ("GET", "/users/{id}", "200"): 5, ("GET", "/users/{id}/orders", "200"): 4,
    ("POST", "/orders", "201"): 5, ("GET", "/missing", "404"): 2, ("GET", "/boom", "503"): 1,
    ("GET", "/api/{version}/items", "200"): 3, ("_OTHER", "/pot", "418"): 1,
    ("GET", "/a b", "200"): 1,
}
SAMPLE_RE = re.compile(r'^(\w+)\{(.*)\} (\S+)$')


def capture(path):
    exchanges = [(m, p, s, lat) for m, p, s, lat, n in TRAFFIC for _ in range(n)]
    write_pcap(path, [exchanges[0::2], exchanges[1::2]])


def samples(text):
    """{(name, frozenset(labels)): value} of every labelled sample."""
    out = {}
    for line in text.splitlines():
        m = SAMPLE_RE.match(line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def counts(text, name=SERVER):
    got = {}
    for (n, labels), v in samples(text).items():
        if n == name + "_count":
            d = dict(labels)
            key = (d["http_request_method"], d["http_route"], d["http_response_status_code"])
            got[key] = got.get(key, 0) + v
    return got


def bucket(text, route, le):
    for (n, labels), v in samples(text).items():
        d = dict(labels)
        if n == SERVER + "_bucket" and d.get("http_route") == route and d["le"] == le:
            return v
    return None


def run(*args, timeout=60):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


def promtool(text):
    if not shutil.which("promtool"):
        return ["promtool is not installed (scripts/deps.sh lists prometheus)"]
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    return [] if p.returncode == 0 else ["promtool: " + (p.stdout + p.stderr).strip()[:300]]


def check_file(tmp, pcap):
    out = os.path.join(tmp, "m.prom")
    p = run("-r", pcap, "-e", "none", *ROUTES, "--metrics-file", out)
    text = open(out).read() if os.path.exists(out) else ""
    problems = [] if p.returncode == 0 and not p.stdout else ["rc %d stdout %r" % (
        p.returncode, p.stdout[:100])]
    got = counts(text)
    if got != EXPECTED:
        problems.append("counts %s" % got)
    report("counts per method, route and status", problems)
    want = {("/users/{id}/orders", "0.1"): 0, ("/users/{id}/orders", "0.25"): 4,
            ("/orders", "0.05"): 0, ("/orders", "0.075"): 5, ("/boom", "0.5"): 0,
            ("/boom", "0.75"): 1, ("/pot", "10"): 0, ("/pot", "+Inf"): 1,
            ("/users/{id}", "0.005"): 3, ("/users/{id}", "0.025"): 3,
            ("/users/{id}", "0.05"): 5}
    wrong = {k: bucket(text, *k) for k, v in want.items() if bucket(text, *k) != v}
    report("buckets", ["%s" % wrong] if wrong else [])
    m = re.search(SERVER + r'_sum\{[^}]*http_route="/boom"[^}]*\} (\S+)', text)
    report("sum in seconds", [] if m and abs(float(m.group(1)) - 0.6) < 1e-5 else [str(m)])
    report("promtool check metrics", promtool(text))
    report("self-counters", [] if re.search(r"^httpeek_messages_total 44$", text, re.M) and
           re.search(r"^httpeek_events_total 0$", text, re.M) else ["self-counters"])
    return text


def metric(text, line):
    m = re.search("^" + re.escape(line) + r" (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


def check_not_decoded(tmp):
    """What was not decoded and the IP fragments, in the self-counters as in the summary."""
    caps = os.path.join(ROOT, "tests", "captures")
    out = os.path.join(tmp, "nd.prom")
    problems = []
    p = run("-r", os.path.join(caps, "wifi-protected.pcap"), "-e", "none", "--metrics-file", out)
    text = open(out).read()
    n = re.search(r"not decoded: (\d+) packets of 802.11 protected", p.stderr)
    if not n or metric(text, 'httpeek_packets_not_decoded_total{kind="802.11 protected '
                             '(encrypted)"}') != int(n.group(1)):
        problems.append("802.11 protected: summary %r, metrics %r" % (p.stderr, text[-300:]))
    problems += promtool(text)
    p = run("-r", os.path.join(caps, "frag-overlap.pcap"), "-e", "none", "--metrics-file", out)
    text = open(out).read()
    n = re.search(r"IP fragments: (\d+) read, (\d+) datagrams? reassembled; (\d+) overlapping "
                  r"fragments? \((\d+) with different bytes[^)]*\), (\d+) tiny", p.stderr)
    got = [metric(text, k) for k in (
        "httpeek_ip_fragments_total", "httpeek_ip_datagrams_reassembled_total",
        'httpeek_ip_fragment_overlaps_total{bytes="same"}',
        'httpeek_ip_fragment_overlaps_total{bytes="different"}',
        "httpeek_ip_fragments_tiny_total")]
    want = [int(x) for x in n.groups()] if n else []
    if want and (got[0], got[1], got[2] + got[3], got[3], got[4]) != tuple(want):
        problems.append("fragments: summary %r, metrics %r" % (want, got))
    p = run("-r", os.path.join(caps, "frag-incomplete.pcap"), "-e", "none", "--metrics-file",
            out)
    text = open(out).read()
    n = re.search(r"of (\d+) incomplete datagrams? \((\d+) at the end of the capture\)",
                  p.stderr)
    if not n or metric(text, 'httpeek_ip_datagrams_incomplete_total{cause="capture_end"}') != \
            int(n.group(2)):
        problems.append("incomplete: summary %r" % p.stderr)
    problems += promtool(text)
    report("not decoded and IP fragments, as the summary says", problems)


def check_alongside(tmp, pcap, alone):
    """Events and metrics together count the same exchanges; filters narrow both."""
    out = os.path.join(tmp, "both.prom")
    p = run("-r", pcap, "-e", "net_flow_http", *ROUTES, "--metrics-file", out)
    events = [json.loads(l) for l in p.stdout.splitlines()]
    report("alongside events", [] if len(events) == 22 and counts(open(out).read()) ==
           counts(alone) else ["%d events" % len(events)])
    p = run("-r", pcap, "-e", "none", "-f", "status>=500", "--metrics-file", out)
    report("filters narrow the metrics", [] if counts(open(out).read()) ==
           {("GET", "/boom", "503"): 1} else [counts(open(out).read())])


def raw(host, port, data):
    """What the endpoint answers to data, sent as is."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(data)
        return b"".join(iter(lambda: s.recv(65536), b"")).decode(errors="replace")


def check_endpoint(pcap, text):
    proc, url = start([BIN, "-r", pcap, "-e", "none", *ROUTES, "--metrics", "127.0.0.1:0"],
                      stdout=subprocess.DEVNULL)
    host, port = url[len("http://"):].rsplit(":", 1)
    port = int(port)
    try:
        status, headers, body = get(url + "/metrics")
        report("GET /metrics", [] if status == 200 and body == text and headers[
            "Content-Type"].startswith("text/plain; version=0.0.4") else ["%d" % status])
        report("GET /metrics?x=1 and HEAD", [] if get(url + "/metrics?x=1")[2] == text and
               get(url + "/metrics", "HEAD")[0] == 200 else ["query or HEAD"])
        report("404 elsewhere", [] if get(url + "/")[0] == 404 and get(url + "/metricsx")[0]
               == 404 else ["not 404"])
        report("405 for POST", [] if get(url + "/metrics", "POST")[0] == 405 else ["not 405"])
        report("400 for garbage", [] if raw(host, port, b"garbage\r\n\r\n").startswith(
            "HTTP/1.1 400") else ["not 400"])
        report("431 for a huge head", [] if raw(host, port, b"GET /metrics HTTP/1.1\r\nX: " +
               b"x" * 20000).startswith("HTTP/1.1 431") else ["not 431"])
        check_hostile_clients(host, port, url, text)
    finally:
        rc = stop(proc)
    report("SIGINT ends the endpoint", [] if rc == 0 else ["rc %d" % rc])


def check_hostile_clients(host, port, url, text):
    """Silent clients, more of them than slots, and one that never reads, leave scrapes alone."""
    silent = [socket.create_connection((host, port)) for _ in range(40)]
    slow = socket.create_connection((host, port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
    time.sleep(0.2)
    start = time.time()
    status, _, body = get(url + "/metrics")
    took = time.time() - start
    report("scrape beside 40 silent clients and a slow reader",
           [] if status == 200 and body == text and took < 2 else ["%d in %.1fs" % (status, took)])
    for s in silent + [slow]:
        s.close()


# Paths whose routes need escaping in a label value (issue 26): quotes, backslashes and line ends
# percent-encoded and raw, invalid UTF-8, and a try at closing the label set early.
HOSTILE_PATHS = ["/q/a%22b", "/q/a%5Cb", "/q/a%0Ab", "/q/%22%5C%0A%0D%09", "/q/%FF%C3%28",
                 "/q/100%25", '/q/raw"quote', "/q/back\\slash", "/q/%22%7D%20x%3D%22y",
                 "/q/%5C%22", "/q/%5Cn"]


def route_of(path):
    """METRICS.md's rule for these paths (no {id} segment in them): percent-decoded, then bytes
    outside printable ASCII and % written as %XX."""
    raw = urllib.parse.unquote_to_bytes(path)
    return "".join(chr(b) if 0x20 <= b < 0x7f and b != 0x25 else "%%%02X" % b for b in raw)


def parsed_routes(text):
    """{route: count} as Prometheus's Python client parses the exposition (a parser of its own,
    not ours), and the label names it saw."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")  # Debian's, under another python3
        from prometheus_client.parser import text_string_to_metric_families
    routes, names = {}, set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == SERVER + "_count":
                routes[sample.labels["http_route"]] = sample.value
                names |= set(sample.labels)
    return routes, names


def check_hostile_labels(tmp):
    pcap, out = os.path.join(tmp, "hostile.pcap"), os.path.join(tmp, "hostile.prom")
    write_pcap(pcap, [[("GET", p, 200, 0.001) for p in HOSTILE_PATHS]])
    p = run("-r", pcap, "-e", "none", "--metrics-file", out)
    text = open(out).read() if os.path.exists(out) else ""
    report("escaped routes: promtool check metrics", promtool(text) if p.returncode == 0 else
           ["rc %d" % p.returncode])
    try:
        routes, names = parsed_routes(text)
    except ImportError:
        report("escaped routes: as a Prometheus parser reads them",
               ["python3-prometheus-client is not installed (scripts/deps.sh lists it)"])
        return
    want = {route_of(path): 1 for path in HOSTILE_PATHS}
    report("escaped routes: as a Prometheus parser reads them", [] if routes == want and names ==
           {"http_request_method", "http_response_status_code", "http_route", "server_address",
            "server_port"} else ["got %r, labels %s" % (routes, sorted(names))])


def check_errors(tmp, pcap):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    taken = "127.0.0.1:%d" % busy.getsockname()[1]
    cases = [
        ("bad address", ["--metrics", "nonsense"]), ("port out of range", ["--metrics", ":99999"]),
        ("IPv6 without brackets", ["--metrics", "::1:9464"]),
        ("unknown host", ["--metrics", "no-such-host.invalid:9464"]),
        ("port in use", ["--metrics", taken]),
        ("route without /", ["--metrics-file", "x", "--route", "users/{id}"]),
        ("half a parameter", ["--metrics-file", "x", "--route", "/a/{id"]),
        ("-e none alone", ["-e", "none"]), ("--route alone", ["--route", "/a"]),
        ("-e none with others", ["-e", "none,net_flow_http", "--metrics-file", "x"]),
        ("cap too small", ["--metrics-file", "x", "--metrics-max-series", "1"]),
        ("unwritable file", ["--metrics-file", "/nonexistent/dir/m.prom"]),
    ]
    for name, args in cases:
        p = subprocess.run([BIN, "-r", pcap, *args], capture_output=True, text=True, timeout=10,
                           cwd=tmp)
        lines = p.stderr.strip().splitlines()
        report("error: " + name, [] if p.returncode == 1 and len(lines) == 1 and
               lines[0].startswith("httpeek: ") and not p.stdout else
               ["rc %d: %r" % (p.returncode, p.stderr[:200])])
    busy.close()


def check_grpc(tmp):
    """gRPC over HTTP/2: each call one exchange; rpc_grpc_status_code as the events' trailers
    say, the errors counted; promtool accepts it."""
    cap = os.path.join(ROOT, "tests", "captures", "h2", "h2-grpc.pcap")
    out = os.path.join(tmp, "grpc.prom")
    p = run("-r", cap, "-e", "net_flow_http", "--metrics-file", out)
    want = {}
    for line in p.stdout.splitlines():
        a = {x["name"]: x["value"] for x in json.loads(line)["args"]}
        st = (a["response"] or {}).get("headers", {}).get("grpc-status", [""])[0]
        key = (a["request"]["uri_path"], st)
        want[key] = want.get(key, 0) + 1
    text = open(out).read() if os.path.exists(out) else ""
    got = {}
    for (n, labels), v in samples(text).items():
        d = dict(labels)
        if n == SERVER + "_count":
            key = (d["http_route"], d.get("rpc_grpc_status_code", ""))
            got[key] = got.get(key, 0) + v
    errors = sum(n for (route, st), n in want.items() if st not in ("", "0"))
    problems = [] if p.returncode == 0 and got == want and len(want) == 7 else [
        "got %s, want %s" % (got, want)]
    if not re.search(r"^httpeek_grpc_errors_total %d$" % errors, text, re.M) or errors != 4:
        problems.append("httpeek_grpc_errors_total is not %d" % errors)
    report("gRPC: rpc_grpc_status_code and errors", problems + promtool(text))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_grpc(tmp)
        pcap = os.path.join(tmp, "routes.pcap")
        capture(pcap)
        text = check_file(tmp, pcap)
        check_alongside(tmp, pcap, text)
        check_not_decoded(tmp)
        check_endpoint(pcap, text)
        check_hostile_labels(tmp)
        check_errors(tmp, pcap)
    CHECKS.exit()


if __name__ == "__main__":
    main()
