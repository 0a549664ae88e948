// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzes the HTTP stream. The first four input bytes pick the head limit, the consumer's
 * answers and the split seed; the rest is fed three times: whole, in random pieces (both
 * must give the same messages and counters) and in random pieces with gaps. Offline, where a
 * piece begins is information once sync is lost (a segment may start a message), and a first
 * piece of nine bytes or more may be an HTTP/2 frame: there the two runs may differ.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http/http.h"

struct run {
	uint8_t answers;     /* bits choosing HTTP_NEXT_NO_BODY / _TUNNEL / _INNER per message */
	uint64_t hash;       /* of every message emitted */
	uint64_t n;
	bool h2;
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static uint64_t mix_str(uint64_t h, const struct http_str *s)
{
	if (s->len && !s->p)
		abort();
	h = mix(h, &s->len, sizeof(s->len));
	return s->len ? mix(h, s->p, s->len) : h;
}

static enum http_next emit(void *ctx, const struct http_message *m)
{
	struct run *r = ctx;
	struct http_message *d = http_message_dup(m);
	uint64_t h = r->hash;
	uint32_t i;

	h = mix(h, &m->kind, sizeof(m->kind));
	h = mix_str(h, &m->method);
	h = mix_str(h, &m->target);
	h = mix_str(h, &m->protocol);
	h = mix_str(h, &m->host);
	h = mix_str(h, &m->path);
	h = mix_str(h, &m->status);
	h = mix(h, &m->content_length, sizeof(m->content_length));
	h = mix(h, &m->truncated, sizeof(m->truncated));
	for (i = 0; i < m->n_headers; i++) {
		h = mix_str(h, &m->headers[i].name);
		h = mix_str(h, &m->headers[i].value);
	}
	r->hash = h;
	free(d);
	switch ((r->answers >> (r->n++ % 4 * 2)) & 3) {
	case 1:
		return HTTP_NEXT_NO_BODY;
	case 2:
		return m->kind == HTTP_RESPONSE && m->status_code == 200 ? HTTP_NEXT_TUNNEL :
									    HTTP_NEXT_DEFAULT;
	default:
		return m->kind == HTTP_RESPONSE && m->status_code == 200 ? HTTP_NEXT_INNER :
									    HTTP_NEXT_DEFAULT;
	}
}

static uint64_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static void feed(const struct http_limits *lim, const uint8_t *d, size_t size, uint64_t seed,
		 int mode, struct run *r, struct http_stats *st)
{
	static struct http_parse_cache *cache;  /* shared by every run, as live */
	struct http_stream *s;
	size_t i = 0, n;

	if (!cache)
		cache = http_parse_cache_new(NULL);
	s = http_stream_new(lim, st, cache);

	if (!s)
		return;
	while (i < size) {
		n = mode == 0 ? size - i : 1 + next_rand(&seed) % 64;
		if (n > size - i)
			n = size - i;
		if (mode == 2 && next_rand(&seed) % 16 == 0) {
			http_stream_gap(s, n, emit, r);
		} else {
			http_stream_data(s, d + i, n, i, emit, r);
		}
		i += n;
	}
	http_stream_end(s, emit, r);
	r->h2 = http_stream_is_h2(s);
	http_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_stats st[3] = { { 0 } };
	struct http_limits lim = { 0 };
	struct run r[3];
	bool same;
	int mode;

	if (size < 4)
		return 0;
	lim.max_head = 16u + data[0] * 8u;
	lim.max_fields = 1u + data[1] % 16u;
	lim.resync_at_marks = data[1] >> 7;
	for (mode = 0; mode < 3; mode++) {
		r[mode] = (struct run){ .answers = data[2] };
		feed(&lim, data + 4, size - 4, data[3], mode, &r[mode], &st[mode]);
	}
	same = !r[0].h2 && !r[1].h2 &&
	       (lim.resync_at_marks || (!st[0].resyncs && !st[1].resyncs));
	if (same &&
	    (r[0].hash != r[1].hash || r[0].n != r[1].n || memcmp(&st[0], &st[1], sizeof(st[0]))))
		abort();
	if (st[0].messages != r[0].n || st[2].messages != r[2].n)
		abort();
	return 0;
}
