"""Live parts of scripts/bench.py that compare httpeek with tcpdump on the host's other
traffic: tcpdump rounds beside the wrk rounds, 1,000 idle keep-alive connections, and a bulk
transfer that is not HTTP. Each round runs every tracer once, alternating; medians and paired
ratios are reported, never a figure of one run alone."""
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time

BULK_PORT = 18491
BULK_BYTES = 1 << 30
IDLE_CONNS = 1000
IDLE_SECONDS = 5
CLK_TCK = os.sysconf("SC_CLK_TCK")
KNOB = "/proc/sys/kernel/bpf_stats_enabled"


def med(values):
    return statistics.median(values) if values else float("nan")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_kib(pid):
    """VmHWM: the process's peak RSS since exec (ru_maxrss would count the forked python)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def prog_ids(pid):
    """The BPF programs process pid holds (its program and link descriptors)."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def prog_ns(pid):
    """Total run_time_ns of process pid's httpeek_* and tls_* programs (bpf_stats on)."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    ids = prog_ids(pid)
    return sum(p.get("run_time_ns", 0) for p in json.loads(out)
               if p.get("name", "").startswith(("httpeek_", "tls_")) and p["id"] in ids)


class Tracer:
    """A tracer started and ready: httpeek (ready once NoNewPrivs is set) or tcpdump on lo
    (ready once it says it listens). cpu() is its CPU since start() returned."""

    def __init__(self, kind, binary=None, args=()):
        self.kind, self.binary, self.args = kind, binary, list(args)
        self.proc = None

    def start(self):
        if self.kind == "tcpdump":
            self.proc = subprocess.Popen(["tcpdump", "-i", "lo", "-s", "0", "-w", "/dev/null"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         text=True)
            line = self.proc.stderr.readline()
            if "listening" not in line:
                raise RuntimeError(f"tcpdump did not start: {line.strip()}")
        else:
            self.proc = subprocess.Popen([self.binary, *self.args], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            deadline = time.time() + 30
            while True:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("httpeek did not become ready")
                with open(f"/proc/{self.proc.pid}/status") as f:
                    if "NoNewPrivs:\t1" in f.read():
                        break
                time.sleep(0.02)
        self.cpu0 = cpu_seconds(self.proc.pid)

    def cpu(self):
        return cpu_seconds(self.proc.pid) - self.cpu0

    def rss_mib(self):
        return peak_rss_kib(self.proc.pid) / 1024

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait()


def with_stats(fn, pid):
    """fn() with kernel.bpf_stats_enabled, and the ns it added to process pid's programs."""
    with open(KNOB) as f:
        old = f.read().strip()
    with open(KNOB, "w") as f:
        f.write("1")
    try:
        ns0 = prog_ns(pid)
        res = fn()
        return res, prog_ns(pid) - ns0
    finally:
        with open(KNOB, "w") as f:
            f.write(old)


def tracers(this, base):
    """(name, Tracer or None) of one round: untraced, this build, the base build, tcpdump."""
    out = [("untraced", None), ("this", Tracer("httpeek", this, ["-e", "net_packet_http"]))]
    if base:
        out.append(("base", Tracer("httpeek", base, ["-e", "net_packet_http"])))
    return out + [("tcpdump", Tracer("tcpdump"))]


# --- tcpdump beside the wrk rounds ---

def tcpdump_round(wrk, port, conns, secs, requests):
    """One wrk run with tcpdump -i lo -w /dev/null: req/s, its CPU, nginx's requests."""
    t = Tracer("tcpdump")
    before = requests()
    t.start()
    try:
        rps = wrk(port, conns, secs)
        time.sleep(0.3)
        cpu = t.cpu()
    finally:
        t.stop()
    return {"rps": rps, "cpu": cpu, "requests": requests() - before - 1}


# --- a bulk transfer that is not HTTP ---

SINK = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("ready", flush=True)
c, _ = s.accept(); buf = bytearray(1 << 20); n = 0
while True:
    k = c.recv_into(buf)
    if not k: break
    n += k
