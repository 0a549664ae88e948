/* Events: HTTP messages and exchanges rendered as Tracee-shaped JSON lines or a table. */
#ifndef HTTPEEK_EVENT_H
#define HTTPEEK_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "http/http.h"
#include "pipeline/owner.h"
#include "session/exchange.h"

enum event_type {
	EVENT_HTTP = 1u << 0,          /* net_packet_http, id 2009 */
	EVENT_HTTP_REQUEST = 1u << 1,  /* net_packet_http_request, id 2010 */
	EVENT_HTTP_RESPONSE = 1u << 2, /* net_packet_http_response, id 2011 */
	EVENT_FLOW_HTTP = 1u << 3,     /* net_flow_http, id 2100 */
	EVENT_NONE = 1u << 31,         /* -e none: no event (types 0 would be the default) */
};

enum output_format {
	OUTPUT_JSON = 0,
	OUTPUT_TABLE,
};

/*
 * The name of interface ifindex in network namespace net_ns (an inode), or NULL when it is not
 * known; the string stays valid until the next call.
 */
typedef const char *(*event_iface_fn)(void *ctx, uint32_t net_ns, uint32_t ifindex);

/* Told once, at the first write that fails, with its errno; tracing goes on. */
typedef void (*event_failed_fn)(void *ctx, int err);

struct event_options {
	enum output_format format;
	unsigned types;            /* enum event_type bits */
	const char *const *redact; /* header names whose values are masked; NULL-terminated */
	event_iface_fn iface_name; /* live: PktMeta iface; NULL: always "any" */
	void *iface_ctx;
	event_failed_fn write_failed; /* NULL: failures are only counted */
	void *write_failed_ctx;
};

struct event_stats {
	uint64_t events;           /* rendered, written or not */
	uint64_t not_written;      /* events lost to failed writes (or to a lack of memory) */
	uint64_t write_errors;     /* failed writes */
	int first_error;           /* errno of the first failed write, 0 while none failed */
};

struct event_writer;

/* A writer on out (not closed by it); NULL on allocation failure. */
struct event_writer *event_writer_new(FILE *out, const struct event_options *opt);

/* True when events of type are selected. */
bool event_wants(const struct event_writer *w, enum event_type type);

/* Writes the message events selected (net_packet_http, _request or _response). */
void event_message(struct event_writer *w, const struct msg_context *ctx,
		   const struct http_message *msg);

/* Writes a net_flow_http event when selected. */
void event_exchange(struct event_writer *w, const struct exchange *x);

/*
 * Pushes buffered output to the stream; returns 0 or -EIO. A write that fails is counted, its
 * events in not_written; a regular file is cut back to its last whole line, so the events
 * written later (the next flushes try again) stay one per line.
 */
int event_writer_flush(struct event_writer *w);

const struct event_stats *event_writer_stats(const struct event_writer *w);

/* Flushes and frees w. */
void event_writer_free(struct event_writer *w);

#endif
