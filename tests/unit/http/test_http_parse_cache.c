/* http/parse_cache.c: cached parses equal fresh ones, in the caller's buffer, for any head. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "http/parse_cache.h"

#define MAXF 32u

/* s points into buf (at the same offset as e into ebuf) or at the same static text as e. */
static void expect_str(const struct http_str *s, const char *buf, const struct http_str *e,
		       const char *ebuf, size_t len)
{
	uintptr_t ep = (uintptr_t)e->p;

	assert_int_equal(s->len, e->len);
	if (ep >= (uintptr_t)ebuf && ep - (uintptr_t)ebuf <= len)
		assert_ptr_equal(s->p, buf + (ep - (uintptr_t)ebuf));
	else
		assert_ptr_equal(s->p, e->p);
	if (s->len)
		assert_memory_equal(s->p, e->p, s->len);
}

static struct http_parse_cache *cache;  /* shared by the tests, as by a pipeline's streams */

static void expect_same(const char *head, uint32_t max)
{
	size_t len = strlen(head);
	char *a = malloc(len + 1), *b = malloc(len + 1);
	struct http_header ha[MAXF], hb[MAXF];
	struct http_message ma, mb;
	int ea, eb;

	memcpy(a, head, len + 1);
	memcpy(b, head, len + 1);
	ea = http_parse_head(a, len, &ma, ha, max);
	eb = http_parse_cached(cache, b, len, &mb, hb, max);
	assert_int_equal(ea, eb);
	assert_memory_equal(a, b, len);  /* folding rewrote both the same way */
	if (!ea) {
		assert_int_equal(ma.kind, mb.kind);
		assert_int_equal(ma.status_code, mb.status_code);
		assert_int_equal(ma.content_length, mb.content_length);
		assert_int_equal(ma.chunked, mb.chunked);
		assert_int_equal(ma.truncated, mb.truncated);
		assert_int_equal(ma.n_headers, mb.n_headers);
		assert_ptr_equal(mb.headers, hb);
		expect_str(&mb.method, b, &ma.method, a, len);
		expect_str(&mb.target, b, &ma.target, a, len);
		expect_str(&mb.protocol, b, &ma.protocol, a, len);
		expect_str(&mb.host, b, &ma.host, a, len);
		expect_str(&mb.path, b, &ma.path, a, len);
		expect_str(&mb.status, b, &ma.status, a, len);
		for (uint32_t i = 0; i < ma.n_headers; i++) {
			expect_str(&hb[i].name, b, &ha[i].name, a, len);
			expect_str(&hb[i].value, b, &ha[i].value, a, len);
		}
	}
	free(a);
	free(b);
}

static const char *const heads[] = {
	"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:18080\r\n\r\n",
	"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 25\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
	"POST /a?b=c HTTP/1.1\r\nHost: h\r\nX-Fold: one\r\n  two\r\n\tthree\r\n"
	"Transfer-Encoding: gzip, chunked\r\n\r\n",
	"GET http://user@example.com:8080/p?q HTTP/1.0\r\nHost: other\r\n\r\n",
	"CONNECT example.com:443 HTTP/1.1\r\n\r\n",
	"GET /old\r\n",            /* HTTP/0.9: the protocol is static text */
	"OPTIONS\r\nHost: x\r\n\r\n",  /* a bare method: empty strings at the line's end */
	"OPTIONS HTTP/1.1\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\n\r\n",
	"NOT HTTP AT ALL\r\n\r\n",  /* an error, cached too */
	"HTTP/1.1 2x0 Bad\r\n\r\n",
	"GET / HTTP/1.1\r\nbad line\r\nA: b\r\n\r\n",
};

/* Every head, twice in a row (the second from the cache), then all again in another order. */
static void test_same_as_parse(void **state)
{
	size_t n = sizeof(heads) / sizeof(heads[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		expect_same(heads[i], MAXF);
		expect_same(heads[i], MAXF);
	}
	for (size_t i = n; i-- > 0;)
		expect_same(heads[i], MAXF);
	for (size_t i = 0; i < n; i++)
		expect_same(heads[(i * 7) % n], MAXF);
}

/* The field limit is part of the key: a head cached with one limit is parsed again. */
static void test_field_limit(void **state)
{
	const char *h = heads[1];

	(void)state;
	for (uint32_t max = 0; max <= 5; max++) {
		expect_same(h, max);
		expect_same(h, max);
	}
	expect_same(h, 1);
	expect_same(h, MAXF);
}

/* Heads that differ in one byte never share a parse. */
static void test_one_byte_apart(void **state)
{
	char h[] = "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
	size_t len = strlen(h);

	(void)state;
	for (size_t i = 0; i < len; i++) {
		char saved = h[i];

		expect_same(h, MAXF);
		h[i] = saved == 'a' ? 'b' : saved == '5' ? '7' : saved;
		expect_same(h, MAXF);
		h[i] = saved;
	}
}

/* Prefixes of a head, byte by byte: each a different key; start lines alone as check_start. */
static void test_prefixes(void **state)
{
	const char *full = heads[2];
	char buf[256];

	(void)state;
	for (size_t n = 1; n <= strlen(full); n++) {
		memcpy(buf, full, n);
		buf[n] = '\0';
		expect_same(buf, MAXF);
		expect_same(buf, 0);
	}
}

/* Longer than the cache takes, or more fields: parsed as usual. */
static void test_uncached(void **state)
{
	char *big = malloc(HTTP_CACHE_HEAD + 200);
	size_t n;

	(void)state;
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'v', HTTP_CACHE_HEAD);
	memcpy(big + n + HTTP_CACHE_HEAD, "\r\n\r\n", 5);
	expect_same(big, MAXF);
	expect_same(big, MAXF);
	free(big);
}

