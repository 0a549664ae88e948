/* Metrics: labels, buckets, server and client sides, the series cap, the exposition's text. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "metrics/metrics.h"

#define MS 1000000ull

struct fixture {
	struct http_message req, resp;
	struct owner owner;
	struct exchange x;
};

static struct http_str s(const char *text)
{
	return (struct http_str){ text, (uint32_t)strlen(text) };
}

/* An exchange 10.0.0.1:40000 -> 10.0.0.2:8080, method path -> status after latency_ms. */
static void exchange(struct fixture *f, const char *method, const char *path, int status,
		     uint64_t latency_ms)
{
	memset(f, 0, sizeof(*f));
	f->req = (struct http_message){ .kind = HTTP_REQUEST, .method = s(method),
					.path = s(path), .target = s(path) };
	f->resp = (struct http_message){ .kind = HTTP_RESPONSE, .status_code = status };
	f->x = (struct exchange){ .family = 4, .request = &f->req, .response = &f->resp,
				  .latency_ns = latency_ms * MS, .dir = DIR_UNKNOWN };
	memcpy(f->x.client.addr, "\x0a\x00\x00\x01", 4);
	memcpy(f->x.server.addr, "\x0a\x00\x00\x02", 4);
	f->x.client.port = 40000;
	f->x.server.port = 8080;
}

static struct metrics *new_metrics(uint32_t max_series, bool live)
{
	struct metrics_options opt = { .max_series = max_series, .live = live };
	struct metrics *m = metrics_new(&opt);

	assert_non_null(m);
	return m;
}

/* The exposition as a NUL-terminated string (freed by the caller). */
static char *render(struct metrics *m)
{
	struct json_buf b;
	char *text;

	json_init(&b);
	assert_int_equal(metrics_render(m, &b), 0);
	text = malloc(b.len + 1);
	assert_non_null(text);
	memcpy(text, b.data, b.len);
	text[b.len] = '\0';
	json_free(&b);
	return text;
}

static void expect_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("no line '%s' in:\n%s", line, text);
}

static unsigned count_lines(const char *text, const char *prefix)
{
	unsigned n = 0;

	for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += !strncmp(p, prefix, strlen(prefix));
	return n;
}

#define LABELS "http_request_method=\"GET\",http_response_status_code=\"200\"," \
	       "http_route=\"/users/{id}\",server_address=\"10.0.0.2\",server_port=\"8080\""
#define SERVER "http_server_request_duration_seconds"

static void test_buckets(void **state)
{
	struct metrics *m = new_metrics(0, false);
	struct fixture f;
	static const uint64_t ms[] = { 1, 5, 6, 30, 120, 120, 20000 };
	char *text;

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		exchange(&f, "GET", i % 2 ? "/users/42" : "/users/7", 200, ms[i]);
		metrics_exchange(m, &f.x);
	}
	text = render(m);
	expect_line(text, SERVER "_bucket{" LABELS ",le=\"0.005\"} 2");  /* le is inclusive */
	expect_line(text, SERVER "_bucket{" LABELS ",le=\"0.01\"} 3");
	expect_line(text, SERVER "_bucket{" LABELS ",le=\"0.05\"} 4");
	expect_line(text, SERVER "_bucket{" LABELS ",le=\"0.1\"} 4");
	expect_line(text, SERVER "_bucket{" LABELS ",le=\"0.25\"} 6");
	expect_line(text, SERVER "_bucket{" LABELS ",le=\"10\"} 6");
	expect_line(text, SERVER "_bucket{" LABELS ",le=\"+Inf\"} 7");
	expect_line(text, SERVER "_sum{" LABELS "} 20.282000000");
	expect_line(text, SERVER "_count{" LABELS "} 7");
	expect_line(text, "httpeek_metrics_series{metric=\"" SERVER "\"} 1");
	assert_int_equal(count_lines(text, SERVER "_bucket{"), 15);
	assert_int_equal(count_lines(text, "http_client_request_duration_seconds_"), 0);
	free(text);
	metrics_free(m);
}

