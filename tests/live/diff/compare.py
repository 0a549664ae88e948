#!/usr/bin/env python3
"""Compares live httpeek with httpeek -r on a recording of the same traffic (run.sh).

compare.py CASE DIR [EXPECT]
DIR holds live.jsonl and live.err (live httpeek), rec-*.jsonl and rec-*.err (each recording
read back with httpeek -r), tcpdump-*.err (tcpdump's closing counts) and conns-*.jsonl
(traffic.py's logs, when traffic.py made the traffic). Prints "diff: CASE CHECK ok" or FAIL:
  capture    tcpdump dropped nothing (else the run is invalid and nothing is compared)
  traffic    no client connection failed
  reference  the recording holds the messages the clients sent and read (or EXPECT messages)
  egress, ingress  live's messages of that direction against the recording's: per connection
             and kind, as ordered lists; any missing or extra one fails, with a breakdown.
  baseline   none of those on the connections of a single GET (a check of the harness)
A message is keyed by its connection, its kind, and method and path (request) or status
(response). Exits 1 when a check failed.
"""
import bisect
import collections
import glob
import json
import os
import re
import sys

from traffic import CLIENTS, PORTS, SERVERS

ADDRS = set(SERVERS.values()) | set(CLIENTS.values())
DIRECTIONS = {"ingress": "ingress", "egress": "egress", 1: "ingress", 2: "egress"}
SHOWN = 20


def our_message(a):
    return a["src"] in ADDRS and a["dst"] in ADDRS and (
        a["src_port"] in PORTS.values() or a["dst_port"] in PORTS.values())


class Key(tuple):
    """A message's key (method and path, or status); .whole adds its parsed headers, which
    tell apart messages of one key (both sides parse the same bytes) when aligning."""

    def __new__(cls, key, headers):
        out = super().__new__(cls, key)
        out.whole = (key, headers)
        return out


def message(event):
    """(direction, (connection, kind), key) of a net_packet_http event; None when not ours."""
    if event["eventName"] != "net_packet_http":
        return None
    a = {arg["name"]: arg["value"] for arg in event["args"]}
    if not our_message(a):
        return None
    h = a["proto_http"]
    kind = h["direction"]
    ends = [a["src"], a["src_port"], a["dst"], a["dst_port"]]
    conn = tuple(ends if kind == "request" else ends[2:] + ends[:2])
    key = (h["method"], h["uri_path"]) if kind == "request" else (h["status_code"],)
    where = a["metadata"].get("direction")
    return DIRECTIONS.get(where, str(where)), (conn, kind), Key(key, json.dumps(h["headers"]))


def messages(paths):
    """{direction: {(connection, kind): [key, ...] in the order written}}."""
    out = collections.defaultdict(lambda: collections.defaultdict(list))
    for path in paths:
        with open(path) as f:
            for line in f:
                m = message(json.loads(line))
                if m:
                    out[m[0]][m[1]].append(m[2])
    return out


def merged(by_direction):
    out = collections.defaultdict(list)
    for lists in by_direction.values():
        for k, v in lists.items():
            out[k] += v
    return out


def align(want, got):
    """Indices of want that got lacks and of got that want lacks, along a longest common
    subsequence of keys (among those, one that pairs the most whole messages)."""
    head = 0
    while head < min(len(want), len(got)) and want[head].whole == got[head].whole:
        head += 1
    want, got = want[head:], got[head:]
    if len(want) * len(got) > 250_000:
        missing, extra = greedy_align(want, got)
    else:
        missing, extra = lcs_align(want, got)
    return [head + i for i in missing], [head + j for j in extra]


def lcs_align(want, got):
    """align() by dynamic programming: a key match scores 1000, a whole match one more."""
    n, m = len(want), len(got)
    score = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = score[i], score[i + 1]
        for j in range(m - 1, -1, -1):
            row[j] = max(below[j], row[j + 1])
            if want[i] == got[j]:
                row[j] = max(row[j], below[j + 1] + 1000 + (want[i].whole == got[j].whole))
    missing, extra, i, j = [], [], 0, 0
    while i < n and j < m:
        if want[i] == got[j] and score[i][j] == score[i + 1][j + 1] + 1000 + (
                want[i].whole == got[j].whole):
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            missing.append(i)
            i += 1
        else:
            extra.append(j)
            j += 1
    return missing + list(range(i, n)), extra + list(range(j, m))


def greedy_align(want, got):
    """align() for long lists: each got item takes the next equal want item, else is extra
    (exact when got is a subsequence of want; may count a stray extra as more)."""
    where = collections.defaultdict(list)
    for i, k in enumerate(want):
        where[k].append(i)
    missing, extra, i = [], [], 0
    for j, k in enumerate(got):
        at = where.get(k, [])
        n = bisect.bisect_left(at, i)
        if n == len(at):
            extra.append(j)
            continue
        missing += range(i, at[n])
        i = at[n] + 1
    return missing + list(range(i, len(want))), extra


