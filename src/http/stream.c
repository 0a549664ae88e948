// SPDX-License-Identifier: GPL-2.0
/*
 * One direction of an HTTP/1.x connection: finds message heads in the byte stream, frames
 * bodies (no-body rules, Content-Length, chunked, close-delimited) and resynchronises after
 * gaps, garbage and oversize heads. Idle streams hold no head buffer.
 */
#include <stdlib.h>
#include <string.h>
#include "frame/token.h"
#include "http/http.h"
#include "http/parse_cache.h"

#define HEAD_MIN_CAP 1024u
#define MIN_MAX_HEAD 64u
#define STACK_FIELDS HTTP_CACHE_FIELDS

enum state { ST_HEAD, ST_BODY, ST_CHUNK, ST_CLOSE, ST_DISCARD, ST_RESYNC, ST_TUNNEL };

enum chunk_state {
	CH_SIZE, CH_SIZE_WS, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER,
};

/* What the current line holds so far, when only its emptiness matters. */
enum line_state { LINE_EMPTY, LINE_CR, LINE_TEXT };

struct http_stream {
	const struct http_limits *lim;
	struct http_stats *st;
	struct http_parse_cache *cache;  /* NULL: none */
	char *buf;               /* the head so far; NULL between heads */
	uint64_t remaining;      /* body or chunk bytes left; the chunk size being read */
	uint64_t ts_ns;          /* time of the latest piece */
	uint32_t len, cap;
	uint32_t line_start;     /* offset in the head of the line being read */
	uint32_t nlines;         /* field lines ended so far (a bound on the field count) */
	uint32_t aux;            /* chunk size digits, extension or trailer bytes */
	uint32_t piece_at;       /* resync: where in the start line a piece began with "HTTP/" */
	uint8_t state, chunk, line;
	bool line1;              /* the head's start line is complete and valid */
	bool resyncing;          /* sync lost: no new failure counted, no HTTP/0.9 accepted */
	bool at_line_start;      /* resync: the next byte begins a line */
	bool wait_mark;          /* resync only at http_stream_boundary() (after a gap, live) */
	bool fresh;              /* no byte came yet */
	uint8_t h2;              /* it speaks HTTP/2 (ST_TUNNEL): H2_BY_* */
	bool inner;              /* a proxy tunnel's first bytes are due: HTTP or opaque */
};

static const struct http_limits default_limits = {
	.max_head = HTTP_DEFAULT_MAX_HEAD,
	.max_fields = HTTP_DEFAULT_MAX_FIELDS,
};

static struct http_stats unused_stats;

static size_t min_size(size_t a, uint64_t b)
{
	return b < a ? (size_t)b : a;
}

static uint32_t max_head(const struct http_stream *s)
{
	return s->lim->max_head < MIN_MAX_HEAD ? MIN_MAX_HEAD : s->lim->max_head;
}

static void drop_head(struct http_stream *s)
{
	s->st->head_bytes -= s->cap;
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
	s->line_start = s->nlines = s->piece_at = 0;
	s->line1 = false;
}

/* Sync is lost: look for the next message start. */
static void lose(struct http_stream *s, bool at_line_start, bool bad_start)
{
	if (!s->resyncing) {
		s->st->parse_failures += bad_start;
		s->st->resyncs++;
	}
	drop_head(s);
	s->state = ST_RESYNC;
	s->resyncing = true;
	s->at_line_start = at_line_start;
}

/* Appends to the head; the caller keeps len + n <= max_head. */
static bool append(struct http_stream *s, const uint8_t *p, size_t n)
{
	size_t cap = s->cap ? s->cap : HEAD_MIN_CAP;
	char *b;

	if (s->len + n > s->cap) {
		while (cap < s->len + n)
			cap *= 2;
		if (cap > max_head(s))
			cap = max_head(s);
		b = realloc(s->buf, cap);
		if (!b)
			return false;
		s->buf = b;
		s->st->head_bytes += cap - s->cap;
		s->cap = (uint32_t)cap;
	}
	if (n)
		memcpy(s->buf + s->len, p, n);
	s->len += (uint32_t)n;
	return true;
}

enum start { START_BAD = -1, START_OK, START_HTTP09, START_H2 };

