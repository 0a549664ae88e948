#!/usr/bin/env python3
"""Live TLS attacker tests (root; the attacks run as nobody through setpriv, some of them in a
user namespace of nobody's). Each attack is one of issue 25's breaks against the TLS attacher,
and each ends the same way: a python client whose libssl.so.3 is a new root-owned copy (another
inode, given by LD_LIBRARY_PATH) makes a request over TLS, and that request must be reported at
the client's end, i.e. the copy was attached to. The network, nginx and the client are
check_tls.py's.

- planted: 300 files named libssl.so.3 that are other root-owned files (symlinks opened, and
  bind mounts in a user namespace mapped executable) must not use up the attacher's table;
  they are counted as not OpenSSL.
- fifo: a symlink named libssl.so.3 flipped between 200 root-owned files and a FIFO while it
  is opened, and a bind mount replaced by a FIFO right after it was mapped, must not hang the attacher; httpeek exits 0 within 5 s of
  SIGINT.
- flood: a million openat calls of /nonexistent/libssl.so.3 (four processes, 10 s at most)
  and a flood of executable mappings of files named libssl.so.3 (nobody's) while six copies
  are loaded: each copy is attached, or
  lost mapping reports are counted (never silent).
- inplace: a copy written in place in two halves 1 s apart (mapped executable while half
  written) and loaded 1 s later is attached.

Prints the host facts, then "tls-attack: <name> ok" or "... FAIL: why" per check.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_tls as base  # noqa: E402
from checklib import Checks  # noqa: E402
import hostfacts  # noqa: E402

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
PYTHON = "/usr/bin/python3"
PLANTED = 300
RACE_FILES = 200
FLOOD_COPIES = 6
FLOOD_OPENS = 1000000      # openat calls of /nonexistent/libssl.so.3, at most, in 10 s
FLOODERS = 4               # processes making them
STOP_LIMIT_S = 5
checks = Checks("tls-attack")
started = []  # every httpeek started, with its helpers killed by pid at the end if running

# Run as nobody in a user and mount namespace of its own (unshare -Urm): bind mount src over
# a file of its own named libssl.so.3 and map it executable, as a library would be.
USERNS = r"""
import ctypes, mmap, os
libc = ctypes.CDLL("libc.so.6", use_errno=True)
MS_BIND, MNT_DETACH = 4096, 2

def bind(src, dst):
    if libc.mount(src.encode(), dst.encode(), None, MS_BIND, None):
        raise OSError(ctypes.get_errno(), "mount " + dst)

def unbind(dst):
    if libc.umount2(dst.encode(), MNT_DETACH):
        raise OSError(ctypes.get_errno(), "umount " + dst)

def map_exec(path):
    fd = os.open(path, os.O_RDONLY)
    m = mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
    os.close(fd)
    return m
"""

PLANT = USERNS + r"""
import sys, time
top = sys.argv[1]
files = open(sys.argv[2]).read().split()
held = []
for i, src in enumerate(files):
    d = f"{top}/d{i}"
    os.makedirs(f"{d}/m")
    os.symlink(src, f"{d}/libssl.so.3")   # a process opens a path named libssl.so.3
    os.close(os.open(f"{d}/libssl.so.3", os.O_RDONLY | os.O_NONBLOCK))
    open(f"{d}/m/libssl.so.3", "w").close()
    bind(src, f"{d}/m/libssl.so.3")       # and maps a root-owned file of that name
    held.append(map_exec(f"{d}/m/libssl.so.3"))
time.sleep(2)  # mapped while the attacher looks
"""

RACE = USERNS + r"""
import sys, time
top, secs = sys.argv[1], float(sys.argv[3])
srcs = open(sys.argv[2]).read().split()
link, fifo, ph = f"{top}/libssl.so.3", f"{top}/fifo", f"{top}/m/libssl.so.3"
os.mkfifo(fifo)
os.makedirs(f"{top}/m")
end = time.time() + secs
if os.fork() == 0:                         # the path flips between root files and a FIFO
    while time.time() < end:
        for src in srcs:
            for target in (src, fifo):
                os.symlink(target, link + ".new")
                os.rename(link + ".new", link)
    os._exit(0)
