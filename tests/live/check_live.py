#!/usr/bin/env python3
"""Checks for the live test (run.sh).

events EVENTS CASES STDERR CLIENT_IF SERVER_IF QUICK REC...: asserts the exact net_packet_http events
  of every case (EVENTS holds all four kinds), header values included; as many events of each
  kind as the cases make; that Tracee's decoder reads every event
  (tests/offline/schema/check_tracee_rules.py); the PktMeta of the request and response events:
  iface the veth of the socket's namespace (CLIENT_IF, SERVER_IF) or lo, also for QUICK curl
  clients that exit at once (port 8082); that every request
  and response event has its net_packet_http twin; and that each message, at both ends, equals
  the same message in the recordings REC (httpeek -r -e all on tcpdump's files) in every
  field, packet_len included.
wait-attached PID: waits until httpeek PID is set up (NoNewPrivs: 1, its programs linked);
  prints the ids of the programs its links hold.
gone IDS: asserts that those programs and their links are gone.
caps PID: asserts that httpeek PID kept no capability and runs as nobody once set up, that
  its /proc helper kept CAP_SYS_PTRACE alone, and that a process with httpeek's credentials
  cannot open a root process's /proc/PID/mem for writing.
filtered EVENTS STDERR MAIN_STDERR: a -f port=8081 instance reported only that port's
  exchange and read fewer ring-buffer records than the unfiltered one.
stats STDERR: the last --stats line counts what the summary counts; every stats line is
  well-formed and no counter goes down.
burst EVENTS STDERR: a 4 KiB ring buffer under a burst counted kernel drops and still
  reported the requests made after the burst.
The addresses and the loopback ports of the run come from LIVE_C4, LIVE_S4, LIVE_C6, LIVE_S6,
LIVE_LPORT and LIVE_PPORT (run.sh). One TAP line per check (tests/checklib.py); the first
failure ends the command with exit 1.
"""
import collections
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "offline", "schema"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from check_tracee_rules import check_event  # noqa: E402
from checklib import tap_fail, tap_note, tap_ok  # noqa: E402

C4 = (os.environ.get("LIVE_C4", "10.200.0.1"), os.environ.get("LIVE_S4", "10.200.0.2"))
C6 = (os.environ.get("LIVE_C6", "fd00:200::1"), os.environ.get("LIVE_S6", "fd00:200::2"))
LPORT = int(os.environ.get("LIVE_LPORT", "80"))    # nginx on loopback
PPORT = int(os.environ.get("LIVE_PPORT", "8091"))  # the pipelining server
LO = ("127.0.0.1", "127.0.0.1")
LO6 = ("::1", "::1")
TEST_ADDRS = set(C4 + C6 + LO + LO6)
QUICK_PORT = 8082
LONG, BIG = "l" * 4000, "b" * 3000
# metadata.direction holds Tracee's PacketDirection numbers.
DIRECTIONS = {1: "ingress", 2: "egress"}

# name: client process, addresses (client, server), server port, paths, method, server.
CASES = {
    "curl4": dict(client="curl", paths=["/c4"]),
    "curl6": dict(client="curl", addrs=C6, paths=["/c6"]),
    "py4": dict(client="python3", paths=["/p4"]),
    "py6": dict(client="python3", addrs=C6, paths=["/p6"]),
    "ext6": dict(client="python3", addrs=C6, port=8092, paths=["/ext6"], server="ext6_server"),
    "longreq": dict(client="curl", paths=["/longreq"], req_header=("X-Long", LONG)),
    "bighdr": dict(client="curl", paths=["/bighdr"], resp_header=("X-Big", BIG)),
    "pipe": dict(client="python3", paths=["/pipe1", "/pipe2", "/pipe3"]),
    "port8081": dict(client="curl", port=8081, paths=["/port8081"]),
    "patch": dict(client="curl", method="PATCH", paths=["/patch"]),
    "options": dict(client="curl", method="OPTIONS", paths=["/options"]),
    "head": dict(client="curl", method="HEAD", paths=["/head"]),
    "loop": dict(client="curl", addrs=LO, port=LPORT, paths=["/loop"]),
    "loopkeep": dict(client="python3", addrs=LO, port=LPORT, paths=["/lk1", "/lk2", "/lk3"]),
    "loop6keep": dict(client="python3", addrs=LO6, port=LPORT, paths=["/l6k1", "/l6k2"]),
    "looppipe": dict(client="python3", addrs=LO, port=PPORT, paths=["/lp1", "/lp2", "/lp3"],
                     server="pipe_server"),
    "accept": dict(client="curl", port=8090, paths=["/accept"], server="late_server"),
    "pidns": dict(client="curl", paths=["/pidns"], ns_pid=1),
    # Messages behind a body in the same segment: three responses in one send(), and two
    # POSTs with bodies in one send().
    # One socket used by the client process (/ho1, /ho3) and its forked child (/ho2). The
    # owner changes when the new user's send() ends, after its packet left (docs/LIVE.md,
    # Limits): the request egress events lag by one user, the response ingress ones do not.
    "handoff": dict(client="python3", paths=["/ho1", "/ho2", "/ho3"],
                    owners={"/ho2": ("handoff", "handoff_child"),
                            "/ho3": ("handoff_child", "handoff")}),
    "pipesrv": dict(client="python3", port=PPORT, paths=["/ps1", "/ps2", "/ps3"],
                    server="pipe_server"),
    "postpipe": dict(client="python3", port=PPORT, method="POST", paths=["/post1", "/post2"],
                     server="pipe_server"),
}


