/*
 * Live TLS: the uprobes on OpenSSL (bpf/tls.bpf.c), attached once to every distinct
 * libssl.so.3 file a process maps, and the packets their records stand for.
 */
#ifndef HTTPEEK_LIVE_TLS_H
#define HTTPEEK_LIVE_TLS_H

#include <stddef.h>
#include <stdint.h>
#include "live/tls/files.h"
#include "pipeline/packet.h"
#include "record.h"

struct live_tls_options {
	int events_fd;             /* the ring buffer the programs share */
	int calls_fd;              /* the SSL calls in progress and their count, which the */
	int open_fd;               /* cleartext send and receive programs tie to sockets */
	uint32_t max_head;
	uint32_t body_bytes;
	uint64_t wakeup_bytes;
	int verbose;               /* names each library attached to on stderr */
	bool exported_only;        /* --tls-exported */
};

struct live_tls_stats {
	uint64_t libraries;        /* distinct libssl.so.3 files attached to */
	uint64_t go_binaries;      /* distinct Go binaries attached to */
	uint64_t skipped[LIVE_TLS_SKIPS];  /* files of that name not attached to, by cause (-v) */
	uint64_t mappings_lost;    /* mapping reports the kernel could not deliver (rescanned) */
	uint64_t scans;            /* reads of every process's /proc/PID/maps */
	uint64_t not_http;         /* TLS connections whose plaintext is neither HTTP/1.x nor 2 */
	uint64_t no_socket;        /* calls whose connection was never seen (skipped) */
	uint64_t untracked;        /* calls not followed: too many in progress at once */
	uint64_t drops;            /* failed ring-buffer reserves of the TLS programs */
	uint64_t lost_heads;
	uint64_t joined;           /* directions followed from a message start mid-stream */
	uint64_t h2_joined_blocks; /* HTTP/2 header blocks of streams older than httpeek */
};

struct live_tls;

/*
 * Loads the TLS programs and starts the attacher process (src/live/tls/attach.c); returns
 * once every libssl.so.3 present now is attached to. Returns 0 or a negative errno after a
 * one-line message.
 */
int live_tls_open(struct live_tls **out, const struct live_tls_options *opt);

/*
 * The packet a REC_TLS record of size bytes stands for: IP and TCP headers are made up in
 * buf (cap bytes) in front of the plaintext. Returns 0, or -1 when the record is malformed.
 */
int live_tls_packet(const struct rec_tls *r, size_t size, uint8_t *buf, size_t cap,
		    struct packet *pkt);

void live_tls_get_stats(const struct live_tls *t, struct live_tls_stats *st);

/* Detaches the programs: the attacher is stopped (waited for 2 s at most). */
void live_tls_detach(struct live_tls *t);

void live_tls_close(struct live_tls *t);

#endif
