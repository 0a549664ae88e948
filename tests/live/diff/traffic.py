#!/usr/bin/env python3
"""Seeded HTTP/1.x traffic for the differential live test (run.sh in this directory).

traffic.py random SEED SCALE SIDE LOG  connections drawn from SEED until about SCALE messages
    (requests and responses); SIDE veth runs those over the veth pair (IPv4 and IPv6), SIDE lo
    those over loopback (127.0.0.1 and ::1). Both sides draw the same plan.
traffic.py regression-a SIDE LOG       three pipelined requests to nginx in one write
traffic.py extremes SIDE LOG           1,000 pipelined requests in one write (to nginx and to
    origin.py) and 10,000 requests on one keep-alive connection to nginx
traffic.py curl VERBOSE WRITEOUT LOG  one connection of curl, from what curl -v wrote (its heads
    sent and received) and what -w '%{local_ip} %{local_port} %{remote_ip} %{remote_port}\n' did
LOG gets one JSON line per connection: its scenario, transport and addresses, the requests sent
(method, path, label, the head as sent) and the responses read, interim ones too (status,
request index, the head as read), in order, and the error if it failed. Heads are latin-1 text.
Every socket has a timeout. Exits 1 when a connection failed.
The addresses and ports come from DIFF_V4_C, DIFF_V4_S, DIFF_V6_C, DIFF_V6_S, DIFF_NGINX and
DIFF_ORIGIN (run.sh gives each run its own).
"""
import os
import json
import random
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from httpwire import Closed, Wire

# The addresses run.sh gives the namespaces; the ports of nginx and origin.py.
SERVERS = {"veth4": os.environ.get("DIFF_V4_S", "10.202.0.2"),
           "veth6": os.environ.get("DIFF_V6_S", "fd00:202::2"), "lo4": "127.0.0.1", "lo6": "::1"}
CLIENTS = {"veth4": os.environ.get("DIFF_V4_C", "10.202.0.1"),
           "veth6": os.environ.get("DIFF_V6_C", "fd00:202::1")}
PORTS = {"nginx": int(os.environ.get("DIFF_NGINX", "8280")),
         "origin": int(os.environ.get("DIFF_ORIGIN", "8281"))}
# HTTP/2 servers of run.sh's h2 case: nginx (prior knowledge), nghttpd, h2c_server.py (h2c
# Upgrade), the gRPC server (scripts/grpc-peer.py); their clients are run.sh's.
H2_PORTS = {"nginx-h2": int(os.environ.get("DIFF_NGINX_H2", "8282")),
            "nghttpd": int(os.environ.get("DIFF_NGHTTPD", "8283")),
            "h2c": int(os.environ.get("DIFF_H2C", "8284")),
            "grpc": int(os.environ.get("DIFF_GRPC", "8285"))}
SIDES = {"veth": ("veth4", "veth6"), "lo": ("lo4", "lo6")}
TIMEOUT = 10
WORKERS = 8
PIECE_GAP = 0.003
# The static files' mtime, set by run.sh: an If-Modified-Since with it gets 304.
MTIME = "Mon, 01 Jan 2024 00:00:00 GMT"

METHODS = {"GET": 45, "HEAD": 12, "POST": 13, "PUT": 8, "DELETE": 7, "OPTIONS": 7, "PATCH": 8}
FILES = {"/f0": 6, "/f1": 6, "/f2": 6, "/f100": 8, "/f1448": 8, "/f4500": 8, "/f200k": 2,
         "/index.html": 8, "/t.txt": 8}
BODY_SIZES = {0: 10, 1: 15, 3: 25, 1448: 20, 4344: 20, 10000: 10}
CHUNKINGS = [[], [1], [3, 4], [1448], [1448, 1448, 1448, 100], [5000, 5000]]
ORIGIN_KINDS = {"plain": 20, "chunked": 25, "interim": 15, "splithead": 10, "cookie": 8,
                "empty": 7, "notmod": 7, "missing": 8}
INTERIMS = ["100", "102", "103", "100-103", "102-102-103", "103-103"]
FILL = b"0123456789abcdef" * 1024


def pick(rng, weights):
    return rng.choices(list(weights), list(weights.values()))[0]


