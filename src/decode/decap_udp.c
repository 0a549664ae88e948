// SPDX-License-Identifier: GPL-2.0
/*
 * Tunnels in UDP, found by their well-known ports and checked by their headers: VXLAN
 * (4789, and Linux's old 8472), VXLAN-GPE (4790), Geneve (6081), GRE in UDP (4754), MPLS in
 * UDP (6635), GTP-U (2152), AYIYA (5072), Teredo (3544), L2TPv2 (1701). A header that does
 * not check out is taken for other UDP (not TCP, not counted).
 */
#include "decode/internal.h"

#define GTP_MAX_EXT 8

/* VXLAN: flags with I set, VNI; VXLAN-GPE (gpe) also names the next protocol. */
static int udp_vxlan(const uint8_t *d, struct decode_cursor *n, int gpe)
{
	static const uint16_t next[] = { 0, ETH_IP, ETH_IPV6, ETH_TEB, 0, ETH_MPLS };
	const uint8_t *h = d + n->off;

	if (!have(n, 8))
		return DECODE_MALFORMED;
	if (!(h[0] & 0x08))
		return DECODE_NOT_TCP;
	decap_zone_add(n, ZONE_VNI, be32(h + 4) >> 8);
	n->off += 8;
	n->ethertype = ETH_TEB;
	if (!gpe || !(h[0] & 0x04))
		return 0;
	if (h[3] >= sizeof(next) / sizeof(next[0]) || !next[h[3]])
		return undecoded(n, DECODE_KIND_TUNNEL, DECODE_TUNNEL_VXLAN_GPE << 16 | h[3]);
	n->ethertype = next[h[3]];
	return 0;
}

/* Geneve: version 0, options, a protocol type, VNI. */
static int udp_geneve(const uint8_t *d, struct decode_cursor *n)
{
	const uint8_t *h = d + n->off;
	uint16_t proto;

	if (!have(n, 8))
		return DECODE_MALFORMED;
	if (h[0] >> 6)
		return DECODE_NOT_TCP;
	proto = be16(h + 2);
	decap_zone_add(n, ZONE_VNI, be32(h + 4) >> 8);
	if (skip(n, 8 + (h[0] & 0x3f) * 4u))
		return DECODE_MALFORMED;
	if (proto != ETH_TEB && proto != ETH_IP && proto != ETH_IPV6)
		return undecoded(n, DECODE_KIND_TUNNEL, DECODE_TUNNEL_GENEVE << 16 | proto);
	n->ethertype = proto;
	return 0;
}

/* An IP packet whose version says which (GTP-U, AYIYA and Teredo payloads). */
static int ip_by_version(const uint8_t *d, struct decode_cursor *n, enum decode_tunnel t)
{
	if (!have(n, 1))
		return DECODE_MALFORMED;
	if (d[n->off] >> 4 == 4)
		n->ethertype = ETH_IP;
	else if (d[n->off] >> 4 == 6)
		n->ethertype = ETH_IPV6;
	else
		return undecoded(n, DECODE_KIND_TUNNEL, t << 16 | d[n->off] >> 4);
	return 0;
}

/* GTP-U version 1: G-PDUs (type 255) carry a user's IP packet, after optional fields. */
static int udp_gtpu(const uint8_t *d, struct decode_cursor *n)
{
	const uint8_t *h = d + n->off;
	uint8_t next;
	uint32_t len;
	int i;

	if (!have(n, 8))
		return DECODE_MALFORMED;
	if (h[0] >> 5 != 1 || !(h[0] & 0x10) || h[1] != 0xff)
		return DECODE_NOT_TCP;  /* GTP', or signalling (echo, error indication) */
	n->off += 8;
	net_set_end(n, be16(h + 2));
	if (h[0] & 0x07) {
		if (!have(n, 4))
			return DECODE_MALFORMED;
		next = d[n->off + 3];
		n->off += 4;
		for (i = 0; next; i++) {
			if (i == GTP_MAX_EXT || !have(n, 1))
				return DECODE_MALFORMED;
			len = d[n->off] * 4u;
			if (!len || !have(n, len))
				return DECODE_MALFORMED;
			next = d[n->off + len - 1];
			n->off += len;
		}
	}
	return ip_by_version(d, n, DECODE_TUNNEL_GTPU);
}