/* A whole head: CRLF lines, the first empty one at its end. */
static bool whole(const char *h)
{
	const char *e = strstr(h, "\r\n\r\n");

	return e && e[4] == '\0';
}

/* Its field lines: the lines between the start line and the empty line. */
static uint32_t field_lines(const char *h)
{
	uint32_t n = 0;

	for (; *h; h++)
		n += *h == '\n';
	return n - 2;
}

/*
 * A head is known where a buffer starts with it (read where it lies, which the read-only page
 * checks) once parsed whole without error and left as it was; a folded head, which parsing
 * rewrites, a failed one or a start line alone never is, nor a head longer than the buffer's
 * limit or parsed under another field limit.
 */
static void test_known_head(void **state)
{
	static const char after[] = "body bytes\r\n\r\nGET / HTTP/1.1\r\n\r\n";
	long page = sysconf(_SC_PAGESIZE);
	char *ro = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	struct http_header ha[MAXF], hb[MAXF];
	struct http_message ma, mb;

	(void)state;
	assert_true(ro != MAP_FAILED);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		struct http_parse_cache *c = http_parse_cache_new(NULL);
		const char *h = heads[i];
		size_t len = strlen(h), got = 0, lim = len + sizeof(after) - 1;
		uint32_t max = whole(h) && field_lines(h) + 1 < MAXF ? field_lines(h) + 1 : MAXF;
		char *copy = strdup(h);
		bool known;
		int err;

		assert_non_null(c);
		assert_non_null(copy);
		assert_int_equal(mprotect(ro, (size_t)page, PROT_READ | PROT_WRITE), 0);
		memcpy(ro, h, len);
		memcpy(ro + len, after, sizeof(after) - 1);
		assert_int_equal(mprotect(ro, (size_t)page, PROT_READ), 0);
		assert_false(http_parse_known_head(c, ro, lim, MAXF, &got, &mb, hb));
		/* its start line alone, as check_start parses it */
		http_parse_cached(c, copy, (size_t)(strchr(h, '\n') + 1 - h), &ma, NULL, 0);
		assert_false(http_parse_known_head(c, ro, lim, MAXF, &got, &mb, hb));
		err = http_parse_cached(c, copy, len, &ma, ha, max);
		known = http_parse_known_head(c, ro, lim, MAXF, &got, &mb, hb);
		assert_int_equal(known, !err && !memcmp(copy, h, len) && whole(h));
		if (known) {
			assert_int_equal(got, len);
			assert_int_equal(mb.parse_id, ma.parse_id);
			assert_int_equal(mb.n_headers, ma.n_headers);
			expect_str(&mb.target, ro, &ma.target, copy, len);
			expect_str(&mb.protocol, ro, &ma.protocol, copy, len);
			expect_str(&mb.head, ro, &ma.head, copy, len);
			for (uint32_t f = 0; f < ma.n_headers; f++)
				expect_str(&hb[f].value, ro, &ha[f].value, copy, len);
			assert_false(http_parse_known_head(c, ro, len - 1, MAXF, &got, &mb, hb));
			if (max > 1)
				assert_false(http_parse_known_head(c, ro, lim, max - 1, &got, &mb,
								   hb));
			assert_true(http_parse_known_head(c, ro, lim, max, &got, &mb, hb));
		}
		free(copy);
		http_parse_cache_free(c);
	}
	munmap(ro, (size_t)page);
}

/* A cache counts its hits and misses; heads it cannot hold are neither. */
static void test_counts(void **state)
{
	struct http_stats st = { 0 };
	struct http_parse_cache *shared = cache;
	char big[HTTP_CACHE_HEAD + 40];

	(void)state;
	cache = http_parse_cache_new(&st);
	assert_non_null(cache);
	expect_same(heads[0], MAXF);
	expect_same(heads[0], MAXF);
	expect_same(heads[1], MAXF);
	expect_same(heads[0], MAXF);
	assert_int_equal(st.cache_hits, 2);
	assert_int_equal(st.cache_misses, 2);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_same(big, MAXF);
	assert_int_equal(st.cache_hits + st.cache_misses, 4);
	http_parse_cache_free(cache);
	cache = shared;
}

static int setup(void **state)
{
	(void)state;
	cache = http_parse_cache_new(NULL);
	return cache ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	http_parse_cache_free(cache);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_same_as_parse),
		cmocka_unit_test(test_field_limit),
		cmocka_unit_test(test_one_byte_apart),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_uncached),
		cmocka_unit_test(test_known_head),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
