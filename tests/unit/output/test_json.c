/* json.c: string escaping, UTF-8 repair, numbers, growth, failure and terminal output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "output/json.h"

#define FFFD "\xef\xbf\xbd"

/* Compares the buffer with exp (explen bytes) and shows both on a mismatch. */
static void expect_bytes(const struct json_buf *b, const char *exp, size_t explen)
{
	if (b->len != explen || memcmp(b->data, exp, explen)) {
		print_error("got      [%.*s] (%zu)\nexpected [%.*s] (%zu)\n", (int)b->len, b->data,
			    b->len, (int)explen, exp, explen);
		fail();
	}
	assert_false(b->failed);
}

#define EXPECT_STR(in, out)                                   \
	do {                                                  \
		struct json_buf b_;                           \
		json_init(&b_);                               \
		json_str(&b_, (in), sizeof(in) - 1);          \
		expect_bytes(&b_, (out), sizeof(out) - 1);    \
		json_free(&b_);                               \
	} while (0)

#define EXPECT_TERM(in, out)                                  \
	do {                                                  \
		struct json_buf b_;                           \
		json_init(&b_);                               \
		json_term_safe(&b_, (in), sizeof(in) - 1);    \
		expect_bytes(&b_, (out), sizeof(out) - 1);    \
		json_free(&b_);                               \
	} while (0)

/* What json_str must write for byte c standing alone (without the quotes). */
static size_t expected_alone(unsigned char c, char *out)
{
	switch (c) {
	case '"': return (size_t)sprintf(out, "\\\"");
	case '\\': return (size_t)sprintf(out, "\\\\");
	case '\n': return (size_t)sprintf(out, "\\n");
	case '\r': return (size_t)sprintf(out, "\\r");
	case '\t': return (size_t)sprintf(out, "\\t");
	case '\b': return (size_t)sprintf(out, "\\b");
	case '\f': return (size_t)sprintf(out, "\\f");
	}
	if (c < 0x20 || c == 0x7f)
		return (size_t)sprintf(out, "\\u%04x", c);
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	memcpy(out, FFFD, 3);
	return 3;
}

static void test_plain_and_empty(void **state)
{
	EXPECT_STR("", "\"\"");
	EXPECT_STR("hello, world", "\"hello, world\"");
	EXPECT_STR("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	EXPECT_STR("GET / HTTP/1.1\r\n", "\"GET / HTTP/1.1\\r\\n\"");
	EXPECT_STR("\x00\x1f\x7f\x1b[2J", "\"\\u0000\\u001f\\u007f\\u001b[2J\"");
}

static void test_every_byte_alone(void **state)
{
	char in, exp[16];
	struct json_buf b;
	size_t n;
	int c;

	json_init(&b);
	for (c = 0; c < 256; c++) {
		json_reset(&b);
		in = (char)c;
		json_str(&b, &in, 1);
		exp[0] = '"';
		n = 1 + expected_alone((unsigned char)c, exp + 1);
		exp[n++] = '"';
		expect_bytes(&b, exp, n);
	}
	json_free(&b);
}

/* All 256 bytes ascending and descending: no two neighbours of 0x80..0xff form a sequence. */
static void test_every_byte_in_sequence(void **state)
{
	char in[256], exp[2048];
	struct json_buf b;
	size_t n = 0;
	int c, dir;

	json_init(&b);
	for (dir = 0; dir < 2; dir++) {
		json_reset(&b);
		n = 0;
		exp[n++] = '"';
		for (c = 0; c < 256; c++) {
			in[c] = (char)(dir ? 255 - c : c);
			n += expected_alone((unsigned char)in[c], exp + n);
		}
		exp[n++] = '"';
		json_str(&b, in, sizeof(in));
		expect_bytes(&b, exp, n);
	}
	json_free(&b);
}

