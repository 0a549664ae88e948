#!/usr/bin/env python3
"""Deployment files: the systemd unit and the DaemonSet parse and name only options the binary
has, the manifest has what live tracing needs, the man page renders and lists every option, and
`make install` puts binary, man page and unit under DESTDIR/PREFIX.
One TAP line per check (tests/checklib.py); exits 1 on failure."""
import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from checklib import Checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
UNIT = os.path.join(ROOT, "deploy", "httpeek.service")
MANIFEST = os.path.join(ROOT, "deploy", "daemonset.yaml")
MAN = os.path.join(ROOT, "docs", "httpeek.8")
CHECKS = Checks("deploy")
report = CHECKS.report


def help_options():
    """Option names in --help, and those that take a value."""
    text = subprocess.run([BIN, "--help"], capture_output=True, text=True, check=True).stdout
    names, valued = set(), set()
    for m in re.finditer(r"^\s+(?:(-\w), )?(--[\w-]+)(\[?=?\w*\]?)?( [A-Z]+)?", text, re.M):
        for n in (m.group(1), m.group(2)):
            if n:
                names.add(n)
                if m.group(4):
                    valued.add(n)
    return names, valued


def check_args(name, argv, names, valued):
    """Every option in argv exists; every value-taking one has its value."""
    problems = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-"):
            opt = a.split("=", 1)[0]
            if opt not in names:
                problems.append("unknown option %s" % opt)
            elif opt in valued and "=" not in a:
                i += 1
                if i >= len(argv):
                    problems.append("%s lacks its value" % opt)
        else:
            problems.append("stray argument %r" % a)
        i += 1
    report(name, problems)


def check_unit(names, valued):
    cp = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    cp.optionxform = str
    problems = []
    try:
        cp.read(UNIT)
    except configparser.Error as e:
        report("unit parses", [str(e)])
        return
    for sec, key in (("Unit", "Description"), ("Service", "ExecStart"), ("Install", "WantedBy")):
        if not cp.has_option(sec, key):
            problems.append("no %s=%s" % (sec, key))
    report("unit parses", problems)
    if problems:
        return
    argv = shlex.split(cp.get("Service", "ExecStart"))
    report("unit runs the installed binary",
           [] if argv[0] == "/usr/local/sbin/httpeek" else ["ExecStart %s" % argv[0]])
    check_args("unit options exist", argv[1:], names, valued)
    caps = set(cp.get("Service", "CapabilityBoundingSet", fallback="").split())
    need = {"CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH",
            "CAP_SETUID", "CAP_SETGID"}
    report("unit capabilities", [] if need <= caps else ["missing %s" % sorted(need - caps)])
    # the real binary must start with these options as far as parsing goes: --help after them
    p = subprocess.run([BIN] + argv[1:] + ["--help"], capture_output=True, timeout=10)
    report("unit options accepted", [] if p.returncode == 0 else [p.stderr.decode().strip()])
    if not shutil.which("systemd-analyze"):
        CHECKS.skip("systemd-analyze verify", "systemd-analyze is not installed")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            text = open(UNIT).read().replace("/usr/local/sbin/httpeek", os.path.abspath(BIN))
            path = os.path.join(tmp, "httpeek.service")
            open(path, "w").write(text)
            p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                               text=True, timeout=30)
            bad = [l for l in (p.stdout + p.stderr).splitlines()
                   if l.strip() and "man httpeek(8)" not in l]
            report("systemd-analyze verify", bad)


def load_yaml(path):
    try:
        import yaml
    except ImportError:
        return None
    with open(path) as f:
        return yaml.safe_load(f)


