"""The metrics tests' view of httpeek's endpoint: start it, fetch from it, stop it."""
import re
import signal
import subprocess
import urllib.error
import urllib.request


def start(argv, **popen):
    """Runs argv (an httpeek with --metrics ADDR:0); (process, base URL) once the endpoint is
    up, and with -r once the capture is read. Its standard error stays a pipe: what it writes
    later (the closing summary) is there to read after stop()."""
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, **popen)
    url = None
    for line in proc.stderr:
        m = re.search(r"metrics at (http://\S+)/metrics", line)
        url = url or (m and m.group(1))
        if url and ("capture read" in line or "-r" not in argv):
            return proc, url
    proc.wait()
    raise RuntimeError("httpeek did not start its endpoint (exit %s)" % proc.returncode)


def get(url, method="GET", timeout=10):
    """(status, headers, body) of one request."""
    try:
        req = urllib.request.Request(url, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def peak_rss_mib(pid):
    """VmHWM: the process's own peak RSS since exec (ru_maxrss would count the forked python)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stop(proc, timeout=10):
    """SIGINT, then its exit code."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -9