/* Every byte value at every position of a 24-byte plain string: each word lane is checked. */
static void test_every_byte_every_lane(void **state)
{
	char in[24], exp[64];
	struct json_buf b;
	int c, pos;
	size_t n;

	json_init(&b);
	for (c = 0; c < 256; c++) {
		for (pos = 0; pos < 24; pos++) {
			memset(in, 'x', sizeof(in));
			in[pos] = (char)c;
			memset(exp, 'x', sizeof(exp));
			exp[0] = '"';
			n = 1 + (size_t)pos;
			n += expected_alone((unsigned char)c, exp + n);
			memset(exp + n, 'x', 23 - (size_t)pos);
			n += 23 - (size_t)pos;
			exp[n++] = '"';
			json_reset(&b);
			json_str(&b, in, sizeof(in));
			expect_bytes(&b, exp, n);
		}
	}
	json_free(&b);
}

/* The second byte ranges of Unicode's table 3-7 (well-formed UTF-8), 0 for no lead byte. */
static int second_range(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c == 0xe0)
		*lo = 0xa0;
	else if (c == 0xed)
		*hi = 0x9f;
	else if (c == 0xf0)
		*lo = 0x90;
	else if (c == 0xf4)
		*hi = 0x8f;
	return c >= 0xc2 && c <= 0xf4;
}

/* Every two-byte string: a valid pair passes, a valid prefix cut short is one U+FFFD. */
static void test_every_byte_pair(void **state)
{
	unsigned char lo, hi;
	char in[2], exp[32];
	struct json_buf b;
	int c1, c2;
	size_t n;

	json_init(&b);
	for (c1 = 0; c1 < 256; c1++) {
		for (c2 = 0; c2 < 256; c2++) {
			in[0] = (char)c1;
			in[1] = (char)c2;
			n = 0;
			exp[n++] = '"';
			if (second_range((unsigned char)c1, &lo, &hi) && c2 >= lo && c2 <= hi) {
				if (c1 <= 0xdf) {
					memcpy(exp + n, in, 2);
					n += 2;
				} else {
					memcpy(exp + n, FFFD, 3);
					n += 3;
				}
			} else {
				n += expected_alone((unsigned char)c1, exp + n);
				n += expected_alone((unsigned char)c2, exp + n);
			}
			exp[n++] = '"';
			json_reset(&b);
			json_str(&b, in, 2);
			expect_bytes(&b, exp, n);
		}
	}
	json_free(&b);
}

