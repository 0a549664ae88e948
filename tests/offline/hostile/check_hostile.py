#!/usr/bin/env python3
"""Hostile captures: no crash, no hang, valid JSON only, a clear message for bad input, bounded
memory, and the normal exchange placed after the hostile part still reported."""
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
# Sanitizers inflate memory: the bounds are checked on the plain binary only.
MEM_SCALE = 8 if os.environ.get("HTTPEEK_SANITIZED") else 1
TIMEOUT = 120
failures = 0


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
    """httpeek -r - on a flood made on the fly (make_hostile.py --flood, --frag-flood): (exit
    code, the events of the normal exchange, stderr, peak RSS in MiB). The flood's own events
    (each a 60 KiB head) are not loaded: this process must stay small."""
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
        events = [json.loads(line) for line in out if b"/flood/" not in line]
        errtext = err.read().decode("utf-8", "replace")
    return os.waitstatus_to_exitcode(status), events, errtext, usage.ru_maxrss / 1024


def http_args(ev):
    return {a["name"]: a["value"] for a in ev["args"]}["proto_http"]


def paths(events):
    return [http_args(e)["uri_path"] for e in events if http_args(e)["direction"] == "request"]


def check(name, cond, detail=""):
    global failures
    if cond:
        print(f"hostile: {name} ok")
    else:
        failures += 1
        print(f"hostile: {name} FAIL {detail}")


def tail_seen(events):
    return "/after-hostile" in paths(events) and any(
        http_args(e)["status_code"] == 200 for e in events)


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
    check("head-flood", rc == 0 and tail_seen(ev) and rss < 256 * MEM_SCALE and
          "ended at --memory-limit" in err, f"rc={rc} rss={rss:.0f}MiB {err.strip()[-200:]}")
    print(f"hostile: head-flood: peak RSS {rss:.1f} MiB (9,000 heads of 60 KiB)")
    rc, ev, err, rss = run_flood(1000, 60 * 1024, "--memory-limit", str(16 << 20))
    check("head-flood-limit", rc == 0 and tail_seen(ev) and rss < 64 * MEM_SCALE,
          f"rc={rc} rss={rss:.0f}MiB")
    # 100,000 IPv4 datagrams whose first 1400-byte fragment never gets the rest (140 MB):
    # at most 65,536 are held at once, and the memory limit bounds them too.
    rc, ev, err, rss = run_flood(100000, 0, kind="--frag-flood")
    check("frag-flood", rc == 0 and tail_seen(ev) and rss < 256 * MEM_SCALE and
          "100000 IP fragments of 100000 incomplete datagrams (34464 past the limits" in err,
          f"rc={rc} rss={rss:.0f}MiB {err.strip()[-300:]}")
    print(f"hostile: frag-flood: peak RSS {rss:.1f} MiB (100,000 incomplete datagrams)")
    rc, ev, err, rss = run_flood(50000, 0, "--memory-limit", str(16 << 20),
                                 kind="--frag-flood")
    check("frag-flood-limit", rc == 0 and tail_seen(ev) and rss < 64 * MEM_SCALE and
          "given up at --memory-limit" in err, f"rc={rc} rss={rss:.0f}MiB {err.strip()[-300:]}")
    print(f"hostile: frag-flood-limit: peak RSS {rss:.1f} MiB (--memory-limit 16 MiB)")
    rc, ev, err, rss, _ = run(p("frag-evasions.pcap"))
    check("frag-evasions", rc == 0 and tail_seen(ev) and "19999 overlapping fragments" in err
          and "5001 tiny first fragments" in err and "past the limits" in err and
          "invalid" in err, f"rc={rc} {err.strip()[-400:]}")
    rc, ev, err, rss, _ = run(p("huge-head.pcap"))
    check("huge-head", rc == 0 and tail_seen(ev) and rss < 64 * MEM_SCALE, f"rc={rc} rss={rss:.0f}MiB")
    rc, ev, err, rss, _ = run(p("many-flows.pcap"))
    check("many-flows", rc == 0 and tail_seen(ev) and rss < 256 * MEM_SCALE, f"rc={rc} rss={rss:.0f}MiB")
    print(f"hostile: many-flows peak RSS {rss:.1f} MiB ok")
    rc, ev, err, rss, _ = run(p("overlap-wrap.pcap"))
    ps = paths(ev)
    check("overlap-wrap", rc == 0 and "/first-wins" in ps and "/evil-second" not in ps
          and tail_seen(ev), f"paths={ps}")
    rc, ev, err, rss, _ = run(p("many-fields.pcap"))
    req = [http_args(e) for e in ev if http_args(e)["uri_path"] == "/fields"]
    check("many-fields", rc == 0 and req and req[0].get("truncated") is True and
          len(req[0]["headers"]) <= 512 and tail_seen(ev), f"rc={rc}")
    rc, ev, err, rss, _ = run(p("every-byte.pcap"))
    req = [http_args(e) for e in ev if http_args(e)["uri_path"] == "/bytes"]
    printable = "".join(chr(b) for b in range(0x21, 0x7F))
    check("every-byte-json", rc == 0 and req and printable in req[0]["headers"]["X-All"][0]
          and tail_seen(ev))
    rc, _, err, _, raw = run(p("every-byte.pcap"), "-o", "table")
    bad = [b for b in raw if (b < 0x20 and b != 0x0A) or b == 0x7F]
    check("every-byte-table", rc == 0 and not bad and b"/bytes" in raw, f"control bytes {bad[:5]}")

    for name in ("truncated-record", "absurd-caplen"):
        rc, ev, err, _, _ = run(p(name + ".pcap"))
        check(name, rc != 0 and len(err.strip().splitlines()) <= 2 and "/after-hostile" in
              paths(ev), f"rc={rc} err={err!r}")
    for name in ("truncated-header", "garbage"):
        rc, ev, err, _, _ = run(p(name + ".pcap"))
        check(name, rc != 0 and not ev and len(err.strip().splitlines()) == 1 and
              "failed to open capture" in err, f"rc={rc} err={err!r}")
    rc, ev, err, _, _ = run(p("wirelen-below-caplen.pcap"))
    check("wirelen-below-caplen", tail_seen(ev), f"rc={rc} err={err!r}")
    flips = sorted(glob.glob(p("flip-*.pcap")))
    for f in flips:
        rc, ev, err, _, _ = run(f)          # valid JSON and no crash is the check
        check(os.path.basename(f), rc in (0, 1) and (rc == 0 or err.strip()), f"rc={rc}")
    subprocess.run(["rm", "-rf", work])
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ValueError, json.JSONDecodeError) as e:
        print(f"hostile: json FAIL {e}")
        sys.exit(1)
