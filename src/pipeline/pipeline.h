/*
 * The pipeline both packet sources feed: decode -> IP fragments (offline) -> flow and
 * reassembly -> HTTP -> pairing -> events. Nothing after pipeline_packet() knows where the
 * bytes came from.
 */
#ifndef HTTPEEK_PIPELINE_H
#define HTTPEEK_PIPELINE_H

#include <stdint.h>
#include "defrag/defrag.h"
#include "flow/flow.h"
#include "http/http.h"
#include "http2/http2.h"
#include "metrics/metrics.h"
#include "output/event.h"
#include "output/export.h"
#include "pipeline/owner.h"
#include "pipeline/packet.h"
#include "report/filter.h"

struct pipeline_options {
	struct flow_limits flow;
	struct http_limits http;
	owner_lookup_fn owner_lookup;  /* NULL offline */
	void *owner_ctx;
	const struct filter_set *filter;  /* -f terms (kept, not copied); NULL: no filter */
	struct export *exp;            /* -w: packets of reported messages; NULL: none */
	struct metrics *metrics;       /* --metrics: counts the exchanges; NULL: none */
	uint64_t memory_limit;         /* heads in progress, out-of-order bytes, requests
					* waiting and IP fragments, together; past it the oldest
					* incomplete datagrams are given up, then the least recently
					* active flows holding any are ended. 0: no limit */
	struct defrag_limits defrag;   /* IP fragments; max_datagrams 0: counted, not reassembled
					* (live: the kernel reassembles) */
};

#define PIPELINE_DEFAULT_MEMORY_LIMIT (128ull << 20)

/* Kinds of packets the decoder could not look into, each counted apart (the rest: other). */
#define PIPELINE_UNDECODED_KINDS 16

struct pipeline_undecoded {
	uint32_t kind;             /* struct segment.undecoded; 0: slot unused */
	uint64_t packets;
};

struct pipeline_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t not_tcp;
	uint64_t fragments;        /* IP fragments skipped (when not reassembled) */
	uint64_t malformed;
	uint64_t undecoded;        /* DECODE_UNSUPPORTED: every kind together */
	struct pipeline_undecoded undecoded_kinds[PIPELINE_UNDECODED_KINDS];
	uint64_t http2;            /* connections found to speak HTTP/2 */
	struct h2_stats h2;        /* what they held, and what could not be decoded */
	uint64_t unknown_owner;    /* live events whose owner was not known */
	uint64_t unpaired_requests;
	uint64_t unpaired_responses;
	uint64_t pending_dropped;  /* requests past the per-flow pairing queue */
	uint64_t filtered;         /* messages and exchanges the filters left out */
	uint64_t held_bytes;       /* now: memory of requests waiting (copies, queues) */
	struct defrag_stats defrag; /* IP fragments reassembled */
};

struct pipeline;

/* A pipeline writing to w (kept, not owned); NULL on allocation failure. */
struct pipeline *pipeline_new(const struct pipeline_options *opt, struct event_writer *w);

/* Feeds one packet. */
void pipeline_packet(struct pipeline *p, const struct packet *pkt);

/* Expires idle flows; now_ns is packet time offline, wall clock live. */
void pipeline_tick(struct pipeline *p, uint64_t now_ns);

/* Ends every flow, emitting what they still hold; counters stay readable. */
void pipeline_finish(struct pipeline *p);

/* Finishes p if not done yet and frees it. */
void pipeline_free(struct pipeline *p);

#define PIPELINE_KIND_NAME 96

/* A name for a kind of undecoded packet (pipeline_undecoded.kind), with the link type's. */
void pipeline_undecoded_name(uint32_t kind, char *buf, size_t size);

/* Counters of every stage. */
void pipeline_stats(const struct pipeline *p, struct pipeline_stats *ps, struct flow_stats *fs,
		    struct http_stats *hs);

#endif