static void test_invalid_utf8(void **state)
{
	/* overlong forms */
	EXPECT_STR("\xc0\xaf", "\"" FFFD FFFD "\"");
	EXPECT_STR("\xc1\xbf", "\"" FFFD FFFD "\"");
	EXPECT_STR("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
	EXPECT_STR("\xe0\x9f\xbf", "\"" FFFD FFFD FFFD "\"");
	EXPECT_STR("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
	EXPECT_STR("\xf0\x8f\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\"");
	/* UTF-16 surrogates */
	EXPECT_STR("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
	EXPECT_STR("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\"");
	EXPECT_STR("\xed\xa0\xbd\xed\xb8\x80", "\"" FFFD FFFD FFFD FFFD FFFD FFFD "\"");
	/* above U+10FFFF and bytes that never occur */
	EXPECT_STR("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	EXPECT_STR("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	EXPECT_STR("\xf8\x88\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD FFFD "\"");
	EXPECT_STR("\xfe\xff", "\"" FFFD FFFD "\"");
	/* lone continuation bytes */
	EXPECT_STR("\x80", "\"" FFFD "\"");
	EXPECT_STR("a\xbf" "b", "\"a" FFFD "b\"");
	EXPECT_STR("\xc3\xa9\xa9", "\"\xc3\xa9" FFFD "\"");
	/* truncated: a valid prefix is one U+FFFD, whatever ends it */
	EXPECT_STR("\xc3", "\"" FFFD "\"");
	EXPECT_STR("a\xc3", "\"a" FFFD "\"");
	EXPECT_STR("\xe2\x82", "\"" FFFD "\"");
	EXPECT_STR("\xe2\x82" "A", "\"" FFFD "A\"");
	EXPECT_STR("\xf0\x9f\x98", "\"" FFFD "\"");
	EXPECT_STR("\xf0\x9f\x98\n", "\"" FFFD "\\n\"");
	EXPECT_STR("\xf0\x9f\xc3\xa9", "\"" FFFD "\xc3\xa9\"");
	EXPECT_STR("\xe2\x82\xe2\x82\xac", "\"" FFFD "\xe2\x82\xac\"");
	EXPECT_STR("caf\xc3\xa9\xff!", "\"caf\xc3\xa9" FFFD "!\"");
}

static void test_valid_utf8(void **state)
{
	EXPECT_STR("\xc2\x80", "\"\xc2\x80\"");                 /* U+0080 */
	EXPECT_STR("\xc2\xa9", "\"\xc2\xa9\"");                 /* U+00A9 */
	EXPECT_STR("\xdf\xbf", "\"\xdf\xbf\"");                 /* U+07FF */
	EXPECT_STR("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");         /* U+0800 */
	EXPECT_STR("\xe2\x82\xac", "\"\xe2\x82\xac\"");         /* U+20AC */
	EXPECT_STR("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");         /* U+D7FF */
	EXPECT_STR("\xee\x80\x80", "\"\xee\x80\x80\"");         /* U+E000 */
	EXPECT_STR("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");         /* U+FFFD */
	EXPECT_STR("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");         /* U+FFFF */
	EXPECT_STR("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\""); /* U+10000 */
	EXPECT_STR("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""); /* U+1F600 */
	EXPECT_STR("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
	EXPECT_STR("\xe6\x97\xa5\xe6\x9c\xac\t\"x\"", "\"\xe6\x97\xa5\xe6\x9c\xac\\t\\\"x\\\"\"");
}

static void expect_u64(uint64_t v)
{
	char exp[32];
	struct json_buf b;

	json_init(&b);
	json_u64(&b, v);
	expect_bytes(&b, exp, (size_t)snprintf(exp, sizeof(exp), "%llu", (unsigned long long)v));
	json_free(&b);
}

static void expect_i64(int64_t v)
{
	char exp[32];
	struct json_buf b;

	json_init(&b);
	json_i64(&b, v);
	expect_bytes(&b, exp, (size_t)snprintf(exp, sizeof(exp), "%lld", (long long)v));
	json_free(&b);
}

static void test_numbers(void **state)
{
	uint64_t p = 1, x = 0x9e3779b97f4a7c15ull;
	int i;

	for (i = 0; i < 1000; i++)
		expect_u64((uint64_t)i);
	for (i = 0; i < 20; i++, p *= 10) {
		expect_u64(p - 1);
		expect_u64(p);
		expect_u64(p + 1);
		expect_i64(-(int64_t)p);
		expect_i64((int64_t)p - 1);
	}
	expect_u64(UINT64_MAX);
	expect_u64(UINT64_MAX - 1);
	expect_u64((uint64_t)INT64_MAX + 1);
	expect_i64(0);
	expect_i64(-1);
	expect_i64(INT64_MAX);
	expect_i64(INT64_MIN);
	expect_i64(INT64_MIN + 1);
	for (i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		expect_u64(x >> (i % 64));
		expect_i64((int64_t)(x >> (i % 64)) * (i & 1 ? -1 : 1));
	}
}

/* Appends past the initial capacity many times; every byte stays where it was put. */
static void test_growth(void **state)
{
	static char big[300000];
	struct json_buf b;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	json_init(&b);
	for (i = 0; i < 5000; i++) {
		json_lit(&b, "0123456789");
		json_raw(&b, "abcdefghij", 10);
	}
	assert_int_equal(b.len, 100000);
	for (i = 0; i < 5000; i++)
		assert_memory_equal(b.data + 20 * i, "0123456789abcdefghij", 20);
	json_reset(&b);
	assert_int_equal(b.len, 0);
	json_str(&b, big, sizeof(big));
	assert_false(b.failed);
	assert_int_equal(b.len, sizeof(big) + 2);
	assert_memory_equal(b.data + 1, big, sizeof(big));
	json_raw(&b, NULL, 0);
	json_str(&b, NULL, 0);
	json_term_safe(&b, NULL, 0);
	assert_int_equal(b.len, sizeof(big) + 4);
	json_free(&b);
	assert_null(b.data);
}

/* A length no buffer can hold sets failed without reading; nothing is appended after. */
static void test_failure_sticks(void **state)
{
	struct json_buf b;

	json_init(&b);
	json_lit(&b, "ok");
	json_str(&b, "x", SIZE_MAX / 2);
	assert_true(b.failed);
	assert_int_equal(b.len, 2);
	json_lit(&b, "more");
	json_u64(&b, 42);
	json_str(&b, "y", 1);
	assert_int_equal(b.len, 2);
	json_reset(&b);
	assert_false(b.failed);
	json_term_safe(&b, "x", SIZE_MAX / 3);
	assert_true(b.failed);
	json_reset(&b);
	json_raw(&b, "x", SIZE_MAX - 1);
	assert_true(b.failed);
	json_reset(&b);
	json_lit(&b, "fine");
	expect_bytes(&b, "fine", 4);
	json_free(&b);
}

static void test_term_safe(void **state)
{
	EXPECT_TERM("GET /index.html", "GET /index.html");
	EXPECT_TERM("\x1b[2J\x1b]0;owned\x07", "\\x1b[2J\\x1b]0;owned\\x07");
	EXPECT_TERM("a\tb\nc\rd\x7f", "a\\x09b\\x0ac\\x0dd\\x7f");
	EXPECT_TERM("\xc2\x9b" "31m", "\\xc2\\x9b31m");              /* C1 CSI */
	EXPECT_TERM("\xc2\x80\xc2\x85\xc2\x9f", "\\xc2\\x80\\xc2\\x85\\xc2\\x9f");
	EXPECT_TERM("\xc2\xa0\xc3\xa9", "\xc2\xa0\xc3\xa9");         /* NBSP, e acute */
	EXPECT_TERM("\xe2\x82\xac\xf0\x9f\x98\x80", "\xe2\x82\xac\xf0\x9f\x98\x80");
	EXPECT_TERM("\x9b\xff\xc0\xaf", "\\x9b\\xff\\xc0\\xaf");
	EXPECT_TERM("\xe2\x82", "\\xe2\\x82");
	EXPECT_TERM("\xed\xa0\x80", "\\xed\\xa0\\x80");
	EXPECT_TERM("x\xe2\x80\xaey", "x\\xe2\\x80\\xaey");        /* U+202E */
	EXPECT_TERM("\xe2\x80\xa8\xe2\x81\xa6\xd8\x9c\xe2\x80\x8f",
		    "\\xe2\\x80\\xa8\\xe2\\x81\\xa6\\xd8\\x9c\\xe2\\x80\\x8f");
	EXPECT_TERM("\xe2\x80\x94", "\xe2\x80\x94");                 /* em dash stays */
	EXPECT_TERM("\"\\'", "\"\\'");
}

/* No input of one or two bytes makes a control byte or a C1 control reach the output. */
static void test_term_safe_exhaustive(void **state)
{
	struct json_buf b;
	unsigned char u;
	char in[2];
	int c1, c2;
	size_t i;

	json_init(&b);
	for (c1 = 0; c1 < 256; c1++) {
		for (c2 = 0; c2 < 256; c2++) {
			in[0] = (char)c1;
			in[1] = (char)c2;
			json_reset(&b);
			json_term_safe(&b, in, 2);
			json_term_safe(&b, in, 1);
			for (i = 0; i < b.len; i++) {
				u = (unsigned char)b.data[i];
				assert_false(u < 0x20 || u == 0x7f);
				if (u == 0xc2 && i + 1 < b.len)
					assert_false((unsigned char)b.data[i + 1] < 0xa0);
			}
		}
	}
	json_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_empty),
		cmocka_unit_test(test_every_byte_alone),
		cmocka_unit_test(test_every_byte_in_sequence),
		cmocka_unit_test(test_every_byte_every_lane),
		cmocka_unit_test(test_every_byte_pair),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_valid_utf8),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_failure_sticks),
		cmocka_unit_test(test_term_safe),
		cmocka_unit_test(test_term_safe_exhaustive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
