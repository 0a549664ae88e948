#!/usr/bin/python3
"""Records the project's HTTP/2 test captures into OUTDIR (tests/captures/h2 by default): real
clients and servers between two network namespaces (hpk-h2c, hpk-h2s) joined by a veth pair,
one capture per case, taken on the server side with tcpdump. Needs root, iproute2, tcpdump,
nginx-light (http2), nghttp2-client (nghttp), nghttp2-server (nghttpd), nghttp2-proxy
(nghttpx: h2c Upgrade), curl, python3-grpcio, tshark (a recording with a hole is made again). Every namespace, process and temporary file it
makes is removed on exit.

tests/offline/golden/check_h2.py compares httpeek's events for these captures with tshark's http2
dissector, so re-recording needs no hand-written expectation: any recording must agree.

Usage: record-h2-captures.py [OUTDIR [CASE...]]"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NS_CLI, NS_SRV = "hpk-h2c", "hpk-h2s"
CLI_IF, SRV_IF = "hpk-h2c0", "hpk-h2s0"
CLI4, SRV4 = "10.204.0.1", "10.204.0.2"
CLI6, SRV6 = "fd00:204::1", "fd00:204::2"
# Ports: nginx HTTP/1.1 and h2 (prior knowledge), nghttpd plain and with padding and push,
# nghttpx (h2c Upgrade in front of nginx's HTTP/1.1), the gRPC server.
H1, H2, NGHTTPD, NGHTTPD_PAD, NGHTTPX, GRPC = 80, 81, 8080, 8081, 3000, 50051
UA = "httpeek-test/1.0"
PY = "/usr/bin/python3"


def run(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, **kw)


def in_cli(*cmd):
    return ["ip", "netns", "exec", NS_CLI, *cmd]


def in_srv(*cmd):
    return ["ip", "netns", "exec", NS_SRV, *cmd]


class Recorder:
    def __init__(self, out):
        self.out = out
        self.tmp = tempfile.mkdtemp(prefix="hpk-h2rec.")
        os.chmod(self.tmp, 0o755)
        self.procs = []
        self.ns_made = False

    def cleanup(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.ns_made:
            run("ip", "netns", "del", NS_CLI, check=False)
            run("ip", "netns", "del", NS_SRV, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def setup_net(self):
        have = run("ip", "netns", "list", capture_output=True, text=True).stdout.split()
        if NS_CLI in have or NS_SRV in have:
            sys.exit("record-h2-captures: namespace %s or %s exists; remove it first"
                     % (NS_CLI, NS_SRV))
        self.ns_made = True
        run("ip", "netns", "add", NS_CLI)
        run("ip", "netns", "add", NS_SRV)
        run("ip", "-n", NS_CLI, "link", "add", CLI_IF, "mtu", "1500", "type", "veth", "peer",
            "name", SRV_IF, "netns", NS_SRV)
        for ns, dev, a4, a6 in ((NS_CLI, CLI_IF, CLI4, CLI6), (NS_SRV, SRV_IF, SRV4, SRV6)):
            # No segmentation offload: a block over the MTU reaches the wire in several segments.
            run("ip", "-n", ns, "link", "set", dev, "gso_max_segs", "1")
            run("ip", "-n", ns, "addr", "add", a4 + "/24", "dev", dev)
            run("ip", "-n", ns, "addr", "add", a6 + "/64", "dev", dev, "nodad")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "link", "set", dev, "up")

    def write_site(self):
        www = os.path.join(self.tmp, "www")
        os.makedirs(os.path.join(self.tmp, "nginx"))
        os.makedirs(www)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("<html><body>httpeek index</body></html>\n")
        with open(os.path.join(www, "small.txt"), "w") as f:
            f.write("small text file\n")
        with open(os.path.join(www, "big.txt"), "w") as f:
            f.write("".join("line %06d of a body that takes many DATA frames\n" % i
                            for i in range(1000)))
        # Response header blocks past 16 KiB: CONTINUATION frames from nginx.
        big = "".join('\t\t\tadd_header X-Big-%02d "%s";\n' % (i, os.urandom(400).hex())
                      for i in range(30))
        t = self.tmp
        conf = f"""daemon off;