/* AYIYA: identity and signature lengths, opcode 1 (forward), the next header. */
static int udp_ayiya(const uint8_t *d, struct decode_cursor *n)
{
	const uint8_t *h = d + n->off;
	uint8_t nh;

	if (!have(n, 8))
		return DECODE_MALFORMED;
	if ((h[2] & 0x0f) != 1)
		return DECODE_NOT_TCP;
	nh = h[3];
	if (skip(n, 8 + (1u << (h[0] >> 4)) + (h[1] >> 4) * 4u))
		return DECODE_MALFORMED;
	if (nh != IP_PROTO_IPIP && nh != IP_PROTO_IPV6)
		return undecoded(n, DECODE_KIND_TUNNEL, DECODE_TUNNEL_AYIYA << 16 | nh);
	n->ethertype = nh == IP_PROTO_IPIP ? ETH_IP : ETH_IPV6;
	return 0;
}

/* Teredo: an optional authentication and origin indication, then IPv6. */
static int udp_teredo(const uint8_t *d, struct decode_cursor *n)
{
	if (!have(n, 2))
		return DECODE_MALFORMED;
	if (be16(d + n->off) == 1 &&
	    (!have(n, 4) || skip(n, 4 + d[n->off + 2] + d[n->off + 3] + 9u) || !have(n, 2)))
		return DECODE_MALFORMED;
	if (be16(d + n->off) == 0 && (skip(n, 8) || !have(n, 1)))
		return DECODE_MALFORMED;
	if (d[n->off] >> 4 != 6)
		return DECODE_NOT_TCP;
	n->ethertype = ETH_IPV6;
	return 0;
}

/* L2TPv2 data messages: optional length, tunnel and session ids, sequence, offset; PPP. */
static int udp_l2tp(const uint8_t *d, struct decode_cursor *n)
{
	uint16_t f;
	uint32_t len = 6;

	if (!have(n, 2))
		return DECODE_MALFORMED;
	f = be16(d + n->off);
	if (f & 0x8000)
		return DECODE_NOT_TCP;  /* a control message */
	if ((f & 0x0f) != 2)
		return undecoded(n, DECODE_KIND_TUNNEL, DECODE_TUNNEL_L2TP << 16 | (f & 0x0f));
	len += f & 0x4000 ? 2 : 0;
	len += f & 0x0800 ? 4 : 0;
	if (f & 0x0200) {
		if (!have(n, len + 2))
			return DECODE_MALFORMED;
		len += 2 + be16(d + n->off + len);
	}
	if (skip(n, len))
		return DECODE_MALFORMED;
	n->ethertype = ETH_PPP;
	return 0;
}

int decap_udp(const uint8_t *d, struct decode_cursor *n)
{
	uint16_t sport, dport, len;

	if (!have(n, 8))
		return DECODE_MALFORMED;
	sport = be16(d + n->off);
	dport = be16(d + n->off + 2);
	len = be16(d + n->off + 4);
	if (len >= 8)
		net_set_end(n, len);
	n->off += 8;
	if (dport == 4789 || dport == 8472)
		return udp_vxlan(d, n, 0);
	if (dport == 4790)
		return udp_vxlan(d, n, 1);
	if (dport == 6081)
		return udp_geneve(d, n);
	if (dport == 4754) {
		n->ethertype = ETH_GRE;
		return 0;
	}
	if (dport == 6635) {
		n->ethertype = ETH_MPLS;
		return 0;
	}
	if (dport == 2152 || sport == 2152)
		return udp_gtpu(d, n);
	if (dport == 5072 || sport == 5072)
		return udp_ayiya(d, n);
	if (dport == 3544 || sport == 3544)
		return udp_teredo(d, n);
	if (dport == 1701 || sport == 1701)
		return udp_l2tp(d, n);
	return DECODE_NOT_TCP;
}
