/*
 * Sessions: the HTTP state of one flow. Its two sides' byte streams go to two HTTP
 * streams; requests wait in a queue for their responses so that each exchange is paired.
 */
#ifndef HTTPEEK_SESSION_H
#define HTTPEEK_SESSION_H

#include <stdint.h>
#include "event.h"
#include "export.h"
#include "filter.h"
#include "flow.h"
#include "http.h"
#include "owner.h"
#include "pipeline.h"

/* What every session shares; owned by the pipeline. */
struct session_env {
	struct event_writer *writer;
	const struct http_limits *http_limits;
	struct http_stats *http_stats;
	struct pipeline_stats *stats;
	owner_lookup_fn owner_lookup;
	void *owner_ctx;
	const struct filter_set *filter;  /* NULL: every event */
	struct export *exp;               /* NULL: no packet export */
	uint64_t packet_seq;              /* number of the packet being processed */
	bool keep_requests;               /* requests wait with a copy (exchanges, filters) */
};

struct session;

/* A session for a new flow; NULL on allocation failure (the flow is then not parsed). */
struct session *session_new(struct session_env *env, const struct flow_info *info);

void session_data(struct session *s, int side, const uint8_t *bytes, uint32_t len,
		  const struct flow_chunk_meta *meta);
void session_gap(struct session *s, int side, uint32_t len);
void session_fin(struct session *s, int side);

/* Memory s holds: heads in progress, copies of waiting requests, its request queue. */
uint64_t session_held(const struct session *s);

/* The flow ended: emits requests still waiting for a response, then frees s. */
void session_close(struct session *s);

#endif
