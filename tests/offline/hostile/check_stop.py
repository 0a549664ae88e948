#!/usr/bin/env python3
"""How httpeek ends when it is told to, offline (live: tests/live/run.sh stops its main instance
with SIGTERM, as systemd and Kubernetes do):

  closed-pipe  httpeek -r BIG | head -1: the reader goes away; httpeek says so once, stops
               reading, writes the summary counting what was not written, and exits 1; not
               killed by SIGPIPE (a shell's pipeline restores SIGPIPE's default, as here)
  sigterm      httpeek -r - while its input is still open: SIGTERM once all of it was read
               (nothing left in the pipe); exit 0, every event of the packets given, the summary
  sigint       the same with SIGINT (Ctrl-C)
  in-flight    httpeek -r - waiting on an empty pipe; the capture written and SIGTERM sent at
               once: the signal meets a read or the packets of the stream's buffer, and every
               event of what the pipe was given is still written (the read does not wait again)

One TAP line per check (tests/checklib.py). HTTPEEK selects the binary."""
import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklib import Checks  # noqa: E402

HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
CHECKS = Checks("stop")
SUMMARY = re.compile(r"^httpeek: (\d+) packets, \d+ bytes, \d+ flows, \d+ messages, (\d+) events"
                     r"(?: \((\d+) not written\))?", re.M)


def closed_pipe(big):
    p = subprocess.Popen([HTTPEEK, "-r", big, "-e", "all"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode("utf-8", "replace")
    rc = p.wait(timeout=60)
    told = [line for line in err.splitlines()
            if "failed to write events to standard output: Broken pipe" in line]
    m = SUMMARY.search(err)
    total = subprocess.run([HTTPEEK, "-r", big, "-e", "none", "--metrics-file", os.devnull],
                           capture_output=True, text=True).stderr
    n = SUMMARY.search(total)
    problems = []
    if rc != 1:
        problems.append(f"exit {rc}" + (" (killed by SIGPIPE)" if rc == -signal.SIGPIPE else "")
                        + ", want 1")
    if not first.startswith(b"{"):
        problems.append(f"first line {first[:80]!r}")
    if len(told) != 1 or "its reader is gone: stopping" not in told[0]:
        problems.append(f"the closed pipe told {len(told)} times: {told[:1]}")
    if not m or not m.group(3) or err.index(m.group(0)) < err.index(told[0] if told else ""):
        problems.append("no summary counting the events not written after the message")
    elif n and int(m.group(1)) >= int(n.group(1)):
        problems.append(f"read {m.group(1)} of {n.group(1)} packets: it did not stop")
    CHECKS.report("closed-pipe", problems + ([f"stderr {err.strip()[-300:]!r}"] if problems
                                             else []))


def drained(pipe):
    """Waits until the reader took every byte written into pipe (FIONREAD on its write end)."""
    for _ in range(200):
        if not struct.unpack("i", fcntl.ioctl(pipe, termios.FIONREAD, b"\0" * 4))[0]:
            return True
        time.sleep(0.05)
    return False


def stopped(name, capture, feed, summary):
    """httpeek -r - given capture by feed(p, data) (which also stops it; returns problems): exit
    0, every event of the capture read to its end, and (summary) the summary counting them."""
    data = open(capture, "rb").read()
    want = subprocess.run([HTTPEEK, "-r", capture, "-e", "all"], capture_output=True)
    p = subprocess.Popen([HTTPEEK, "-r", "-", "-e", "all"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    problems = feed(p, data)
    out, err = p.communicate(timeout=30)
    err = err.decode("utf-8", "replace")
    if p.returncode != 0:
        problems.append(f"exit {p.returncode}, want 0")
    if out != want.stdout:
        problems.append(f"{len(out.splitlines())} events, {len(want.stdout.splitlines())} "
                        f"from the same capture read to its end")
    m = SUMMARY.search(err)
    if summary and (not m or int(m.group(2)) != len(want.stdout.splitlines())):
        problems.append(f"summary {err.strip()[-200:]!r}")
    elif problems:
        problems.append(f"stderr {err.strip()[-200:]!r}")
    CHECKS.report(name, problems)


def after_drain(sig):
    """All of the capture written, then sig once httpeek has read every byte of the pipe."""
    def feed(p, data):
        p.stdin.write(data)
        p.stdin.flush()
        problems = [] if drained(p.stdin) else ["the input was not read in 10 s"]
        p.send_signal(sig)
        return problems
    return feed


def waiting_on_stdin(pid):
    """Waits until pid sits in read(0, ...) (/proc/PID/syscall: number 0, first argument 0)."""
    for _ in range(200):
        try:
            with open(f"/proc/{pid}/syscall") as f:
                fields = f.read().split()
        except OSError:
            return False
        if fields[:2] == ["0", "0x0"]:
            return True
        time.sleep(0.05)
    return False


def in_flight(p, data):
    """httpeek waiting on the empty pipe; the capture written and SIGTERM sent at once."""
    problems = [] if waiting_on_stdin(p.pid) else ["never waited on standard input"]
    os.write(p.stdin.fileno(), data)  # within a pipe's 64 KiB: written at once
    p.send_signal(signal.SIGTERM)
    return problems


def main():
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "offline", "hostile",
                                                     "make_hostile.py"), work], check=True)
        closed_pipe(os.path.join(work, "many-exchanges.pcap"))
        keepalive = os.path.join(ROOT, "tests", "captures", "keepalive.pcap")
        for sig in (signal.SIGTERM, signal.SIGINT):
            stopped(signal.Signals(sig).name.lower(), keepalive, after_drain(sig), True)
        stopped("in-flight", keepalive, in_flight, False)
    CHECKS.exit()


if __name__ == "__main__":
    main()
