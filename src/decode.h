/* Decoder: link, IP and TCP headers of one packet. Pure: no allocation, no I/O. */
#ifndef HTTPEEK_DECODE_H
#define HTTPEEK_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include "packet.h"

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
	bool boundary;             /* live: the payload starts between two messages */
	bool early;                /* live: ahead of bytes that will come (not a gap) */
	bool tls;                  /* live: plaintext of a TLS library call (PACKET_TLS) */
};

enum decode_result {
	DECODE_TCP = 0,        /* seg filled */
	DECODE_NOT_TCP = -1,   /* valid but not TCP over IP: ignored */
	DECODE_FRAGMENT = -2,  /* an IP fragment other than an atomic one: counted, skipped */
	DECODE_MALFORMED = -3, /* headers cut short or inconsistent */
	DECODE_UNSUPPORTED_LINK = -4,
};

/* Decodes pkt into seg. Returns an enum decode_result; seg is valid only on DECODE_TCP. */
int decode_packet(const struct packet *pkt, struct segment *seg);

/* True when linktype is one decode_packet understands. */
int decode_link_supported(int linktype);

#endif