/* Live, the end that sent the request counts as client; a capture counts every exchange once. */
static void test_sides(void **state)
{
	struct metrics *live = new_metrics(0, true), *offline = new_metrics(0, false);
	static const enum direction dirs[] = { DIR_INGRESS, DIR_EGRESS, DIR_EGRESS };
	struct fixture f;
	char *text;

	for (size_t i = 0; i < 3; i++) {
		exchange(&f, "POST", "/orders", 201, 3);
		f.x.dir = dirs[i];
		metrics_exchange(live, &f.x);
		metrics_exchange(offline, &f.x);
	}
	exchange(&f, "POST", "/orders", 201, 3);
	f.x.response = NULL;  /* no response: not timed */
	metrics_exchange(live, &f.x);
	text = render(live);
	assert_int_equal(count_lines(text, SERVER "_count{"), 1);
	assert_non_null(strstr(text, SERVER "_count{http_request_method=\"POST\""));
	assert_non_null(strstr(text, "route=\"/orders\",server_address=\"10.0.0.2\","
				     "server_port=\"8080\"} 1\n"));
	assert_non_null(strstr(text, "http_client_request_duration_seconds_count{"
				     "http_request_method=\"POST\""));
	assert_non_null(strstr(text, "server_port=\"8080\"} 2\n"));
	free(text);
	text = render(offline);
	assert_int_equal(count_lines(text, "http_client_request_duration_seconds_count"), 0);
	assert_non_null(strstr(text, "server_port=\"8080\"} 3\n"));
	free(text);
	metrics_free(live);
	metrics_free(offline);
}

static void test_labels(void **state)
{
	struct metrics *m = new_metrics(0, true);
	struct fixture f;
	char *text;

	exchange(&f, "BREW", "/a%20b/12", 418, 1);
	strcpy(f.owner.comm, "we\"ird\\\n\xff");
	strcpy(f.owner.container_id, "3f2a");
	strcpy(f.owner.pod_uid, "0d9e6c5b-1b4a-4b7e-9d1e-2f6a3c8b7e10");
	f.x.owner = &f.owner;
	f.x.dir = DIR_INGRESS;
	f.x.family = 6;
	memcpy(f.x.server.addr, "\xfd\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	metrics_exchange(m, &f.x);
	text = render(m);
	expect_line(text, SERVER "_count{http_request_method=\"_OTHER\","
			  "http_response_status_code=\"418\",http_route=\"/a b/{id}\","
			  "server_address=\"fd00::2\",server_port=\"8080\","
			  "process_name=\"we\\\"ird\\\\\\n?\",container_id=\"3f2a\","
			  "k8s_pod_uid=\"0d9e6c5b-1b4a-4b7e-9d1e-2f6a3c8b7e10\"} 1");
	free(text);
	metrics_free(m);
}

/* Past the cap every new label set lands in the one overflow series; known ones still count. */
static void test_cap(void **state)
{
	struct metrics *m = new_metrics(5, false);
	struct fixture f;
	char path[32], *text;

	for (int i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/page%d", i);
		exchange(&f, "GET", path, 200, 1);
		metrics_exchange(m, &f.x);
	}
	exchange(&f, "GET", "/page0", 200, 1);
	metrics_exchange(m, &f.x);
	text = render(m);
	assert_int_equal(count_lines(text, SERVER "_count{"), 5);
	expect_line(text, SERVER "_count{http_request_method=\"GET\",http_response_status_code="
			  "\"200\",http_route=\"/page0\",server_address=\"10.0.0.2\","
			  "server_port=\"8080\"} 2");
	expect_line(text, SERVER "_count{http_request_method=\"__overflow__\","
			  "http_response_status_code=\"__overflow__\",http_route=\"__overflow__\","
			  "server_address=\"__overflow__\",server_port=\"__overflow__\","
			  "process_name=\"__overflow__\",container_id=\"__overflow__\","
			  "k8s_pod_uid=\"__overflow__\",rpc_grpc_status_code=\"__overflow__\"} 996");
	expect_line(text, "httpeek_metrics_overflow_total{metric=\"" SERVER "\"} 996");
	expect_line(text, "httpeek_metrics_series{metric=\"" SERVER "\"} 5");
	expect_line(text, "httpeek_metrics_series_limit 5");
	free(text);
	metrics_free(m);
}

/* Many series: the index grows and every one is found again. */
static void test_many(void **state)
{
	struct metrics *m = new_metrics(100000, false);
	struct fixture f;
	char path[32], *text;

	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 5000; i++) {
			snprintf(path, sizeof(path), "/p%d", i);
			exchange(&f, "GET", path, 200 + round, 1);
			metrics_exchange(m, &f.x);
		}
	text = render(m);
	assert_int_equal(count_lines(text, SERVER "_count{"), 10000);
	expect_line(text, "httpeek_metrics_overflow_total{metric=\"" SERVER "\"} 0");
	free(text);
	metrics_free(m);
}