enum { H2_NO, H2_BY_PREFACE, H2_BY_SETTINGS };

static bool has_blank(const struct http_str *t)
{
	for (uint32_t i = 0; i < t->len; i++)
		if (t->p[i] == ' ' || t->p[i] == '\t' || t->p[i] == '\r')
			return true;
	return false;
}

/*
 * The buffered start line: a request or status line, an HTTP/0.9 request (all its head), the
 * HTTP/2 connection preface, or not HTTP/1.x. Resynchronising, only what cannot be body text
 * counts: a request has a version and a target without blanks.
 */
static enum start check_start(struct http_stream *s)
{
	static const char preface[] = "PRI * HTTP/2.0";
	struct http_message m;
	uintptr_t proto, b = (uintptr_t)s->buf;

	if (http_parse_cached(s->cache, s->buf, s->len, &m, NULL, 0))
		return START_BAD;
	if (m.kind == HTTP_REQUEST && s->resyncing && (has_blank(&m.target) || !m.protocol.len))
		return START_BAD;
	if (s->len >= sizeof(preface) - 1 && !memcmp(s->buf, preface, sizeof(preface) - 1))
		return START_H2;
	proto = (uintptr_t)m.protocol.p;
	if (m.kind == HTTP_REQUEST && (proto < b || proto >= b + s->len))
		return s->resyncing ? START_BAD : START_HTTP09;
	return START_OK;
}

/* A proxy tunnel that does not carry HTTP/1: opaque from here on. */
static void become_opaque(struct http_stream *s)
{
	drop_head(s);
	s->state = ST_TUNNEL;
}

/* HTTP/2 from here on: nothing more is HTTP/1.x. */
static void become_h2(struct http_stream *s, uint8_t by)
{
	drop_head(s);
	s->h2 = by;
	s->state = ST_TUNNEL;
}

/* An HTTP/2 SETTINGS frame header (the first frame a peer sends): length a multiple of 6. */
static bool is_h2_settings(const uint8_t *p, size_t n)
{
	uint32_t len;

	if (n < 9)
		return false;
	len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	return len % 6 == 0 && len <= 16384 && p[3] == 0x04 && p[4] <= 1 && !p[5] && !p[6] &&
	       !p[7] && !p[8];
}

/* The head's first bytes (buffered, then p) may begin a message. */
static bool start_ok(const struct http_stream *s, const uint8_t *p, size_t n)
{
	uint8_t probe[HTTP_START_PROBE];
	size_t k = s->len, m;

	if (k >= HTTP_START_PROBE)
		return true;
	if (k)
		memcpy(probe, s->buf, k);
	m = min_size(n, HTTP_START_PROBE - k);
	memcpy(probe + k, p, m);
	return http_looks_like_start(probe, k + m);
}

static void frame(struct http_stream *s, const struct http_message *m, enum http_next next,
		  bool truncated)
{
	bool resp = m->kind == HTTP_RESPONSE;
	int c = m->status_code;

	if (next == HTTP_NEXT_TUNNEL || (resp && c == 101))
		s->state = ST_TUNNEL;
	else if (next == HTTP_NEXT_INNER)
		http_stream_set_inner(s);
	else if (truncated)
		s->state = ST_DISCARD;
	else if (next == HTTP_NEXT_NO_BODY || (resp && (c / 100 == 1 || c == 204 || c == 304)))
		s->state = ST_HEAD;
	else if (m->chunked)
		s->state = ST_CHUNK;
	else if (m->content_length > 0)
		s->state = ST_BODY;
	else if (m->content_length < 0 && resp)
		s->state = ST_CLOSE;
	else
		s->state = ST_HEAD;
	s->remaining = s->state == ST_BODY ? (uint64_t)m->content_length : 0;
	s->chunk = CH_SIZE;
	s->aux = 0;
}

