#!/usr/bin/env python3
"""Output files and write errors (offline; some checks need root): every failed write told at
once on stderr with the file and the reason, counted in the summary, never claimed; -O and -w
never follow a symbolic link, are created 0600, refuse another user's file and are not
emptied by a failed start; --redact masks header values in -w's packets too.
One TAP line per check (tests/checklib.py). HTTPEEK selects the binary."""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "offline", "hostile"))
from checklib import Checks  # noqa: E402
from pcaplib import read_pcap, read_pcapng  # noqa: E402
from make_hostile import SECRETS  # noqa: E402

HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
IS_ROOT = os.geteuid() == 0
checks = Checks("outputs")


def run(*args, stdout=subprocess.DEVNULL, umask=None):
    """Runs httpeek; returns (exit code, stderr text)."""
    pre = (lambda: os.umask(umask)) if umask is not None else None
    p = subprocess.run([HTTPEEK, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                       preexec_fn=pre, timeout=300)
    return p.returncode, p.stderr


def summary_count(err, what):
    """N and the N not written of 'N events (N not written)' in the summary."""
    m = re.search(r"(\d+) %s( \((\d+) not written\))?" % what, err.splitlines()[-1] if err else "")
    return (int(m.group(1)), int(m.group(3) or 0)) if m else (None, None)


def pcapng_packets(path):
    """The Enhanced Packet Blocks of a pcapng file, as (captured bytes, original length);
    raises ValueError when the file is not whole blocks after a section header."""
    data = open(path, "rb").read()
    out, at, seen_shb = [], 0, False
    while at < len(data):
        if len(data) - at < 12:
            raise ValueError(f"{len(data) - at} stray bytes at the end")
        btype, blen = struct.unpack_from("<II", data, at)
        if blen < 12 or blen % 4 or at + blen > len(data) or \
                struct.unpack_from("<I", data, at + blen - 4)[0] != blen:
            raise ValueError(f"a broken block at offset {at}")
        if btype == 0x0A0D0D0A:
            seen_shb = True
        elif not seen_shb:
            raise ValueError("a block before the section header")
        if btype == 6:
            caplen, origlen = struct.unpack_from("<II", data, at + 20)
            out.append((data[at + 28:at + 28 + caplen], origlen))
        at += blen
    if not seen_shb:
        raise ValueError("no section header")
    return out


def tcp_payload(ip):
    ihl = (ip[0] & 15) * 4
    return ip[ihl + (ip[ihl + 12] >> 4) * 4:]


def check_write_errors(caps):
    """Standard output and -w on a full device (/dev/full)."""
    rc, err = run("-r", caps["many"], "-e", "all", stdout=open("/dev/full", "w"))
    lines = [l for l in err.splitlines() if "failed to write events to standard output" in l]
    written, lost = summary_count(err, "events")
    checks.report("write-error-stdout", [] if rc == 1 and len(lines) == 1 and
                  "No space left on device" in lines[0] and written == 0 and lost and
                  err.splitlines().index(lines[0]) < len(err.splitlines()) - 1
                  else [f"rc={rc} summary={written},{lost} stderr={err.strip()!r:.300}"])
    rc, err = run("-r", caps["many"], "-w", "/dev/full")
    lines = [l for l in err.splitlines() if "failed to write packets to /dev/full" in l]
    exported, lost = summary_count(err, "packets exported")
    checks.report("write-error-w", [] if rc == 1 and len(lines) == 1 and
                  "No space left on device" in lines[0] and exported == 0 and lost
                  else [f"rc={rc} exported={exported},{lost} stderr={err.strip()!r:.300}"])


def check_full_disk(caps, work):
    """-O and -w on a 1 MiB file system: the files hold whole lines and whole blocks, as many
    as the summary claims, and the rest is counted as not written."""
    if not IS_ROOT:
        checks.skip("full-disk", "needs root (mount)")
        return
    mnt = os.path.join(work, "small")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt], check=True)
    try:
        rc0, err0 = run("-r", caps["many"], "-e", "all", "-O", os.path.join(work, "all.jsonl"))
        total, _ = summary_count(err0, "events")
        ev, pk = os.path.join(mnt, "ev.jsonl"), os.path.join(mnt, "p.pcapng")
        rc, err = run("-r", caps["many"], "-e", "all", "-O", ev)
        written, lost = summary_count(err, "events")
        raw = open(ev, "rb").read()
        lines = raw.count(b"\n")
        problems = [] if rc == 1 and err.count("failed to write events to " + ev +
                                               ": No space left on device") == 1 and \
            raw.endswith(b"\n") and lines == written and written + lost == total and lost \
            else [f"rc={rc} file {lines} lines, summary {written} written {lost} not, "
                  f"{total} in all; {err.strip()!r:.300}"]
        checks.report("full-disk-O", problems)
        os.unlink(ev)
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * (1024 * 1024 - 64 * 1024))
        rc, err = run("-r", caps["many"], "-w", pk)
        exported, lost = summary_count(err, "packets exported")
        try:
            n = len(pcapng_packets(pk))
            why = ""
        except ValueError as e:
            n, why = -1, str(e)
        checks.report("full-disk-w", [] if rc == 1 and not why and n == exported and lost and
                      err.count("failed to write packets to " + pk) == 1
                      else [f"rc={rc} file {n} packets {why}, summary {exported} exported "
                            f"{lost} not; {err.strip()!r:.300}"])
    finally:
        subprocess.run(["umount", mnt])


