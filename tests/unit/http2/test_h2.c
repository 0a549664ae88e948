// SPDX-License-Identifier: GPL-2.0
/*
 * HTTP/2 tests: conversations built frame by frame, their header blocks encoded by libnghttp2's
 * own HPACK encoder (an encoder independent of the decoder under test), fed to an h2 connection
 * whole, byte by byte and in random pieces; each feeding must report the same messages and
 * exchanges, count the same, and give back all its memory. Messages read like
 * "req s1 GET /a h=x cl=0 {accept:*}", exchanges like "x s1 GET /a -> 200 d1".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <nghttp2/nghttp2.h>
#include "http2/frame.h"
#include "http2/http2.h"
#include "http2/hpack.h"

#define C 0   /* the client's side */
#define S 1
#define MAX_STEPS 512
#define MAX_OUT 256

struct step {
	int side;
	size_t gap;          /* bytes that never came; 0: data */
	uint8_t *p;
	size_t n;
};

struct conv {
	struct step steps[MAX_STEPS];
	unsigned n;
	nghttp2_hd_deflater *enc[2];
	enum h2_start start;
};

struct out {
	char *line[MAX_OUT];
	unsigned n;
};

static void conv_init(struct conv *c, enum h2_start start)
{
	memset(c, 0, sizeof(*c));
	c->start = start;
	for (int i = 0; i < 2; i++)
		assert_int_equal(nghttp2_hd_deflate_new(&c->enc[i], 4096), 0);
}

static void conv_free(struct conv *c)
{
	for (unsigned i = 0; i < c->n; i++)
		free(c->steps[i].p);
	for (int i = 0; i < 2; i++)
		nghttp2_hd_deflate_del(c->enc[i]);
}

static void add(struct conv *c, int side, const void *p, size_t n)
{
	struct step *s = &c->steps[c->n++];

	assert_true(c->n <= MAX_STEPS);
	s->side = side;
	s->p = malloc(n ? n : 1);
	memcpy(s->p, p, n);
	s->n = n;
}

static void gap(struct conv *c, int side, size_t n)
{
	c->steps[c->n++] = (struct step){ .side = side, .gap = n };
}

/* One frame: its header and payload. */
static void frame(struct conv *c, int side, uint8_t type, uint8_t flags, uint32_t stream,
		  const void *p, size_t n)
{
	uint8_t *b = malloc(9 + n);

	b[0] = (uint8_t)(n >> 16);
	b[1] = (uint8_t)(n >> 8);
	b[2] = (uint8_t)n;
	b[3] = type;
	b[4] = flags;
	b[5] = (uint8_t)(stream >> 24);
	b[6] = (uint8_t)(stream >> 16);
	b[7] = (uint8_t)(stream >> 8);
	b[8] = (uint8_t)stream;
	if (n)
		memcpy(b + 9, p, n);
	add(c, side, b, 9 + n);
	free(b);
}

/* "name", "value", ..., NULL encoded by side's encoder into out; returns its length. */
static size_t encode(struct conv *c, int side, uint8_t *out, size_t cap, const char *const *f)
{
	nghttp2_nv nv[64];
	size_t n = 0;
	ssize_t r;

	for (; f[0]; f += 2, n++)
		nv[n] = (nghttp2_nv){ (uint8_t *)f[0], (uint8_t *)f[1], strlen(f[0]), strlen(f[1]),
				      NGHTTP2_NV_FLAG_NONE };
	r = nghttp2_hd_deflate_hd(c->enc[side], out, cap, nv, n);
	assert_true(r >= 0);
	return (size_t)r;
}

/* A header block in one HEADERS frame. */
static void headers(struct conv *c, int side, uint32_t stream, uint8_t flags,
		    const char *const *f)
{
	uint8_t b[16384];

	frame(c, side, H2_HEADERS, flags | H2_END_HEADERS, stream, b,
	      encode(c, side, b, sizeof(b), f));
}

/* H2_START_PREFACE: the HTTP/1.x reader took "PRI * HTTP/2.0\r\n" already; the rest. */
static void preface(struct conv *c)
{
	static const uint8_t empty[1];

	add(c, C, &H2_PREFACE[H2_PREFACE_LINE], H2_PREFACE_LEN - H2_PREFACE_LINE);
	frame(c, C, H2_SETTINGS, 0, 0, empty, 0);
	frame(c, S, H2_SETTINGS, 0, 0, empty, 0);
}

