#!/usr/bin/env python3
"""The golden expectations, derived from tshark: what httpeek must report for each capture in
tests/captures, written from tshark's reading of the packets (not from httpeek's output), with
the corrections of tshark-differs.tsv where tshark is wrong or blind (each with its reason).

derive.py              prints what differs between the derivation and the committed tables
                       (expected.tsv, expected-flows.tsv); exits 1 when something does
derive.py --write      rewrites those tables from the derivation (review the diff)
derive.py --show NAME  prints the derived rows of one capture

HTTP/2 is not derived here: its captures live in tests/captures/h2 (listdir of tests/captures
never enters it), and check_h2.py holds httpeek to tshark's http2 dissector on them, message by
message and stream by stream. These tables are HTTP/1.x's.

check_golden.py runs the same derivation: the committed tables must equal it, and httpeek
must equal the tables. A new capture in tests/captures gets its rows with --write.

How a row is made from tshark (4.x, HTTP bodies not reassembled, so that a message is at the
frame that completed its head; captures with several VLANs or 802.11 BSSIDs read one network at a time, as tshark
would otherwise take their connections for one; an A-MSDU frame's subframes each on its own):
  frame          the frame tshark shows the message in
  method, uri, protocol, status_code, status   the start line (status: code and phrase)
  uri_path       the target's path, without query, percent-decoded as Go's url.URL.Path
  host           the authority of an absolute- or authority-form target, else Host
  headers        every header line, names in Go's canonical form, values trimmed, in order
  content_length what the head says: Content-Length; -1 when chunked; without either, 0 for
                 a request or a response that has no body (1xx, 204, 304), else -1 (a
                 response to HEAD describes the body it would have: unknown)
  src ... dst_port  the innermost IP and TCP of the frame; direction from pcapng's epb_flags
                 or the SLL packet type, else unknown
  packet_len     the innermost IP length (IPv6: 40 + payload length), of the whole datagram
                 when tshark made it from fragments
  truncated      "yes" when a frame holding the head was cut by the snap length
  exchanges      each final response (and 101) with the request it answers (in order on the
                 connection); the request's number on its connection (trans_depth); latency
                 the difference of their frames' times; a request without response at the time of the last head
                 on its connection; a response without request with depth 0
"""
import collections
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklib import canonical_header as canonical, url_path as uri_path  # noqa: E402
CAPTURES = os.environ.get("HTTPEEK_CAPTURES", os.path.join(ROOT, "tests", "captures"))
MSG_COLUMNS = ["frame", "kind", "method", "uri", "uri_path", "host", "protocol", "status_code",
               "status", "content_length", "src", "dst", "src_port", "dst_port", "direction",
               "headers", "packet_len", "truncated", "tunnel"]
FLOW_COLUMNS = ["frame", "method", "uri_path", "status_code", "trans_depth", "client",
                "client_port", "server", "server_port", "latency_ns"]
TSHARK = ["tshark", "-n", "-o", "http.desegment_body:FALSE", "--enable-heuristic", "http_tcp",
          "-T", "json", "--no-duplicate-keys", "-J", "frame ip ipv6 tcp http sll vlan wlan wlan_aggregate"]


def as_list(v):
    return v if isinstance(v, list) else [] if v is None else [v]


def last(layers, name):
    return as_list(layers.get(name))[-1] if layers.get(name) else None


def tshark(path, read_filter=None):
    cmd = TSHARK + ["-r", path] + (["-Y", read_filter] if read_filter else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"derive: tshark failed on {path}: {p.stderr.strip()[-300:]}")
    return json.loads(p.stdout or "[]")


def start_line(pdu):
    """The dict tshark keeps under the request or status line, and that line."""
    for k, v in pdu.items():
        if isinstance(v, dict) and ("http.request.method" in v or "http.response.code" in v):
            return k, v
    return None, None


def reassembled(header, key):
    """The length tshark gives a datagram it made whole from fragments (key, anywhere in the
    header's tree), else None."""
    for k, v in header.items():
        if k == key:
            return int(as_list(v)[-1])
        if isinstance(v, dict):
            found = reassembled(v, key)
            if found is not None:
                return found
    return None


