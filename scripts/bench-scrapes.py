#!/usr/bin/env python3
"""What scrapes cost httpeek: httpeek -r - -e none --metrics reads a capture of exchanges on
2,000 routes (tests/offline/metrics/make_exchanges.py; one connection, so the exposition is
whole, 6 MB, from the 2,000th exchange on) from a pipe, alone and with four `curl` loops
pulling /metrics; then the loops go on for --seconds while httpeek only serves. Per build, rounds alternating between the builds and the two modes:

  read s      time to read the capture (pipe opened to "capture read")
  read CPU s  httpeek's CPU for that read
  serve CPU   httpeek's CPU in the --seconds of serving after the read, and the scrapes served
  ms/scrape   that CPU per scrape

--lock (root, bpftrace) then measures, with uprobes on libc's pthread_mutex_lock/unlock of one
httpeek per build reading with the four loops, how long the endpoint's thread holds the
metrics' lock per render, and how often and how long the packet pipeline (the main thread)
waits for it while the endpoint holds it (uprobes slow every lock: absolute times are high).

Usage: bench-scrapes.py [--base OLD] [--rounds N] [--exchanges N] [--seconds S] [--lock]
[NEW] (NEW: ./httpeek). The capture is made once in build/bench/."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "offline", "metrics"))
from make_exchanges import paths_capture  # noqa: E402

BUILD = os.path.join(ROOT, "build", "bench")
CLK_TCK = os.sysconf("SC_CLK_TCK")
LOOPS = 4
LIBC_RE = re.compile(r"\s(/\S*/libc\.so\.6)$")

LOCK_SCRIPT = r"""
uprobe:LIBC:pthread_mutex_lock /pid == PID/ { @asked[tid] = nsecs; @met[tid] = @busy; }
uretprobe:LIBC:pthread_mutex_lock /pid == PID && @asked[tid]/ {
	if (tid != pid) { @busy = 1; @got = nsecs; }
	else if (@met[tid]) { @wait_us = hist((nsecs - @asked[tid]) / 1000); @waits = count();
		@wait_max_us = max((nsecs - @asked[tid]) / 1000);
		@wait_total_us = sum((nsecs - @asked[tid]) / 1000); }
	delete(@asked[tid]); delete(@met[tid]);
}
uprobe:LIBC:pthread_mutex_unlock /pid == PID && tid != pid && @busy/ {
	@hold_us = hist((nsecs - @got) / 1000); @holds = count();
	@hold_max_us = max((nsecs - @got) / 1000);
	@hold_total_us = sum((nsecs - @got) / 1000);
	@busy = 0;
}
END { clear(@asked); clear(@met); clear(@busy); clear(@got); }
"""


def capture(exchanges):
    """One keep-alive connection: every route is there after 2,000 exchanges, so each render
    during the read is of the whole exposition."""
    path = os.path.join(BUILD, f"routes-2000-{exchanges}-1conn.pcap")
    if not os.path.exists(path):
        os.makedirs(BUILD, exist_ok=True)
        print(f"writing {path} ...", file=sys.stderr, flush=True)
        paths_capture(path + ".tmp", 2000, exchanges, conns=1)
        os.rename(path + ".tmp", path)
    return path


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Loops:
    """LOOPS threads, each running curl on url again and again; counts the scrapes."""

    def __init__(self, url):
        self.url, self.n, self.failed = url + "/metrics", 0, 0
        self.halt = threading.Event()
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(LOOPS)]
        for t in self.threads:
            t.start()

    def loop(self):
        while not self.halt.is_set():
            rc = subprocess.run(["curl", "-sf", "-o", "/dev/null", self.url]).returncode
            self.n += rc == 0
            self.failed += rc != 0

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join()


def start(binary):
    """httpeek reading a pipe: (process, endpoint URL) once its endpoint listens."""
    proc = subprocess.Popen([binary, "-r", "-", "-e", "none", "--metrics", "127.0.0.1:0"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    for line in proc.stderr:
        m = re.search(rb"metrics at (http://\S+)/metrics", line)
        if m:
            return proc, m.group(1).decode()
    raise RuntimeError(f"{binary} did not start its endpoint")


def feed(proc, pcap):
    """Writes the capture into httpeek's pipe from a thread; returns it."""
    def run():
        with open(pcap, "rb") as f:
            shutil.copyfileobj(f, proc.stdin, 1 << 20)
        proc.stdin.close()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def wait_read(proc):
    for line in proc.stderr:
        if b"capture read" in line:
            return
    raise RuntimeError("httpeek ended before reading the capture")


