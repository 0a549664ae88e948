/* output/table.c: exact table lines; random wire bytes give valid JSON and a safe table. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "output/event.h"

#define H(n, v) { { n, sizeof(n) - 1 }, { v, sizeof(v) - 1 } }

static struct http_header hdrs[] = { H("Host", "example.com"), H("Accept", "*/*") };

static const struct http_message req = {
	.kind = HTTP_REQUEST,
	.method = { "GET", 3 },
	.target = { "/search?q=1", 11 },
	.protocol = { "HTTP/1.1", 8 },
	.host = { "example.com", 11 },
	.path = { "/search", 7 },
	.headers = hdrs,
	.n_headers = 2,
};

static const struct http_message resp = {
	.kind = HTTP_RESPONSE,
	.protocol = { "HTTP/1.1", 8 },
	.status = { "200 OK", 6 },
	.status_code = 200,
	.content_length = -1,
};

static const struct owner proc = {
	.host_pid = 4300,
	.pid = 7,
	.comm = "curl",
};

static const struct msg_context ctx = {
	.ts_ns = 1700000000123456789ull,  /* 22:13:20.123456 UTC */
	.family = 4,
	.src = { { 10, 0, 0, 1 }, 43210 },
	.dst = { { 10, 0, 0, 2 }, 80 },
	.dir = DIR_EGRESS,
};

struct out {
	FILE *f;
	char *data;
	size_t len;
	struct event_writer *w;
};

static void out_open(struct out *o, enum output_format format, unsigned types,
		     const char *const *redact)
{
	struct event_options opt = { .format = format, .types = types, .redact = redact };

	o->f = open_memstream(&o->data, &o->len);
	assert_non_null(o->f);
	o->w = event_writer_new(o->f, &opt);
	assert_non_null(o->w);
}

static void out_close(struct out *o)
{
	assert_int_equal(event_writer_flush(o->w), 0);
	event_writer_free(o->w);
	fclose(o->f);
}

static void expect_out(struct out *o, const char *exp)
{
	if (o->len != strlen(exp) || memcmp(o->data, exp, o->len)) {
		print_error("got:\n%.*s\nexpected:\n%s\n", (int)o->len, o->data, exp);
		fail();
	}
	free(o->data);
}