class Fail(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Fail(what)


def load_events(path, kind="net_packet_http"):
    """The events of one kind (None: all), each with its args by name in e["a"]."""
    out = []
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            e["a"] = {x["name"]: x["value"] for x in e["args"]}
            if kind is None or e["eventName"] == kind:
                out.append(e)
    return out


def tuple_of(e):
    a = e["a"]
    return (a["src"], a["src_port"], a["dst"], a["dst_port"])


def http(e):
    return e["a"]["proto_http"]


def direction(e):
    d = e["a"]["metadata"]["direction"]
    need(type(d) is int and d in DIRECTIONS, f"metadata.direction {d!r} is not 1 or 2")
    return DIRECTIONS[d]


def header(e, name):
    return http(e)["headers"].get(name)


def host_of(addr, port):
    """The Host header curl and http.client send: the address (bracketed IPv6), :port unless 80."""
    host = f"[{addr}]" if ":" in addr else addr
    return host if port == 80 else f"{host}:{port}"


def check_owner(e, comm, pid, what, ns_pid=None, by_parent=False):
    need(e["processName"] == comm, f"{what}: processName {e['processName']!r}, want {comm!r}")
    if by_parent:
        need(e["hostParentProcessId"] == pid,
             f"{what}: hostParentProcessId {e['hostParentProcessId']}, want {pid}")
    else:
        need(e["hostProcessId"] == pid, f"{what}: hostProcessId {e['hostProcessId']}, want {pid}")
    if ns_pid is not None:
        need(e["processId"] == ns_pid, f"{what}: processId {e['processId']}, want {ns_pid}")
    else:
        need(e["processId"] == e["hostProcessId"], f"{what}: processId differs from host pid")
    need(e["threadStartTime"] > 1.5e18, f"{what}: threadStartTime {e['threadStartTime']}")


def check_case(name, spec, events, pids):
    addrs = spec.get("addrs", C4)
    port = spec.get("port", 80)
    method = spec.get("method", "GET")
    server = spec.get("server", "nginx")
    cpid = pids[name]
    owners = {p: (pids[e], pids[i]) for p, (e, i) in spec.get("owners", {}).items()}
    conn = None
    for path in spec["paths"]:
        reqs = [e for e in events if http(e)["direction"] == "request"
                and http(e)["uri_path"] == path]
        need(len(reqs) == 2, f"{path}: {len(reqs)} request events, want 2")
        eg = [e for e in reqs if direction(e) == "egress"]
        ig = [e for e in reqs if direction(e) == "ingress"]
        need(len(eg) == 1 and len(ig) == 1, f"{path}: want one egress and one ingress request")
        eg, ig = eg[0], ig[0]
        for e in (eg, ig):
            t = tuple_of(e)
            need(t[0] == addrs[0] and t[2] == addrs[1] and t[3] == port,
                 f"{path}: request tuple {t}")
            need(http(e)["method"] == method, f"{path}: method {http(e)['method']}")
            want_host = host_of(addrs[1], port)
            need(http(e)["host"] == want_host and header(e, "Host") == [want_host],
                 f"{path}: host {http(e)['host']!r}, Host {header(e, 'Host')}, want {want_host!r}")
            if "req_header" in spec:
                h, v = spec["req_header"]
                need(header(e, h) == [v], f"{path}: header {h} is not the {len(v)} bytes sent: "
                     f"{str(header(e, h))[:80]}")
        need(tuple_of(eg) == tuple_of(ig), f"{path}: egress and ingress tuples differ")
        need(conn in (None, tuple_of(eg)), f"{path}: not on the connection of the others")
        conn = tuple_of(eg)
        if spec.get("ns_pid"):
            check_owner(eg, "curl", cpid, f"{path} egress", ns_pid=1, by_parent=True)
        else:
            check_owner(eg, spec["client"], owners.get(path, (cpid,))[0], f"{path} egress")
        if server == "nginx":
            check_owner(ig, "nginx", pids["nginx"], f"{path} ingress", by_parent=True)
            # The worker runs as nobody: its /proc/PID/exe needs the helper's CAP_SYS_PTRACE.
            exe = ig["executable"]["path"]
            need(exe.endswith("/nginx"), f"{path} ingress: executable {exe!r}")
        else:
            check_owner(ig, "python3", pids[server], f"{path} ingress")
    back = (conn[2], conn[3], conn[0], conn[1])
    resps = [e for e in events if http(e)["direction"] == "response" and tuple_of(e) == back]
    n = len(spec["paths"])
    need(len(resps) == 2 * n, f"{name}: {len(resps)} response events, want {2 * n}")
    ingress_order = sorted((e for e in resps if direction(e) == "ingress"),
                           key=lambda e: e["timestamp"])
    for e in resps:
        need(http(e)["status_code"] == 200, f"{name}: status {http(e)['status_code']}")
        if "resp_header" in spec:
            h, v = spec["resp_header"]
            need(header(e, h) == [v], f"{name}: response header {h} is not the {len(v)} bytes "
                 f"sent: {str(header(e, h))[:80]}")
        if direction(e) == "egress":
            if server == "nginx":
                check_owner(e, "nginx", pids["nginx"], f"{name} response egress", by_parent=True)
            else:
                check_owner(e, "python3", pids[server], f"{name} response egress")
        elif spec.get("ns_pid"):
            check_owner(e, "curl", cpid, f"{name} response ingress", ns_pid=1, by_parent=True)
        else:
            i = ingress_order.index(e)
            want = owners.get(spec["paths"][i], (cpid, cpid))[1] if i < n else cpid
            check_owner(e, spec["client"], want, f"{name} response {i + 1} ingress")
    need(sum(1 for e in resps if direction(e) == "egress") == n, f"{name}: egress responses")
    on_conn = [e for e in events if tuple_of(e) in (conn, back)]
    need(len(on_conn) == 4 * n, f"{name}: {len(on_conn)} events on the connection, want {4 * n}")
    return {id(e) for e in on_conn}


def ours(e):
    """An event of the test: between test addresses; on loopback only the loop cases' ports
    (other processes of the host talk over 127.0.0.1 too)."""
    a = e["a"]
    if a["src"] not in TEST_ADDRS or a["dst"] not in TEST_ADDRS:
        return False
    ports = (a["src_port"], a["dst_port"])
    if QUICK_PORT in ports:
        return False  # pktmeta's clients that exit at once
    return a["src"] not in LO + LO6 or LPORT in ports or PPORT in ports


def check_decoder(every):
    """Tracee's own decoder reads every event of every kind."""
    counts = collections.Counter(e["eventName"] for e in every)
    for e in every:
        problems = check_event({k: v for k, v in e.items() if k != "a"})
        need(not problems, f"tracee-rules: {e['eventName']}: {problems}")
    tap_ok("live", "tracee-rules")
    tap_note("tracee-rules: %s" % ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


def ends_of(e):
    """(src, src_port, dst, dst_port) of an event of any kind; a flow's from client to server."""
    a = e["a"]
    if e["eventName"] == "net_packet_http":
        return tuple_of(e)
    if e["eventName"] == "net_flow_http":
        return (a["client_ip"], a["client_port"], a["server_ip"], a["server_port"])
    m = a["metadata"]
    return (m["src_ip"], m["src_port"], m["dst_ip"], m["dst_port"])


def ours_any(e):
    return ours({"a": dict(zip(("src", "src_port", "dst", "dst_port"), ends_of(e)))})


def check_kinds(every):
    """Each message of the cases at both socket ends: one event of each kind that carries it,
    no more, no fewer (net_flow_http: one per exchange at each end)."""
    reqs = sum(len(spec["paths"]) for spec in CASES.values())
    want = {"net_packet_http": 4 * reqs, "net_packet_http_request": 2 * reqs,
            "net_packet_http_response": 2 * reqs, "net_flow_http": 2 * reqs}
    got = collections.Counter(e["eventName"] for e in every if ours_any(e))
    need(dict(got) == want, f"kinds: {dict(got)}, want {want}")
    tap_ok("live", "event-kinds")
    tap_note("event-kinds: " + ", ".join(f"{n} {k}" for k, n in sorted(got.items())))


def twin_key(e):
    return (e["timestamp"], e["hostThreadId"]) + ends_of(e)


def check_twins(every):
    """Every request and response event of the cases has its net_packet_http twin (the same
    message at the same socket end) and the other way round."""
    ours_ = [e for e in every if ours_any(e) and e["eventName"] != "net_flow_http"]
    plain = collections.Counter(twin_key(e) + (http(e)["direction"],) for e in ours_
                                if e["eventName"] == "net_packet_http")
    split = collections.Counter(
        twin_key(e) + ("request" if e["eventName"].endswith("request") else "response",)
        for e in ours_ if e["eventName"] != "net_packet_http")
    need(plain == split, f"twins: {len(plain - split)} net_packet_http events without their "
         f"request/response twin, {len(split - plain)} the other way, first "
         f"{list((plain - split) or (split - plain))[:1]}")
    tap_ok("live", "twins")


def message_fields(e):
    """What a message is, whichever end saw it: the HTTP object and the tuple; packet_len
    for the request and response events."""
    a = e["a"]
    if e["eventName"] == "net_packet_http":
        return {"tuple": tuple_of(e), "http": a["proto_http"]}
    m = a["metadata"]
    body = a.get("http_request") or a.get("http_response")
    return {"tuple": ends_of(e), "http": body, "packet_len": m["packet_len"],
            "protocol": m["protocol"]}


def by_message(events, kinds):
    """{(event kind, message kind, tuple): [fields in timestamp order]}."""
    out = collections.defaultdict(list)
    for e in sorted(events, key=lambda e: e["timestamp"]):
        if e["eventName"] in kinds and ours_any(e):
            f = message_fields(e)
            kind = e["eventName"]
            what = f["http"].get("direction") or ("request" if "method" in f["http"]
                                                  else "response")
            out[kind, what, f["tuple"]].append(f)
    return out


def check_recorded(every, rec_paths):
    """Each message, at each end (egress and ingress), equals the same message of the
    recordings read with httpeek -r in every field, packet_len included."""
    kinds = ("net_packet_http", "net_packet_http_request", "net_packet_http_response")
    rec = by_message([e for p in rec_paths for e in load_events(p, None)], kinds)
    ends = {"ingress": [], "egress": []}
    for e in every:
        if e["eventName"] == "net_packet_http":
            ends[direction(e)].append(e)
    twin = {twin_key(e): direction(e) for e in every if e["eventName"] == "net_packet_http"}
    for e in every:
        if e["eventName"] in kinds[1:] and twin_key(e) in twin:
            ends[twin[twin_key(e)]].append(e)
    compared = 0
    for end, events in ends.items():
        live = by_message(events, kinds)
        need(set(live) == set(rec), f"recorded: at {end}, messages of {len(set(live) ^ set(rec))} "
             f"connection sides differ from the recording's, first {sorted(set(live) ^ set(rec))[:1]}")
        for key, want in rec.items():
            got = live[key]
            need(len(got) == len(want), f"recorded: {key} at {end}: {len(got)} messages, "
                 f"recording {len(want)}")
            for i, (g, w) in enumerate(zip(got, want)):
                diff = [k for k in set(g) | set(w) if g.get(k) != w.get(k)]
                need(not diff, f"recorded: {key} #{i + 1} at {end} differs in {diff}: live "
                     f"{str({k: g.get(k) for k in diff})[:300]}, recording "
                     f"{str({k: w.get(k) for k in diff})[:300]}")
                compared += 1
    tap_ok("live", "recorded")
    tap_note(f"recorded: {compared} messages at both ends equal the recording's, packet_len "
             f"and every header included")


def check_pkt_meta(every, client_if, server_if, quick):
    """PktMeta of the test's request and response events: the interface of the socket end
    (the veth of its namespace, lo for loopback), an IP length. The end is the direction of
    the net_packet_http event of the same message at the same socket. The kernel names an
    interface when it sees a packet there (docs/EVENTS.md), so a client that exited long
    before its events were written is named all the same: every event must be, but for up to
    1% of those of the quick curl clients (a name record the ring buffer had no room for)."""
    twins = {}
    for e in every:
        if e["eventName"] == "net_packet_http":
            twins[(e["timestamp"], e["hostThreadId"]) + tuple_of(e)] = direction(e)
    seen, fast, fast_named = collections.Counter(), 0, 0
    for e in every:
        if e["eventName"] not in ("net_packet_http_request", "net_packet_http_response"):
            continue
        m = e["a"]["metadata"]
        key = (e["timestamp"], e["hostThreadId"], m["src_ip"], m["src_port"], m["dst_ip"],
               m["dst_port"])
        if m["src_ip"] not in TEST_ADDRS or key not in twins:
            continue
        request = e["eventName"] == "net_packet_http_request"
        client_end = (twins[key] == "egress") == request
        want = "lo" if m["src_ip"] in LO + LO6 else client_if if client_end else server_if
        if client_end and QUICK_PORT in (m["src_port"], m["dst_port"]):
            fast += 1
            fast_named += m["iface"] == want
            need(m["iface"] in (want, "any"), f"pktmeta: quick client iface {m['iface']!r}")
        else:
            need(m["iface"] == want, f"pktmeta: {e['eventName']} {key} at the "
                 f"{'client' if client_end else 'server'}: iface {m['iface']!r}, want {want!r}")
        need(40 <= m["packet_len"] <= 1 << 18, f"pktmeta: packet_len {m['packet_len']}")
        seen[m["iface"]] += 1
    need(seen[client_if] and seen[server_if] and seen["lo"], f"pktmeta: names seen {seen}")
    need(fast >= 2 * quick and fast_named >= 0.99 * fast,
         f"pktmeta: {fast_named} of {fast} events of curl clients that exit at once named "
         f"{client_if}, want 99% of at least {2 * quick}")
    tap_ok("live", "pktmeta")
    tap_note("pktmeta: iface %s; %d of %d events of quick curl clients named" % (
        ", ".join(f"{k} {n}" for k, n in sorted(seen.items())), fast_named, fast))


def cmd_events(events_path, cases_path, stderr_path, client_if, server_if, quick, *rec_paths):
    every = load_events(events_path, None)
    check_decoder(every)
    check_kinds(every)
    check_twins(every)
    check_pkt_meta(every, client_if, server_if, int(quick))
    check_recorded(every, rec_paths)
    events = [e for e in load_events(events_path) if ours(e)]
    pids = {}
    with open(cases_path) as f:
        for line in f:
            k, v = line.split()
            pids[k] = int(v)
    seen = set()
    for name, spec in CASES.items():
        seen |= check_case(name, spec, events, pids)
        tap_ok("live", f"{name}")
    stray = [e for e in events if 9000 in (e["a"]["src_port"], e["a"]["dst_port"])]
    need(not stray, f"nonhttp: {len(stray)} events on the non-HTTP port")
    tap_ok("live", "nonhttp")
    extra = [e for e in events if id(e) not in seen]
    need(not extra, f"{len(extra)} unexpected events, first {extra[:1]}")
    tap_ok("live", "no-extra-events")
    expected = sum(4 * len(spec["paths"]) for spec in CASES.values())
    unknown = sum(1 for e in events if not e["processName"])
    need(unknown == 0, f"{unknown} events without an owner")
    tap_ok("live", "totals")
    tap_note(f"totals: {expected} events expected, {len(events)} reported, {len(seen)} with "
             f"owner checked, {unknown} unknown owners")
    with open(stderr_path) as f:
        summary = f.read()
    need(re.search(r"^httpeek: \d+ packets, .* 0 kernel drops, .* ring-buffer records$", summary,
                   re.M) and "httpeek: no message missed" in summary,
         f"summary (httpeek stopped by SIGTERM): {summary.strip()[-300:]}")
    tap_ok("live", "no-kernel-drops")
    # Loopback packets copied once for both ends: at least the responses of the loop cases
    # and the keep-alive requests after the first.
    m = re.search(r"httpeek: live: .*?(\d+) mirrored", summary)
    need(m, "summary: no mirrored count")
    want = sum(len(CASES[c]["paths"]) for c in ("loop", "loopkeep", "loop6keep")) + 3 + 1
    need(int(m.group(1)) >= want, f"loopback: {m.group(1)} packets mirrored, want >= {want}")
    tap_ok("live", "loopback-once")
    tap_note(f"loopback-once: {m.group(1)} loopback packets copied once for both ends")


CAP_SYS_PTRACE = 19
CAP_SYS_ADMIN = 21


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(x) for x in f.read().split()]


CAP_NAMES = {19: "sys_ptrace", 21: "sys_admin", 39: "bpf", 38: "perfmon", 12: "net_admin"}


def as_process(st, argv):
    """Runs argv with the uid, gid and capabilities of the process whose status is st, no
    groups, no_new_privs (setpriv)."""
    caps = int(st["CapEff"], 16)
    names = [f"+{CAP_NAMES.get(i, 'cap_%d' % i)}" for i in range(64) if caps >> i & 1]
    capset = ",".join(["-all"] + names)
    uid, gid = st["Uid"].split()[1], st["Gid"].split()[1]
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                           f"--inh-caps={capset}", f"--ambient-caps={capset}",
                           f"--bounding-set={capset}", "--no-new-privs", *argv],
                          capture_output=True, text=True)


