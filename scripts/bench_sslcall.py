"""The sslcall part of scripts/bench.py: what one OpenSSL call costs when httpeek traces it.

A Python process (Debian's, linked with libssl.so.3 like nginx and wrk) times two loops,
untraced and traced in alternating rounds:

- exchange: a TLS client and server on loopback TCP in one thread, each exchange a request
  and a response (four SSL calls: write, read, write, read), every call traced in full;
- empty: reads on a TLS object over a memory buffer that holds nothing, each returning
  at once (SSL_ERROR_WANT_READ): what a traced call costs when the programs have nothing to
  do, the price of the uprobe and the uretprobe themselves.

An extra traced round of the exchange loop with kernel.bpf_stats_enabled gives the BPF time
per call; what the call costs beyond that and beyond the untraced call is the probes' trap
and return, which no program can make cheaper.
"""
import json
import os
import subprocess
import tempfile
import time

import bench_host

EXCHANGES = 20000
EMPTY_READS = 50000
# After a tracer exits, a process started within about half a second still pays the probes
# (their removal from the library is finished after the exit); TLS rounds wait this long
# after each traced run so that the next round starts untraced.
SETTLE_S = 1.5

CHILD = r"""
import json, socket, ssl, sys, time
cert, key, n, m = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(cert, key)
cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
cctx.check_hostname = False
cctx.verify_mode = ssl.CERT_NONE
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
c = socket.create_connection(ls.getsockname())
s, _ = ls.accept()
cs = cctx.wrap_socket(c, do_handshake_on_connect=False)
ss = sctx.wrap_socket(s, server_side=True, do_handshake_on_connect=False)
cs.setblocking(False)
ss.setblocking(False)
pending = [cs, ss]
while pending:
    for x in list(pending):
        try:
            x.do_handshake()
            pending.remove(x)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
cs.setblocking(True)
ss.setblocking(True)
req = b"GET /call HTTP/1.1\r\nHost: bench\r\n\r\n"
resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
def exchange(k):
    for _ in range(k):
        cs.sendall(req); ss.recv(4096); ss.sendall(resp); cs.recv(4096)
exchange(500)
t = time.perf_counter(); exchange(n); ex = (time.perf_counter() - t) / n / 4
obj = cctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
def empty(k):
    if not m:
        return 0
    for _ in range(k):
        try:
            obj.read(64)
        except ssl.SSLWantReadError:
            pass
empty(500)
t = time.perf_counter(); empty(m); em = (time.perf_counter() - t) / max(m, 1)
print(json.dumps({"exchange_us": ex * 1e6, "empty_us": em * 1e6}))
"""


def run_child(d, exchanges=EXCHANGES, empty=EMPTY_READS):
    out = subprocess.run(["/usr/bin/python3", "-c", CHILD, os.path.join(d, "cert.pem"),
                          os.path.join(d, "key.pem"), str(exchanges), str(empty)],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def traced(binary, fn, stats=False):
    """fn() while binary traces the host; with stats, also the BPF ns its programs took."""
    t = bench_host.Tracer("httpeek", binary, ["-e", "net_packet_http"])
    t.start()
    try:
        return bench_host.with_stats(fn, t.proc.pid) if stats else (fn(), None)
    finally:
        t.stop()
        time.sleep(SETTLE_S)


def sslcall(rounds, this, base=None, name=str):
    """Alternating untraced, traced (and base-traced) rounds of both loops; prints the table."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", os.path.join(d, "key.pem"),
                        "-out", os.path.join(d, "cert.pem")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        builds = [("this", this)] + ([("base", base)] if base else [])
        runs = {k: [] for k in ["untraced"] + [b for b, _ in builds]}
        for _ in range(rounds):
            runs["untraced"].append(run_child(d))
            for b, binary in builds:
                runs[b].append(traced(binary, lambda: run_child(d))[0])
        bpf = {}
        for b, binary in builds:
            _, ns = traced(binary, lambda: run_child(d, empty=0), stats=True)
            bpf[b] = ns / (EXCHANGES + 500) / 4 / 1000
    plain_ex = bench_host.med([r["exchange_us"] for r in runs["untraced"]])
    plain_em = bench_host.med([r["empty_us"] for r in runs["untraced"]])
    print(f"\n## sslcall: one OpenSSL call, untraced and traced (Python's ssl, libssl.so.3), "
          f"{rounds} alternating rounds\n")
    print(f"{'build':>9} {'exchange us/call':>17} {'added':>6} {'BPF':>5} {'probes':>6} "
          f"{'empty read us/call':>19} {'added':>6}")
    print(f"{'untraced':>9} {plain_ex:17.2f} {'':>6} {'':>5} {'':>6} {plain_em:19.2f}")
    for b, binary in builds:
        ex = bench_host.med([r["exchange_us"] for r in runs[b]])
        em = bench_host.med([r["empty_us"] for r in runs[b]])
        print(f"{b:>9} {ex:17.2f} {ex - plain_ex:6.2f} {bpf[b]:5.2f} "
              f"{ex - plain_ex - bpf[b]:6.2f} {em:19.2f} {em - plain_em:6.2f}")
    print("(exchange: client and server on loopback TCP in one thread, 4 SSL calls per "
          "exchange, each traced in full; empty read: SSL_read on a memory buffer holding "
          "nothing, which returns at once; added: traced minus untraced; BPF: all the "
          "instance's programs per call, kernel.bpf_stats_enabled, an extra round; probes: "
          "added minus BPF, the uprobe's trap and the uretprobe's return"
          + (f"; base: {name(base)})" if base else ")"))
