/* uri.c: percent-decoding of request paths, checked against Go 1.19's url.ParseRequestURI. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "http/uri.h"

/* Target and the url.URL.Path Go gives it; NULL: Go refuses the target (invalid escape). */
static const struct {
	const char *in;
	const char *out;
	uint32_t out_len;
} cases[] = {
	{ "/a%20b", "/a b", 4 },
	{ "/a%2Fb", "/a/b", 4 },
	{ "/a%2fb%2F", "/a/b/", 5 },
	{ "/a+b", "/a+b", 4 },
	{ "/%41%42c", "/ABc", 4 },
	{ "/%e2%82%ac", "/\xe2\x82\xac", 4 },
	{ "/%00x", "/\0x", 3 },
	{ "/%ff", "/\xff", 2 },
	{ "/%252F", "/%2F", 4 },
	{ "/%3Fq", "/?q", 3 },
	{ "/plain", "/plain", 6 },
	{ "*", "*", 1 },
	{ "", "", 0 },
	{ "/%zz", NULL, 0 },
	{ "/a%", NULL, 0 },
	{ "/a%2", NULL, 0 },
	{ "/%%41", NULL, 0 },
	{ "/a%20b%", NULL, 0 },
	{ "/%g0", NULL, 0 },
	{ "/%0g", NULL, 0 },
};

static void test_go_cases(void **state)
{
	char out[32];
	uint32_t n;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t len = (uint32_t)strlen(cases[i].in);
		int ret = uri_path_unescape(cases[i].in, len, out, &n);

		if (!cases[i].out) {
			if (ret != -EINVAL)
				fail_msg("%s: decoded, Go refuses it", cases[i].in);
			continue;
		}
		if (ret || n != cases[i].out_len || memcmp(out, cases[i].out, n))
			fail_msg("%s: ret %d, %u bytes [%.*s]", cases[i].in, ret, n, (int)n, out);
	}
}

/* Decoding in place (out == p), as the event writer does. */
static void test_in_place(void **state)
{
	char buf[] = "/%61%62/%2e%2E/x%25y";
	uint32_t n;

	assert_int_equal(uri_path_unescape(buf, (uint32_t)strlen(buf), buf, &n), 0);
	assert_int_equal(n, 10);
	assert_memory_equal(buf, "/ab/../x%y", 10);
}

/* Every byte value after '%': valid exactly for two hex digits. */
static void test_every_byte(void **state)
{
	char in[4] = { '%', '4', 0, 0 }, out[4];
	uint32_t n;
	int c;

	for (c = 0; c < 256; c++) {
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		int ret;

		in[2] = (char)c;
		ret = uri_path_unescape(in, 3, out, &n);
		assert_int_equal(ret, hex ? 0 : -EINVAL);
		if (hex)
			assert_int_equal(n, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_cases),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_every_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
