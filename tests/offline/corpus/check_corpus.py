#!/usr/bin/env python3
"""Corpus validation: for each ../shared/corpus/expected/NAME.json (the HTTP messages tshark
finds: requests as [method, path], responses as status codes), ./httpeek -r pcap/NAME.pcap must
report every one of them (multiset containment), and every message it reports beyond them must
be listed in tests/offline/corpus/extras.tsv as real HTTP, with evidence. An allow-listed extra that is
not reported fails too. One TAP line per capture (tests/checklib.py); without ../shared/corpus
one skipped check, and exit 0. HTTPEEK in the environment overrides the
binary, HTTPEEK_CORPUS the corpus directory.

Paths are compared as httpeek's uri_path: tshark's URI without query or fragment, the path of an
absolute-form target, percent-decoded by Go's url.URL.Path rules (kept as sent when a '%' lacks
two hex digits); a CONNECT target is not a path, so CONNECT requests match on the method ("" on
both sides, as the expected files already write them)."""

import collections
import json
import os
import re
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from checklib import shared_corpus, Checks  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CORPUS = shared_corpus(ROOT)
HTTPEEK = os.environ.get("HTTPEEK", os.path.join(ROOT, "httpeek"))
EXTRAS = os.path.join(HERE, "extras.tsv")
TIMEOUT = 60
ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def norm_path(method, path):
    if method == "CONNECT":
        return ""
    m = ABSOLUTE.match(path)
    if m:
        path = path[m.end():] or "/"
    for sep in "?#":
        path = path.split(sep, 1)[0]
    if BAD_ESCAPE.search(path):
        return path
    return urllib.parse.unquote_to_bytes(path).decode("utf-8", "replace")


def item_text(kind, item):
    """The text extras.tsv uses: "METHOD path" for a request (path in JSON quotes when empty or
    holding spaces or quotes), the code for a response."""
    if kind != "request":
        return str(item)
    method, path = item
    if not path or any(c.isspace() or c == '"' for c in path):
        path = json.dumps(path)
    return "%s %s" % (method, path)


def load_extras():
    """{capture: Counter((kind, text))} from extras.tsv."""
    extras = collections.defaultdict(collections.Counter)
    if not os.path.exists(EXTRAS):
        return extras
    with open(EXTRAS, encoding="utf-8") as f:
        header = None
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                if header != ["capture", "kind", "message", "reason", "evidence"]:
                    raise SystemExit("%s: unexpected header %r" % (EXTRAS, header))
                continue
            if len(cols) != 5 or cols[1] not in ("request", "response") \
                    or not cols[3].strip() or not cols[4].strip():
                raise SystemExit("%s:%d: want capture, kind, message, reason and evidence"
                                 % (EXTRAS, n))
            extras[cols[0]][(cols[1], cols[2])] += 1
    return extras


def expected_messages(path):
    with open(path, encoding="utf-8") as f:
        exp = json.load(f)
    reqs = collections.Counter((m, norm_path(m, p)) for m, p in exp["requests"])
    resps = collections.Counter(int(c) for c in exp["responses"])
    return reqs, resps


def reported_messages(pcap):
    """(Counter of (method, path), Counter of status codes) that httpeek reports."""
    cmd = [HTTPEEK, "-r", pcap, "-e", "net_packet_http"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RuntimeError("timed out after %ds" % TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError("exit %d: %s" % (p.returncode,
                                            p.stderr.decode("utf-8", "replace").strip()))
    if p.stdout and not p.stdout.endswith(b"\n"):
        raise RuntimeError("stdout does not end with a newline")
    reqs, resps = collections.Counter(), collections.Counter()
    for n, line in enumerate(p.stdout.split(b"\n")[:-1], 1):
        try:
            ev = json.loads(line.decode("utf-8"))
            args = {a["name"]: a["value"] for a in ev["args"]}
            http = args["proto_http"]
        except (ValueError, KeyError, TypeError) as e:
            raise RuntimeError("stdout line %d is not a net_packet_http event: %s: %r"
                               % (n, e, line[:120]))
        if http["direction"] == "request":
            reqs[(http["method"], norm_path(http["method"], http["uri_path"]))] += 1
        else:
            resps[http["status_code"]] += 1
    return reqs, resps


def check_one(name, allowed):
    """Failure lines for one capture, and a summary for the ok line."""
    want_req, want_resp = expected_messages(os.path.join(CORPUS, "expected", name + ".json"))
    pcap = os.path.join(CORPUS, "pcap", name + ".pcap")
    if not os.path.exists(pcap):
        return ["no %s" % pcap], ""
    try:
        got_req, got_resp = reported_messages(pcap)
    except RuntimeError as e:
        return [str(e)], ""
    problems = []
    for kind, want, got in (("request", want_req, got_req), ("response", want_resp, got_resp)):
        for item, n in sorted((want - got).items(), key=str):
            problems.append("missing %s %s (%d of %d not reported)"
                            % (kind, item_text(kind, item), n, want[item]))
        extra = collections.Counter({(kind, item_text(kind, i)): n
                                     for i, n in (got - want).items()})
        listed = collections.Counter({k: n for k, n in allowed.items() if k[0] == kind})
        for (k, text), n in sorted((extra - listed).items()):
            problems.append("extra %s %s reported %d time(s) beyond tshark, not in "
                            "tests/offline/corpus/extras.tsv" % (k, text, n))
        for (k, text), n in sorted((listed - extra).items()):
            problems.append("allow-listed extra %s %s not reported (%d time(s))"
                            % (k, text, n))
    summary = "%d requests, %d responses, %d listed extras" % (
        sum(got_req.values()), sum(got_resp.values()), sum(allowed.values()))
    return problems, summary


def main():
    checks = Checks("corpus")
    if not os.path.isdir(os.path.join(CORPUS, "expected")):
        checks.skip("the public corpus", "%s is absent" % CORPUS)
        return 0
    if not os.access(HTTPEEK, os.X_OK):
        checks.report("httpeek", ["%s is not built (run make)" % HTTPEEK])
        return 1
    extras = load_extras()
    names = sorted(f[:-5] for f in os.listdir(os.path.join(CORPUS, "expected"))
                   if f.endswith(".json"))
    for name in sorted(set(extras) - set(names)):
        checks.report(name, ["extras.tsv names a capture the corpus lacks"])
    for name in names:
        problems, summary = check_one(name, extras.get(name, collections.Counter()))
        checks.report(name, problems)
        if not problems:
            checks.note("%s: %s" % (name, summary))
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