def ends(layers):
    """(src, dst, family) of the innermost IP header, and its length (of the whole datagram
    when it came in fragments)."""
    ip, ip6 = last(layers, "ip"), last(layers, "ipv6")
    # In a frame with both (a tunnel), the innermost is the one tshark shows last.
    order = [k for k in layers if k in ("ip", "ipv6")]
    if order and order[-1] == "ipv6" and ip6:
        whole = reassembled(ip6, "ipv6.reassembled.length")
        return ip6["ipv6.src"], ip6["ipv6.dst"], 40 + (
            whole if whole is not None else int(ip6["ipv6.plen"]))
    whole = reassembled(ip, "ip.reassembled.length")
    return ip["ip.src"], ip["ip.dst"], (
        int(ip["ip.hdr_len"]) + whole if whole is not None else int(ip["ip.len"]))


def direction(frame, layers):
    flags = frame.get("frame.packet_flags_tree", {}).get("frame.packet_flags_direction")
    if flags in ("0x00000001", "0x1", "1"):
        return "ingress"
    if flags in ("0x00000002", "0x2", "2"):
        return "egress"
    sll = layers.get("sll")
    if sll:
        return "egress" if as_list(sll)[-1].get("sll.pkttype") == "4" else "ingress"
    return "unknown"


def messages(packets, frame_of=None):
    """Every HTTP/1.x message tshark shows, in frame order: dicts of the row's fields and
    the pairing fields (request_in, stream)."""
    out = []
    for pkt, layers in subframes(packets):
        frame = layers["frame"]
        number = int(frame["frame.number"])
        number = frame_of[number - 1] if frame_of else number
        cut = int(frame["frame.cap_len"]) < int(frame["frame.len"])
        if not layers.get("tcp"):
            continue  # HTTP over something else tshark knows (not HTTP/1.x over TCP)
        tcp = as_list(layers["tcp"])[-1]
        for pdu in as_list(layers.get("http")):
            line, sl = start_line(pdu)
            if not sl:
                continue
            src, dst, ip_len = ends(layers)
            m = {"frame": number, "src": src, "dst": dst, "src_port": int(tcp["tcp.srcport"]),
                 "dst_port": int(tcp["tcp.dstport"]), "direction": direction(frame, layers),
                 "packet_len": ip_len, "truncated": "yes" if cut else "", "tunnel": "",
                 "stream": int(tcp["tcp.stream"]), "time": frame_time(frame)}
            names = as_list(pdu.get("http.request.line")) + as_list(pdu.get("http.response.line"))
            headers = []
            for h in names:
                name, _, value = h.rstrip("\r\n").partition(":")
                headers.append([canonical(name), value.strip(" \t")])
            m["headers"] = headers
            if "http.request.method" in sl:
                request_fields(m, sl, headers)
            else:
                response_fields(m, sl, headers)
            out.append(m)
    return out


def subframes(packets):
    """(packet, layers) of each packet; an 802.11 A-MSDU frame gives one per subframe, each
    with its own IP and TCP."""
    for pkt in packets:
        layers = pkt["_source"]["layers"]
        aggregate = layers.get("wlan_aggregate")
        if not aggregate:
            yield pkt, layers
            continue
        for sub in as_list(aggregate.get("wlan_aggregate.a_mdsu.subframe")):
            yield pkt, dict(sub, frame=layers["frame"])


def frame_time(frame):
    sec, _, frac = frame["frame.time_epoch"].partition(".")
    return int(sec) * 1000000000 + int((frac + "000000000")[:9])


def framing(headers):
    te = ",".join(v for n, v in headers if n == "Transfer-Encoding").lower()
    cl = [v for n, v in headers if n == "Content-Length"]
    length = int(cl[0]) if len(set(cl)) == 1 and cl[0].isdigit() else None
    return "chunked" in te, length


def request_fields(m, sl, headers):
    method, uri = sl["http.request.method"], sl.get("http.request.uri", "")
    chunked, length = framing(headers)
    host = [v for n, v in headers if n == "Host"]
    authority = uri if method == "CONNECT" else (
        urllib.parse.urlsplit(uri).netloc if "://" in uri else "")
    m.update(kind="request", method=method, uri=uri, uri_path=uri_path(method, uri),
             host=authority or (host[0] if host else ""), protocol=sl.get("http.request.version", ""),
             status_code=0, status="", content_length=-1 if chunked else length or 0)


def response_fields(m, sl, headers):
    code = int(sl["http.response.code"])
    phrase = sl.get("http.response.phrase", "")
    m.update(kind="response", method="", uri="", uri_path="", host="",
             protocol=sl.get("http.response.version", ""), status_code=code,
             status=f"{code} {phrase}".strip(), chunked_length=framing(headers))


def final(m):
    return m["status_code"] >= 200 or m["status_code"] == 101


