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
	bool tls;                  /* live: plaintext of a TLS library call (PACKET_TLS) */
};

enum decode_result {
	DECODE_TCP = 0,        /* seg filled */
	DECODE_NOT_TCP = -1,   /* valid but not TCP over IP: ignored */
	DECODE_FRAGMENT = -2,  /* an IP fragment other than an atomic one: counted, skipped */
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
 * seg->undecoded only on DECODE_UNSUPPORTED.
 */
int decode_packet(const struct packet *pkt, struct segment *seg);

/* True when linktype is one decode_packet understands. */
int decode_link_supported(int linktype);

/* Writes a name for seg->undecoded (e.g. "GRE protocol 0x880b") into buf (NUL-terminated). */
void decode_kind_name(uint32_t kind, char *buf, size_t size);

#endif
