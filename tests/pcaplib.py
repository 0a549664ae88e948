"""Builds test captures: TCP segments in IPv4 or IPv6, optionally in Ethernet, written to pcap
files. Shared by the python tests that write captures (tests/offline/filters/make_capture.py,
tests/offline/hostile/make_hostile.py)."""
import socket
import struct

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101  # the packet starts with its IP header
ETH_SRC = b"\x02\x00\x00\x00\x00\x01"
ETH_DST = b"\x02\x00\x00\x00\x00\x02"


def checksum(data):
    """The Internet checksum of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def address(addr):
    """An address as bytes (4 or 16) from its text or its bytes."""
    if isinstance(addr, bytes):
        return addr
    return socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)


def tcp_ip(src, dst, sport, dport, seq, ack, flags, payload=b""):
    """An IPv4 (with its header checksum) or IPv6 packet holding one TCP segment (no options,
    window 65535, checksum 0); src and dst as text or bytes, seq and ack taken mod 2^32."""
    s, d = address(src), address(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 65535, 0, 0) + payload
    if len(s) == 16:
        return struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, 64, s, d) + tcp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, s, d)
    return ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:] + tcp


def ethernet(packet):
    """An IP packet in an Ethernet frame, between two fixed addresses."""
    ethertype = 0x86DD if packet[0] >> 4 == 6 else 0x0800
    return ETH_DST + ETH_SRC + struct.pack("!H", ethertype) + packet


class PcapWriter:
    """Writes a pcap file (microsecond time stamps) to the binary file object f."""

    def __init__(self, f, linktype=LINKTYPE_RAW, snaplen=262144):
        self.f = f
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))

    def packet(self, ts, data, caplen=None, wirelen=None):
        """One record at ts (seconds); caplen and wirelen default to len(data)."""
        sec = int(ts)
        caplen = len(data) if caplen is None else caplen
        wirelen = len(data) if wirelen is None else wirelen
        self.f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), caplen, wirelen) +
                     data[:caplen])

    def raw(self, data):
        """Bytes as they are, for broken records."""
        self.f.write(data)


def read_pcap(path):
    """(link type, [(time in ns, bytes)]) of a pcap file (microsecond or nanosecond stamps,
    either byte order)."""
    data = open(path, "rb").read()
    for endian in "<>":
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise ValueError(f"{path}: not a pcap file")
    scale = 1000 if magic == 0xA1B2C3D4 else 1
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        out.append((sec * 1000000000 + frac * scale, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return linktype, out


def read_pcapng(path):
    """[(link type, time in ns, bytes)] of the Enhanced Packet Blocks of a little-endian
    pcapng file, by their interface's link type and time stamp resolution."""
    data = open(path, "rb").read()
    out, ifaces, off = [], [], 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        body = data[off + 8:off + blen - 4]
        if btype == 0x0A0D0D0A:
            ifaces = []
        elif btype == 1:
            ifaces.append((struct.unpack_from("<H", body)[0], tsresol(body)))
        elif btype == 6:
            ifid, hi, lo, caplen = struct.unpack_from("<IIII", body)
            linktype, units = ifaces[ifid]
            out.append((linktype, ((hi << 32) | lo) * 1000000000 // units,
                        body[20:20 + caplen]))
        off += blen
    return out


def tsresol(idb):
    """Time stamp units per second of a pcapng interface (the body of its block)."""
    off = 8
    while off + 4 <= len(idb):
        code, olen = struct.unpack_from("<HH", idb, off)
        if code == 0:
            break
        if code == 9:
            v = idb[off + 4]
            return 2 ** (v & 0x7F) if v & 0x80 else 10 ** v
        off += 4 + (olen + 3) // 4 * 4
    return 1000000
