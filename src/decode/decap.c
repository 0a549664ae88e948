// SPDX-License-Identifier: GPL-2.0
/*
 * Encapsulations: what network sensors see IP wrapped in. Inside Ethernet: VLAN tags, MPLS
 * label stacks, PPPoE sessions, 802.3 frames with LLC/SNAP. Inside IP: GRE (IP, Ethernet,
 * ERSPAN II and III, WCCP, MPLS, PPTP's PPP, Aruba's 802.11), IP in IP, EtherIP, MPLS in IP;
 * tunnels in UDP are in decap_udp.c, 802.11 frames in wifi.c. Also the names of what the decoder cannot look into. Each step
 * checks its header against the bytes present, moves n->off past it and names what follows
 * in n->ethertype. Identifiers that keep tunnels apart go into n->zone: VLAN ids, VXLAN,
 * VXLAN-GPE and Geneve VNIs, GRE keys (not MPLS labels, GTP TEIDs or PPTP call ids, which
 * differ between the two directions of one connection).
 */
#include <stdio.h>
#include "decode/internal.h"

#define VLAN_MAX_DEPTH 8
#define MPLS_MAX_LABELS 16

#define ETH_ERSPAN2 0x88be
#define ETH_ERSPAN3 0x22eb
#define ETH_WCCP 0x883e
#define GRE_ARUBA_FIRST 0x8200  /* Aruba's controllers: 802.11 frames, 0x8200 to 0x8350 */
#define GRE_ARUBA_LAST 0x8350

static int gre(const uint8_t *d, struct decode_cursor *n);

/* Ethertypes of protocols that never carry IP: dropped without a word. */
static int quiet_ethertype(uint16_t type)
{
	switch (type) {
	case 0x0806:  /* ARP */
	case 0x0842:  /* Wake-on-LAN */
	case 0x8035:  /* RARP */
	case 0x809b:  /* AppleTalk */
	case 0x80f3:  /* AARP */
	case 0x8137:  /* IPX */
	case 0x8808:  /* Ethernet flow control */
	case 0x8809:  /* slow protocols (LACP) */
	case 0x8863:  /* PPPoE discovery */
	case 0x888e:  /* EAPOL */
	case 0x88cc:  /* LLDP */
	case 0x88e3:  /* MRP */
	case 0x88f5:  /* MVRP */
	case 0x88f7:  /* PTP */
	case 0x8902:  /* CFM */
	case 0x9000:  /* loopback */
		return 1;
	}
	return 0;
}

static int ether_vlan(const uint8_t *d, struct decode_cursor *n)
{
	int depth;

	for (depth = 0;; depth++) {
		if (n->ethertype != ETH_VLAN && n->ethertype != ETH_QINQ &&
		    n->ethertype != ETH_QINQ_OLD)
			return 0;
		if (depth == VLAN_MAX_DEPTH || !have(n, 4))
			return DECODE_MALFORMED;
		decap_zone_add(n, ZONE_VLAN, be16(d + n->off) & 0x0fff);
		n->ethertype = be16(d + n->off + 2);
		n->off += 4;
		if (n->ethertype <= 1500) {  /* 802.3 inside the tag: a length, then LLC */
			net_set_end(n, n->ethertype);
			n->ethertype = ETH_LLC;
		}
	}
}

static int ether_header(const uint8_t *d, struct decode_cursor *n)
{
	uint16_t type;

	if (!have(n, 14))
		return DECODE_MALFORMED;
	type = be16(d + n->off + 12);
	n->off += 14;
	if (type <= 1500) {  /* 802.3: a length, then LLC */
		net_set_end(n, type);
		n->ethertype = ETH_LLC;
	} else {
		n->ethertype = type < 0x0600 ? ETH_NONE : type;
	}
	return 0;
}

/* 802.2 LLC: SNAP with an ethertype (RFC 1042, 802.1H), else not IP. */
static int ether_llc(const uint8_t *d, struct decode_cursor *n)
{
	const uint8_t *h = d + n->off;
	uint32_t oui;

	n->ethertype = ETH_NONE;
	if (!have(n, 3))
		return DECODE_MALFORMED;
	if (h[0] != 0xaa || h[1] != 0xaa || h[2] != 0x03)
		return 0;
	if (!have(n, 8))
		return DECODE_MALFORMED;
	oui = (uint32_t)h[3] << 16 | (uint32_t)h[4] << 8 | h[5];
	if (oui == 0 || oui == 0xf8)
		n->ethertype = wire_ethertype(be16(h + 6));
	n->off += 8;
	return 0;
}

/* An MPLS label stack, then what the payload looks like: IPv4, IPv6 or a pseudowire. */
static int ether_mpls(const uint8_t *d, struct decode_cursor *n)
{
	int i;

	for (i = 0;; i++) {
		if (i == MPLS_MAX_LABELS || !have(n, 4))
			return DECODE_MALFORMED;
		n->off += 4;
		if (d[n->off - 2] & 1)  /* bottom of stack */
			break;
	}
	if (!have(n, 1))
		return DECODE_MALFORMED;
	switch (d[n->off] >> 4) {
	case 4:
		n->ethertype = ETH_IP;
		return 0;
	case 6:
		n->ethertype = ETH_IPV6;
		return 0;
	case 0:  /* a pseudowire control word, then Ethernet */
		n->ethertype = ETH_TEB;
		return skip(n, 4);
	}
	return undecoded(n, DECODE_KIND_MPLS, d[n->off] >> 4);
}