static void put_str(char *b, size_t size, const struct http_str *s)
{
	size_t n = strlen(b);

	snprintf(b + n, size - n, "%.*s", (int)s->len, s->p);
}

static void cat(char *b, size_t size, const char *s)
{
	size_t n = strlen(b);

	snprintf(b + n, size - n, "%s", s);
}

static void describe(char *b, size_t size, const struct http_message *m)
{
	size_t n;

	if (m->kind == HTTP_REQUEST) {
		snprintf(b, size, "req s%u ", m->stream_id);
		put_str(b, size, &m->method);
		cat(b, size, " ");
		put_str(b, size, &m->target);
		cat(b, size, " h=");
		put_str(b, size, &m->host);
	} else {
		snprintf(b, size, "resp s%u ", m->stream_id);
		put_str(b, size, &m->status);
	}
	n = strlen(b);
	snprintf(b + n, size - n, " cl=%lld%s {", (long long)m->content_length,
		 m->truncated ? " T" : "");
	for (uint32_t i = 0; i < m->n_headers; i++) {
		if (i)
			cat(b, size, ",");
		put_str(b, size, &m->headers[i].name);
		cat(b, size, ":");
		put_str(b, size, &m->headers[i].value);
	}
	cat(b, size, "}");
}

static void record(struct out *o, const char *line)
{
	assert_true(o->n < MAX_OUT);
	o->line[o->n++] = strdup(line);
}

static void on_message(void *ctx, int side, const struct http_message *msg,
		       const struct h2_packet *at, const struct http_message *request,
		       struct export_list *pkts)
{
	static char b[65536];

	describe(b, sizeof(b), msg);
	record(ctx, b);
}

static void on_exchange(void *ctx, const struct h2_exchange *x)
{
	char b[512] = "", t[512] = "";

	if (x->request) {
		put_str(t, sizeof(t), &x->request->method);
		strcat(t, " ");
		put_str(t, sizeof(t), &x->request->target);
	} else {
		strcpy(t, x->has_request ? "(not kept)" : "(none)");
	}
	snprintf(b, sizeof(b), "x s%u %s -> ", (x->response ? x->response : x->request)->stream_id,
		 t);
	if (x->response)
		put_str(b, sizeof(b), &x->response->status);
	else
		strcat(b, "none");
	snprintf(t, sizeof(t), " d%u c%d", x->depth, x->client_side);
	strcat(b, t);
	record(ctx, b);
}

static uint64_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* mode 0: each step whole; 1: byte by byte; more: random pieces seeded by mode. */
static void run(const struct conv *c, int mode, struct out *o, struct h2_stats *st,
		const struct http_limits *lim)
{
	static const struct http_limits deflim = { .max_head = 65536, .max_fields = 512 };
	struct http_stats hs = { 0 };
	uint64_t held = 0, seed = (uint64_t)mode, seq = 0;
	struct h2_env env = { .lim = lim ? lim : &deflim, .http = &hs, .stats = st,
			      .held = &held, .packet_seq = &seq, .keep_requests = true };
	struct h2_report rep = { on_message, on_exchange, o };
	struct h2_conn *h = h2_conn_new(&env, &rep, c->start, C);
	size_t i, k;

	assert_non_null(h);
	for (i = 0; i < c->n; i++) {
		const struct step *s = &c->steps[i];

		if (s->gap) {
			h2_conn_gap(h, s->side, s->gap);
			continue;
		}
		for (k = 0; k < s->n;) {
			size_t n = mode == 0 ? s->n : mode == 1 ? 1 : 1 + next_rand(&seed) % 23;

			if (n > s->n - k)
				n = s->n - k;
			struct h2_packet pk = { 1000 + i, (uint32_t)n + 40, 1 };

			h2_conn_data(h, s->side, s->p + k, n, &pk, k == 0);
			k += n;
		}
		assert_int_equal(held, h2_conn_held(h));
	}
	h2_conn_free(h);
	assert_int_equal(held, 0);  /* every byte it held was given back */
}

static void out_free(struct out *o)
{
	for (unsigned i = 0; i < o->n; i++)
		free(o->line[i]);
	o->n = 0;
}

