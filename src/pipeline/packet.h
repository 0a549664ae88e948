/* A packet as both sources hand it to the pipeline. */
#ifndef HTTPEEK_PACKET_H
#define HTTPEEK_PACKET_H

#include <stdint.h>

enum direction {
	DIR_UNKNOWN = 0,
	DIR_INGRESS = 1,
	DIR_EGRESS = 2,
};

/*
 * One captured packet. data holds caplen bytes starting at the link header named by
 * linktype (a DLT_ value); wirelen is the length the packet had on the wire. Live
 * packets are raw IP (DLT_RAW) cut short after the bytes the kernel chose to copy.
 */
struct packet {
	uint64_t ts_ns;        /* wall clock, ns since the Unix epoch */
	uint64_t sock_cookie;  /* live: the socket end that saw it; 0 offline */
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	int linktype;
	enum direction dir;
	uint32_t ifindex;      /* live: the interface in the socket's network namespace; 0 offline */
	uint32_t net_ns;       /* live: that namespace's inode; 0 unknown */
	/*
	 * Live: the copy holds the IP and TCP headers, then payload from payload_off on, and
	 * stands for payload_span payload bytes from there (the rest of them are body). Both 0:
	 * the payload starts right after the headers and runs to the end of the packet.
	 */
	uint32_t payload_off;
	uint32_t payload_span;
	uint8_t flags;         /* live: PACKET_* (the REC_F_* of the copy) */
};

/* Takes one packet from a source; pkt and its bytes are valid during the call only. */
typedef void (*packet_fn)(void *ctx, const struct packet *pkt);

#define PACKET_BOUNDARY 0x01  /* the payload after payload_off starts between two messages */
#define PACKET_EARLY 0x08     /* ahead of bytes that will come later (not a gap) */
#define PACKET_TLS 0x40       /* live: made from the plaintext of a TLS library call */

#endif
