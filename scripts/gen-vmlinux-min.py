#!/usr/bin/env python3
"""Writes bpf/vmlinux_min.h to standard output: the kernel types httpeek's BPF programs use,
each with only the fields they read, taken from a kernel's BTF (bpftool's C dump).

The build uses the committed header, so a host without kernel BTF (a container, a distro
builder) builds too. CO-RE relocates every access to these types when the programs load,
against the running kernel's BTF, so the fields' order and offsets here do not matter; their
names and types do. Types the programs use by value (an object on the BPF stack, an array
element) are written whole. The types are the same on every architecture.

When the BPF code reads a new kernel type or field, add it to TYPES below and run, on a host
with BTF:   make vmlinux-min   (or: gen-vmlinux-min.py [BTF_FILE] > bpf/vmlinux_min.h)
"""
import os
import re
import subprocess
import sys

# type: the fields the BPF code reads ("*": the whole type), and where.
TYPES = [
    ("__sk_buff", "len protocol ifindex sk data data_end"),   # httpeek.bpf.c, copy.bpf.h
    ("bpf_sock", "state"),                                     # loopback.bpf.h
    ("bpf_sock_tuple", "*"),                                   # loopback.bpf.h: on the stack
    ("sock_common", "skc_family skc_cookie "                   # owner.bpf.h, loopback.bpf.h
     "skc_daddr skc_rcv_saddr skc_dport skc_num skc_v6_daddr skc_v6_rcv_saddr"),  # tls.bpf.c
    ("in6_addr", "*"),                                         # a member by value
    ("sk_buff", "dev"),                                        # lib/iface.bpf.h (the kernel skb)
    ("net_device", "name ifindex nd_net"),
    ("sock", "__sk_common sk_protocol"),                       # owner.bpf.h
    ("inet_sock", "sk"),                                       # loopback.bpf.h (to skc_cookie)
    ("inet_connection_sock", "icsk_inet"),
    ("tcp_sock", "inet_conn bytes_received rcv_nxt bytes_sent snd_nxt bytes_acked snd_una"),
    ("task_struct", "tgid real_parent group_leader thread_pid start_time nsproxy files"),  # owner.bpf.h
    ("pid", "level numbers"),
    ("upid", "*"),                                             # an array element, on the stack
    ("pid_namespace", "level ns"),
    ("nsproxy", "uts_ns mnt_ns net_ns"),
    ("uts_namespace", "name"),
    ("new_utsname", "nodename"),
    ("mnt_namespace", "ns"),
    ("net", "ns"),
    ("ns_common", "inum"),
    ("files_struct", "fdt"),                                   # lib/go.bpf.h: a Go Conn's fd
    ("fdtable", "max_fds fd"),
    ("file", "private_data"),
    ("socket", "file sk"),
]
# Typedefs the BPF code and libbpf's headers name themselves.
TYPEDEFS = "__s8 __u8 __s16 __u16 __s32 __u32 __s64 __u64 __be16 __be32 __wsum"
# Enum constants: named enums get their type, the others an anonymous enum.
ENUMS = [
    ("bpf_map_type", "BPF_MAP_TYPE_ARRAY BPF_MAP_TYPE_PERCPU_ARRAY BPF_MAP_TYPE_RINGBUF "
     "BPF_MAP_TYPE_SK_STORAGE BPF_MAP_TYPE_LRU_HASH BPF_MAP_TYPE_PERF_EVENT_ARRAY"),
    (None, "BPF_F_NO_PREALLOC BPF_SK_STORAGE_GET_F_CREATE BPF_F_CURRENT_NETNS"),
    (None, "BPF_ANY BPF_NOEXIST"),
    (None, "BPF_RB_NO_WAKEUP BPF_RB_FORCE_WAKEUP BPF_RB_AVAIL_DATA"),
]

# The registers uprobe arguments are read from (tls.bpf.c, through bpf_tracing.h's
# PT_REGS_PARM*; Go's register ABI, lib/go.bpf.h), per architecture: the field names the
# kernel's BTF has, relocated by CO-RE.
REGISTERS = """#define __VMLINUX_H__  /* bpf_tracing.h: the kernel's names (di), not user space's (rdi) */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	long unsigned int di;
	long unsigned int si;
	long unsigned int dx;
	long unsigned int cx;
	long unsigned int r8;
	long unsigned int r9;
	long unsigned int ax;
	long unsigned int bx;   /* Go's register ABI (lib/go.bpf.h): bx, r14 */
	long unsigned int r14;
	long unsigned int bp;
	long unsigned int ip;
	long unsigned int sp;
};
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs;
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
#else
struct pt_regs;
#endif"""

C_WORDS = {"struct", "union", "enum", "const", "volatile", "signed", "unsigned", "char", "short",
           "int", "long", "void", "_Bool", "float", "double"}
FIELD = re.compile(r"^\s*(?P<decl>[^()]*?\b(?P<name>\w+)(\[\d*\])*);$")


def die(msg):
    sys.exit("gen-vmlinux-min: " + msg)


