#!/usr/bin/env python3
"""Golden tests: ./httpeek -r on each capture in tests/captures/ must report exactly the events
in tests/offline/golden/expected.tsv (net_packet_http, and net_packet_http_request/_response) and
expected-flows.tsv (net_flow_http: every capture, none where it has no rows), every field of
each, with stdout holding only well-formed Tracee-shaped JSON lines, and write every line
expected-summary.tsv lists for it on stderr (a capture listed there may have no rows in
expected.tsv: it must then report no event). The two tables are tshark's reading of the
captures (derive.py, with tshark-differs.tsv): each capture's rows must also equal what
derive.py gives now, so that the writer and its expectations cannot drift together.
One TAP line per capture (tests/checklib.py); exits 1 on any failure.
HTTPEEK in the environment overrides the binary, HTTPEEK_CAPTURES the capture directory (to
check a fresh scripts/record-captures.sh run before committing it)."""

import collections
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from checklib import Checks  # noqa: E402
from pcaplib import tsresol  # noqa: E402
import derive  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CAPTURES = os.environ.get("HTTPEEK_CAPTURES", os.path.join(ROOT, "tests", "captures"))
HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
TIMEOUT = 30

TOP_KEYS = [
    "timestamp", "threadStartTime", "processorId", "processId", "cgroupId", "threadId",
    "parentProcessId", "hostProcessId", "hostThreadId", "hostParentProcessId", "userId",
    "mountNamespace", "pidNamespace", "processName", "executable", "hostName", "containerId",
    "container", "kubernetes", "eventId", "eventName", "matchedPolicies", "argsNum",
    "returnValue", "syscall", "stackAddresses", "contextFlags", "threadEntityId",
    "processEntityId", "parentEntityId", "args",
]
# Offline there is no process: these are 0 or "".
ZERO_KEYS = ["threadStartTime", "processorId", "processId", "cgroupId", "threadId",
             "parentProcessId", "hostProcessId", "hostThreadId", "hostParentProcessId", "userId",
             "mountNamespace", "pidNamespace", "threadEntityId", "processEntityId",
             "parentEntityId", "returnValue"]
EMPTY_KEYS = ["processName", "hostName", "containerId"]
EVENT_IDS = {"net_packet_http": "2009", "net_packet_http_request": "2010",
             "net_packet_http_response": "2011", "net_flow_http": "2100"}
HTTP_ARGS = [("src", "const char*"), ("dst", "const char*"), ("src_port", "uint16"),
             ("dst_port", "uint16"), ("metadata", "trace.PacketMetadata"),
             ("proto_http", "trace.ProtoHTTP")]
# Tracee's PacketDirection numbers, named as expected.tsv names them.
DIRECTIONS = {0: "unknown", 1: "ingress", 2: "egress"}
PROTO_KEYS = ["direction", "method", "protocol", "host", "uri_path", "status", "status_code",
              "headers", "content_length"]
MSG_FIELDS = derive.MSG_COLUMNS
SUMMARY_FIELDS = ["line"]
FLOW_FIELDS = derive.FLOW_COLUMNS
INT_FIELDS = {"frame", "status_code", "content_length", "src_port", "dst_port", "trans_depth",
              "client_port", "server_port", "packet_len", "latency_ns"}


class Failure(Exception):
    pass


def read_table(path, fields):
    """Rows of a tab-separated table: {capture: [dict]} in file order."""
    rows = collections.OrderedDict()
    header = None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                if header != ["capture"] + fields:
                    raise SystemExit("%s: unexpected header %r" % (path, header))
                continue
            if len(cols) != len(header):
                raise SystemExit("%s:%d: %d columns, want %d" % (path, n, len(cols), len(header)))
            row = {}
            for name, val in zip(header[1:], cols[1:]):
                if val == "-":
                    val = [] if name == "headers" else ""
                elif name == "headers":
                    val = json.loads(val)
                row[name] = int(val) if name in INT_FIELDS and val != "" else val
            rows.setdefault(cols[0], []).append(row)
    return rows


