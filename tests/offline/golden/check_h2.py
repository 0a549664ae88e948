#!/usr/bin/env python3
"""HTTP/2 golden tests with tshark as the oracle: for every capture in tests/captures/h2/
(scripts/record-h2-captures.py), tshark's http2 dissector decodes each connection (a port
whose connections start with the preface is decoded as http2, any other as http, whose
Upgrade: h2c hands over to http2 itself), this script rebuilds the messages and exchanges
from tshark's frames and header lists alone, and ./httpeek -r -e all must report exactly
those: every HTTP/2 message once, on its stream, with its time (the packet that completed its
header block), method, :path, :authority, :status, its regular fields in order (trailers
added), content_length (content-length, else the DATA bytes once the side ended, else -1),
addresses and ports; every exchange paired by stream with its latency and depth; the
HTTP/1.x messages of the same captures as many as tshark's http finds; the 2010/2011 events
the same messages as 2009. Prints "h2-tshark: <capture> ok" or FAIL per capture, and how many
messages and exchanges agreed (TAP, tests/checklib.py). HTTPEEK overrides the binary; H2_CAPTURES the directory.
The captures must also exercise what REQUIRE lists (50 streams at once, blocks past 16 KiB,
padding, PUSH_PROMISE, RST_STREAM, trailers, the dynamic table, Upgrade), so that a new
recording cannot quietly drop a case."""

import collections
import decimal
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklib import Checks  # noqa: E402
CAPTURES = os.environ.get("H2_CAPTURES", os.path.join(ROOT, "tests", "captures", "h2"))
HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
PREFACE_HEX = "505249202a20485454502f322e30"  # "PRI * HTTP/2.0"
T_DATA, T_HEADERS, T_RST, T_PUSH, T_CONT = 0, 1, 3, 5, 9
END_STREAM, END_HEADERS, PADDED = 0x1, 0x4, 0x8


class Failure(Exception):
    pass


def tshark(path, *args):
    r = subprocess.run(["tshark", "-r", path, *args], capture_output=True, text=True,
                       timeout=300)
    if r.returncode:
        raise Failure("tshark failed: %s" % r.stderr.strip()[:300])
    return r.stdout


def decode_as(path):
    """-d options: ports whose connections begin with the preface as http2, the rest http."""
    out = tshark(path, "-Y", "tcp.len>0", "-T", "fields", "-e", "tcp.stream", "-e",
                 "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.payload")
    seen, h2, h1 = set(), set(), set()
    syn = tshark(path, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields", "-e",
                 "tcp.stream", "-e", "tcp.dstport")
    server = {}
    for line in syn.splitlines():
        s, port = line.split("\t")
        server[s] = port
    for line in out.splitlines():
        s, sport, dport, payload = line.split("\t")
        if s in seen or s not in server or dport != server[s]:
            continue  # the client's first bytes tell
        seen.add(s)
        (h2 if payload.startswith(PREFACE_HEX) else h1).add(server[s])
    args = []
    for p in sorted(h2):
        args += ["-d", "tcp.port==%s,http2" % p]
    for p in sorted(h1 - h2):
        args += ["-d", "tcp.port==%s,http" % p]
    return args


def pairs(items):
    return items  # json.loads with object_pairs_hook=list: every object a list of pairs


def get(obj, key, default=None):
    for k, v in obj:
        if k == key:
            return v
    return default


def get_all(obj, key):
    return [v for k, v in obj if k == key]


def find(obj, key):
    """The first value of key in obj or in the objects it holds."""
    for k, v in obj:
        if k == key:
            return v
        if isinstance(v, list) and v and isinstance(v[0], tuple):
            r = find(v, key)
            if r is not None:
                return r
    return None


def ns(epoch):
    return int(decimal.Decimal(epoch) * 1000000000)


class Packet:
    def __init__(self, layers):
        frame = get(layers, "frame")
        self.num = int(get(frame, "frame.number"))
        self.ts = ns(get(frame, "frame.time_epoch"))
        ip = get(layers, "ip") or get(layers, "ipv6")
        pre = "ip" if get(layers, "ip") else "ipv6"
        self.src = get(ip, pre + ".src")
        self.dst = get(ip, pre + ".dst")
        tcp = get(layers, "tcp")
        self.conn = int(get(tcp, "tcp.stream"))
        self.sport = int(get(tcp, "tcp.srcport"))
        self.dport = int(get(tcp, "tcp.dstport"))
        self.frames = []
        for h2 in get_all(layers, "http2"):
            for st in get_all(h2, "http2.stream"):
                if get(st, "http2.type") is not None:
                    self.frames.append(st)
        self.http = get_all(layers, "http")


