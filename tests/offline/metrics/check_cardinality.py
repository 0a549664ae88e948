#!/usr/bin/env python3
"""Cardinality: 100k exchanges on 100k distinct random paths keep each histogram at the series cap
(the overflow series counts the rest, no exchange is lost) and peak memory, with the exposition
served once, close to that of the same 100k exchanges on 100 paths. One TAP line per check; exits 1 on failure."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from checklib import Checks  # noqa: E402
from make_exchanges import paths_capture  # noqa: E402
from endpoint import get, peak_rss_mib, start, stop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BIN = os.path.abspath(os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek")))
MEM_SCALE = 8 if os.environ.get("HTTPEEK_SANITIZED") else 1  # sanitizers inflate memory
if os.environ.get("HTTPEEK_SANITIZED"):
    # ASan keeps freed memory in quarantine (up to 256 MiB): peak RSS would count what was
    # allocated, not what is held, and a build that allocates less for the 100 paths fails.
    os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0"
EXCHANGES = 100000
CAP = 2000                 # the default --metrics-max-series
EXTRA_RSS_MIB = 16         # what the capped series and one exposition may add
CHECKS = Checks("metrics-cap")
report = CHECKS.report
SERVER = "http_server_request_duration_seconds"


def run(pcap):
    """httpeek -r pcap -e none serving its metrics: (exit code, the exposition it served, its
    peak RSS in MiB after that)."""
    proc, url = start([BIN, "-r", pcap, "-e", "none", "--metrics", "127.0.0.1:0"],
                      stdout=subprocess.DEVNULL)
    try:
        status, _, text = get(url + "/metrics")
        rss = peak_rss_mib(proc.pid)
    finally:
        rc = stop(proc)
    return rc if status == 200 else -status, text, rss


def value(text, pattern):
    m = re.search("^" + pattern + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def series(text):
    return len(re.findall("^" + SERVER + "_count{", text, re.M))


def total(text):
    return sum(float(v) for v in re.findall("^" + SERVER + r"_count\{.*\} (\S+)$", text, re.M))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        few, many = os.path.join(tmp, "few.pcap"), os.path.join(tmp, "many.pcap")
        paths_capture(few, 100, EXCHANGES)
        paths_capture(many, EXCHANGES, EXCHANGES)
        rc1, small, rss_small = run(few)
        rc2, big, rss_big = run(many)
        report("100 paths: 100 series, nothing overflows",
               [] if rc1 == 0 and series(small) == 100 and total(small) == EXCHANGES and
               value(small, "httpeek_metrics_overflow_total{metric=\"%s\"}" % SERVER) == 0
               else ["rc %d, %d series" % (rc1, series(small))])
        over = value(big, "httpeek_metrics_overflow_total{metric=\"%s\"}" % SERVER)
        report("100k paths: series at the cap", [] if rc2 == 0 and series(big) == CAP and value(
            big, "httpeek_metrics_series{metric=\"%s\"}" % SERVER) == CAP else
            ["rc %d, %d series" % (rc2, series(big))])
        report("100k paths: the overflow series counts the rest",
               [] if over == EXCHANGES - (CAP - 1) and total(big) == EXCHANGES and
               '_count{http_request_method="__overflow__"' in big else
               ["overflow %s, total %s" % (over, total(big))])
        CHECKS.note("metrics-cap: peak RSS %.1f MiB with 100 paths, %.1f MiB with 100k (limit: "
              "%d MiB more)" % (rss_small, rss_big, EXTRA_RSS_MIB * MEM_SCALE))
        report("100k paths: RSS bounded", [] if rss_big - rss_small < EXTRA_RSS_MIB * MEM_SCALE
               else ["%.1f MiB more than with 100 paths" % (rss_big - rss_small)])
        if not shutil.which("promtool"):
            report("promtool check metrics at the cap",
                   ["promtool is not installed (scripts/deps.sh lists prometheus)"])
        else:
            p = subprocess.run(["promtool", "check", "metrics"], input=big, text=True,
                               capture_output=True)
            report("promtool check metrics at the cap", [] if p.returncode == 0 else
                   [(p.stdout + p.stderr)[:300]])
    CHECKS.exit()


if __name__ == "__main__":
    main()
