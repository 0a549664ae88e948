#!/usr/bin/env python3
"""Live HTTPS test (root): HTTP/1.x inside TLS, read from OpenSSL with uprobes.

Two network namespaces joined by a veth pair; nginx with TLS (a certificate made here) in one,
curl and python clients in the other, the real ./httpeek in the root namespace, and a second
instance with --no-tls beside it. Every exchange must be reported once at each end (the
client's libssl and nginx's): request egress and response ingress named after the client,
request ingress and response egress after nginx, with the socket's 4-tuple and "tls":true, and
a net_flow_http at each end. Nothing is reported for the encrypted packets, nothing by the
--no-tls instance. The main instance probes the internal functions SSL_read and SSL_read_ex
share (and the writers'); a third, --tls-exported, probes the exported ones and must see the
same. HTTP/2 over TLS (ALPN h2: curl, and nghttp with 10 streams at once) is
reported as HTTP/1.x is, each message once at each end, on its stream. A client in its
own mount namespace, whose libssl.so.3 is another file at the usual path (as in a container),
started after httpeek, is traced too. A cleartext request both instances must report proves
that each was tracing; both must exit 0 on SIGINT with no sanitizer report. Prints the host
facts first (tracefs, BTF, cgroup v2, uprobe PMU), then "tls: <name> ok" or "... FAIL: why"
per check.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "offline", "schema"))
from checklib import Checks  # noqa: E402
from check_tracee_rules import check_event  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "live"))
import hostfacts  # noqa: E402

HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
NSC, NSS = f"hpk-tc-{os.getpid()}", f"hpk-ts-{os.getpid()}"
VC, VS = f"htc{os.getpid()}", f"hts{os.getpid()}"
C4, S4, C6, S6 = "10.210.0.1", "10.210.0.2", "fd00:210::1", "fd00:210::2"
PORT, MAPPED_PORT, H2_PORT, PLAIN_PORT = 8443, 8444, 8445, 8446
BIG_BODY = 1 << 20
BIG_RESP_FIELDS = 5     # response fields of 3500 bytes: a head longer than a TLS record
BIG_REQ_HEAD = 20000
VARIED_SIZES = (0, 1, 1000, 16384, 70000, 300000)  # varied_client.py's SIZES
VARIED_SEED = int(os.environ.get("HTTPEEK_TLS_SEED", "1"))
VARIED_CONNECTIONS = 40
checks = Checks("tls")


def sh(*cmd, ns=None, **kw):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    return subprocess.run(cmd, check=True, **kw)


def setup_net(nsc=NSC, nss=NSS, vc=VC, vs=VS, client=(C4, C6), server=(S4, S6)):
    """Two namespaces joined by a veth pair, each end with its IPv4 and IPv6 address
    (check_go_tls.py makes its own with other names and addresses)."""
    sh("ip", "netns", "add", nsc)
    sh("ip", "netns", "add", nss)
    sh("ip", "link", "add", vc, "type", "veth", "peer", "name", vs)
    sh("ip", "link", "set", vc, "netns", nsc)
    sh("ip", "link", "set", vs, "netns", nss)
    for ns, dev, (a4, a6) in ((nsc, vc, client), (nss, vs, server)):
        sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
        sh("ip", "addr", "add", a4 + "/24", "dev", dev, ns=ns)
        sh("ip", "-6", "addr", "add", a6 + "/64", "dev", dev, "nodad", ns=ns)


def start_nginx(tmp):
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
       "/CN=httpeek-test", "-keyout", f"{tmp}/key.pem", "-out", f"{tmp}/cert.pem",
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.makedirs(f"{tmp}/www", mode=0o755)
    with open(f"{tmp}/www/big", "wb") as f:
        f.write(b"b" * BIG_BODY)
    os.makedirs(f"{tmp}/files", mode=0o755)
    for n in VARIED_SIZES:
        with open(f"{tmp}/files/{n}", "wb") as f:
            f.write(os.urandom(n))
    for f in glob.glob(f"{tmp}/www/*") + glob.glob(f"{tmp}/files/*"):
        os.chmod(f, 0o644)
    big_fields = " ".join(f'add_header X-Big{i} "{"h" * 3500}";' for i in range(BIG_RESP_FIELDS))
    tls = f"ssl_certificate {tmp}/cert.pem; ssl_certificate_key {tmp}/key.pem;"
    conf = f"""worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    log_format t '$remote_port $request_method $request_uri $status';
    client_body_temp_path {tmp}/body;
    large_client_header_buffers 4 64k;
    client_max_body_size 4m;
    server {{
        listen {PORT} ssl; listen [::]:{PORT} ssl; listen [::]:{MAPPED_PORT} ssl ipv6only=off;
        listen {PLAIN_PORT};
        {tls}
        access_log {tmp}/access.log t;
        location = /big {{ root {tmp}/www; }}
        location /file/ {{ alias {tmp}/files/; }}
        location /s204/ {{ return 204; }}
        location /s404/ {{ return 404; }}
        location /v/ {{ return 200 "v\\n"; }}
        location = /bighead {{ {big_fields} return 200 "bh\\n"; }}
        location / {{ return 200 "ok $uri\\n"; }}
    }}
    server {{
        listen {H2_PORT} ssl http2;
        {tls}
        location / {{ return 200 "h2\\n"; }}
    }}
}}
"""
    with open(f"{tmp}/nginx.conf", "w") as f:
        f.write(conf)
    sh("nginx", "-c", f"{tmp}/nginx.conf", "-p", f"{tmp}/", "-e", f"{tmp}/error.log", ns=NSS)
    for _ in range(50):
        if os.path.exists(f"{tmp}/nginx.pid") and os.path.getsize(f"{tmp}/nginx.pid"):
            break
        time.sleep(0.1)
    master = int(open(f"{tmp}/nginx.pid").read())
    for _ in range(50):
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
        if out.split():
            break
        time.sleep(0.1)
    return master, [int(p) for p in out.split()]


def start_httpeek(tmp, name, *extra):
    err = open(f"{tmp}/{name}.err", "w")
    p = subprocess.Popen([HTTPEEK, "-e", "all", "-v", "-O", f"{tmp}/{name}.jsonl", *extra],
                         stderr=err)
    return p


def wait_ready(tmp, name, proc, tls):
    """Waits for the instance's "tracing" line (-v): set up, TLS on or off as asked."""
    want = r"live: tracing below \S+ \(TLS %s\)" % ("too" if tls else "not")
    for _ in range(600):
        text = open(f"{tmp}/{name}.err").read()
        if re.search(want, text):
            return text
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"httpeek {name} did not start (exit {proc.poll()}): {text[-500:]}")


SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|"
                       r"SUMMARY: UndefinedBehaviorSanitizer")


def stop(procs, tmp):
    """SIGINT to every instance; each must end within 20 s with status 0 and no sanitizer
    report on its standard error."""
    for p in procs.values():
        p.send_signal(signal.SIGINT)
    probs = []
    for name, p in procs.items():
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "none: still running 20 s after SIGINT (killed)"
        err = open(f"{tmp}/{name}.err").read()
        if rc != 0:
            probs.append(f"{name} exited with {rc}: {err[-300:]}")
        m = SANITIZER.search(err)
        if m:
            probs.append(f"{name}: {err[m.start():m.start() + 300]}")
    checks.report("every instance exits 0 on SIGINT, no sanitizer report", probs)


# A python client over TLS (SSL_read_ex/SSL_write_ex): requests written in one call
# (pipelined), responses read until each has its Content-Length of body.
PY_CLIENT = r"""
import socket, ssl, sys, time
host, port, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
paths = sys.argv[4:]
time.sleep(wait)  # libssl is loaded: give httpeek time to attach to a new copy of it
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((host, port)), server_hostname="t")
s.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % p.encode() for p in paths))
buf = b""
for _ in paths:
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, buf = buf.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(buf) < n:
        buf += s.recv(65536)
    buf = buf[n:]
s.close()
""".replace("import socket,", "import re, socket,")


def curl(*args):
    return ["curl", "-sk", "--http1.1", "-o", "/dev/null", *args]