/* PPPoE session: version and type 0x11, code 0, session id, length; then PPP. */
static int ether_pppoe(const uint8_t *d, struct decode_cursor *n)
{
	const uint8_t *h = d + n->off;

	if (!have(n, 6))
		return DECODE_MALFORMED;
	if (h[0] != 0x11 || h[1])
		return DECODE_NOT_TCP;
	n->off += 6;
	net_set_end(n, be16(h + 4));
	n->ethertype = ETH_PPP;
	return 0;
}

static int ppp_protocol(const uint8_t *d, struct decode_cursor *n)
{
	uint16_t proto;

	if (!have(n, 2))
		return DECODE_MALFORMED;
	if (d[n->off] == 0xff && d[n->off + 1] == 0x03)
		n->off += 2;
	if (!have(n, 1))
		return DECODE_MALFORMED;
	if (d[n->off] & 1) {  /* a compressed one-byte protocol field */
		proto = d[n->off];
		n->off += 1;
	} else {
		if (!have(n, 2))
			return DECODE_MALFORMED;
		proto = be16(d + n->off);
		n->off += 2;
	}
	if (proto == 0x0021)
		n->ethertype = ETH_IP;
	else if (proto == 0x0057)
		n->ethertype = ETH_IPV6;
	else if (proto == 0x0281)
		n->ethertype = ETH_MPLS;
	else if (proto >= 0x8000)  /* network and link control, authentication */
		return DECODE_NOT_TCP;
	else
		return undecoded(n, DECODE_KIND_PPP, proto);
	return 0;
}

int decap_ether(const uint8_t *d, struct decode_cursor *n)
{
	switch (n->ethertype) {
	case ETH_TEB:
		return ether_header(d, n);
	case ETH_VLAN:
	case ETH_QINQ:
	case ETH_QINQ_OLD:
		return ether_vlan(d, n);
	case ETH_LLC:
		return ether_llc(d, n);
	case ETH_MPLS:
	case ETH_MPLS_MC:
		return ether_mpls(d, n);
	case ETH_PPPOE:
		return ether_pppoe(d, n);
	case ETH_PPP:
		return ppp_protocol(d, n);
	case ETH_GRE:
		return gre(d, n);
	case ETH_WLAN:
		return decap_wlan(d, n);
	case ETH_AMSDU:
		return decap_amsdu(d, n);
	case ETH_NONE:
		return DECODE_NOT_TCP;
	}
	if (quiet_ethertype(n->ethertype))
		return DECODE_NOT_TCP;
	return undecoded(n, DECODE_KIND_ETHERTYPE, n->ethertype);
}

/* ERSPAN II (8 bytes, version 1) and III (12, version 2, then 8 more with the O flag). */
static int gre_erspan(const uint8_t *d, struct decode_cursor *n, uint16_t proto, int seq)
{
	const uint8_t *h = d + n->off;
	uint32_t len = 8;

	n->ethertype = ETH_TEB;
	if (proto == ETH_ERSPAN2 && !seq)
		return 0;  /* type I: the frame follows the GRE header */
	if (!have(n, proto == ETH_ERSPAN3 ? 12 : 8))
		return DECODE_MALFORMED;
	if (proto == ETH_ERSPAN3)
		len = h[11] & 1 ? 20 : 12;
	if ((h[0] >> 4) != (proto == ETH_ERSPAN3 ? 2 : 1))
		return undecoded(n, DECODE_KIND_TUNNEL, DECODE_TUNNEL_ERSPAN << 16 | h[0] >> 4);
	return skip(n, len);
}

/* What a GRE header's protocol type names. */
static int gre_payload(const uint8_t *d, struct decode_cursor *n, uint16_t proto, int seq)
{
	switch (proto) {
	case ETH_IP:
	case ETH_IPV6:
	case ETH_TEB:
	case ETH_MPLS:
	case ETH_MPLS_MC:
	case ETH_VLAN:
	case ETH_QINQ:
	case ETH_PPP:
		n->ethertype = proto;
		return 0;
	case ETH_ERSPAN2:
	case ETH_ERSPAN3:
		return gre_erspan(d, n, proto, seq);
	case ETH_WCCP:  /* WCCP v2 redirect header, unless IPv4 follows at once (v1) */
		n->ethertype = ETH_IP;
		return have(n, 1) && d[n->off] >> 4 == 4 ? 0 : skip(n, 4);
	}
	if (proto >= GRE_ARUBA_FIRST && proto <= GRE_ARUBA_LAST && !(proto & 0xf)) {
		n->ethertype = ETH_WLAN;
		return 0;
	}
	return undecoded(n, DECODE_KIND_GRE, proto);
}

