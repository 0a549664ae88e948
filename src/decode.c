// SPDX-License-Identifier: GPL-2.0
/*
 * Decoder: link header -> IPv4/IPv6 -> TCP. Every read is checked against the captured
 * length first; offsets are compared as remaining lengths so nothing computes p + len past
 * the end of the buffer.
 */
#include <string.h>
#include <pcap/dlt.h>
#include "decode.h"

#define LINK_RAW_A 12       /* DLT_RAW on most systems */
#define LINK_RAW_B 14       /* DLT_RAW on BSD/OS */
#define LINKTYPE_RAW 101    /* the file value; libpcap maps it to DLT_RAW */
#define LINK_SLL2 276       /* DLT_LINUX_SLL2, missing from older headers */

#define ETH_IP 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define VLAN_MAX_DEPTH 8
#define IP6_MAX_EXT 8

#define IP_PROTO_TCP 6
#define NFULA_PACKET_HDR 1
#define NFULA_PAYLOAD 9
#define NF_HOOK_LOCAL_IN 1
#define NF_HOOK_LOCAL_OUT 3

/* Where the network packet is inside pkt->data, filled by the link layer and refined by IP. */
struct net {
	uint32_t off;       /* start of the current header */
	uint32_t cap_end;   /* end of this packet's bytes present in the capture */
	uint64_t wire_end;  /* end of this packet as sent (>= cap_end) */
	uint16_t ethertype;
	uint8_t proto;      /* IP protocol of the header at off, after the IP layer */
	enum direction dir;
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t he16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* True when at least need bytes are present at n->off. */
static int have(const struct net *n, uint32_t need)
{
	return n->off <= n->cap_end && n->cap_end - n->off >= need;
}

static int skip(struct net *n, uint32_t len)
{
	if (!have(n, len))
		return DECODE_MALFORMED;
	n->off += len;
	return 0;
}

/* Skips 802.1Q / 802.1ad tags; n->ethertype is the type field just read, n->off after it. */
static int skip_vlan(const uint8_t *d, struct net *n)
{
	int depth;

	for (depth = 0;; depth++) {
		if (n->ethertype != ETH_VLAN && n->ethertype != ETH_QINQ &&
		    n->ethertype != ETH_QINQ_OLD)
			return 0;
		if (depth == VLAN_MAX_DEPTH || !have(n, 4))
			return DECODE_MALFORMED;
		n->ethertype = be16(d + n->off + 2);
		n->off += 4;
	}
}

static int link_ether(const uint8_t *d, struct net *n)
{
	if (!have(n, 14))
		return DECODE_MALFORMED;
	n->ethertype = be16(d + 12);
	n->off = 14;
	return skip_vlan(d, n);
}

static enum direction sll_dir(unsigned int pkttype)
{
	if (pkttype <= 3)  /* host, broadcast, multicast, other host */
		return DIR_INGRESS;
	if (pkttype == 4)  /* outgoing */
		return DIR_EGRESS;
	return DIR_UNKNOWN;
}

static int link_sll(const uint8_t *d, struct net *n)
{
	if (!have(n, 16))
		return DECODE_MALFORMED;
	n->dir = sll_dir(be16(d));
	n->ethertype = be16(d + 14);
	n->off = 16;
	return skip_vlan(d, n);
}

static int link_sll2(const uint8_t *d, struct net *n)
{
	if (!have(n, 20))
		return DECODE_MALFORMED;
	n->dir = sll_dir(d[10]);
	n->ethertype = be16(d);
	n->off = 20;
	return skip_vlan(d, n);
}

static int link_raw(const uint8_t *d, struct net *n)
{
	if (!have(n, 1))
		return DECODE_MALFORMED;
	switch (d[0] >> 4) {
	case 4:
		n->ethertype = ETH_IP;
		return 0;
	case 6:
		n->ethertype = ETH_IPV6;
		return 0;
	}
	return DECODE_MALFORMED;
}

/* BSD address families as DLT_NULL and DLT_LOOP carry them. */
static uint16_t bsd_family(uint32_t af)
{
	if (af == 2)
		return ETH_IP;
	if (af == 24 || af == 28 || af == 30)  /* NetBSD/OpenBSD, FreeBSD, Darwin */
		return ETH_IPV6;
	return 0;
}

static int link_null(const uint8_t *d, struct net *n, int network_order)
{
	uint32_t af;

	if (!have(n, 4))
		return DECODE_MALFORMED;
	af = network_order ? be32(d) : le32(d);
	if (!network_order && af > 0xffff)  /* written by a big-endian host */
		af = be32(d);
	n->ethertype = bsd_family(af);
	n->off = 4;
	return 0;
}

/* Reads the TLV at n->off (4 bytes present); the payload TLV ends the walk. */
static int nflog_tlv(const uint8_t *d, struct net *n, uint32_t len, uint16_t type)
{
	if (type == NFULA_PACKET_HDR && len >= 8 && have(n, 8)) {
		if (d[n->off + 6] == NF_HOOK_LOCAL_IN)
			n->dir = DIR_INGRESS;
		else if (d[n->off + 6] == NF_HOOK_LOCAL_OUT)
			n->dir = DIR_EGRESS;
	}
	if (type != NFULA_PAYLOAD)
		return 0;
	n->wire_end = (uint64_t)n->off + len;
	if (n->wire_end < n->cap_end)
		n->cap_end = (uint32_t)n->wire_end;
	n->off += 4;
	return 1;
}

/* nflog header (family, version, resource id), then TLVs with host-order lengths. */
static int link_nflog(const uint8_t *d, struct net *n)
{
	uint32_t len, step;
	int ret;

	if (!have(n, 4))
		return DECODE_MALFORMED;
	n->ethertype = d[0] == 2 ? ETH_IP : d[0] == 10 ? ETH_IPV6 : 0;
	n->off = 4;
	while (have(n, 4)) {
		len = he16(d + n->off);
		if (len < 4)
			return DECODE_MALFORMED;
		ret = nflog_tlv(d, n, len, he16(d + n->off + 2) & 0x3fff);
		if (ret)
			return 0;
		if (!have(n, len))
			return DECODE_MALFORMED;
		step = (len + 3) & ~3u;
		n->off += have(n, step) ? step : len;  /* the last TLV may lack its padding */
	}
	/* no payload: fine when the record is whole, cut short otherwise */
	return n->off == n->cap_end && n->wire_end == n->cap_end ? DECODE_NOT_TCP :
								    DECODE_MALFORMED;
}

static int decode_link(const struct packet *pkt, struct net *n)
{
	const uint8_t *d = pkt->data;

	switch (pkt->linktype) {
	case DLT_EN10MB:
		return link_ether(d, n);
	case DLT_LINUX_SLL:
		return link_sll(d, n);
	case LINK_SLL2:
		return link_sll2(d, n);
	case LINK_RAW_A:
	case LINK_RAW_B:
	case LINKTYPE_RAW:
		return link_raw(d, n);
	case DLT_IPV4:
		n->ethertype = ETH_IP;
		return 0;
	case DLT_IPV6:
		n->ethertype = ETH_IPV6;
		return 0;
	case DLT_NULL:
		return link_null(d, n, 0);
	case DLT_LOOP:
		return link_null(d, n, 1);
	case DLT_NFLOG:
		return link_nflog(d, n);
	}
	return DECODE_UNSUPPORTED_LINK;
}

/* Sets the end of the IP packet from its header; len 0 means the header cannot tell. */
static void ip_set_len(struct net *n, uint32_t len)
{
	uint64_t end;

	if (!len)
		return;
	end = (uint64_t)n->off + len;
	n->wire_end = end;
	if (end < n->cap_end)
		n->cap_end = (uint32_t)end;
}

static int decode_ip4(const uint8_t *d, struct net *n, struct segment *seg)
{
	const uint8_t *h;
	uint32_t hlen, total;
	uint16_t frag;

	if (!have(n, 20))
		return DECODE_MALFORMED;
	h = d + n->off;
	hlen = (h[0] & 0x0f) * 4u;
	total = be16(h + 2);
	if (h[0] >> 4 != 4 || hlen < 20 || (total && total < hlen) || !have(n, hlen))
		return DECODE_MALFORMED;
	seg->family = 4;
	memcpy(seg->src.addr, h + 12, 4);
	memcpy(seg->dst.addr, h + 16, 4);
	n->proto = h[9];
	frag = be16(h + 6);
	if (frag & 0x3fff)  /* MF or a non-zero offset */
		return n->proto == IP_PROTO_TCP ? DECODE_FRAGMENT : DECODE_NOT_TCP;
	ip_set_len(n, total);
	n->off += hlen;
	return 0;
}

static int ip6_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51;
}