def frame_times(path):
    """Capture time in ns of every packet (1-based frame n at index n-1), pcap or pcapng."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return pcapng_times(data)
    magic = data[:4]
    for endian in "<>":
        m = struct.unpack(endian + "I", magic)[0]
        if m in (0xa1b2c3d4, 0xa1b23c4d):
            scale = 1000 if m == 0xa1b2c3d4 else 1
            break
    else:
        raise Failure("%s: not a pcap file" % path)
    times, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        times.append(sec * 1000000000 + frac * scale)
        off += 16 + incl
    return times


def pcapng_times(data):
    times, resol, off, endian = [], [], 0, "<"
    while off + 12 <= len(data):
        btype = struct.unpack(endian + "I", data[off:off + 4])[0]
        if btype == 0x0a0d0d0a:
            endian = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            resol = []
        blen = struct.unpack(endian + "I", data[off + 4:off + 8])[0]
        body = data[off + 8:off + blen - 4]
        if btype == 1:
            resol.append(tsresol(body))
        elif btype == 6:
            ifid, hi, lo = struct.unpack(endian + "III", body[:12])
            units = resol[ifid]
            times.append(((hi << 32) | lo) * 1000000000 // units)
        elif btype == 3:
            times.append(None)
        if blen < 12:
            raise Failure("pcapng: bad block length")
        off += blen
    return times


def no_dup_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in object: %r" % keys)
    return collections.OrderedDict(pairs)


def bad_constant(name):
    raise ValueError("non-JSON constant %s" % name)


def run_httpeek(path, events, stderr_lines=None):
    """Events printed by httpeek for path; checks the byte stream and the process result.
    stderr_lines, when given, receives the lines httpeek wrote on stderr."""
    cmd = [HTTPEEK, "-r", path, "-e", events]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure("%s: timed out after %ds" % (" ".join(cmd), TIMEOUT))
    if p.returncode != 0:
        raise Failure("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                           p.stderr.decode("utf-8", "replace").strip()))
    if stderr_lines is not None:
        stderr_lines.extend(p.stderr.decode("utf-8", "replace").splitlines())
    out = p.stdout
    if out and not out.endswith(b"\n"):
        raise Failure("-e %s: stdout does not end with a newline" % events)
    evs = []
    for n, line in enumerate(out.split(b"\n")[:-1], 1):
        where = "-e %s: stdout line %d" % (events, n)
        if not line.startswith(b"{") or not line.endswith(b"}"):
            raise Failure("%s is not a JSON object line: %r" % (where, line[:120]))
        try:
            text = line.decode("utf-8")
            ev = json.loads(text, object_pairs_hook=no_dup_keys, parse_constant=bad_constant)
        except ValueError as e:
            raise Failure("%s: %s: %r" % (where, e, line[:120]))
        check_top(ev, where)
        evs.append(ev)
    return evs


def check_top(ev, where):
    if list(ev.keys()) != TOP_KEYS:
        raise Failure("%s: top-level keys %r, want %r" % (where, list(ev.keys()), TOP_KEYS))
    name = ev["eventName"]
    if EVENT_IDS.get(name) != ev["eventId"]:
        raise Failure("%s: eventId %r for %r" % (where, ev["eventId"], name))
    for k in ZERO_KEYS:
        if ev[k] != 0 or isinstance(ev[k], bool):
            raise Failure("%s: %s is %r offline, want 0" % (where, k, ev[k]))
    for k in EMPTY_KEYS:
        if ev[k] != "":
            raise Failure("%s: %s is %r offline, want \"\"" % (where, k, ev[k]))
    if ev["executable"] != {"path": ""} or ev["container"] != {} or ev["kubernetes"] != {}:
        raise Failure("%s: executable/container/kubernetes not empty offline" % where)
    if ev["contextFlags"] != {"containerStarted": False, "isCompat": False}:
        raise Failure("%s: contextFlags %r" % (where, ev["contextFlags"]))
    if not isinstance(ev["syscall"], str) or not isinstance(ev["matchedPolicies"], list) \
            or not isinstance(ev["stackAddresses"], list):
        raise Failure("%s: syscall/matchedPolicies/stackAddresses of the wrong type" % where)
    if not isinstance(ev["timestamp"], int) or isinstance(ev["timestamp"], bool):
        raise Failure("%s: timestamp %r is not an integer" % (where, ev["timestamp"]))
    args = ev["args"]
    if not isinstance(args, list) or ev["argsNum"] != len(args):
        raise Failure("%s: argsNum %r but %d args" % (where, ev["argsNum"], len(args)))
    for a in args:
        if not isinstance(a, dict) or list(a.keys()) != ["name", "type", "value"]:
            raise Failure("%s: arg %r is not {name, type, value}" % (where, a))


def args_of(ev):
    return collections.OrderedDict((a["name"], a) for a in ev["args"])


def want(cond, where, what):
    if not cond:
        raise Failure("%s: %s" % (where, what))


def check_headers(h, where):
    want(isinstance(h, dict), where, "headers is not an object")
    for name, vals in h.items():
        want(isinstance(vals, list) and all(isinstance(v, str) for v in vals), where,
             "header %r is not a list of strings" % name)


def extras(p, where):
    """The extra keys of an HTTP object as expected.tsv writes them: truncated as "yes",
    tunnel as "VIA PROXY TARGET"."""
    t = p.get("tunnel")
    if t is not None:
        want(isinstance(t, dict) and list(t.keys()) == ["via", "proxy", "target"]
             and all(isinstance(v, str) for v in t.values()), where, "tunnel %r" % t)
        t = " ".join(t.values())
    want(p.get("truncated", True) is True, where, "truncated %r" % p.get("truncated"))
    return {"truncated": "yes" if p.get("truncated") else "", "tunnel": t or ""}


def project_packet_http(ev, where):
    a = args_of(ev)
    want([(x["name"], x["type"]) for x in ev["args"]] == HTTP_ARGS, where,
         "args %r" % [(x["name"], x["type"]) for x in ev["args"]])
    p = a["proto_http"]["value"]
    want(isinstance(p, dict) and list(p.keys())[:len(PROTO_KEYS)] == PROTO_KEYS, where,
         "proto_http keys %r" % (list(p.keys()) if isinstance(p, dict) else p))
    check_headers(p["headers"], where)
    meta = a["metadata"]["value"]
    want(isinstance(meta, dict) and list(meta.keys())[:1] == ["direction"]
         and type(meta["direction"]) is int and meta["direction"] in DIRECTIONS, where,
         "metadata %r" % meta)
    return {"timestamp": ev["timestamp"], "kind": p["direction"], "method": p["method"],
            "uri": p.get("uri", ""), "uri_path": p["uri_path"], "host": p["host"],
            "protocol": p["protocol"],
            "status_code": p["status_code"], "status": p["status"],
            "content_length": p["content_length"], "src": a["src"]["value"],
            "dst": a["dst"]["value"], "src_port": a["src_port"]["value"],
            "dst_port": a["dst_port"]["value"], "direction": DIRECTIONS[meta["direction"]],
            "headers": pairs(p["headers"]), **extras(p, where)}


def pairs(headers):
    """The headers object as the tables write it: [name, value] in order."""
    return [[k, v] for k, vs in headers.items() for v in vs]


def project_split(ev, where):
    """net_packet_http_request/_response: trace.PktMeta and trace.ProtoHTTPRequest/Response."""
    a = args_of(ev)
    req = ev["eventName"] == "net_packet_http_request"
    body = "http_request" if req else "http_response"
    want(list(a.keys()) == ["metadata", body] and a["metadata"]["type"] == "trace.PktMeta",
         where, "args %r" % [(x["name"], x["type"]) for x in ev["args"]])
    m, p = a["metadata"]["value"], a[body]["value"]
    keys = (["method", "protocol", "host", "uri_path", "headers", "content_length"] if req
            else ["status", "status_code", "protocol", "headers", "content_length"])
    want(list(p.keys())[:len(keys)] == keys, where, "%s keys %r" % (body, list(p.keys())))
    check_headers(p["headers"], where)
    want(m.get("iface") == "any" and m.get("protocol") == 6, where, "PktMeta %r" % m)
    out = {"timestamp": ev["timestamp"], "kind": "request" if req else "response",
           "src": m.get("src_ip"), "dst": m.get("dst_ip"), "src_port": m.get("src_port"),
           "dst_port": m.get("dst_port"), "headers": pairs(p["headers"]),
           "packet_len": m.get("packet_len"), **extras(p, where)}
    for k in keys[:-2] + ["content_length"]:
        out[k] = p[k]
    if req:
        out["uri"] = p.get("uri", "")
    return out


def project_flow(ev, where):
    a = args_of(ev)
    names = ["client_ip", "client_port", "server_ip", "server_port", "metadata", "request",
             "response", "latency_ns", "trans_depth"]
    want(list(a.keys()) == names, where, "args %r" % list(a.keys()))
    req, resp = a["request"]["value"], a["response"]["value"]
    return {"timestamp": ev["timestamp"],
            "method": req["method"] if req else "",
            "uri_path": req["uri_path"] if req else "",
            "status_code": resp["status_code"] if resp else "",
            "trans_depth": a["trans_depth"]["value"], "client": a["client_ip"]["value"],
            "client_port": a["client_port"]["value"], "server": a["server_ip"]["value"],
            "server_port": a["server_port"]["value"],
            "latency_ns": a["latency_ns"]["value"]}


def expected_view(row, times):
    """The expected row as the fields an event projection holds (frame becomes timestamp)."""
    exp = dict(row)
    frame = exp.pop("frame")
    if not 1 <= frame <= len(times) or times[frame - 1] is None:
        raise SystemExit("expected frame %d is not in the capture" % frame)
    exp["timestamp"] = times[frame - 1]
    return exp


def matches(exp, got):
    """True when every field of exp the projection got has agrees with it."""
    return all(got[k] == v for k, v in exp.items() if k in got)


def match_all(exps, gots):
    """Maximum matching of expected rows to events: (unmatched exps, unmatched gots)."""
    owner = [None] * len(gots)

    def augment(i, seen):
        for j in range(len(gots)):
            if j not in seen and matches(exps[i], gots[j]):
                seen.add(j)
                if owner[j] is None or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    for i in range(len(exps)):
        augment(i, set())
    used = set(o for o in owner if o is not None)
    return ([e for i, e in enumerate(exps) if i not in used],
            [g for j, g in enumerate(gots) if owner[j] is None])


def describe(d, times):
    shown = []
    for k, v in d.items():
        if k == "headers":
            v = json.dumps(v)
        if k == "timestamp":
            frames = [i + 1 for i, t in enumerate(times) if t == v]
            v = "%s (frame %s)" % (v, ",".join(map(str, frames)) or "none")
        v = str(v)
        shown.append("%s=%s" % (k, v if len(v) <= 160 else v[:160] + "..."))
    return " ".join(shown)


def field_diff(exp, got):
    return ["%s: want %r got %r" % (k, v, got[k]) for k, v in exp.items()
            if k in got and got[k] != v]


def compare(label, exps, gots, times):
    missing, extra = match_all(exps, gots)
    if not missing and not extra:
        return []
    lines = ["%s: %d expected, %d reported, %d missing, %d extra"
             % (label, len(exps), len(gots), len(missing), len(extra))]
    for e in missing:
        lines.append("  missing: " + describe(e, times))
        best = max(extra, key=lambda g: sum(1 for k in e if k in g and g[k] == e[k]),
                   default=None)
        if best is not None:
            lines.append("    closest reported event differs in: " + "; ".join(field_diff(e, best)))
    for g in extra:
        lines.append("  extra: " + describe(g, times))
    return lines


def check_order(evs, where):
    ts = [ev["timestamp"] for ev in evs]
    want(ts == sorted(ts), where, "events not in timestamp order: %r" % ts)


def check_derivation(name, derived):
    """The committed rows of a capture against derive.py's reading of it now."""
    lines = []
    for table, (path, _) in derive.TABLES.items():
        _, rows = derive.committed(table)
        want = collections.Counter(derived.get(name, {}).get(table, []))
        have = collections.Counter(rows.get(name, []))
        lines += ["%s is not tshark's reading (derive.py): it lacks %s" % (path, l[:300])
                  for l in want - have]
        lines += ["%s is not tshark's reading (derive.py): it adds %s" % (path, l[:300])
                  for l in have - want]
    return lines


