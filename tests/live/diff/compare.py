#!/usr/bin/env python3
"""Compares live httpeek with httpeek -r on a recording of the same traffic (run.sh).

compare.py CASE DIR [EXPECT]
DIR holds live.jsonl and live.err (live httpeek), rec-*.jsonl and rec-*.err (each recording
read back with httpeek -r), tcpdump-*.err (tcpdump's closing counts) and conns-*.jsonl
(the clients' logs: traffic.py's, or curl's made into one by traffic.py curl). One TAP line per
check (tests/checklib.py):
  capture    tcpdump dropped nothing (else the run is invalid and nothing is compared)
  traffic    no client connection failed
  reference  the recording holds exactly the messages the clients sent and read, every field
             of each: the heads they logged, parsed here (wire_view(), not httpeek's parser)
  egress, ingress  live's messages of that direction against the recording's: per connection
             and kind, as ordered lists; any missing, extra or different one fails, with a
             breakdown (and the fields that differ)
  directions every live message is at egress or ingress
  baseline   none of those on the connections of a single GET (a check of the harness)
A message is its connection, its kind and every field of its HTTP object: method, target,
host, protocol, status, each header name and value in order, content_length, truncation.
Exits 1 when a check failed.
"""
import bisect
import collections
import glob
import json
import os
import re
import sys

from traffic import CLIENTS, H2_PORTS, PORTS, SERVERS

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from checklib import canonical_header as canonical, tap_fail, tap_note, tap_ok, url_path  # noqa: E402

ADDRS = set(SERVERS.values()) | set(CLIENTS.values())
DIRECTIONS = {"ingress": "ingress", "egress": "egress", 1: "ingress", 2: "egress"}
SHOWN = 20


def our_message(a):
    ports = set(PORTS.values()) | set(H2_PORTS.values())
    return a["src"] in ADDRS and a["dst"] in ADDRS and (
        a["src_port"] in ports or a["dst_port"] in ports)


class Key(tuple):
    """A message's short key (method and path, or status), which aligns the lists; .whole is
    every field of the message, which must be equal too."""

    def __new__(cls, key, whole):
        out = super().__new__(cls, key)
        out.whole = whole
        return out


def view_key(kind, view):
    """The Key of a message's fields (the HTTP object, headers as ordered pairs)."""
    whole = json.dumps({k: (list(v.items()) if k == "headers" else v) for k, v in view.items()})
    short = (view["method"], view["uri_path"]) if kind == "request" else (view["status_code"],)
    return Key(short, whole)


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
    where = a["metadata"].get("direction")
    return DIRECTIONS.get(where, str(where)), (conn, kind), view_key(kind, h)


