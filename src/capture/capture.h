/* Capture-file source: pcap and pcapng through libpcap. */
#ifndef HTTPEEK_CAPTURE_H
#define HTTPEEK_CAPTURE_H

#include <signal.h>
#include <stdint.h>
#include "pipeline/packet.h"

struct capture_stats {
	uint64_t packets;
	uint64_t bytes_read;   /* capture bytes consumed (records and their headers) */
};

struct capture;

/*
 * Opens path ("-" for standard input) and applies filter (a libpcap expression, or
 * NULL). Returns 0, or -errno after printing a one-line reason on stderr.
 */
int capture_open(struct capture **out, const char *path, const char *filter);

/*
 * Hands every packet to fn until the end of the file or *stop. Returns 0 at the end,
 * or -EIO after printing a one-line warning when the file is cut short or corrupt
 * (every packet before the fault was handed over).
 */
int capture_run(struct capture *c, packet_fn fn, void *ctx,
		volatile sig_atomic_t *stop);

const struct capture_stats *capture_get_stats(const struct capture *c);

void capture_close(struct capture *c);

#endif