/* Runs c in every mode; each must report want (NULL-terminated) and count alike. */
static void check(const struct conv *c, const char *const *want, struct h2_stats *stats,
		  const struct http_limits *lim)
{
	struct h2_stats first = { 0 };
	struct out o = { 0 };

	for (int mode = 0; mode < 8; mode++) {
		struct h2_stats st = { 0 };
		unsigned k = 0;

		run(c, mode, &o, &st, lim);
		for (; want[k] && k < o.n; k++)
			if (strcmp(o.line[k], want[k]))
				fail_msg("mode %d, line %u: got [%s] want [%s]", mode, k,
					 o.line[k], want[k]);
		if (want[k] || k != o.n)
			fail_msg("mode %d: %u lines, want more or fewer (first extra: %s)", mode,
				 o.n, k < o.n ? o.line[k] : want[k]);
		if (mode == 0)
			first = st;
		else if (memcmp(&st, &first, sizeof(st)))
			fail_msg("mode %d counted otherwise than whole steps", mode);
		out_free(&o);
	}
	if (stats)
		*stats = first;
}

#define F(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define GET(path) ":method", "GET", ":scheme", "http", ":path", path, ":authority", "h"
#define WANT(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_get(void **state)
{
	struct conv c;

	conv_init(&c, H2_START_PREFACE);
	preface(&c);
	headers(&c, C, 1, H2_END_STREAM, F(GET("/a?q=1"), "accept", "*/*"));
	headers(&c, S, 1, 0, F(":status", "200", "content-type", "text/plain"));
	frame(&c, S, H2_DATA, 0, 1, "hello", 5);
	frame(&c, S, H2_DATA, H2_END_STREAM, 1, " world", 6);
	check(&c, WANT("req s1 GET /a?q=1 h=h cl=0 {accept:*/*}",
		       "resp s1 200 cl=11 {content-type:text/plain}",
		       "x s1 GET /a?q=1 -> 200 d1 c0"), NULL, NULL);
	conv_free(&c);
}

/* Many streams at once, answered in another order, with trailers; gRPC's error count. */
static void test_interleaved_grpc(void **state)
{
	static const char *const want[] = {
		"req s3 POST /p.S/B h=h cl=7 {content-type:application/grpc}",
		"req s1 POST /p.S/A h=h cl=7 {content-type:application/grpc}",
		"resp s3 200 cl=0 {content-type:application/grpc,grpc-status:5,grpc-message:gone}",
		"x s3 POST /p.S/B -> 200 d2 c0",
		"resp s1 200 cl=3 {content-type:application/grpc,grpc-status:0}",
		"x s1 POST /p.S/A -> 200 d1 c0",
		"req s5 POST /p.S/C h=h cl=-1 {content-type:application/grpc}",
		"x s5 POST /p.S/C -> none d3 c0",
		NULL,
	};
	struct h2_stats st;
	struct conv c;
	uint8_t rst[4] = { 0, 0, 0, 8 };

	conv_init(&c, H2_START_SETTINGS);
	add(&c, C, H2_PREFACE, H2_PREFACE_LEN);
	frame(&c, S, H2_SETTINGS, 0, 0, "", 0);
	frame(&c, C, H2_SETTINGS, 0, 0, "", 0);
	for (uint32_t id = 1; id <= 5; id += 2) {
		char path[16];

		snprintf(path, sizeof(path), "/p.S/%c", 'A' + (int)id / 2);
		headers(&c, C, id, 0, F(":method", "POST", ":scheme", "http", ":path", path,
					":authority", "h", "content-type", "application/grpc"));
	}
	frame(&c, C, H2_DATA, H2_END_STREAM, 3, "\0\0\0\0\2ab", 7);
	frame(&c, C, H2_DATA, H2_END_STREAM, 1, "\0\0\0\0\2ab", 7);
	headers(&c, S, 3, H2_END_STREAM, F(":status", "200", "content-type", "application/grpc",
					   "grpc-status", "5", "grpc-message", "gone"));
	headers(&c, S, 1, 0, F(":status", "200", "content-type", "application/grpc"));
	frame(&c, S, H2_DATA, 0, 1, "abc", 3);
	headers(&c, S, 1, H2_END_STREAM, F("grpc-status", "0"));
	frame(&c, C, H2_RST_STREAM, 0, 5, rst, 4);
	check(&c, want, &st, NULL);
	assert_int_equal(st.grpc_errors, 1);
	assert_int_equal(st.blocks, 6);
	assert_int_equal(st.no_settings, 0);
	conv_free(&c);
}

