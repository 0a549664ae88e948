#!/usr/bin/env python3
"""Benchmarks httpeek against the tools people use today, side by side in one run.

offline: httpeek -r (full JSON to /dev/null) vs httpry -r and tshark on a capture of wrk
against nginx (made by scripts/wrk-capture.sh), alternating runs, median wall-time ratios and
the messages each reports. Usage: bench.py [--rounds N] [--requests N] [offline]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")
PORT_FILTER = "tcp port 18080"
TSHARK_FIELDS = ["http.request.method", "http.request.uri", "http.host", "http.response.code"]


def wrk_capture(requests):
    path = os.path.join(BUILD, f"wrk-{requests}.pcap")
    if not os.path.exists(path):
        os.makedirs(BUILD, exist_ok=True)
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "wrk-capture.sh"), path,
                        str(requests)], check=True)
    return path


def offline_commands(pcap):
    return {
        "httpeek": [os.path.join(ROOT, "httpeek"), "-r", pcap],
        "httpry": ["httpry", "-q", "-r", pcap, PORT_FILTER],
        "tshark": ["tshark", "-n", "-r", pcap, "-Y", "http", "-T", "fields"]
        + [a for f in TSHARK_FIELDS for a in ("-e", f)],
    }


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def count_lines(cmd):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return out.stdout.count(b"\n")


def offline(rounds, requests, with_tshark=True):
    pcap = wrk_capture(requests)
    cmds = offline_commands(pcap)
    if not with_tshark:
        del cmds["tshark"]
    times = {name: [] for name in cmds}
    for _ in range(rounds):
        for name, cmd in cmds.items():
            times[name].append(wall(cmd))
    med = {name: statistics.median(t) for name, t in times.items()}
    msgs = {name: count_lines(cmd) for name, cmd in cmds.items()}
    packets = count_lines(["tcpdump", "-nr", pcap, "-q"])
    print(f"offline: {os.path.basename(pcap)}, {packets} packets, {rounds} alternating rounds")
    print(f"{'tool':10} {'median s':>9} {'min s':>8} {'max s':>8} {'messages':>9}")
    for name in cmds:
        t = times[name]
        print(f"{name:10} {med[name]:9.3f} {min(t):8.3f} {max(t):8.3f} {msgs[name]:9d}")
    for other in cmds:
        if other != "httpeek":
            ratios = [a / b for a, b in zip(times["httpeek"], times[other])]
            print(f"ratio httpeek/{other}: median {statistics.median(ratios):.3f}")
    return med, msgs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=75000)
    ap.add_argument("parts", nargs="*", default=["offline"])
    args = ap.parse_args()
    if "offline" in args.parts:
        offline(args.rounds, args.requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