print(n, flush=True)
"""


def bulk_once(nbytes):
    """Seconds to send nbytes of binary data over one loopback TCP connection."""
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(BULK_PORT)],
                            stdout=subprocess.PIPE, text=True)
    try:
        sink.stdout.readline()
        chunk = bytes(range(256)) * 4096  # 1 MiB, not text
        s = socket.create_connection(("127.0.0.1", BULK_PORT))
        t0 = time.perf_counter()
        for _ in range(nbytes // len(chunk)):
            s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
        got = int(sink.stdout.readline())
        secs = time.perf_counter() - t0
        s.close()
    finally:
        sink.wait()
    if got != nbytes:
        raise RuntimeError(f"bulk: {got} of {nbytes} bytes arrived")
    return secs


def bulk(rounds, this, base):
    print(f"\n## bulk: {BULK_BYTES >> 20} MiB of binary data over one loopback TCP connection "
          f"(not HTTP), {rounds} alternating rounds\n")
    runs = {}
    for _ in range(rounds):
        for name, t in tracers(this, base):
            if t:
                t.start()
            try:
                secs, ns = (with_stats(lambda: bulk_once(BULK_BYTES), t.proc.pid)
                            if t and t.kind == "httpeek" else (bulk_once(BULK_BYTES), 0))
                cpu = t.cpu() if t else 0.0
            finally:
                if t:
                    t.stop()
            runs.setdefault(name, []).append((secs, cpu, ns))
    plain = runs["untraced"]
    print(f"{'tracer':>8} {'median s':>9} {'time ratio':>10} {'cpu ms/GiB':>10} "
          f"{'BPF ms/GiB':>10}")
    gib = BULK_BYTES / (1 << 30)
    for name, r in runs.items():
        print(f"{name:>8} {med([s for s, _, _ in r]):9.3f} "
              f"{med([s / p[0] for (s, _, _), p in zip(r, plain)]):10.3f} "
              f"{med([c for _, c, _ in r]) * 1e3 / gib:10.1f} "
              f"{med([n for _, _, n in r]) / 1e6 / gib:10.2f}")
    print("(time ratio: paired, traced/untraced seconds; cpu: the tracer's own; BPF: "
          "httpeek_* and tls_* programs, kernel.bpf_stats_enabled in the traced rounds)")


# --- idle keep-alive connections ---

def idle_once(port, secs):
    """IDLE_CONNS keep-alive connections to nginx, one request each, then idle for secs:
    returns a function that closes them."""
    socks = []
    req = f"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    for _ in range(IDLE_CONNS):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        socks.append(s)
    for s in socks:
        s.recv(65536)
    time.sleep(secs)
    for s in socks:
        s.close()


def idle(rounds, port, this, base):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    print(f"\n## idle: {IDLE_CONNS} keep-alive connections to nginx, one request each, then "
          f"{IDLE_SECONDS} s idle; {rounds} alternating rounds\n")
    runs = {}
    for _ in range(rounds):
        for name, t in tracers(this, base)[1:]:
            t.start()
            try:
                if t.kind == "httpeek":
                    _, ns = with_stats(lambda: idle_once(port, IDLE_SECONDS), t.proc.pid)
                else:
                    _, ns = idle_once(port, IDLE_SECONDS), 0
                runs.setdefault(name, []).append((t.cpu(), ns, t.rss_mib()))
            finally:
                t.stop()
    print(f"{'tracer':>8} {'cpu ms':>8} {'BPF ms':>8} {'RSS MiB':>8}")
    for name, r in runs.items():
        print(f"{name:>8} {med([c for c, _, _ in r]) * 1e3:8.1f} "
              f"{med([n for _, n, _ in r]) / 1e6:8.2f} {max(m for _, _, m in r):8.1f}")
    print(f"(cpu: the tracer's own over the run: {IDLE_CONNS} connections opened, "
          f"{2 * IDLE_CONNS} messages, {IDLE_SECONDS} s idle, closed; BPF: its programs)")
