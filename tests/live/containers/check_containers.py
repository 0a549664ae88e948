#!/usr/bin/env python3
"""Checks what tests/live/containers/run.sh captured: container and pod fields of each synthetic
container's client events, and the container=/cgroup= filters. Usage: check_containers.py DIR TOP (TOP: the test's cgroup directory)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from checklib import Checks  # noqa: E402

CHECKS = Checks("containers")
report = CHECKS.report
INGRESS, EGRESS = 1, 2  # metadata.direction: Tracee's PacketDirection numbers


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def args(e):
    return {a["name"]: a["value"] for a in e["args"]}


def client_request(events, name):
    """The net_packet_http event of POST /api/<name> at the client's socket end (egress)."""
    for e in events:
        a = args(e)
        if e["eventName"] != "net_packet_http" or a["metadata"]["direction"] != EGRESS:
            continue
        h = a["proto_http"]
        if h["direction"] == "request" and h["uri_path"] == "/api/" + name:
            return e
    return None


def check_case(events, line, top):
    name, path, cid, runtime, pod = line.split()
    e = client_request(events, name)
    if e is None:
        report(name + " client event", ["no egress POST /api/%s event" % name])
        return
    want_container = {"id": cid, "runtime": runtime}
    want_k8s = {} if pod == "-" else {"podUID": pod}
    problems = []
    if e["containerId"] != cid:
        problems.append("containerId %r want %r" % (e["containerId"], cid))
    if e["container"] != want_container:
        problems.append("container %r want %r" % (e["container"], want_container))
    if e["kubernetes"] != want_k8s:
        problems.append("kubernetes %r want %r" % (e["kubernetes"], want_k8s))
    if not e["contextFlags"]["containerStarted"]:
        problems.append("containerStarted false")
    if e["processName"] != "python3":
        problems.append("processName %r" % e["processName"])
    ino = os.stat(os.path.join(top, path)).st_ino
    if e["cgroupId"] != ino:
        problems.append("cgroupId %d want inode %d" % (e["cgroupId"], ino))
    report("%s container fields" % name, problems)


def check_server(events):
    """The server's own events (ingress requests) carry no container."""
    server = [e for e in events if args(e).get("metadata", {}).get("direction") == INGRESS
              and e["eventName"] == "net_packet_http"
              and args(e)["proto_http"]["direction"] == "request"]
    bad = [e["containerId"] for e in server if e["containerId"] or e["container"]
           or e["kubernetes"]]
    report("server outside containers", [] if len(server) >= 10 and not bad else
           ["%d server events, container fields %s" % (len(server), bad[:3])])


def check_filter(name, events, cid, want_names, want_paths):
    problems = []
    names = sorted(e["eventName"] for e in events)
    if names != sorted(want_names):
        problems.append("events %s want %s" % (names, sorted(want_names)))
    others = {e["containerId"] for e in events} - {cid}
    if others:
        problems.append("other containers %s" % others)
    paths = set()
    for e in events:
        a = args(e)
        for key in ("proto_http", "http_request", "request"):
            if a.get(key) and a[key].get("uri_path"):
                paths.add(a[key]["uri_path"])
    if not paths <= set(want_paths):
        problems.append("paths %s" % paths)
    report(name, problems)


def main():
    tmp, top = sys.argv[1], sys.argv[2]
    cases = [line.strip() for line in open(os.path.join(tmp, "cases.txt")) if line.strip()]
    events = load(os.path.join(tmp, "all.jsonl"))
    for line in cases:
        check_case(events, line, top)
    check_server(events)
    ids = {line.split()[0]: line.split()[2] for line in cases}
    # container= prefix: the docker client's end only: 4 messages x 2 events + 2 exchanges
    check_filter("container= filter", load(os.path.join(tmp, "docker.jsonl")), ids["docker"],
                 ["net_packet_http"] * 4 + ["net_packet_http_request"] * 2 +
                 ["net_packet_http_response"] * 2 + ["net_flow_http"] * 2,
                 ["/api/docker", "/health/docker"])
    # cgroup= plus status>=500: the crio client's 503 response and its exchange
    check_filter("cgroup= filter", load(os.path.join(tmp, "crio.jsonl")), ids["crio"],
                 ["net_packet_http", "net_packet_http_response", "net_flow_http"],
                 ["/api/crio"])
    recipe = load(os.path.join(tmp, "recipe.jsonl"))
    check_filter("recipe POST /api status>=500 by container", recipe, ids["pod"],
                 ["net_flow_http"], ["/api/pod"])
    pod = [line.split()[4] for line in cases if line.startswith("pod ")][0]
    report("recipe event has the pod", [] if recipe and recipe[0]["kubernetes"] == {"podUID": pod}
           else ["kubernetes %s" % [e["kubernetes"] for e in recipe]])
    for f in ("all", "docker", "crio", "recipe"):
        err = open(os.path.join(tmp, f + ".err")).read()
        report("%s summary" % f, [] if " 0 kernel drops" in err else ["stderr %r" % err])
    CHECKS.exit()


if __name__ == "__main__":
    main()