def run_clients(tmp, lib):
    """Runs the cases; returns [(paths, (client comm, client pid, server port, family))]."""
    done = []
    with open(f"{tmp}/client.py", "w") as f:
        f.write(PY_CLIENT)
    with open(f"{tmp}/post.bin", "wb") as f:
        f.write(b"p" * 100000)
    cases = [
        (curl(f"https://{S4}:{PORT}/get1"), ["/get1"], "curl", PORT, 4),
        (curl("--data-binary", f"@{tmp}/post.bin", f"https://{S4}:{PORT}/post1"), ["/post1"],
         "curl", PORT, 4),
        (curl(*[f"https://{S4}:{PORT}/ka{i}" for i in (1, 2, 3)]), ["/ka1", "/ka2", "/ka3"],
         "curl", PORT, 4),
        (curl(f"https://{S4}:{PORT}/big", "-o", "/dev/null", f"https://{S4}:{PORT}/after"),
         ["/big", "/after"], "curl", PORT, 4),
        (curl("-H", "X-Long: " + "l" * BIG_REQ_HEAD, f"https://{S4}:{PORT}/longreq"),
         ["/longreq"], "curl", PORT, 4),
        (curl(f"https://{S4}:{PORT}/bighead"), ["/bighead"], "curl", PORT, 4),
        (curl("-g", f"https://[{S6}]:{PORT}/v6"), ["/v6"], "curl", PORT, 6),
        (curl(f"https://{S4}:{MAPPED_PORT}/mapped"), ["/mapped"], "curl", MAPPED_PORT, 4),
        (["python3", f"{tmp}/client.py", S4, str(PORT), "0", "/pp1", "/pp2", "/pp3"],
         ["/pp1", "/pp2", "/pp3"], "python3", PORT, 4),
        # Its own libssl.so.3 at the usual path (another file), as a container has.
        (["unshare", "-m", "sh", "-c",
          f'mount --bind {tmp}/lib/libssl.so.3 {lib} && exec python3 {tmp}/client.py '
          f'{S4} {PORT} 1 /alt1 /alt2'], ["/alt1", "/alt2"], "python3", PORT, 4),
    ]
    for cmd, paths, comm, port, family in cases:
        p = subprocess.Popen(("ip", "netns", "exec", NSC) + tuple(cmd),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, err = p.communicate(timeout=30)
        if p.returncode:
            raise RuntimeError(f"client {cmd[0]} {paths} failed: {err.decode()[-300:]}")
        done.append((paths, (comm, p.pid, port, family)))
    sh("python3", f"{HERE}/varied_client.py", f"{S4}:{PORT}", f"{tmp}/varied.jsonl",
       str(VARIED_SEED), str(VARIED_CONNECTIONS), ns=NSC)
    sh("curl", "-sf", "-o", "/dev/null", f"http://{S4}:{PLAIN_PORT}/plain", ns=NSC)
    h2 = subprocess.run(("ip", "netns", "exec", NSC, "curl", "-sk", "--http2", "-w",
                         "%{http_version}", "-o", "/dev/null", f"https://{S4}:{H2_PORT}/h2a",
                         "-o", "/dev/null", "-d", "x=1", f"https://{S4}:{H2_PORT}/h2b"),
                        capture_output=True, text=True, timeout=30)
    sh("nghttp", "-n", "-m", "10", f"https://{S4}:{H2_PORT}/h2m", ns=NSC)
    return done, h2.stdout.strip()[:1]


# HTTP/2 over TLS: how many requests of each path the clients sent.
H2_SENT = {"/h2a": 1, "/h2b": 1, "/h2m": 10}


def check_h2(events, h2_version):
    """Each HTTP/2 request and response once at each end (egress at the sender, ingress at
    the receiver), on a stream, and each exchange paired at both ends."""
    problems = [] if h2_version == "2" else [f"curl spoke HTTP/{h2_version}"]
    got = {}
    for e in events:
        a = e["a"]
        if H2_PORT not in (a.get("dst_port"), a.get("src_port"),
                           (a.get("metadata") or {}).get("dst_port"), a.get("server_port")):
            continue
        if e["eventName"] == "net_packet_http":
            p, d = a["proto_http"], a["metadata"]["direction"]
            key = (p["direction"], p["uri_path"] or "resp", d, p["protocol"],
                   p.get("stream_id", 0) > 0)
        elif e["eventName"] == "net_flow_http":
            rq, rs = a["request"] or {}, a["response"] or {}
            key = ("exchange", rq.get("uri_path"), rs.get("status_code"), rs.get("protocol"))
        else:
            continue
        got[key] = got.get(key, 0) + 1
    total = sum(H2_SENT.values())
    want = {("response", "resp", d, "HTTP/2.0", True): total for d in (1, 2)}
    for path, n in H2_SENT.items():
        for d in (1, 2):
            want[("request", path, d, "HTTP/2.0", True)] = n
        want[("exchange", path, 200, "HTTP/2.0")] = 2 * n
    if got != want:
        problems.append(f"got {sorted(got.items(), key=str)}, want "
                        f"{sorted(want.items(), key=str)}")
    return problems


def load(path):
    out = []
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            e["a"] = {x["name"]: x["value"] for x in e["args"]}
            a = e["a"]
            addrs = (a.get("src"), a.get("dst"), a.get("client_ip"), a.get("server_ip"),
                     (a.get("metadata") or {}).get("src_ip"))
            if any(x in (C4, S4, C6, S6) for x in addrs):
                out.append(e)
    return out


def case_problems(events, paths, spec, workers):
    """The net_packet_http events of one client's connection: each request and response
    once at each end, in order, with the connection's tuple, the right process and tls."""
    comm, pid, port, family = spec
    client, server = (C4, S4) if family == 4 else (C6, S6)
    msgs = [e for e in events if e["eventName"] == "net_packet_http"]
    first = [e for e in msgs if e["a"]["proto_http"]["uri_path"] == paths[0] and
             e["a"]["metadata"]["direction"] == 2 and e["processName"] == comm]
    if len(first) != 1:
        return [f"{paths[0]}: {len(first)} request events at {comm}, want 1"]
    cport = first[0]["a"]["src_port"]
    conn = [e for e in msgs if cport in (e["a"]["src_port"], e["a"]["dst_port"]) and
            port in (e["a"]["src_port"], e["a"]["dst_port"])]
    probs = []

    def seq(kind, d, who):
        return [e for e in conn if e["a"]["proto_http"]["direction"] == kind and
                e["a"]["metadata"]["direction"] == d and e["processName"] == who]
    for kind, d, who in (("request", 2, comm), ("request", 1, "nginx")):
        got = [e["a"]["proto_http"]["uri_path"] for e in seq(kind, d, who)]
        if got != paths:
            probs.append(f"{paths[0]}: {kind}s at {who} {got}, want {paths}")
    for kind, d, who in (("response", 1, comm), ("response", 2, "nginx")):
        got = [e["a"]["proto_http"]["status_code"] for e in seq(kind, d, who)]
        if got != [200] * len(paths):
            probs.append(f"{paths[0]}: responses at {who} {got}, want {len(paths)} x 200")
    if len(conn) != 4 * len(paths):
        probs.append(f"{paths[0]}: {len(conn)} events on the connection, want {4 * len(paths)}")
    for e in conn:
        a = e["a"]
        req = a["proto_http"]["direction"] == "request"
        want = (client, cport, server, port) if req else (server, port, client, cport)
        if (a["src"], a["src_port"], a["dst"], a["dst_port"]) != want:
            probs.append(f"{paths[0]}: tuple {a['src']}:{a['src_port']} -> "
                         f"{a['dst']}:{a['dst_port']}, want {want}")
        if a["metadata"].get("tls") is not True:
            probs.append(f"{paths[0]}: metadata {a['metadata']} lacks tls:true")
        if e["processName"] == comm and e["hostProcessId"] != pid:
            probs.append(f"{paths[0]}: {comm} pid {e['hostProcessId']}, want {pid}")
        if e["processName"] == "nginx" and e["hostProcessId"] not in workers:
            probs.append(f"{paths[0]}: nginx pid {e['hostProcessId']} not a worker {workers}")
    return probs


def exchange(events, path):
    """The request and response of path's exchange as nginx's net_flow_http has them."""
    for e in events:
        a = e["a"]
        if e["eventName"] == "net_flow_http" and e["processName"] == "nginx" and \
                a["request"] and a["request"]["uri_path"] == path:
            return a["request"], a["response"] or {}
    return {}, {}


def check_messages(events, cases, workers):
    probs = []
    for paths, spec in cases:
        probs += case_problems(events, paths, spec, workers)
    checks.report(f"every message once at each end ({len(cases)} connections)", probs)
    big = exchange(events, "/big")[1]
    bh = exchange(events, "/bighead")[1].get("headers", {})
    lr = exchange(events, "/longreq")[0].get("headers", {})
    post = exchange(events, "/post1")[0]
    checks.report("1 MB body, heads past one TLS record, POST body", [
        p for p, ok in (
            (f"/big content_length {big.get('content_length')}",
             big.get("content_length") == BIG_BODY),
            ("/bighead X-Big*", all(len(bh.get(f"X-Big{i}", [""])[0]) == 3500
                                    for i in range(BIG_RESP_FIELDS))),
            ("/longreq X-Long", len(lr.get("X-Long", [""])[0]) == BIG_REQ_HEAD),
            (f"/post1 content_length {post.get('content_length')}",
             post.get("content_length") == 100000),
        ) if not ok])


def check_flows(events, cases):
    flows = [e for e in events if e["eventName"] == "net_flow_http"]
    probs = []
    expect = {path: spec for paths, spec in cases for path in paths}
    for path in expect:
        mine = [f for f in flows if f["a"]["request"] and f["a"]["request"]["uri_path"] == path]
        ends = sorted(f["processName"] for f in mine)
        if ends != sorted([expect[path][0], "nginx"]):
            probs.append(f"{path}: net_flow_http at {ends}")
        for f in mine:
            if not f["a"]["response"] or f["a"]["metadata"].get("tls") is not True or \
                    f["a"]["latency_ns"] <= 0:
                probs.append(f"{path}: flow response/tls/latency wrong")
    checks.report("net_flow_http pairs each exchange at both ends", probs)


def varied_problems(events, tmp):
    """Varied traffic: httpeek's exchanges at each end against the other views of them:
    [(the view, how many exchanges, problems)]."""
    varied = ("/file/", "/v/", "/s204/", "/s404/")  # the only paths varied_client.py asks for
    flows = [e for e in events if e["eventName"] == "net_flow_http" and e["a"]["request"]
             and e["a"]["client_port"] and e["a"]["request"]["uri_path"].startswith(varied)]

    def seen(who):
        return sorted((f["a"]["client_port"], f["a"]["request"]["method"],
                       f["a"]["request"]["uri_path"],
                       (f["a"]["response"] or {}).get("status_code"))
                      for f in flows if f["processName"] == who)
    client = sorted((p, m, t.split("?")[0], s) for p, m, t, s in
                    map(json.loads, open(f"{tmp}/varied.jsonl")))
    ports = {c[0] for c in client}
    # Another test's request may reuse one of the client's ports: the paths tell them apart.
    nginx = sorted((int(p), m, t.split("?")[0], int(s)) for p, m, t, s in
                   (line.split() for line in open(f"{tmp}/access.log"))
                   if int(p) in ports and t.startswith(varied))
    views = []
    for name, want, got in (("nginx's access log", nginx, seen("nginx")),
                            ("what the client did", client, seen("python3"))):
        missing = [x for x in want if x not in got]
        extra = [x for x in got if x not in want]
        views.append((name, len(want), [f"{len(missing)} missing, e.g. {missing[:3]}; "
                                        f"{len(extra)} extra, e.g. {extra[:3]}"]
                      if missing or extra or not want else []))
    return views


def check_varied(events, tmp):
    """Varied traffic: httpeek's exchanges at each end equal the other views of them."""
    for name, n, probs in varied_problems(events, tmp):
        checks.report(f"varied traffic (seed {VARIED_SEED}): httpeek equals {name} "
                      f"({n} exchanges)", probs)


def check_probe_places(tmp):
    """Where the probes went (-v): the main instance into the internal functions SSL_read and
    SSL_read_ex share (and the writers'), on the host's libssl.so.3 and the copy alike; the
    --tls-exported instance into the exported functions themselves."""
    err = open(f"{tmp}/main.err").read()
    inside = re.findall(r"tls: (\S+): probed where SSL_read and SSL_read_ex meet \((\w+)\) "
                        r"and where SSL_write and SSL_write_ex meet \((\w+)\)", err)
    attached = re.findall(r"tls: attached to (\S+)", err)
    exported = open(f"{tmp}/exported.err").read()
    probs = [f"{path}: read at {r}, write at {w}" for path, r, w in inside
             if int(r, 16) == 0 or int(w, 16) == 0 or r == w]
    if len(inside) != len(attached) or not inside:
        probs.append(f"{len(inside)} of {len(attached)} libraries probed inside")
    if "meet (" in exported or "tls: attached to" not in exported:
        probs.append("--tls-exported probed inside, or attached to nothing")
    checks.report("probes where SSL_read and SSL_read_ex meet (and the writers), or, with "
                  "--tls-exported, on the exported functions", probs)


def check_exported(tmp, cases, workers):
    """The --tls-exported instance saw what the main one did: every message once at each
    end, the varied traffic as nginx logged it and as the client did it."""
    events = split_plain(load(f"{tmp}/exported.jsonl"))[1]
    probs = []
    for paths, spec in cases:
        probs += case_problems(events, paths, spec, workers)
    for name, n, more in varied_problems(events, tmp):
        probs += [f"varied against {name}: {p}" for p in more]
    checks.report("--tls-exported: every message once at each end, the varied traffic as "
                  "nginx and the client saw it", probs)


def teardown(tmp, suite):
    """Stops nginx, removes the namespaces and tmp (kept with HTTPEEK_KEEP set)."""
    if os.path.exists(f"{tmp}/nginx.pid"):
        subprocess.run(["kill", open(f"{tmp}/nginx.pid").read().strip()])
    time.sleep(0.2)
    subprocess.run(["ip", "netns", "del", NSC], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "del", NSS], stderr=subprocess.DEVNULL)
    if os.environ.get("HTTPEEK_KEEP"):
        print(f"{suite}: kept {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def ports_of(e):
    a = e["a"]
    return {a.get("src_port"), a.get("dst_port"), a.get("client_port"), a.get("server_port"),
            (a.get("metadata") or {}).get("src_port"), (a.get("metadata") or {}).get("dst_port")}


def split_plain(events):
    """(events of the cleartext control exchange, the others)."""
    plain = [e for e in events if PLAIN_PORT in ports_of(e)]
    return plain, [e for e in events if PLAIN_PORT not in ports_of(e)]


def check_plain(name, plain):
    """The cleartext control: the instance was tracing (a request at both ends, no tls)."""
    got = sorted((e["processName"], e["a"]["metadata"].get("direction")) for e in plain
                 if e["eventName"] == "net_packet_http" and
                 e["a"]["proto_http"]["uri_path"] == "/plain" and
                 e["a"]["proto_http"]["direction"] == "request" and
                 e["a"]["metadata"].get("tls") is not True)
    checks.report(f"{name} traced the cleartext control request",
                  [] if got == [("curl", 2), ("nginx", 1)] else [f"request events {got}"])


def check_copies(err):
    """The copy of libssl.so.3 bound over the usual path in a client's own mount namespace
    (another inode, the same path) was attached to when the client mapped it."""
    attached = re.findall(r"tls: attached to (\S+)(?: \(pid (\d+), inode (\d+))?", err)
    copies = re.search(r"tls: read from (\d+) copies of libssl.so.3", err)
    at_map = {ino for path, pid, ino in attached if pid and path.endswith("/libssl.so.3")}
    checks.report("a copy of libssl.so.3 in a process's own mount namespace", [] if at_map and
                  len(attached) >= 2 and copies and int(copies.group(1)) == len(attached) else
                  [f"attached to {attached}, summary: {copies and copies.group(0)}"])


def main():
    print(hostfacts.line())
    if os.geteuid():
        print("tls: needs root", file=sys.stderr)
        return 1
    libs = [p for p in glob.glob("/usr/lib/*/libssl.so.3") + glob.glob("/lib/*/libssl.so.3")]
    if not libs:
        print("tls: libssl.so.3 not found", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="httpeek-tls.")
    os.chmod(tmp, 0o755)
    os.makedirs(f"{tmp}/lib")
    shutil.copy(libs[0], f"{tmp}/lib/libssl.so.3")  # another file, same contents
    procs = {}
    try:
        setup_net()
        master, workers = start_nginx(tmp)
        procs["main"] = start_httpeek(tmp, "main")
        procs["notls"] = start_httpeek(tmp, "notls", "--no-tls")
        procs["exported"] = start_httpeek(tmp, "exported", "--tls-exported")
        wait_ready(tmp, "main", procs["main"], True)
        wait_ready(tmp, "notls", procs["notls"], False)
        wait_ready(tmp, "exported", procs["exported"], True)
        cases, h2_version = run_clients(tmp, libs[0])
        time.sleep(1)
        stop(procs, tmp)
        plain, events = split_plain(load(f"{tmp}/main.jsonl"))
        err = open(f"{tmp}/main.err").read()
        check_plain("httpeek", plain)
        check_messages(events, cases, workers)
        check_flows(events, cases)
        check_varied(events, tmp)
        checks.report("no event for encrypted packets", [
            f"event without tls: {e['eventName']}" for e in events
            if (e["a"].get("metadata") or {}).get("tls") is not True])
        checks.report("tracee decoder reads every TLS event", [
            f"{e['eventName']}: {p}" for e in events
            for p in check_event({k: v for k, v in e.items() if k != "a"})])
        check_copies(err)
        checks.report("HTTP/2 over TLS at both ends", check_h2(events, h2_version))
        plain, notls = split_plain(load(f"{tmp}/notls.jsonl"))
        check_plain("--no-tls", plain)
        checks.report("--no-tls reports nothing from TLS", [f"{len(notls)} events"] if notls
                      else [])
        check_probe_places(tmp)
        check_exported(tmp, cases, workers)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        teardown(tmp, "tls")
    checks.exit()


if __name__ == "__main__":
    sys.exit(main())
