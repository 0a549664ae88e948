/*
 * Heads parsed lately. Live, every message is seen twice (at egress and at ingress) and
 * clients repeat themselves: a head equal byte for byte to one of these, parsed with the same
 * field limit, is not parsed again. http_parse_head depends on nothing else.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "http/parse_cache.h"

#define PARSE_CACHE 4

static uint64_t parse_ids;  /* the last id given to a parse */

struct parsed_head {
	bool used;
	uint64_t id;                /* unique in the process, never reused */
	int err;
	uint32_t len, max;
	bool rewritten;             /* out differs from in */
	int32_t field_lines;        /* a whole head (through its first empty line): its field
				     * lines; -1: not one, or parsing failed */
	char in[HTTP_CACHE_HEAD];   /* the head as buffered */
	char out[HTTP_CACHE_HEAD];  /* the head after parsing (folding rewrites it) */
	struct http_message m;      /* strings point into out (or at static text) */
	struct http_header hdrs[HTTP_CACHE_FIELDS];
};

struct http_parse_cache {
	struct parsed_head heads[PARSE_CACHE];
	uint32_t next;               /* the slot the next miss fills, mod PARSE_CACHE */
	struct http_stats *stats;    /* NULL: not counted */
};

struct http_parse_cache *http_parse_cache_new(struct http_stats *stats)
{
	struct http_parse_cache *c = calloc(1, sizeof(*c));

	if (c)
		c->stats = stats;
	return c;
}

void http_parse_cache_free(struct http_parse_cache *c)
{
	free(c);
}

/* Moves x from pointing into from[0..len] to the same offset in to; other pointers stay. */
static void rebase(struct http_str *x, const char *from, size_t len, const char *to)
{
	uintptr_t off = (uintptr_t)x->p - (uintptr_t)from;  /* wraps when x is before from */

	if (off <= len)
		x->p = to + off;
}

static void rebase_message(struct http_message *m, const char *from, size_t len,
			   const char *to)
{
	rebase(&m->method, from, len, to);
	rebase(&m->target, from, len, to);
	rebase(&m->protocol, from, len, to);
	rebase(&m->host, from, len, to);
	rebase(&m->path, from, len, to);
	rebase(&m->status, from, len, to);
	rebase(&m->head, from, len, to);
	for (uint32_t i = 0; i < m->n_headers; i++) {
		rebase(&m->headers[i].name, from, len, to);
		rebase(&m->headers[i].value, from, len, to);
	}
}

/*
 * The field lines of a whole head: a start line, then lines up to the first empty one ("" or
 * "\r" before the '\n'), which ends buf; -1 when buf is not one.
 */
static int32_t whole_head_lines(const char *buf, size_t len)
{
	const char *q = memchr(buf, '\n', len), *line;
	int32_t fields = 0;

	while (q && (size_t)(q + 1 - buf) < len) {
		line = q + 1;
		q = memchr(line, '\n', len - (size_t)(line - buf));
		if (q && (q == line || (q == line + 1 && line[0] == '\r')))
			return (size_t)(q + 1 - buf) == len ? fields : -1;
		fields++;
	}
	return -1;
}

/* A cached parse of buf[0..len) with the field limit max, or NULL. */
static const struct parsed_head *find_parsed(const struct http_parse_cache *pc, const char *buf,
					     size_t len, uint32_t max)
{
	for (uint32_t i = 0; i < PARSE_CACHE; i++) {
		const struct parsed_head *c = &pc->heads[i];

		if (c->used && c->len == len && c->max == max && !memcmp(c->in, buf, len))
			return c;
	}
	return NULL;
}

/* c's parse for the head in buf (as parsed: rewritten when c was). */
static void replay(const struct parsed_head *c, const char *buf, struct http_message *m,
		   struct http_header *hdrs)
{
	*m = c->m;
	m->headers = hdrs;
	if (m->n_headers)
		memcpy(hdrs, c->hdrs, m->n_headers * sizeof(*hdrs));
	rebase_message(m, c->out, c->len, buf);
}

int http_parse_cached(struct http_parse_cache *pc, char *buf, size_t len,
		      struct http_message *msg, struct http_header *hdrs, uint32_t max_hdrs)
{
	const struct parsed_head *hit;
	struct parsed_head *c;
	int err;

	if (!pc || !len || len > HTTP_CACHE_HEAD || max_hdrs > HTTP_CACHE_FIELDS)
		return http_parse_head(buf, len, msg, hdrs, max_hdrs);
	hit = find_parsed(pc, buf, len, max_hdrs);
	if (pc->stats) {
		pc->stats->cache_hits += hit != NULL;
		pc->stats->cache_misses += hit == NULL;
	}
	if (hit) {
		if (!hit->err && hit->rewritten)
			memcpy(buf, hit->out, len);  /* buf holds hit->in */
		if (!hit->err)
			replay(hit, buf, msg, hdrs);
		return hit->err;
	}
	c = &pc->heads[pc->next++ % PARSE_CACHE];
	memcpy(c->in, buf, len);
	err = http_parse_head(buf, len, msg, hdrs, max_hdrs);
	c->used = true;
	c->id = __atomic_add_fetch(&parse_ids, 1, __ATOMIC_RELAXED);
	c->err = err;
	c->len = (uint32_t)len;
	c->max = max_hdrs;
	c->field_lines = err ? -1 : whole_head_lines(c->in, len);
	if (err)
		return err;
	memcpy(c->out, buf, len);
	c->rewritten = memcmp(c->out, c->in, len) != 0;
	msg->parse_id = c->id;
	c->m = *msg;
	c->m.headers = c->hdrs;
	if (msg->n_headers)
		memcpy(c->hdrs, hdrs, msg->n_headers * sizeof(*hdrs));
	rebase_message(&c->m, buf, len, c->out);
	return 0;
}

bool http_parse_known_head(struct http_parse_cache *pc, const char *buf, size_t lim,
			   uint32_t max_fields, size_t *len, struct http_message *msg,
			   struct http_header *hdrs)
{
	for (uint32_t i = 0; pc && i < PARSE_CACHE; i++) {
		const struct parsed_head *c = &pc->heads[i];
		uint32_t lines = (uint32_t)c->field_lines;

		if (!c->used || c->field_lines < 0 || c->rewritten || c->len > lim ||
		    c->max != (max_fields < lines + 1 ? max_fields : lines + 1) ||
		    memcmp(c->in, buf, c->len))
			continue;
		if (pc->stats)
			pc->stats->cache_hits++;
		replay(c, buf, msg, hdrs);
		*len = c->len;
		return true;
	}
	return false;
}