def finish(msgs):
    """Pairs the responses of each connection with its requests in order, as HTTP/1.x does
    (interim ones with the request they precede, without taking it), sets content_length of
    responses, then gives the exchanges."""
    waiting = collections.defaultdict(collections.deque)
    for m in msgs:
        if m["kind"] == "request":
            waiting[m["stream"]].append(m)
            continue
        queue = waiting[m["stream"]]
        m["req"] = queue[0] if queue else None
        if queue and final(m):
            queue.popleft()["answered"] = True
        chunked, length = m.pop("chunked_length")
        no_body = m["status_code"] < 200 or m["status_code"] in (204, 304)
        m["content_length"] = -1 if chunked else length if length is not None else (
            0 if no_body else -1)
    return exchanges(msgs)


def exchanges(msgs):
    depth, last_head, rows = {}, {}, []
    for m in msgs:
        last_head[m["stream"]] = m
        if m["kind"] == "request":
            depth[m["stream"]] = depth.get(m["stream"], 0) + 1
            m["depth"] = depth[m["stream"]]
    for m in msgs:
        if m["kind"] == "response" and final(m):
            rows.append(flow_row(m["frame"], m["req"], m))
    for m in msgs:
        if m["kind"] == "request" and not m.get("answered"):
            rows.append(flow_row(last_head[m["stream"]]["frame"], m, None))
    return rows


def flow_row(frame, req, resp):
    one = req or resp
    client = (one["src"], one["src_port"]) if req else (one["dst"], one["dst_port"])
    server = (one["dst"], one["dst_port"]) if req else (one["src"], one["src_port"])
    return {"frame": frame, "method": req["method"] if req else "",
            "uri_path": req["uri_path"] if req else "",
            "status_code": resp["status_code"] if resp else "",
            "trans_depth": req["depth"] if req else 0, "client": client[0],
            "client_port": client[1], "server": server[0], "server_port": server[1],
            "latency_ns": resp["time"] - req["time"] if req and resp else 0}


def networks(packets):
    """[(read filter, frame numbers)] of the networks a capture holds, when several could
    reuse addresses: VLANs (the outermost tag of each packet), else 802.11 BSSIDs. tshark
    would take their connections for one; httpeek keeps them apart."""
    def split(key):
        parts = collections.defaultdict(list)
        for pkt in packets:
            layers = pkt["_source"]["layers"]
            field = "vlan.id" if key == "vlan" else "wlan.bssid"
            tag = as_list(layers.get(key))[:1]
            if tag and field in tag[0]:
                parts[tag[0][field]].append(int(layers["frame"]["frame.number"]))
        return parts
    vlans, bssids = split("vlan"), split("wlan")
    if len(vlans) >= 2:
        return [(f"vlan.id == {v}", vlans[v]) for v in sorted(vlans, key=int)]
    if len(bssids) >= 2:
        return [(f"wlan.bssid == {b}", bssids[b]) for b in sorted(bssids)]
    return []


def derive_capture(path):
    """(message rows, exchange rows) of one capture, tshark's reading alone."""
    packets = tshark(path)
    parts = networks(packets)
    if not parts:
        msgs = messages(packets)
        return msgs, finish(msgs)
    rows, flows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (read_filter, numbers) in enumerate(parts):
            part = os.path.join(tmp, f"part{i}.pcapng")
            subprocess.run(["tshark", "-n", "-r", path, "-Y", read_filter, "-w", part],
                           check=True, capture_output=True)
            msgs = messages(tshark(part), numbers)
            rows += msgs
            flows += finish(msgs)
    return rows, flows


def cell(v):
    if isinstance(v, list):
        return json.dumps(v, ensure_ascii=False) if v else "-"
    return "-" if v == "" or v is None else str(v)


def as_lines(name, rows, columns):
    return ["\t".join([name] + [cell(r[c]) for c in columns]) for r in rows]


