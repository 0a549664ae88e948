#!/usr/bin/env python3
"""Benchmarks httpeek against the tools people use today, side by side in one run.

offline  httpeek -r (full JSON to /dev/null) vs httpry -r and tshark (four HTTP fields) on a
         capture of wrk against nginx (scripts/wrk-capture.sh), alternating runs: median
         wall-time ratios and the messages each reports.
live     (root) nginx on loopback (one worker, scripts/nginx-conf.sh) under wrk -t1, rounds
         alternating without and with httpeek tracing the host (-e net_packet_http, JSON to
         /dev/null): median throughput ratio, httpeek's CPU per 1000 requests, its peak RSS,
         events per request (nginx's stub_status counts the requests), kernel drops and lost
         events (unknown owners, gaps) from httpeek's summary.
scaling  offline messages/s for captures of 10k, 100k and 1M messages, and the live ratio at
         -c1, -c16 and -c64.
tls      (root) the live part over HTTPS: nginx with TLS under wrk (both use libssl.so.3),
         rounds alternating untraced, traced and traced with --no-tls: throughput ratios,
         httpeek's CPU per 1000 requests, events per request (4: each message at both ends,
         read from OpenSSL), kernel drops.
varied   (root) the differential test's traffic (tests/live/diff: keep-alive, pipelines,
         bodies, chunked, 1xx, nginx and a server of its own, veth and loopback): httpeek's
         CPU per 1000 messages, ring-buffer bytes per message, messages missed.
attach   (root) a new copy of libssl.so.3 loaded by a process, one per round: the time from
         the load's return to httpeek's -v line naming the copy (this build and HTTPEEK_BASE).
bulk     (root) 1 GiB of binary data over one loopback TCP connection (not HTTP), untraced,
         with httpeek (and HTTPEEK_BASE) and with tcpdump -i lo -w /dev/null: paired time
         ratios, the tracer's CPU and the BPF programs' kernel time per GiB.
idle     (root) 1,000 keep-alive connections to nginx, one request each, then idle: each
         tracer's CPU, its programs' kernel time and its peak RSS.
h2       (root) HTTP/2: nginx (listen ... http2, cleartext) on loopback under h2load (-c16,
         10 streams per connection), rounds alternating untraced, traced, and traced by the
         base build (HTTPEEK_BASE) when given: throughput ratios, httpeek's CPU per 1000
         requests, events per request (4: each message at both ends), drops, blocks not
         decoded.
floor    (root) the live workload with programs at httpeek's hooks that do nothing, or only
         write one record per packet (scripts/floor/, built by make bench), alternating with
         httpeek's: the least a kernel side that reports both messages of a request costs,
         beside httpeek's kernel cost (scripts/bench_floor.py).
sslcall  (root) one OpenSSL call untraced and traced (and by HTTPEEK_BASE), in a Python
         process over loopback TCP (four calls per exchange) and on an empty memory buffer
         (a read that returns at once): microseconds per call, the BPF programs' share (bpf_stats)
         and the rest, the probes' trap and return (scripts/bench_sslcall.py).
metrics  (root) the live workload with events only, events + --metrics and metrics only
         (-e none; with HTTPEEK_BASE also its events only and events + --metrics), /metrics
         scraped every second, side by side in alternating rounds: the
         throughput ratio, httpeek's CPU per 1000 requests, its peak RSS, and the exchanges the
         metrics counted per request; then the same three modes offline (-r on the wrk capture,
         --metrics-file): wall time and CPU per 1000 exchanges.

Usage: bench.py [--rounds N] [--live-seconds S] [--quick] [offline] [live] [scaling] [tls]
[varied] [metrics] [attach] [bulk] [idle] [h2] [sslcall] [floor] (no part named: all twelve).
The live part runs tcpdump -i lo -w /dev/null rounds beside httpeek's. Captures are recorded
once into build/bench/. HTTPEEK=/path/to/httpeek measures another build,
HTTPEEK_LIVE_ARGS="--ringbuf N" other live options, HTTPEEK_BASE=/path/to/httpeek adds a
previous build to the live and varied rounds, side by side. Run it on a quiet machine: the
ratios are only as good as the machine is idle.
"""
import argparse
import json
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import bench_floor
import bench_host
import bench_sslcall
from bench_host import cpu_seconds, peak_rss_kib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")
HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))  # another build to compare
LIVE_ARGS = os.environ.get("HTTPEEK_LIVE_ARGS", "").split()  # extra live options to compare
BASE = os.environ.get("HTTPEEK_BASE")  # a previous build, run side by side


def build_name(binary):
    """A build as the report names it: its checkout's commit, not a path of this machine."""
    top = os.path.dirname(os.path.abspath(binary))
    out = subprocess.run(["git", "-C", top, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    commit = out.stdout.strip() if out.returncode == 0 else ""
    return f"the build of {commit}" if commit else f"the build {os.path.basename(binary)}"
CAPTURE_PORT = 18080
LIVE_PORT = 18090
TLS_PORT = 18453
H2_PORT = 18091
PORT_FILTER = f"tcp port {CAPTURE_PORT}"
TSHARK_FIELDS = ["http.request.method", "http.request.uri", "http.host", "http.response.code"]
UNVERIFIED = ssl._create_unverified_context()  # the bench's own certificate
SUMMARY_FIELDS = ["messages", "events", "gaps", "kernel drops", "unknown owners",
                  "ring-buffer records", "truncated heads", "parse failures"]


def med(values):
    return statistics.median(values) if values else float("nan")


# --- captures ---

def wrk_capture(requests):
    """A pcap of wrk against nginx with about 2 * requests HTTP messages, recorded once."""
    path = os.path.join(BUILD, f"wrk-{requests}.pcap")
    if not os.path.exists(path):
        os.makedirs(BUILD, exist_ok=True)
        print(f"recording {path} ...", file=sys.stderr, flush=True)
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "wrk-capture.sh"), path + ".tmp",
                        str(requests)], check=True, stdout=subprocess.DEVNULL)
        os.rename(path + ".tmp", path)
    return path