def one_round(binary, pcap, scrape, seconds):
    proc, url = start(binary)
    loops = Loops(url) if scrape else None
    t0 = time.perf_counter()
    feeder = feed(proc, pcap)
    wait_read(proc)
    out = {"read": time.perf_counter() - t0, "read_cpu": cpu_seconds(proc.pid)}
    feeder.join()
    if loops:
        n0, c0 = loops.n, cpu_seconds(proc.pid)
        time.sleep(seconds)
        out["serve_cpu"], out["scrapes"] = cpu_seconds(proc.pid) - c0, loops.n - n0
        loops.stop()
        out["failed"] = loops.failed
    proc.send_signal(2)
    proc.wait()
    return out


def lock_profile(binary, pcap):
    """bpftrace's histograms of lock holds (endpoint thread) and waits (pipeline)."""
    proc, url = start(binary)
    libc = next(LIBC_RE.search(line).group(1) for line in open(f"/proc/{proc.pid}/maps")
                if LIBC_RE.search(line))
    bt = subprocess.Popen(["bpftrace", "-p", str(proc.pid), "-e",
                           LOCK_SCRIPT.replace("LIBC", libc).replace("PID", str(proc.pid))],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in bt.stdout:
        if line.startswith("Attaching"):
            break
    loops = Loops(url)
    feed(proc, pcap).join()
    wait_read(proc)
    time.sleep(3)  # renders of the whole exposition too
    loops.stop()
    proc.send_signal(2)
    proc.wait()
    return bt.communicate()[0]


def show(name, runs):
    def m(key):
        return statistics.median(r[key] for r in runs)
    line = f"{name:<28} read {m('read'):6.2f} s  read CPU {m('read_cpu'):6.2f} s"
    if "serve_cpu" in runs[0]:
        line += (f"  serve CPU {m('serve_cpu'):5.2f} s for {m('scrapes'):5.0f} scrapes "
                 f"({1000 * m('serve_cpu') / max(1, m('scrapes')):.2f} ms/scrape, "
                 f"{sum(r['failed'] for r in runs)} failed)")
    print(line, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", help="a previous build, measured side by side")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--exchanges", type=int, default=1000000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--lock", action="store_true", help="lock hold and wait times (bpftrace)")
    ap.add_argument("binary", nargs="?", default=os.path.join(ROOT, "httpeek"))
    args = ap.parse_args()
    pcap = capture(args.exchanges)
    builds = ([("base", args.base)] if args.base else []) + [("new", args.binary)]
    print(f"# {args.exchanges} exchanges on 2000 routes, {LOOPS} curl loops, "
          f"{args.rounds} alternating rounds, medians; {os.cpu_count()} CPUs")
    results = {(b, s): [] for b, _ in builds for s in (False, True)}
    for _ in range(args.rounds):
        for b, binary in builds:
            for scrape in (False, True):
                results[(b, scrape)].append(one_round(binary, pcap, scrape, args.seconds))
    for b, binary in builds if args.rounds else []:
        for scrape in (False, True):
            show(f"{b} {'with 4 loops' if scrape else 'alone'}", results[(b, scrape)])
    if args.lock:
        for b, binary in builds:
            print(f"\n## {b}: lock held by the endpoint (µs), waited for by the pipeline (µs)")
            print(lock_profile(binary, pcap))


if __name__ == "__main__":
    main()