def cmd_caps(pid):
    """Once set up, httpeek keeps no capability and runs as nobody; its /proc helper keeps
    CAP_SYS_PTRACE alone and holds nothing but its socket; the TLS attacher, when there is one,
    keeps CAP_SYS_ADMIN and CAP_SYS_PTRACE alone. A process with httpeek's
    credentials cannot open a root process's /proc/PID/mem for writing."""
    for _ in range(50):
        st = proc_status(pid)
        if int(st["CapEff"], 16) == 0:
            break
        time.sleep(0.1)
    # A root process with every capability (pid 1 may be shielded further, as in some
    # sandboxes where even root cannot open its mem): httpeek's credentials must not write it.
    victim = subprocess.Popen(["sleep", "30"])
    try:
        r = as_process(st, [sys.executable, "-c", f"open('/proc/{victim.pid}/mem', 'r+b')"])
    finally:
        victim.kill()
        victim.wait()
    need(r.returncode != 0 and "PermissionError" in r.stderr,
         f"no-ptrace-write: with httpeek's credentials a root process's /proc/PID/mem opened "
         f"for writing (rc {r.returncode}) {r.stderr.strip()[-200:]}")
    tap_ok("live", "no-ptrace-write")
    tap_note("no-ptrace-write: httpeek's credentials cannot write a root process's /proc/PID/mem")
    for name in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"):
        need(int(st[name], 16) == 0, f"caps: {name} {st[name]}, want 0")
    need(st["NoNewPrivs"].strip() == "1", f"caps: NoNewPrivs {st['NoNewPrivs']}")
    need(st["Uid"].split()[1] == "65534" and st["Gid"].split()[1] == "65534",
         f"caps: Uid {st['Uid']} Gid {st['Gid']}, want nobody's")
    tap_ok("live", "least-privilege")
    tap_note(f"least-privilege: CapEff {st['CapEff']}, uid {st['Uid'].split()[1]}")
    kids = children(pid)
    attach = (1 << CAP_SYS_ADMIN) | (1 << CAP_SYS_PTRACE)
    attachers = [k for k in kids if int(proc_status(k)["CapEff"], 16) == attach]
    helpers = [k for k in kids if k not in attachers]
    need(len(helpers) == 1 and len(attachers) <= 1,
         f"helper: {len(kids)} child processes, want the /proc helper and the TLS attacher")
    for a in attachers:  # uprobes need CAP_SYS_ADMIN here; nothing else is kept
        ast = proc_status(a)
        for name, want in (("CapPrm", attach), ("CapBnd", attach), ("CapInh", 0), ("CapAmb", 0)):
            need(int(ast[name], 16) == want, f"tls attacher: {name} {ast[name]}, want {want:016x}")
        need(ast["NoNewPrivs"].strip() == "1", "tls attacher: NoNewPrivs not set")
        # Real and saved uid nobody's: httpeek, as nobody, may signal it; root's effective uid.
        need(ast["Uid"].split() == ["65534", "0", "65534", "0"],
             f"tls attacher: Uid {ast['Uid']}, want 65534 0 65534 0")
        tap_ok("live", "tls-attacher")
        tap_note("tls-attacher: CAP_SYS_ADMIN and CAP_SYS_PTRACE alone, no_new_privs, "
                 "signalable by httpeek")
    hs = proc_status(helpers[0])
    keep = 1 << CAP_SYS_PTRACE
    for name, want in (("CapEff", keep), ("CapPrm", keep), ("CapBnd", 0), ("CapInh", 0),
                       ("CapAmb", 0)):
        need(int(hs[name], 16) == want, f"helper: {name} {hs[name]}, want {want:016x}")
    need(hs["NoNewPrivs"].strip() == "1", "helper: NoNewPrivs not set")
    fds = os.listdir(f"/proc/{helpers[0]}/fd")
    links = [os.readlink(f"/proc/{helpers[0]}/fd/{fd}") for fd in fds]
    need(len(links) == 1 and links[0].startswith("socket:"), f"helper: descriptors {links}")
    tap_ok("live", "proc-helper")
    tap_note("proc-helper: CAP_SYS_PTRACE alone, one socket")


