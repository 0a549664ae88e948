#!/usr/bin/env python3
"""Hostile captures: no crash, no hang, valid JSON only, a clear message for bad input, bounded
memory, and the normal exchange placed after the hostile part still reported. Every run's exit
status is the one the contract names (0 read to the end, 1 cut short or not a capture), never
a signal, and its stderr holds no sanitizer report. One TAP line per check (tests/checklib.py)."""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklib import Checks  # noqa: E402

HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
# Sanitizers inflate memory: the bounds are checked on the plain binary only.
MEM_SCALE = 8 if os.environ.get("HTTPEEK_SANITIZED") else 1
TIMEOUT = 120
CHECKS = Checks("hostile")
# What a sanitizer or the C library prints when the process is not sound.
CRASH_WORDS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehavior",
               "Segmentation fault", "Aborted", "core dumped", "stack smashing")


def run(pcap, *extra):
    """Runs httpeek -r; returns (exit code, events, stderr text, peak RSS in MiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([HTTPEEK, "-r", pcap, *extra], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        raw, errtext = out.read(), err.read().decode("utf-8", "replace")
    events = []
    for line in raw.split(b"\n")[:-1] if "table" not in extra else []:
        events.append(json.loads(line))     # raises on invalid JSON
    if raw and not raw.endswith(b"\n"):
        raise ValueError("output does not end with a newline")
    return proc.returncode, events, errtext, usage.ru_maxrss / 1024, raw


def run_flood(n, size, *extra, kind="--flood"):
    """httpeek -r - on a flood made on the fly (make_hostile.py --flood, --frag-flood,
    --h2-flood): (exit code, the events of the normal exchange, stderr, peak RSS in MiB). The
    flood's own events (60 KiB heads, HTTP/2 requests) are not loaded: this process must stay
    small."""
    gen = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "offline", "hostile",
                                                         "make_hostile.py"), kind,
                            str(n)] + ([str(size)] if size else []), stdout=subprocess.PIPE)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([HTTPEEK, "-r", "-", *extra], stdin=gen.stdout, stdout=out,
                                stderr=err)
        gen.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        gen.wait()
        out.seek(0)
        err.seek(0)
        events = [json.loads(line) for line in out if b"/flood/" not in line and
                  b'"HTTP/2.0"' not in line]
        errtext = err.read().decode("utf-8", "replace")
    return os.waitstatus_to_exitcode(status), events, errtext, usage.ru_maxrss / 1024


def http_args(ev):
    return {a["name"]: a["value"] for a in ev["args"]}["proto_http"]


def paths(events):
    return [http_args(e)["uri_path"] for e in events if http_args(e)["direction"] == "request"]


def check(name, cond, detail=""):
    CHECKS.report(name, [] if cond else [detail or "failed"])


def exited(rc, err, want):
    """Problems with an exit: not the status wanted, killed by a signal, a sanitizer report."""
    out = []
    if rc < 0:
        out.append("killed by signal %d" % -rc)
    elif rc != want:
        out.append("exit %d, want %d" % (rc, want))
    out += ["stderr has %r" % w for w in CRASH_WORDS if w in err]
    return out


def check_run(name, rc, err, want, cond, detail=""):
    """A check of one run: its exit (exited()) and cond."""
    problems = exited(rc, err, want)
    if not cond:
        problems.append(detail or "failed")
    if problems and err.strip():
        problems.append("stderr ends %r" % err.strip()[-200:])
    CHECKS.report(name, problems)


def tail_seen(events):
    return "/after-hostile" in paths(events) and any(
        http_args(e)["status_code"] == 200 for e in events)


# What the connection of make_hostile.py --evict reports at a 4 MiB limit (docs/LIVE.md,
# "Memory"): messages (kind, method or status, path, truncated) and exchanges (method, path,
# status, trans_depth) in order.
EVICT_MESSAGES = [("request", "GET", "/v1", False), ("response", 200, "", False),
                  ("request", "GET", "/v2", True), ("request", "GET", "/v3", False),
                  ("response", 200, "", False), ("response", 404, "", False),
                  ("request", "POST", "/v4", False), ("response", 201, "", False)]
EVICT_FLOWS = [("GET", "/v1", 200, 1), ("GET", "/v2", None, 2), (None, None, 200, 0),
               ("GET", "/v3", 404, 3), ("POST", "/v4", 201, 4)]


def check_eviction():
    """A keep-alive connection ended at --memory-limit in the middle of a head: the head is
    reported cut and its request as an exchange without response; when the connection goes
    on it is the same connection (not counted twice), the response owed to that request is an
    exchange without request, later requests pair with their own responses and go on with
    their numbering, and the bytes skipped until the next message start are no parse
    failure."""
    gen = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "offline", "hostile",
                                                       "make_hostile.py"), "--evict"],
                         capture_output=True, check=True)
    p = subprocess.run([HTTPEEK, "-r", "-", "--memory-limit", str(4 << 20), "-e", "all"],
                       input=gen.stdout, capture_output=True, timeout=TIMEOUT)
    err = p.stderr.decode("utf-8", "replace")
    msgs, flows, problems = [], [], []
    for line in p.stdout.splitlines():
        e = json.loads(line)
        a = {x["name"]: x["value"] for x in e["args"]}
        if e["eventName"] == "net_packet_http" and 50000 in (a["src_port"], a["dst_port"]):
            h = a["proto_http"]
            msgs.append((h["direction"], h["method"] or h["status_code"], h["uri_path"],
                         h.get("truncated", False)))
        elif e["eventName"] == "net_flow_http" and a["client_port"] == 50000:
            r, q = a["request"] or {}, a["response"] or {}
            flows.append((r.get("method"), r.get("uri_path"), q.get("status_code"),
                          a["trans_depth"]))
    if msgs != EVICT_MESSAGES:
        problems.append(f"messages {msgs}")
    if flows != EVICT_FLOWS:
        problems.append(f"exchanges {flows}")
    m = re.search(r"httpeek: \d+ packets, \d+ bytes, (\d+) flows, .* (\d+) parse failures "
                  r"\((\d+) flows ended at --memory-limit, (\d+) of them came back\)", err)
    if not m or m.group(1) != "302" or m.group(2) != "0" or not int(m.group(4)):
        problems.append("summary: want 302 flows (301 connections and the last exchange's), "
                        "0 parse failures, flows that came back")
    check_run("eviction", p.returncode, err, 0, not problems, "; ".join(problems))


def main():
    work = tempfile.mkdtemp(prefix="httpeek-hostile-")
    sources = sorted(glob.glob(os.path.join(ROOT, "tests", "captures", "*.pcap*")))[:4]
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "offline", "hostile", "make_hostile.py"),
                    work, *sources], check=True)
    p = lambda n: os.path.join(work, n)

    # First, while this process is small: a child's peak RSS includes its parent's at fork.
    # 9,000 connections each holding an unterminated 60 KiB head (540 MB of heads): the
    # memory limit (128 MiB by default) ends the least recently active ones.
    rc, ev, err, rss = run_flood(9000, 60 * 1024)
    check_run("head-flood", rc, err, 0, tail_seen(ev) and rss < 256 * MEM_SCALE and
              "ended at --memory-limit" in err, f"rss={rss:.0f}MiB")
    CHECKS.note(f"head-flood: peak RSS {rss:.1f} MiB (9,000 heads of 60 KiB)")
    rc, ev, err, rss = run_flood(1000, 60 * 1024, "--memory-limit", str(16 << 20))
    check_run("head-flood-limit", rc, err, 0, tail_seen(ev) and rss < 64 * MEM_SCALE,
              f"rss={rss:.0f}MiB")
    check_eviction()
    # 1,000 HTTP/2 connections, each 50 requests of 2 KiB of fields that never end: 100 MB of
    # requests waiting, held by the HTTP/2 reader, within --memory-limit too.
    rc, ev, err, rss = run_flood(1000, 50, "--memory-limit", str(16 << 20), kind="--h2-flood")
    check_run("h2-flood-limit", rc, err, 0, tail_seen(ev) and rss < 64 * MEM_SCALE and
              "ended at --memory-limit" in err, f"rss={rss:.0f}MiB")
    CHECKS.note(f"h2-flood: peak RSS {rss:.1f} MiB (50,000 open HTTP/2 requests)")
    # 100,000 IPv4 datagrams whose first 1400-byte fragment never gets the rest (140 MB):
    # at most 65,536 are held at once, and the memory limit bounds them too.
    rc, ev, err, rss = run_flood(100000, 0, kind="--frag-flood")
    check_run("frag-flood", rc, err, 0, tail_seen(ev) and rss < 256 * MEM_SCALE and
          "100000 IP fragments of 100000 incomplete datagrams (34464 past the limits" in err,
          f"rc={rc} rss={rss:.0f}MiB {err.strip()[-300:]}")
    CHECKS.note(f"frag-flood: peak RSS {rss:.1f} MiB (100,000 incomplete datagrams)")
    rc, ev, err, rss = run_flood(50000, 0, "--memory-limit", str(16 << 20),
                                 kind="--frag-flood")
    check_run("frag-flood-limit", rc, err, 0, tail_seen(ev) and rss < 64 * MEM_SCALE and
          "given up at --memory-limit" in err, f"rc={rc} rss={rss:.0f}MiB {err.strip()[-300:]}")
    CHECKS.note(f"frag-flood-limit: peak RSS {rss:.1f} MiB (--memory-limit 16 MiB)")
    rc, ev, err, rss, _ = run(p("frag-evasions.pcap"))
    check_run("frag-evasions", rc, err, 0, tail_seen(ev) and "19999 overlapping fragments" in err
          and "5001 tiny first fragments" in err and "past the limits" in err and
          "invalid" in err, f"rc={rc} {err.strip()[-400:]}")
    rc, ev, err, rss, _ = run(p("h2-hostile.pcap"))
    bomb = [http_args(e) for e in ev if http_args(e).get("stream_id") == 3 and
            http_args(e)["direction"] == "request"]
    biggest = max(len(json.dumps(http_args(e))) for e in ev) if ev else 0
    check_run("h2-hostile", rc, err, 0, tail_seen(ev) and rss < 64 * MEM_SCALE and
              len(bomb) == 1 and bomb[0].get("truncated") is True and biggest < 70000 and
              "2 header lists cut at the head limit, 4 malformed frames, 1 bad prefaces, 1 "
              in err, f"rss={rss:.0f}MiB largest message {biggest}")
    rc, ev, err, rss, _ = run(p("huge-head.pcap"))
    check_run("huge-head", rc, err, 0, tail_seen(ev) and rss < 64 * MEM_SCALE, f"rss={rss:.0f}MiB")
    rc, ev, err, rss, _ = run(p("many-flows.pcap"))
    check_run("many-flows", rc, err, 0, tail_seen(ev) and rss < 256 * MEM_SCALE,
              f"rss={rss:.0f}MiB")
    CHECKS.note(f"many-flows: peak RSS {rss:.1f} MiB")
    rc, ev, err, rss, _ = run(p("overlap-wrap.pcap"))
    ps = paths(ev)
    check_run("overlap-wrap", rc, err, 0, "/first-wins" in ps and "/evil-second" not in ps
              and tail_seen(ev), f"paths={ps}")
    rc, ev, err, rss, _ = run(p("many-fields.pcap"))
    req = [http_args(e) for e in ev if http_args(e)["uri_path"] == "/fields"]
    check_run("many-fields", rc, err, 0, req and req[0].get("truncated") is True and
              len(req[0]["headers"]) <= 512 and tail_seen(ev))
    rc, ev, err, rss, _ = run(p("every-byte.pcap"))
    req = [http_args(e) for e in ev if http_args(e)["uri_path"] == "/bytes"]
    printable = "".join(chr(b) for b in range(0x21, 0x7F))
    check_run("every-byte-json", rc, err, 0, req and printable in req[0]["headers"]["X-All"][0]
              and tail_seen(ev))
    rc, _, err, _, raw = run(p("every-byte.pcap"), "-o", "table")
    bad = [b for b in raw if (b < 0x20 and b != 0x0A) or b == 0x7F]
    check_run("every-byte-table", rc, err, 0, not bad and b"/bytes" in raw,
              f"control bytes {bad[:5]}")

    # Cut short: every event before the cut, one line saying where, exit 1.
    for name in ("truncated-record", "absurd-caplen"):
        rc, ev, err, _, _ = run(p(name + ".pcap"))
        lines = err.strip().splitlines()
        check_run(name, rc, err, 1, lines and "cut short after" in lines[0] and len(lines) <= 2
                  and "/after-hostile" in paths(ev))
    for name in ("truncated-header", "garbage"):
        rc, ev, err, _, _ = run(p(name + ".pcap"))
        check_run(name, rc, err, 1, not ev and len(err.strip().splitlines()) == 1 and
                  "failed to open capture" in err)
    rc, ev, err, _, _ = run(p("wirelen-below-caplen.pcap"))
    check_run("wirelen-below-caplen", rc, err, 0, tail_seen(ev))
    flips = sorted(glob.glob(p("flip-*.pcap")))
    for f in flips:
        rc, ev, err, _, _ = run(f)          # valid JSON (run() raises otherwise)
        lines = err.strip().splitlines() or [""]
        if rc == 1:   # cut short, or not a capture any more: the reason first
            told = lines[0].startswith(("httpeek: capture ", "httpeek: failed to open capture"))
        else:         # read to the end: the summary
            told = any(line.startswith("httpeek: ") and " parse failures" in line
                       for line in lines)
        check_run(os.path.basename(f), rc, err, rc if rc in (0, 1) else 0, told,
                  "no summary or reason on stderr")
    subprocess.run(["rm", "-rf", work])
    return 1 if CHECKS.failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ValueError, json.JSONDecodeError) as e:
        CHECKS.report("json", [str(e)])
        sys.exit(1)