master_process off;
worker_processes 1;
pid {t}/nginx/nginx.pid;
error_log {t}/nginx/error.log;
events {{ worker_connections 256; }}
http {{
	access_log off;
	server_tokens off;
	sendfile off;
	client_body_temp_path {t}/nginx/body;
	proxy_temp_path {t}/nginx/proxy;
	fastcgi_temp_path {t}/nginx/fastcgi;
	uwsgi_temp_path {t}/nginx/uwsgi;
	scgi_temp_path {t}/nginx/scgi;
	types {{ text/html html; text/plain txt; }}
	server {{
		listen {SRV4}:{H1};
		listen {SRV4}:{H2} http2;
		listen [{SRV6}]:{H2} http2;
		root {www};
		location = /submit {{
			default_type text/plain;
			return 201 "created\\n";
		}}
		location = /big-headers {{
			default_type text/plain;
{big}			return 200 "big headers\\n";
		}}
	}}
}}
"""
        with open(os.path.join(t, "nginx.conf"), "w") as f:
            f.write(conf)

    def start(self, cmd, port):
        log = open(os.path.join(self.tmp, "server-%d.log" % port), "w")
        self.procs.append(subprocess.Popen(in_srv(*cmd), stdout=log, stderr=log))
        for _ in range(100):
            ss = run(*in_srv("ss", "-Hltn", "sport = :%d" % port), capture_output=True,
                     text=True).stdout
            if "LISTEN" in ss:
                return
            time.sleep(0.1)
        sys.exit("record-h2-captures: no server on port %d (%s)" % (port, cmd[0]))

    def start_servers(self):
        www = os.path.join(self.tmp, "www")
        self.start(["nginx", "-c", os.path.join(self.tmp, "nginx.conf"), "-p",
                    os.path.join(self.tmp, "nginx")], H1)
        self.start(["nghttpd", "--no-tls", "-a", SRV4, "-d", www, str(NGHTTPD)], NGHTTPD)
        self.start(["nghttpd", "--no-tls", "-a", SRV4, "-d", www, "-b", "255",
                    "-p", "/index.html=/small.txt,/big.txt", str(NGHTTPD_PAD)], NGHTTPD_PAD)
        self.start(["nghttpx", "--frontend=%s,%d;no-tls" % (SRV4, NGHTTPX),
                    "--backend=%s,%d" % (SRV4, H1), "--workers=1", "--no-ocsp",
                    "--errorlog-file=" + os.path.join(self.tmp, "nghttpx.err"),
                    "--accesslog-file=/dev/null",
                    "--pid-file=" + os.path.join(self.tmp, "nghttpx.pid")], NGHTTPX)
        self.start([PY, os.path.join(HERE, "grpc-peer.py"), "server", SRV4, str(GRPC)], GRPC)

    def capture(self, name, *clients):
        """record() until the capture has no hole (tcpdump may miss a segment of a burst)."""
        for _ in range(5):
            path = self.record(name, *clients)
            lost = run("tshark", "-r", path, "-Y", "tcp.analysis.lost_segment", "-T", "fields",
                       "-e", "frame.number", capture_output=True, text=True).stdout.split()
            if not lost:
                print("record-h2-captures: " + path)
                return
        sys.exit("record-h2-captures: case %s: segments missing in every recording" % name)

    def record(self, name, *clients):
        """Records what the client commands (run in the client namespace, one after the
        other, or together when a command is a list of commands) exchange. A command whose
        first word is "!" may fail."""
        path = os.path.join(self.out, name + ".pcap")
        log = os.path.join(self.tmp, name + ".tcpdump")
        with open(log, "w") as lf:
            cap = subprocess.Popen(in_srv("tcpdump", "-i", SRV_IF, "-U", "--immediate-mode",
                                          "-n", "-s", "0", "-w", path, "tcp"),
                                   stdout=lf, stderr=lf)
        for _ in range(100):
            with open(log) as lf:
                if "listening on" in lf.read():
                    break
            time.sleep(0.05)
        try:
            for cmd in clients:
                group = cmd if isinstance(cmd[0], list) else [cmd]
                ps = [subprocess.Popen(in_cli(*c[c[0] == "!":]), stdout=subprocess.DEVNULL)
                      for c in group]
                for p, c in zip(ps, group):
                    if p.wait(timeout=30) and c[0] != "!":
                        sys.exit("record-h2-captures: case %s: %s failed" % (name, c[0]))
            time.sleep(0.5)  # the closing FIN and ACK
        finally:
            cap.send_signal(signal.SIGINT)
            cap.wait()
        os.chmod(path, 0o644)
        return path


def curl(*args):
    return ["curl", "-sS", "-o", "/dev/null", "--max-time", "10", "-A", UA, *args]


def cases():
    """name -> client commands."""
    h2 = "http://%s:%d" % (SRV4, H2)
    nd = "http://%s:%d" % (SRV4, NGHTTPD)
    return {
        # curl with prior knowledge to nginx: GET, 404, a POST with a body (curl 7.88 fails
        # to reuse a prior-knowledge connection: one connection each)
        "h2-curl": [curl("--http2-prior-knowledge", h2 + "/index.html"),
                    curl("--http2-prior-knowledge", h2 + "/missing"),
                    # nginx answers before it reads the body, then resets the stream
                    ["!", *curl("--http2-prior-knowledge", "-d", "name=httpeek&case=h2",
                                h2 + "/submit")]],
        # curl --http2: HTTP/1.1 with Upgrade: h2c, 101, then stream 1's response
        "h2-upgrade": [curl("--http2", "http://%s:%d/index.html" % (SRV4, NGHTTPX)),
                       curl("--http2", "-d", "a=b", "http://%s:%d/submit" % (SRV4, NGHTTPX))],
        # 60 streams at once; a body of many DATA frames
        "h2-concurrent": [["nghttp", "-n", "-m", "60", "-H", "x-case: concurrent",
                           nd + "/index.html"], ["nghttp", "-n", nd + "/big.txt"]],
        # header blocks past 16 KiB both ways: nghttp's request, nginx's response
        "h2-continuation": [["nghttp", "-n", "--continuation", nd + "/index.html"],
                            curl("--http2-prior-knowledge", h2 + "/big-headers")],
        # padded frames both ways, and pushed responses (PUSH_PROMISE)
        "h2-padding-push": [["nghttp", "-n", "-b", "255", "http://%s:%d/index.html"
                             % (SRV4, NGHTTPD_PAD)]],
        # HPACK at work: the same fields over and over, a small table (evictions) for the
        # requests (tshark 4.0 cannot decode responses once a client lowers its decoder's
        # table size: tests/unit/http2/test_h2.c covers that)
        "h2-hpack": [["nghttp", "-n", "-m", "40",
                      "--encoder-header-table-size=1024", "-H", "x-repeat-a: " + "a" * 60,
                      "-H", "x-repeat-b: " + "b" * 60, "-H", "cookie: session=0123456789",
                      nd + "/small.txt", nd + "/index.html"]],
        # gRPC: unary, failing, server, client and bidi streaming, a cancelled call (RST_STREAM)
        "h2-grpc": [[PY, os.path.join(HERE, "grpc-peer.py"), "client", SRV4, str(GRPC), "2"]],
        # HTTP/1.1 and HTTP/2 at once in one capture
        "h2-mixed": [[curl("http://%s:%d/index.html" % (SRV4, H1)),
                      curl("--http2-prior-knowledge", h2 + "/index.html"),
                      curl("http://%s:%d/small.txt" % (SRV4, H1))]],
        "h2-ipv6": [curl("-6", "-g", "--http2-prior-knowledge",
                         "http://[%s]:%d/small.txt" % (SRV6, H2))],
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "captures", "h2")
    wanted = sys.argv[2:]
    if os.geteuid():
        sys.exit("record-h2-captures: must run as root")
    for tool in ("ip", "tcpdump", "tshark", "nginx", "nghttp", "nghttpd", "nghttpx", "curl", "ss"):
        if not shutil.which(tool):
            sys.exit("record-h2-captures: missing " + tool)
    all_cases = cases()
    for w in wanted:
        if w not in all_cases:
            sys.exit("record-h2-captures: no case %s (cases: %s)" % (w, " ".join(all_cases)))
    os.makedirs(out, exist_ok=True)
    rec = Recorder(out)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        rec.setup_net()
        rec.write_site()
        rec.start_servers()
        for name, clients in all_cases.items():
            if not wanted or name in wanted:
                rec.capture(name, *clients)
    finally:
        rec.cleanup()


if __name__ == "__main__":
    main()