class Traffic:
    """traffic.py's logs, by connection."""

    def __init__(self, paths):
        self.logs = []
        for path in paths:
            with open(path) as f:
                self.logs += [json.loads(line) for line in f]
        self.by_conn = {}
        for log in self.logs:
            if "client" in log:
                self.by_conn[tuple(log["client"] + log["server"])] = log

    def describe(self, conn):
        log = self.by_conn.get(conn)
        return f"conn {log['cid']} {log['scenario']} {log['transport']}" if log else "curl"

    def scenario(self, conn):
        log = self.by_conn.get(conn)
        return log["scenario"] if log else "curl"

    def transport(self, conn):
        return ("lo" if conn[0] in ("127.0.0.1", "::1") else "veth") + (
            "6" if ":" in conn[0] else "4")

    def label(self, conn, kind, index):
        """The label of the request a message is, or answers; "" when not logged."""
        log = self.by_conn.get(conn)
        if not log:
            return ""
        if kind == "response":
            if index >= len(log["responses"]):
                return ""
            index = log["responses"][index][1]
        return log["requests"][index][2] if index < len(log["requests"]) else ""


def show_key(kind, key):
    return f"{kind} {' '.join(map(str, key))}"


def after(kind, keys, index, label):
    if index == 0:
        return "first"
    if kind == "response":
        return f"after {keys[index - 1][0]}"
    body = re.search(r"cl=[1-9]|chunked=\d", label or "")
    return f"after {keys[index - 1][0]}" + (" with body" if body else "")


class Report:
    def __init__(self, case):
        self.case = case
        self.failed = False
        self.last_found = None

    def check(self, name, ok, detail):
        """Prints "diff: CASE NAME ok" and the detail below it, or "... FAIL detail"."""
        if ok:
            print(f"diff: {self.case} {name} ok\n  {detail}")
        else:
            print(f"diff: {self.case} {name} FAIL {detail}")
        self.failed |= not ok


def capture_counts(tmp):
    """{interface: (captured, dropped by kernel)} from tcpdump's closing lines."""
    out = {}
    for path in sorted(glob.glob(os.path.join(tmp, "tcpdump-*.err"))):
        text = open(path).read()
        got = re.search(r"(\d+) packets? captured", text)
        drop = re.search(r"(\d+) packets? dropped by kernel", text)
        name = os.path.basename(path)[8:-4]
        out[name] = (int(got.group(1)) if got else -1, int(drop.group(1)) if drop else -1)
    return out


def check_capture(report, tmp):
    counts = capture_counts(tmp)
    text = ", ".join(f"{k} {c} packets {d} dropped by kernel" for k, (c, d) in counts.items())
    ok = counts and all(c >= 0 and d == 0 for c, d in counts.values())
    if not ok:
        text = f"invalid run, nothing compared: tcpdump lost packets or said nothing ({text})"
    report.check("capture", ok, f"({text})")
    return ok


def check_traffic(report, traffic):
    if not traffic.logs:
        return
    errors = [log for log in traffic.logs if log["error"]]
    reqs = sum(len(log["requests"]) for log in traffic.logs)
    resps = sum(len(log["responses"]) for log in traffic.logs)
    report.check("traffic", not errors, f"({len(traffic.logs)} connections, {reqs} requests, "
                 f"{resps} responses, {len(errors)} failed)")
    for log in errors[:SHOWN]:
        print(f"  conn {log['cid']} {log['scenario']} {log['transport']}: {log['error']}")


def sent_and_read(traffic):
    """{(connection, kind): keys} as the clients sent and read them."""
    out = {}
    for conn, log in traffic.by_conn.items():
        out[conn, "request"] = [(m, p) for m, p, _ in log["requests"]]
        out[conn, "response"] = [(s,) for s, _ in log["responses"]]
    return {k: v for k, v in out.items() if v}


def check_reference(report, rec, traffic, expect):
    total = sum(map(len, rec.values()))
    if expect is not None:
        report.check("reference", total == expect, f"({total} messages in the recording "
                     f"on {len({c for c, _ in rec})} connections, want {expect})")
        return
    clients = sent_and_read(traffic)
    wrong = sorted(k for k in set(rec) | set(clients) if rec.get(k, []) != clients.get(k, []))
    report.check("reference", not wrong, f"({total} messages in the recording, "
                 f"{sum(map(len, clients.values()))} as the clients sent and read them; "
                 f"{len(wrong)} connection sides differ)")
    for conn, kind in wrong[:SHOWN]:
        a, b = rec.get((conn, kind), []), clients.get((conn, kind), [])
        i = next((n for n, (x, y) in enumerate(zip(a, b)) if tuple(x) != tuple(y)),
                 min(len(a), len(b)))
        print(f"  {traffic.describe(conn)} {kind}s: recording {len(a)}, clients {len(b)}; "
              f"from #{i + 1} recording {[x[0] for x in a[i:i + 4]]} clients "
              f"{[x[0] for x in b[i:i + 4]]}")


