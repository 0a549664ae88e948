/*
 * HTTP/2 stage internals shared by http2/http2.c (connections, frames, header blocks),
 * http2/report.c (what a stream reports), http2/message.c (messages) and http2/streams.c.
 */
#ifndef HTTPEEK_HTTP2_INTERNAL_H
#define HTTPEEK_HTTP2_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "output/export.h"
#include "http2/frame.h"
#include "http2/http2.h"
#include "http/http.h"

/* One field of a message being read: offsets into its text. */
struct h2_field {
	uint32_t name, name_len;
	uint32_t value, value_len;
};

enum h2_pseudo { PS_METHOD, PS_PATH, PS_AUTHORITY, PS_STATUS, PS_SCHEME, PS_COUNT };

/*
 * A message read from one or more header blocks (trailers too), its fields bounded by the
 * HTTP limits: past them it is truncated and further fields are dropped.
 */
struct h2_msg {
	struct h2_field *f;
	uint32_t n, fcap;
	char *text;
	uint32_t len, tcap;
	int32_t pseudo[PS_COUNT];   /* index of each pseudo-header field, -1: none */
	uint64_t list_size;         /* RFC 9113 header list size of the current block */
	struct h2_packet at;        /* the packet that completed its first block */
	uint64_t data;              /* DATA bytes so far */
	uint64_t *held;             /* memory counted (kept) */
	uint64_t mem;               /* memory this message holds */
	uint32_t stream;
	bool truncated;
	bool data_unknown;          /* DATA bytes were lost: its length is not known */
	bool failed;                /* out of memory: fields are missing */
};

/* An empty message counted in *held; NULL on allocation failure. */
struct h2_msg *h2_msg_new(uint64_t *held, uint32_t stream);
void h2_msg_free(struct h2_msg *m);

/*
 * Adds one decoded field. Past lim's head size (counted as RFC 9113 does, 32 bytes a field on
 * top) or field count, m is truncated and the field dropped. Returns true when it was kept.
 */
bool h2_msg_add(struct h2_msg *m, const struct http_limits *lim, const uint8_t *name,
		size_t name_len, const uint8_t *value, size_t value_len);

/* Moves the regular fields of trailers t to the end of m (bounded as h2_msg_add). */
void h2_msg_append(struct h2_msg *m, const struct h2_msg *t, const struct http_limits *lim);

/* HTTP_REQUEST (it has :method), HTTP_RESPONSE (:status), or 0 (trailers). */
int h2_msg_kind(const struct h2_msg *m);

/* The :status code, 0 when it is not three digits. */
int h2_msg_status(const struct h2_msg *m);

/*
 * The message as http_message, pointing into m and into *hdrs, an array allocated for its
 * regular fields (free it after use; NULL when there are none). ended: its stream side ended,
 * so that DATA bytes give its length. Returns 0 or -ENOMEM.
 */
int h2_msg_build(const struct h2_msg *m, bool ended, struct http_message *out,
		 struct http_header **hdrs);

#define H2_MAX_STREAMS 16384u  /* streams tracked at once per connection; more are dropped */

/* One stream: the message each side is sending, and what is kept for the exchange. */
struct h2_stream {
	uint32_t id;
	uint32_t depth;               /* its request's number on the connection */
	struct h2_msg *msg[2];        /* per side: the message being read, NULL: none */
	struct http_message *req;     /* the request once reported (a copy; NULL: not kept) */
	struct http_message *resp;    /* a final response reported before its request ended */
	uint64_t req_ts;
	int8_t req_side, resp_side;   /* the sides that sent them, -1: none yet */
	bool req_done, resp_done;     /* reported */
	bool exchanged;               /* net_flow_http written */
	bool pushed;                  /* its request came in a PUSH_PROMISE */
	struct export_list pkts[2];   /* -w: packets of its header frames, per side */
	uint64_t kept_seq[2];         /* the last packet kept per side */
};

struct h2_streams {
	struct h2_stream **slots;     /* nslots, a power of two; NULL: empty */
	uint32_t nslots, count;
	uint64_t *held;               /* memory counted (kept) */
};

/* The stream with id, or NULL. */
struct h2_stream *h2_streams_find(const struct h2_streams *t, uint32_t id);

/* A new empty stream (id must not be in t); NULL past H2_MAX_STREAMS or without memory. */
struct h2_stream *h2_streams_add(struct h2_streams *t, uint32_t id);

/* Frees s (its fields must be freed already) and takes it out of t. */
void h2_streams_remove(struct h2_streams *t, struct h2_stream *s);

/* Every stream of t into out (room for t->count), by id; returns how many. */
uint32_t h2_streams_sorted(const struct h2_streams *t, struct h2_stream **out);

/* Frees the table (the streams must be removed first). */
void h2_streams_free(struct h2_streams *t);

struct hpack;

/* One direction: its framer, its HPACK decoder and the header block in progress. */
struct h2_side {
	struct h2_conn *c;
	int idx;
	struct h2_framer fr;
	struct hpack *hp;
	struct h2_msg *blk;        /* the block being decoded; NULL when it is not kept */
	uint32_t blk_stream;
	uint32_t promised;         /* PUSH_PROMISE: the promised stream */
	bool in_block;             /* between HEADERS (or PUSH_PROMISE) and END_HEADERS */
	bool blk_end_stream, blk_push;
	bool blk_bad;              /* the block cannot be decoded (counted at its end) */
	bool framed;               /* a frame came */
	uint8_t cause;             /* why its blocks cannot be decoded (http2/http2.c) */
	uint32_t table;            /* SETTINGS_HEADER_TABLE_SIZE hp was given */
	uint32_t table_later;      /* to give hp once its block ends; NO_TABLE: none */
	uint32_t announced;        /* the table size this side announced, until ACKed */
	struct h2_packet pk;       /* the packet being read */
};

struct h2_conn {
	const struct h2_env *env;
	struct h2_report rep;
	struct h2_side side[2];
	struct h2_streams streams;
	uint32_t requests;
	int client;
	uint64_t held;             /* memory held now */
	uint64_t counted;          /* what of it env->held has */
};

/* http2/report.c: the reports of a connection's streams. */

/* What a copy of m (http_message_dup) holds, counted as the connection's memory. */
uint64_t h2_message_cost(const struct http_message *m);

/* The stream with id, made when missing; NULL past H2_MAX_STREAMS (counted). */
struct h2_stream *h2_stream_get(struct h2_conn *c, uint32_t id);

/* Frees st: its messages in progress, its copies, its packets. */
void h2_stream_free(struct h2_conn *c, struct h2_stream *st);

/* Reports m, which side sent on st (and frees it); ended: its side of the stream ended. */
void h2_report_built(struct h2_conn *c, struct h2_stream *st, int side, struct h2_msg *m,
		     bool ended);

/* side's message on st is whole: reported; st is freed once it said all it will say. */
void h2_side_ended(struct h2_conn *c, struct h2_stream *st, int side);

/* st ends early (RST_STREAM, the connection's end): what it holds is reported, st freed. */
void h2_flush_stream(struct h2_conn *c, struct h2_stream *st);

#endif
