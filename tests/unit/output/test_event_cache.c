/*
 * event.c, event_http.c: the rendering caches (owners, trace.ProtoHTTP values) never show a
 * stale value: every event equals the one a fresh writer renders.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "output/event.h"

/* The line w renders for (ctx, msg), and the same from a new writer; both must match. */
static void expect_fresh(struct event_writer *w, FILE *f, char **buf, size_t *len,
			 const struct msg_context *ctx, const struct http_message *msg,
			 const struct event_options *opt)
{
	char *fresh_buf = NULL;
	size_t fresh_len = 0;
	FILE *g = open_memstream(&fresh_buf, &fresh_len);
	struct event_writer *v = event_writer_new(g, opt);
	long start;

	assert_non_null(g);
	assert_non_null(v);
	event_writer_flush(w);
	start = (long)*len;
	event_message(w, ctx, msg);
	event_writer_flush(w);
	event_message(v, ctx, msg);
	event_writer_free(v);
	fclose(g);
	assert_true(fresh_len > 0);
	{
		char want[64];

		snprintf(want, sizeof(want), "{\"timestamp\":%llu,",
			 (unsigned long long)ctx->ts_ns);
		assert_memory_equal(fresh_buf, want, strlen(want));
	}
	assert_int_equal((long)*len - start, (long)fresh_len);
	assert_memory_equal(*buf + start, fresh_buf, fresh_len);
	free(fresh_buf);
	(void)f;
}

static struct http_str s(const char *p)
{
	return (struct http_str){ .p = p, .len = (uint32_t)strlen(p) };
}

static void run(const struct event_options *opt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct event_writer *w = event_writer_new(f, opt);
	struct owner o[12];
	struct http_header h[3] = {
		{ s("host"), s("example.com") }, { s("x-a"), s("1") }, { s("X-A"), s("2") },
	};
	struct http_message req = {
		.kind = HTTP_REQUEST, .method = s("GET"), .target = s("/a?b"), .protocol =
		s("HTTP/1.1"), .host = s("example.com"), .path = s("/a"), .headers = h,
		.n_headers = 3,
	};
	struct http_message resp = {
		.kind = HTTP_RESPONSE, .protocol = s("HTTP/1.1"), .status = s("200 OK"),
		.status_code = 200, .headers = h + 1, .n_headers = 2, .content_length = 5,
	};
	struct msg_context ctx = { .ts_ns = 1700000000123456789ull, .family = 4,
				   .dir = DIR_EGRESS, .packet_len = 100 };
	char v[8];

	assert_non_null(w);
	memset(o, 0, sizeof(o));
	for (int i = 0; i < 12; i++) {
		o[i].sock_cookie = 100 + (uint64_t)i;
		o[i].host_pid = o[i].pid = 1000 + (uint32_t)(i % 5);
		o[i].host_tid = o[i].tid = 2000 + (uint32_t)(i % 5);
		o[i].thread_start_ns = 5000000000ull * (uint64_t)(i % 3 + 1);
		snprintf(o[i].comm, sizeof(o[i].comm), "proc%d", i % 4);
		if (i % 2)
			snprintf(o[i].container_id, sizeof(o[i].container_id), "c%063d", i);
	}
	ctx.src = (struct endpoint){ .addr = { 127, 0, 0, 1 }, .port = 40000 };
	ctx.dst = (struct endpoint){ .addr = { 10, 1, 200, 255 }, .port = 80 };
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	/* Many owners, more than the cache holds, each twice, in changing order. */
	for (int r = 0; r < 3; r++) {
		for (int i = 0; i < 12; i++) {
			ctx.owner = &o[(i * (r + 5)) % 12];
			expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
			expect_fresh(w, f, &buf, &len, &ctx, &resp, opt);
		}
	}
	/* One owner changed in place (same socket, same thread): each field shows at once. */
	ctx.owner = &o[0];
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	strcpy(o[0].comm, "renamed");
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	o[0].uid = 33;
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	o[0].host_ppid = 77;
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	strcpy(o[0].exe, "/usr/sbin/nginx");
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	strcpy(o[0].pod_uid, "pod-1");
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	o[0].container_id[0] = 'd';
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	o[0].thread_start_ns++;
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	/* Messages changed in place, one field at a time; and many different values. */
	ctx.owner = NULL;
	for (int i = 0; i < 20; i++) {
		snprintf(v, sizeof(v), "%d", i % 11);
		h[1].value = s(v);
		expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
		expect_fresh(w, f, &buf, &len, &ctx, &resp, opt);
	}
	resp.status_code = 404;
	expect_fresh(w, f, &buf, &len, &ctx, &resp, opt);
	resp.content_length = -1;
	expect_fresh(w, f, &buf, &len, &ctx, &resp, opt);
	resp.truncated = true;
	expect_fresh(w, f, &buf, &len, &ctx, &resp, opt);
	req.n_headers = 2;
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	req.path = s("/b");
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	req.target = s("/b?c");
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	req.method = s("PUT");
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	h[0].name = s("HOST");
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	h[0].value = s("");
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	/* Timestamps: the same second again, the next one, leading zeros in the ns, below 1 s. */
	{
		static const uint64_t ts[] = {
			1700000000000000001ull, 1700000000999999999ull, 1700000001000000000ull,
			1700000001000000010ull, 1000000000ull, 999999999ull, 0, 1, 10000000000ull,
			18446744073709551615ull, 1700000000123456789ull,
		};

		for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
			ctx.ts_ns = ts[i];
			expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
			expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
		}
	}
	/* The same bytes as a request and as a response stay apart. */
	resp.truncated = false;
	resp.content_length = 0;
	req.content_length = 0;
	expect_fresh(w, f, &buf, &len, &ctx, &req, opt);
	expect_fresh(w, f, &buf, &len, &ctx, &resp, opt);
	event_writer_free(w);
	fclose(f);
	free(buf);
}

static void test_default(void **state)
{
	struct event_options opt = { .types = EVENT_HTTP };

	(void)state;
	run(&opt);
}

static void test_all_types_redacted(void **state)
{
	static const char *const redact[] = { "x-a", "host", NULL };
	struct event_options opt = { .types = EVENT_HTTP | EVENT_HTTP_REQUEST |
					      EVENT_HTTP_RESPONSE, .redact = redact };

	(void)state;
	run(&opt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_all_types_redacted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
