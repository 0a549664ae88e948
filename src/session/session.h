/*
 * Sessions: the HTTP state of one flow. Its two sides' byte streams go to two HTTP
 * streams; requests wait in a queue for their responses so that each exchange is paired.
 */
#ifndef HTTPEEK_SESSION_H
#define HTTPEEK_SESSION_H

#include <stdint.h>
#include "flow/flow.h"
#include "http/http.h"
#include "http2/http2.h"
#include "metrics/metrics.h"
#include "pipeline/owner.h"
#include "report/report.h"

/* What the sessions count; the pipeline reports it in struct pipeline_stats. */
struct session_stats {
	uint64_t unknown_owner;    /* live events whose owner was not known */
	uint64_t unpaired_requests;
	uint64_t unpaired_responses;
	uint64_t pending_dropped;  /* requests past the per-flow pairing queue */
	uint64_t filtered;         /* messages and exchanges the filters left out */
	uint64_t held_bytes;       /* now: memory of requests waiting (copies, queues) */
	uint64_t http2;            /* connections found to speak HTTP/2 */
	struct h2_stats h2;        /* what the HTTP/2 connections found and missed */
};

/* What every session shares; owned by the pipeline. */
struct session_env {
	struct report report;             /* where events and exported packets go */
	const struct http_limits *http_limits;
	struct http_stats *http_stats;
	struct http_parse_cache *parse_cache;  /* shared by the streams; NULL: none */
	struct session_stats *stats;
	owner_lookup_fn owner_lookup;
	void *owner_ctx;
	uint64_t packet_seq;              /* number of the packet being processed */
	struct h2_env h2;                 /* what every HTTP/2 connection shares */
	bool keep_requests;               /* requests wait with a copy (exchanges, filters) */
};

struct session;

/*
 * A session for a new flow; NULL on allocation failure (the flow is then not parsed). A flow
 * that resumes a connection ended at the memory limit (info->resumed) goes on with its
 * requests' numbering, answers first the responses it owes without a request, and reads each
 * direction from the next message start on.
 */
struct session *session_new(struct session_env *env, const struct flow_info *info);

void session_data(struct session *s, int side, const uint8_t *bytes, uint32_t len,
		  const struct flow_chunk_meta *meta);
void session_gap(struct session *s, int side, uint32_t len);
void session_fin(struct session *s, int side);

/* Memory s holds: heads in progress, copies of waiting requests, its request queue. */
uint64_t session_held(const struct session *s);

/*
 * The flow ended: emits requests still waiting for a response (a head in progress first, cut),
 * then frees s. keep (may be NULL): the memory limit ended it; what its connection's return
 * needs is left there.
 */
void session_close(struct session *s, struct flow_resume *keep);

#endif