static int gre(const uint8_t *d, struct decode_cursor *n)
{
	const uint8_t *h = d + n->off;
	uint8_t ver;
	uint32_t len = 4;

	if (!have(n, 4))
		return DECODE_MALFORMED;
	ver = h[1] & 7;
	if (ver > 1 || (h[0] & 0x40))
		return undecoded(n, DECODE_KIND_GRE_VERSION, h[0] & 0x40 ? 0x100 : ver);
	if (ver == 0 && (h[0] & 0x80))
		len += 4;  /* checksum and reserved */
	if (h[0] & 0x20)
		len += 4;  /* key (version 1: payload length and call id) */
	if (h[0] & 0x10)
		len += 4;  /* sequence number */
	if (ver == 1 && (h[1] & 0x80))
		len += 4;  /* acknowledgment number */
	if (!have(n, len))
		return DECODE_MALFORMED;
	if (ver == 0 && (h[0] & 0x20))
		decap_zone_add(n, ZONE_GRE_KEY, be32(h + (h[0] & 0x80 ? 8 : 4)));
	n->off += len;
	if (ver == 1 && be16(h + 2) != ETH_PPP)
		return DECODE_NOT_TCP;
	return gre_payload(d, n, be16(h + 2), h[0] & 0x10);
}

int decap_ip(const uint8_t *d, struct decode_cursor *n)
{
	switch (n->proto) {
	case IP_PROTO_IPIP:
		n->ethertype = ETH_IP;
		return 0;
	case IP_PROTO_IPV6:
		n->ethertype = ETH_IPV6;
		return 0;
	case IP_PROTO_GRE:
		return gre(d, n);
	case IP_PROTO_UDP:
		return decap_udp(d, n);
	case IP_PROTO_ETHERIP:
		if (!have(n, 2))
			return DECODE_MALFORMED;
		n->ethertype = d[n->off] >> 4 == 3 ? ETH_TEB : ETH_NONE;
		n->off += 2;
		return 0;
	case IP_PROTO_MPLS:
		n->ethertype = ETH_MPLS;
		return 0;
	case 50:   /* ESP */
	case 108:  /* IPComp */
	case 115:  /* L2TPv3 */
		return undecoded(n, DECODE_KIND_IPPROTO, n->proto);
	}
	return DECODE_NOT_TCP;
}

static const char *ip_proto_name(uint32_t proto)
{
	switch (proto) {
	case 50:
		return " (ESP, encrypted)";
	case 108:
		return " (IPComp, compressed)";
	case 115:
		return " (L2TPv3)";
	}
	return "";
}

static const char *tunnel_name(uint32_t t)
{
	static const char *const names[] = {
		[DECODE_TUNNEL_ERSPAN] = "ERSPAN", [DECODE_TUNNEL_GENEVE] = "Geneve",
		[DECODE_TUNNEL_VXLAN_GPE] = "VXLAN-GPE", [DECODE_TUNNEL_GTPU] = "GTP-U",
		[DECODE_TUNNEL_AYIYA] = "AYIYA", [DECODE_TUNNEL_L2TP] = "L2TP",
	};

	return t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "tunnel";
}

static const char *wifi_name(uint32_t what)
{
	switch (what) {
	case DECODE_WIFI_PROTECTED:
		return "802.11 protected (encrypted)";
	case DECODE_WIFI_FRAGMENT:
		return "802.11 fragments (not reassembled)";
	}
	return "802.11 protocol version other than 0";
}

void decode_kind_name(uint32_t kind, char *buf, size_t size)
{
	uint32_t v = kind & 0xffffff;

	switch (kind >> 24) {
	case DECODE_KIND_LINK:
		snprintf(buf, size, "link type %u", v);
		break;
	case DECODE_KIND_ETHERTYPE:
		snprintf(buf, size, "ethertype 0x%04x", v);
		break;
	case DECODE_KIND_IPPROTO:
		snprintf(buf, size, "IP protocol %u%s", v, ip_proto_name(v));
		break;
	case DECODE_KIND_GRE:
		snprintf(buf, size, "GRE protocol 0x%04x", v);
		break;
	case DECODE_KIND_GRE_VERSION:
		snprintf(buf, size, v > 7 ? "GRE with source routing" : "GRE version %u", v);
		break;
	case DECODE_KIND_PPP:
		snprintf(buf, size, "PPP protocol 0x%04x%s", v,
			 v == 0x2d || v == 0x2f ? " (Van Jacobson compressed TCP)" :
			 v == 0xfd || v == 0xfb ? " (compressed)" : "");
		break;
	case DECODE_KIND_MPLS:
		snprintf(buf, size, "MPLS payload starting 0x%x", v);
		break;
	case DECODE_KIND_TUNNEL:
		snprintf(buf, size, "%s payload type 0x%04x", tunnel_name(v >> 16), v & 0xffff);
		break;
	case DECODE_KIND_WIFI:
		snprintf(buf, size, "%s", wifi_name(v));
		break;
	default:
		snprintf(buf, size, "encapsulations nested deeper than %u", v);
		break;
	}
}
