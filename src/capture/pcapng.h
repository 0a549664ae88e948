/* pcapng packet direction: the epb_flags of each packet block, read beside libpcap. */
#ifndef HTTPEEK_CAPTURE_PCAPNG_H
#define HTTPEEK_CAPTURE_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include "pipeline/packet.h"

/*
 * How far the bytes fed may run ahead of the packets taken. The smallest packet block is
 * 16 bytes, so the queue holds twice this over 16 entries; past that the walk stops.
 */
#define CAPTURE_PCAPNG_MAX_AHEAD (64u * 1024)

enum capture_pcapng_status {
	CAPTURE_PCAPNG_START,       /* nothing fed yet */
	CAPTURE_PCAPNG_ON,          /* a pcapng stream, walked in step */
	CAPTURE_PCAPNG_NOT_PCAPNG,  /* the stream does not start with a Section Header Block */
	CAPTURE_PCAPNG_LOST,        /* garbage or a mismatch: directions unknown from here on */
};

struct capture_pcapng;

/* Returns a walker for one byte stream, or NULL when out of memory. */
struct capture_pcapng *capture_pcapng_new(void);

/*
 * Walks the next len bytes of the stream, split anywhere, in the order libpcap reads them
 * (from the file's first byte). Never fails: blocks it cannot follow end the walk.
 */
void capture_pcapng_feed(struct capture_pcapng *w, const uint8_t *buf, size_t len);

/*
 * The direction of the next packet block (Enhanced, Simple or obsolete Packet Block), to be
 * called once per packet libpcap returns, with its header's caplen and len. Returns
 * DIR_UNKNOWN without flags, for non-pcapng streams, and for good once a packet does not
 * match the block the walk queued for it.
 */
enum direction capture_pcapng_take(struct capture_pcapng *w, uint32_t caplen, uint32_t wirelen);

enum capture_pcapng_status capture_pcapng_status(const struct capture_pcapng *w);

void capture_pcapng_free(struct capture_pcapng *w);

#endif