def content(path):
    with open(path, "rb") as f:
        return f.read()


def check_files(caps, work):
    """Symbolic links, modes, owners, hard links, a failed start."""
    d = os.path.join(work, "files")
    os.mkdir(d, 0o755)
    victim = os.path.join(d, "victim")
    for opt in ("-O", "-w"):
        with open(victim, "w") as f:
            f.write("precious\n")
        os.chmod(victim, 0o600)
        link = os.path.join(d, "link" + opt)
        os.symlink(victim, link)
        rc, err = run("-r", caps["get"], opt, link)
        checks.report("symlink" + opt, [] if rc == 1 and content(victim) == b"precious\n"
                      and "symbolic link" in err else [f"rc={rc} victim now "
                                                       f"{content(victim)!r:.40}: {err!r:.200}"])
        target = os.path.join(d, "created-through-link" + opt)
        dangling = os.path.join(d, "dangling" + opt)
        os.symlink(target, dangling)
        rc, err = run("-r", caps["get"], opt, dangling)
        checks.report("dangling-symlink" + opt, [] if rc == 1 and not os.path.exists(target)
                      else [f"rc={rc}: {target} created"])
        out = os.path.join(d, "umask0" + opt)
        rc, err = run("-r", caps["get"], opt, out, umask=0)
        mode = os.stat(out).st_mode & 0o777 if os.path.exists(out) else None
        checks.report("mode-0600" + opt, [] if rc == 0 and mode == 0o600
                      else [f"rc={rc} mode {oct(mode) if mode is not None else None}"])
        hard = os.path.join(d, "hard" + opt)
        os.link(victim, hard)
        rc, err = run("-r", caps["get"], opt, hard)
        checks.report("hardlink" + opt, [] if rc == 1 and content(victim) == b"precious\n"
                      else [f"rc={rc} victim now {content(victim)!r:.40}"])
        os.unlink(hard)
        if IS_ROOT:
            theirs = os.path.join(d, "theirs" + opt)
            with open(theirs, "w") as f:
                f.write("theirs\n")
            os.chown(theirs, 65534, 65534)
            rc, err = run("-r", caps["get"], opt, theirs)
            checks.report("other-owner" + opt, [] if rc == 1 and content(theirs) ==
                          b"theirs\n" and "owned by another user" in err
                          else [f"rc={rc} now {content(theirs)!r:.40}: {err!r:.200}"])
        keep = os.path.join(d, "keep" + opt)
        with open(keep, "w") as f:
            f.write("yesterday's events\n")
        rc, err = run("-r", os.path.join(d, "no-such.pcap"), opt, keep)
        checks.report("failed-start-keeps" + opt, [] if rc == 1 and content(keep) ==
                      b"yesterday's events\n" else [f"rc={rc} now {content(keep)!r:.40}"])


def check_redact(caps, work):
    """--redact in -w: no secret value in the exported packets' payloads (values split across
    segments included), lengths kept, the rest of the heads intact."""
    red, plain = os.path.join(work, "red.pcapng"), os.path.join(work, "plain.pcapng")
    rc1, err1 = run("-r", caps["secrets"], "-e", "all", "--redact=X-Api-Key", "-w", red)
    rc2, err2 = run("-r", caps["secrets"], "-e", "all", "-w", plain)
    problems = []
    try:
        pr, pp = pcapng_packets(red), pcapng_packets(plain)
    except ValueError as e:
        checks.report("redact-w", [str(e)])
        return
    stream = b"".join(tcp_payload(d) for d, _ in pr)
    leaked = [s.decode() for s in SECRETS for part in s.split(b" ") if part in stream]
    if rc1 or rc2 or not pr:
        problems.append(f"rc={rc1},{rc2}, {len(pr)} packets")
    if leaked:
        problems.append(f"in the clear: {sorted(set(leaked))}")
    if [(len(d), o) for d, o in pr] != [(len(d), o) for d, o in pp]:
        problems.append("packet lengths differ from the export without --redact")
    if b"X-Folded: visible" not in stream or b"Authorization: " not in stream:
        problems.append("header names or other values were masked too")
    checks.report("redact-w", problems)


