#!/usr/bin/env python3
"""Tracee's own decoder must read every event httpeek writes.

Consumers read our lines with Tracee's Go types (types/trace: json into trace.Event, then
Argument.UnmarshalJSON for each arg; ../shared/SCHEMA.md, "What Tracee's own decoder accepts").
The tables below are that decoder's rules, written from its code and the contract, not from
httpeek's writer: what a numeric arg's type string may be, which keys each struct type reads and
what each key must hold, the JSON type of each top-level field, and the args of each event.

Every event of all four kinds that `httpeek -r FILE -e all` writes for the golden captures
(tests/captures) and for ../shared/corpus/pcap (when present) is checked. One TAP
line per capture, then one per event kind; a kind that no capture produced fails. Other checkers import check_event() for their own events (live).
HTTPEEK overrides the binary, HTTPEEK_CORPUS the corpus directory."""

import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklib import shared_corpus, Checks, tap_note  # noqa: E402

HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
CAPTURES = os.path.join(ROOT, "tests", "captures")
CORPUS = shared_corpus(ROOT)
TIMEOUT = 60

# What a JSON value must be to fill a Go field of each kind without an error or a silent change
# (Go's encoding/json, and the decoder's own conversions: UseNumber, then ParseInt/ParseUint
# with the type's size for args, Int64() then a cast for struct keys).
VALUE_KINDS = {
    "int8": ("int", -2 ** 7, 2 ** 7 - 1),
    "int32": ("int", -2 ** 31, 2 ** 31 - 1),
    "int": ("int", -2 ** 63, 2 ** 63 - 1),        # Go's int on 64-bit hosts
    "int64": ("int", -2 ** 63, 2 ** 63 - 1),
    "uint8": ("int", 0, 2 ** 8 - 1),
    "uint16": ("int", 0, 2 ** 16 - 1),
    "uint32": ("int", 0, 2 ** 32 - 1),
    "uint": ("int", 0, 2 ** 64 - 1),
    "uint64": ("int", 0, 2 ** 64 - 1),
    "float": ("number", None, None),
    "float64": ("number", None, None),
    "string": ("str", None, None),
    "bool": ("bool", None, None),
    "object": ("dict", None, None),
    "array": ("list", None, None),
    "int string": ("int string", -2 ** 63, 2 ** 63 - 1),  # `json:",string"` on an int
    "uint64 array": ("list of", "uint64", None),
    "string array or null": ("list of or null", "string", None),
    "headers": ("dict of lists of", "string", None),  # http.Header; a non-string value panics
    "direction": ("one of", (0, 1, 2), None),  # PacketDirection; a string silently becomes 0
}

# Type strings a numeric arg value may carry: anything else fails the whole event
# ("unrecognized argument type"). The value kind says what range the conversion accepts.
NUMERIC_ARG_TYPES = {
    "int8": "int8", "int32": "int32", "int64": "int64", "uint8": "uint8",
    "uint16": "uint16", "uint32": "uint32", "uint64": "uint64", "float": "float",
    "float64": "float64", "trace.Pointer": "uint64",
}

# Struct args: every key the decoder reads for the type name (a missing one fails the event;
# other keys are ignored) and the kind of value it must hold. The value itself may be null.
STRUCT_ARG_KEYS = {
    "trace.ProtoHTTP": {
        "direction": "string", "method": "string", "protocol": "string", "host": "string",
        "uri_path": "string", "status": "string", "status_code": "int",
        "headers": "headers", "content_length": "int64",
    },
    "trace.ProtoHTTPRequest": {
        "method": "string", "protocol": "string", "host": "string", "uri_path": "string",
        "headers": "headers", "content_length": "int64",
    },
    "trace.ProtoHTTPResponse": {
        "status": "string", "status_code": "int", "protocol": "string", "headers": "headers",
        "content_length": "int64",
    },
    "trace.PktMeta": {
        "src_ip": "string", "dst_ip": "string", "src_port": "uint16", "dst_port": "uint16",
        "protocol": "uint8", "packet_len": "uint32", "iface": "string",
    },
    "trace.PacketMetadata": {"direction": "direction"},
}

