#!/usr/bin/env python3
"""tshark as the oracle on the captures scripts/make-captures-scapy.py makes (802.11 under three
link types and in Aruba's GRE, IP fragments in order, out of order, duplicated, overlapping,
in tunnels, incomplete): httpeek must report the HTTP messages tshark finds, no more and no
fewer: the same requests (method, target) and responses (status), at the same times, between
the same innermost addresses and ports.

First the captures are made again (Debian's /usr/bin/python3 with python3-scapy) and each must
be, byte for byte, the committed file: the test data is what the script in the tree makes.
One TAP line per capture (tests/checklib.py), with the counts as a note; exits 1 on a failure.
HTTPEEK in the environment overrides the binary."""

import collections
import decimal
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CAPTURES = os.path.join(ROOT, "tests", "captures")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklib import Checks  # noqa: E402
MAKER = os.path.join(ROOT, "scripts", "make-captures-scapy.py")
HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
SCAPY_PYTHON = "/usr/bin/python3"

# Each capture, with the filters that split it into one capture per network where the same
# 4-tuple is two connections (tshark's TCP does not tell BSSIDs apart): the messages tshark
# finds in the parts, together, are its messages.
ORACLE = {
    "wifi-data": None,
    "wifi-radiotap": None,
    "wifi-ppi": None,
    "wifi-amsdu": None,
    "wifi-protected": None,
    "wifi-bssid": ["wlan.bssid == 02:00:00:00:a9:01", "wlan.bssid == 02:00:00:00:a9:02"],
    "aruba-gre": None,
    "frag-ip4": None,
    "frag-ip4-reorder": None,
    "frag-overlap": None,
    "frag-ip6": None,
    "frag-gtpu": None,
    "frag-incomplete": None,
}
FIELDS = ["frame.time_epoch", "http.request.method", "http.request.uri", "http.response.code",
          "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport"]


def remade(tmp):
    """Failure lines when the script does not make the committed captures again."""
    p = subprocess.run([SCAPY_PYTHON, MAKER, tmp], capture_output=True, text=True)
    if p.returncode:
        return ["%s %s: exit %d: %s" % (SCAPY_PYTHON, MAKER, p.returncode,
                                        p.stderr.strip()[-300:])]
    out = []
    for name in ORACLE:
        with open(os.path.join(tmp, name + ".pcap"), "rb") as a, \
                open(os.path.join(CAPTURES, name + ".pcap"), "rb") as b:
            if a.read() != b.read():
                out.append("%s.pcap differs from what make-captures-scapy.py makes" % name)
    return out


def ns(epoch):
    return int(decimal.Decimal(epoch) * 1000000000)


def tshark_messages(path):
    """tshark's HTTP messages: (time ns, kind, method, target, status, src, dst, ports)."""
    cmd = ["tshark", "-n", "-r", path, "-Y", "http", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    out = []
    for line in p.stdout.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        last = lambda f: v[f].split(",")[-1]  # the innermost layer's
        src, dst = (last("ipv6.src"), last("ipv6.dst")) if v["ipv6.src"] else \
            (last("ip.src"), last("ip.dst"))
        where = (src, dst, int(last("tcp.srcport")), int(last("tcp.dstport")))
        t = ns(v["frame.time_epoch"])
        methods = [m for m in v["http.request.method"].split(",") if m]
        for m, uri in zip(methods, v["http.request.uri"].split(",")):
            path = uri.split("?")[0].split("#")[0]  # httpeek's uri_path has no query
            out.append((t, "request", m, path, 0) + where)
        for code in [c for c in v["http.response.code"].split(",") if c]:
            out.append((t, "response", "", "", int(code)) + where)
    return out


def httpeek_messages(path):
    p = subprocess.run([HTTPEEK, "-r", path, "-e", "net_packet_http"], capture_output=True,
                       text=True, timeout=60)
    if p.returncode:
        raise RuntimeError("httpeek exit %d: %s" % (p.returncode, p.stderr.strip()))
    out = []
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        a = {x["name"]: x["value"] for x in ev["args"]}
        h = a["proto_http"]
        req = h["direction"] == "request"
        out.append((ev["timestamp"], h["direction"], h["method"] if req else "",
                    h["uri_path"] if req else "", 0 if req else h["status_code"],
                    a["src"], a["dst"], a["src_port"], a["dst_port"]))
    return out


def tshark_parts(path, filters, tmp):
    """tshark's messages in the parts of path that filters select, each read on its own."""
    out = []
    for k, f in enumerate(filters):
        part = os.path.join(tmp, "part%d.pcap" % k)
        subprocess.run(["tshark", "-r", path, "-Y", f, "-w", part], capture_output=True,
                       check=True)
        out += tshark_messages(part)
    return out


def check(name, tmp):
    path = os.path.join(CAPTURES, name + ".pcap")
    want = tshark_parts(path, ORACLE[name], tmp) if ORACLE[name] else tshark_messages(path)
    got = httpeek_messages(path)
    missing = collections.Counter(want) - collections.Counter(got)
    extra = collections.Counter(got) - collections.Counter(want)
    lines = ["  tshark only: %r" % (m,) for m in missing.elements()]
    lines += ["  httpeek only: %r" % (m,) for m in extra.elements()]
    return len(got), len(want), lines


def main():
    checks = Checks("oracle")
    tmp = tempfile.mkdtemp(prefix="httpeek-oracle-")
    checks.report("captures made again", remade(tmp))
    for name in ORACLE:
        try:
            got, want, lines = check(name, tmp)
        except (RuntimeError, subprocess.SubprocessError, ValueError) as e:
            got, want, lines = 0, 0, [str(e)]
        checks.report(name, [line.strip() for line in lines])
        checks.note("%s: %d messages, tshark %d" % (name, got, want))
    shutil.rmtree(tmp)
    checks.exit()


if __name__ == "__main__":
    main()