/* Variant k of one exchange: each differs from variant 0 in one thing its labels are made of. */
static void variant(struct fixture *f, int k)
{
	exchange(f, k == 1 ? "POST" : "GET", k == 2 ? "/b" : "/a", k == 3 ? 404 : 200, 1);
	strcpy(f->owner.comm, k == 4 ? "curl" : "nginx");
	strcpy(f->owner.container_id, k == 5 ? "3f2a" : "");
	strcpy(f->owner.pod_uid, k == 6 ? "0d9e6c5b" : "");
	f->x.owner = k == 7 ? NULL : &f->owner;
	f->x.server.port = k == 8 ? 8081 : 8080;
	f->x.server.addr[3] = k == 9 ? 3 : 2;
	f->x.dir = k == 10 ? DIR_EGRESS : DIR_INGRESS;
	if (k == 11) {
		f->x.family = 6;
		memcpy(f->x.server.addr, "\xfd\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	}
	if (k == 12)
		f->req.path = s("/a%2F");
}

/*
 * Exchanges seen lately skip the labels (a memo of what they are made of): variants that
 * differ in one input each, each counted right after variant 0, then in runs and interleaved,
 * each land in a series of their own with exactly their count.
 */
static void test_memo(void **state)
{
	struct metrics *m = new_metrics(0, true);
	long want[13] = { 0 }, sum = 0;
	struct fixture f;
	char *text, *p;
	unsigned lines = 0;

	for (int k = 1; k < 13; k++)  /* each right after variant 0, which the memo then holds */
		for (int j = 0; j < 2; j++) {
			variant(&f, j ? k : 0);
			metrics_exchange(m, &f.x);
			want[j ? k : 0]++;
		}
	for (int round = 0; round < 3; round++)
		for (int k = 0; k < 13; k++)
			for (int i = 0; i <= k; i++) {
				variant(&f, (k + i) % 2 ? k : (k * 7 + i) % 13);
				metrics_exchange(m, &f.x);
				want[(k + i) % 2 ? k : (k * 7 + i) % 13]++;
			}
	text = render(m);
	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *brace;
		long v;
		int k;

		if (strncmp(p, SERVER "_count{", strlen(SERVER "_count{")) &&
		    strncmp(p, "http_client_request_duration_seconds_count{",
			    strlen("http_client_request_duration_seconds_count{")))
			continue;
		brace = strstr(p, "} ");
		assert_non_null(brace);
		v = strtol(brace + 2, NULL, 10);
		for (k = 0; k < 13 && want[k] != v; k++)
			;
		assert_true(k < 13);  /* a count no variant has: two merged, or one split */
		want[k] = -1;
		sum += v;
		lines++;
	}
	assert_int_equal(lines, 13);
	assert_int_equal(sum, 24 + 3 * 13 * 14 / 2);
	free(text);
	metrics_free(m);
}

struct counting {
	struct metrics *m;
	int series;
	volatile int done;
};

/* Counts one exchange on each of c->series new paths, then says so. */
static void *count_paths(void *arg)
{
	struct counting *c = arg;
	struct fixture f;
	char path[32];

	for (int i = 0; i < c->series; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		exchange(&f, "GET", path, 200, 1);
		metrics_exchange(c->m, &f.x);
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The value of the line that starts with prefix, or -1. */
static long line_value(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);

	return p ? strtol(p + strlen(prefix), NULL, 10) : -1;
}

/*
 * Renders while another thread adds series (the array moves under the render's snapshot): each
 * exposition is whole and agrees with itself, its series as many as its gauge says.
 */
static void test_render_while_counting(void **state)
{
	struct counting c = { .m = new_metrics(100000, false), .series = 20000 };
	const char *gauge = "httpeek_metrics_series{metric=\"" SERVER "\"} ";
	pthread_t t;
	unsigned renders = 0;
	long n;
	char *text;

	assert_int_equal(pthread_create(&t, NULL, count_paths, &c), 0);
	while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE) || !renders) {
		text = render(c.m);
		n = line_value(text, gauge);
		assert_int_equal(count_lines(text, SERVER "_count{"), n);
		assert_int_equal(count_lines(text, SERVER "_bucket{"), 15 * n);
		assert_non_null(strstr(text, "httpeek_metrics_series_limit 100000\n"));
		free(text);
		renders++;
	}
	pthread_join(t, NULL);
	text = render(c.m);
	assert_int_equal(line_value(text, gauge), c.series);
	print_message("%u renders while counting\n", renders);
	free(text);
	metrics_free(c.m);
}

