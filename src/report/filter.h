/*
 * Event filters (-f EXPR): terms on HTTP fields, addresses, ports, direction and, live, the
 * socket's owner; all terms must match. docs/FILTERS.md gives the semantics.
 */
#ifndef HTTPEEK_FILTER_H
#define HTTPEEK_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include "decode/decode.h"
#include "http/http.h"
#include "live/kernel_filter.h"
#include "pipeline/owner.h"

#define FILTER_MAX_TERMS 32
#define FILTER_MAX_TEXT 256

enum filter_field {
	FILTER_METHOD = 1,
	FILTER_STATUS,
	FILTER_HOST,
	FILTER_PATH,
	FILTER_HEADER,
	FILTER_PORT,
	FILTER_SRC,
	FILTER_DST,
	FILTER_DIRECTION,
	FILTER_TLS,
	FILTER_GRPC_STATUS,
	FILTER_COMM,       /* live only from here on */
	FILTER_PID,
	FILTER_UID,
	FILTER_CONTAINER,
	FILTER_CGROUP,
};

enum filter_op { FILTER_EQ, FILTER_NE, FILTER_LT, FILTER_LE, FILTER_GT, FILTER_GE };

struct filter_term {
	const char *expr;             /* as given (kept, not copied) */
	enum filter_field field;
	enum filter_op op;
	uint64_t num;                 /* status, grpc_status, port, pid, uid, direction, cgroup */
	uint8_t family, prefix;       /* src, dst */
	uint8_t addr[16];
	char name[FILTER_MAX_TEXT];   /* header name */
	char text[FILTER_MAX_TEXT];   /* glob or container id prefix */
};

struct filter_set {
	struct filter_term terms[FILTER_MAX_TERMS];
	unsigned n;
};

/* What one event is about. A response is judged together with its request (may be NULL). */
struct filter_subject {
	uint8_t family;
	const struct endpoint *src, *dst;  /* message: sender, receiver; exchange: client, server */
	enum direction dir;
	const struct http_message *request;
	const struct http_message *response;
	const struct owner *owner;         /* NULL offline or when unknown */
	bool tls;                          /* live: from TLS library calls */
};

/*
 * Parses one expression ("status>=500", "header:User-Agent=*curl*", ...) and appends it to f
 * (expr is kept, not copied). Returns 0, or -EINVAL after printing a one-line error naming the expression on stderr.
 */
int filter_add(struct filter_set *f, const char *expr);

/* The first term that only live mode can evaluate (comm, pid, uid, ...), or NULL. */
const struct filter_term *filter_live_term(const struct filter_set *f);

/* True when some term reads request fields (method, host, path, header). */
bool filter_needs_request(const struct filter_set *f);

/* True when every term of f matches s (an empty set matches everything). */
bool filter_match(const struct filter_set *f, const struct filter_subject *s);

/* False when a term excludes everything read from TLS (tls=no, tls!=yes). */
bool filter_wants_tls(const struct filter_set *f);

/*
 * Fills k with what the kernel can check per packet: the first port= term and, unless
 * exchanges are selected (their src/dst are client/server, not per packet), the first src=
 * and dst= terms.
 */
void filter_kernel(const struct filter_set *f, bool exchanges, struct kernel_filter *k);

/* fnmatch-style glob (*, ?, [set], [!set], \ escapes) on len bytes; fold: ASCII case-blind. */
bool filter_glob(const char *pat, const char *s, uint32_t len, bool fold);

#endif