while time.time() < end:
    for src in srcs:                       # a process opens it, as a loader would
        try:
            os.close(os.open(link, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            pass
    open(ph, "w").close()                  # a root file mapped, then a FIFO in its place
    bind(srcs[0], ph)
    map_exec(ph).close()
    unbind(ph)
    os.unlink(ph)
    os.mkfifo(ph)
    time.sleep(0.002)
    os.unlink(ph)
os.wait()
"""

OPEN_FLOOD = r"""
import os, sys, time
n, most, end = 0, int(sys.argv[1]), time.time() + float(sys.argv[2])
while n < most and time.time() < end:
    for _ in range(1000):
        try:
            os.open("/nonexistent/libssl.so.3", os.O_RDONLY)
        except OSError:
            pass
    n += 1000
print(n)
"""

MAP_FLOOD = r"""
import mmap, os, sys, time
top, secs = sys.argv[1], float(sys.argv[2])
fds = []
for i in range(16):                        # files of its own, named libssl.so.3
    os.makedirs(f"{top}/f{i}")
    with open(f"{top}/f{i}/libssl.so.3", "wb") as f:
        f.write(b"\0" * 4096)
    fds.append(os.open(f"{top}/f{i}/libssl.so.3", os.O_RDONLY))
n, end = 0, time.time() + secs
while time.time() < end:
    for fd in fds:
        mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC).close()
        n += 1
print(n)
"""


def start(tmp, name):
    proc = base.start_httpeek(tmp, name, "--metrics-file", f"{tmp}/{name}.prom")
    started.append(proc)
    # The tracing line; builds older than it say only what they attached to.
    for _ in range(600):
        text = open(f"{tmp}/{name}.err").read()
        if re.search(r"live: tracing below", text) or (
                "tls: attached to" in text and time.sleep(1) is None):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"httpeek {name} did not start: {open(f'{tmp}/{name}.err').read()[-500:]}")


def kill_tree(proc):
    """Kills httpeek and the helpers it forked (by their pids), if still running."""
    if proc.poll() is not None:
        return
    kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                          text=True).stdout.split()
    proc.kill()
    proc.wait()
    for k in kids:
        try:
            os.kill(int(k), signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop(proc, tmp, name):
    """SIGINT; returns (seconds to exit or None when it did not within the limit, its
    stderr). One that does not exit is killed."""
    t0 = time.time()
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=STOP_LIMIT_S)
        took = time.time() - t0
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        rc, took = None, None
    return rc, took, open(f"{tmp}/{name}.err").read()


def new_copy(tmp, name):
    """A root-owned copy of the host's libssl.so.3 in a directory of its own."""
    d = f"{tmp}/{name}"
    os.makedirs(d, mode=0o755)
    shutil.copy(LIB, f"{d}/libssl.so.3")
    os.chmod(f"{d}/libssl.so.3", 0o644)
    return d


def client(tmp, libdir, path, wait=1):
    """Starts the TLS client with its libssl from libdir."""
    return subprocess.Popen(("ip", "netns", "exec", base.NSC, "env", f"LD_LIBRARY_PATH={libdir}",
                             PYTHON, f"{tmp}/client.py", base.S4, str(base.PORT), str(wait),
                             path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(p):
    _, err = p.communicate(timeout=60)
    if p.returncode:
        raise RuntimeError(f"client failed: {err.decode()[-300:]}")


def seen(tmp, name, path):
    """The request was reported at the client's end, read from TLS."""
    for e in base.load(f"{tmp}/{name}.jsonl"):
        a = e["a"]
        if e["eventName"] == "net_packet_http" and e["processName"] == "python3" and \
                a["proto_http"]["uri_path"] == path and a["metadata"]["direction"] == 2 and \
                a["metadata"].get("tls") is True:
            return True
    return False


def nobody_dir(tmp, name):
    d = f"{tmp}/{name}"
    os.makedirs(d, mode=0o755)
    os.chown(d, 65534, 65534)
    return d


def counted(err, what):
    m = re.search(r"tls: .*?(\d+) %s" % re.escape(what), err)
    return int(m.group(1)) if m else 0


def root_files(tmp, n):
    """n root-owned files of 4 KiB or more that are not libssl, listed in a file; its path."""
    files = sorted(f for f in (os.path.join(LIBDIR, n) for n in os.listdir(LIBDIR))
                   if os.path.isfile(f) and not os.path.islink(f) and "libssl" not in f and
                   os.stat(f).st_uid == 0 and os.stat(f).st_size >= 4096)[:n]
    if len(files) < n:
        raise RuntimeError(f"only {len(files)} root-owned files in {LIBDIR}")
    with open(f"{tmp}/files.{n}", "w") as f:
        f.write("\n".join(files))
    return f"{tmp}/files.{n}"


def attack_planted(tmp):
    files = root_files(tmp, PLANTED)
    top = nobody_dir(tmp, "plant")
    proc = start(tmp, "planted")
    subprocess.run(NOBODY + ["unshare", "-Urm", PYTHON, "-c", PLANT, top, files], check=True)
    finish(client(tmp, new_copy(tmp, "lib-planted"), "/after-planted"))
    time.sleep(1)
    rc, _, err = stop(proc, tmp, "planted")
    probs = [] if seen(tmp, "planted", "/after-planted") else [
        "the copy mapped after the planted files was not attached to"]
    if counted(err, "not OpenSSL") < PLANTED:
        probs.append(f"{PLANTED} planted files, summary: "
                     f"{(re.findall(r'tls: read from.*', err) or ['none'])[0][:300]}")
    prom = open(f"{tmp}/planted.prom").read() if os.path.exists(f"{tmp}/planted.prom") else ""
    m = re.search(r'^httpeek_tls_libraries_skipped_total\{reason="format"\} (\d+)$', prom, re.M)
    if not m or int(m.group(1)) < PLANTED:
        probs.append(f"self-metrics: {m and m.group(0)}")
    checks.report(f"a copy mapped after {PLANTED} planted libssl.so.3 files is attached "
                  f"to; they are counted", probs + ([f"exit {rc}"] if rc else []))


def attack_fifo(tmp):
    top = nobody_dir(tmp, "race")
    proc = start(tmp, "fifo")
    subprocess.run(NOBODY + ["unshare", "-Urm", PYTHON, "-c", RACE, top,
                             root_files(tmp, RACE_FILES), "3"], check=True)
    finish(client(tmp, new_copy(tmp, "lib-fifo"), "/after-fifo"))
    time.sleep(1)
    rc, took, err = stop(proc, tmp, "fifo")
    probs = [] if seen(tmp, "fifo", "/after-fifo") else [
        "the copy mapped after the FIFO race was not attached to"]
    if took is None or rc != 0:
        probs.append(f"httpeek did not exit 0 within {STOP_LIMIT_S} s of SIGINT (exit {rc})")
    checks.report("a FIFO raced in for libssl.so.3 blocks nothing: later copies attached to, "
                  "httpeek stops on SIGINT" + (f" ({took:.2f} s)" if took else ""), probs)


def attacher_cpu(httpeek_pid):
    """utime + stime ticks of httpeek's child that holds CAP_SYS_ADMIN (the attacher)."""
    for child in subprocess.run(["pgrep", "-P", str(httpeek_pid)], capture_output=True,
                                text=True).stdout.split():
        try:
            status = open(f"/proc/{child}/status").read()
            caps = int(re.search(r"CapEff:\s*(\w+)", status).group(1), 16)
            if caps >> 21 & 1:
                f = open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()
                return int(f[11]) + int(f[12])
        except (OSError, AttributeError):
            continue
    return None


def attack_flood(tmp):
    top = nobody_dir(tmp, "flood")
    copies = [new_copy(tmp, f"lib-flood{i}") for i in range(FLOOD_COPIES)]
    proc = start(tmp, "flood")
    cpu0, t0 = attacher_cpu(proc.pid), time.time()
    floods = [subprocess.Popen(NOBODY + [PYTHON, "-c", OPEN_FLOOD,
                                         str(FLOOD_OPENS // FLOODERS), "10"],
                               stdout=subprocess.PIPE, text=True) for _ in range(FLOODERS)]
    floods.append(subprocess.Popen(NOBODY + [PYTHON, "-c", MAP_FLOOD, top, "8"],
                                   stdout=subprocess.PIPE, text=True))
    clients = []
    for i, d in enumerate(copies):
        time.sleep(0.8)
        clients.append(client(tmp, d, f"/flood{i}"))
    for c in clients:
        finish(c)
    cpu1, t1 = attacher_cpu(proc.pid), time.time()
    counts = [int(f.communicate(timeout=60)[0] or 0) for f in floods]
    opens, maps = sum(counts[:-1]), counts[-1]
    time.sleep(1)
    rc, _, err = stop(proc, tmp, "flood")
    missing = [i for i in range(FLOOD_COPIES) if not seen(tmp, "flood", f"/flood{i}")]
    lost = counted(err, "mapping reports lost")
    share = "?" if cpu0 is None or cpu1 is None else \
        f"{100 * (cpu1 - cpu0) / os.sysconf('SC_CLK_TCK') / (t1 - t0):.0f}%"
    checks.report(f"copies loaded during {opens} openat calls and {maps} executable mappings "
                  f"are attached to ({FLOOD_COPIES - len(missing)} of {FLOOD_COPIES}), or the loss "
                  f"is counted ({lost} reports lost; attacher: {share} of a core)",
                  ([f"copies {missing} not attached to and no loss counted"]
                   if missing and not lost else []) + ([f"exit {rc}"] if rc else []))


WRITE_IN_PLACE = r"""
import mmap, os, sys, time
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
with open(dst, "wb") as f:
    f.write(data[:len(data) // 2])
    f.flush()
    fd = os.open(dst, os.O_RDONLY)   # something maps it while it is half written
    mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC).close()
    os.close(fd)
    time.sleep(1)
    f.write(data[len(data) // 2:])
os.chmod(dst, 0o644)
"""


def attack_inplace(tmp):
    d = f"{tmp}/lib-inplace"
    os.makedirs(d, mode=0o755)
    proc = start(tmp, "inplace")
    subprocess.run([PYTHON, "-c", WRITE_IN_PLACE, LIB, f"{d}/libssl.so.3"], check=True)
    time.sleep(1)
    finish(client(tmp, d, "/after-inplace"))
    time.sleep(1)
    rc, _, err = stop(proc, tmp, "inplace")
    checks.report("a copy written in place (half of it mapped), loaded 1 s later, is attached "
                  "to", ([] if seen(tmp, "inplace", "/after-inplace") else
                         ["not attached to"]) + ([f"exit {rc}"] if rc else []))


def main():
    global LIB, LIBDIR
    print(hostfacts.line())
    if os.geteuid():
        print("tls-attack: needs root", file=sys.stderr)
        return 1
    LIB = os.path.realpath(next(p for p in ("/usr/lib/x86_64-linux-gnu/libssl.so.3",
                                            "/usr/lib/aarch64-linux-gnu/libssl.so.3",
                                            "/usr/lib64/libssl.so.3") if os.path.exists(p)))
    LIBDIR = os.path.dirname(LIB)
    tmp = tempfile.mkdtemp(prefix="httpeek-tls-attack.")
    os.chmod(tmp, 0o755)
    try:
        base.setup_net()
        base.start_nginx(tmp)
        with open(f"{tmp}/client.py", "w") as f:
            f.write(base.PY_CLIENT)
        for attack in (attack_planted, attack_fifo, attack_flood, attack_inplace):
            attack(tmp)
    finally:
        for p in started:
            kill_tree(p)
        base.teardown(tmp, "tls-attack")
    checks.exit()


if __name__ == "__main__":
    sys.exit(main())