def wire_view(head, request_method=None):
    """The HTTP object httpeek must write for a head, from the head's bytes as a client or a
    server logged them (latin-1 text, ending with the empty line): this file's own reading of
    HTTP/1.x, which shares nothing with httpeek's parser. request_method: for a response, the
    method of its request (a HEAD response has no body)."""
    lines = head.split("\r\n")
    start, fields = lines[0], []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            fields.append((canonical(name), value.strip(" \t")))
    headers = {}
    for name, value in fields:
        headers.setdefault(name, []).append(value)
    te = ",".join(headers.get("Transfer-Encoding", [])).lower()
    cl = headers.get("Content-Length", [])
    length = int(cl[0]) if len(set(cl)) == 1 and cl[0].isdigit() else None
    view = {"direction": "", "method": "", "protocol": "", "host": "", "uri_path": "",
            "status": "", "status_code": 0, "headers": headers, "content_length": 0}
    if start.startswith("HTTP/"):
        version, _, rest = start.partition(" ")
        code = int(rest[:3])
        # No body, so none to measure: 1xx, 204, 304. A response to HEAD describes the body
        # it would have: its Content-Length, else unknown (-1).
        no_body = code < 200 or code in (204, 304)
        view.update(direction="response", protocol=version, status=rest.strip(),
                    status_code=code,
                    content_length=(-1 if "chunked" in te else length if length is not None
                                    else 0 if no_body else -1))
        return view
    method, target, version = start.split(" ")
    view.update(direction="request", method=method, protocol=version,
                host=headers.get("Host", [""])[0], uri_path=url_path(method, target),
                content_length=-1 if "chunked" in te else length or 0)
    view["uri"] = target
    return view


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
    """Indices of want that got lacks, of got that want lacks, and pairs (i, j) aligned by key
    whose fields differ, along a longest common subsequence of keys (among those, one that
    pairs the most whole messages)."""
    head = 0
    while head < min(len(want), len(got)) and want[head].whole == got[head].whole:
        head += 1
    want, got = want[head:], got[head:]
    if len(want) * len(got) > 250_000:
        missing, extra, pairs = greedy_align(want, got)
    else:
        missing, extra, pairs = lcs_align(want, got)
    differ = [(head + i, head + j) for i, j in pairs if want[i].whole != got[j].whole]
    return [head + i for i in missing], [head + j for j in extra], differ


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
    missing, extra, pairs, i, j = [], [], [], 0, 0
    while i < n and j < m:
        if want[i] == got[j] and score[i][j] == score[i + 1][j + 1] + 1000 + (
                want[i].whole == got[j].whole):
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            missing.append(i)
            i += 1
        else:
            extra.append(j)
            j += 1
    return missing + list(range(i, n)), extra + list(range(j, m)), pairs


def greedy_align(want, got):
    """align() for long lists: each got item takes the next equal want item, else is extra
    (exact when got is a subsequence of want; may count a stray extra as more)."""
    where = collections.defaultdict(list)
    for i, k in enumerate(want):
        where[k].append(i)
    missing, extra, pairs, i = [], [], [], 0
    for j, k in enumerate(got):
        at = where.get(k, [])
        n = bisect.bisect_left(at, i)
        if n == len(at):
            extra.append(j)
            continue
        missing += range(i, at[n])
        pairs.append((at[n], j))
        i = at[n] + 1
    return missing + list(range(i, len(want))), extra, pairs


def fields_differ(a, b):
    """The fields of two messages' Keys that differ, with both values (short)."""
    x, y = json.loads(a.whole), json.loads(b.whole)
    return "; ".join(f"{k}: {str(x.get(k))[:120]} / {str(y.get(k))[:120]}"
                     for k in list(x) + [k for k in y if k not in x] if x.get(k) != y.get(k))


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
        """One TAP line: "ok - diff: CASE NAME" and the detail as a note, or "not ok"."""
        if ok:
            tap_ok("diff", f"{self.case} {name}")
            tap_note(f"  {detail}")
        else:
            tap_fail("diff", f"{self.case} {name}", detail)
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
        tap_note(f"  conn {log['cid']} {log['scenario']} {log['transport']}: {log['error']}")


def sent_and_read(traffic):
    """{(connection, kind): Keys} as the clients sent and read them, from the heads they
    logged (wire_view())."""
    out = {}
    for conn, log in traffic.by_conn.items():
        out[conn, "request"] = [view_key("request", wire_view(r[3])) for r in log["requests"]]
        out[conn, "response"] = [
            view_key("response", wire_view(head, log["requests"][i][0]
                                           if i < len(log["requests"]) else None))
            for _, i, head in log["responses"]]
    return {k: v for k, v in out.items() if v}


