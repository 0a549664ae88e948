#!/usr/bin/python3
"""Makes the offline test captures of Wi-Fi and of IP fragments, with scapy, from the recordings
of scripts/record-captures.sh (real curl and nginx, in tests/captures/).

Each recorded frame is carried the way a Wi-Fi capture or a fragmenting path carries it:
802.11 data frames under link types 105 (802.11), 127 (radiotap) and 192 (PPI), and inside
Aruba's GRE (0x8200, 0x8210), with the QoS, HT control, A-MSDU and four-address variants,
management, control and null frames between them, and protected (encrypted) frames; IPv4 and
IPv6 packets cut into fragments sent in order, out of order, duplicated, overlapping, inside
tunnels, or with one lost. tests/offline/oracle/check_tshark.py checks httpeek's messages against
tshark's on every one, and makes them again to check that the committed files are these.

Run with Debian's python3 (python3-scapy): /usr/bin/python3 scripts/make-captures-scapy.py
Usage: make-captures-scapy.py [OUTDIR [NAME...]]   (default: tests/captures, every capture)
       make-captures-scapy.py --frames NAME       (source frame -> frame completing it)
"""

import hashlib
import os
import sys

from scapy.all import (GRE, IP, LLC, SNAP, TCP, UDP, Dot11, Dot11Beacon, Dot11Elt, Dot11FCS,
                       Dot11QoS, Ether, IPv6, IPv6ExtHdrFragment, PcapWriter, RadioTap, Raw,
                       rdpcap)
from scapy.contrib.ppi_cace import PPI_Dot11Common
from scapy.layers.ppi import PPI, PPI_Hdr

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(os.path.dirname(HERE), "tests", "captures")

LINK_ETHER, LINK_802_11, LINK_RADIOTAP, LINK_PPI = 1, 105, 127, 192
BSSID = "02:00:00:00:a9:01"          # the access point
BSSID_2 = "02:00:00:00:a9:02"        # another network's
WDS_A, WDS_B = "02:00:00:00:d5:01", "02:00:00:00:d5:02"  # two bridging access points
CONTROLLER = "192.0.2.30"            # where Aruba's access points tunnel to
AP_IP = "192.0.2.31"
TUNNEL_A, TUNNEL_B = "192.0.2.1", "192.0.2.2"
NS = 1000000000


class Capture:
    """Frames being written: (time in ns, bytes), and for each source frame the output frame
    that completes what it carried (for the golden rows)."""

    def __init__(self, linktype):
        self.linktype = linktype
        self.frames = []
        self.completes = {}

    def add(self, ns, frame, source=None):
        self.frames.append((ns, bytes(frame)))
        if source is not None:
            self.completes[source] = len(self.frames)

    def write(self, path):
        w = PcapWriter(path, linktype=self.linktype, nano=True, sync=True)
        w.write_header(None)
        for ns, data in self.frames:
            w.write_packet(data, sec=ns // NS, usec=ns % NS)
        w.close()
        print("make-captures-scapy: %s" % path)


def source(name):
    """The frames of tests/captures/NAME.pcap: (time in ns, Ether packet, sent by the client)."""
    pkts = rdpcap(os.path.join(CAPTURES, name + ".pcap"))
    client = pkts[0][Ether].src   # the recordings start with the client's SYN
    return [(int(p.time * NS), p[Ether], p[Ether].src == client) for p in pkts]


def carries_data(eth):
    return len(eth[TCP].payload) > 0


def snap(eth):
    """LLC/SNAP (RFC 1042) and the Ethernet frame's payload."""
    return LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=eth.type) / eth.payload


