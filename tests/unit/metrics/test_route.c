/* Routes: the {id} rules, --route patterns first, the length cap, bad patterns. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "metrics/route.h"

static void expect_route(const struct route_set *rs, const char *path, const char *want)
{
	char out[ROUTE_MAX_LEN + 1];
	size_t n = route_of(rs, path, strlen(path), out);

	if (n != strlen(out) || strcmp(out, want))
		fail_msg("%s: route '%s' (%zu), expected '%s'", path, out, n, want);
}

/* Path and route without patterns. */
static const char *const id_cases[][2] = {
	{ "/", "/" },
	{ "", "" },
	{ "*", "*" },
	{ "/users/42", "/users/{id}" },
	{ "/users/42/orders/7", "/users/{id}/orders/{id}" },
	{ "/users/0", "/users/{id}" },
	{ "/v1/users", "/v1/users" },
	{ "/v2", "/v2" },
	{ "/items/550e8400-e29b-41d4-a716-446655440000", "/items/{id}" },
	{ "/items/550E8400-E29B-41D4-A716-446655440000/x", "/items/{id}/x" },
	{ "/items/550e8400e29b41d4a716446655440000", "/items/{id}" },    /* 32 hex */
	{ "/commits/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/commits/{id}" },
	{ "/objects/507f1f77bcf86cd799439011", "/objects/{id}" },      /* 24 hex */
	{ "/deadbeefdeadbee", "/deadbeefdeadbee" },                   /* 15 hex: a word */
	{ "/deadbeefdeadbeef", "/{id}" },
	{ "/t/dGhpcyBpcyBhIHRva2Vu4", "/t/{id}" },                    /* base64 */
	{ "/t/aGVsbG8td29ybGQ_x-1Z9", "/t/{id}" },                    /* base64url */
	{ "/t/abc123def456ghi7", "/t/{id}" },
	{ "/blog/release-notes-2024", "/blog/release-notes-2024" },   /* words */
	{ "/blog/my_first_post_2024_01", "/blog/my_first_post_2024_01" },
	{ "/api/authentication-service", "/api/authentication-service" },
	{ "/static/font-awesome-4.7.0.min.css", "/static/font-awesome-4.7.0.min.css" },
	{ "/static/app.3f2a9c1e5b7d4a60.js", "/static/app.3f2a9c1e5b7d4a60.js" },
	{ "/a/", "/a/" },
	{ "//x", "//x" },
	{ "/a b", "/a b" },
	{ "/caf\xc3\xa9", "/caf%C3%A9" },
	{ "/100%", "/100%25" },
	{ "/q\"\\", "/q\"\\" },
	{ "/users/12/", "/users/{id}/" },
};

static void test_ids(void **state)
{
	for (size_t i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++)
		expect_route(NULL, id_cases[i][0], id_cases[i][1]);
}

static void test_patterns(void **state)
{
	struct route_set rs = { 0 };

	assert_int_equal(route_add(&rs, "/users/{id}/orders"), 0);
	assert_int_equal(route_add(&rs, "/static/*"), 0);
	assert_int_equal(route_add(&rs, "/api/{version}/items"), 0);
	assert_int_equal(route_add(&rs, "/api/v1/{name}"), 0);
	assert_int_equal(route_add(&rs, "/"), 0);
	expect_route(&rs, "/users/alice/orders", "/users/{id}/orders");
	expect_route(&rs, "/users/42/orders", "/users/{id}/orders");
	expect_route(&rs, "/users//orders", "/users//orders");       /* {id} needs a segment */
	expect_route(&rs, "/users/42/orders/", "/users/{id}/orders/");
	expect_route(&rs, "/users/42", "/users/{id}");
	expect_route(&rs, "/static/css/site.css", "/static/*");
	expect_route(&rs, "/static/", "/static/*");
	expect_route(&rs, "/static", "/static");
	expect_route(&rs, "/api/v2/items", "/api/{version}/items");
	expect_route(&rs, "/api/v1/items", "/api/{version}/items");  /* the first that matches */
	expect_route(&rs, "/api/v1/things", "/api/v1/{name}");
	expect_route(&rs, "/", "/");
	expect_route(&rs, "/Users/1/orders", "/Users/{id}/orders");  /* case matters */
}

static void test_bad_patterns(void **state)
{
	static const char *const bad[] = {
		"users/{id}", "", "/a/{id", "/a/id}", "/a/{}", "/a/x{id}", "/a/{i d}", "/*/x",
		"/a*", "/a b", "/a/{id}}",
	};
	struct route_set rs = { 0 };
	char big[ROUTE_MAX_LEN + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (route_add(&rs, bad[i]) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(route_add(&rs, big), -EINVAL);
	big[ROUTE_MAX_LEN] = '\0';
	assert_int_equal(route_add(&rs, big), 0);
	for (int i = 1; i < ROUTE_MAX_PATTERNS; i++)
		assert_int_equal(route_add(&rs, "/x"), 0);
	assert_int_equal(route_add(&rs, "/y"), -EINVAL);
	assert_int_equal(rs.n, ROUTE_MAX_PATTERNS);
}

/* Long paths are cut after the last whole segment that fits, and say so. */
static void test_cut(void **state)
{
	char path[600], want[ROUTE_MAX_LEN + 1], out[ROUTE_MAX_LEN + 1];
	size_t n = 0;

	while (n + 10 < sizeof(path)) {
		memcpy(path + n, "/segment_a", 10);
		n += 10;
	}
	path[n] = '\0';
	/* 12 segments of 10 bytes fit before "/{rest}" (7 bytes): 120 + 7 <= 128 */
	memcpy(want, path, 120);
	strcpy(want + 120, "/{rest}");
	expect_route(NULL, path, want);
	memset(path, 'x', 300);
	path[0] = '/';
	path[300] = '\0';
	expect_route(NULL, path, "/{rest}");
	memset(path, 0xff, 200);
	assert_int_equal(route_of(NULL, path, 200, out), 7);
	assert_string_equal(out, "/{rest}");
}

/* Any bytes: a route of printable ASCII, never longer than the cap. */
static void test_any_bytes(void **state)
{
	char path[300], out[ROUTE_MAX_LEN + 1];
	size_t len, n;

	srand(14);
	for (int round = 0; round < 100000; round++) {
		len = (size_t)rand() % sizeof(path);
		for (size_t i = 0; i < len; i++)
			path[i] = rand() % 4 ? "/0123456789abcdefXYZ-_%"[rand() % 23] : (char)rand();
		n = route_of(NULL, path, len, out);
		assert_true(n <= ROUTE_MAX_LEN);
		assert_int_equal(strlen(out), n);
		for (size_t i = 0; i < n; i++)
			assert_true(out[i] >= 0x20 && out[i] < 0x7f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_bad_patterns),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_any_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
