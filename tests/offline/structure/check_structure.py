#!/usr/bin/env python3
"""The tree's structure, as docs/ARCHITECTURE.md draws it, checked on the code itself:

- no include cycle between modules of src/ and bpf/ (a module: x.c with x.h; a header alone is
  its own module);
- no two object files of src/ calling each other, directly or round a longer circle (from the
  built objects' symbol tables, nm);
- no exported function or variable that only its own file uses (tests and fuzz targets count as
  users);
- no .c file loose in src/ but main.c and options.c, and every source file named in
  docs/ARCHITECTURE.md.
One TAP line per check (tests/checklib.py)."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklib import Checks  # noqa: E402

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(top, exts):
    out = []
    for d, _, files in os.walk(os.path.join(ROOT, top)):
        out += [os.path.relpath(os.path.join(d, f), ROOT) for f in files if f.endswith(exts)]
    return sorted(out)


def module(path):
    """x.c and x.h are module x; a folder's private header (internal.h, x_internal.h) belongs
    to the folder's module of that name (folder/folder, folder/x)."""
    d, f = os.path.split(path)
    if f == "internal.h":
        return os.path.join(d, os.path.basename(d))
    if f.endswith("_internal.h"):
        return os.path.join(d, f[:-len("_internal.h")])
    return path[:-2] if path.endswith((".c", ".h")) else path


def resolve(inc, src, known):
    """The repository path an include names: beside the includer, under src/ or bpf/."""
    for base in (os.path.dirname(src), "src", "bpf"):
        p = os.path.normpath(os.path.join(base, inc))
        if p in known:
            return p
    return None


def cycles(edges):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def include_cycles():
    files = sources("src", (".c", ".h")) + sources("bpf", (".c", ".h"))
    known = set(files)
    edges, unresolved = {}, []
    for f in files:
        for inc in INCLUDE.findall(open(os.path.join(ROOT, f)).read()):
            if inc.endswith(".skel.h"):
                continue
            target = resolve(inc, f, known)
            if target is None:
                unresolved.append("%s includes %s" % (f, inc))
            elif module(target) != module(f):
                edges.setdefault(module(f), set()).add(module(target))
    return unresolved + ["include circle: " + " -> ".join(c) for c in cycles(edges)]


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRC":
            defined.add(parts[2])
    return defined, used


def objects(build, paths):
    """Symbols of the objects built from paths (x/y.c -> BUILD/x/y.o) that exist."""
    out = {}
    for p in paths:
        o = os.path.join(ROOT, build, os.path.splitext(p)[0] + ".o")
        if os.path.exists(o):
            out[p] = symbols(o)
    return out


def call_cycles_and_exports():
    src = objects("build/obj", [os.path.relpath(p, "src") for p in sources("src", (".c",))])
    users = dict(src)
    users.update({"tests/" + k: v for k, v in objects(
        "build/tests/obj", [os.path.relpath(p, "tests") for p in sources("tests", (".c",))]).items()})
    users.update({"fuzz/" + k: v for k, v in objects(
        "build/fuzz/obj", [os.path.relpath(p, "fuzz") for p in sources("fuzz", (".c",))]).items()})
    if not src:
        return ["no objects in build/obj: build first (make)"], []
    owner = {s: o for o, (defs, _) in src.items() for s in defs}
    edges = {}
    for o, (_, used) in src.items():
        for s in used:
            if s in owner and owner[s] != o:
                edges.setdefault(o, set()).add(owner[s])
    calls = ["call circle: " + " -> ".join(c) for c in cycles(edges)]
    lonely = []
    for o, (defs, _) in sorted(src.items()):
        for s in sorted(defs):
            if s == "main":
                continue
            if not any(s in used for u, (_, used) in users.items() if u != o):
                lonely.append("%s exports %s, which only it uses" % (o, s))
    return calls, lonely


def layout():
    problems = []
    loose = [f for f in sources("src", (".c",)) if os.path.dirname(f) == "src"]
    problems += ["%s is loose in src/" % f for f in loose
                 if f not in ("src/main.c", "src/options.c")]
    doc = os.path.join(ROOT, "docs", "ARCHITECTURE.md")
    text = open(doc).read() if os.path.exists(doc) else ""
    lines = text.splitlines()
    for f in sources("src", (".c", ".h")) + sources("bpf", (".c", ".h")):
        # "x.c`, `.h`" names the header with its source
        pair = f.endswith(".h") and any(f[:-2] + ".c`, `.h`" in ln for ln in lines)
        if f not in text and not pair:
            problems.append("%s is not named in docs/ARCHITECTURE.md" % f)
    return problems


def main():
    checks = Checks("structure")
    checks.report("no include circles in src/ and bpf/", include_cycles())
    calls, lonely = call_cycles_and_exports()
    checks.report("no object files of src/ calling each other", calls)
    checks.report("every exported symbol has a user in another file", lonely)
    checks.report("a folder per stage, every file in docs/ARCHITECTURE.md", layout())
    checks.exit()


if __name__ == "__main__":
    main()