def check_reference(report, rec, traffic, expect=None):
    """The recording against what the clients sent and read; for traffic of other clients
    (the h2 case), against the count of messages it must hold."""
    total = sum(map(len, rec.values()))
    if expect is not None:
        report.check("reference", total == expect, f"({total} messages in the recording "
                     f"on {len({c for c, _ in rec})} connections, want {expect})")
        return
    clients = sent_and_read(traffic)
    wrong = sorted(k for k in set(rec) | set(clients)
                   if [x.whole for x in rec.get(k, [])] != [x.whole for x in clients.get(k, [])])
    report.check("reference", total and not wrong, f"({total} messages in the recording, "
                 f"{sum(map(len, clients.values()))} as the clients sent and read them; "
                 f"{len(wrong)} connection sides differ)")
    for conn, kind in wrong[:SHOWN]:
        a, b = rec.get((conn, kind), []), clients.get((conn, kind), [])
        i = next((n for n, (x, y) in enumerate(zip(a, b)) if x.whole != y.whole),
                 min(len(a), len(b)))
        tap_note(f"  {traffic.describe(conn)} {kind}s: recording {len(a)}, clients {len(b)}; "
                 f"from #{i + 1} recording {[x[0] for x in a[i:i + 4]]} clients "
                 f"{[x[0] for x in b[i:i + 4]]}")
        if i < min(len(a), len(b)):
            tap_note(f"    #{i + 1} differs (recording / clients): {fields_differ(a[i], b[i])}")


def compare_direction(report, direction, rec, live, traffic):
    total = sum(map(len, rec.values()))
    lost, added, changed = [], [], []
    for conn_kind in sorted(set(rec) | set(live)):
        want, got = rec.get(conn_kind, []), live.get(conn_kind, [])
        missing, extra, differ = align(want, got)
        lost += [(conn_kind, i, want) for i in missing]
        added += [(conn_kind, j, got) for j in extra]
        changed += [(conn_kind, i, want, got[j]) for i, j in differ]
    bad = lost or added or changed
    report.check(direction, not bad, f"missing {len(lost)} extra {len(added)} different "
                 f"{len(changed)} of {total}" if bad else f"({total} messages, every field)")
    for (conn, kind), i, want, got in changed[:SHOWN]:
        tap_note(f"  different: {show_key(kind, want[i])} #{i + 1} on {conn[0]}:{conn[1]} > "
                 f"{conn[2]}:{conn[3]} (recording / live): {fields_differ(want[i], got)}")
    found = [(k, i) for k, i, _ in lost + added] + [(k, i) for k, i, _, _ in changed]
    if found and found == report.last_found:
        tap_note("  (the same messages as the direction before)")
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
        tap_note(detail("missing", item, traffic))
    for item in added[:SHOWN]:
        tap_note(detail("extra", item, traffic))
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
    tap_note(f" {title}: " + ", ".join(parts))


def summaries(tmp):
    for path in sorted(glob.glob(os.path.join(tmp, "*.err"))):
        if os.path.basename(path).startswith("tcpdump-"):
            continue
        for line in open(path):
            if line.startswith("httpeek: ") and ("packets" in line or "records" in line):
                tap_note(f"  {os.path.basename(path)[:-4]}: {line.rstrip()}")


def check_exits(report, tmp):
    """httpeek -r read every recording to its end (exit 0, as rec-*.rc says)."""
    rcs = {os.path.basename(p)[4:-3]: open(p).read().strip()
           for p in sorted(glob.glob(os.path.join(tmp, "rec-*.rc")))}
    bad = {k: v for k, v in rcs.items() if v != "0"}
    report.check("recording-read", rcs and not bad, f"(httpeek -r exit statuses {rcs})")


def main(case, tmp, expect=None):
    report = Report(case)
    traffic = Traffic(sorted(glob.glob(os.path.join(tmp, "conns-*.jsonl"))))
    check_traffic(report, traffic)
    if check_capture(report, tmp):
        check_exits(report, tmp)
        rec = merged(messages(sorted(glob.glob(os.path.join(tmp, "rec-*.jsonl")))))
        check_reference(report, rec, traffic, None if expect is None else int(expect))
        live = messages([os.path.join(tmp, "live.jsonl")])
        found = []
        for direction in ("egress", "ingress"):
            found += compare_direction(report, direction, rec, live.get(direction, {}), traffic)
        check_baseline(report, rec, traffic, found)
        other = {d: sum(map(len, v.values())) for d, v in live.items() if d not in DIRECTIONS}
        report.check("directions", not other, f"(live messages at neither egress nor ingress: "
                     f"{other or 'none'})")
    summaries(tmp)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