/* A block over CONTINUATION frames; padding and priority; 1xx each its own message. */
static void test_continuation_padding(void **state)
{
	uint8_t b[8192], p[9000];
	char big[3000];
	struct conv c;
	size_t n;

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	conv_init(&c, H2_START_PREFACE);
	add(&c, C, &H2_PREFACE[H2_PREFACE_LINE], H2_PREFACE_LEN - H2_PREFACE_LINE);
	n = encode(&c, C, b, sizeof(b), F(GET("/big"), "x-a", big, "x-b", big));
	/* HEADERS, padded, with priority: pad length, 5 priority bytes, fragment, padding. */
	p[0] = 10;
	memset(p + 1, 0, 5);
	memcpy(p + 6, b, 100);
	memset(p + 106, 0, 10);
	frame(&c, C, H2_HEADERS, H2_PADDED | H2_PRIORITY_FLAG | H2_END_STREAM, 1, p, 116);
	frame(&c, C, H2_CONTINUATION, 0, 1, b + 100, 2000);
	frame(&c, C, H2_CONTINUATION, H2_END_HEADERS, 1, b + 2100, n - 2100);
	headers(&c, S, 1, 0, F(":status", "100"));
	headers(&c, S, 1, 0, F(":status", "103", "link", "</s.css>"));
	headers(&c, S, 1, 0, F(":status", "200"));
	p[0] = 3;
	memcpy(p + 1, "body", 4);
	memset(p + 5, 0, 3);
	frame(&c, S, H2_DATA, H2_PADDED | H2_END_STREAM, 1, p, 8);
	snprintf((char *)p, sizeof(p), "req s1 GET /big h=h cl=0 {x-a:%s,x-b:%s}", big, big);
	check(&c, WANT((char *)p, "resp s1 100 cl=0 {}", "resp s1 103 cl=0 {link:</s.css>}",
		       "resp s1 200 cl=4 {}", "x s1 GET /big -> 200 d1 c0"), NULL, NULL);
	conv_free(&c);
}

/* A lost header block: nothing of that side decodes any more; the other side still does. */
static void test_lost_block(void **state)
{
	struct h2_stats st;
	struct conv c;
	uint8_t b[512];
	size_t n;

	conv_init(&c, H2_START_PREFACE);
	add(&c, C, &H2_PREFACE[H2_PREFACE_LINE], H2_PREFACE_LEN - H2_PREFACE_LINE);
	headers(&c, C, 1, H2_END_STREAM, F(GET("/1")));
	n = encode(&c, C, b, sizeof(b), F(GET("/2"), "x-new", "indexed from now on"));
	frame(&c, C, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, 3, b, n);
	c.steps[c.n - 1].n = 12;  /* the frame header and 3 bytes of its block ... */
	gap(&c, C, n - 3);        /* ... then the rest never came */
	headers(&c, C, 5, H2_END_STREAM, F(GET("/3"), "x-new", "indexed from now on"));
	headers(&c, S, 1, H2_END_STREAM, F(":status", "200"));
	headers(&c, S, 5, H2_END_STREAM, F(":status", "404"));
	frame(&c, C, H2_DATA, 0, 7, "abc", 3);
	gap(&c, C, 20);           /* inside no payload: framing is lost too */
	check(&c, WANT("req s1 GET /1 h=h cl=0 {}", "resp s1 200 cl=0 {}",
		       "x s1 GET /1 -> 200 d1 c0", "resp s5 404 cl=0 {}",
		       "x s5 (none) -> 404 d0 c0"), &st, NULL);
	assert_int_equal(st.not_decoded_lost, 2);
	assert_int_equal(st.not_decoded_hpack, 0);
	conv_free(&c);
}

/* Frames found in mid-connection: nothing is decoded, every block is counted. */
static void test_joined(void **state)
{
	struct h2_stats st;
	struct conv c;

	conv_init(&c, H2_START_JOINED);
	headers(&c, C, 41, H2_END_STREAM, F(GET("/x")));
	headers(&c, S, 41, 0, F(":status", "200"));
	frame(&c, S, H2_DATA, H2_END_STREAM, 41, "ok", 2);
	check(&c, WANT(NULL), &st, NULL);
	assert_int_equal(st.not_decoded_joined, 2);
	assert_int_equal(st.joined, 1);
	assert_int_equal(st.no_settings, 0);
	conv_free(&c);
}

