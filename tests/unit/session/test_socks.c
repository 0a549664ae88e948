// SPDX-License-Identifier: GPL-2.0
/* SOCKS handshakes: each side's bytes fed whole and split at every byte give the same result. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "session/socks.h"

struct hcase {
	const char *name;
	const char *client;          /* the handshake bytes, then what follows */
	size_t client_len;
	const char *proxy;
	size_t proxy_len;
	size_t client_hs, proxy_hs;   /* bytes of the handshake in each */
	const char *target;
	int state;                    /* of the client side */
};

#define B(lit) lit, sizeof(lit) - 1

static const struct hcase cases[] = {
	{ "socks5 name", B("\x05\x01\x00" "\x05\x01\x00\x03\x0b" "example.com\x00\x50" "GET /"),
	  B("\x05\x00" "\x05\x00\x00\x01\x0a\xcb\x00\x02\x04\x38" "HTTP/1.1"), 21, 12,
	  "example.com:80", SOCKS_DONE },
	{ "socks5 user/pass ipv4", B("\x05\x02\x00\x02" "\x01\x04user\x04pass"
				     "\x05\x01\x00\x01\x0a\xcb\x00\x09\x1f\x90" "GET"),
	  B("\x05\x02" "\x01\x00" "\x05\x00\x00\x01\x0a\xcb\x00\x02\x04\x38" "HTTP"), 25, 14,
	  "10.203.0.9:8080", SOCKS_DONE },
	{ "socks5 ipv6", B("\x05\x01\x00" "\x05\x01\x00\x04"
			   "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\x00\x50" "GET"),
	  B("\x05\x00" "\x05\x00\x00\x03\x01h\x00\x50" "HTTP"), 25, 10, "[2001:db8:0:0:0:0:0:1]:80",
	  SOCKS_DONE },
	{ "socks4a", B("\x04\x01\x00\x50\x00\x00\x00\x01user\x00" "example.com\x00" "GET"),
	  B("\x00\x5a\x00\x00\x00\x00\x00\x00" "HTTP"), 25, 8, "example.com:80", SOCKS_DONE },
	{ "socks4", B("\x04\x01\x1f\x90\x0a\xcb\x00\x09\x00" "GET"),
	  B("\x00\x5a\x00\x00\x00\x00\x00\x00" "HTTP"), 9, 8, "10.203.0.9:8080", SOCKS_DONE },
	{ "socks5 bad request version", B("\x05\x01\x00" "\x04\x01"),
	  B("\x05\x00" "\x05\x01\x00\x01\0\0\0\0\0\0"), 3, 12, "", SOCKS_FAILED },
	{ "socks4 binary user id", B("\x04\x01\x00\x50\x0a\x00\x00\x01\x89PNG\x00"),
	  B("\x00\x5a\x00\x00\x00\x00\x00\x00"), 8, 8, "", SOCKS_FAILED },
	{ "socks5 unassigned method", B("\x05\x01\x3f\x05"),
	  B("\x05\x00" "\x05\x01\x00\x01\0\0\0\0\0\0"), 2, 12, "", SOCKS_FAILED },
	{ "socks5 no acceptable method", B("\x05\x01\x02" "\x01\x01u\x01p"), B("\x05\xff"), 8, 2,
	  "", SOCKS_RUNNING },
};

static void run(const struct hcase *c, size_t split)
{
	struct socks s;
	size_t got = 0, n;

	assert_int_equal(socks_version((const uint8_t *)c->client, c->client_len),
			 c->client[0]);
	socks_init(&s, c->client[0]);
	n = split < c->client_len ? split : c->client_len;
	got = socks_skip(&s, 0, (const uint8_t *)c->client, n);
	if (got == n && s.side[0].state == SOCKS_RUNNING)
		got += socks_skip(&s, 0, (const uint8_t *)c->client + n, c->client_len - n);
	if (got != c->client_hs)
		print_error("%s split %zu: %zu\n", c->name, split, got);
	assert_int_equal(got, c->client_hs);
	assert_int_equal(s.side[0].state, c->state);
	assert_string_equal(s.target, c->target);
	n = split < c->proxy_len ? split : c->proxy_len;
	got = socks_skip(&s, 1, (const uint8_t *)c->proxy, n);
	if (got == n && s.side[1].state == SOCKS_RUNNING)
		got += socks_skip(&s, 1, (const uint8_t *)c->proxy + n, c->proxy_len - n);
	assert_int_equal(got, c->proxy_hs);
	assert_int_equal(s.side[1].state, SOCKS_DONE);
}

static void test_handshakes(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t split = 0; split <= cases[i].client_len; split++)
			run(&cases[i], split);
}

static void test_not_socks(void **state)
{
	assert_int_equal(socks_version((const uint8_t *)"GET /", 5), 0);
	assert_int_equal(socks_version((const uint8_t *)"\x16\x03\x01", 3), 0);
	assert_int_equal(socks_version((const uint8_t *)"\x05\x00", 2), 0);
	assert_int_equal(socks_version((const uint8_t *)"\x04\x05", 2), 0);
	assert_int_equal(socks_version((const uint8_t *)"\x05", 1), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshakes),
		cmocka_unit_test(test_not_socks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