# trace.Event's fields as Go decodes them (a missing one is its zero value; a wrong type fails).
TOP_FIELDS = {
    "timestamp": "int", "threadStartTime": "int", "processorId": "int", "processId": "int",
    "cgroupId": "uint", "threadId": "int", "parentProcessId": "int", "hostProcessId": "int",
    "hostThreadId": "int", "hostParentProcessId": "int", "userId": "int",
    "mountNamespace": "int", "pidNamespace": "int", "processName": "string",
    "executable": "object", "hostName": "string", "containerId": "string",
    "container": "object", "kubernetes": "object", "eventId": "int string",
    "eventName": "string", "matchedPolicies": "string array or null", "argsNum": "int",
    "returnValue": "int", "syscall": "string", "stackAddresses": "uint64 array",
    "contextFlags": "object", "threadEntityId": "uint32", "processEntityId": "uint32",
    "parentEntityId": "uint32", "args": "array",
}
NESTED_FIELDS = {
    "executable": {"path": "string"},
    "container": {"id": "string", "name": "string", "image": "string", "imageDigest": "string"},
    "kubernetes": {"podName": "string", "podNamespace": "string", "podUID": "string",
                   "podSandbox": "bool"},
    "contextFlags": {"containerStarted": "bool", "isCompat": "bool"},
}

# The contract's events (SCHEMA.md "Events"): id, args in order, and the type string an arg must
# carry where the contract fixes it (None: any the decoder accepts for its value).
EVENTS = {
    "net_packet_http": ("2009", [
        ("src", "const char*"), ("dst", "const char*"), ("src_port", "uint16"),
        ("dst_port", "uint16"), ("metadata", "trace.PacketMetadata"),
        ("proto_http", "trace.ProtoHTTP")]),
    "net_packet_http_request": ("2010", [
        ("metadata", "trace.PktMeta"), ("http_request", "trace.ProtoHTTPRequest")]),
    "net_packet_http_response": ("2011", [
        ("metadata", "trace.PktMeta"), ("http_response", "trace.ProtoHTTPResponse")]),
    "net_flow_http": ("2100", [
        ("client_ip", "const char*"), ("client_port", "uint16"), ("server_ip", "const char*"),
        ("server_port", "uint16"), ("metadata", "trace.PacketMetadata"),
        ("request", "trace.ProtoHTTPRequest"), ("response", "trace.ProtoHTTPResponse"),
        ("latency_ns", None), ("trans_depth", None)]),
}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def value_problem(v, kind):
    """Why v cannot fill a field of this kind, or None."""
    form, a, b = VALUE_KINDS[kind]
    if form == "int" or form == "int string":
        if form == "int string":
            if not isinstance(v, str) or not v.lstrip("-").isdigit():
                return "%r is not an integer in a string" % (v,)
            v = int(v)
        if not is_int(v):
            return "%r is not an integer" % (v,)
        if not a <= v <= b:
            return "%d is out of %s's range" % (v, kind)
        return None
    simple = {"number": (int, float), "str": str, "bool": bool, "dict": dict, "list": list}
    if form in simple:
        ok = isinstance(v, simple[form]) and (form != "number" or not isinstance(v, bool))
        return None if ok else "%r is not a %s" % (v, kind)
    if form == "one of":
        return None if is_int(v) and v in a else "%r is not one of %r" % (v, a)
    if form == "list of or null" and v is None:
        return None
    if form in ("list of", "list of or null"):
        if not isinstance(v, list):
            return "%r is not an array" % (v,)
        return next((p for p in (value_problem(x, a) for x in v) if p), None)
    if form == "dict of lists of":
        if not isinstance(v, dict):
            return "%r is not an object" % (v,)
        for k, vals in v.items():
            if not isinstance(vals, list):
                return "header %r is not an array" % k
            p = next((p for p in (value_problem(x, a) for x in vals) if p), None)
            if p:
                return "header %r: %s" % (k, p)
        return None
    raise KeyError(form)


def struct_problems(value, type_name):
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["%s value %r is not an object" % (type_name, value)]
    out = []
    for key, kind in STRUCT_ARG_KEYS[type_name].items():
        if key not in value:
            out.append("%s has no %r" % (type_name, key))
            continue
        p = value_problem(value[key], kind)
        if p:
            out.append("%s.%s: %s" % (type_name, key, p))
    return out