/*
 * An HPACK bomb: one 4000-byte value in the dynamic table, then a block of 200 one-byte
 * references to it (800 KB decoded from 200 bytes). The list is cut at the head limit and
 * counted; the decoder stays in step (the next block decodes).
 */
static void test_hpack_bomb(void **state)
{
	static const struct http_limits lim = { .max_head = 16384, .max_fields = 512 };
	struct h2_stats st;
	struct conv c;
	uint8_t b[8192];
	char big[4001];
	size_t n;

	memset(big, 'b', 4000);
	big[4000] = '\0';
	conv_init(&c, H2_START_PREFACE);
	add(&c, C, &H2_PREFACE[H2_PREFACE_LINE], H2_PREFACE_LEN - H2_PREFACE_LINE);
	/* Literal with incremental indexing, new name "x" (0x40), Huffman off. */
	n = 0;
	b[n++] = 0x40;
	b[n++] = 1;
	b[n++] = 'x';
	b[n++] = 0x7f;  /* value length 4000: 127 + 3873 in 7-bit groups */
	b[n++] = (uint8_t)(0x80 | ((4000 - 127) & 0x7f));
	b[n++] = (uint8_t)((4000 - 127) >> 7);
	memcpy(b + n, big, 4000);
	n += 4000;
	b[n++] = 0x82;  /* :method GET */
	b[n++] = 0x84;  /* :path / */
	frame(&c, C, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, 1, b, n);
	n = 0;
	b[n++] = 0x82;
	b[n++] = 0x84;
	for (int i = 0; i < 200; i++)
		b[n++] = 0x80 | 62;  /* the dynamic table's newest entry */
	frame(&c, C, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, 3, b, n);
	b[0] = 0x82;
	b[1] = 0x84;
	frame(&c, C, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, 5, b, 2);
	{
		char *w1 = malloc(9000), *w2 = malloc(20000);
		size_t k;

		snprintf(w1, 9000, "req s1 GET / h= cl=0 {x:%s}", big);
		/* 16384 bytes hold :method, :path and 4 fields of 4000 + 1 + 32 bytes each. */
		k = (size_t)snprintf(w2, 20000, "req s3 GET / h= cl=0 T {x:%s", big);
		k += (size_t)snprintf(w2 + k, 20000 - k, ",x:%s,x:%s,x:%s}", big, big, big);
		check(&c, WANT(w1, w2, "req s5 GET / h= cl=0 {}", "x s1 GET / -> none d1 c0",
			       "x s3 GET / -> none d2 c0", "x s5 GET / -> none d3 c0"), &st, &lim);
		free(w1);
		free(w2);
	}
	assert_int_equal(st.too_large, 1);
	assert_int_equal(h2_not_decoded(&st), 0);
	conv_free(&c);
}

/* Corrupt HPACK (an index past the table) is refused and counted, then every later block. */
static void test_hpack_refused(void **state)
{
	static const uint8_t bad[] = { 0x82, 0x84, 0x80 | 70 };
	struct h2_stats st;
	struct conv c;

	conv_init(&c, H2_START_PREFACE);
	add(&c, C, &H2_PREFACE[H2_PREFACE_LINE], H2_PREFACE_LEN - H2_PREFACE_LINE);
	frame(&c, C, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, 1, bad, sizeof(bad));
	headers(&c, C, 3, H2_END_STREAM, F(GET("/fine")));
	check(&c, WANT(NULL), &st, NULL);
	assert_int_equal(st.not_decoded_hpack, 2);
	conv_free(&c);
}

/*
 * SETTINGS_HEADER_TABLE_SIZE: the client's decoder allows 8192 (raised at once), later 256
 * (from the server's ACK on); the server's encoder follows, its blocks start with the updates.
 */