def live_records(path):
    with open(path) as f:
        m = re.search(r"httpeek: live: (\d+) ring-buffer records", f.read())
    need(m, f"{path}: no ring-buffer records line")
    return int(m.group(1))


def cmd_filtered(events_path, err_path, main_err_path):
    events = [e for e in load_events(events_path) if ours(e)]
    other = [e for e in events if 8081 not in (e["a"]["src_port"], e["a"]["dst_port"])]
    need(not other, f"filtered: {len(other)} events off port 8081, first {other[:1]}")
    paths = sorted(http(e).get("uri_path") or "" for e in events)
    need(len(events) == 4 and paths.count("/port8081") == 2,
         f"filtered: {len(events)} events, want the 4 of /port8081")
    n, total = live_records(err_path), live_records(main_err_path)
    need(0 < n < total, f"filtered: {n} ring-buffer records, unfiltered {total}")
    tap_ok("live", "kernel-filter")
    tap_note(f"kernel-filter: {n} ring-buffer records with port=8081, {total} without")


def cmd_burst(events_path, err_path):
    """The reader was stopped during the burst: the kernel counted drops, the summary says
    which messages they cost, and the requests after the burst are reported at both ends."""
    with open(err_path) as f:
        summary = f.read()
    m = re.search(r"(\d+) kernel drops", summary)
    need(m and int(m.group(1)) > 0, f"burst: no kernel drops counted: {summary.strip()}")
    need(re.search(r"messages missed: \d+ in copies the ring buffer had no room for "
                   r"\(%s copies dropped\)" % m.group(1), summary),
         f"burst: the summary does not account for the drops: {summary.strip()}")
    events = load_events(events_path)
    for i in (1, 2, 3):
        got = [e for e in events if http(e).get("uri_path") == f"/after{i}"]
        need(len(got) == 2, f"burst: {len(got)} request events for /after{i}, want 2")
    tap_ok("live", "ringbuf-burst")
    tap_note(f"ringbuf-burst: {m.group(1)} kernel drops, {len(events)} events")