static void test_self(void **state)
{
	struct metrics *m = new_metrics(0, false);
	struct metrics_self self = { .packets = 10, .messages = 4, .events = 3,
				     .parse_failures = 2, .gap_losses = 1, .records = 99 };
	char *text;

	metrics_set_self(m, &self);
	text = render(m);
	expect_line(text, "# TYPE httpeek_packets_total counter");
	expect_line(text, "httpeek_packets_total 10");
	expect_line(text, "httpeek_messages_total 4");
	expect_line(text, "httpeek_events_total 3");
	expect_line(text, "httpeek_parse_failures_total 2");
	expect_line(text, "httpeek_messages_missed_total{reason=\"bytes_lost\"} 1");
	assert_null(strstr(text, "httpeek_ringbuf_records_total"));  /* live only */
	free(text);
	self.live = true;
	self.kernel_drops = 7;
	self.lost_heads = 5;
	metrics_set_self(m, &self);
	text = render(m);
	expect_line(text, "httpeek_ringbuf_records_total 99");
	expect_line(text, "httpeek_kernel_drops_total 7");
	expect_line(text, "httpeek_messages_missed_total{reason=\"ring_buffer_full\"} 5");
	assert_null(strstr(text, "httpeek_tls_"));  /* TLS traced only */
	free(text);
	self.tls = true;
	self.tls_libraries = 2;
	self.tls_skipped[LIVE_TLS_SKIP_FORMAT] = 300;
	self.tls_skipped[LIVE_TLS_SKIP_GONE] = 4;
	self.tls_skipped[LIVE_TLS_SKIP_GO_LAYOUT] = 3;
	self.tls_go_binaries = 5;
	self.tls_mappings_lost = 7574;
	metrics_set_self(m, &self);
	text = render(m);
	expect_line(text, "# TYPE httpeek_tls_libraries gauge");
	expect_line(text, "httpeek_tls_libraries 2");
	expect_line(text, "httpeek_tls_libraries_skipped_total{reason=\"format\"} 300");
	expect_line(text, "httpeek_tls_libraries_skipped_total{reason=\"gone\"} 4");
	expect_line(text, "httpeek_tls_libraries_skipped_total{reason=\"owner\"} 0");
	expect_line(text, "httpeek_tls_go_binaries 5");
	expect_line(text, "httpeek_tls_libraries_skipped_total{reason=\"go_layout\"} 3");
	expect_line(text, "httpeek_tls_libraries_skipped_total{reason=\"go_no_tls\"} 0");
	expect_line(text, "httpeek_tls_mapping_reports_lost_total 7574");
	free(text);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_sides),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_render_while_counting),
		cmocka_unit_test(test_self),
	};

	metrics_free(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
