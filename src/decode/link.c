// SPDX-License-Identifier: GPL-2.0
/*
 * Link headers: Ethernet, cooked captures (SLL, SLL2: the direction), raw IP, BSD loopback,
 * NFLOG (the hook: the direction), Cisco HDLC, PPP, PPPoE; 802.11's three link types are
 * wifi.c's. Each names the first layer inside in n->ethertype and moves n->off past itself.
 */
#include <string.h>
#include <pcap/dlt.h>
#include "decode/internal.h"

#define LINK_RAW_A 12       /* DLT_RAW on most systems */
#define LINK_RAW_B 14       /* DLT_RAW on BSD/OS */
#define LINKTYPE_RAW 101    /* the file value; libpcap maps it to DLT_RAW */
#define LINK_C_HDLC 104     /* Cisco HDLC */
#define LINK_SLL2 276       /* DLT_LINUX_SLL2, missing from older headers */
#define LINK_IEEE802_11 105
#define LINK_RADIOTAP 127
#define LINK_PPI 192

#define NFULA_PACKET_HDR 1
#define NFULA_PAYLOAD 9
#define NF_HOOK_LOCAL_IN 1
#define NF_HOOK_LOCAL_OUT 3

static uint16_t he16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static enum direction sll_dir(unsigned int pkttype)
{
	if (pkttype <= 3)  /* host, broadcast, multicast, other host */
		return DIR_INGRESS;
	if (pkttype == 4)  /* outgoing */
		return DIR_EGRESS;
	return DIR_UNKNOWN;
}

/* A cooked capture's protocol: an ethertype, or below 0x0600 one of Linux's own values. */
static uint16_t sll_type(uint16_t proto)
{
	if (proto >= 0x0600)
		return proto;
	return proto == ETH_LLC ? ETH_LLC : ETH_NONE;
}

static int link_sll(const uint8_t *d, struct decode_cursor *n)
{
	if (!have(n, 16))
		return DECODE_MALFORMED;
	n->dir = sll_dir(be16(d));
	n->ethertype = sll_type(be16(d + 14));
	n->off = 16;
	return 0;
}

static int link_sll2(const uint8_t *d, struct decode_cursor *n)
{
	if (!have(n, 20))
		return DECODE_MALFORMED;
	n->dir = sll_dir(d[10]);
	n->ethertype = sll_type(be16(d));
	n->off = 20;
	return 0;
}

int decap_link_raw(const uint8_t *d, struct decode_cursor *n)
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
	return ETH_NONE;
}

static int link_null(const uint8_t *d, struct decode_cursor *n, int network_order)
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

/* Cisco HDLC: address (0x0f unicast, 0x8f broadcast), control 0, then an ethertype. */
static int link_c_hdlc(const uint8_t *d, struct decode_cursor *n)
{
	if (!have(n, 4))
		return DECODE_MALFORMED;
	if ((d[0] != 0x0f && d[0] != 0x8f) || d[1])
		return DECODE_MALFORMED;
	n->ethertype = wire_ethertype(be16(d + 2));
	n->off = 4;
	return 0;
}

/* Reads the TLV at n->off (4 bytes present); the payload TLV ends the walk. */
static int nflog_tlv(const uint8_t *d, struct decode_cursor *n, uint32_t len, uint16_t type)
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
static int link_nflog(const uint8_t *d, struct decode_cursor *n)
{
	uint32_t len, step;
	int ret;

	if (!have(n, 4))
		return DECODE_MALFORMED;
	n->ethertype = d[0] == 2 ? ETH_IP : d[0] == 10 ? ETH_IPV6 : ETH_NONE;
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

int decap_link(const struct packet *pkt, struct decode_cursor *n)
{
	const uint8_t *d = pkt->data;

	switch (pkt->linktype) {
	case DLT_EN10MB:
		n->ethertype = ETH_TEB;
		return 0;
	case DLT_LINUX_SLL:
		return link_sll(d, n);
	case LINK_SLL2:
		return link_sll2(d, n);
	case LINK_RAW_A:
	case LINK_RAW_B:
	case LINKTYPE_RAW:
		return decap_link_raw(d, n);
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
	case LINK_C_HDLC:
		return link_c_hdlc(d, n);
	case DLT_PPP:
	case DLT_PPP_SERIAL:
		n->ethertype = ETH_PPP;
		return 0;
	case DLT_PPP_ETHER:
		n->ethertype = ETH_PPPOE;
		return 0;
	case LINK_IEEE802_11:
	case LINK_RADIOTAP:
	case LINK_PPI:
		return decap_wlan_link(d, n, pkt->linktype);
	}
	return undecoded(n, DECODE_KIND_LINK, (uint32_t)pkt->linktype);
}
