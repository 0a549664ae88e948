/*
 * Decoder: link, encapsulation, IP and TCP headers of one packet. Pure: no allocation, no
 * I/O.
 */
#ifndef HTTPEEK_DECODE_H
#define HTTPEEK_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pipeline/packet.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct endpoint {
	uint8_t addr[16];  /* IPv4 in the first 4 bytes, rest zero */
	uint16_t port;     /* host byte order */
};

/* One TCP segment, pointing into the packet it came from. */
struct segment {
	uint64_t ts_ns;
	uint64_t sock_cookie;
	/*
	 * What keeps equal 4-tuples apart offline: a hash of the outer identifiers the packet
	 * was wrapped in (VLAN ids, VXLAN and Geneve VNIs, GRE keys); 0 when there are none.
	 */
	uint64_t zone;
	struct endpoint src, dst;
	uint8_t family;            /* 4 or 6; IPv4-mapped IPv6 is reported as 4 */
	uint8_t tcp_flags;
	enum direction dir;
	uint32_t seq, ack;
	const uint8_t *payload;
	uint32_t payload_len;      /* payload bytes present in the capture */
	uint32_t seg_len;          /* payload bytes the segment carried (>= payload_len) */
	uint32_t ip_len;           /* the IP packet's length, from its header (else the capture's) */
	uint32_t ifindex;          /* the packet's (live), 0 unknown */
	uint32_t net_ns;           /* live: the namespace ifindex is in (struct packet) */
	bool boundary;             /* live: the payload starts between two messages */
	bool early;                /* live: ahead of bytes that will come (not a gap) */
	uint32_t undecoded;        /* DECODE_UNSUPPORTED: what stopped the decoder */
	uint32_t msdu_next;        /* an 802.11 A-MSDU: where its next subframe starts (for
				    * struct decode_from.msdu), whatever the result; 0: none */
	bool tls;                  /* live: plaintext of a TLS library call (PACKET_TLS) */
};

/* What the decoder had stepped through before an IP fragment (to go on after reassembly). */
struct decode_outer {
	uint64_t zone;             /* struct segment.zone so far */
	enum direction dir;        /* from the link layer, DIR_UNKNOWN when it does not say */
	uint8_t layers;            /* headers stepped through, the fragment's IP header included */
};

/* One IP fragment (DECODE_FRAGMENT), pointing into the packet it came from. */
struct fragment {
	const uint8_t *hdr;        /* the IP header (IPv6: with the extension headers before the
				    * fragment header), all present */
	const uint8_t *data;       /* the fragment's share of the datagram */
	uint32_t hdr_len;
	uint32_t len;              /* data bytes present in the capture */
	uint32_t wire_len;         /* data bytes the fragment carried (>= len) */
	uint32_t offset;           /* where data goes in the datagram, in bytes */
	uint32_t id;               /* IPv4: 16 bits; IPv6: 32 */
	uint16_t nh_at;            /* IPv6: where in hdr the next-header byte naming the fragment
				    * header is (the datagram's takes proto) */
	uint8_t family;            /* 4 or 6 */
	uint8_t proto;             /* IPv4's protocol; IPv6: the fragment header's next header */
	bool more;                 /* more fragments follow */
	uint8_t src[16], dst[16];  /* IPv4 in the first 4 bytes */
	struct decode_outer outer;
};

/* Where decode_packet_from() starts: all zero for a packet as captured. */
struct decode_from {
	uint32_t msdu;             /* an A-MSDU subframe (segment.msdu_next of the last call) */
	const struct decode_outer *outer; /* non-NULL: pkt holds a reassembled IP datagram, and
					   * this is what came before it */
};

enum decode_result {
	DECODE_TCP = 0,        /* seg filled */
	DECODE_NOT_TCP = -1,   /* valid but not TCP over IP: ignored */
	DECODE_FRAGMENT = -2,  /* an IP fragment other than an atomic one, of a protocol that may
				* hold TCP (struct fragment) */
	DECODE_MALFORMED = -3, /* headers cut short or inconsistent */
	DECODE_UNSUPPORTED = -4, /* may carry TCP, but httpeek cannot look inside: counted by
				  * kind (seg->undecoded) */
};

/* What DECODE_UNSUPPORTED stopped at: seg->undecoded is kind << 24 | value. */
enum decode_kind {
	DECODE_KIND_LINK = 1,    /* a link type (value) */
	DECODE_KIND_ETHERTYPE,   /* an ethertype that is not one of the known non-IP ones */
	DECODE_KIND_IPPROTO,     /* an IP protocol that wraps packets (ESP, IPComp, L2TPv3) */
	DECODE_KIND_GRE,         /* a GRE protocol type */
	DECODE_KIND_GRE_VERSION, /* a GRE version other than 0 and 1; 0x100: source routing */
	DECODE_KIND_PPP,         /* a PPP protocol carrying data (compressed, other layers) */
	DECODE_KIND_MPLS,        /* an MPLS payload that is neither IP nor a pseudowire */
	DECODE_KIND_TUNNEL,      /* DECODE_TUNNEL_* << 16 | the payload type it names */
	DECODE_KIND_DEPTH,       /* more headers than the decoder follows */
	DECODE_KIND_WIFI,        /* an 802.11 data frame the decoder cannot open (DECODE_WIFI_*) */
};

enum decode_wifi {
	DECODE_WIFI_PROTECTED = 1, /* encrypted (the Protected bit) */
	DECODE_WIFI_FRAGMENT,      /* one fragment of an MSDU (802.11 fragmentation) */
	DECODE_WIFI_VERSION,       /* a protocol version other than 0 */
};

enum decode_tunnel {
	DECODE_TUNNEL_ERSPAN = 1,
	DECODE_TUNNEL_GENEVE,
	DECODE_TUNNEL_VXLAN_GPE,
	DECODE_TUNNEL_GTPU,
	DECODE_TUNNEL_AYIYA,
	DECODE_TUNNEL_L2TP,
};

/*
 * Decodes pkt into seg. Returns an enum decode_result; seg is valid only on DECODE_TCP,
 * seg->undecoded only on DECODE_UNSUPPORTED, seg->msdu_next always. Of an A-MSDU, only the
 * first subframe is decoded.
 */
int decode_packet(const struct packet *pkt, struct segment *seg);

/*
 * decode_packet() from where from says (NULL: the start), filling frag (when not NULL) on
 * DECODE_FRAGMENT. A reassembled datagram is decoded from its IP header (pkt->linktype is not
 * read) as if still inside what from->outer describes.
 */
int decode_packet_from(const struct packet *pkt, const struct decode_from *from,
		       struct segment *seg, struct fragment *frag);

/* True when linktype is one decode_packet understands. */
int decode_link_supported(int linktype);

/* Writes a name for seg->undecoded (e.g. "GRE protocol 0x880b") into buf (NUL-terminated). */
void decode_kind_name(uint32_t kind, char *buf, size_t size);

#endif
