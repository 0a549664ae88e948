// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzes http_parse_head on an exact-size copy of the input, then checks that every string
 * of the message lies in the buffer (or is empty or a constant), that http_message_dup
 * copies it faithfully, and that a start accepted by the parser looks like one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http/http.h"

#define FIELDS 8

static void check_str(const struct http_str *s, const char *buf, size_t len)
{
	uintptr_t p = (uintptr_t)s->p, b = (uintptr_t)buf;

	if (!s->len)
		return;
	if (!s->p)
		abort();
	/* Only the implied "HTTP/0.9" and "/" live outside the buffer. */
	if (p < b || p + s->len > b + len) {
		if (!(s->len == 8 && !memcmp(s->p, "HTTP/0.9", 8)) &&
		    !(s->len == 1 && s->p[0] == '/'))
			abort();
	}
}

static void check_same(const struct http_str *a, const struct http_str *b)
{
	if (a->len != b->len || (a->len && memcmp(a->p, b->p, a->len)))
		abort();
}

static void check_dup(const struct http_message *m)
{
	struct http_message *d = http_message_dup(m);
	uint32_t i;

	if (!d)
		return;
	check_same(&d->method, &m->method);
	check_same(&d->target, &m->target);
	check_same(&d->protocol, &m->protocol);
	check_same(&d->host, &m->host);
	check_same(&d->path, &m->path);
	check_same(&d->status, &m->status);
	if (d->n_headers != m->n_headers || d->content_length != m->content_length)
		abort();
	for (i = 0; i < m->n_headers; i++) {
		check_same(&d->headers[i].name, &m->headers[i].name);
		check_same(&d->headers[i].value, &m->headers[i].value);
	}
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_header hdrs[FIELDS];
	struct http_message m;
	char *buf = malloc(size ? size : 1);
	uint32_t i;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (http_parse_head(buf, size, &m, hdrs, FIELDS) == 0) {
		if (m.n_headers > FIELDS)
			abort();
		/* The stream's probe needs SP after a method of at most 32 bytes. */
		if ((m.kind == HTTP_RESPONSE ||
		     (m.method.len <= 32 && m.method.len < size && data[m.method.len] == ' ')) &&
		    !http_looks_like_start(data, size))
			abort();
		if (m.content_length < -1 || (m.chunked && m.content_length != -1))
			abort();
		check_str(&m.method, buf, size);
		check_str(&m.target, buf, size);
		check_str(&m.protocol, buf, size);
		check_str(&m.host, buf, size);
		check_str(&m.path, buf, size);
		check_str(&m.status, buf, size);
		for (i = 0; i < m.n_headers; i++) {
			check_str(&m.headers[i].name, buf, size);
			check_str(&m.headers[i].value, buf, size);
		}
		check_dup(&m);
	}
	free(buf);
	return 0;
}