def check_capture(name, path, rows, flow_rows, summary_rows):
    """Failure lines for one capture (empty when it passes)."""
    times = frame_times(path)
    exps = [expected_view(r, times) for r in rows]
    problems = []
    runs = {}
    for events in ("net_packet_http", "net_packet_http_request,net_packet_http_response",
                   "net_flow_http"):
        stderr = []
        evs = run_httpeek(path, events, stderr)
        for r in summary_rows:
            if r["line"] not in stderr:
                problems.append("-e %s: stderr lacks the line %r; it has %r"
                                % (events, r["line"], stderr))
        runs[events] = evs
        allowed = events.split(",")
        for n, ev in enumerate(evs, 1):
            want(ev["eventName"] in allowed, "-e %s: line %d" % (events, n),
                 "eventName %r was not selected" % ev["eventName"])
        check_order(evs, "-e " + events)
    gots = [project_packet_http(ev, "net_packet_http line %d" % n)
            for n, ev in enumerate(runs["net_packet_http"], 1)]
    problems += compare("net_packet_http", exps, gots, times)
    split = runs["net_packet_http_request,net_packet_http_response"]
    gots = [project_split(ev, "%s line %d" % (ev["eventName"], n))
            for n, ev in enumerate(split, 1)]
    problems += compare("net_packet_http_request/_response", exps, gots, times)
    fexps = [expected_view(r, times) for r in flow_rows]
    gots = [project_flow(ev, "net_flow_http line %d" % n)
            for n, ev in enumerate(runs["net_flow_http"], 1)]
    problems += compare("net_flow_http", fexps, gots, times)
    every = ",".join(EVENT_IDS.keys())
    together = sorted(json.dumps(ev) for ev in run_httpeek(path, every))
    apart = sorted(json.dumps(ev) for evs in runs.values() for ev in evs)
    if together != apart:
        problems.append("-e %s: %d events, not the %d of the three separate runs"
                        % (every, len(together), len(apart)))
    return problems


