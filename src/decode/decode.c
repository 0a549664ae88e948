// SPDX-License-Identifier: GPL-2.0
/*
 * Decoder: link header -> [encapsulations] -> IPv4/IPv6 -> TCP. Every read is checked
 * against the captured length first; offsets are compared as remaining lengths so nothing
 * computes p + len past the end of the buffer. The link header is link.c's; what IP may be
 * wrapped in (VLAN tags, MPLS, PPPoE, tunnels) is stepped through by decap.c, 802.11 by
 * wifi.c; a packet may pass MAX_LAYERS of them. An IP fragment is described (struct fragment) for the defragmenter,
 * whose datagram comes back through decode_packet_from().
 */
#include <string.h>
#include "decode/internal.h"

#define IP6_MAX_EXT 8
#define MAX_LAYERS 16       /* headers stepped through between the link layer and TCP */

/*
 * Sets the end of the IP packet from its header; len 0 means the header cannot tell. The
 * outermost IP header is believed over the capture's wire length; an inner one only narrows.
 */
static void ip_set_len(struct decode_cursor *n, uint32_t len)
{
	uint64_t end;

	if (!len)
		return;
	end = (uint64_t)n->off + len;
	if (!n->ips++ || end < n->wire_end)
		n->wire_end = end;
	if (end < n->cap_end)
		n->cap_end = (uint32_t)end;
}

/* Protocols whose packets may hold a TCP header: a fragment of one is reassembled. */
static int may_hold_tcp(uint8_t proto)
{
	switch (proto) {
	case IP_PROTO_TCP:
	case IP_PROTO_UDP:  /* tunnels */
	case 4:    /* IPv4 in IP */
	case 41:   /* IPv6 in IP */
	case 47:   /* GRE */
	case 97:   /* EtherIP */
	case 137:  /* MPLS in IP */
		return 1;
	}
	return 0;
}

/* IPv4's AH: next header, length in 4-byte words minus 2. */
static int ip4_ah(const uint8_t *d, struct decode_cursor *n)
{
	int i;

	for (i = 0; i < IP6_MAX_EXT && n->proto == 51; i++) {
		if (!have(n, 8))
			return DECODE_MALFORMED;
		n->proto = d[n->off];
		if (skip(n, (d[n->off + 1] + 2) * 4u))
			return DECODE_MALFORMED;
	}
	return n->proto == 51 ? DECODE_MALFORMED : 0;
}

/*
 * A fragment: its data starts at n->off, after the IP header at n->ip_off (and, IPv6, the
 * extension headers up to hdr_end). Describes it in n->frag when asked for.
 */
static int fragment(const uint8_t *d, struct decode_cursor *n, uint32_t hdr_end,
		    uint32_t offset, int more, uint32_t id)
{
	const uint8_t *h = d + n->ip_off;
	struct fragment *f = n->frag;
	int v4 = h[0] >> 4 == 4;

	if (n->off > n->cap_end || !be16(h + (v4 ? 2 : 4)))
		return DECODE_MALFORMED;  /* no length: a fragment of unknown size */
	if (!f)
		return DECODE_FRAGMENT;
	f->hdr = h;
	f->hdr_len = hdr_end - n->ip_off;
	f->data = d + n->off;
	f->len = n->cap_end - n->off;
	f->wire_len = (uint32_t)(n->wire_end - n->off);
	f->offset = offset;
	f->more = more;
	f->id = id;
	f->family = v4 ? 4 : 6;
	f->proto = n->proto;
	f->nh_at = (uint16_t)(n->nh_at - n->ip_off);
	memset(f->src, 0, sizeof(f->src));
	memset(f->dst, 0, sizeof(f->dst));
	memcpy(f->src, h + (v4 ? 12 : 8), v4 ? 4 : 16);
	memcpy(f->dst, h + (v4 ? 16 : 24), v4 ? 4 : 16);
	f->outer = (struct decode_outer){ .zone = n->zone, .dir = n->dir, .layers = n->layers };
	return DECODE_FRAGMENT;
}

static int decode_ip4(const uint8_t *d, struct decode_cursor *n, struct segment *seg)
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
	memset(seg->src.addr + 4, 0, 12);
	memcpy(seg->dst.addr, h + 16, 4);
	memset(seg->dst.addr + 4, 0, 12);
	n->proto = h[9];
	frag = be16(h + 6);
	n->ip_off = n->off;
	ip_set_len(n, total);
	n->off += hlen;
	if (frag & 0x3fff) {  /* MF or a non-zero offset */
		if (!may_hold_tcp(n->proto))
			return DECODE_NOT_TCP;
		return fragment(d, n, n->off, (frag & 0x1fff) * 8u, frag & 0x2000, be16(h + 4));
	}
	return ip4_ah(d, n);
}