/* Steps over the extension header at n->off whose type is n->proto. */
static int ip6_ext(const uint8_t *d, struct net *n)
{
	const uint8_t *h;
	uint32_t len;
	uint16_t frag;

	if (!have(n, 8))
		return DECODE_MALFORMED;
	h = d + n->off;
	if (n->proto == 44) {
		frag = be16(h + 2);
		n->proto = h[0];
		if (!(frag & 0xfff9))  /* offset and M clear (bits 1-2 reserved): atomic */
			return skip(n, 8);
		if (n->proto == IP_PROTO_TCP || ip6_is_ext(n->proto))
			return DECODE_FRAGMENT;
		return DECODE_NOT_TCP;
	}
	len = n->proto == 51 ? (h[1] + 2) * 4u : (h[1] + 1) * 8u;
	n->proto = h[0];
	return skip(n, len);
}

static void ip6_unmap(struct segment *seg)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (memcmp(seg->src.addr, mapped, 12) || memcmp(seg->dst.addr, mapped, 12))
		return;
	memmove(seg->src.addr, seg->src.addr + 12, 4);
	memset(seg->src.addr + 4, 0, 12);
	memmove(seg->dst.addr, seg->dst.addr + 12, 4);
	memset(seg->dst.addr + 4, 0, 12);
	seg->family = 4;
}