/* Parses the first len buffered bytes as a head, emits it and frames what follows. */
static void complete(struct http_stream *s, size_t len, bool truncated, http_emit_fn emit,
		     void *ctx)
{
	struct http_header stack[STACK_FIELDS], *hdrs = stack;
	uint32_t max = s->lim->max_fields;
	enum http_next next = HTTP_NEXT_DEFAULT;
	struct http_message m;

	if (max > s->nlines + 1)
		max = s->nlines + 1;
	if (max > STACK_FIELDS) {
		hdrs = malloc(max * sizeof(*hdrs));
		if (!hdrs) {
			hdrs = stack;
			max = STACK_FIELDS;
		}
	}
	if (http_parse_cached(s->cache, s->buf, len, &m, hdrs, max)) {
		lose(s, false, true);
	} else {
		m.ts_ns = s->ts_ns;
		m.truncated |= truncated;
		s->st->messages++;
		s->resyncing = false;
		s->state = ST_HEAD;
		if (emit)
			next = emit(ctx, &m);
		/* emit() may have made this stream a tunnel. */
		if (s->state != ST_TUNNEL)
			frame(s, &m, next, truncated);
	}
	if (hdrs != stack)
		free(hdrs);
	drop_head(s);
}

static uint8_t line_after(uint8_t line, const uint8_t *p, size_t n)
{
	if (!n)
		return line;
	return line == LINE_EMPTY && n == 1 && p[0] == '\r' ? LINE_CR : LINE_TEXT;
}

/* Emits a start line cut short (no line end came), truncated; false when it says too little. */
static bool emit_cut_start(struct http_stream *s, http_emit_fn emit, void *ctx)
{
	struct http_message m;

	if (http_parse_cut_start(s->buf, s->len, &m))
		return false;
	m.ts_ns = s->ts_ns;
	s->st->messages++;
	s->resyncing = false;
	if (emit)
		emit(ctx, &m);
	return true;
}

/*
 * A head cut short by max_head or by the end of the stream: emits what it holds when its start
 * line is known (or, at the end, cut but telling); past max_head, the rest of the head is
 * discarded.
 */
static void cut_head(struct http_stream *s, bool at_end, http_emit_fn emit, void *ctx)
{
	bool was_resyncing = s->resyncing;

	if (!s->line1 && s->resyncing) {
		lose(s, false, false);
		return;
	}
	s->st->truncated_heads++;
	if (s->line1)
		complete(s, s->line_start, true, emit, ctx);
	else if (!at_end || !emit_cut_start(s, emit, ctx))
		s->state = ST_DISCARD;
	if (!s->line1)
		s->line = LINE_TEXT;
	drop_head(s);
	if (s->state == ST_DISCARD && !at_end) {
		if (!was_resyncing)
			s->st->resyncs++;
		s->resyncing = true;
	}
}

/*
 * Finds the empty line that ends a head or a trailer section in p; returns the bytes through
 * it, or 0. Keeps the state of the line in progress, and where it starts in a head.
 */
static size_t find_blank(struct http_stream *s, const uint8_t *p, size_t n)
{
	size_t i = 0, j;
	const uint8_t *q;

	while ((q = memchr(p + i, '\n', n - i))) {
		j = (size_t)(q - p);
		if (line_after(s->line, p + i, j - i) != LINE_TEXT) {
			s->line = LINE_EMPTY;
			return j + 1;
		}
		s->line = LINE_EMPTY;
		i = j + 1;
		s->line_start = (uint32_t)(s->len + i);
		s->nlines++;
	}
	s->line = line_after(s->line, p + i, n - i);
	return 0;
}

/* Accumulates field lines in p[0..lim) until the empty line. */
static size_t scan_head(struct http_stream *s, const uint8_t *p, size_t lim, http_emit_fn emit,
			void *ctx)
{
	size_t end = find_blank(s, p, lim), used = end ? end : lim;

	if (!append(s, p, used))
		lose(s, false, false);
	else if (end)
		complete(s, s->len, false, emit, ctx);
	else if (s->len >= max_head(s))
		cut_head(s, false, emit, ctx);
	return used;
}

