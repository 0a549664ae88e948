#!/usr/bin/env python3
"""Live HTTPS test of Go programs (root): crypto/tls compiled into each binary, no libssl.

tests/live/tls/go_https.go is built here with Debian's Go (no modules) twice: as is and
stripped (-ldflags='-s -w': no .symtab, no DWARF). Two network namespaces joined by a veth
pair; Go HTTPS servers (HTTP/1.1, and one HTTP/2) in one, Go clients in the other, ./httpeek in the root
namespace. One server runs before httpeek starts (found by the /proc scan), the other after
(found at its mapping), every client after it, one from its own copy of the binary bound over
the usual path in its own mount namespace (as in a container). Each message must be reported
once at each end, by the right process, with "tls":true, each request paired with its
response at each end, and the requests and responses must be those the Go programs logged.
A Go binary whose table was damaged and one without crypto/tls are counted in the summary
line, not attached to. Output: TAP (tests/checklib.py).
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklib import Checks  # noqa: E402
sys.path.insert(0, HERE)
import check_tls  # noqa: E402  (its network set-up)
from check_tls import sh  # noqa: E402

HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
SANITIZED = os.environ.get("HTTPEEK_SANITIZED") == "1"
GOCACHE = os.path.join(ROOT, "build", "go-cache")
NSC, NSS = f"hpk-gc-{os.getpid()}", f"hpk-gs-{os.getpid()}"
VC, VS = f"hgc{os.getpid()}", f"hgs{os.getpid()}"
C4, S4, C6, S6 = "10.213.0.1", "10.213.0.2", "fd00:213::1", "fd00:213::2"
EARLY_PORT, LATE_PORT, H2_PORT = 9443, 9444, 9445
N = 6
checks = Checks("go tls")
HOLD = """import mmap, sys, time
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_EXEC)
time.sleep(float(sys.argv[2]))
"""


def setup_net():
    check_tls.setup_net(NSC, NSS, VC, VS, (C4, C6), (S4, S6))


def cleanup():
    for ns in (NSC, NSS):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def go_build(tmp, out, *flags, src=None):
    env = dict(os.environ, GOCACHE=GOCACHE, GO111MODULE="off", GOFLAGS="", CGO_ENABLED="0",
               GOTOOLCHAIN="local", HOME=tmp)
    sh("go", "build", *flags, "-o", out, src or f"{HERE}/go_https.go", env=env,
       stdout=subprocess.DEVNULL)
    os.chmod(out, 0o755)


def damaged_copy(src, dst):
    """A copy of src whose .gopclntab magic says Go 1.16 (a layout httpeek does not read)."""
    data = bytearray(open(src, "rb").read())
    at = data.find(struct.pack("<I", 0xfffffff0) + b"\0\0\x01\x08")
    assert at > 0, "no Go 1.18 table found"
    data[at:at + 4] = struct.pack("<I", 0xfffffffa)
    with open(dst, "wb") as f:
        f.write(data)
    os.chmod(dst, 0o755)


def start_httpeek(tmp):
    err = open(f"{tmp}/httpeek.err", "w")
    p = subprocess.Popen([HTTPEEK, "-e", "all", "-v", "-O", f"{tmp}/events.jsonl"],
                         stderr=err)
    for _ in range(600):
        if re.search(r"live: tracing below \S+ \(TLS too\)", open(f"{tmp}/httpeek.err").read()):
            return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("httpeek did not start: " + open(f"{tmp}/httpeek.err").read()[-500:])


def server(tmp, binary, port, mode="serve"):
    log = open(f"{tmp}/server-{port}.log", "w")
    p = subprocess.Popen(("ip", "netns", "exec", NSS, binary, mode, f"{S4}:{port}",
                          f"{tmp}/cert.pem", f"{tmp}/key.pem"), stdout=log,
                         stderr=subprocess.STDOUT)
    for _ in range(100):
        if subprocess.run(("ip", "netns", "exec", NSS, "ss", "-Htln", f"sport = :{port}"),
                          capture_output=True, text=True).stdout.strip():
            return p
        time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not listen: {open(log.name).read()[-300:]}")


def client(tmp, cmd, port, name, mode="get"):
    """Runs a Go client to completion; its pid, the responses it logged (status, path) and
    the protocols it logged them with."""
    url = f"https://{S4}:{port}"
    args = [mode, url, f"{tmp}/cert.pem", str(N), "300"]
    if isinstance(cmd, str):
        cmd = [cmd]
    p = subprocess.Popen(("ip", "netns", "exec", NSC, *cmd, *args) if len(cmd) == 1 else
                         ("ip", "netns", "exec", NSC, *cmd[:-1], cmd[-1] + " " + " ".join(args)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=60)
    if p.returncode:
        raise RuntimeError(f"client {name} failed: {err[-300:]}")
    logged = [l.split()[1:] for l in out.splitlines() if l.startswith("response ")]
    return p.pid, [tuple(r[:2]) for r in logged], {r[2] for r in logged if len(r) > 2}


def load(path):
    out = []
    for line in open(path):
        e = json.loads(line)
        e["a"] = {x["name"]: x["value"] for x in e["args"]}
        out.append(e)
    return out


def served(tmp, port):
    return [tuple(l.split()[1:]) for l in open(f"{tmp}/server-{port}.log")
            if l.startswith("request ")]


def case_problems(events, name, cpid, ccomm, spid, scomm, port, logged):
    """One client's connection: each message once at each end, in order, by the right
    process, tls, paired; the same as the client logged."""
    probs = []
    ours = [e for e in events if e["eventName"] == "net_packet_http" and
            port in (e["a"]["src_port"], e["a"]["dst_port"])]
    # The client's connections: its ports (the server on EARLY_PORT serves two clients).
    cports = {e["a"]["src_port"] if e["a"]["dst_port"] == port else e["a"]["dst_port"]
              for e in ours if e["hostProcessId"] == cpid}
    msgs = [e for e in ours if e["hostProcessId"] in (cpid, spid) and
            cports & {e["a"]["src_port"], e["a"]["dst_port"]}]
    paths = [f"/go/{i}" for i in range(N)]

    def seq(kind, d, pid):
        return [e for e in msgs if e["a"]["proto_http"]["direction"] == kind and
                e["a"]["metadata"]["direction"] == d and e["hostProcessId"] == pid]
    for kind, d, pid, comm in (("request", 2, cpid, ccomm), ("request", 1, spid, scomm)):
        got = [e["a"]["proto_http"]["uri_path"] for e in seq(kind, d, pid)]
        if got != paths:
            probs.append(f"{name}: requests at {comm} {got}, want {paths}")
    for kind, d, pid, comm in (("response", 1, cpid, ccomm), ("response", 2, spid, scomm)):
        got = [e["a"]["proto_http"]["status_code"] for e in seq(kind, d, pid)]
        if got != [200] * N:
            probs.append(f"{name}: responses at {comm} {got}, want {N} x 200")
    if len(msgs) != 4 * N:
        probs.append(f"{name}: {len(msgs)} message events, want {4 * N}")
    for e in msgs:
        want = ccomm if e["hostProcessId"] == cpid else scomm
        if e["processName"] != want:
            probs.append(f"{name}: processName {e['processName']}, want {want}")
        if e["a"]["metadata"].get("tls") is not True:
            probs.append(f"{name}: metadata {e['a']['metadata']} lacks tls:true")
    # Pairs, at each end, against what the client logged (status, path).
    for pid, comm in ((cpid, ccomm), (spid, scomm)):
        flows = [e["a"] for e in events if e["eventName"] == "net_flow_http" and
                 e["hostProcessId"] == pid and port == e["a"].get("server_port") and
                 e["a"].get("client_port") in cports]
        pairs = [(str((f.get("response") or {}).get("status_code")),
                  (f.get("request") or {}).get("uri_path")) for f in flows]
        if sorted(pairs) != sorted(logged):
            probs.append(f"{name}: pairs at {comm} {pairs}, the client logged {logged}")
    return probs


def main():
    if os.geteuid() != 0:
        checks.skip("Go HTTPS traced", "needs root")
        return checks.exit()
    if not shutil.which("go"):
        checks.check("Go toolchain present (scripts/deps.sh installs golang-go)", False)
        return checks.exit()
    tmp = tempfile.mkdtemp(prefix="hpk-go-")
    os.chmod(tmp, 0o755)
    procs = []
    try:
        go_build(tmp, f"{tmp}/goh1")
        go_build(tmp, f"{tmp}/goh1s", "-ldflags=-s -w")
        os.makedirs(f"{tmp}/alt")
        shutil.copy(f"{tmp}/goh1", f"{tmp}/alt/goh1")  # another inode, the same name
        damaged_copy(f"{tmp}/goh1s", f"{tmp}/gobad")
        with open(f"{tmp}/plain.go", "w") as f:
            f.write('package main\nimport "os"\nfunc main() { os.Stdout.WriteString("x") }\n')
        go_build(tmp, f"{tmp}/goplain", src=f"{tmp}/plain.go")
        ver = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
        checks.note(f"built with {ver}")
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
           "/CN=httpeek-go", "-addext", f"subjectAltName=IP:{S4}", "-keyout",
           f"{tmp}/key.pem", "-out", f"{tmp}/cert.pem", stdout=subprocess.DEVNULL,
           stderr=subprocess.DEVNULL)
        os.chmod(f"{tmp}/key.pem", 0o644)
        setup_net()
        procs.append(server(tmp, f"{tmp}/goh1", EARLY_PORT))   # before httpeek
        hp = start_httpeek(tmp)
        procs.append(server(tmp, f"{tmp}/goh1s", LATE_PORT))   # after it
        procs.append(server(tmp, f"{tmp}/goh1s", H2_PORT, "serve2"))  # HTTP/2
        spids = {EARLY_PORT: procs[0].pid, LATE_PORT: procs[1].pid, H2_PORT: procs[2].pid}
        scomm = {EARLY_PORT: "goh1", LATE_PORT: "goh1s", H2_PORT: "goh1s"}
        cases = []
        for name, cmd, ccomm, port, mode, proto in (
                ("unstripped client, stripped server", f"{tmp}/goh1", "goh1", LATE_PORT,
                 "get", "HTTP/1.1"),
                ("stripped client, unstripped server", f"{tmp}/goh1s", "goh1s", EARLY_PORT,
                 "get", "HTTP/1.1"),
                ("own copy in a mount namespace", ["unshare", "-m", "sh", "-c",
                 f"mount --bind {tmp}/alt/goh1 {tmp}/goh1 && exec {tmp}/goh1"], "goh1",
                 EARLY_PORT, "get", "HTTP/1.1"),
                ("HTTP/2", f"{tmp}/goh1", "goh1", H2_PORT, "get2", "HTTP/2.0")):
            cpid, logged, protos = client(tmp, cmd, port, name, mode)
            checks.check(f"{name}: the client spoke {proto}", protos == {proto}, str(protos))
            cases.append((name, cpid, ccomm, spids[port], scomm[port], port, logged))
        # Mapped executable for 2 s by a holder (run, each would end before it is read: the
        # damaged one dies at once, its runtime checks the table too).
        holders = [subprocess.Popen(["/usr/bin/python3", "-c", HOLD, f"{tmp}/{b}", "2"])
                   for b in ("gobad", "goplain")]
        for h in holders:
            h.wait(timeout=30)
        time.sleep(1)
        hp.send_signal(signal.SIGINT)
        rc = hp.wait(timeout=30)
        err = open(f"{tmp}/httpeek.err").read()
        checks.check("httpeek exits 0 on SIGINT", rc == 0, f"exit {rc}: {err[-300:]}")
        if SANITIZED:
            checks.check("no sanitizer report", not re.search(
                r"ERROR: (Address|Leak)Sanitizer|runtime error:", err), err[-500:])
        events = load(f"{tmp}/events.jsonl")
        for name, cpid, ccomm, spid, sc, port, logged in cases:
            checks.report(f"{name}: each message once at each end, paired", case_problems(
                events, name, cpid, ccomm, spid, sc, port, logged))
            checks.check(f"{name}: the client logged {N} responses", len(logged) == N,
                         str(logged))
        want = sorted(("GET" if i % 3 != 2 else "POST", f"/go/{i}") for i in range(N))
        for port in (EARLY_PORT, LATE_PORT, H2_PORT):
            got = served(tmp, port)
            reqs = sorted((e["a"]["proto_http"]["method"], e["a"]["proto_http"]["uri_path"])
                          for e in events if e["eventName"] == "net_packet_http" and
                          e["hostProcessId"] == spids[port] and
                          e["a"]["proto_http"]["direction"] == "request")
            checks.check(f"server on {port}: the requests it logged are those reported",
                         sorted(got) == reqs and len(got) == N * (2 if port == EARLY_PORT
                                                                   else 1) and
                         set(got) == set(want), f"logged {got}, reported {reqs}")
        m = re.search(r"tls: read from \d+ copies of libssl.so.3 and (\d+) Go binaries", err)
        # At least: other programs on the host may be Go binaries too.
        checks.check("summary: the three Go binaries with crypto/tls attached to",
                     m and int(m.group(1)) >= 3, err[-600:])
        checks.check("summary: the damaged table counted as a layout not known",
                     re.search(r"[1-9]\d* Go binaries of a layout not known", err), err[-600:])
        checks.check("summary: the Go binary without crypto/tls counted",
                     re.search(r"[1-9]\d* Go binaries without crypto/tls", err), err[-600:])
    finally:
        for p in procs:
            p.kill()
            p.wait()
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return checks.exit()


if __name__ == "__main__":
    sys.exit(main())
