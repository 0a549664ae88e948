"""The floor part of scripts/bench.py: the least a kernel side at httpeek's hooks could cost per
request, beside what httpeek's programs cost, in alternating rounds of the live workload.

scripts/floor/floor.bpf.c has programs at the same hooks that do nothing (cgroup_skb egress
and ingress, tp_btf sock_send_length and sock_recv_length) and egress programs that only write
one 256-byte record per packet, on one ring both CPUs share (httpeek's kind) or on the CPU's
own ring. Their run times (kernel.bpf_stats_enabled) give: the dispatch of the eight runs a
request takes, and what writing the two heads of an exchange costs beyond the dispatch. Any
program set that reports both messages of a request pays at least that sum.
"""
import os
import signal
import subprocess

import bench_host

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOOR = os.path.join(ROOT, "build", "bench", "floor")
FLOOR_OBJ = FLOOR + ".bpf.o"
EMPTY = ["empty_egress", "empty_ingress", "empty_send", "empty_recv"]


def cgroup_root():
    with open("/proc/mounts") as f:
        for line in f:
            dev, path, kind = line.split()[:3]
            if kind == "cgroup2":
                return path
    raise RuntimeError("no cgroup v2 file system mounted")


def floor_round(load, requests):
    """One load() run with the floor programs attached: {program: (ns, runs)} and requests."""
    with open(bench_host.KNOB) as f:
        old = f.read().strip()
    with open(bench_host.KNOB, "w") as f:
        f.write("1")
    proc = subprocess.Popen([FLOOR, FLOOR_OBJ, cgroup_root()], stdout=subprocess.PIPE,
                            text=True)
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the floor programs did not load")
        before = requests()
        load()
        served = requests() - before - 1
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate()[0]
        with open(bench_host.KNOB, "w") as f:
            f.write(old)
    stats = {}
    for line in out.strip().splitlines():
        name, runs, ns = line.split()
        stats[name] = (int(ns), int(runs))
    return stats, served


def floor(rounds, nginx, load, httpeek_round):
    """Alternating rounds of the floor programs and of httpeek's (httpeek_round() -> the same
    ({program: (ns, runs)}, requests)); prints per request figures, medians of the rounds."""
    if not (os.access(FLOOR, os.X_OK) and os.path.exists(FLOOR_OBJ)):
        print("\nfloor: skipped (make build/bench/floor first; make bench does)")
        return
    fl, hp = [], []
    for _ in range(rounds):
        fl.append(floor_round(load, nginx.requests))
        hp.append(httpeek_round())

    def per_request(runs, names):
        """Median over rounds of the programs' summed ns per request."""
        return bench_host.med([sum(s.get(n, (0, 0))[0] for n in names) / q for s, q in runs])

    def per_run(name):
        return bench_host.med([s[name][0] / s[name][1] for s, _ in fl if s[name][1]])

    def runs_per_request(name):
        return bench_host.med([s[name][1] / q for s, q in fl])

    print(f"\n## floor: the least a kernel side at httpeek's hooks costs (nginx on loopback "
          f"under wrk, {rounds} alternating rounds, kernel.bpf_stats_enabled)\n")
    print(f"{'program':>14} {'runs/request':>12} {'ns/run':>7} {'us/request':>10}")
    for name in EMPTY + ["shared_record", "cpu_record"]:
        print(f"{name:>14} {runs_per_request(name):12.2f} {per_run(name):7.0f} "
              f"{per_request(fl, [name]) / 1000:10.3f}")
    dispatch = per_request(fl, EMPTY) / 1000
    shared = (per_request(fl, ["shared_record"]) - per_request(fl, ["empty_egress"])) / 1000
    own = (per_request(fl, ["cpu_record"]) - per_request(fl, ["empty_egress"])) / 1000
    ours = bench_host.med([sum(ns for ns, _ in s.values()) / q / 1000 for s, q in hp])
    print(f"doing nothing at the four hooks: {dispatch:.3f} us per request")
    print(f"plus a 256-byte record per egress packet: {dispatch + shared:.3f} us on one shared "
          f"ring, {dispatch + own:.3f} us on per-CPU rings")
    print(f"httpeek's programs, same rounds: {ours:.3f} us per request, of which "
          f"{ours - dispatch - shared:.3f} us is work beyond the dispatch and the shared ring")
