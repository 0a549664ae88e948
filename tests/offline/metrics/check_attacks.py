#!/usr/bin/env python3
"""The metrics endpoint serves scrapers first (issue 25): a scraper polls /metrics every 0.5 s
while hostile local clients attack the endpoint, and every scrape must come back whole (200, the
Content-Length it announced, the exposition's last line). httpeek -r serves the metrics of a
capture with 2,000 routes (a 6 MB exposition, made by make_exchanges.py); each attack gets an
httpeek of its own:

  linger 10/s, linger 200/s  clients send a whole request for another path and never close
  slow-read 20/s             clients ask for /metrics with a 1 KB receive window, never read
  idle 2000                  2,000 connections that send nothing, each replaced when closed
  slowloris                  100 clients sending their head one byte a second
  10 MB request line         clients sending 10 MB without a line end
  garbage                    clients sending random bytes
  half-closed                clients that shut their sending side, with or without a request

Usage: check_attacks.py [NAME...] (default: all). HTTPEEK=path picks the binary. Prints
"metrics-attack: <name> ok" or FAIL, with the scrapes that failed of those made; exits 1 on
failure."""
import os
import random
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from checklib import Checks  # noqa: E402
from endpoint import peak_rss_mib, start, stop  # noqa: E402
from make_exchanges import paths_capture  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BIN = os.path.abspath(os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek")))
CHECKS = Checks("metrics-attack")
report = CHECKS.report
ROUTES = 2000                     # distinct paths: the series cap, a 6 MB exposition
LAST_LINE = b"httpeek_metrics_series_limit 2000\n"
SCRAPE_EVERY = 0.5
SCRAPE_TIMEOUT = 10               # Prometheus's default scrape timeout
WARM_UP = 2.5                     # the attack at full strength before the first scrape


class Scraper(threading.Thread):
    """GET /metrics every SCRAPE_EVERY s for a while; keeps what went wrong with each scrape."""

    def __init__(self, url, seconds):
        super().__init__(daemon=True)
        self.url, self.seconds = url + "/metrics", seconds
        self.done, self.failures, self.slowest = 0, [], 0.0

    def scrape(self):
        t = time.monotonic()
        try:
            with urllib.request.urlopen(self.url, timeout=SCRAPE_TIMEOUT) as r:
                body = r.read()  # raises IncompleteRead when short of Content-Length
                if r.status != 200 or not body.endswith(LAST_LINE):
                    return "status %d, %d bytes" % (r.status, len(body))
        except Exception as e:  # noqa: BLE001 (reset, timeout, refused: all failures)
            return "%s: %s" % (type(e).__name__, e)
        finally:
            self.slowest = max(self.slowest, time.monotonic() - t)
        return None

    def run(self):
        t0 = time.monotonic()
        for k in range(int(self.seconds / SCRAPE_EVERY)):
            time.sleep(max(0.0, t0 + k * SCRAPE_EVERY - time.monotonic()))
            problem = self.scrape()
            self.done += 1
            if problem:
                self.failures.append(problem)


class Attack(threading.Thread):
    """Opens rate connections a second (with total, at most that many open at once) to addr,
    non-blocking, with a receive buffer of rcvbuf bytes when given; feed(sock, n) is called for
    connection n whenever it can take bytes (or as feed asks), until stop(). Sockets are never
    read unless feed reads them, and closed at the end unless feed closes them."""

    def __init__(self, addr, rate, total=None, rcvbuf=None):
        super().__init__(daemon=True)
        self.addr, self.rate, self.total, self.rcvbuf = addr, rate, total, rcvbuf
        self.opened, self.closed, self.answers = 0, 0, []
        self.halt = threading.Event()
        self.sel = selectors.DefaultSelector()
        self.socks = []

    def feed(self, sock, n):
        """Called when sock can take bytes; returns False when it has nothing more to send."""
        return False

    def tick(self):
        """Called every loop, at least 20 times a second."""

    def open_one(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)  # before the SYN
        s.setblocking(False)
        s.connect_ex(self.addr)
        self.socks.append(s)
        self.sel.register(s, selectors.EVENT_WRITE, self.opened)
        self.opened += 1

    def due(self, t0):
        """Connections opened by now: rate a second, up to total open at once."""
        n = int((time.monotonic() - t0) * self.rate) + 1
        return min(n, self.total + self.closed) if self.total else n

    def run(self):
        t0 = time.monotonic()
        while not self.halt.is_set():
            while self.opened < self.due(t0):
                self.open_one()
            for key, _ in self.sel.select(timeout=min(0.05, 1 / self.rate)):
                try:
                    more = self.feed(key.fileobj, key.data)
                except OSError:
                    more = False
                if not more:
                    self.sel.unregister(key.fileobj)
            self.tick()
        for s in self.socks:
            s.close()

    def stop(self):
        self.halt.set()
        self.join()


class Linger(Attack):
    """A whole request for another path, then nothing: never read, never closed."""

    def feed(self, sock, n):
        sock.send(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        return False


class SlowRead(Attack):
    """GET /metrics with a 1 KB receive window; the answer is never read."""

    def __init__(self, addr, rate):
        super().__init__(addr, rate, rcvbuf=1024)

    def feed(self, sock, n):
        sock.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        return False


class Idle(Attack):
    """Connects, sends nothing; one the endpoint closed is replaced by a new one."""

    def feed(self, sock, n):
        if self.sel.get_key(sock).events == selectors.EVENT_WRITE:
            self.sel.modify(sock, selectors.EVENT_READ, n)  # connected: wait for the end
            return True
        self.sel.unregister(sock)
        sock.close()
        self.closed += 1
        return True


class Slowloris(Attack):
    """A head that never ends, one byte a second per client."""

    def __init__(self, addr, clients):
        super().__init__(addr, clients, total=clients)
        self.next = {}

    def feed(self, sock, n):
        sock.send(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
        self.next[sock] = time.monotonic() + 1
        return False

    def tick(self):
        now = time.monotonic()
        for sock, t in self.next.items():
            if now >= t:
                self.next[sock] = now + 1
                try:
                    sock.send(b"x")
                except OSError:
                    pass


class Stream(Attack):
    """Each client sends data(n) and keeps reading what comes back (blocking threads would
    serialize: the selector interleaves them); answers keeps the first bytes of each."""

    def data(self, n):
        return b""

    def __init__(self, addr, rate, total=None):
        super().__init__(addr, rate, total)
        self.todo, self.got = {}, {}

    def feed(self, sock, n):
        if n not in self.todo:
            self.todo[n], self.got[n] = memoryview(self.data(n)), b""
            self.sel.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, n)
        try:
            chunk = sock.recv(65536)
            if not chunk:
                return False
            self.got[n] += chunk[:64] if len(self.got[n]) < 64 else b""
        except BlockingIOError:
            pass
        if self.todo[n]:
            try:
                self.todo[n] = self.todo[n][sock.send(self.todo[n][:262144]):]
            except BlockingIOError:
                pass
            if not self.todo[n]:
                self.sel.modify(sock, selectors.EVENT_READ, n)
        return True

    def stop(self):
        super().stop()
        self.answers = [g[:12] for g in self.got.values()]


class LongLine(Stream):
    def data(self, n):
        return b"GET /" + b"a" * (10 << 20)


class Garbage(Stream):
    def data(self, n):
        return random.Random(n).randbytes(20000) + b"\r\n\r\n"


class HalfClosed(Attack):
    """Odd clients: a request and then SHUT_WR, never reading; even ones: SHUT_WR at once."""

    def feed(self, sock, n):
        if n % 2:
            sock.send(b"GET /metrics HTTP/1.1\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        return False


ATTACKS = [
    # name, attack(addr), seconds of scraping, what the attack must have achieved
    ("linger 10/s", lambda a: Linger(a, 10), 10, None),
    ("linger 200/s", lambda a: Linger(a, 200), 8, None),
    ("slow-read 20/s", lambda a: SlowRead(a, 20), 8, None),
    ("idle 2000", lambda a: Idle(a, 1000, total=2000), 4, None),
    ("slowloris", lambda a: Slowloris(a, 100), 4, None),
    ("10 MB request line", lambda a: LongLine(a, 2, total=4), 4, b"HTTP/1.1 431"),
    ("garbage", lambda a: Garbage(a, 20), 4, b"HTTP/1.1 4"),
    ("half-closed", lambda a: HalfClosed(a, 20), 4, None),
]


def under_attack(pcap, name, make, seconds, answer):
    proc, url = start([BIN, "-r", pcap, "-e", "none", "--metrics", "127.0.0.1:0"],
                      stdout=subprocess.DEVNULL)
    host, port = url[len("http://"):].rsplit(":", 1)
    attack = make((host, int(port)))
    scraper = Scraper(url, seconds)
    try:
        attack.start()
        time.sleep(WARM_UP)
        scraper.start()
        scraper.join()
        rss = peak_rss_mib(proc.pid)
    finally:
        attack.stop()
        rc = stop(proc)
    problems = ["%d of %d scrapes failed (%s)" % (len(scraper.failures), scraper.done,
                                                 scraper.failures[0])] if scraper.failures else []
    if rc != 0:
        problems.append("httpeek exited with %d" % rc)
    if answer and not any(a.startswith(answer) for a in attack.answers):
        problems.append("no %r answer to the attack: %r" % (answer, attack.answers[:3]))
    print("metrics-attack: %s: %d of %d scrapes failed, slowest %.2f s, %d attack "
          "connections, peak RSS %.0f MiB" % (name, len(scraper.failures), scraper.done,
                                              scraper.slowest, attack.opened, rss))
    report(name, problems)


def main():
    names = sys.argv[1:] or [a[0] for a in ATTACKS]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "routes.pcap")
        paths_capture(pcap, ROUTES, ROUTES)
        for name, make, seconds, answer in ATTACKS:
            if name in names:
                under_attack(pcap, name, make, seconds, answer)
    CHECKS.exit()


if __name__ == "__main__":
    main()