STATS = re.compile(r"httpeek: stats: (\d+) records, (\d+) packets, (\d+) messages, (\d+) events"
                   r"(?: \(\d+ not written\))?, (\d+) filtered, (\d+) kernel drops, \d+ owner "
                   r"timeouts, messages missed: (\d+) in dropped copies, (\d+) where bytes were "
                   r"lost$")


def summary_numbers(text):
    """The --stats fields as the summary gives them."""
    m = re.search(r"^httpeek: (\d+) packets, \d+ bytes, \d+ flows, (\d+) messages, (\d+) events"
                  r".*, (\d+) kernel drops, \d+ unknown owners, (\d+) ring-buffer records$",
                  text, re.M)
    need(m, f"stats: no summary line in {text.strip()[-300:]!r}")
    packets, messages, events, drops, records = m.groups()
    f = re.search(r", (\d+) filtered out", m.group(0))
    filtered = f.group(1) if f else 0
    missed = re.search(r"messages missed: (\d+) in copies .*?; (\d+) times a head was due", text)
    lost, gaps = missed.groups() if missed else (0, 0)
    return tuple(int(x or 0) for x in (records, packets, messages, events, filtered, drops,
                                        lost, gaps))


def cmd_stats(err_path):
    with open(err_path) as f:
        text = f.read()
    lines = [l for l in text.splitlines() if l.startswith("httpeek: stats:")]
    need(lines, "stats: no --stats line")
    rows = []
    for line in lines:
        m = STATS.match(line)
        need(m, f"stats: a line not in the documented form: {line!r}")
        rows.append(tuple(int(x) for x in m.groups()))
    for a, b in zip(rows, rows[1:]):
        need(all(x <= y for x, y in zip(a, b)), f"stats: a counter went down: {a} then {b}")
    want = summary_numbers(text)
    need(rows[-1] == want, f"stats: the last line {rows[-1]}, the summary {want} (records, "
         f"packets, messages, events, filtered, kernel drops, missed in drops, gaps)")
    tap_note(f"stats: {len(rows)} lines, the last equal to the summary: {rows[-1]}")


