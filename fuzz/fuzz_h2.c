// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzes the HTTP/2 reader: framing, HPACK through libnghttp2, streams and pairing. Input:
 * one byte that picks how the connection starts and the head limit, then records of a side
 * byte (bit 0: the side; bit 1: bytes lost instead of given; bit 2: a frame boundary first),
 * a length byte and that many bytes (or, for lost bytes, none). Every message must be
 * well-formed, and once the connection is freed it must hold no memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http2/http2.h"

static uint64_t hash;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static void check_str(const struct http_str *s)
{
	if (s->len && !s->p)
		abort();
	hash = mix(hash, s->p, s->len);
}

static void check_msg(const struct http_message *m)
{
	if (!m)
		return;
	if (m->kind != HTTP_REQUEST && m->kind != HTTP_RESPONSE)
		abort();
	check_str(&m->method);
	check_str(&m->target);
	check_str(&m->path);
	check_str(&m->host);
	check_str(&m->status);
	if (m->path.len > m->target.len && m->target.len)
		abort();
	for (uint32_t i = 0; i < m->n_headers; i++) {
		check_str(&m->headers[i].name);
		check_str(&m->headers[i].value);
	}
}

static void on_message(void *ctx, int side, const struct http_message *msg,
		       const struct h2_packet *at, const struct http_message *request,
		       struct export_list *pkts)
{
	if (side != 0 && side != 1)
		abort();
	check_msg(msg);
	check_msg(request);
}

static void on_exchange(void *ctx, const struct h2_exchange *x)
{
	if (!x->has_request && !x->has_response)
		abort();
	check_msg(x->request);
	check_msg(x->response);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum h2_start starts[4] = { H2_START_PREFACE, H2_START_SETTINGS,
						 H2_START_UPGRADE, H2_START_JOINED };
	struct http_limits lim = { .max_head = 256, .max_fields = 64 };
	struct http_stats hs = { 0 };
	struct h2_stats st = { 0 };
	uint64_t held = 0, seq = 0;
	struct h2_env env = { .lim = &lim, .http = &hs, .stats = &st, .held = &held,
			      .packet_seq = &seq, .keep_requests = true };
	struct h2_report rep = { on_message, on_exchange, NULL };
	struct h2_conn *c;
	size_t i = 1, n;

	if (!size)
		return 0;
	if (data[0] & 4)
		lim.max_head = 65536;
	c = h2_conn_new(&env, &rep, starts[data[0] & 3], (data[0] >> 3) & 1);
	if (!c)
		return 0;
	while (i + 2 <= size) {
		uint8_t how = data[i];

		n = data[i + 1];
		i += 2;
		if (how & 4)
			h2_conn_boundary(c, how & 1);
		if (how & 2) {
			h2_conn_gap(c, how & 1, n + 1);
			continue;
		}
		if (n > size - i)
			n = size - i;
		struct h2_packet pk = { ++seq, (uint32_t)n + 40, 1 };

		h2_conn_data(c, how & 1, data + i, n, &pk, true);
		i += n;
		if (held != h2_conn_held(c))
			abort();
	}
	h2_conn_free(c);
	if (held)
		abort();
	return 0;
}
