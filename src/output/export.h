/*
 * Packet export (-w FILE.pcapng): the packets that carried reported messages, each with a
 * comment naming its event. A small pcapng writer (one section, one interface per link type,
 * Enhanced Packet Blocks with opt_comment and epb_flags) and the bounded lists of packet
 * copies kept while a head is in progress.
 */
#ifndef HTTPEEK_EXPORT_H
#define HTTPEEK_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "pipeline/packet.h"

#define EXPORT_MAX_KEPT_BYTES (64ull << 20)  /* copies held in all lists together */

struct export_pkt;

/* Copies of packets of one flow side (or of one request waiting for its exchange). */
struct export_list {
	struct export_pkt *head, *tail;
	uint64_t payload;          /* payload bytes of the packets in the list */
	uint64_t bytes;            /* memory held */
};

struct export_stats {
	uint64_t packets;          /* Enhanced Packet Blocks in the file */
	uint64_t not_written;      /* packets of reported messages lost to failed writes */
	uint64_t comments;
	uint64_t kept_dropped;     /* copies not kept because of EXPORT_MAX_KEPT_BYTES */
	uint64_t write_errors;
	int first_error;           /* errno of the first failed write, 0 while none failed */
};

/* Told once, at the first write that fails, with its errno; export goes on. */
typedef void (*export_failed_fn)(void *ctx, int err);

struct export_options {
	const char *const *redact; /* header names whose values are masked; NULL-terminated */
	export_failed_fn write_failed;
	void *write_failed_ctx;
};

/* Where a redaction scan is in one byte stream (zeroed: at the start of a line). */
struct export_scan {
	uint8_t state;
	uint8_t name_len;
	char name[64];
};

struct export;

/*
 * An export writing to fd (owned: closed by export_close), from its current offset; the
 * section header is written at once. Writes go out in batches of whole blocks: after a
 * failed write a regular file is cut back to its last whole block, the lost packets are
 * counted (not_written) and later batches are tried again. NULL on allocation failure.
 */
struct export *export_new(int fd, const struct export_options *opt);

/*
 * The packet the pipeline is processing now (payload_len: the TCP payload bytes of its
 * segment); pkt must stay valid until export_end(e, pkt), which writes it when some event
 * named it. Begun again for the same pkt (the next A-MSDU subframe), it stays one packet with
 * every comment; begun for another packet, the one before is ended first.
 */
void export_begin(struct export *e, const struct packet *pkt, uint32_t payload_len);
void export_end(struct export *e, const struct packet *pkt);

/*
 * In-order bytes of one stream (sc: its scan state), about to be parsed: the values of header
 * lines whose name is on the redaction list are masked with '*' (lengths kept, white space
 * too) in what the export writes of the current packet. bytes usually point into the current
 * packet; bytes that do not were never kept and are only scanned.
 */
void export_redact(struct export *e, struct export_scan *sc, const uint8_t *bytes, uint32_t len);

/* Bytes of the stream were lost: the next one is taken as the start of a line. */
void export_redact_gap(struct export_scan *sc);

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

/*
 * Writes what is buffered and closes the file; the counters stay readable. Returns 0, or
 * -EIO when some write failed. e may be NULL.
 */
int export_finish(struct export *e);

/* Finishes e if not done yet and frees it; e may be NULL. */
void export_free(struct export *e);

#endif