def load(path, args):
    out = tshark(path, *args, "-T", "json", "-J", "frame ip ipv6 tcp http2 http")
    return [Packet(get(get(p, "_source"), "layers"))
            for p in json.loads(out, object_pairs_hook=pairs)]


def header_list(st):
    hs = get_all(st, "http2.header")
    if not hs:
        return None
    return [(get(h, "http2.header.name", ""), get(h, "http2.header.value", "")) for h in hs]


class Msg:
    def __init__(self, conn, sid, pkt, fields, push_from=None):
        self.conn, self.sid, self.ts = conn, sid, pkt.ts
        self.src, self.dst, self.sport, self.dport = pkt.src, pkt.dst, pkt.sport, pkt.dport
        self.pseudo = {}
        self.fields = []
        for n, v in fields:
            if n.startswith(":"):
                self.pseudo.setdefault(n, v)
            else:
                self.fields.append((n, v))
        self.kind = ("response" if ":status" in self.pseudo else
                     "request" if ":method" in self.pseudo else None)
        self.data, self.ended, self.depth = 0, False, 0
        self.push_from = push_from

    def content_length(self):
        for n, v in self.fields:
            if n == "content-length":
                return int(v) if v.isdigit() and len(v) <= 18 else -1
        if self.kind == "response" and self.pseudo.get(":status", "")[:1] == "1":
            return 0
        return self.data if self.ended else -1


class Model:
    """Messages and exchanges as tshark's frames say, built without httpeek's code."""

    def __init__(self):
        self.msgs, self.open, self.blocks = [], {}, {}
        self.seen = collections.Counter()      # what the capture exercises (REQUIRE)
        self.live = collections.defaultdict(set)  # per connection: streams under way
        self.depth = collections.Counter()
        self.streams = collections.defaultdict(dict)   # (conn, sid) -> request/response
        self.upgrades = {}

    def frame(self, pkt, st):
        t, fl = int(get(st, "http2.type")), int(get(st, "http2.flags"), 16)
        sid = int(get(st, "http2.streamid"))
        side = (pkt.conn, pkt.src, pkt.sport)
        self.tally(t, fl, st)
        if t in (T_HEADERS, T_PUSH):
            promised = get(st, "http2.push_promise.promised_stream_id")
            self.blocks[side] = {"sid": sid, "end": t == T_HEADERS and fl & END_STREAM,
                                 "promised": int(promised) if promised else 0, "fields": []}
        blk = self.blocks.get(side)
        if blk is not None and t in (T_HEADERS, T_PUSH, T_CONT):
            blk["fields"] += header_list(st) or []  # tshark decodes fragment by fragment
            blk["bytes"] = blk.get("bytes", 0) + int(get(st, "http2.length"))
            self.seen["largest block"] = max(self.seen["largest block"], blk["bytes"])
            if fl & END_HEADERS:
                del self.blocks[side]
                self.block(pkt, side, blk)
        elif t == T_DATA:
            m = self.open.get((pkt.conn, sid, side))
            if m:
                pad = int(get(st, "http2.pad_length", "0")) + 1 if fl & PADDED else 0
                m.data += int(get(st, "http2.length")) - pad
                if fl & END_STREAM:
                    self.close(pkt.conn, sid, side, True)
        elif t == T_RST:
            for key in [k for k in self.open if k[:2] == (pkt.conn, sid)]:
                self.close(pkt.conn, sid, key[2], False)
            self.live[pkt.conn].discard(sid)

    def tally(self, t, fl, st):
        self.seen["frames of type %d" % t] += 1
        if fl & PADDED and t in (T_DATA, T_HEADERS, T_PUSH):
            self.seen["padded frames"] += 1
        for h in get_all(st, "http2.header"):
            if int(get(h, "http2.header.index", "0")) > 61:
                self.seen["dynamic table references"] += 1

    def close(self, conn, sid, side, ended):
        m = self.open.pop((conn, sid, side))
        m.ended = ended
        if m.kind == "response":
            self.live[conn].discard(sid)

    def block(self, pkt, side, blk):
        sid = blk["promised"] or blk["sid"]
        m = Msg(pkt.conn, sid, pkt, blk["fields"], pkt if blk["promised"] else None)
        key = (pkt.conn, sid, side)
        if m.kind is None:
            if key in self.open:  # trailers
                self.seen["trailers"] += 1
                self.open[key].fields += m.fields
                self.close(pkt.conn, sid, side, True)
            return
        self.msgs.append(m)
        if m.kind == "response" and m.pseudo[":status"][:1] == "1":
            m.ended = True
            return
        if m.kind == "request":
            self.depth[pkt.conn] += 1
            m.depth = self.depth[pkt.conn]
            self.live[pkt.conn].add(sid)
            self.seen["concurrent streams"] = max(self.seen["concurrent streams"],
                                                  len(self.live[pkt.conn]))
        self.streams[(pkt.conn, sid)][m.kind] = m
        self.open[key] = m
        if blk["end"] or blk["promised"]:
            self.close(pkt.conn, sid, side, True)

    def http1(self, pkt):
        """An HTTP/1.1 Upgrade: h2c request is stream 1's; counted with the other HTTP/1.x."""
        for h in pkt.http:
            if find(h, "http.response.code") == "101":
                self.seen["upgrades"] += 1
            if get(h, "http.request"):
                self.depth[pkt.conn] += 1
                self.upgrades[pkt.conn] = (find(h, "http.request.uri"), pkt.ts,
                                           self.depth[pkt.conn])


