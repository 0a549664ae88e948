/*
 * HTTP/1.x: a head parser (pure, on a complete head) and a per-direction stream that
 * finds message heads in a byte stream, frames bodies (Content-Length, chunked, no-body
 * rules, close-delimited) and resynchronises after gaps or garbage.
 */
#ifndef HTTPEEK_HTTP_H
#define HTTPEEK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes from the wire: not NUL-terminated, may hold any value. */
struct http_str {
	const char *p;
	uint32_t len;
};

struct http_header {
	struct http_str name;
	struct http_str value;   /* obsolete line folding already joined with single spaces */
};

enum http_kind {
	HTTP_REQUEST = 1,
	HTTP_RESPONSE = 2,
};

/* The proxy tunnel a message came through (set by the consumer); via is empty for none. */
struct http_tunnel {
	struct http_str via;        /* "connect", "socks4", "socks5" */
	struct http_str proxy;      /* the proxy's address and port */
	struct http_str target;     /* where the client asked the proxy to go: "host:port" */
};

struct http_message {
	enum http_kind kind;
	uint64_t ts_ns;             /* time of the packet that completed the head */
	struct http_str method;     /* request: as sent */
	struct http_str target;     /* request: request-target as sent (with query) */
	struct http_str protocol;   /* "HTTP/1.1" as sent; "HTTP/0.9" for a request without one */
	struct http_str host;       /* request: authority of an absolute-form target, else Host */
	struct http_str path;       /* request: target path without query or fragment */
	struct http_str status;     /* response: code and reason, "200 OK" */
	int status_code;            /* response */
	uint32_t stream_id;         /* HTTP/2: the stream that carried it; 0 for HTTP/1.x */
	struct http_header *headers;
	uint32_t n_headers;
	/*
	 * The body's length as the head gives it: Content-Length when valid; 0 for a request
	 * without one and a 1xx, 204 or 304 response; -1 when Transfer-Encoding is present, a
	 * request's Content-Length is invalid, or a response's body runs to the close (also
	 * when its Content-Length is invalid). docs/EVENTS.md, content_length.
	 */
	int64_t content_length;
	bool chunked;
	bool truncated;             /* head over the size or field limit: fields may be missing */
	struct http_tunnel tunnel;  /* never set by the parser */
	struct http_str head;       /* the parsed head the strings above point into, or empty */
	/*
	 * Not 0: the parse cache's parse this message came from; messages with the same id have
	 * the same strings (what the parser set; the tunnel and truncated are set after it).
	 */
	uint64_t parse_id;
};

struct http_limits {
	uint32_t max_head;          /* bytes in one head */
	uint32_t max_fields;        /* header fields in one head */
	/*
	 * Live: after bytes that never came, look for the next message only where the source
	 * marks a boundary (http_stream_boundary()), never by what the bytes look like: what
	 * follows a lost body may be more body that looks like a head. Offline (false): at the
	 * start of a line, and at the start of every piece http_stream_data() is handed (a TCP
	 * segment), where a sender often begins a message right after body bytes.
	 */
	bool resync_at_marks;
	/*
	 * Live: CONNECT and SOCKS tunnels stay opaque (the kernel copies none of their bytes).
	 * Offline (false): what a tunnel carries is parsed when it is HTTP/1.
	 */
	bool opaque_tunnels;
};

#define HTTP_DEFAULT_MAX_HEAD (64u * 1024u)
#define HTTP_DEFAULT_MAX_FIELDS 512u

/*
 * Parses one complete head (start line through the empty line) held in buf[0..len).
 * Rewrites buf in place (line folding); msg and its strings point into buf and hdrs.
 * hdrs has room for max_hdrs fields; more set msg->truncated. Returns 0, or -EINVAL
 * when the start line is not HTTP/1.x (or HTTP/0.9).
 */
int http_parse_head(char *buf, size_t len, struct http_message *msg, struct http_header *hdrs,
		    uint32_t max_hdrs);

/*
 * Parses a start line cut short (buf holds no line end; what followed never came): a status
 * line with its code, or a request line with a target and as much of its version as came
 * ("GET /a HTT": protocol "HTT"; "GET /a": protocol ""). msg is truncated, without fields;
 * its strings point into buf. Returns 0, or -EINVAL when too little is there to tell.
 */
int http_parse_cut_start(const char *buf, size_t len, struct http_message *msg);

/* True when buf (len bytes, possibly fewer than a whole line) may begin a message. */
bool http_looks_like_start(const uint8_t *buf, size_t len);

