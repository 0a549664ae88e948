#!/usr/bin/env python3
"""The host facts the live tests depend on, in one line for the top of their output: whether
tracefs and debugfs are mounted (httpeek must not need them), kernel BTF, the cgroup v2 root,
the uprobe PMU, the kernel. Imported by the live checks; run alone it prints the line."""
import os


def mounts():
    """{fstype: [mount points]} of this process's mount namespace."""
    out = {}
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                out.setdefault(parts[2], []).append(parts[1])
    return out


def line():
    m = mounts()

    def where(fs):
        return f"{fs} at {', '.join(m[fs])}" if fs in m else f"{fs} not mounted"
    btf = "/sys/kernel/btf/vmlinux"
    pmu = "/sys/bus/event_source/devices/uprobe/type"
    cg = m.get("cgroup2", [None])[0]
    return "host: %s; %s; kernel BTF %s; cgroup v2 %s; uprobe PMU %s; kernel %s" % (
        where("tracefs"), where("debugfs"), "yes" if os.path.exists(btf) else "NO",
        f"at {cg}" if cg else "NOT mounted",
        "type " + open(pmu).read().strip() if os.path.exists(pmu) else "ABSENT",
        os.uname().release)


if __name__ == "__main__":
    print(line())