def check_manifest(names, valued):
    doc = load_yaml(MANIFEST)
    if doc is None:
        report("manifest parses", ["python3-yaml is not installed (scripts/deps.sh lists it)"])
        return
    problems = []
    if doc.get("kind") != "DaemonSet" or doc.get("apiVersion") != "apps/v1":
        problems.append("not an apps/v1 DaemonSet")
    spec = doc["spec"]["template"]["spec"]
    sel = doc["spec"]["selector"]["matchLabels"]
    if any(doc["spec"]["template"]["metadata"]["labels"].get(k) != v for k, v in sel.items()):
        problems.append("selector does not match the template's labels")
    if spec.get("hostPID") is not True:
        problems.append("hostPID is not true")
    report("manifest parses", problems)
    c = spec["containers"][0]
    argv = list(c.get("command", [])) + list(c.get("args", []))
    check_args("manifest options exist", argv[1:], names, valued)
    sc = c.get("securityContext", {})
    caps = set(sc.get("capabilities", {}).get("add", []))
    need = {"BPF", "PERFMON", "NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH",
            "SETUID", "SETGID"}
    problems = ["missing %s" % sorted(need - caps)] if not need <= caps else []
    if sc.get("privileged"):
        problems.append("privileged: capabilities should be enough")
    report("manifest capabilities", problems)
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    problems = []
    for name, host in (("btf", "/sys/kernel/btf"), ("cgroup", "/sys/fs/cgroup")):
        if name not in mounts or vols.get(name, {}).get("hostPath", {}).get("path") != host:
            problems.append("no %s mount of %s" % (name, host))
    cg = mounts.get("cgroup", {}).get("mountPath")
    if "--cgroup" not in argv or argv[argv.index("--cgroup") + 1] != cg:
        problems.append("--cgroup does not name the cgroup mount %s" % cg)
    if mounts.get("btf", {}).get("mountPath") != "/sys/kernel/btf":
        problems.append("BTF not at /sys/kernel/btf in the container")
    report("manifest mounts", problems)
    check_scrape(doc["spec"]["template"], c, argv)


def check_scrape(template, c, argv):
    """--metrics listens on the port the container declares and the annotations name; its
    every-address form only in the pod's own network namespace."""
    notes = template["metadata"].get("annotations", {})
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    listen = argv[argv.index("--metrics") + 1] if "--metrics" in argv else ""
    port = listen.rsplit(":", 1)[-1]
    problems = []
    if not port.isdigit():
        problems.append("no --metrics ADDR:PORT")
    elif str(ports.get("metrics")) != port or notes.get("prometheus.io/port") != port:
        problems.append("port %s, containerPort %s, annotation %s" % (
            port, ports.get("metrics"), notes.get("prometheus.io/port")))
    if notes.get("prometheus.io/scrape") != "true" or notes.get("prometheus.io/path") != "/metrics":
        problems.append("scrape annotations")
    if listen.startswith(":") and template["spec"].get("hostNetwork"):
        problems.append("--metrics %s with hostNetwork listens on every address of the node "
                        "(docs/METRICS.md, Kubernetes)" % listen)
    report("manifest metrics port and scrape annotations", problems)


def check_man(names):
    problems = []
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN], capture_output=True,
                           text=True)
        if p.returncode or p.stderr.strip():
            problems.append("groff: %s" % p.stderr.strip()[:300])
    if shutil.which("man"):
        p = subprocess.run(["man", "-l", MAN], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="100", MANPAGER="cat", PAGER="cat"))
        if p.returncode or "OVERHEAD" not in p.stdout or "EXAMPLES" not in p.stdout:
            problems.append("man -l: rc %d" % p.returncode)
        text = p.stdout.replace("\u2010", "-").replace("\u2212", "-")
    else:
        text = open(MAN).read().replace("\\-", "-")
        if not text.startswith(".TH HTTPEEK 8") or ".SH OVERHEAD" not in text:
            problems.append("macros")
    missing = sorted(n for n in names if n not in text)
    if missing:
        problems.append("options not in the man page: %s" % missing)
    report("man page renders and lists every option", problems)


def check_install():
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run(["make", "-C", ROOT, "install", "DESTDIR=" + tmp, "PREFIX=/usr"],
                           capture_output=True, text=True, timeout=300)
        problems = [] if p.returncode == 0 else ["make install: %s" % p.stderr[-300:]]
        for rel, mode in (("usr/sbin/httpeek", 0o755), ("usr/share/man/man8/httpeek.8", 0o644),
                          ("usr/lib/systemd/system/httpeek.service", 0o644)):
            path = os.path.join(tmp, rel)
            if not os.path.isfile(path):
                problems.append("no %s" % rel)
            elif os.stat(path).st_mode & 0o777 != mode:
                problems.append("%s mode %o" % (rel, os.stat(path).st_mode & 0o777))
        unit = os.path.join(tmp, "usr/lib/systemd/system/httpeek.service")
        if os.path.isfile(unit) and "ExecStart=/usr/sbin/httpeek " not in open(unit).read():
            problems.append("installed unit does not run /usr/sbin/httpeek")
        report("make install DESTDIR PREFIX", problems)


def main():
    names, valued = help_options()
    report("help lists options", [] if {"-f", "-w", "--stats", "--cgroup"} <= names
           and "--redact" not in valued else ["parsed %s" % sorted(names)])
    check_unit(names, valued)
    check_manifest(names, valued)
    check_man(names)
    check_install()
    CHECKS.exit()


if __name__ == "__main__":
    main()
