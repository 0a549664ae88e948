/* Internals shared by event.c (writer, JSON events), event_http.c and table.c (the table). */
#ifndef HTTPEEK_EVENT_INTERNAL_H
#define HTTPEEK_EVENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "output/event.h"
#include "output/json.h"
#include "output/redact.h"

/* json_raw with the common case (room left, n > 0) inlined: events are built of many pieces. */
static inline void event_raw(struct json_buf *b, const char *s, size_t n)
{
	if (n && n <= b->cap - b->len && !b->failed) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
	} else {
		json_raw(b, s, n);
	}
}

#define EVENT_LIT(b, s) event_raw((b), (s), sizeof(s) - 1)

struct event_key_ref;

#define EVENT_OWNER_CACHE 8

#define EVENT_MSG_CACHE 8

/*
 * A rendered trace.ProtoHTTP value and the signature of its message (every field it is made
 * of): live, each message is seen twice (egress and ingress), and clients repeat themselves.
 */
struct event_msg_text {
	struct json_buf sig;
	struct json_buf text;
	uint64_t parse_id;         /* the message's (http_message.parse_id): compared first */
	bool valid;
};

/* An owner's part of the event start, rendered once for all events of the same owner. */
struct event_owner_text {
	struct owner key;          /* compared from cgroup_id on: the socket does not matter */
	struct json_buf before;    /* threadStartTime through kubernetes */
	struct json_buf after;     /* containerStarted's value through "args":[ */
	bool valid;
};

#define EVENT_ADDR_CACHE 4
#define EVENT_ADDR_TEXT 256  /* two IPv6 texts and the keys around them fit */

/* The rendered src and dst arguments of the events between two addresses. */
struct event_addr_text {
	uint8_t family;
	uint8_t src[16], dst[16];
	uint16_t len;             /* 0: empty */
	char text[EVENT_ADDR_TEXT];
};

struct event_writer {
	FILE *out;
	struct event_options opt;
	struct redact_list redact;  /* opt.redact, indexed */
	bool redact_host;           /* "host" is on the redaction list */
	struct json_buf buf;        /* rendered lines not yet written */
	struct json_buf keys;       /* scratch: the rendered header keys of one message */
	struct json_buf path;       /* scratch: a percent-decoded uri_path */
	struct event_key_ref *refs; /* scratch: one per header field */
	uint32_t refs_cap;
	int64_t clock_sec;          /* table: the second clock_text shows, -1 for none */
	char clock_text[8];         /* table: "HH:MM:SS" in local time */
	struct event_owner_text owners[EVENT_OWNER_CACHE];  /* recent owners, rendered */
	uint32_t owners_next;       /* the entry the next miss replaces */
	struct event_msg_text msgs[EVENT_MSG_CACHE];  /* recent trace.ProtoHTTP values */
	uint32_t msgs_next;
	struct event_addr_text addrs[EVENT_ADDR_CACHE];  /* recent address pairs, rendered */
	uint32_t addrs_next;
	struct json_buf sig;        /* scratch: the signature of the message being rendered */
	uint64_t ts_sec;            /* the second whose digits ts_text holds */
	char ts_text[20];
	uint8_t ts_len;             /* 0: ts_text is empty */
	bool cut_line;              /* a failed write left half a line that could not be cut */
	struct event_stats stats;
};

/* Frees the rendering caches of the HTTP objects. */
void event_http_free(struct event_writer *w);

/* The value objects trace.ProtoHTTP, trace.ProtoHTTPRequest, trace.ProtoHTTPResponse. */
void event_put_proto_http(struct event_writer *w, const struct http_message *msg);
void event_put_request(struct event_writer *w, const struct http_message *msg);
void event_put_response(struct event_writer *w, const struct http_message *msg);

/* True when a request target names the authority (absolute or authority form). */
bool event_target_has_host(const struct http_str *t);

/* "ingress", "egress" or "unknown". */
static inline const char *event_dir_name(enum direction dir)
{
	if (dir == DIR_INGRESS)
		return "ingress";
	return dir == DIR_EGRESS ? "egress" : "unknown";
}

/* Appends one table line for a message or an exchange to w->buf; the caller commits it. */
void event_table_message(struct event_writer *w, const struct msg_context *ctx,
			 const struct http_message *msg);
void event_table_exchange(struct event_writer *w, const struct exchange *x);

#endif