@dataclass
class Request:
    method: str
    path: str
    fields: list = field(default_factory=list)
    body: bytes = b""
    chunks: list = None         # chunk sizes when the body goes chunked
    cuts: list = ()             # fractions of the head where it is cut into pieces
    expect: bool = False        # Expect: 100-continue, body after the 100
    body_apart: bool = False    # body in its own write after the head

    def head(self, host):
        fields = [("Host", host)] + self.fields
        if self.chunks is not None:
            fields.append(("Transfer-Encoding", "chunked"))
        elif self.body or self.method in ("POST", "PUT", "PATCH"):
            fields.append(("Content-Length", str(len(self.body))))
        if self.expect:
            fields.append(("Expect", "100-continue"))
        lines = [f"{self.method} {self.path} HTTP/1.1"] + [f"{k}: {v}" for k, v in fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def wire_body(self):
        if self.chunks is None:
            return self.body
        out = b"".join(f"{n:x}\r\n".encode() + FILL[:n] + b"\r\n" for n in self.chunks)
        return out + b"0\r\n\r\n"

    def label(self):
        out = f"{self.method} {self.path}"
        if self.chunks is not None:
            out += " chunked=" + "+".join(map(str, self.chunks))
        elif self.body or self.method in ("POST", "PUT", "PATCH"):
            out += f" cl={len(self.body)}"
        names = {k for k, _ in self.fields}
        out += " gzip" * ("Accept-Encoding" in names) + " ims" * ("If-Modified-Since" in names)
        return out + " pieces" * bool(self.cuts) + " expect" * self.expect


@dataclass
class Conn:
    cid: int
    scenario: str
    transport: str
    server: str
    groups: list    # lists of Requests; a group of several is pipelined in one write

    def address(self):
        return SERVERS[self.transport], PORTS[self.server]

    def host(self):
        addr, port = self.address()
        return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def nginx_path(rng, tag):
    r = rng.random()
    if r < 0.5:
        return pick(rng, FILES)
    if r < 0.75:
        return f"/api/{tag}"
    return rng.choice(["/empty", "/redirect", f"/missing/{tag}"])


def origin_path(rng):
    kind = pick(rng, ORIGIN_KINDS)
    if kind == "plain":
        return f"/o/plain/{rng.choice([0, 1, 2, 100, 1448, 5000])}"
    if kind == "chunked":
        flags = rng.choice(["", "/ext", "/trailer", "/ext/trailer"])
        return f"/o/chunked/{rng.choice([1, 2, 10, 50, 200])}{flags}"
    if kind == "interim":
        return f"/o/interim/{rng.choice(INTERIMS)}{rng.choice(['', '/one'])}"
    if kind == "splithead":
        return f"/o/splithead/{rng.randint(1, 120)}"
    if kind == "cookie":
        return f"/o/cookie/{rng.choice([3000, 8000])}"
    return f"/o/{kind}"


def add_body(rng, req):
    if rng.random() < 0.35:
        req.chunks = rng.choice(CHUNKINGS)
    else:
        req.body = FILL[:pick(rng, BODY_SIZES)]


def random_request(rng, server, tag, alone, cut_prob):
    """One request; alone (not pipelined) ones may be cut into pieces or wait for a 100."""
    method = pick(rng, METHODS)
    path = nginx_path(rng, tag) if server == "nginx" else origin_path(rng)
    req = Request(method, path, [("User-Agent", "httpeek-diff/1.0"), ("Accept", "*/*")])
    if method == "GET" and path in FILES and rng.random() < 0.2:
        req.fields.append(("If-Modified-Since", MTIME))
    if path == "/t.txt" and rng.random() < 0.6:
        req.fields.append(("Accept-Encoding", "gzip"))
    if method in ("POST", "PUT", "PATCH") and rng.random() < 0.8:
        add_body(rng, req)
    if alone and rng.random() < cut_prob:
        req.cuts = sorted(rng.random() for _ in range(rng.randint(1, 3)))
    if alone and server == "origin" and req.body and rng.random() < 0.3:
        req.expect = True
    req.body_apart = alone and rng.random() < 0.5
    return req


def style_groups(rng, style, server, cid):
    """The write groups of one connection of the given style."""
    n = 0

    def req(alone, cut_prob=0.0):
        nonlocal n
        n += 1
        return random_request(rng, server, f"{cid}-{n}", alone, cut_prob)

    if style == "single":
        path = rng.choice(["/index.html", "/f100", f"/api/{cid}"] if server == "nginx"
                          else ["/o/plain/100", "/o/empty"])
        return [[Request("GET", path, [("User-Agent", "httpeek-diff/1.0")])]]
    if style == "keepalive":
        return [[req(True)] for _ in range(rng.randint(2, 10))]
    if style == "pieces":
        return [[req(True, 1.0)] for _ in range(rng.randint(1, 5))]
    if style == "pipeline":
        return [[req(False) for _ in range(rng.randint(2, 8))] for _ in range(rng.randint(1, 3))]
    groups, want = [], rng.randint(3, 12)
    while n < want:
        size = rng.choice([1, 1, 2, 3, 5])
        groups.append([req(size == 1, 0.3) for _ in range(size)])
    return groups


STYLES = {"single": 10, "keepalive": 30, "pipeline": 25, "pieces": 15, "mixed": 20}


def random_conn(rng, cid):
    transport = rng.choices(list(SERVERS), [35, 35, 15, 15])[0]
    server = rng.choices(list(PORTS), [60, 40])[0]
    style = pick(rng, STYLES)
    groups = style_groups(rng, style, server, cid)
    if server == "origin" and style != "single" and rng.random() < 0.15:
        groups.append([Request("GET", f"/o/close/{rng.choice([0, 5, 3000])}")])
    return Conn(cid, f"{server}-{style}", transport, server, groups)


def plan_random(seed, scale):
    rng = random.Random(seed)
    conns, messages = [], 0
    while messages < scale:
        conns.append(random_conn(rng, len(conns)))
        messages += 2 * sum(len(g) for g in conns[-1].groups)
    return conns


def plan_regression_a():
    reqs = [Request("GET", "/index.html"), Request("GET", "/api/p"), Request("HEAD", "/missing")]
    return [Conn(0, "regression-a", "veth4", "nginx", [reqs])]


def plan_extremes():
    rng = random.Random(0)
    burst = [random_request(rng, "nginx", f"b{i}", False, 0) for i in range(1000)]
    small = ["/api/k{}", "/f100", "/missing/{}", "/index.html", "/empty", "/f1", "/redirect"]
    keep = [[Request(rng.choice(["GET", "GET", "HEAD"]), rng.choice(small).format(i))]
            for i in range(10000)]
    origin = []
    while len(origin) < 1000:   # origin.py writes these alone, not with the others
        r = random_request(rng, "origin", "", False, 0)
        origin += [] if r.path.startswith(("/o/interim", "/o/splithead")) else [r]
    return [Conn(0, "extreme-pipeline-1000", "veth4", "nginx", [burst]),
            Conn(1, "extreme-keepalive-10000", "veth4", "nginx", keep),
            Conn(2, "extreme-pipeline-origin", "lo4", "origin", [origin])]


def read_response(wire, method, log, index):
    """Reads one final response (and the 1xx before it); False when the connection ends."""
    while True:
        got = wire.head()
        if got is None:
            raise Closed("EOF before a response")
        start, fields = got
        status = int(start.split(" ")[1])
        log["responses"].append([status, index, wire.last_head.decode("latin-1")])
        if not 100 <= status < 200:
            break
    if method == "HEAD" or status in (204, 304):
        pass
    elif "transfer-encoding" in fields or "content-length" in fields:
        wire.body(fields)
    else:
        wire.rest()
        return False
    return fields.get("connection", "").lower() != "close"


def send_pieces(sock, data, cuts):
    offsets = sorted({max(1, int(f * len(data))) for f in cuts} | {0, len(data)})
    for a, b in zip(offsets, offsets[1:]):
        if a:
            time.sleep(PIECE_GAP)
        sock.sendall(data[a:b])


def send_alone(sock, wire, conn, req, log):
    index = len(log["requests"])
    head, body = req.head(conn.host()), req.wire_body()
    log["requests"].append([req.method, req.path, req.label(), head.decode("latin-1")])
    if not (req.cuts or req.expect or req.body_apart):
        sock.sendall(head + body)
        return read_response(wire, req.method, log, index)
    send_pieces(sock, head, req.cuts)
    if req.expect:
        start, _ = wire.head() or ("EOF 0", {})
        log["responses"].append([int(start.split(" ")[1]), index,
                                 wire.last_head.decode("latin-1")])
        if log["responses"][-1][0] != 100:
            raise ValueError(f"{start!r} instead of 100 Continue")
    if body:
        sock.sendall(body)
    return read_response(wire, req.method, log, index)


def send_burst(sock, wire, conn, group, log):
    """Writes the group in one send() from a second thread while this one reads."""
    first = len(log["requests"])
    log["requests"] += [[r.method, r.path, r.label(), r.head(conn.host()).decode("latin-1")]
                        for r in group]
    data = b"".join(r.head(conn.host()) + r.wire_body() for r in group)
    failed = []
    writer = threading.Thread(target=write_all, args=(sock, data, failed))
    writer.start()
    try:
        for k, r in enumerate(group):
            if not read_response(wire, r.method, log, first + k):
                return False
        return True
    finally:
        writer.join()
        if failed:
            raise failed[0]


def write_all(sock, data, failed):
    try:
        sock.sendall(data)
    except OSError as e:
        failed.append(e)


def run_conn(conn):
    log = {"cid": conn.cid, "scenario": conn.scenario, "transport": conn.transport,
           "requests": [], "responses": [], "error": None}
    try:
        sock = socket.create_connection(conn.address(), timeout=TIMEOUT)
    except OSError as e:
        log["error"] = f"connect: {e}"
        return log
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    log["client"], log["server"] = sock.getsockname()[:2], sock.getpeername()[:2]
    wire = Wire(sock)
    try:
        for group in conn.groups:
            send = send_alone if len(group) == 1 else send_burst
            if not send(sock, wire, conn, group[0] if len(group) == 1 else group, log):
                break
    except (OSError, Closed, ValueError) as e:
        log["error"] = f"{type(e).__name__}: {e}"
    finally:
        sock.close()
    return log


def curl_log(verbose_path, writeout_path, log_path):
    """traffic.py's log of one curl connection, from curl -v's "> " and "< " lines (the heads
    curl sent and read, one line each, CRLF taken off) and its -w addresses."""
    local_ip, local_port, remote_ip, remote_port = open(writeout_path).read().split()[:4]
    log = {"cid": 0, "scenario": "curl", "transport": "veth4", "requests": [],
           "responses": [], "error": None, "client": [local_ip, int(local_port)],
           "server": [remote_ip, int(remote_port)]}
    heads = {">": [], "<": []}
    current = {">": [], "<": []}
    for line in open(verbose_path, encoding="latin-1"):
        side, text = line[:1], line[2:].rstrip("\r\n")
        if side not in heads or line[1:2] != " ":
            continue
        if text:
            current[side].append(text)
        elif current[side]:
            heads[side].append("\r\n".join(current[side]) + "\r\n\r\n")
            current[side] = []
    for head in heads[">"]:
        method, target = head.split(" ")[:2]
        log["requests"].append([method, target, f"{method} {target}", head])
    for i, head in enumerate(heads["<"]):
        log["responses"].append([int(head.split(" ")[1]), i, head])
    with open(log_path, "w") as f:
        f.write(json.dumps(log) + "\n")
    return 0


def plan(args):
    if args[0] == "random":
        return plan_random(int(args[1]), int(args[2])), args[3:]
    return {"regression-a": plan_regression_a, "extremes": plan_extremes}[args[0]](), args[1:]


def main(argv):
    if argv[0] == "curl":
        return curl_log(*argv[1:4])
    conns, (side, log_path) = plan(argv)
    mine = [c for c in conns if c.transport in SIDES[side]]
    with ThreadPoolExecutor(WORKERS) as pool:
        logs = list(pool.map(run_conn, mine))
    with open(log_path, "w") as f:
        for log in logs:
            f.write(json.dumps(log) + "\n")
    return 1 if any(log["error"] for log in logs) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