def read_differs():
    """tshark-differs.tsv: {capture: [(table, action, line)]}, each with its reason."""
    out, why = collections.defaultdict(list), ""
    with open(os.path.join(HERE, "tshark-differs.tsv"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("# why: "):
                why = line[7:]
            elif line and not line.startswith("#"):
                table, action, rest = line.split("\t", 2)
                if table not in ("messages", "exchanges") or action not in ("add", "drop") \
                        or not why:
                    raise SystemExit(f"tshark-differs.tsv:{n}: want TABLE ACTION ROW after "
                                     f"a '# why: ' line")
                out[rest.split("\t", 1)[0]].append((table, action, rest, why))
    return out


def apply_differs(name, tables, differs):
    """tables {"messages": [line], "exchanges": [line]} with the corrections applied; a drop
    that matches no derived row is an error (tshark changed, or the row did)."""
    problems = []
    for table, action, line, why in differs.get(name, []):
        if action == "add":
            tables[table].append(line)
        elif line in tables[table]:
            tables[table].remove(line)
        else:
            problems.append(f"tshark-differs.tsv drops a {table} row tshark no longer gives: "
                            f"{line[:160]}")
    return problems


def capture_files():
    out = {}
    for f in sorted(os.listdir(CAPTURES)):
        stem, ext = os.path.splitext(f)
        if ext in (".pcap", ".pcapng"):
            out[stem] = os.path.join(CAPTURES, f)
    return out


def derive_tables(name, path):
    msgs, flows = derive_capture(path)
    return {"messages": as_lines(name, msgs, MSG_COLUMNS),
            "exchanges": as_lines(name, flows, FLOW_COLUMNS)}


def cache_key(files):
    """What the derivation depends on: tshark's version, this file, the corrections, the
    captures' bytes."""
    h = hashlib.sha256(subprocess.run(["tshark", "--version"], capture_output=True).stdout)
    for path in [__file__, os.path.join(HERE, "tshark-differs.tsv")] + sorted(files.values()):
        h.update(path.encode() + open(path, "rb").read())
    return h.hexdigest()


def derive(names=None):
    """{capture: {"messages": [line], "exchanges": [line]}}, and problems. tshark reads the
    captures four at a time; the result is kept in build/golden-derived.json for the same
    inputs (cache_key()), so the second run of make check's offline group reuses it."""
    files = {n: p for n, p in capture_files().items() if not names or n in names}
    cache = os.path.join(ROOT, "build", "golden-derived.json")
    key = cache_key(files)
    try:
        with open(cache) as f:
            kept = json.load(f)
        if kept["key"] == key:
            return kept["derived"], kept["problems"]
    except (OSError, ValueError, KeyError):
        pass
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        tables = dict(zip(files, pool.map(derive_tables, files, files.values())))
    differs, problems = read_differs(), []
    for name in files:
        problems += apply_differs(name, tables[name], differs)
    if os.path.isdir(os.path.dirname(cache)):
        with open(cache + ".tmp", "w") as f:
            json.dump({"key": key, "derived": tables, "problems": problems}, f)
        os.replace(cache + ".tmp", cache)
    return tables, problems


TABLES = {"messages": ("expected.tsv", MSG_COLUMNS), "exchanges": ("expected-flows.tsv",
                                                                    FLOW_COLUMNS)}


def committed(table):
    """(comment lines, {capture: [line]}) of a committed table."""
    path, columns = TABLES[table]
    head, rows = [], collections.defaultdict(list)
    with open(os.path.join(HERE, path), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#") or not line:
                head.append(line) if not rows else None
            elif line.split("\t")[0] != "capture":
                rows[line.split("\t")[0]].append(line)
    return head, rows


def differences(derived):
    """Lines of what the committed tables hold that the derivation does not, and back."""
    out = {}
    for table in TABLES:
        _, rows = committed(table)
        for name in sorted(set(rows) | set(derived)):
            want = collections.Counter(derived.get(name, {}).get(table, []))
            have = collections.Counter(rows.get(name, []))
            if want != have:
                out.setdefault(name, []).extend(
                    [f"{table}: derived, not committed: {l[:200]}" for l in want - have] +
                    [f"{table}: committed, not derived: {l[:200]}" for l in have - want])
    return out


def write(derived):
    for table, (path, columns) in TABLES.items():
        head, _ = committed(table)
        with open(os.path.join(HERE, path), "w", encoding="utf-8") as f:
            for line in head:
                f.write(line + "\n")
            f.write("\t".join(["capture"] + columns) + "\n")
            for name in sorted(derived):
                for line in derived[name][table]:
                    f.write(line + "\n")


def main(argv):
    if argv[:1] == ["--show"]:
        derived, problems = derive(set(argv[1:]))
        for name, tables in derived.items():
            for table, lines in tables.items():
                print(f"# {table}")
                print("\n".join(lines))
        print("\n".join(problems), file=sys.stderr)
        return 1 if problems else 0
    derived, problems = derive()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if argv[:1] == ["--write"]:
        write(derived)
        return 0
    diff = differences(derived)
    for name, lines in diff.items():
        print(f"{name}:")
        print("\n".join("  " + l for l in lines))
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