static int utc(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void test_table_lines(void **state)
{
	struct msg_context c = ctx;
	struct exchange x = {
		.ts_ns = 1700000000223456789ull,
		.family = 6,
		.client = { { 0xfd, 0, [15] = 1 }, 50000 },
		.server = { { 0xfd, 0, [15] = 2 }, 8080 },
		.dir = DIR_INGRESS,
		.owner = &proc,
		.request = &req,
		.response = &resp,
		.latency_ns = 100000000,
	};
	struct http_message r = resp;
	struct out o;

	out_open(&o, OUTPUT_TABLE, EVENT_HTTP | EVENT_HTTP_REQUEST | EVENT_FLOW_HTTP, NULL);
	c.owner = &proc;
	event_message(o.w, &c, &req);
	c.owner = NULL;
	c.dir = DIR_INGRESS;
	c.src.port = 80;
	c.dst.port = 43210;
	event_message(o.w, &c, &resp);
	event_exchange(o.w, &x);
	x.latency_ns = 1234567;
	x.response = NULL;
	x.dir = DIR_UNKNOWN;
	event_exchange(o.w, &x);
	x.request = NULL;
	x.response = &r;
	r.status = (struct http_str){ NULL, 0 };
	r.status_code = 204;
	r.truncated = true;
	event_exchange(o.w, &x);
	assert_int_equal(event_writer_stats(o.w)->events, 5);
	out_close(&o);
	expect_out(&o,
		"22:13:20.123456 egress  10.0.0.1:43210        -> 10.0.0.2:80           "
		"curl/4300              REQUEST  GET example.com /search\n"
		"22:13:20.123456 ingress 10.0.0.1:80           -> 10.0.0.2:43210        "
		"-                      RESPONSE 200 OK\n"
		"22:13:20.223456 ingress [fd00::1]:50000       -> [fd00::2]:8080        "
		"curl/4300              EXCHANGE GET example.com /search -> 200 OK (100.000 ms)\n"
		"22:13:20.223456 unknown [fd00::1]:50000       -> [fd00::2]:8080        "
		"curl/4300              EXCHANGE GET example.com /search -> (no response)\n"
		"22:13:20.223456 unknown [fd00::1]:50000       -> [fd00::2]:8080        "
		"curl/4300              EXCHANGE (no request) -> 204 [truncated]\n");
}

/* Every wire string and the process name go through json_term_safe. */
static void test_table_hostile_bytes(void **state)
{
	static const char *const redact[] = { "host", NULL };
	struct owner p = proc;
	struct msg_context c = ctx;
	struct http_message m = req, r = resp;
	struct out o;

	memcpy(p.comm, "ev\x1bil", 6);
	c.owner = &p;
	m.method = (struct http_str){ "G\x1b[2JT", 6 };
	m.host = (struct http_str){ "\xc2\x9b" "evil", 6 };
	m.path = (struct http_str){ "/a\nb\xff", 5 };
	r.status = (struct http_str){ "200 \x07O\xe2\x80\xaeK", 10 };
	out_open(&o, OUTPUT_TABLE, EVENT_HTTP, NULL);
	event_message(o.w, &c, &m);
	event_message(o.w, &c, &r);
	out_close(&o);
	expect_out(&o,
		"22:13:20.123456 egress  10.0.0.1:43210        -> 10.0.0.2:80           "
		"ev\\x1bil/4300          REQUEST  G\\x1b[2JT \\xc2\\x9bevil /a\\x0ab\\xff\n"
		"22:13:20.123456 egress  10.0.0.1:43210        -> 10.0.0.2:80           "
		"ev\\x1bil/4300          RESPONSE 200 \\x07O\\xe2\\x80\\xaeK\n");

	m.path = (struct http_str){ NULL, 0 };
	m.target = (struct http_str){ "http://secret/", 14 };
	m.host = (struct http_str){ "secret", 6 };
	out_open(&o, OUTPUT_TABLE, EVENT_HTTP_REQUEST, redact);
	event_message(o.w, &c, &m);
	out_close(&o);
	expect_out(&o,
		"22:13:20.123456 egress  10.0.0.1:43210        -> 10.0.0.2:80           "
		"ev\\x1bil/4300          REQUEST  G\\x1b[2JT REDACTED REDACTED\n");
}

/* A strict reader of our compact JSON: grammar, valid UTF-8, unique keys in each object. */
struct reader {
	const unsigned char *p, *end;
};

static int read_value(struct reader *r, int depth);

static int read_utf8(struct reader *r)
{
	unsigned char c = *r->p, lo = 0x80, hi = 0xbf;
	int n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2, i;

	if (c < 0xc2 || c > 0xf4)
		return -1;
	lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
	if (r->end - r->p < n || r->p[1] < lo || r->p[1] > hi)
		return -1;
	for (i = 2; i < n; i++)
		if ((r->p[i] & 0xc0) != 0x80)
			return -1;
	r->p += n;
	return 0;
}

static int read_string(struct reader *r)
{
	if (r->p >= r->end || *r->p++ != '"')
		return -1;
	while (r->p < r->end && *r->p != '"') {
		if (*r->p < 0x20 || *r->p == 0x7f)
			return -1;
		if (*r->p >= 0x80) {
			if (read_utf8(r))
				return -1;
		} else if (*r->p++ == '\\') {
			if (r->p >= r->end || !strchr("\"\\bfnrtu", *r->p))
				return -1;
			if (*r->p++ == 'u' && (r->end - r->p < 4 || strspn((const char *)r->p,
					       "0123456789abcdef") < 4))
				return -1;
			if (r->p[-1] == 'u')
				r->p += 4;
		}
	}
	return r->p < r->end ? (r->p++, 0) : -1;
}

static int read_object(struct reader *r, int depth)
{
	const unsigned char *keys[600];
	size_t lens[600], n = 0, i;

	r->p++;
	if (r->p < r->end && *r->p == '}')
		return r->p++, 0;
	for (;;) {
		keys[n] = r->p;
		if (read_string(r))
			return -1;
		lens[n] = (size_t)(r->p - keys[n]);
		for (i = 0; i < n; i++)
			if (lens[i] == lens[n] && !memcmp(keys[i], keys[n], lens[n]))
				return -1;
		if (++n == 600 || r->p >= r->end || *r->p++ != ':' || read_value(r, depth + 1))
			return -1;
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		return r->p < r->end && *r->p++ == '}' ? 0 : -1;
	}
}

static int read_value(struct reader *r, int depth)
{
	if (r->p >= r->end || depth > 8)
		return -1;
	if (*r->p == '{')
		return read_object(r, depth);
	if (*r->p == '"')
		return read_string(r);
	if (*r->p == '[') {
		if (++r->p < r->end && *r->p == ']')
			return r->p++, 0;
		do {
			if (read_value(r, depth + 1))
				return -1;
		} while (r->p < r->end && *r->p == ',' && r->p++);
		return r->p < r->end && *r->p++ == ']' ? 0 : -1;
	}
	if (*r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
		return 0;
	}
	if (r->end - r->p >= 4 && (!memcmp(r->p, "true", 4) || !memcmp(r->p, "null", 4)))
		return r->p += 4, 0;
	if (r->end - r->p >= 5 && !memcmp(r->p, "false", 5))
		return r->p += 5, 0;
	return -1;
}

/* Checks that every line is one JSON object; returns the number of lines. */
static int check_json_lines(const char *data, size_t len)
{
	struct reader r = { (const unsigned char *)data, (const unsigned char *)data + len };
	int lines = 0;

	while (r.p < r.end) {
		assert_int_equal(*r.p, '{');
		assert_int_equal(read_value(&r, 0), 0);
		assert_true(r.p < r.end && *r.p == '\n');
		r.p++;
		lines++;
	}
	return lines;
}

static void test_reader_rejects(void **state)
{
	static const char *const bad[] = {
		"{\"a\":1,\"a\":2}\n", "{\"a\":\"\x01\"}\n", "{\"a\":\"\xff\"}\n", "{\"a\":[1,]}\n",
		"{\"a\":\"\\x\"}\n", "{\"a\":tru}\n", "{\"a\" :1}\n", "{\"a\":\"\xed\xa0\x80\"}\n",
	};
	struct reader r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.p = (const unsigned char *)bad[i];
		r.end = r.p + strlen(bad[i]);
		assert_int_not_equal(read_value(&r, 0), 0);
	}
}

