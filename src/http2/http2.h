/*
 * HTTP/2 connections: both directions framed (http2/frame.h), header blocks decoded with one
 * HPACK decoder per direction (http2/hpack.h), messages per stream, requests paired with responses
 * by stream id. What it finds goes out through the callbacks the session gives it.
 *
 * A request is one request header block (HEADERS and its CONTINUATIONs, or a PUSH_PROMISE); a
 * response is a header block with :status, each 1xx its own; trailers go into the message
 * they end. A message is reported when its side of the stream ends (END_STREAM, so that its
 * DATA bytes are known), when the stream is reset, or when the connection ends; a 1xx at
 * once. An exchange is reported once both of its messages were.
 */
#ifndef HTTPEEK_HTTP2_H
#define HTTPEEK_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "output/export.h"
#include "http/http.h"

/* What the HTTP/2 connections count; header blocks not decoded are counted per cause. */
struct h2_stats {
	uint64_t connections;       /* found to speak HTTP/2 */
	uint64_t joined;            /* of them, found in mid-connection (no preface seen) */
	uint64_t blocks;            /* header blocks seen */
	uint64_t not_decoded_joined;    /* blocks on connections joined midway */
	uint64_t not_decoded_lost;      /* blocks after a lost block or lost framing */
	uint64_t not_decoded_hpack;     /* blocks the HPACK decoder refused, and after them */
	uint64_t too_large;         /* header lists past the head limit: truncated (HPACK bombs) */
	uint64_t bad_prefaces;      /* client directions that did not start with the preface */
	uint64_t malformed_frames;  /* frames whose lengths do not add up, stray CONTINUATIONs */
	uint64_t no_settings;       /* directions whose first frame was not SETTINGS */
	uint64_t streams_dropped;   /* streams past H2_MAX_STREAMS open on one connection */
	uint64_t data_bytes;        /* DATA payload bytes */
	uint64_t grpc_errors;       /* exchanges answered 200 with grpc-status other than 0 */
};

/*
 * One exchange of a stream. A message seen may still be NULL when no copy of it was kept
 * (h2_env.keep_requests false): has_request and has_response say what was seen.
 */
struct h2_exchange {
	const struct http_message *request;
	const struct http_message *response;
	bool has_request, has_response;
	int client_side;            /* the side that asked (did not answer, received a push) */
	int response_side;          /* -1: no response */
	uint32_t depth;             /* 1 for the first request on the connection */
	uint64_t request_ts;        /* the request's time, when seen */
	struct export_list *request_pkts, *response_pkts;  /* -w: the stream's header frames */
};

/* The packet bytes came in: its time, its IP length and interface (for the events). */
struct h2_packet {
	uint64_t ts_ns;
	uint32_t ip_len, ifindex;
};

/* Where a connection's findings go (the session). */
struct h2_report {
	/*
	 * A message side sent; at: the packet that completed its header block; request: the
	 * request it answers (NULL if unknown); pkts: the packets of the stream's frames from
	 * side (-w), for the callee to write or leave.
	 */
	void (*message)(void *ctx, int side, const struct http_message *msg,
			const struct h2_packet *at, const struct http_message *request,
			struct export_list *pkts);
	void (*exchange)(void *ctx, const struct h2_exchange *x);
	void *ctx;
};

/* What every connection shares; kept, not owned. */
struct h2_env {
	const struct http_limits *lim;  /* max_head and max_fields bound each header list */
	struct http_stats *http;        /* messages counted there */
	struct h2_stats *stats;
	uint64_t *held;                 /* memory of every connection, counted */
	struct export *exp;             /* -w: packets of header frames kept per stream; NULL */
	const uint64_t *packet_seq;     /* number of the packet being read (with exp) */
	bool keep_requests;             /* exchanges need a copy of their request */
};

enum h2_start {
	H2_START_PREFACE,  /* side client sent the preface ("PRI * HTTP/2.0\r\n" already read) */
	H2_START_SETTINGS, /* side !client began with a SETTINGS frame (nothing of it read) */
	H2_START_UPGRADE,  /* a 101 switched an HTTP/1.1 connection to h2c */
	H2_START_JOINED,   /* frames in mid-connection: nothing can be decoded */
};

struct h2_conn;

/*
 * A connection that speaks HTTP/2 from now on; client is the side that sends requests. NULL
 * on allocation failure.
 */
struct h2_conn *h2_conn_new(const struct h2_env *env, const struct h2_report *rep,
			    enum h2_start start, int client);

/*
 * H2_START_UPGRADE: the HTTP/1.1 request that asked for the upgrade is stream 1's request
 * (already reported). req (a copy made with http_message_dup, or NULL) and the packets in
 * pkts (NULL: none) are taken over.
 */
void h2_conn_upgraded(struct h2_conn *c, struct http_message *req, uint32_t depth,
		      struct export_list *pkts);

/* In-order bytes side sent, carried by the packet pk; piece: they begin a segment. */
void h2_conn_data(struct h2_conn *c, int side, const uint8_t *p, size_t n,
		  const struct h2_packet *pk, bool piece);

/* n bytes side sent never came. */
void h2_conn_gap(struct h2_conn *c, int side, size_t n);

/* The next byte of side begins a frame (the kernel framed it). */
void h2_conn_boundary(struct h2_conn *c, int side);

/* Memory the connection holds (also counted in env->held). */
uint64_t h2_conn_held(const struct h2_conn *c);

/* The connection ended: reports what its open streams hold, then frees c (NULL accepted). */
void h2_conn_free(struct h2_conn *c);

/* True when p[0..n) look like HTTP/2 frames in mid-connection (h2_frames_plausible). */
bool h2_conn_looks_joined(const uint8_t *p, size_t n);

/* gRPC: the grpc-status field of m (a response or its trailers), -1 when it has none. */
int h2_grpc_status(const struct http_message *m);

/* Header blocks that could not be decoded, every cause together. */
uint64_t h2_not_decoded(const struct h2_stats *s);

/*
 * The summary's HTTP/2 line on f: connections, header blocks, what could not be decoded and
 * why, what was malformed or cut. Nothing when no connection spoke HTTP/2.
 */
void h2_print_summary(FILE *f, const struct h2_stats *s);

#endif