static int ip6_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51;
}

/* Steps over the extension header at n->off whose type is n->proto. */
static int ip6_ext(const uint8_t *d, struct decode_cursor *n)
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
		if (!may_hold_tcp(n->proto) && !ip6_is_ext(n->proto))
			return DECODE_NOT_TCP;
		n->off += 8;
		return fragment(d, n, n->off - 8, frag & 0xfff8u, frag & 1, be32(h + 4));
	}
	len = n->proto == 51 ? (h[1] + 2) * 4u : (h[1] + 1) * 8u;
	n->proto = h[0];
	n->nh_at = n->off;
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

static int decode_ip6(const uint8_t *d, struct decode_cursor *n, struct segment *seg)
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
	n->ip_off = n->off;
	n->nh_at = n->off + 6;
	ip_set_len(n, be16(h + 4) ? 40u + be16(h + 4) : 0);
	n->off += 40;
	for (i = 0; i < IP6_MAX_EXT && ip6_is_ext(n->proto); i++) {
		ret = ip6_ext(d, n);
		if (ret)
			return ret;
	}
	return ip6_is_ext(n->proto) ? DECODE_MALFORMED : 0;
}

static int decode_tcp(const uint8_t *d, struct decode_cursor *n, struct segment *seg)
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

/* Steps through the layers from n->ethertype on until a TCP header, or a reason to stop. */
static int decode_layers(const uint8_t *d, struct decode_cursor *n, struct segment *seg)
{
	int ret;

	for (;;) {
		if (n->layers++ == MAX_LAYERS)
			return undecoded(n, DECODE_KIND_DEPTH, MAX_LAYERS);
		if (n->ethertype == ETH_IP) {
			ret = decode_ip4(d, n, seg);
		} else if (n->ethertype == ETH_IPV6) {
			ret = decode_ip6(d, n, seg);
		} else {
			ret = decap_ether(d, n);  /* names the next layer */
			if (ret)
				return ret;
			continue;
		}
		if (ret)
			return ret;
		if (n->proto == IP_PROTO_TCP)
			return decode_tcp(d, n, seg);
		ret = decap_ip(d, n);
		if (ret)
			return ret;
	}
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

/* Where a reassembled datagram's decoding starts: at its IP header, inside what came before. */
static int resume(const struct packet *pkt, const struct decode_outer *o, struct decode_cursor *n)
{
	n->zone = o->zone;
	n->dir = o->dir;
	n->layers = o->layers ? o->layers - 1 : 0;  /* its IP header is counted again */
	return decap_link_raw(pkt->data, n);
}

int decode_packet_from(const struct packet *pkt, const struct decode_from *from,
		       struct segment *seg, struct fragment *frag)
{
	struct decode_cursor n = { .dir = DIR_UNKNOWN, .frag = frag };
	int ret;

	memset(seg, 0, sizeof(*seg));
	if (!pkt->data && pkt->caplen)
		return DECODE_MALFORMED;
	n.cap_end = pkt->caplen;
	n.wire_end = pkt->wirelen > pkt->caplen ? pkt->wirelen : pkt->caplen;
	n.msdu_at = from ? from->msdu : 0;
	ret = from && from->outer ? resume(pkt, from->outer, &n) : decap_link(pkt, &n);
	if (!ret)
		ret = decode_layers(pkt->data, &n, seg);
	seg->msdu_next = n.msdu_next;
	if (ret == DECODE_UNSUPPORTED)
		seg->undecoded = n.undecoded;
	if (ret)
		return ret;
	seg->ts_ns = pkt->ts_ns;
	seg->sock_cookie = pkt->sock_cookie;
	seg->zone = n.zone;
	seg->dir = pkt->dir != DIR_UNKNOWN ? pkt->dir : n.dir;
	seg->ip_len = (uint32_t)(n.wire_end - n.ip_off);  /* at most 64 KiB past ip_off, or wirelen */
	seg->ifindex = pkt->ifindex;
	seg->net_ns = pkt->net_ns;
	seg->tls = pkt->flags & PACKET_TLS;
	return apply_span(pkt, seg);
}

int decode_packet(const struct packet *pkt, struct segment *seg)
{
	return decode_packet_from(pkt, NULL, seg, NULL);
}

int decode_link_supported(int linktype)
{
	struct packet pkt = { .linktype = linktype };
	struct decode_cursor n = { 0 };

	return decap_link(&pkt, &n) != DECODE_UNSUPPORTED;
}