def big_capture(requests):
    """Like wrk-capture.sh, with wrk running long enough for large counts (its -d is 4 s)."""
    path = os.path.join(BUILD, f"wrk-{requests}.pcap")
    if os.path.exists(path):
        return path
    os.makedirs(BUILD, exist_ok=True)
    print(f"recording {path} ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as d:
        nginx = Nginx(d, CAPTURE_PORT)
        dump = subprocess.Popen(["tcpdump", "-i", "lo", "-B", "524288", "-s", "0", "-w",
                                 path + ".tmp", PORT_FILTER], stderr=subprocess.DEVNULL)
        try:
            time.sleep(1)
            lua = os.path.join(d, "limit.lua")
            with open(lua, "w") as f:
                f.write(f"local n = 0\nresponse = function(status, headers, body)\n"
                        f"\tn = n + 1\n\tif n >= {requests} then wrk.thread:stop() end\nend\n")
            secs = max(4, requests // 10000)
            subprocess.run(["wrk", "-t1", "-c16", f"-d{secs}s", "-s", lua,
                            f"http://127.0.0.1:{CAPTURE_PORT}/index.html"],
                           check=True, stdout=subprocess.DEVNULL)
            time.sleep(1)
        finally:
            dump.send_signal(signal.SIGINT)
            dump.wait()
            nginx.stop()
    os.rename(path + ".tmp", path)
    return path


def capture_for(requests):
    return wrk_capture(requests) if requests <= 75000 else big_capture(requests)


# --- offline ---

def offline_commands(pcap, tools):
    cmds = {
        "httpeek": [HTTPEEK, "-r", pcap],
        "httpry": ["httpry", "-q", "-r", pcap, PORT_FILTER],
        "tshark": ["tshark", "-n", "-r", pcap, "-Y", "http", "-T", "fields"]
        + [a for f in TSHARK_FIELDS for a in ("-e", f)],
    }
    return {name: cmds[name] for name in tools}


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def count_lines(cmd):
    """Lines cmd writes, counted as they come (the benchmark's own memory stays small)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = 0
    while True:
        chunk = proc.stdout.read(1 << 20)
        if not chunk:
            break
        n += chunk.count(b"\n")
    if proc.wait():
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return n


def time_rounds(cmds, rounds):
    """Wall times per tool, the tools alternating within each round."""
    times = {name: [] for name in cmds}
    for _ in range(rounds):
        for name, cmd in cmds.items():
            times[name].append(wall(cmd))
    return times


def offline(rounds, requests):
    pcap = capture_for(requests)
    cmds = offline_commands(pcap, ["httpeek", "httpry", "tshark"])
    times = time_rounds(cmds, rounds)
    msgs = {name: count_lines(cmd) for name, cmd in cmds.items()}
    packets = count_lines(["tcpdump", "-nr", pcap, "-q"])
    print(f"\n## offline: {os.path.basename(pcap)}, {packets} packets, "
          f"{rounds} alternating rounds\n")
    print(f"{'tool':10} {'median s':>9} {'min s':>8} {'max s':>8} {'messages':>9}")
    for name in cmds:
        t = times[name]
        print(f"{name:10} {med(t):9.3f} {min(t):8.3f} {max(t):8.3f} {msgs[name]:9d}")
    result = {"messages": msgs}
    for other in cmds:
        if other == "httpeek":
            continue
        ratio = med([a / b for a, b in zip(times["httpeek"], times[other])])
        result[other] = ratio
        print(f"ratio httpeek/{other}: median {ratio:.3f} (1/{1 / ratio:.1f})")
    return result


def offline_scaling(rounds, sizes):
    print(f"\n## scaling, offline: httpeek -r, {rounds} rounds each\n")
    print(f"{'messages':>9} {'packets':>9} {'median s':>9} {'messages/s':>11} {'us/message':>11}")
    for requests in sizes:
        pcap = capture_for(requests)
        t = time_rounds(offline_commands(pcap, ["httpeek"]), rounds)["httpeek"]
        out = subprocess.run([HTTPEEK, "-r", pcap], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, check=True, text=True).stderr
        s = summary(out)
        m = med(t)
        print(f"{s['messages']:9d} {s['packets']:9d} {m:9.3f} {s['messages'] / m:11.0f} "
              f"{m / s['messages'] * 1e6:11.3f}")


# --- live ---

class Nginx:
    """nginx from scripts/nginx-conf.sh, one worker, plus a stub_status location."""

    def __init__(self, d, port, tls=False, h2=False):
        self.dir = d
        self.port = port
        self.scheme = "https" if tls else "http"
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "nginx-conf.sh"), d,
                        f"127.0.0.1:{port}" + (" ssl" if tls else "") + (" http2" if h2 else "")],
                       check=True)
        conf = os.path.join(d, "nginx.conf")
        with open(conf) as f:
            text = f.read()
        text = text.replace("location / { }", "location / { }\n\t\tlocation = /bench-status "
                            "{ stub_status; }")
        self.status_port = port + 1 if h2 else port  # HTTP/1.1 for the status page
        if h2:
            text = text.replace("root ", f"listen 127.0.0.1:{self.status_port};\n\t\troot ")
        if tls:
            key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                            "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                           check=True, capture_output=True)
            text = text.replace("location / { }", f"ssl_certificate {cert};\n\t\t"
                                f"ssl_certificate_key {key};\n\t\tlocation / {{ }}")
        with open(conf, "w") as f:
            f.write(text)
        subprocess.run(["nginx", "-c", conf, "-p", d], check=True)
        time.sleep(0.2)

    def requests(self):
        """nginx's request counter (this status request included)."""
        url = f"{self.scheme}://127.0.0.1:{self.status_port}/bench-status"
        text = urllib.request.urlopen(url, timeout=5, context=UNVERIFIED).read().decode()
        return int(text.split("\n")[2].split()[2])

    def stop(self):
        try:
            with open(os.path.join(self.dir, "nginx.pid")) as f:
                os.kill(int(f.read()), signal.SIGQUIT)
        except (OSError, ValueError):
            pass
        time.sleep(0.3)


def h2load(port, conns, secs):
    """h2load, HTTP/2 with prior knowledge, 10 streams per connection: requests per second."""
    out = subprocess.run(["h2load", "-c", str(conns), "-m", "10", "-D", str(secs),
                          f"http://127.0.0.1:{port}/index.html"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))


def wrk(port, conns, secs, scheme="http"):
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{secs}s",
                          f"{scheme}://127.0.0.1:{port}/index.html"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps


def summary(text):
    """Counters of httpeek's closing summary line on stderr, and the messages it says it
    missed (live: heads in dropped copies and heads due where bytes were lost)."""
    line = [l for l in text.splitlines() if re.match(r"httpeek: \d+ packets", l)][-1]
    out = {"packets": int(re.search(r"(\d+) packets", line).group(1))}
    for name in SUMMARY_FIELDS:
        m = re.search(r"(\d+) " + name, line)
        out[name] = int(m.group(1)) if m else 0
    m = re.search(r"messages missed: (\d+) .*; (\d+) times", text)
    out["missed"] = int(m.group(1)) + int(m.group(2)) if m else 0
    m = re.search(r"HTTP/2: \d+ connections .*?, (\d+) not decoded", text)
    out["h2 not decoded"] = int(m.group(1)) if m else 0
    return out


def bpf_map_rss_kib(pid):
    """RSS of the process's BPF map mappings (the ring buffer, mapped twice; .bss)."""
    total, in_map = 0, False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                in_map = "anon_inode:bpf-map" in line
            elif in_map and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


def wait_ready(proc):
    """httpeek is attached once it has dropped its privileges (NoNewPrivs set)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("httpeek exited during set-up")
        with open(f"/proc/{proc.pid}/status") as f:
            if "NoNewPrivs:\t1" in f.read():
                return
        time.sleep(0.02)
    raise RuntimeError("httpeek did not become ready")


def traced_round(nginx, conns, secs, errf, binary=HTTPEEK, args=("-e", "net_packet_http"),
                 load=None):
    """One wrk run (load: another load, (port, conns, secs) -> req/s) with httpeek tracing
    (args: its options); with --metrics, /metrics is scraped every second meanwhile, and once
    more at the end for the count of exchanges."""
    before = nginx.requests()
    errf.seek(0)
    errf.truncate()
    proc = subprocess.Popen([binary, *args, *LIVE_ARGS], stdout=subprocess.DEVNULL,
                            stderr=errf)
    scraper = None
    try:
        wait_ready(proc)
        if "--metrics" in args:
            scraper = Scraper(errf)
        cpu0 = cpu_seconds(proc.pid)
        rps = load(nginx.port, conns, secs) if load else wrk(nginx.port, conns, secs,
                                                             nginx.scheme)
        time.sleep(0.3)  # records are collected at least every 50 ms
        counted = scraper.stop() if scraper else None
        cpu = cpu_seconds(proc.pid) - cpu0
        rss_kib = peak_rss_kib(proc.pid)
        map_kib = bpf_map_rss_kib(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    requests = nginx.requests() - before - 1
    errf.seek(0)
    s = summary(errf.read())
    return {"rps": rps, "cpu": cpu, "requests": requests, "rss_kib": rss_kib, "map_kib": map_kib,
            "total_cpu": usage.ru_utime + usage.ru_stime, "counted": counted,
            "scrapes": scraper.scrapes if scraper else 0, **s}


class Scraper:
    """GET /metrics every second from a thread, like a Prometheus with scrape_interval 1s."""

    def __init__(self, errf):
        errf.seek(0)
        self.url = re.search(r"metrics at (http://\S+)", errf.read()).group(1)
        self.scrapes = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def scrape(self):
        self.scrapes += 1
        return urllib.request.urlopen(self.url, timeout=10).read().decode()

    def run(self):
        while not self.done.wait(1.0):
            self.scrape()

    def stop(self):
        """Stops scraping; the server-side exchanges of wrk's URL in a last scrape."""
        self.done.set()
        self.thread.join()
        text = self.scrape()
        return sum(int(v) for v in re.findall(
            r'^http_server_request_duration_seconds_count\{[^}]*http_route="/index.html"'
            r'[^}]*\} (\d+)$', text, re.M))


TLS_MODES = [
    ("traced", ["-e", "net_packet_http"]),
    ("no-tls", ["-e", "net_packet_http", "--no-tls"]),
]
METRICS_MODES = [
    ("events only", ["-e", "net_packet_http"]),
    ("events + metrics", ["-e", "net_packet_http", "--metrics", "127.0.0.1:0"]),
    ("metrics only", ["-e", "none", "--metrics", "127.0.0.1:0"]),
]


def run_cpu(cmd):
    """(wall seconds, CPU seconds) of one run of cmd, its output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def metrics_offline(rounds, requests):
    """httpeek -r on the wrk capture: events only, events + --metrics-file and -e none
    --metrics-file, alternating within each round."""
    pcap = capture_for(requests)
    with tempfile.TemporaryDirectory() as d:
        prom = os.path.join(d, "run.prom")
        modes = [("events only", [HTTPEEK, "-r", pcap]),
                 ("events + metrics", [HTTPEEK, "-r", pcap, "--metrics-file", prom]),
                 ("metrics only", [HTTPEEK, "-r", pcap, "-e", "none", "--metrics-file", prom])]
        runs = {name: [] for name, _ in modes}
        for _ in range(rounds):
            for name, cmd in modes:
                runs[name].append(run_cpu(cmd))
        with open(prom) as f:
            counted = sum(int(v) for v in re.findall(
                r"^http_server_request_duration_seconds_count\{[^}]*\} (\d+)$", f.read(), re.M))
    print(f"\n## metrics, offline: httpeek -r {os.path.basename(pcap)} ({counted} exchanges "
          f"counted), {rounds} alternating rounds\n")
    print(f"{'httpeek -r':18} {'median s':>9} {'cpu ms/1k exch':>14} {'cpu vs events':>13}")
    base = runs["events only"]
    for name, _ in modes:
        r = runs[name]
        print(f"{name:18} {med([w for w, _ in r]):9.3f} "
              f"{med([c for _, c in r]) / counted * 1e6:14.3f} "
              f"{med([c / b[1] for (_, c), b in zip(r, base)]):13.3f}")


def mode_rounds(nginx, conns, secs, rounds, errf, modes):
    """A warm-up, then per round an untraced wrk run and a traced one per (name, args) mode:
    the untraced req/s and each mode's traced rounds."""
    wrk(nginx.port, conns, 1, nginx.scheme)
    plain, runs = [], {name: [] for name, _ in modes}
    for _ in range(rounds):
        plain.append(wrk(nginx.port, conns, secs, nginx.scheme))
        for name, args in modes:
            binary = BASE if name.startswith("base ") else HTTPEEK
            runs[name].append(traced_round(nginx, conns, secs, errf, binary, args=args))
            if nginx.scheme == "https":
                time.sleep(bench_sslcall.SETTLE_S)  # see SETTLE_S
    return plain, runs


def metrics_cost(rounds, conns, secs):
    """--metrics next to events only: alternating rounds of the live workload per mode."""
    with tempfile.TemporaryDirectory() as d, open(os.path.join(d, "httpeek.err"), "w+") as errf:
        nginx = Nginx(d, LIVE_PORT)
        try:
            modes = METRICS_MODES + ([("base " + n, a) for n, a in METRICS_MODES[:2]]
                                     if BASE else [])
            plain, runs = mode_rounds(nginx, conns, secs, rounds, errf, modes)
        finally:
            nginx.stop()
    print(f"\n## metrics: nginx (1 worker) on loopback, wrk -t1 -c{conns} -d{secs}s, {rounds} "
          f"alternating rounds; /metrics scraped every second\n")
    print(f"{'httpeek':18} {'ratio':>6} {'cpu ms/1k':>9} {'RSS MiB':>8} {'ev/req':>7} "
          f"{'counted/req':>11} {'scrapes':>7} {'drops':>6}")
    for name in runs:
        r = runs[name]
        req = sum(t["requests"] for t in r)
        counted = (f"{sum(t['counted'] for t in r) / req:11.4f}" if r[0]["counted"] is not None
                   else f"{'-':>11}")
        print(f"{name:18} {med([t['rps'] / p for p, t in zip(plain, r)]):6.3f} "
              f"{med([t['cpu'] / t['requests'] * 1e6 for t in r]):9.3f} "
              f"{max(t['rss_kib'] for t in r) / 1024:8.1f} "
              f"{sum(t['events'] for t in r) / req:7.4f} {counted} "
              f"{sum(t['scrapes'] for t in r):7d} {sum(t['kernel drops'] for t in r):6d}")
    def paired(name, over):
        return med([t["cpu"] / t["requests"] / (b["cpu"] / b["requests"])
                    for t, b in zip(runs[name], runs[over])])
    for name, _ in METRICS_MODES[1:]:
        print(f"paired cpu ratio {name} / events only: {paired(name, 'events only'):.3f}")
    if BASE:
        print(f"{build_name(BASE)} (base): paired cpu ratio events + metrics / events only: "
              f"{paired('base events + metrics', 'base events only'):.3f}")
    print("(ratio: traced/untraced throughput, median of rounds; counted/req: server-side "
          "exchanges of /index.html in the last scrape per request nginx counted)")


def bpf_prog_stats(pid):
    """run_time_ns and run_cnt of process pid's httpeek_* and tls_* programs
    (kernel.bpf_stats_enabled); other httpeek instances on the host are left out."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    ids = bench_host.prog_ids(pid)
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out)
            if p.get("name", "").startswith(("httpeek_", "tls_")) and p["id"] in ids}


def bpf_round(nginx, conns, secs, errf, binary):
    """One traced round with BPF run-time statistics on (they cost a little themselves):
    {program: (ns, runs)} and the requests nginx served."""
    knob = "/proc/sys/kernel/bpf_stats_enabled"
    with open(knob) as f:
        old = f.read().strip()
    with open(knob, "w") as f:
        f.write("1")
    errf.seek(0)
    errf.truncate()
    before = nginx.requests()
    proc = subprocess.Popen([binary, "-e", "net_packet_http", *LIVE_ARGS], stdout=subprocess.DEVNULL,
                            stderr=errf)
    try:
        wait_ready(proc)
        wrk(nginx.port, conns, secs)
        stats = bpf_prog_stats(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        with open(knob, "w") as f:
            f.write(old)
    return stats, nginx.requests() - before - 1


def bpf_profile(nginx, conns, secs, errf, rounds):
    """Kernel CPU per request of each program, this build and the base build (HTTPEEK_BASE) in
    alternating rounds: medians, and the paired ratio of the totals."""
    builds = [("this", HTTPEEK)] + ([("base", BASE)] if BASE else [])
    runs = {name: [] for name, _ in builds}
    for _ in range(rounds):
        for name, binary in builds:
            runs[name].append(bpf_round(nginx, conns, secs, errf, binary))
    lines, totals, tls_part = [], {}, {}
    for name, binary in builds:
        r = runs[name]
        lines.append(f"BPF programs of {build_name(binary)} ({len(r)} rounds with "
                     f"kernel.bpf_stats_enabled, {sum(q for _, q in r)} requests; medians):")
        progs = sorted({p for stats, _ in r for p in stats})
        for p in progs:
            per = [(stats.get(p, (0, 0)), q) for stats, q in r]
            runs_per = med([c / q for (_, c), q in per])
            if not runs_per:
                continue
            ns_run = med([ns / c for (ns, c), _ in per if c])
            lines.append(f"  {p:16} {runs_per:5.2f} runs/request {ns_run:7.0f} ns/run "
                         f"{med([ns / q / 1000 for (ns, _), q in per]):6.3f} us/request")
        totals[name] = [sum(ns for ns, _ in stats.values()) / q / 1000 for stats, q in r]
        tls_part[name] = [sum(ns for p, (ns, _) in stats.items() if p.startswith("tls_")) / q
                          for stats, q in r]
        lines.append(f"  all programs: {med(totals[name]):.3f} us of kernel CPU per request, "
                     f"the TLS programs (tls_*, on cleartext) {med(tls_part[name]):.0f} ns")
    if BASE:
        paired = med([t / b for t, b in zip(totals["this"], totals["base"])])
        tls = [t / b for t, b in zip(tls_part["this"], tls_part["base"]) if b]
        lines.append(f"paired kernel cost ratio this/base: {paired:.3f}; TLS programs alone: "
                     + (f"{med(tls):.3f}" if tls else "none ran on cleartext in the base"))
    return "\n".join(lines)


def live(rounds, conns, secs, verbose=True):
    """Alternating untraced and traced rounds against one nginx; returns the figures (and
    prints the base build's beside them with HTTPEEK_BASE)."""
    with tempfile.TemporaryDirectory() as d, open(os.path.join(d, "httpeek.err"), "w+") as errf:
        nginx = Nginx(d, LIVE_PORT)
        try:
            wrk(nginx.port, conns, 1)  # warm-up
            plain, traced, base, dump = [], [], [], []
            for _ in range(rounds):
                plain.append(wrk(nginx.port, conns, secs))
                traced.append(traced_round(nginx, conns, secs, errf))
                if BASE:
                    base.append(traced_round(nginx, conns, secs, errf, BASE))
                dump.append(bench_host.tcpdump_round(wrk, nginx.port, conns, secs,
                                                     nginx.requests))
            profile = bpf_profile(nginx, conns, secs, errf, rounds) if verbose else ""
        finally:
            nginx.stop()
    if verbose:
        print_base(plain, traced, base, dump)
    ratio = med([t["rps"] / p for p, t in zip(plain, traced)])
    req = sum(t["requests"] for t in traced)
    res = {
        "conns": conns, "ratio": ratio, "plain_rps": med(plain),
        "traced_rps": med([t["rps"] for t in traced]),
        "cpu_ms_per_1000": med([t["cpu"] / t["requests"] * 1e6 for t in traced]),
        "rss_mib": max(t["rss_kib"] for t in traced) / 1024,
        "map_mib": max(t["map_kib"] for t in traced) / 1024,
        "events_per_request": sum(t["events"] for t in traced) / req,
        "events": sum(t["events"] for t in traced), "requests": req,
        "drops": sum(t["kernel drops"] for t in traced),
        "unknown": sum(t["unknown owners"] for t in traced),
        "missed": sum(t["missed"] for t in traced),
        "records_per_request": sum(t["ring-buffer records"] for t in traced) / req,
        "total_cpu": med([t["total_cpu"] for t in traced]),
    }
    if verbose:
        print(f"\n## live: nginx (1 worker) on loopback, wrk -t1 -c{conns} -d{secs}s, "
              f"{rounds} alternating rounds\n")
        print(f"{'round':>5} {'untraced req/s':>15} {'traced req/s':>13} {'ratio':>6} "
              f"{'requests':>9} {'events':>9} {'ev/req':>7} {'cpu ms/1k':>9} {'drops':>6}")
        for i, (p, t) in enumerate(zip(plain, traced)):
            print(f"{i + 1:5d} {p:15.0f} {t['rps']:13.0f} {t['rps'] / p:6.3f} "
                  f"{t['requests']:9d} {t['events']:9d} {t['events'] / t['requests']:7.4f} "
                  f"{t['cpu'] / t['requests'] * 1e6:9.3f} {t['kernel drops']:6d}")
        print(f"median throughput ratio traced/untraced: {ratio:.3f}")
        print(f"httpeek CPU during load: median {res['cpu_ms_per_1000']:.3f} ms per 1000 "
              f"requests (whole run incl. BPF load: median {res['total_cpu']:.2f} s)")
        print(f"httpeek peak RSS: {res['rss_mib']:.1f} MiB, of which {res['map_mib']:.1f} MiB "
              f"BPF map mappings (the ring buffer's pages are mapped twice)")
        print(f"events per request: {res['events_per_request']:.4f} ({res['events']} events, "
              f"{req} requests counted by nginx); ring-buffer records per request: "
              f"{res['records_per_request']:.3f}")
        print(f"kernel drops: {res['drops']}, events with unknown owner: {res['unknown']}, "
              f"messages httpeek says it missed: {res['missed']}")
        print(profile)
    return res


def kernel_floor(rounds, secs, conns=16):
    """The floor part (scripts/bench_floor.py) against one nginx."""
    with tempfile.TemporaryDirectory() as d, open(os.path.join(d, "httpeek.err"), "w+") as errf:
        nginx = Nginx(d, LIVE_PORT)
        try:
            wrk(nginx.port, conns, 1)  # warm-up
            bench_floor.floor(rounds, nginx, lambda: wrk(nginx.port, conns, secs),
                              lambda: bpf_round(nginx, conns, secs, errf, HTTPEEK))
        finally:
            nginx.stop()


def tls(rounds, conns, secs):
    """HTTPS: untraced, traced (TLS read from OpenSSL) and traced with --no-tls rounds."""
    with tempfile.TemporaryDirectory() as d, open(os.path.join(d, "httpeek.err"), "w+") as errf:
        nginx = Nginx(d, TLS_PORT, tls=True)
        try:
            modes = TLS_MODES + ([("base traced", TLS_MODES[0][1])] if BASE else [])
            plain, runs = mode_rounds(nginx, conns, secs, rounds, errf, modes)
        finally:
            nginx.stop()
    print(f"\n## tls: nginx (1 worker, TLS) on loopback, wrk -t1 -c{conns} -d{secs}s https, "
          f"{rounds} alternating rounds\n")
    print(f"{'build':>11} {'req/s':>8} {'ratio':>6} {'cpu ms/1k':>9} {'ev/req':>7} "
          f"{'drops':>6} {'missed':>6}")
    print(f"{'untraced':>11} {med(plain):8.0f}")
    for name, rs in runs.items():
        print(build_row(name, rs, plain, 11))
    print("(traced: every request and response at both ends, read from OpenSSL calls; "
          "no-tls: the cleartext programs alone, which see only encrypted bytes"
          + (f"; base traced: {build_name(BASE)})" if BASE else ")"))
    if BASE:
        print(f"paired throughput ratio traced/base traced: "
              f"{med([t['rps'] / b['rps'] for t, b in zip(runs['traced'], runs['base traced'])]):.3f}")


def build_row(name, rs, plain, width):
    """One build's row of the tls and h2 tables: req/s, ratio to untraced, CPU, events, losses."""
    req = sum(t["requests"] for t in rs)
    return (f"{name:>{width}} {med([t['rps'] for t in rs]):8.0f} "
            f"{med([t['rps'] / p for p, t in zip(plain, rs)]):6.3f} "
            f"{med([t['cpu'] / t['requests'] * 1e6 for t in rs]):9.3f} "
            f"{sum(t['events'] for t in rs) / req:7.4f} "
            f"{sum(t['kernel drops'] for t in rs):6d} {sum(t['missed'] for t in rs):6d}")


def h2(rounds, conns, secs):
    """HTTP/2: untraced, traced and (HTTPEEK_BASE) base-traced h2load rounds, alternating."""
    builds = [("this", HTTPEEK)] + ([("base", BASE)] if BASE else [])
    with tempfile.TemporaryDirectory() as d, open(os.path.join(d, "httpeek.err"), "w+") as errf:
        nginx = Nginx(d, H2_PORT, h2=True)
        try:
            h2load(nginx.port, conns, 1)  # warm-up
            plain, runs = [], {name: [] for name, _ in builds}
            for _ in range(rounds):
                plain.append(h2load(nginx.port, conns, secs))
                for name, binary in builds:
                    runs[name].append(traced_round(nginx, conns, secs, errf, binary,
                                                   load=h2load))
        finally:
            nginx.stop()
    print(f"\n## h2: nginx (1 worker, http2 cleartext) on loopback, h2load -c{conns} -m10 "
          f"-D{secs}, {rounds} alternating rounds\n")
    print(f"{'build':>8} {'req/s':>8} {'ratio':>6} {'cpu ms/1k':>9} {'ev/req':>7} "
          f"{'drops':>6} {'missed':>6} {'h2 not decoded':>14}")
    print(f"{'untraced':>8} {med(plain):8.0f}")
    for name, rs in runs.items():
        print(build_row(name, rs, plain, 8) + f" {sum(t['h2 not decoded'] for t in rs):14d}")
    print("(ev/req: 4 when each request and response is reported at both ends; the base build "
          "before HTTP/2 support reports none)")


def print_base(plain, traced, base, dump):
    """The base build's rounds (HTTPEEK_BASE) and tcpdump's beside this build's."""
    def fig(rounds):
        return (med([t["rps"] / p for p, t in zip(plain, rounds)]),
                med([t["cpu"] / t["requests"] * 1e6 for t in rounds]),
                sum(t["events"] for t in rounds) / sum(t["requests"] for t in rounds),
                sum(t["ring-buffer records"] for t in rounds) / sum(t["requests"] for t in rounds))
    other = f"{build_name(BASE)} and " if BASE else ""
    print(f"\n## live, side by side with {other}tcpdump -i lo -w /dev/null (same rounds, "
          f"alternating)\n")
    print(f"{'build':>7} {'ratio':>6} {'cpu ms/1k':>9} {'ev/req':>7} {'records/req':>11}")
    for name, rounds in (("this", traced), ("base", base)):
        if rounds:
            r = fig(rounds)
            print(f"{name:>7} {r[0]:6.3f} {r[1]:9.3f} {r[2]:7.4f} {r[3]:11.3f}")
    print(f"{'tcpdump':>7} {med([t['rps'] / p for p, t in zip(plain, dump)]):6.3f} "
          f"{med([t['cpu'] / t['requests'] * 1e6 for t in dump]):9.3f}")
    if base:
        print(f"paired cpu ratio this/base: "
              f"{med([t['cpu'] / t['requests'] / (b['cpu'] / b['requests']) for t, b in zip(traced, base)]):.3f}")
    print(f"paired throughput ratio this/tcpdump: "
          f"{med([t['rps'] / d['rps'] for t, d in zip(traced, dump)]):.3f}")


# A process that loads a library file and says when it has (CLOCK_MONOTONIC, as Python's).
LOAD_LIB = """
import ctypes, sys, time
ctypes.CDLL(sys.argv[1])
print(time.monotonic_ns(), flush=True)
time.sleep(float(sys.argv[2]))
"""


def attach_round(binary, rounds):
    """httpeek -v; a new copy of libssl.so.3 loaded per round: ms from the load's return to
    httpeek's line naming the copy (negative: attached before the load returned)."""
    lib = next(p for p in ("/usr/lib/x86_64-linux-gnu/libssl.so.3",
                           "/usr/lib/aarch64-linux-gnu/libssl.so.3", "/usr/lib64/libssl.so.3")
               if os.path.exists(p))
    seen, loaded, lat = {}, [], []
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        proc = subprocess.Popen([binary, "-v", "-e", "net_flow_http", *LIVE_ARGS],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        def read():
            for line in proc.stderr:
                m = re.search(r"tls: attached to \S*/(copy\d+)/libssl.so.3", line)
                if m:
                    seen.setdefault(m.group(1), time.monotonic_ns())
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            wait_ready(proc)
            time.sleep(1)
            for i in range(rounds):
                os.makedirs(f"{d}/copy{i}", mode=0o755)
                subprocess.run(["cp", lib, f"{d}/copy{i}/libssl.so.3"], check=True)
                out = subprocess.run(["/usr/bin/python3", "-c", LOAD_LIB,
                                      f"{d}/copy{i}/libssl.so.3", "1"],
                                     capture_output=True, text=True, check=True).stdout
                loaded.append(int(out.split()[0]))
            time.sleep(2)  # late attaches count, with their delay
            lat = [(seen[f"copy{i}"] - t) / 1e6 if f"copy{i}" in seen else None
                   for i, t in enumerate(loaded)]
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait()
    return lat


def attach(rounds):
    """Attach latency of a new library copy, this build and the base build (HTTPEEK_BASE)."""
    print(f"\n## attach: a new copy of libssl.so.3 loaded by a process (ctypes), {rounds} copies "
          f"per build; ms from the load's return to httpeek's -v line naming it\n")
    for name, binary in [("this", HTTPEEK)] + ([("base", BASE)] if BASE else []):
        lat = attach_round(binary, rounds)
        got = sorted(x for x in lat if x is not None)
        print(f"{name:>5} ({build_name(binary)}): attached {len(got)} of {len(lat)}; median "
              f"{med(got) if got else float('nan'):.1f} ms, min {got[0] if got else 0:.1f}, "
              f"max {got[-1] if got else 0:.1f}")


def varied_round(binary, seed):
    """One differential run (one seed, no extremes) with binary; its cost and misses."""
    env = dict(os.environ, HTTPEEK=binary, DIFF_SEEDS=str(seed), DIFF_EXTREMES="0")
    out = subprocess.run(["bash", os.path.join(ROOT, "tests", "live", "diff", "run.sh")],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True).stdout
    block = out[out.index(f"seed {seed}"):] if f"seed {seed}" in out else out
    cost = re.findall(r"cost: (\d+) messages, httpeek CPU ([\d.]+) ms per 1000 messages, "
                      r"(\d+) ring-buffer bytes", out)[-1]
    miss = re.search(rf"seed {seed} egress (?:ok|FAIL missing (\d+) extra \d+ of (\d+))", block)
    total = re.search(r"of (\d+)", block)
    return {"messages": int(cost[0]), "cpu": float(cost[1]), "bytes": int(cost[2]),
            "missing": int(miss.group(1)) if miss and miss.group(1) else 0,
            "recorded": int(total.group(1)) if total else int(cost[0])}


def varied(rounds, seed=1):
    builds = [("this", HTTPEEK)] + ([("base", BASE)] if BASE else [])
    runs = {name: [] for name, _ in builds}
    for _ in range(rounds):
        for name, binary in builds:
            runs[name].append(varied_round(binary, seed))
    print(f"\n## varied traffic (tests/live/diff seed {seed}, veth and loopback), "
          f"{rounds} alternating rounds\n")
    print(f"{'build':>6} {'messages':>9} {'missed':>7} {'cpu ms/1k msgs':>14} "
          f"{'ring bytes/msg':>14}")
    for name, _ in builds:
        r = runs[name]
        print(f"{name:>6} {med([x['messages'] for x in r]):9.0f} "
              f"{med([x['missing'] for x in r]):7.0f} {med([x['cpu'] for x in r]):14.2f} "
              f"{med([x['bytes'] for x in r]):14.0f}")
    print("(messages: reported live per end; missed: in the recording but not reported live; "
          "cpu includes the 1 s drain wait at the end of each run)")


def live_scaling(rounds, secs, conns_list, known):
    print(f"\n## scaling, live: wrk -t1 -d{secs}s, {rounds} alternating rounds each\n")
    print(f"{'conns':>5} {'untraced req/s':>15} {'traced req/s':>13} {'ratio':>6} "
          f"{'cpu ms/1k':>9} {'ev/req':>7} {'drops':>6} {'RSS MiB':>8}")
    for c in conns_list:
        r = known.get(c) or live(rounds, c, secs, verbose=False)
        print(f"{c:5d} {r['plain_rps']:15.0f} {r['traced_rps']:13.0f} {r['ratio']:6.3f} "
              f"{r['cpu_ms_per_1000']:9.3f} {r['events_per_request']:7.4f} {r['drops']:6d} "
              f"{r['rss_mib']:8.1f}")


def verdicts(off, lv):
    print("\n## targets\n")
    rows = []
    if off:
        m = off["messages"]
        rows += [
            ("offline wall time <= 0.33 of httpry's", f"{off['httpry']:.3f}",
             off["httpry"] <= 0.33),
            ("offline messages >= httpry's", f"{m['httpeek']} vs {m['httpry']}",
             m["httpeek"] >= m["httpry"]),
            ("offline wall time <= 1/40 of tshark's", f"1/{1 / off['tshark']:.1f}",
             off["tshark"] <= 1 / 40),
        ]
    if lv:
        rows += [
            ("live throughput >= 0.93 of untraced", f"{lv['ratio']:.3f}", lv["ratio"] >= 0.93),
            ("exactly 4 events per request", f"{lv['events_per_request']:.4f}",
             lv["events"] == 4 * lv["requests"]),
            ("zero kernel drops", str(lv["drops"]), lv["drops"] == 0),
            ("zero lost events (unknown owner, messages missed)",
             f"{lv['unknown']}, {lv['missed']}", lv["unknown"] == 0 and lv["missed"] == 0),
            ("httpeek CPU <= 2 ms per 1000 requests", f"{lv['cpu_ms_per_1000']:.3f}",
             lv["cpu_ms_per_1000"] <= 2),
            ("peak RSS < 64 MiB", f"{lv['rss_mib']:.1f}", lv["rss_mib"] < 64),
        ]
    for name, fig, ok in rows:
        print(f"{'met    ' if ok else 'NOT met'} {name}: {fig}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("--requests", type=int, default=75000,
                    help="wrk requests in the offline capture (default 75000)")
    ap.add_argument("--live-seconds", type=int, default=3, help="wrk seconds per live round")
    ap.add_argument("--quick", action="store_true",
                    help="3 rounds, 2 s live rounds, scaling without the 1M capture")
    ap.add_argument("parts", nargs="*", help="offline, live, scaling, tls, varied, metrics, "
                    "attach, bulk, idle, h2, sslcall, floor (default: all)")
    args = ap.parse_args()
    names = ["offline", "live", "scaling", "tls", "varied", "metrics", "attach", "bulk", "idle",
             "h2", "sslcall", "floor"]
    parts = args.parts or names
    if set(parts) - set(names):
        ap.error("parts are " + ", ".join(names))
    rounds, secs, sizes = args.rounds, args.live_seconds, [5000, 50000, 500000]
    if args.quick:
        rounds, secs, sizes = min(rounds, 3), 2, [5000, 50000]
    live_ok = os.geteuid() == 0
    print(f"# httpeek benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs, kernel {os.uname().release}")
    off = lv = None
    if "offline" in parts:
        off = offline(rounds, args.requests)
    known = {}
    if ("live" in parts or "scaling" in parts) and not live_ok:
        print("\nlive: skipped (needs root)")
    elif "live" in parts:
        lv = live(rounds, 16, secs)
        known[16] = lv
    if "scaling" in parts:
        offline_scaling(rounds, sizes)
        if live_ok:
            live_scaling(rounds, secs, [1, 16, 64], known)
    if "tls" in parts and live_ok:
        tls(rounds, 16, secs)
    if "varied" in parts and live_ok:
        varied(min(rounds, 3))
    if "h2" in parts and live_ok:
        h2(rounds, 16, secs)
    if "floor" in parts and live_ok:
        kernel_floor(rounds, secs)
    if "sslcall" in parts and live_ok:
        bench_sslcall.sslcall(rounds, HTTPEEK, BASE, build_name)
    if "metrics" in parts:
        if live_ok:
            metrics_cost(rounds, 16, secs)
        metrics_offline(rounds, args.requests)
    if "attach" in parts and live_ok:
        attach(max(rounds, 5))
    if "bulk" in parts and live_ok:
        bench_host.bulk(rounds, HTTPEEK, BASE)
    if "idle" in parts and live_ok:
        with tempfile.TemporaryDirectory() as d:
            nginx = Nginx(d, LIVE_PORT)
            try:
                bench_host.idle(rounds, nginx.port, HTTPEEK, BASE)
            finally:
                nginx.stop()
    verdicts(off, lv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
