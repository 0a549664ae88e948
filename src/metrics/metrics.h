/*
 * Metrics: request/response exchanges as RED histograms (OpenTelemetry's HTTP semantic
 * conventions, named as Prometheus names them) per method, status, route and workload, plus
 * httpeek's own counters, in Prometheus's text exposition format. Safe to use from two threads:
 * the pipeline counts, the endpoint renders. docs/METRICS.md describes the series.
 */
#ifndef HTTPEEK_METRICS_H
#define HTTPEEK_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "http2/http2.h"
#include "live/tls/files.h"
#include "metrics/route.h"
#include "output/json.h"
#include "session/exchange.h"

#define METRICS_DEFAULT_MAX_SERIES 2000u

struct metrics_options {
	const char *listen;        /* --metrics ADDR:PORT; NULL: no endpoint */
	const char *file;          /* --metrics-file: one exposition at the end; NULL: none */
	uint32_t max_series;       /* per histogram, the overflow series included (>= 2) */
	struct route_set routes;   /* --route patterns */
	bool live;                 /* one end's view: its exchanges are server's or client's */
};

#define METRICS_NOT_DECODED 17    /* kinds of packets not decoded, "other kinds" included */

/* Packets of one kind the decoder could not look into. */
struct metrics_kind {
	char name[96];             /* as the summary names it; "": unused */
	uint64_t packets;
};

/* httpeek's own counters, as the main loop last copied them in. */
struct metrics_self {
	uint64_t packets;
	uint64_t messages;
	uint64_t events;
	uint64_t parse_failures;
	uint64_t gap_losses;       /* heads due where bytes were lost */
	uint64_t unpaired_requests, unpaired_responses;
	struct h2_stats h2;        /* HTTP/2: connections, blocks not decoded by cause, ... */
	bool live;                 /* the next three are known */
	uint64_t records;          /* ring-buffer records */
	uint64_t kernel_drops;
	uint64_t lost_heads;       /* heads in copies the ring buffer had no room for */
	bool tls;                  /* live, TLS traced: the next three are known */
	uint64_t tls_libraries;    /* libssl.so.3 files attached to */
	uint64_t tls_go_binaries;  /* Go binaries attached to */
	uint64_t tls_skipped[LIVE_TLS_SKIPS];  /* files of that name not attached to, by cause */
	uint64_t tls_mappings_lost;  /* mapping reports lost (every process's maps read again) */
	struct metrics_kind not_decoded[METRICS_NOT_DECODED];
	/* offline: IP fragments (the counters of struct defrag_stats) */
	uint64_t ip_fragments, ip_reassembled, ip_overlaps, ip_overlap_conflicts, ip_tiny;
	uint64_t ip_incomplete_timeout, ip_incomplete_memory, ip_incomplete_limits;
	uint64_t ip_incomplete_invalid, ip_incomplete_end;
};

struct metrics;

/* Empty metrics (opt is copied; its route patterns are kept); NULL on allocation failure. */
struct metrics *metrics_new(const struct metrics_options *opt);

/*
 * Counts one exchange: a paired request and response, timed by x->latency_ns, in the server
 * histogram, or live in the client one when the request left this end. Others are ignored.
 */
void metrics_exchange(struct metrics *m, const struct exchange *x);

/* Replaces the self-counters. */
void metrics_set_self(struct metrics *m, const struct metrics_self *s);

/*
 * Appends the exposition to b; returns 0 or -ENOMEM (b is then incomplete). Holds the lock that
 * metrics_exchange() takes only while it copies the counts, not while it formats them.
 */
int metrics_render(struct metrics *m, struct json_buf *b);

/* Writes the exposition to f; returns 0, -ENOMEM or -EIO. */
int metrics_write(struct metrics *m, FILE *f);

/* Frees m; accepts NULL. */
void metrics_free(struct metrics *m);

#endif