def arg_problems(arg, want_name, want_type):
    if not isinstance(arg, dict) or not {"name", "type", "value"} <= set(arg):
        return ["arg %r is not {name, type, value}" % (arg,)]
    name, typ, value = arg["name"], arg["type"], arg["value"]
    where = "arg %s" % name
    out = []
    if name != want_name:
        out.append("%s where the contract has %s" % (where, want_name))
    if want_type and typ != want_type:
        out.append("%s: type %r, the contract says %r" % (where, typ, want_type))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if typ not in NUMERIC_ARG_TYPES:
            out.append("%s: numeric value with type %r: the decoder fails the event"
                       % (where, typ))
        else:
            p = value_problem(value, NUMERIC_ARG_TYPES[typ])
            if p:
                out.append("%s: %s" % (where, p))
    elif typ in STRUCT_ARG_KEYS:
        out += ["%s: %s" % (where, p) for p in struct_problems(value, typ)]
    elif typ in NUMERIC_ARG_TYPES and value is not None:
        out.append("%s: type %r but a %s value" % (where, typ, type(value).__name__))
    return out


def check_event(ev):
    """Every way the decoder would fail on ev or silently change it (empty: it reads ev)."""
    if not isinstance(ev, dict):
        return ["not a JSON object"]
    out = []
    for key, kind in TOP_FIELDS.items():
        if key in ev:
            p = value_problem(ev[key], kind)
            if p:
                out.append("%s: %s" % (key, p))
    for key, fields in NESTED_FIELDS.items():
        for k, kind in fields.items():
            if isinstance(ev.get(key), dict) and k in ev[key]:
                p = value_problem(ev[key][k], kind)
                if p:
                    out.append("%s.%s: %s" % (key, k, p))
    name = ev.get("eventName")
    if name not in EVENTS:
        return out + ["eventName %r is not an event of the contract" % (name,)]
    event_id, args = EVENTS[name]
    if ev.get("eventId") != event_id:
        out.append("eventId %r, want %r" % (ev.get("eventId"), event_id))
    got = ev.get("args") if isinstance(ev.get("args"), list) else []
    if len(got) != len(args) or ev.get("argsNum") != len(args):
        out.append("%d args, argsNum %r, the contract has %d" % (len(got), ev.get("argsNum"),
                                                               len(args)))
    for arg, (want_name, want_type) in zip(got, args):
        out += arg_problems(arg, want_name, want_type)
    return out


def check_lines(data):
    """({eventName: count}, [problems]) for the JSON lines in data (bytes)."""
    counts, problems = collections.Counter(), []
    for n, line in enumerate(data.split(b"\n"), 1):
        if not line:
            continue
        try:
            ev = json.loads(line.decode("utf-8"))
        except ValueError as e:
            problems.append("line %d is not JSON: %s" % (n, e))
            continue
        counts[ev.get("eventName") if isinstance(ev, dict) else None] += 1
        problems += ["line %d (%s): %s" % (n, ev.get("eventName"), p)
                     for p in check_event(ev)]
    return counts, problems


def captures():
    """(label, path) of every capture to read: the golden ones (HTTP/2's in h2/ too), then the
    corpus'."""
    out = []
    for sub in ("", "h2"):
        d = os.path.join(CAPTURES, sub)
        for f in sorted(os.listdir(d)) if os.path.isdir(d) else ():
            if f.endswith((".pcap", ".pcapng")):
                out.append((os.path.join(sub, f), os.path.join(d, f)))
    pcaps = os.path.join(CORPUS, "pcap")
    if os.path.isdir(pcaps):
        for f in sorted(os.listdir(pcaps)):
            if f.endswith((".pcap", ".pcapng")):
                out.append(("corpus/" + f, os.path.join(pcaps, f)))
    else:
        tap_note("tracee-rules: no %s: only the golden captures are read" % pcaps)
    return out


def main():
    checks = Checks("tracee-rules")
    if not os.access(HTTPEEK, os.X_OK):
        checks.report("httpeek", ["%s is not built (run make)" % HTTPEEK])
        checks.exit()
    total = collections.Counter()
    for label, path in captures():
        try:
            p = subprocess.run([HTTPEEK, "-r", path, "-e", "all"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            checks.report(label, ["timed out after %ds" % TIMEOUT])
            continue
        counts, problems = check_lines(p.stdout)
        if p.returncode:
            problems.insert(0, "exit %d" % p.returncode)
        total += counts
        checks.report(label, problems[:10] + (["... %d more" % (len(problems) - 10)]
                                              if len(problems) > 10 else []))
    for name in EVENTS:
        checks.report(name, [] if total[name] else ["no capture produced one"])
    checks.note("tracee-rules: %s" % ", ".join("%d %s" % (total[n], n) for n in EVENTS))
    checks.exit()


if __name__ == "__main__":
    main()
