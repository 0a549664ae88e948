#!/usr/bin/env python3
"""A real Prometheus scrapes httpeek (root): known traffic (routes, statuses, server delays) runs
in a network namespace of its own while httpeek traces it live and tcpdump records it; then
httpeek -r serves the recording's metrics too. Prometheus (own config, data directory and port,
scraping both every second) must then answer, through its query API, the request counts per
(route, status) that were sent, server and client side live, and p50/p99 in the buckets the
delays put them in. Also: promtool check metrics on both endpoints, and the live net_flow_http
events agree with the live metrics. Prints "prometheus: <name> ok" or FAIL; exits 1 on failure."""
import collections
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "offline", "metrics"))
from checklib import Checks  # noqa: E402
from endpoint import get, start, stop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.abspath(os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek")))
NETNS = "hpk-m-%d" % os.getpid()
PORT = 18201  # inside the namespace
ROUTES = ["--route", "/api/{version}/items"]
CHECKS = Checks("prometheus")
report = CHECKS.report

# method, path, status, server delay in ms, times
PLAN = [
    ("GET", "/slow", 200, 150, 6), ("POST", "/orders", 201, 0, 15),
    ("GET", "/missing", 404, 0, 5), ("GET", "/boom", 503, 320, 4),
    ("GET", "/mixed", 200, 30, 19), ("GET", "/mixed", 200, 560, 1),
    ("GET", "/api/v1/items", 200, 0, 5), ("GET", "/api/v2/items", 200, 0, 5),
] + [("GET", "/users/%d" % n, 200, 30, 1) for n in range(1, 21)]
EXPECTED = {("/slow", "200"): 6, ("/orders", "201"): 15, ("/missing", "404"): 5,
            ("/boom", "503"): 4, ("/mixed", "200"): 20, ("/api/{version}/items", "200"): 10,
            ("/users/{id}", "200"): 20}
# route: the bucket (lower, upper] p50 and p99 must fall in
QUANTILES = {
    "/slow": ((0.1, 0.25), (0.1, 0.25)), "/boom": ((0.25, 0.5), (0.25, 0.5)),
    "/users/{id}": ((0.025, 0.05), (0.025, 0.05)), "/mixed": ((0.025, 0.05), (0.5, 0.75)),
    "/orders": ((0, 0.025), None),
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Prometheus:
    """prometheus with its own config, data directory and port, scraping file_sd targets."""

    def __init__(self, tmp):
        self.targets = os.path.join(tmp, "targets.json")
        self.set_targets({})
        conf = os.path.join(tmp, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: httpeek\n    file_sd_configs:\n"
                    "      - files: [%s]\n        refresh_interval: 1s\n" % self.targets)
        self.url = "http://127.0.0.1:%d" % free_port()
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + conf, "--storage.tsdb.path=" + os.path.join(
                tmp, "data"), "--web.listen-address=" + self.url[len("http://"):],
             "--log.level=warn"], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "prometheus.log"), "w"))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if get(self.url + "/-/ready", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus did not become ready")

    def set_targets(self, modes):
        """modes: {"live": "127.0.0.1:PORT", ...}, one target each, labelled mode=..."""
        with open(self.targets + ".tmp", "w") as f:
            json.dump([{"targets": [addr], "labels": {"mode": m}} for m, addr in modes.items()],
                      f)
        os.rename(self.targets + ".tmp", self.targets)

    def query(self, q):
        """[(labels, value)] of an instant query."""
        status, _, body = get(self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
        data = json.loads(body)
        if status != 200 or data["status"] != "success":
            raise RuntimeError("query %s: %s" % (q, body[:300]))
        return [(r["metric"], float(r["value"][1])) for r in data["data"]["result"]]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def counts(prom, metric, mode):
    q = ("sum by (http_route, http_response_status_code) (%s_count{mode=%r,server_port=\"%d\"})"
         % (metric, mode, PORT)).replace("'", '"')
    return {(m["http_route"], m["http_response_status_code"]): int(v)
            for m, v in prom.query(q)}


def wait_counts(prom, metric, mode, timeout=30):
    deadline = time.time() + timeout
    while True:
        got = counts(prom, metric, mode)
        if got == EXPECTED or time.time() > deadline:
            return got
        time.sleep(0.5)


def check_counts(prom, metric, mode, name):
    got = wait_counts(prom, metric, mode)
    print("prometheus: %s counts: %s" % (name, ", ".join(
        "%s %s=%d" % (r, s, n) for (r, s), n in sorted(got.items()))))
    report("%s: counts per (route, status)" % name, [] if got == EXPECTED else
           ["got %s" % sorted(got.items())])


def check_quantiles(prom, metric, mode, name):
    problems = []
    for q in (0.5, 0.99):
        res = prom.query('histogram_quantile(%s, sum by (le, http_route) (%s_bucket{mode="%s",'
                         'server_port="%d"}))' % (q, metric, mode, PORT))
        got = {m["http_route"]: v for m, v in res}
        print("prometheus: %s p%d: %s" % (name, q * 100, ", ".join(
            "%s %.3f s" % (r, got[r]) for r in sorted(got) if r in QUANTILES)))
        for route, want in QUANTILES.items():
            bucket = want[0] if q == 0.5 else want[1]
            if bucket and not bucket[0] <= got.get(route, -1) <= bucket[1]:
                problems.append("p%d of %s is %s, not in (%s, %s]" % (
                    q * 100, route, got.get(route), *bucket))
    report("%s: p50 and p99 in the expected buckets" % name, problems)


def check_workloads(prom):
    res = prom.query('sum by (process_name) (http_server_request_duration_seconds_count'
                     '{mode="live",server_port="%d"})' % PORT)
    server = {m.get("process_name"): v for m, v in res}
    res = prom.query('sum by (process_name) (http_client_request_duration_seconds_count'
                     '{mode="live",server_port="%d"})' % PORT)
    client = {m.get("process_name"): v for m, v in res}
    total = sum(EXPECTED.values())
    report("live: server side is routesrv, client side loadgen",
           [] if server == {"routesrv": total} and client == {"loadgen": total}
           else ["server %s client %s" % (server, client)])


def check_self(prom):
    problems = []
    for q in ('httpeek_ringbuf_records_total{mode="live"}', 'httpeek_events_total{mode="live"}',
              'httpeek_messages_total{mode="offline"}'):
        res = prom.query(q)
        if not res or res[0][1] <= 0:
            problems.append("%s: %s" % (q, res))
    report("self-counters scraped", problems)


def readme_queries():
    """The PromQL of the README's metrics section: indented blocks that start a query."""
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text.split("## Metrics for Prometheus", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"((?:^    .*\n)+)", section, re.M)
    return [" ".join(l.strip() for l in b.splitlines()) for b in blocks
            if b.lstrip().startswith(("histogram_quantile(", "sum by"))]


def check_readme_promql(prom):
    """The README's p99 and 5xx-rate queries, as written (Prometheus takes them), then on the
    counters themselves instead of their 5-minute rates (this test lasts seconds): for the
    live server, p99 in the slowest answer's bucket and exactly the share of 5xx sent."""
    queries = readme_queries()
    problems = [] if len(queries) == 2 else ["%d queries found" % len(queries)]
    want = [(0.5, 0.75), (4 / 80, 4 / 80)]
    for q, (lo, hi) in zip(queries, want):
        prom.query(q)
        whole = re.sub(r"rate\((\w+(?:\{[^}]*\})?)\[5m\]\)", r"\1", q)
        got = {m.get("process_name"): v for m, v in prom.query(whole)}
        if not lo <= got.get("routesrv", -1) <= hi:
            problems.append("%s: %s" % (whole[:60], got))
    report("the README's PromQL", problems)


def check_promtool(url, name):
    status, _, body = get(url + "/metrics")
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       text=True)
    report("%s: promtool check metrics" % name, [] if status == 200 and p.returncode == 0 else
           ["%d %s" % (status, (p.stdout + p.stderr)[:300])])


def check_events(path):
    """net_flow_http events of the live run: as many server (ingress) and client (egress)
    exchanges on PORT as the metrics counted."""
    sides = collections.Counter()
    for line in open(path):
        ev = json.loads(line)
        args = {a["name"]: a["value"] for a in ev["args"]}
        if args["server_port"] == PORT and args["request"] and args["response"]:
            sides[args["metadata"]["direction"]] += 1
    total = sum(EXPECTED.values())
    report("live: net_flow_http events agree", [] if sides == {1: total, 2: total} else
           ["%s" % dict(sides)])


def netns(*argv, **kw):
    return subprocess.Popen(["ip", "netns", "exec", NETNS, *argv], **kw)


def wait_attached(proc):
    """httpeek is attached once it has dropped its privileges (NoNewPrivs set)."""
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        with open("/proc/%d/status" % proc.pid) as f:
            if "NoNewPrivs:\t1" in f.read():
                return
        time.sleep(0.05)
    raise RuntimeError("httpeek did not attach")


def wait_line(stream, text, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in stream.readline():
            return
    raise RuntimeError("no %r" % text)


def traffic(tmp):
    plan = [[m, p, s, d] for m, p, s, d, n in PLAN for _ in range(n)]
    random.Random(14).shuffle(plan)
    path = os.path.join(tmp, "plan.json")
    json.dump(plan, open(path, "w"))
    p = subprocess.run(["ip", "netns", "exec", NETNS, sys.executable,
                        os.path.join(HERE, "..", "offline", "metrics", "traffic.py"), "drive", str(PORT), path],
                       capture_output=True, text=True, timeout=60)
    report("traffic answered as planned", [] if p.returncode == 0 else [p.stderr[:300]])


def run(tmp, procs):
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    subprocess.run(["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"], check=True)
    procs.append(netns(sys.executable, os.path.join(HERE, "..", "offline", "metrics", "traffic.py"), "serve", str(PORT)))
    pcap, events = os.path.join(tmp, "rec.pcap"), os.path.join(tmp, "events.jsonl")
    dump = netns("tcpdump", "-i", "lo", "-U", "-w", pcap, "tcp port %d" % PORT,
                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(dump)
    wait_line(dump.stderr, "listening on")
    live, live_url = start([BIN, "-e", "net_flow_http", "-O", events, *ROUTES, "--metrics",
                            "127.0.0.1:0"])
    procs.append(live)
    wait_attached(live)
    prom = Prometheus(tmp)
    procs.append(prom)
    prom.set_targets({"live": live_url[len("http://"):]})
    time.sleep(1)
    traffic(tmp)
    time.sleep(1)
    stop(dump)
    offline, off_url = start([BIN, "-r", pcap, "-e", "none", *ROUTES, "--metrics",
                              "127.0.0.1:0"])
    procs.append(offline)
    prom.set_targets({"live": live_url[len("http://"):], "offline": off_url[len("http://"):]})
    server, client = "http_server_request_duration_seconds", "http_client_request_duration_seconds"
    check_counts(prom, server, "live", "live server")
    check_counts(prom, client, "live", "live client")
    check_counts(prom, server, "offline", "offline")
    check_quantiles(prom, server, "live", "live server")
    check_quantiles(prom, client, "live", "live client")
    check_quantiles(prom, server, "offline", "offline")
    check_workloads(prom)
    check_self(prom)
    check_readme_promql(prom)
    check_promtool(live_url, "live")
    check_promtool(off_url, "offline")
    report("live httpeek exits cleanly", [] if stop(live) == 0 else ["non-zero exit"])
    check_events(events)


def main():
    if os.getuid() != 0 or not shutil.which("prometheus"):
        report("set-up", ["needs root and prometheus (scripts/deps.sh installs it)"])
        CHECKS.exit()
    procs = []
    tmp = tempfile.mkdtemp(prefix="httpeek-prom-")
    try:
        run(tmp, procs)
    finally:
        for p in reversed(procs):
            if isinstance(p, Prometheus):
                p.stop()
            elif p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["ip", "netns", "del", NETNS], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    CHECKS.exit()


if __name__ == "__main__":
    main()
