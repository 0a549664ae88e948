/* Filters: globs, expression parsing, matching on messages and exchanges, the kernel's share. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "report/filter.h"

static bool glob(const char *p, const char *s, bool fold)
{
	return filter_glob(p, s, (uint32_t)strlen(s), fold);
}

static void test_glob(void **state)
{
	assert_true(glob("*", "", false));
	assert_true(glob("", "", false));
	assert_false(glob("", "a", false));
	assert_true(glob("a*b*c", "axxbyyc", false));
	assert_false(glob("a*b*c", "axxbyy", false));
	assert_true(glob("[a-c]x", "bx", false));
	assert_false(glob("[!a-c]x", "bx", false));
	assert_true(glob("[]]", "]", false));
	assert_true(glob("\\*", "*", false));
	assert_false(glob("\\*", "a", false));
	assert_true(glob("[abc", "[abc", false));
	assert_true(glob("*.example.com", "API.EXAMPLE.COM", true));
	assert_false(glob("*.example.com", "API.EXAMPLE.COM", false));
	assert_false(glob("?", "", false));
	assert_true(glob("/api/*", "/api/", false));
	assert_false(glob("/api/*", "/api", false));
	/* not NUL-terminated input: only len bytes count */
	assert_true(filter_glob("GE?", "GETX", 3, false));
}

static void test_parse(void **state)
{
	static const char *const good[] = {
		"method=POST", "status>=500", "status != 200", "host=*.example.com", "path=/api/*",
		"header:User-Agent=*curl*", "port=8080", "src=10.0.0.0/8", "dst=fd00::1",
		"direction=egress", "comm=curl", "pid<100", "uid=0", "container=3f2a",
	};
	static const char *const bad[] = {
		"foo=1", "status>=x", "status=1000", "method<POST", "src=1.2.3.4/33", "port=65536",
		"direction=up", "container=", "status", "=5", "header:=x", "path~x",
	};
	struct filter_set f = { 0 };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(filter_add(&f, good[i]), 0);
	assert_int_equal(f.n, sizeof(good) / sizeof(good[0]));
	assert_int_equal(f.terms[1].op, FILTER_GE);
	assert_int_equal(f.terms[1].num, 500);
	assert_int_equal(f.terms[7].prefix, 8);
	assert_string_equal(f.terms[5].name, "User-Agent");
	assert_non_null(filter_live_term(&f));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(filter_add(&f, bad[i]), -EINVAL);
}

static struct http_str str(const char *s)
{
	return (struct http_str){ s, (uint32_t)strlen(s) };
}

static void test_match(void **state)
{
	struct http_header rh[] = { { str("user-agent"), str("curl/8.0") } };
	struct http_message req = {
		.kind = HTTP_REQUEST, .method = str("POST"), .host = str("api.example.com"),
		.path = str("/api/orders"), .headers = rh, .n_headers = 1,
	};
	struct http_message resp = { .kind = HTTP_RESPONSE, .status_code = 503 };
	struct endpoint cli = { .addr = { 10, 0, 0, 1 }, .port = 40000 };
	struct endpoint srv = { .addr = { 10, 0, 0, 2 }, .port = 8080 };
	struct filter_subject rq = { 4, &cli, &srv, DIR_EGRESS, &req, NULL, NULL, false };
	struct filter_subject rs = { 4, &srv, &cli, DIR_INGRESS, &req, &resp, NULL, false };
	struct filter_subject orphan = { 4, &srv, &cli, DIR_INGRESS, NULL, &resp, NULL, false };
	struct filter_set f = { 0 };

	assert_true(filter_match(&f, &rq));
	filter_add(&f, "method=POST");
	filter_add(&f, "path=/api/*");
	assert_true(filter_match(&f, &rq));
	assert_true(filter_match(&f, &rs));
	assert_false(filter_match(&f, &orphan));
	filter_add(&f, "status>=500");
	assert_false(filter_match(&f, &rq));
	assert_true(filter_match(&f, &rs));
	filter_add(&f, "header:USER-AGENT=curl*");
	assert_true(filter_match(&f, &rs));
	filter_add(&f, "src=10.0.0.2/32");
	assert_false(filter_match(&f, &rq));
	assert_true(filter_match(&f, &rs));
	filter_add(&f, "port!=8080");
	assert_false(filter_match(&f, &rs));
	f.n--;
	filter_add(&f, "comm=curl");
	assert_false(filter_match(&f, &rs));  /* no owner: an absent field never matches */
}

/* path= sees uri_path as events show it: percent-decoded, as sent when an escape is bad. */
static void test_path_decoded(void **state)
{
	static const struct {
		const char *path, *expr;
		bool hit;
	} cases[] = {
		{ "/a%20b", "path=/a b", true },
		{ "/a%20b", "path=/a%20b", false },
		{ "/api%2Fv1", "path=/api/*", true },
		{ "/x+y", "path=/x y", false },
		{ "/x+y", "path=/x+y", true },
		{ "/bad%zz", "path=/bad%zz", true },
		{ "/bad%zz", "path!=/bad%zz", false },
		{ "/%41%42", "path!=/AB", false },
		{ "/l%6fng/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "path=/long/*", true },  /* longer than the stack buffer */
	};
	struct endpoint a = { .port = 1 }, b = { .port = 2 };
	struct http_message req = { .kind = HTTP_REQUEST, .method = str("GET") };
	struct filter_subject s = { 4, &a, &b, DIR_EGRESS, &req, NULL, NULL, false };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct filter_set f = { 0 };

		req.path = str(cases[i].path);
		assert_int_equal(filter_add(&f, cases[i].expr), 0);
		if (filter_match(&f, &s) != cases[i].hit)
			fail_msg("%s on %.40s: want %d", cases[i].expr, cases[i].path, cases[i].hit);
	}
}

static void test_kernel(void **state)
{
	struct filter_set f = { 0 };
	struct kernel_filter k = { 0 };

	filter_add(&f, "port!=1");
	filter_add(&f, "port=8080");
	filter_add(&f, "port=9090");
	filter_add(&f, "src=10.1.0.0/16");
	filter_add(&f, "dst=fd00::/8");
	filter_kernel(&f, false, &k);
	assert_int_equal(k.port, 8080);
	assert_int_equal(k.src_family, 4);
	assert_int_equal(k.src_prefix, 16);
	assert_int_equal(k.src_addr[1], 1);
	assert_int_equal(k.dst_family, 6);
	assert_int_equal(k.dst_addr[0], 0xfd);
	memset(&k, 0, sizeof(k));
	filter_kernel(&f, true, &k);  /* exchanges: no per-packet addresses */
	assert_int_equal(k.port, 8080);
	assert_int_equal(k.src_family, 0);
	assert_int_equal(k.dst_family, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_path_decoded),
		cmocka_unit_test(test_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