/* A deep copy of msg in one allocation (free with free()); NULL on allocation failure. */
struct http_message *http_message_dup(const struct http_message *msg);

/* The bytes a deep copy of msg takes; http_message_copy makes one in mem (that many or more). */
size_t http_message_copy_size(const struct http_message *msg);
struct http_message *http_message_copy(void *mem, const struct http_message *msg);

/* What the consumer of a head says about the body that follows it. */
enum http_next {
	HTTP_NEXT_DEFAULT = 0,   /* frame the body by the head's own rules */
	HTTP_NEXT_NO_BODY,       /* e.g. the response to HEAD */
	HTTP_NEXT_TUNNEL,        /* e.g. 101: stop parsing this direction */
	HTTP_NEXT_INNER,         /* 2xx to CONNECT: what follows is the tunnelled connection */
};

typedef enum http_next (*http_emit_fn)(void *ctx, const struct http_message *msg);

struct http_stats {
	uint64_t messages;
	uint64_t truncated_heads;
	uint64_t parse_failures;    /* bytes where a head should start that are not HTTP */
	uint64_t resyncs;
	uint64_t gap_losses;        /* missing bytes where a head or chunk framing was due */
	uint64_t cache_hits;        /* heads copied from the parse cache instead of parsed */
	uint64_t cache_misses;      /* heads the cache could hold that were parsed */
	uint64_t head_bytes;        /* now: memory the buffers of heads in progress hold */
};

/*
 * Heads parsed lately, shared by the streams given it (live, every message is seen twice
 * and clients repeat themselves). Counts its hits and misses in stats (kept, not owned;
 * may be NULL). One cache is not for concurrent use from threads. NULL on allocation
 * failure; http_parse_cache_free accepts NULL.
 */
struct http_parse_cache;
struct http_parse_cache *http_parse_cache_new(struct http_stats *stats);
void http_parse_cache_free(struct http_parse_cache *c);

struct http_stream;  /* one direction of one flow; defined in http/stream.c */

/*
 * A new stream; NULL on allocation failure. lim, stats and cache (NULL: none) are kept,
 * not copied or owned.
 */
struct http_stream *http_stream_new(const struct http_limits *lim, struct http_stats *stats,
				    struct http_parse_cache *cache);

/*
 * In-order bytes; emits each complete head through emit(ctx, msg). Returns the bytes read:
 * len, or fewer when the stream became a tunnel (101, HTTP/2) in front of the rest.
 */
size_t http_stream_data(struct http_stream *s, const uint8_t *bytes, size_t len, uint64_t ts_ns,
			http_emit_fn emit, void *ctx);

/*
 * len bytes are missing: skipped inside a body of known length, else resynchronise. A head
 * in progress whose start line is known (or cut, see http_parse_cut_start) is emitted first,
 * truncated.
 */
void http_stream_gap(struct http_stream *s, size_t len, http_emit_fn emit, void *ctx);

/*
 * The stream goes on from the middle of a message whose start was reported, or lost: it is
 * read from the next message start on (after a mark, live), and the bytes before it are no
 * parse failure. For a new stream only (a connection the memory limit ended came back).
 */
void http_stream_resume(struct http_stream *s);

/* The next byte starts between two messages (the source knows): resynchronise there. */
void http_stream_boundary(struct http_stream *s);

/* The direction ended (FIN or flow end): a close-delimited body ends here. */
void http_stream_end(struct http_stream *s, http_emit_fn emit, void *ctx);

/* From now on the stream carries opaque bytes (the peer direction became a tunnel). */
void http_stream_set_tunnel(struct http_stream *s);

/* Memory the stream holds for a head in progress (0 between heads). */
size_t http_stream_held(const struct http_stream *s);

/*
 * From now on the stream carries a connection tunnelled through a proxy (CONNECT, SOCKS):
 * parsed when its first bytes begin an HTTP/1 message, else opaque (TLS) from there on, no
 * failure counted.
 */
void http_stream_set_inner(struct http_stream *s);

/* True once the stream became a tunnel (101, HTTP/2, opaque bytes in a proxy tunnel). */
bool http_stream_is_tunnel(const struct http_stream *s);

/*
 * True once the stream was found to speak HTTP/2: the connection preface ("PRI *
 * HTTP/2.0"), or a SETTINGS frame as its first bytes. It is then a tunnel for HTTP/1.x.
 */
bool http_stream_is_h2(const struct http_stream *s);

/* True when it was the preface: its first line ("PRI * HTTP/2.0\r\n") was read. */
bool http_stream_h2_preface(const struct http_stream *s);

void http_stream_free(struct http_stream *s);

#endif