/* Lines reach the stream once 256 KiB are buffered, not per event; errors are counted. */
static void test_buffering_and_errors(void **state)
{
	struct event_options opt = { .format = OUTPUT_JSON, .types = EVENT_HTTP };
	struct event_writer *w;
	struct out o;
	FILE *f;
	int i;

	out_open(&o, OUTPUT_JSON, EVENT_HTTP, NULL);
	fflush(o.f);  /* sets o.len */
	assert_int_equal(o.len, 0);
	for (i = 0; i < 100000 && o.len == 0; i++) {
		event_message(o.w, &ctx, &req);
		fflush(o.f);
	}
	assert_true(i > 100);
	assert_true(o.len >= 256 * 1024);
	assert_true(o.len - o.len / (size_t)i < 256 * 1024);  /* at the first event past it */
	out_close(&o);
	assert_int_equal(o.len % (o.len / (size_t)i), 0);
	assert_int_equal(check_json_lines(o.data, o.len), i);
	free(o.data);

	f = fopen("/dev/full", "w");
	assert_non_null(f);
	w = event_writer_new(f, &opt);
	assert_non_null(w);
	event_message(w, &ctx, &req);
	assert_int_equal(event_writer_flush(w), -EIO);
	assert_true(event_writer_stats(w)->write_errors >= 1);
	assert_int_equal(event_writer_stats(w)->events, 1);
	event_writer_free(w);
	fclose(f);
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Random bytes biased to the ones that need care: controls, quotes, high bytes, '-'. */
static struct http_str rnd_str(uint32_t *s, char *buf, uint32_t max)
{
	static const char pick[] = "aZ-\"\\\x00\x1b\x7f\x80\xc2\x9b\xe2\xf0\xff\xed\xa0 \t\r\n";
	uint32_t n = rnd(s) % max, i;

	for (i = 0; i < n; i++)
		buf[i] = rnd(s) & 1 ? pick[rnd(s) % (sizeof(pick) - 1)] : (char)rnd(s);
	return (struct http_str){ buf, n };
}

static void test_random_messages(void **state)
{
	static char pool[64][24];
	struct http_header h[16];
	struct http_message m;
	struct exchange x;
	struct owner p = proc;
	struct msg_context c = ctx;
	struct out js, tab;
	uint32_t s = 2463534242u, i, k, n;
	size_t j;

	out_open(&js, OUTPUT_JSON, 15, NULL);
	out_open(&tab, OUTPUT_TABLE, 15, NULL);
	for (i = 0; i < 3000; i++) {
		memset(&m, 0, sizeof(m));
		m.kind = rnd(&s) & 1 ? HTTP_REQUEST : HTTP_RESPONSE;
		m.method = rnd_str(&s, pool[0], 8);
		m.target = rnd_str(&s, pool[1], 24);
		m.protocol = rnd_str(&s, pool[2], 10);
		m.host = rnd_str(&s, pool[3], 24);
		m.path = rnd_str(&s, pool[4], 24);
		m.status = rnd_str(&s, pool[5], 24);
		m.status_code = (int)(rnd(&s) % 2000000) - 1000000;
		m.content_length = (int64_t)rnd(&s) - 100;
		m.truncated = rnd(&s) & 1;
		m.n_headers = rnd(&s) % 16;
		for (k = 0; k < m.n_headers; k++) {
			n = rnd(&s) % 4;  /* few distinct names: duplicates merge */
			h[k].name = (struct http_str){ "X-a", 3 };
			if (n)
				h[k].name = rnd_str(&s, pool[8 + 2 * k], 3);
			h[k].value = rnd_str(&s, pool[9 + 2 * k], 24);
		}
		m.headers = h;
		c.owner = rnd(&s) & 1 ? &p : NULL;
		rnd_str(&s, p.comm, 16);
		event_message(js.w, &c, &m);
		event_message(tab.w, &c, &m);
		x = (struct exchange){ .family = 4, .request = &m, .response = &resp };
		event_exchange(js.w, &x);
		event_exchange(tab.w, &x);
	}
	out_close(&js);
	out_close(&tab);
	assert_int_equal(check_json_lines(js.data, js.len), 3000 * 3);
	for (j = 0; j < tab.len; j++) {
		unsigned char b = (unsigned char)tab.data[j];

		assert_false((b < 0x20 && b != '\n') || b == 0x7f);
		assert_false(b == 0xc2 && j + 1 < tab.len && (unsigned char)tab.data[j + 1] < 0xa0);
	}
	free(js.data);
	free(tab.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_lines),
		cmocka_unit_test(test_table_hostile_bytes),
		cmocka_unit_test(test_reader_rejects),
		cmocka_unit_test(test_buffering_and_errors),
		cmocka_unit_test(test_random_messages),
	};

	return cmocka_run_group_tests(tests, utc, NULL);
}