REDACTED_NAMES = (b"authorization", b"proxy-authorization", b"cookie", b"set-cookie")


def masked_spans(stream, names):
    """Offsets of stream (one direction's bytes) that --redact masks: the non-blank bytes of
    the values of the named headers, folded lines included."""
    out, pos, in_value = set(), 0, False
    for line in stream.split(b"\n"):
        name, colon, _ = line.partition(b":")
        if line[:1] in (b" ", b"\t") and in_value:
            start = pos
        elif colon and b" " not in name:
            in_value = name.strip().lower() in names
            start = pos + len(name) + 1
        else:
            in_value = False
        if in_value:
            out |= {start + i for i, c in enumerate(line[start - pos:]) if c not in b" \t\r"}
        pos += len(line) + 1
    return out


def streams(packets):
    """{(addresses, ports): (first seq, bytes)} of the TCP payloads of raw IPv4 packets, each
    direction of each connection in order."""
    out = {}
    for _, ip in packets:
        ihl = (ip[0] & 15) * 4
        key = (ip[12:20], ip[ihl:ihl + 4])
        seq = struct.unpack_from("!I", ip, ihl + 4)[0]
        payload = tcp_payload(ip)
        if not payload:
            continue
        first, data = out.get(key, (seq, b""))
        if seq - first == len(data):
            data += payload
        out[key] = (first, data)
    return out


def check_export_bytes(caps, work):
    """-w writes the input's packets as they were, byte for byte, with their time stamps and
    link type; with --redact only the masked values differ, each of their non-blank bytes
    a '*'."""
    for name, path in (("many", caps["many"]), ("secrets", caps["secrets"])):
        linktype, packets = read_pcap(path)
        by_ts = dict(packets)
        names = REDACTED_NAMES + (b"x-api-key",)
        flows = streams(packets)
        spans = {k: masked_spans(d, names) for k, (_, d) in flows.items()}
        for redact in ((), ("--redact=X-Api-Key",)):
            out = os.path.join(work, f"bytes-{name}-{len(redact)}.pcapng")
            rc, err = run("-r", path, "-e", "all", *redact, "-w", out)
            got, problems = read_pcapng(out) if rc == 0 else [], []
            if rc or not got:
                problems.append(f"rc={rc}, {len(got)} packets: {err.strip()[-200:]}")
            for lt, ts, data in got:
                want = by_ts.get(ts)
                if lt != linktype or want is None or len(want) != len(data):
                    problems.append(f"packet at {ts} (link type {lt}, {len(data)} bytes): no "
                                    f"input packet at that time of that type and length")
                    continue
                ihl = (want[0] & 15) * 4
                key = (want[12:20], want[ihl:ihl + 4])
                at = struct.unpack_from("!I", want, ihl + 4)[0] - flows[key][0]
                hl = len(want) - len(tcp_payload(want))
                for i, (a, b) in enumerate(zip(want, data)):
                    mask = bool(redact) and i >= hl and at + i - hl in spans[key]
                    if (b != ord("*")) if mask else (a != b):
                        problems.append(f"packet at {ts}: byte {i} is {b:#x}, want "
                                        f"{'*' if mask else hex(a)}")
                        break
            checks.report(f"export-bytes {name}{' redacted' if redact else ''}", problems[:3])


def main():
    if sys.argv[1:2] == ["--count"]:
        # check_outputs.py --count FILE N: FILE is whole pcapng blocks with N packets.
        try:
            sys.exit(0 if len(pcapng_packets(sys.argv[2])) == int(sys.argv[3]) else 1)
        except ValueError:
            sys.exit(1)
    work = tempfile.mkdtemp(prefix="httpeek-outputs-")
    os.chmod(work, 0o755)
    try:
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "offline", "hostile", "make_hostile.py"),
                        os.path.join(work, "caps")], check=True)
        caps = {"get": os.path.join(ROOT, "tests", "captures", "get.pcap"),
                "many": os.path.join(work, "caps", "many-exchanges.pcap"),
                "secrets": os.path.join(work, "caps", "secrets.pcap")}
        check_write_errors(caps)
        check_full_disk(caps, work)
        check_files(caps, work)
        check_redact(caps, work)
        check_export_bytes(caps, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    checks.exit()


if __name__ == "__main__":
    main()
