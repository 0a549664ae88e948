/* Decoder internals shared by decode.c (link, IP, TCP), decap.c and decap_udp.c (what IP is
 * wrapped in). */
#ifndef HTTPEEK_DECODE_INTERNAL_H
#define HTTPEEK_DECODE_INTERNAL_H

#include <string.h>
#include "decode/decode.h"

#define ETH_IP 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE 0x8864
#define ETH_TEB 0x6558      /* an Ethernet frame follows (GRE's transparent bridging) */
#define ETH_LLC 0x0004      /* an 802.2 LLC header follows (a cooked capture's type) */
#define ETH_PPP 0x880b      /* a PPP protocol field follows (GRE version 1, L2TP) */
#define ETH_GRE 0x0005      /* a GRE header follows (GRE in UDP); not a real ethertype */
#define ETH_WLAN 0x0006     /* an 802.11 frame follows (Aruba's GRE); not a real ethertype */
#define ETH_AMSDU 0x0007    /* an 802.11 A-MSDU subframe follows; not a real ethertype */
#define ETH_NONE 0          /* not a network layer httpeek looks into, and not worth a word */

#define IP_PROTO_IPIP 4
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_PROTO_IPV6 41
#define IP_PROTO_GRE 47
#define IP_PROTO_ETHERIP 97
#define IP_PROTO_MPLS 137

/* What an identifier in struct segment.zone was. */
enum zone_tag { ZONE_VLAN = 1, ZONE_VNI, ZONE_GRE_KEY, ZONE_BSSID_HI, ZONE_BSSID };

/*
 * Where the packet being decoded stands inside pkt->data: the link layer fills it, each
 * encapsulation moves off past its header and names what follows in ethertype, and each IP
 * header narrows the end to its own length.
 */
struct decode_cursor {
	uint32_t off;       /* start of the current header */
	uint32_t cap_end;   /* end of this packet's bytes present in the capture */
	uint64_t wire_end;  /* end of this packet as sent (>= cap_end) */
	uint32_t ip_off;    /* start of the innermost IP header so far */
	uint16_t ethertype; /* what is at off */
	uint8_t proto;      /* IP protocol of the header at off, after the IP layer */
	uint8_t layers;     /* headers stepped through after the link layer */
	uint8_t ips;        /* IP headers that gave a length */
	enum direction dir;
	uint64_t zone;      /* struct segment.zone so far */
	uint32_t undecoded; /* DECODE_UNSUPPORTED: what, as decode_kind_name() reads it */
	uint32_t nh_at;     /* IPv6: where the next-header byte naming the header at off is */
	uint32_t msdu_at;   /* in: the A-MSDU subframe to decode (0: the first) */
	uint32_t msdu_next; /* out: the A-MSDU subframe after the one decoded (0: none) */
	struct fragment *frag; /* filled on DECODE_FRAGMENT when not NULL */
};

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* True when at least need bytes are present at n->off. */
static inline int have(const struct decode_cursor *n, uint32_t need)
{
	return n->off <= n->cap_end && n->cap_end - n->off >= need;
}

static inline int skip(struct decode_cursor *n, uint32_t len)
{
	if (!have(n, len))
		return DECODE_MALFORMED;
	n->off += len;
	return 0;
}

/* The packet inside ends len bytes after n->off (a length field of the layer at off). */
static inline void net_set_end(struct decode_cursor *n, uint32_t len)
{
	uint64_t end = (uint64_t)n->off + len;

	if (end < n->wire_end)
		n->wire_end = end;
	if (end < n->cap_end)
		n->cap_end = (uint32_t)end;
}

/* A type field read off the wire: below 0x0600 it is no ethertype (and never one of the
 * values above that name what the decoder itself found). */
static inline uint16_t wire_ethertype(uint16_t type)
{
	return type < 0x0600 ? ETH_NONE : type;
}

/* Stops decoding: kind (DECODE_KIND_*) with value could carry TCP but is not decoded. */
static inline int undecoded(struct decode_cursor *n, uint32_t kind, uint32_t value)
{
	n->undecoded = kind << 24 | (value & 0xffffff);
	return DECODE_UNSUPPORTED;
}

/* The link header of pkt (link.c): n->ethertype for the first layer inside, n->off past it. */
int decap_link(const struct packet *pkt, struct decode_cursor *n);

/* Raw IP: IPv4 or IPv6 by the version in the packet's first byte. */
int decap_link_raw(const uint8_t *d, struct decode_cursor *n);

/* Ethernet payload types: VLAN tags, MPLS, PPPoE, LLC/SNAP, an inner Ethernet frame. */
int decap_ether(const uint8_t *d, struct decode_cursor *n);

/* The IP payload at n->off (protocol n->proto) when it wraps another packet. */
int decap_ip(const uint8_t *d, struct decode_cursor *n);

/* UDP at n->off: a tunnel by its well-known port, else DECODE_NOT_TCP. */
int decap_udp(const uint8_t *d, struct decode_cursor *n);

/* The link types of 802.11 captures: IEEE802_11, IEEE802_11_RADIO (radiotap) and PPI. */
int decap_wlan_link(const uint8_t *d, struct decode_cursor *n, int linktype);

/* An 802.11 frame at n->off (ETH_WLAN), or an A-MSDU subframe (ETH_AMSDU). */
int decap_wlan(const uint8_t *d, struct decode_cursor *n);
int decap_amsdu(const uint8_t *d, struct decode_cursor *n);

/* Mixes an outer identifier into n->zone (never 0 after). */
static inline void decap_zone_add(struct decode_cursor *n, enum zone_tag tag, uint32_t id)
{
	uint64_t h = n->zone ^ ((uint64_t)tag << 32 | id);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	n->zone = h ? h : 1;
}

#endif