# What each capture must exercise (tshark's view), so that a new recording still covers it.
REQUIRE = {
    "h2-concurrent": {"concurrent streams": 50},
    "h2-continuation": {"largest block": 16385, "frames of type 9": 2},
    "h2-padding-push": {"padded frames": 4, "frames of type 5": 2},
    "h2-hpack": {"dynamic table references": 200},
    "h2-grpc": {"trailers": 10, "frames of type 3": 2},
    "h2-curl": {"frames of type 3": 1},
    "h2-upgrade": {"upgrades": 2},
}


def build(path):
    model = Model()
    h1 = 0
    for pkt in load(path, decode_as(path)):
        for h in pkt.http:
            h1 += bool(get(h, "http.request") or get(h, "http.response"))
        model.http1(pkt)
        for st in pkt.frames:
            model.frame(pkt, st)
    return model, h1


def run_httpeek(path):
    r = subprocess.run([HTTPEEK, "-r", path, "-e", "all"], capture_output=True, text=True,
                       timeout=120)
    if r.returncode:
        raise Failure("httpeek exited %d: %s" % (r.returncode, r.stderr.strip()[-300:]))
    return [json.loads(line) for line in r.stdout.splitlines()]


def args_of(ev):
    return {a["name"]: a["value"] for a in ev["args"]}


def grouped(fields):
    g = collections.OrderedDict()
    for n, v in fields:
        g.setdefault(n, []).append(v)
    return [[k, v] for k, v in g.items()]


def want_msg(m):
    """The fields of proto_http httpeek must write for m, and where."""
    req = m.kind == "request"
    status = m.pseudo.get(":status", "")
    path = m.pseudo.get(":path", "")
    return {
        "ts": m.ts, "src": m.src, "dst": m.dst, "sport": m.sport, "dport": m.dport,
        "direction": m.kind, "method": m.pseudo.get(":method", "") if req else "",
        "protocol": "HTTP/2.0",
        "host": (m.pseudo.get(":authority") or dict(m.fields).get("host", "")) if req else "",
        "uri": path if req else None,
        "status": "" if req else status,
        "status_code": 0 if req else int(status) if status.isdigit() else 0,
        "headers": grouped(m.fields), "content_length": m.content_length(), "stream_id": m.sid,
    }


def got_msg(ev):
    a = args_of(ev)
    p = a["proto_http"]
    return {
        "ts": ev["timestamp"], "src": a["src"], "dst": a["dst"], "sport": a["src_port"],
        "dport": a["dst_port"], "direction": p["direction"], "method": p["method"],
        "protocol": p["protocol"], "host": p["host"], "uri": p.get("uri"),
        "status": p["status"], "status_code": p["status_code"],
        "headers": [[k, v] for k, v in p["headers"].items()],
        "content_length": p["content_length"], "stream_id": p.get("stream_id"),
    }


def key(d):
    return (d["ts"], d["sport"], d["dport"], d["stream_id"], d["direction"])


def compare_messages(model, events):
    want = sorted((want_msg(m) for m in model.msgs), key=key)
    got = sorted((got_msg(e) for e in events if e["eventName"] == "net_packet_http" and
                  args_of(e)["proto_http"]["protocol"] == "HTTP/2.0"), key=key)
    if len(want) != len(got):
        raise Failure("%d HTTP/2 messages, tshark has %d" % (len(got), len(want)))
    for w, g in zip(want, got):
        if w != g:
            diff = {k: (g[k], w[k]) for k in w if w[k] != g[k]}
            raise Failure("stream %d %s: (httpeek, tshark) differ: %s"
                          % (w["stream_id"], w["direction"], str(diff)[:600]))
    return len(want)