def prog_ids():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True)
    return {p["id"] for p in json.loads(out.stdout) if p.get("name", "").startswith("httpeek_")}


def linked(ids):
    out = subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True, check=True)
    return {link["prog_id"] for link in json.loads(out.stdout) if link.get("prog_id") in ids}


def own_links(pid):
    """{prog id} of the cgroup links process pid holds, from /proc/PID/fdinfo."""
    out = set()
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                text = f.read()
        except OSError:
            continue
        if "link_type:" in text:
            m = re.search(r"^prog_id:\s*(\d+)", text, re.M)
            out |= {int(m.group(1))} if m else set()
    return out


def cmd_wait_attached(pid):
    """Waits until httpeek pid has dropped its privileges (set-up is over then: NoNewPrivs: 1)
    with its programs linked; prints their ids. Fails when it exited or took 10 s."""
    for _ in range(200):
        try:
            st = proc_status(pid)
        except FileNotFoundError:
            raise Fail(f"httpeek {pid} exited during set-up")
        if st["NoNewPrivs"].strip() == "1":
            ids = own_links(pid)
            need(ids and linked(ids) == ids, f"httpeek {pid} is set up without linked programs")
            print(" ".join(str(i) for i in sorted(ids)))
            return
        time.sleep(0.05)
    raise Fail(f"httpeek {pid} was not set up after 10 s")


def cmd_gone(ids_path):
    with open(ids_path) as f:
        ids = {int(x) for x in f.read().split()}
    need(ids, "no program ids recorded")
    for _ in range(50):
        if not (prog_ids() & ids) and not linked(ids):
            tap_ok("live", "sigkill-cleanup")
            return
        time.sleep(0.1)
    raise Fail(f"programs {sorted(prog_ids() & ids)} or their links outlived SIGKILL")


def main():
    cmd = sys.argv[1]
    try:
        if cmd == "events":
            cmd_events(*sys.argv[2:])
        elif cmd == "prog-ids":
            print(" ".join(str(i) for i in sorted(prog_ids())))
        elif cmd == "wait-attached":
            cmd_wait_attached(int(sys.argv[2]))
        elif cmd == "gone":
            cmd_gone(sys.argv[2])
        elif cmd == "caps":
            cmd_caps(sys.argv[2])
        elif cmd == "filtered":
            cmd_filtered(*sys.argv[2:5])
        elif cmd == "stats":
            cmd_stats(sys.argv[2])
        elif cmd == "burst":
            cmd_burst(*sys.argv[2:4])
    except Fail as e:
        tap_fail("live", cmd, e)
        sys.exit(1)


if __name__ == "__main__":
    main()