/* Accumulates the start line; returns the bytes used (the state may change). */
static size_t scan_start(struct http_stream *s, const uint8_t *p, size_t lim, http_emit_fn emit,
			 void *ctx)
{
	const uint8_t *q = memchr(p, '\n', lim);
	size_t used = q ? (size_t)(q - p) + 1 : lim;
	enum start r;

	if (!append(s, p, used)) {
		lose(s, false, false);
		return used;
	}
	if (!q) {
		if (s->len >= max_head(s))
			cut_head(s, false, emit, ctx);
		return used;
	}
	r = check_start(s);
	if (r == START_BAD && s->piece_at) {
		/* "...body bytesHTTP/1.1 200 OK": the status line began a segment of its own. */
		s->len -= s->piece_at;
		memmove(s->buf, s->buf + s->piece_at, s->len);
		s->piece_at = 0;
		r = check_start(s);
	}
	if (r == START_BAD && s->inner) {
		become_opaque(s);  /* "220 smtp ready": not HTTP in the tunnel */
		return used;
	}
	s->inner = false;
	if (r == START_BAD) {
		lose(s, true, true);
		return used;
	}
	if (r == START_H2) {
		become_h2(s, H2_BY_PREFACE);
		return used;
	}
	s->line1 = true;
	s->line_start = s->len;
	s->nlines = 0;
	s->line = LINE_EMPTY;
	if (r == START_HTTP09)
		complete(s, s->len, false, emit, ctx);
	return used;
}

/*
 * Nothing buffered, a valid start at p, and p starts with a whole head parsed lately as it is:
 * emitted from where it lies, as scan_start, scan_head and complete would. A whole head is
 * parsed only after start_ok and check_start took its start (not the preface, not HTTP/0.9),
 * which its start line alone decides, so a known one passes them. Returns the bytes used, or
 * 0 (nothing changed) for the general path.
 */
static size_t whole_head(struct http_stream *s, const uint8_t *p, size_t n, http_emit_fn emit,
			 void *ctx)
{
	struct http_header hdrs[STACK_FIELDS];
	enum http_next next = HTTP_NEXT_DEFAULT;
	struct http_message m;
	size_t len;

	if (!http_parse_known_head(s->cache, (const char *)p, min_size(n, max_head(s)),
				   s->lim->max_fields, &len, &m, hdrs))
		return 0;
	m.ts_ns = s->ts_ns;
	s->st->messages++;
	s->line = LINE_EMPTY;
	if (emit)
		next = emit(ctx, &m);
	if (s->state != ST_TUNNEL)
		frame(s, &m, next, false);
	return len;
}

static size_t feed_head(struct http_stream *s, const uint8_t *p, size_t n, http_emit_fn emit,
			void *ctx)
{
	size_t skip = 0, used;

	if (!s->len) {
		while (skip < n && (p[skip] == '\r' || p[skip] == '\n'))
			skip++;
		if (skip == n)
			return n;
		p += skip;
		n -= skip;
	}
	if (s->line1)
		return skip + scan_head(s, p, min_size(n, max_head(s) - s->len), emit, ctx);
	if (s->fresh && !s->len && is_h2_settings(p, n)) {
		become_h2(s, H2_BY_SETTINGS);
		return skip;  /* the frames are the HTTP/2 reader's */
	}
	if (!s->len && !s->inner && !s->resyncing && (used = whole_head(s, p, n, emit, ctx)))
		return skip + used;
	if (s->inner && !start_ok(s, p, n)) {
		s->state = ST_TUNNEL;  /* TLS or another protocol in the tunnel */
		return skip + n;
	}
	if (!start_ok(s, p, n)) {
		lose(s, false, true);
		return skip;
	}
	return skip + scan_start(s, p, min_size(n, max_head(s) - s->len), emit, ctx);
}

static size_t feed_discard(struct http_stream *s, const uint8_t *p, size_t n)
{
	size_t used = find_blank(s, p, n);

	if (!used)
		return n;
	s->state = ST_RESYNC;
	s->at_line_start = true;
	return used;
}