def data_frame(eth, up, i, qos=False, bssid=BSSID, fcs=False, order=False, amsdu=False):
    """An 802.11 data frame for eth: to the distribution system from the client (up), from it
    to the client otherwise; QoS data when qos, with HT control (order), an A-MSDU when amsdu."""
    cls = Dot11FCS if fcs else Dot11
    flags = ("to-DS" if up else "from-DS") + ("+order" if order else "")
    addrs = ((bssid, eth.src, eth.dst) if up else (eth.dst, bssid, eth.src))
    hdr = cls(type=2, subtype=8 if qos else 0, FCfield=flags, addr1=addrs[0],
              addr2=addrs[1], addr3=addrs[2], SC=(i & 0xfff) << 4)
    if qos:
        hdr = hdr / Dot11QoS(TID=0, A_MSDU_Present=int(amsdu))
    if order:
        hdr = hdr / Raw(b"\x00\x00\x00\x00")  # HT control, all zero
    return hdr


def amsdu_subframe(eth, last):
    """One A-MSDU subframe: destination, source, length, the MSDU, padding to 4 bytes."""
    msdu = bytes(snap(eth))
    sub = bytes.fromhex(eth.dst.replace(":", "")) + bytes.fromhex(eth.src.replace(":", "")) + \
        len(msdu).to_bytes(2, "big") + msdu
    return sub if last else sub + b"\0" * (-len(sub) % 4)


def beacon(bssid):
    return Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=bssid, addr3=bssid) / \
        Dot11Beacon(cap="ESS") / Dot11Elt(ID=0, info=b"httpeek-test")


def not_traffic(client, bssid):
    """A beacon, an ACK, an RTS, a null frame and a QoS null frame: nothing to decode."""
    return [beacon(bssid),
            Dot11(type=1, subtype=13, addr1=client),
            Dot11(type=1, subtype=11, addr1=bssid, addr2=client),
            Dot11(type=2, subtype=4, FCfield="to-DS", addr1=bssid, addr2=client, addr3=bssid),
            Dot11(type=2, subtype=12, FCfield="to-DS", addr1=bssid, addr2=client,
                  addr3=bssid) / Dot11QoS()]


def case_wifi_data(name):
    # link type 105: plain data frames, management, control and null frames first
    src = source("get")
    cap = Capture(LINK_802_11)
    for k, f in enumerate(not_traffic(src[0][1].src, BSSID)):
        cap.add(src[0][0] - 1000 * (5 - k), f)
    for i, (ns, eth, up) in enumerate(src, 1):
        cap.add(ns, data_frame(eth, up, i) / snap(eth), i)
    return cap


def radiotap(flags):
    return RadioTap(present="TSFT+Flags+Rate+Channel+dBm_AntSignal", mac_timestamp=1000,
                    Flags=flags, Rate=108, ChannelFrequency=5180, ChannelFlags="5GHz+OFDM",
                    dBm_AntSignal=-42)


def case_wifi_radiotap(name):
    # link type 127: QoS data frames with their FCS, headers padded to 32 bits (radiotap's
    # pad flag), HT control on the access point's frames
    cap = Capture(LINK_RADIOTAP)
    for i, (ns, eth, up) in enumerate(source("keepalive"), 1):
        frame = data_frame(eth, up, i, qos=True, fcs=True, order=not up)
        pad = b"\0\0"  # 26 (QoS) or 30 (HT control) bytes of header: padded to 28 and 32
        cap.add(ns, radiotap("FCS+pad") / frame / Raw(pad) / snap(eth), i)
    return cap


def case_wifi_ppi(name):
    # link type 192: PPI with 802.11-Common (FCS present), four-address frames between two
    # access points that bridge the client's network to the server's
    cap = Capture(LINK_PPI)
    for i, (ns, eth, up) in enumerate(source("post"), 1):
        ra, ta = (WDS_B, WDS_A) if up else (WDS_A, WDS_B)
        frame = Dot11FCS(type=2, subtype=8, FCfield="to-DS+from-DS", addr1=ra, addr2=ta,
                         addr3=eth.dst, addr4=eth.src, SC=i << 4) / Dot11QoS(TID=5)
        common = PPI_Hdr(pfh_type=2) / PPI_Dot11Common(Pkt_Flags=1, Ch_Freq=2437,
                                                        Ch_Flags=0x00c0)
        ppi = PPI(dlt=LINK_802_11, headers=[common])
        cap.add(ns, ppi / frame / snap(eth), i)
    return cap