def compare_direction(report, direction, rec, live, traffic):
    total = sum(map(len, rec.values()))
    lost, added = [], []
    for conn_kind in sorted(set(rec) | set(live)):
        want, got = rec.get(conn_kind, []), live.get(conn_kind, [])
        missing, extra = align(want, got)
        lost += [(conn_kind, i, want) for i in missing]
        added += [(conn_kind, j, got) for j in extra]
    report.check(direction, not lost and not added,
                 f"missing {len(lost)} extra {len(added)} of {total}" if lost or added
                 else f"({total} messages)")
    found = [(k, i) for k, i, _ in lost + added]
    if found and found == report.last_found:
        print("  (the same messages as the direction before)")
    elif found:
        breakdown(rec, lost, added, traffic)
    report.last_found = found
    return found


def check_baseline(report, rec, traffic, found):
    """The connections of one plain GET must come out whole: else suspect the harness."""
    single = {c for c, log in traffic.by_conn.items() if log["scenario"].endswith("-single")}
    if not single:
        return
    total = sum(len(v) for (c, _), v in rec.items() if c in single)
    bad = sum(1 for (c, _), _ in found if c in single)
    report.check("baseline", not bad, f"({len(single)} connections of one GET, {total} "
                 f"messages; {bad} missing or extra at either end)")


def detail(what, item, traffic):
    (conn, kind), i, keys = item
    label = traffic.label(conn, kind, i)
    ends = f"{conn[0]}:{conn[1]} > {conn[2]}:{conn[3]}"
    answers = f"; {'to ' if kind == 'response' else ''}{label}" if label else ""
    return (f"  {what} {show_key(kind, keys[i])} #{i + 1} on {ends} ({traffic.describe(conn)}"
            f"{answers}; {after(kind, keys, i, traffic.label(conn, kind, i - 1))})")


def breakdown(rec, lost, added, traffic):
    for item in lost[:SHOWN]:
        print(detail("missing", item, traffic))
    for item in added[:SHOWN]:
        print(detail("extra", item, traffic))
    per_scenario, per_transport = collections.Counter(), collections.Counter()
    for (conn, _), keys in rec.items():
        per_scenario[traffic.scenario(conn)] += len(keys)
        per_transport[traffic.transport(conn)] += len(keys)
    counts(" missing by scenario", lost, lambda c, k, i, ks: traffic.scenario(c), per_scenario)
    counts(" missing by transport", lost, lambda c, k, i, ks: traffic.transport(c),
           per_transport)
    counts(" missing by message", lost, lambda c, k, i, ks: f"{k} {ks[i][0]}")
    counts(" missing by position", lost, lambda c, k, i, ks: f"{k} " + after(
        k, ks, i, traffic.label(c, k, i - 1)))
    counts(" extra by message", added, lambda c, k, i, ks: f"{k} {ks[i][0]}")


def counts(title, items, key, totals=None):
    if not items:
        return
    c = collections.Counter(key(conn, kind, i, keys) for (conn, kind), i, keys in items)
    parts = [f"{k} {n}" + (f"/{totals[k]}" if totals else "") for k, n in c.most_common(16)]
    print(f" {title}: " + ", ".join(parts))


def summaries(tmp):
    for path in sorted(glob.glob(os.path.join(tmp, "*.err"))):
        if os.path.basename(path).startswith("tcpdump-"):
            continue
        for line in open(path):
            if line.startswith("httpeek: ") and ("packets" in line or "records" in line):
                print(f"  {os.path.basename(path)[:-4]}: {line.rstrip()}")


def main(case, tmp, expect=None):
    report = Report(case)
    traffic = Traffic(sorted(glob.glob(os.path.join(tmp, "conns-*.jsonl"))))
    check_traffic(report, traffic)
    if check_capture(report, tmp):
        rec = merged(messages(sorted(glob.glob(os.path.join(tmp, "rec-*.jsonl")))))
        check_reference(report, rec, traffic, None if expect is None else int(expect))
        live = messages([os.path.join(tmp, "live.jsonl")])
        found = []
        for direction in ("egress", "ingress"):
            found += compare_direction(report, direction, rec, live.get(direction, {}), traffic)
        check_baseline(report, rec, traffic, found)
        other = {d: sum(map(len, v.values())) for d, v in live.items() if d not in DIRECTIONS}
        if other:
            print(f"  live messages with another direction: {other}")
    summaries(tmp)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