def main():
    expected = read_table(os.path.join(HERE, "expected.tsv"), MSG_FIELDS)
    flows = read_table(os.path.join(HERE, "expected-flows.tsv"), FLOW_FIELDS)
    summaries = read_table(os.path.join(HERE, "expected-summary.tsv"), SUMMARY_FIELDS)
    checks = Checks("golden")
    if not os.access(HTTPEEK, os.X_OK):
        checks.report("httpeek", ["%s is not built (run make)" % HTTPEEK])
        return 1
    files = {}
    for f in sorted(os.listdir(CAPTURES)):
        stem, ext = os.path.splitext(f)
        if ext in (".pcap", ".pcapng"):
            files[stem] = os.path.join(CAPTURES, f)
    derived, trouble = derive.derive()
    checks.report("tshark-differs.tsv", trouble)
    for name in sorted(set(files) | set(expected) | set(flows) | set(summaries)):
        if name not in files:
            problems = ["no capture file for the expected rows"]
        elif name not in expected and name not in summaries:
            problems = ["capture has no rows in expected.tsv or expected-summary.tsv"]
        else:
            try:
                problems = check_derivation(name, derived) + check_capture(
                    name, files[name], expected.get(name, []), flows.get(name, []),
                    summaries.get(name, []))
            except Failure as e:
                problems = [str(e)]
        checks.report(name, problems[:1])
        if len(problems) > 1:
            checks.note("\n".join("  " + line for line in problems[1:]))
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