static void size_done(struct http_stream *s)
{
	s->chunk = s->remaining ? CH_DATA : CH_TRAILER;
	s->line = LINE_EMPTY;
	s->aux = 0;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One byte of a chunk-size line or of the CRLF after chunk data; false when malformed. */
static bool chunk_byte(struct http_stream *s, uint8_t c)
{
	int d = hex_value(c);

	switch (s->chunk) {
	case CH_SIZE:
		if (d >= 0) {
			if (s->remaining >> 60)
				return false;
			s->remaining = s->remaining << 4 | (uint64_t)d;
			s->aux++;
			return true;
		}
		if (!s->aux)
			return false;
		/* fall through */
	case CH_SIZE_WS:
		s->chunk = CH_SIZE_WS;
		if (c == ';') {
			s->chunk = CH_EXT;
			s->aux = 0;
		}
		else if (c == '\r')
			s->chunk = CH_SIZE_LF;
		else if (c == '\n')
			size_done(s);
		else if (c != ' ' && c != '\t')
			return false;
		return true;
	case CH_SIZE_LF:
		if (c != '\n')
			return false;
		size_done(s);
		return true;
	case CH_DATA_CR:
		if (c == '\r') {
			s->chunk = CH_DATA_LF;
			return true;
		}
		/* fall through */
	default:
		if (c != '\n')
			return false;
		s->chunk = CH_SIZE;
		s->remaining = 0;
		s->aux = 0;
		return true;
	}
}

/* Room for extension or trailer bytes: max_head bytes per size line or trailer section. */
static size_t chunk_room(const struct http_stream *s, size_t n)
{
	return min_size(n, max_head(s) - s->aux);
}

/* Counts n extension or trailer bytes; at the limit, sync is lost. */
static void chunk_extra(struct http_stream *s, size_t n)
{
	s->aux += (uint32_t)n;
	if (s->aux >= max_head(s))
		lose(s, false, false);
}

static size_t feed_chunk(struct http_stream *s, const uint8_t *p, size_t n)
{
	const uint8_t *q;
	size_t i = 0, r, e;

	while (i < n) {
		switch (s->chunk) {
		case CH_DATA:
			r = min_size(n - i, s->remaining);
			i += r;
			s->remaining -= r;
			if (!s->remaining)
				s->chunk = CH_DATA_CR;
			break;
		case CH_EXT:
			r = chunk_room(s, n - i);
			q = memchr(p + i, '\n', r);
			if (q) {
				i = (size_t)(q - p) + 1;
				size_done(s);
				break;
			}
			chunk_extra(s, r);
			return i + r;
		case CH_TRAILER:
			r = chunk_room(s, n - i);
			e = find_blank(s, p + i, r);
			if (e) {
				s->state = ST_HEAD;
				return i + e;
			}
			chunk_extra(s, r);
			return i + r;
		default:
			if (!chunk_byte(s, p[i])) {
				lose(s, s->chunk == CH_SIZE && !s->aux, false);
				return i;
			}
			i++;
		}
	}
	return i;
}

/* Looks for a line that may begin a message; switches to ST_HEAD in front of it. */
static size_t feed_resync(struct http_stream *s, const uint8_t *p, size_t n)
{
	const uint8_t *q;
	size_t i = 0;

	if (s->wait_mark)
		return n;
	if (!s->at_line_start) {
		q = memchr(p, '\n', n);
		if (!q)
			return n;
		i = (size_t)(q - p) + 1;
	}
	for (;;) {
		while (i < n && (p[i] == '\r' || p[i] == '\n'))
			i++;
		if (i == n) {
			s->at_line_start = true;
			return n;
		}
		if (http_looks_like_start(p + i, min_size(n - i, HTTP_START_PROBE))) {
			s->state = ST_HEAD;
			return i;
		}
		q = memchr(p + i, '\n', n - i);
		if (!q) {
			s->at_line_start = false;
			return n;
		}
		i = (size_t)(q - p) + 1;
	}
}

struct http_stream *http_stream_new(const struct http_limits *lim, struct http_stats *stats,
				    struct http_parse_cache *cache)
{
	struct http_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->lim = lim ? lim : &default_limits;
	s->st = stats ? stats : &unused_stats;
	s->fresh = true;
	s->cache = cache;
	return s;
}

/* A piece (offline: a TCP segment) that may begin a status line: "HTTP/", or as much as came. */
static bool piece_is_status(const uint8_t *p, size_t n)
{
	static const char http[] = "http/";

	for (size_t i = 0; i < n && i < 5; i++)
		if ((p[i] | 0x20) != http[i])
			return false;
	return n > 0;
}

/* Offline, resynchronising: a message may begin where a piece begins. */
static void piece_start(struct http_stream *s, const uint8_t *bytes, size_t len)
{
	if (s->lim->resync_at_marks)
		return;
	if (s->state == ST_RESYNC)
		s->at_line_start = true;
	else if (s->state == ST_HEAD && s->resyncing && !s->line1 && s->len &&
		 piece_is_status(bytes, len))
		s->piece_at = s->len;
}

size_t http_stream_data(struct http_stream *s, const uint8_t *bytes, size_t len, uint64_t ts_ns,
			http_emit_fn emit, void *ctx)
{
	size_t used, total = len;

	s->ts_ns = ts_ns;
	piece_start(s, bytes, len);
	while (len && s->state != ST_TUNNEL) {
		switch (s->state) {
		case ST_HEAD:
			used = feed_head(s, bytes, len, emit, ctx);
			break;
		case ST_BODY:
			used = min_size(len, s->remaining);
			s->remaining -= used;
			if (!s->remaining)
				s->state = ST_HEAD;
			break;
		case ST_CHUNK:
			used = feed_chunk(s, bytes, len);
			break;
		case ST_CLOSE:
			used = len;
			break;
		case ST_DISCARD:
			used = feed_discard(s, bytes, len);
			break;
		default:
			used = feed_resync(s, bytes, len);
			break;
		}
		bytes += used;
		len -= used;
		s->fresh = false;
	}
	return total - len;
}

/* A head in progress cut by bytes that never came: what it holds goes out, truncated. */
static void cut_by_gap(struct http_stream *s, http_emit_fn emit, void *ctx)
{
	if (!s->len || (s->resyncing && !s->line1))
		return;
	if (s->line1) {
		s->st->truncated_heads++;
		complete(s, s->line_start, true, emit, ctx);
	} else if (emit_cut_start(s, emit, ctx)) {
		s->st->truncated_heads++;
	}
}

void http_stream_gap(struct http_stream *s, size_t len, http_emit_fn emit, void *ctx)
{
	if (!len)
		return;
	switch (s->state) {
	case ST_TUNNEL:
	case ST_CLOSE:
		return;
	case ST_RESYNC:
		s->at_line_start = true;
		s->wait_mark |= s->lim->resync_at_marks;
		return;
	case ST_BODY:
		if (s->remaining < len)
			break;
		s->remaining -= len;
		if (!s->remaining)
			s->state = ST_HEAD;
		return;
	case ST_CHUNK:
		if (s->chunk != CH_DATA || s->remaining < len)
			break;
		s->remaining -= len;
		if (!s->remaining)
			s->chunk = CH_DATA_CR;
		return;
	}
	if (s->state == ST_HEAD)
		cut_by_gap(s, emit, ctx);
	if (s->state == ST_TUNNEL)
		return;  /* emit() made it one */
	s->st->gap_losses++;
	lose(s, true, false);
	s->wait_mark = s->lim->resync_at_marks;
}

void http_stream_resume(struct http_stream *s)
{
	s->fresh = false;
	s->state = ST_RESYNC;
	s->resyncing = true;
	s->at_line_start = false;
	s->wait_mark = s->lim->resync_at_marks;
}

void http_stream_boundary(struct http_stream *s)
{
	if (!s->wait_mark)
		return;
	s->wait_mark = false;
	if (s->state == ST_RESYNC) {
		s->state = ST_HEAD;
		drop_head(s);
	}
}

void http_stream_end(struct http_stream *s, http_emit_fn emit, void *ctx)
{
	if (s->state == ST_HEAD && s->len)
		cut_head(s, true, emit, ctx);
	drop_head(s);
	if (s->state != ST_TUNNEL)
		s->state = ST_HEAD;
	s->resyncing = false;
}

void http_stream_set_tunnel(struct http_stream *s)
{
	s->state = ST_TUNNEL;
}

size_t http_stream_held(const struct http_stream *s)
{
	return s->cap;
}

void http_stream_set_inner(struct http_stream *s)
{
	if (s->state == ST_TUNNEL)
		return;
	drop_head(s);
	s->state = ST_HEAD;
	s->resyncing = false;
	s->inner = true;
}

bool http_stream_is_tunnel(const struct http_stream *s)
{
	return s->state == ST_TUNNEL;
}

bool http_stream_is_h2(const struct http_stream *s)
{
	return s->h2 != H2_NO;
}

bool http_stream_h2_preface(const struct http_stream *s)
{
	return s->h2 == H2_BY_PREFACE;
}

void http_stream_free(struct http_stream *s)
{
	if (!s)
		return;
	drop_head(s);
	free(s);
}
