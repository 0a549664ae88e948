/*
 * Packet export (-w FILE.pcapng): the packets that carried reported messages, each with a
 * comment naming its event. A small pcapng writer (one section, one interface per link type,
 * Enhanced Packet Blocks with opt_comment and epb_flags) and the bounded lists of packet
 * copies kept while a head is in progress.
 */
#ifndef HTTPEEK_EXPORT_H
#define HTTPEEK_EXPORT_H

#include <stdint.h>
#include "packet.h"

#define EXPORT_MAX_KEPT_BYTES (64ull << 20)  /* copies held in all lists together */

struct export_pkt;

/* Copies of packets of one flow side (or of one request waiting for its exchange). */
struct export_list {
	struct export_pkt *head, *tail;
	uint64_t payload;          /* payload bytes of the packets in the list */
	uint64_t bytes;            /* memory held */
};

struct export_stats {
	uint64_t packets;          /* Enhanced Packet Blocks written */
	uint64_t comments;
	uint64_t kept_dropped;     /* copies not kept because of EXPORT_MAX_KEPT_BYTES */
	uint64_t write_errors;
};

struct export;

/* Creates path and writes the section header. Returns 0 or -errno after a one-line error. */
int export_open(struct export **out, const char *path);

/*
 * The packet the pipeline is processing now (payload_len: its TCP payload bytes); pkt must
 * stay valid until export_end(), which writes it when some event named it.
 */
void export_begin(struct export *e, const struct packet *pkt, uint32_t payload_len);
void export_end(struct export *e);

/* Keeps a copy of the current packet at the end of l; empties l past max_payload bytes. */
void export_keep(struct export *e, struct export_list *l, uint32_t max_payload);

/*
 * A message of head_len bytes completed in the current packet: moves the newest packets of l
 * that (with the current one) cover head_len payload bytes, and a copy of the current packet,
 * into *to; frees the rest of l.
 */
void export_take(struct export *e, struct export_list *l, uint32_t head_len,
		 struct export_list *to);

/* Writes the packets of l, each with comment, and empties l. */
void export_write_list(struct export *e, struct export_list *l, const char *comment);

/*
 * A message of head_len bytes completed in the current packet and is reported: writes the
 * newest packets of l that hold its head with comment, empties l, and puts comment on the
 * current packet (written by export_end, once, with every comment it got).
 */
void export_message(struct export *e, struct export_list *l, uint32_t head_len,
		    const char *comment);

/* Frees the copies in l. */
void export_list_clear(struct export *e, struct export_list *l);

const struct export_stats *export_get_stats(const struct export *e);

/* Flushes, closes and frees e; returns 0, or -EIO when some write failed. */
int export_close(struct export *e);

#endif