def definitions(dump):
    """{(kind, name): [lines]} of the dump's top-level definitions; anonymous enums under
    ("enum", None) as one list of lines."""
    defs, cur = {("enum", None): []}, []
    for line in dump.splitlines():
        if not cur and (not line.strip() or line.startswith("#")):
            continue
        cur.append(line)
        single = len(cur) == 1 and line.endswith(";")
        if not (single or line.startswith("}")):
            continue
        first, last = cur[0], cur[-1]
        m = re.match(r"(struct|union|enum) (\w+) \{", first)
        if m:
            defs[(m.group(1), m.group(2))] = cur
        elif first.startswith("enum {"):
            defs[("enum", None)] += cur
        elif first.startswith("typedef"):
            m = re.search(r"\(\*(\w+)\)", last) or re.search(r"(\w+)(\[\d*\])*;$", last)
            if m:
                defs[("typedef", m.group(1))] = cur
        cur = []
    return defs


class Header:
    def __init__(self, defs):
        self.defs = defs
        self.typedefs = []      # typedef names, in the order they must appear
        self.records = []       # (kind, name, lines) in the order they must appear
        self.pointed = set()    # struct/union names only pointed to
        self.done = set()

    def refs(self, decl, by_value_ok):
        """Pulls in what a declaration names: typedefs, records (pointed to or by value)."""
        for m in re.finditer(r"\b(struct|union|enum) (\w+)(\s*\*)?|\b(\w+)\b", decl):
            if m.group(2):
                kind, name, ptr = m.group(1), m.group(2), m.group(3)
                if ptr and kind != "enum":
                    self.pointed.add((kind, name))
                elif by_value_ok:
                    self.record(kind, name, "*" if kind == "enum" else None)
            elif m.group(4) not in C_WORDS and ("typedef", m.group(4)) in self.defs:
                self.typedef(m.group(4))

    def typedef(self, name):
        if ("typedef", name) in self.done:
            return
        self.done.add(("typedef", name))
        lines = self.defs[("typedef", name)]
        for line in lines:
            self.refs(line.replace("typedef", "", 1), True)
        self.typedefs.append("\n".join(lines))

    def record(self, kind, name, fields):
        """A struct or union (fields: a list of names, "*" for all); by-value members first."""
        if (kind, name) in self.done:
            return
        if fields is None:
            fields = dict(TYPES).get(name)
            if fields is None:
                die("%s %s is used by value: add it to TYPES" % (kind, name))
            fields = "*" if fields == "*" else fields.split()
        lines = self.defs.get((kind, name)) or die("no %s %s in the BTF" % (kind, name))
        self.done.add((kind, name))
        if fields == "*":
            body = lines
            for line in lines[1:-1]:
                self.refs(line, True)
        else:
            found = sorted(self.field(name, lines, f) for f in fields)
            body = [lines[0]] + [decl for _, decl in found] + [lines[-1]]
        self.records.append((kind, name, body))

    def field(self, rec, lines, want):
        """(line number, declaration) of field want of rec, flattened out of anonymous members."""
        found = [(i, m) for i, m in enumerate(map(FIELD.match, lines))
                 if m and m.group("name") == want]
        if len(found) != 1:
            die("%s.%s: %d declarations in the BTF" % (rec, want, len(found)))
        i, m = found[0]
        if m.group("decl").lstrip().startswith("}"):
            die("%s.%s has an anonymous type: take the whole type" % (rec, want))
        self.refs(m.string[:m.start("name")], True)
        return i, "\t%s;" % m.group("decl").strip()

    def enum_lines(self):
        out = []
        for name, consts in ENUMS:
            src = self.defs[("enum", None)] if name is None else self.defs[("enum", name)]
            vals = {}
            for line in src:
                m = re.match(r"\s*(\w+) = (-?\w+),$", line)
                if m:
                    vals[m.group(1)] = m.group(2)
            body = ["\t%s = %s," % (c, vals.get(c) or die("no enum constant " + c))
                    for c in consts.split()]
            out.append("\n".join(["enum %s{" % (name + " " if name else "")] + body + ["};"]))
        return out


def main():
    btf = sys.argv[1] if len(sys.argv) > 1 else "/sys/kernel/btf/vmlinux"
    bpftool = os.environ.get("BPFTOOL", "bpftool")
    dump = subprocess.run([bpftool, "btf", "dump", "file", btf, "format", "c"], check=True,
                          stdout=subprocess.PIPE, universal_newlines=True).stdout
    h = Header(definitions(dump))
    for name in TYPEDEFS.split():
        h.typedef(name)
    for name, fields in TYPES:
        h.record("struct", name, None)
    forward = sorted("%s %s;" % k for k in h.pointed if k not in h.done)
    release = os.uname().release if btf == "/sys/kernel/btf/vmlinux" else os.path.basename(btf)
    parts = [
        "/* SPDX-License-Identifier: GPL-2.0 */\n"
        "/*\n"
        " * The kernel types httpeek's BPF programs use, only the fields they read; CO-RE\n"
        " * relocates each access when the programs load. Generated by\n"
        " * scripts/gen-vmlinux-min.py from the BTF of %s: do not edit, regenerate\n"
        " * (make vmlinux-min) after adding a type or field there.\n"
        " */\n"
        "#ifndef HTTPEEK_VMLINUX_MIN_H\n"
        "#define HTTPEEK_VMLINUX_MIN_H\n\n"
        "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
        "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
        "#endif" % release,
        "\n".join(h.typedefs),
        "\n".join(forward),
    ] + h.enum_lines() + ["\n".join(lines) for _, _, lines in h.records] + [REGISTERS] + [
        "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
        "#pragma clang attribute pop\n"
        "#endif\n\n"
        "#endif /* HTTPEEK_VMLINUX_MIN_H */"]
    print("\n\n".join(p for p in parts if p))


if __name__ == "__main__":
    main()