static void test_table_size(void **state)
{
	static const uint8_t set8k[] = { 0, 1, 0, 0, 0x20, 0 }, set256[] = { 0, 1, 0, 0, 1, 0 };
	char v[3000];
	struct conv c;

	memset(v, 'z', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	conv_init(&c, H2_START_PREFACE);
	add(&c, C, &H2_PREFACE[H2_PREFACE_LINE], H2_PREFACE_LEN - H2_PREFACE_LINE);
	frame(&c, C, H2_SETTINGS, 0, 0, set8k, sizeof(set8k));
	frame(&c, S, H2_SETTINGS, 0, 0, "", 0);
	assert_int_equal(nghttp2_hd_deflate_change_table_size(c.enc[S], 8192), 0);
	headers(&c, C, 1, H2_END_STREAM, F(GET("/")));
	headers(&c, S, 1, H2_END_STREAM, F(":status", "200", "x-1", v, "x-2", v));
	frame(&c, S, H2_SETTINGS, H2_ACK, 0, "", 0);
	frame(&c, C, H2_SETTINGS, 0, 0, set256, sizeof(set256));
	headers(&c, C, 3, H2_END_STREAM, F(GET("/")));
	frame(&c, S, H2_SETTINGS, H2_ACK, 0, "", 0);
	assert_int_equal(nghttp2_hd_deflate_change_table_size(c.enc[S], 256), 0);
	headers(&c, S, 3, H2_END_STREAM, F(":status", "200", "x-1", v));
	{
		char *r1 = malloc(7000), *r2 = malloc(4000);

		snprintf(r1, 7000, "resp s1 200 cl=0 {x-1:%s,x-2:%s}", v, v);
		snprintf(r2, 4000, "resp s3 200 cl=0 {x-1:%s}", v);
		check(&c, WANT("req s1 GET / h=h cl=0 {}", r1, "x s1 GET / -> 200 d1 c0",
			       "req s3 GET / h=h cl=0 {}", r2, "x s3 GET / -> 200 d2 c0"), NULL,
		      NULL);
		free(r1);
		free(r2);
	}
	conv_free(&c);
}

/* Pushed responses: the promise's request on the promised stream, asked by the client. */
static void test_push(void **state)
{
	uint8_t b[256], p[260];
	struct conv c;
	size_t n;

	conv_init(&c, H2_START_PREFACE);
	add(&c, C, &H2_PREFACE[H2_PREFACE_LINE], H2_PREFACE_LEN - H2_PREFACE_LINE);
	headers(&c, C, 1, H2_END_STREAM, F(GET("/")));
	n = encode(&c, S, b, sizeof(b), F(GET("/style.css")));
	p[0] = p[1] = p[2] = 0;
	p[3] = 2;
	memcpy(p + 4, b, n);
	frame(&c, S, H2_PUSH_PROMISE, H2_END_HEADERS, 1, p, n + 4);
	headers(&c, S, 1, H2_END_STREAM, F(":status", "200"));
	headers(&c, S, 2, 0, F(":status", "200"));
	frame(&c, S, H2_DATA, H2_END_STREAM, 2, "css", 3);
	check(&c, WANT("req s1 GET / h=h cl=0 {}", "req s2 GET /style.css h=h cl=0 {}",
		       "resp s1 200 cl=0 {}", "x s1 GET / -> 200 d1 c0", "resp s2 200 cl=3 {}",
		       "x s2 GET /style.css -> 200 d2 c0"), NULL, NULL);
	conv_free(&c);
}

/* Bad input: a wrong preface, no SETTINGS first, malformed and stray frames: counted. */
static void test_bad_input(void **state)
{
	static const uint8_t rst3[3] = { 0 };
	struct h2_stats st;
	struct conv c;

	conv_init(&c, H2_START_PREFACE);
	add(&c, C, "\r\nXX\r\n\r\n", 8);
	headers(&c, C, 1, H2_END_STREAM, F(GET("/")));
	check(&c, WANT(NULL), &st, NULL);
	assert_int_equal(st.bad_prefaces, 1);
	conv_free(&c);

	conv_init(&c, H2_START_PREFACE);
	add(&c, C, &H2_PREFACE[H2_PREFACE_LINE], H2_PREFACE_LEN - H2_PREFACE_LINE);
	headers(&c, C, 1, H2_END_STREAM, F(GET("/")));           /* no SETTINGS first */
	frame(&c, S, H2_RST_STREAM, 0, 1, rst3, 3);              /* RST_STREAM of 3 bytes */
	frame(&c, S, H2_CONTINUATION, H2_END_HEADERS, 1, "", 0); /* no block to continue */
	frame(&c, S, H2_DATA, H2_PADDED, 1, "\x09zz", 3);         /* more padding than payload */
	frame(&c, S, 0xfa, 0xff, 9, "unknown", 7);               /* unknown types are skipped */
	headers(&c, S, 1, H2_END_STREAM, F(":status", "204"));
	/* A header frame not read: what it held cannot be known, so nothing after it either. */
	frame(&c, S, H2_HEADERS, H2_END_HEADERS, 0, "\x88", 1);   /* HEADERS on stream 0 */
	headers(&c, S, 3, H2_END_STREAM, F(":status", "200"));
	check(&c, WANT("req s1 GET / h=h cl=0 {}", "resp s1 204 cl=0 {}",
		       "x s1 GET / -> 204 d1 c0"), &st, NULL);
	assert_int_equal(st.no_settings, 2);
	assert_int_equal(st.malformed_frames, 4);
	assert_int_equal(st.not_decoded_lost, 2);
	conv_free(&c);
}

/* The framer alone: what the plausibility check accepts. */
static void test_plausible(void **state)
{
	static const uint8_t settings[] = { 0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100 };
	static const uint8_t data_cut[] = { 0, 0, 40, 0, 1, 0, 0, 0, 1, 'a', 'b' };
	static const uint8_t data0[] = { 0, 0, 2, 0, 0, 0, 0, 0, 0, 'a', 'b' };
	static const uint8_t winup[] = { 0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0,
					 0, 0, 0, 0x20, 0, 0, 0, 0, 1 };

	assert_true(h2_frames_plausible(settings, sizeof(settings)));
	assert_true(h2_frames_plausible(data_cut, sizeof(data_cut)));
	assert_false(h2_frames_plausible(data0, sizeof(data0)));         /* DATA on stream 0 */
	assert_true(h2_frames_plausible(winup, 16));             /* a header cut short after */
	assert_false(h2_frames_plausible(winup, sizeof(winup)));  /* then a type 0x20 */
	assert_false(h2_frames_plausible((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
	assert_false(h2_frames_plausible((const uint8_t *)"\x16\x03\x01\x02\x00\x01\x00\x01\xfc",
					 9));  /* TLS */
	assert_false(h2_frames_plausible(settings, 8));
}

/* The HPACK wrapper alone: RFC 7541 C.3, its memory, the table cap. */
static void on_field(void *ctx, const uint8_t *name, size_t nl, const uint8_t *value,
		     size_t vl)
{
	char *b = ctx;
	size_t n = strlen(b);

	snprintf(b + n, 512 - n, "%.*s=%.*s;", (int)nl, name, (int)vl, value);
}

static void test_hpack(void **state)
{
	static const uint8_t c31[] = { 0x82, 0x86, 0x84, 0x41, 0x0f, 'w', 'w', 'w', '.', 'e', 'x',
				       'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm' };
	static const uint8_t c32[] = { 0x82, 0x86, 0x84, 0xbe, 0x58, 0x08, 'n', 'o', '-', 'c',
				       'a', 'c', 'h', 'e' };
	static const uint8_t too_big[] = { 0x3f, 0xd1, 0xa2, 0x04 };  /* table size 70000 */
	uint64_t held = 0;
	struct hpack *h = hpack_new(&held);
	char b[512] = "";

	assert_non_null(h);
	assert_true(held > 0);
	assert_int_equal(hpack_feed(h, c31, 7, false, on_field, b), 0);
	assert_int_equal(hpack_set_table_max(h, 100), -EINVAL);  /* inside a block */
	assert_int_equal(hpack_feed(h, c31 + 7, sizeof(c31) - 7, true, on_field, b), 0);
	assert_string_equal(b, ":method=GET;:scheme=http;:path=/;:authority=www.example.com;");
	b[0] = '\0';
	assert_int_equal(hpack_feed(h, c32, sizeof(c32), true, on_field, b), 0);
	assert_string_equal(b, ":method=GET;:scheme=http;:path=/;:authority=www.example.com;"
			       "cache-control=no-cache;");
	assert_int_equal(hpack_set_table_max(h, 1u << 30), 0);  /* cut to HPACK_TABLE_MAX */
	assert_int_equal(hpack_feed(h, too_big, sizeof(too_big), true, on_field, b), -EPROTO);
	assert_true(hpack_broken(h));
	assert_int_equal(held, hpack_held(h));
	hpack_free(h);
	assert_int_equal(held, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_interleaved_grpc),
		cmocka_unit_test(test_continuation_padding),
		cmocka_unit_test(test_lost_block),
		cmocka_unit_test(test_joined),
		cmocka_unit_test(test_hpack_bomb),
		cmocka_unit_test(test_hpack_refused),
		cmocka_unit_test(test_table_size),
		cmocka_unit_test(test_push),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_plausible),
		cmocka_unit_test(test_hpack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