def want_flows(model):
    out = []
    for (conn, sid), ms in model.streams.items():
        req, resp = ms.get("request"), ms.get("response")
        req_uri, req_ts, depth = (req.pseudo.get(":path"), req.ts, req.depth) if req else \
            (None, None, 0)
        if not req and sid == 1 and conn in model.upgrades:
            req_uri, req_ts, depth = model.upgrades[conn]
        client = resp and (resp.dport if not req or not req.push_from else resp.dport)
        if req and not req.push_from:
            client = req.sport
        out.append({
            "stream": sid, "uri": req_uri, "depth": depth,
            "status": int(resp.pseudo[":status"]) if resp else None,
            "latency": resp.ts - req_ts if resp and req_ts is not None else 0,
            "client_port": client, "ts": resp.ts if resp else None,
        })
    return sorted(out, key=lambda f: (f["client_port"], f["stream"]))


def got_flows(events):
    out = []
    for e in events:
        if e["eventName"] != "net_flow_http":
            continue
        a = args_of(e)
        req, resp = a["request"], a["response"]
        sid = (resp or req).get("stream_id")
        if sid is None:
            continue  # an HTTP/1.x exchange
        out.append({
            "stream": sid, "uri": req["uri"] if req else None, "depth": a["trans_depth"],
            "status": resp["status_code"] if resp else None, "latency": a["latency_ns"],
            "client_port": a["client_port"], "ts": e["timestamp"] if resp else None,
        })
    return sorted(out, key=lambda f: (f["client_port"], f["stream"]))


def compare_flows(model, events):
    want, got = want_flows(model), got_flows(events)
    if len(want) != len(got):
        raise Failure("%d HTTP/2 exchanges, tshark has %d" % (len(got), len(want)))
    for w, g in zip(want, got):
        if w != g:
            raise Failure("exchange differs: httpeek %s, tshark %s" % (g, w))
    return len(want)


def compare_kinds(events):
    """2010 and 2011 hold the same HTTP/2 messages as 2009."""
    base = collections.Counter()
    split = collections.Counter()
    for e in events:
        a = args_of(e)
        if e["eventName"] == "net_packet_http":
            p = a["proto_http"]
            if p["protocol"] == "HTTP/2.0":
                base[(e["timestamp"], p["direction"], p.get("stream_id"))] += 1
        elif e["eventName"] in ("net_packet_http_request", "net_packet_http_response"):
            p = a.get("http_request") or a.get("http_response")
            if p["protocol"] == "HTTP/2.0":
                d = "request" if "http_request" in a else "response"
                split[(e["timestamp"], d, p.get("stream_id"))] += 1
    if base != split:
        raise Failure("2010/2011 events differ from 2009 for HTTP/2")


def check(path):
    model, h1 = build(path)
    events = run_httpeek(path)
    n = compare_messages(model, events)
    f = compare_flows(model, events)
    compare_kinds(events)
    got_h1 = sum(1 for e in events if e["eventName"] == "net_packet_http" and
                 args_of(e)["proto_http"]["protocol"] != "HTTP/2.0")
    if got_h1 != h1:
        raise Failure("%d HTTP/1.x messages, tshark's http has %d" % (got_h1, h1))
    if not n:
        raise Failure("no HTTP/2 message in the capture")
    name = os.path.splitext(os.path.basename(path))[0]
    for what, least in REQUIRE.get(name, {}).items():
        if model.seen[what] < least:
            raise Failure("the capture holds %d %s, fewer than %d" % (model.seen[what], what,
                                                                      least))
    return n, f, h1


def main():
    checks = Checks("h2-golden")
    if not os.path.isdir(CAPTURES):
        checks.report("captures", ["no %s" % CAPTURES])
        checks.exit()
    for f in sorted(os.listdir(CAPTURES)):
        if not f.endswith((".pcap", ".pcapng")):
            continue
        name = os.path.splitext(f)[0]
        try:
            n, x, h1 = check(os.path.join(CAPTURES, f))
            checks.report(name, [])
            checks.note("%s: %d HTTP/2 messages, %d exchanges, %d HTTP/1.x messages, as tshark"
                        % (name, n, x, h1))
        except (Failure, subprocess.TimeoutExpired) as e:
            checks.report(name, [e])
    checks.exit()


if __name__ == "__main__":
    main()
