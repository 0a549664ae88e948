"""Shared by the python checkers: one TAP line per check, the one format tests/run.sh counts.

  ok - SUITE: NAME                  passed
  not ok - SUITE: NAME: WHY         failed
  ok - SUITE: NAME # SKIP WHY       not run, and why (counted as skipped)
  # TEXT                            anything else (numbers, explanations)
"""
import os
import sys


def tap_ok(suite, name):
    print("ok - %s: %s" % (suite, name), flush=True)


def tap_fail(suite, name, why):
    print("not ok - %s: %s: %s" % (suite, name, one_line(why)), flush=True)


def tap_skip(suite, name, why):
    print("ok - %s: %s # SKIP %s" % (suite, name, one_line(why)), flush=True)


def tap_note(text):
    for line in str(text).splitlines() or [""]:
        print("# " + line, flush=True)


def one_line(text):
    return " ".join(str(text).split())


class Checks:
    def __init__(self, suite):
        self.suite = suite
        self.failures = 0
        self.count = 0

    def report(self, name, problems):
        """Prints the check's line; problems is a list of what went wrong (empty: ok)."""
        self.count += 1
        if problems:
            self.failures += 1
            tap_fail(self.suite, name, "; ".join(map(str, problems)))
        else:
            tap_ok(self.suite, name)

    def check(self, name, cond, why=""):
        """report() for one condition; returns it."""
        self.report(name, [] if cond else [why or "failed"])
        return cond

    def skip(self, name, why):
        """A check this run cannot make, and why: counted as skipped, never as passed."""
        self.count += 1
        tap_skip(self.suite, name, why)

    def note(self, text):
        tap_note(text)

    def exit(self):
        sys.exit(1 if self.failures else 0)


def shared_corpus(root):
    """The public corpus: HTTPEEK_CORPUS, else shared/corpus beside the checkout or beside a
    folder above it (a git worktree kept under the main checkout's parent); the first place
    looked at when none exists."""
    if os.environ.get("HTTPEEK_CORPUS"):
        return os.environ["HTTPEEK_CORPUS"]
    first, d = None, os.path.dirname(os.path.abspath(root))
    while True:
        path = os.path.join(d, "shared", "corpus")
        first = first or path
        if os.path.isdir(path) or os.path.dirname(d) == d:
            return path if os.path.isdir(path) else first
        d = os.path.dirname(d)


TOKEN = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def canonical_header(name):
    """Go's textproto.CanonicalMIMEHeaderKey (the events' header names): a name with a byte
    that is not a token character stays as it is; else each letter at the start or after a
    '-' upper-case, the rest lower-case."""
    if not name or any(c not in TOKEN for c in name):
        return name
    out, upper = [], True
    for c in name:
        out.append(c.upper() if upper else c.lower())
        upper = c == "-"
    return "".join(out)


def url_path(method, target):
    """uri_path as Go's url.URL.Path gives it for a request target: the path without query or
    fragment, percent-decoded (as sent when an escape is invalid); "" for CONNECT, "*"."""
    import re
    import urllib.parse
    if method == "CONNECT" or not target:
        return ""
    if target == "*":
        return "*"
    path = target.split("?")[0].split("#")[0] if target.startswith("/") else (
        urllib.parse.urlsplit(target).path)
    if re.search(r"%(?![0-9A-Fa-f]{2})", path):
        return path
    return urllib.parse.unquote(path, errors="surrogateescape")