static int decode_ip6(const uint8_t *d, struct net *n, struct segment *seg)
{
	const uint8_t *h;
	int i, ret;

	if (!have(n, 40))
		return DECODE_MALFORMED;
	h = d + n->off;
	if (h[0] >> 4 != 6)
		return DECODE_MALFORMED;
	seg->family = 6;
	memcpy(seg->src.addr, h + 8, 16);
	memcpy(seg->dst.addr, h + 24, 16);
	ip6_unmap(seg);
	n->proto = h[6];
	ip_set_len(n, be16(h + 4) ? 40u + be16(h + 4) : 0);
	n->off += 40;
	for (i = 0; i < IP6_MAX_EXT && ip6_is_ext(n->proto); i++) {
		ret = ip6_ext(d, n);
		if (ret)
			return ret;
	}
	return ip6_is_ext(n->proto) ? DECODE_MALFORMED : 0;
}

static int decode_tcp(const uint8_t *d, struct net *n, struct segment *seg)
{
	const uint8_t *h;
	uint32_t hlen;

	if (!have(n, 20))
		return DECODE_MALFORMED;
	h = d + n->off;
	hlen = (h[12] >> 4) * 4u;
	if (hlen < 20 || !have(n, hlen))
		return DECODE_MALFORMED;
	seg->src.port = be16(h);
	seg->dst.port = be16(h + 2);
	seg->seq = be32(h + 4);
	seg->ack = be32(h + 8);
	seg->tcp_flags = h[13];
	n->off += hlen;
	seg->payload = d + n->off;
	seg->payload_len = n->cap_end - n->off;
	if (n->wire_end - n->off > UINT32_MAX)
		return DECODE_MALFORMED;
	seg->seg_len = (uint32_t)(n->wire_end - n->off);
	return DECODE_TCP;
}

/* A live copy of part of a packet's payload: the segment becomes the part it stands for. */
static int apply_span(const struct packet *pkt, struct segment *seg)
{
	uint32_t off = pkt->payload_off, span = pkt->payload_span;

	if (!off && !span)
		return DECODE_TCP;
	if (off > seg->seg_len || span > seg->seg_len - off)
		return DECODE_MALFORMED;
	if (off)
		seg->tcp_flags &= ~TCP_SYN;
	if (span < seg->seg_len - off)
		seg->tcp_flags &= ~(TCP_FIN | TCP_RST);
	seg->seq += off;
	seg->seg_len = span;
	seg->boundary = pkt->flags & PACKET_BOUNDARY;
	seg->early = pkt->flags & PACKET_EARLY;
	if (seg->payload_len > span)
		seg->payload_len = span;
	return DECODE_TCP;
}

int decode_packet(const struct packet *pkt, struct segment *seg)
{
	struct net n = { .dir = DIR_UNKNOWN };
	uint32_t ip_off;
	int ret;

	memset(seg, 0, sizeof(*seg));
	if (!pkt->data && pkt->caplen)
		return DECODE_MALFORMED;
	n.cap_end = pkt->caplen;
	n.wire_end = pkt->wirelen > pkt->caplen ? pkt->wirelen : pkt->caplen;
	ret = decode_link(pkt, &n);
	if (ret)
		return ret;
	ip_off = n.off;
	if (n.ethertype == ETH_IP)
		ret = decode_ip4(pkt->data, &n, seg);
	else if (n.ethertype == ETH_IPV6)
		ret = decode_ip6(pkt->data, &n, seg);
	else
		return DECODE_NOT_TCP;
	if (ret)
		return ret;
	if (n.proto != IP_PROTO_TCP)
		return DECODE_NOT_TCP;
	ret = decode_tcp(pkt->data, &n, seg);
	if (ret)
		return ret;
	seg->ts_ns = pkt->ts_ns;
	seg->sock_cookie = pkt->sock_cookie;
	seg->dir = pkt->dir != DIR_UNKNOWN ? pkt->dir : n.dir;
	seg->ip_len = (uint32_t)(n.wire_end - ip_off);  /* at most 64 KiB past ip_off, or wirelen */
	seg->ifindex = pkt->ifindex;
	seg->tls = pkt->flags & PACKET_TLS;
	return apply_span(pkt, seg);
}

int decode_link_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case LINK_SLL2:
	case LINK_RAW_A:
	case LINK_RAW_B:
	case LINKTYPE_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_NFLOG:
		return 1;
	}
	return 0;
}