def case_wifi_amsdu(name):
    # radiotap without FCS, every data frame an A-MSDU: the access point's three responses
    # (frames 6, 8 and 10 of the recording) in one, sent when the first was due, the client's
    # acknowledgments after it
    src = source("pipelined")
    cap = Capture(LINK_RADIOTAP)
    for i, (ns, eth, up) in enumerate(src, 1):
        if i in (8, 10):
            continue
        group = [src[k - 1][1] for k in (6, 8, 10)] if i == 6 else [eth]
        subs = b"".join(amsdu_subframe(e, k == len(group) - 1) for k, e in enumerate(group))
        cap.add(ns, radiotap(0) / data_frame(eth, up, i, qos=True, amsdu=True) / Raw(subs), i)
    cap.completes[8] = cap.completes[10] = cap.completes[6]
    return cap


def encrypted(eth):
    """What a CCMP-protected frame carries instead of eth's payload: a CCMP header, bytes no
    one can read (derived from the plaintext's length only), a MIC."""
    n = len(bytes(snap(eth)))
    stream = b"".join(hashlib.sha256(b"%d:%d" % (n, k)).digest() for k in range(n // 32 + 1))
    return bytes.fromhex("0100002000000000") + stream[:n] + bytes(8)


def case_wifi_protected(name):
    # WPA2 (CCMP) data frames: counted as 802.11 protected, not looked into
    cap = Capture(LINK_802_11)
    for i, (ns, eth, up) in enumerate(source("get"), 1):
        frame = data_frame(eth, up, i, qos=True)
        frame.FCfield |= 0x40
        cap.add(ns, frame / Raw(encrypted(eth)))
    return cap


def case_wifi_bssid(name):
    # one 4-tuple in two wireless networks: get through BSSID_1, notmodified through BSSID_2,
    # the client port of both made 40001, their frames taken in turn: two connections
    convs = []
    for bssid, name_ in ((BSSID, "get"), (BSSID_2, "notmodified")):
        convs.append([(ns, eth, up, bssid) for ns, eth, up in source(name_)])
    cap = Capture(LINK_802_11)
    n = 0
    while any(convs):
        for k, conv in enumerate(convs):
            if not conv:
                continue
            _, eth, up, bssid = conv.pop(0)
            eth = eth.copy()
            if up:
                eth[TCP].sport = 40001
            else:
                eth[TCP].dport = 40001
            del eth[TCP].chksum
            n += 1
            cap.add(1700000000 * NS + 1000 * n, data_frame(eth, up, n, bssid=bssid) /
                    snap(eth))
    return cap


def case_aruba_gre(name):
    # an Aruba controller's view: the access point's 802.11 frames in GRE, protocol 0x8200
    # from the client, 0x8210 to it
    cap = Capture(LINK_ETHER)
    for i, (ns, eth, up) in enumerate(source("get"), 1):
        wifi = data_frame(eth, up, i, qos=True) / snap(eth)
        outer = IP(src=AP_IP, dst=CONTROLLER, id=i, flags="DF", proto=47) / \
            GRE(proto=0x8200 if up else 0x8210) / Raw(bytes(wifi))
        cap.add(ns, Ether(src="02:00:00:00:c0:31", dst="02:00:00:00:c0:30") / outer, i)
    return cap


def frag4(ip, off, chunk, more):
    """The fragment of ip (a scapy IP packet) holding chunk at byte off of its payload."""
    hdr = ip.copy()
    hdr.remove_payload()
    hdr.flags = "MF" if more else 0
    hdr.frag, hdr.len, hdr.chksum = off // 8, None, None
    return hdr / Raw(chunk)


def frags4(ip, size, order=None):
    """ip cut into fragments of size bytes of its payload, taken in order (indexes into the
    fragments, each once or more): [IP]."""
    data = bytes(ip.payload)
    offs = range(0, len(data), size)
    return [frag4(ip, offs[k], data[offs[k]:offs[k] + size], offs[k] + size < len(data))
            for k in (order or range(len(offs)))]


def frags6(ip6, size, order=None, ident=1):
    """ip6 (a scapy IPv6 packet) cut into fragments of size bytes after a fragment header."""
    data = bytes(ip6.payload)
    pieces = [(off, data[off:off + size]) for off in range(0, len(data), size)]
    out = []
    for k in (order or range(len(pieces))):
        off, chunk = pieces[k]
        hdr = IPv6(src=ip6.src, dst=ip6.dst, hlim=ip6.hlim, tc=ip6.tc, fl=ip6.fl)
        fh = IPv6ExtHdrFragment(nh=ip6.nh, offset=off // 8, m=int(off + size < len(data)),
                                id=ident)
        out.append(hdr / fh / Raw(chunk))
    return out


def add_fragmented(cap, i, ns, eth, frags, completing):
    """Fragments of source frame i as Ethernet frames 100 ns apart; completing: which of them
    (index) completes the datagram."""
    for k, f in enumerate(frags):
        cap.add(ns + 100 * k, Ether(src=eth.src, dst=eth.dst) / f,
                i if k == completing else None)


def case_frag_ip4(name):
    # the post recording with every packet that carries bytes cut into 64-byte fragments,
    # in order
    cap = Capture(LINK_ETHER)
    for i, (ns, eth, up) in enumerate(source("post"), 1):
        if not carries_data(eth):
            cap.add(ns, eth, i)
            continue
        fr = frags4(eth[IP], 64)
        add_fragmented(cap, i, ns, eth, fr, len(fr) - 1)
    return cap


def case_frag_ip4_reorder(name):
    # keepalive with its requests and responses cut into 48-byte fragments sent last first,
    # the second-to-last one twice (once before and once after the rest)
    cap = Capture(LINK_ETHER)
    for i, (ns, eth, up) in enumerate(source("keepalive"), 1):
        if not carries_data(eth):
            cap.add(ns, eth, i)
            continue
        n = (len(eth[IP].payload) + 47) // 48
        order = [n - 2] + list(range(n - 1, -1, -1))
        add_fragmented(cap, i, ns, eth, frags4(eth[IP], 48, order), len(order) - 1)
    return cap


def case_frag_overlap(name):
    # get's request in fragments that overlap, as evasions do: a first fragment of 16 bytes
    # (the TCP header cut in two); bytes 32-47 ("GET /index.html ") sent, then sent again
    # from the same offset as "GET /index.evil"; then bytes 24-39 again, their last 8 bytes
    # "GET /bad": it starts lower than the fragment holding those bytes, so it wins them (BSD,
    # as tshark and Suricata reassemble): the request reads "GET /badex.html"
    cap = Capture(LINK_ETHER)
    for i, (ns, eth, up) in enumerate(source("get"), 1):
        if i != 4:
            cap.add(ns, eth, i)
            continue
        ip = eth[IP]
        seg = bytes(ip.payload)   # 32 bytes of TCP header, then "GET /index.html HTTP/1.1"
        frags = [(0, seg[0:16]), (16, seg[16:32]), (32, seg[32:48]), (32, b"GET /index.evil "),
                 (24, seg[24:32] + b"GET /bad"), (48, seg[48:])]
        fr = [frag4(ip, off, chunk, k < len(frags) - 1) for k, (off, chunk) in enumerate(frags)]
        add_fragmented(cap, i, ns, eth, fr, len(fr) - 1)
    return cap


def case_frag_ip6(name):
    # the ipv6 recording with its request and response in fragments of 56 bytes, the second
    # and third swapped, the first sent again between them
    cap = Capture(LINK_ETHER)
    for i, (ns, eth, up) in enumerate(source("ipv6"), 1):
        ip6 = eth[IPv6]
        if not carries_data(eth):
            cap.add(ns, eth, i)
            continue
        n = (len(ip6.payload) + 55) // 56
        order = [0, 2, 0, 1] + list(range(3, n))
        add_fragmented(cap, i, ns, eth, frags6(ip6, 56, order, ident=0x1000 + i),
                       len(order) - 1)
    return cap


def gtpu(ip_bytes, teid, i):
    """A GTP-U G-PDU with a sequence number around an IP packet."""
    return bytes([0x32, 0xff]) + (len(ip_bytes) + 4).to_bytes(2, "big") + \
        teid.to_bytes(4, "big") + i.to_bytes(2, "big") + b"\0\0" + ip_bytes


def case_frag_gtpu(name):
    # fragments inside tunnels: the client's packets in GTP-U whose outer IPv4 packet is cut
    # in two (the inner packet whole), the server's inner packet cut in fragments inside
    # GTP-U packets that are whole
    cap = Capture(LINK_ETHER)
    for i, (ns, eth, up) in enumerate(source("get"), 1):
        inner = eth[IP]
        a, b = (TUNNEL_A, TUNNEL_B) if up else (TUNNEL_B, TUNNEL_A)
        mac = Ether(src=eth.src, dst=eth.dst)
        if up:
            outer = IP(src=a, dst=b, id=i, proto=17) / UDP(sport=2152, dport=2152) / \
                Raw(gtpu(bytes(inner), 0x1001, i))
            outer = IP(bytes(outer))
            fr = frags4(outer, 96) if carries_data(eth) else [outer]
            add_fragmented(cap, i, ns, mac, fr, len(fr) - 1)
            continue
        parts = frags4(inner, 64) if carries_data(eth) else [inner]
        for k, p in enumerate(parts):
            outer = IP(src=a, dst=b, id=100 + 10 * i + k, proto=17) / \
                UDP(sport=2152, dport=2152) / Raw(gtpu(bytes(p), 0x2002, i))
            cap.add(ns + 100 * k, mac / outer, i if k == len(parts) - 1 else None)
    return cap


def case_frag_incomplete(name):
    # get with the request's second fragment lost: the request never completes (counted),
    # the response is reported
    cap = Capture(LINK_ETHER)
    for i, (ns, eth, up) in enumerate(source("get"), 1):
        if i != 4:
            cap.add(ns, eth, i)
            continue
        fr = frags4(eth[IP], 48)
        add_fragmented(cap, i, ns, eth, fr[:1] + fr[2:], None)
    return cap


CASES = {
    "wifi-data": case_wifi_data,
    "wifi-radiotap": case_wifi_radiotap,
    "wifi-ppi": case_wifi_ppi,
    "wifi-amsdu": case_wifi_amsdu,
    "wifi-protected": case_wifi_protected,
    "wifi-bssid": case_wifi_bssid,
    "aruba-gre": case_aruba_gre,
    "frag-ip4": case_frag_ip4,
    "frag-ip4-reorder": case_frag_ip4_reorder,
    "frag-overlap": case_frag_overlap,
    "frag-ip6": case_frag_ip6,
    "frag-gtpu": case_frag_gtpu,
    "frag-incomplete": case_frag_incomplete,
}


def main(argv):
    if len(argv) == 3 and argv[1] == "--frames":
        for src, out in sorted(CASES[argv[2]](argv[2]).completes.items()):
            print("%d\t%d" % (src, out))
        return 0
    out = argv[1] if len(argv) > 1 else CAPTURES
    names = argv[2:] or sorted(CASES)
    for name in names:
        if name not in CASES:
            raise SystemExit("make-captures-scapy: no case %r (cases: %s)"
                             % (name, " ".join(CASES)))
        CASES[name](name).write(os.path.join(out, name + ".pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
