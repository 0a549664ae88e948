// SPDX-License-Identifier: GPL-2.0
/*
 * Head parser tests: each head is copied into a buffer of exactly its size (so ASan sees any
 * read past it) and parsed; http_looks_like_start and http_message_dup are tested here too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "http/http.h"

#define MAX_FIELDS 16

struct parsed {
	char *buf;
	struct http_message msg;
	struct http_header hdrs[MAX_FIELDS];
	int err;
};

static struct parsed *parse_n(const char *text, size_t len, uint32_t max_fields)
{
	struct parsed *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->buf = malloc(len ? len : 1);
	assert_non_null(p->buf);
	memcpy(p->buf, text, len);
	p->err = http_parse_head(p->buf, len, &p->msg, p->hdrs, max_fields);
	return p;
}

static struct parsed *parse(const char *text)
{
	return parse_n(text, strlen(text), MAX_FIELDS);
}

static void done(struct parsed *p)
{
	free(p->buf);
	free(p);
}

static void str_eq(struct http_str s, const char *want)
{
	size_t n = strlen(want);

	if (s.len != n || (n && memcmp(s.p, want, n))) {
		print_error("got \"%.*s\", want \"%s\"\n", (int)s.len, s.p ? s.p : "", want);
		fail();
	}
}

static void hdr_eq(const struct parsed *p, uint32_t i, const char *name, const char *value)
{
	assert_true(i < p->msg.n_headers);
	str_eq(p->msg.headers[i].name, name);
	str_eq(p->msg.headers[i].value, value);
}

static void request_is(const char *text, const char *method, const char *target,
		       const char *protocol, const char *host, const char *path)
{
	struct parsed *p = parse(text);

	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.kind, HTTP_REQUEST);
	str_eq(p->msg.method, method);
	str_eq(p->msg.target, target);
	str_eq(p->msg.protocol, protocol);
	str_eq(p->msg.host, host);
	str_eq(p->msg.path, path);
	str_eq(p->msg.status, "");
	assert_int_equal(p->msg.status_code, 0);
	done(p);
}

static void rejected(const char *text, size_t len)
{
	struct parsed *p = parse_n(text, len, MAX_FIELDS);

	assert_int_equal(p->err, -EINVAL);
	done(p);
}

#define REJECT(lit) rejected(lit, sizeof(lit) - 1)

static void length_is(const char *text, int64_t cl, bool chunked)
{
	struct parsed *p = parse(text);

	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.content_length, cl);
	assert_int_equal(p->msg.chunked, chunked);
	done(p);
}

static void test_request_basic(void **state)
{
	struct parsed *p = parse("GET /index.html?q=1#frag HTTP/1.1\r\nHost: example.com\r\n"
				 "User-Agent: curl/7.88\r\nAccept: */*\r\n\r\n");

	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.kind, HTTP_REQUEST);
	str_eq(p->msg.method, "GET");
	str_eq(p->msg.target, "/index.html?q=1#frag");
	str_eq(p->msg.protocol, "HTTP/1.1");
	str_eq(p->msg.host, "example.com");
	str_eq(p->msg.path, "/index.html");
	assert_int_equal(p->msg.n_headers, 3);
	hdr_eq(p, 0, "Host", "example.com");
	hdr_eq(p, 1, "User-Agent", "curl/7.88");
	hdr_eq(p, 2, "Accept", "*/*");
	assert_int_equal(p->msg.content_length, 0);
	assert_false(p->msg.chunked);
	assert_false(p->msg.truncated);
	done(p);
}

static void test_methods(void **state)
{
	request_is("QUERY /s HTTP/1.1\r\nHost: h\r\n\r\n", "QUERY", "/s", "HTTP/1.1", "h", "/s");
	request_is("PROPFIND /dav/ HTTP/1.1\r\nHost: h\r\n\r\n", "PROPFIND", "/dav/", "HTTP/1.1",
		   "h", "/dav/");
	request_is("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n", "M-SEARCH", "*",
		   "HTTP/1.1", "239.255.255.250:1900", "*");
	request_is("get /x HTTP/1.0\r\n\r\n", "get", "/x", "HTTP/1.0", "", "/x");
	request_is("OPTIONS * HTTP/1.1\r\nHost: h:8080\r\n\r\n", "OPTIONS", "*", "HTTP/1.1",
		   "h:8080", "*");
}

static void test_version_case_and_spaces(void **state)
{
	request_is("GET /a http/1.1\r\nHost: h\r\n\r\n", "GET", "/a", "http/1.1", "h", "/a");
	request_is("GET  /a \t HTTP/1.0  \r\n\r\n", "GET", "/a", "HTTP/1.0", "", "/a");
	request_is("GET /a HTTP/1.1\n\n", "GET", "/a", "HTTP/1.1", "", "/a");
}

static void test_http09(void **state)
{
	struct parsed *p = parse("GET /old.html\r\n");

	assert_int_equal(p->err, 0);
	str_eq(p->msg.protocol, "HTTP/0.9");
	str_eq(p->msg.path, "/old.html");
	assert_int_equal(p->msg.n_headers, 0);
	assert_int_equal(p->msg.content_length, 0);
	done(p);
	request_is("GET /\n", "GET", "/", "HTTP/0.9", "", "/");
}

/* Broken request lines that Zeek and tshark still report as requests. */
static void test_broken_request_lines(void **state)
{
	request_is("GET / HTTP/1.\r\nHost: h\r\n\r\n", "GET", "/", "HTTP/1.", "h", "/");
	request_is("OPTIONS HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "HTTP/1.1", "HTTP/1.1",
		   "h", "HTTP/1.1");
	request_is("OPTIONS\r\nHost: h\r\n\r\n", "OPTIONS", "", "", "h", "");
	request_is("GET / HTTP/11\r\n\r\n", "GET", "/", "HTTP/11", "", "/");
	/* Blanks in the target: servers answer these, so the target runs up to the version. */
	request_is("GET /uri afterspace HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/uri afterspace",
		   "HTTP/1.1", "h", "/uri afterspace");
	request_is("CONNECT host:25 / HTTP/1.0\r\n\r\n", "CONNECT", "host:25 /", "HTTP/1.0",
		   "host:25", "");
	request_is("GET /a\rb HTTP/1.1\r\n\r\n", "GET", "/a\rb", "HTTP/1.1", "", "/a\rb");
	/* Versionless: GET is HTTP/0.9; another method lost its version; "T /x" is no request. */
	request_is("POST /HTTP/1.1\r\nHost: h\r\n\r\n", "POST", "/HTTP/1.1", "", "h",
		   "/HTTP/1.1");
	assert_true(http_looks_like_start((const uint8_t *)"OPTIONS\r\n", 9));
	assert_false(http_looks_like_start((const uint8_t *)"QUIT\r\n", 6));
	for (int i = 0; i < 2; i++) {
		struct parsed *p = parse(i ? "QUIT\r\n\r\n" : "GET / RTSP/1.0\r\n\r\n");

		assert_int_equal(p->err, -EINVAL);
		done(p);
	}
}

static void test_absolute_form(void **state)
{
	request_is("GET http://user:pw@proxy.example:3128/a/b?c=d HTTP/1.1\r\nHost: other\r\n\r\n",
		   "GET", "http://user:pw@proxy.example:3128/a/b?c=d", "HTTP/1.1",
		   "proxy.example:3128", "/a/b");
	request_is("GET HTTP://h HTTP/1.1\r\n\r\n", "GET", "HTTP://h", "HTTP/1.1", "h", "/");
	request_is("GET https://h?x HTTP/1.1\r\n\r\n", "GET", "https://h?x", "HTTP/1.1", "h", "/");
	request_is("GET http://[::1]:80#f HTTP/1.1\r\n\r\n", "GET", "http://[::1]:80#f",
		   "HTTP/1.1", "[::1]:80", "/");
}

static void test_connect(void **state)
{
	request_is("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "CONNECT",
		   "example.com:443", "HTTP/1.1", "example.com:443", "");
	request_is("CONNECT example.com:443 HTTP/1.1\r\n\r\n", "CONNECT", "example.com:443",
		   "HTTP/1.1", "example.com:443", "");
}

/* One rule for status-line versions: "HTTP/" and a digit, then digits and dots. */
static void status_is(const char *text, const char *protocol, int code, const char *status)
{
	struct parsed *p = parse(text);

	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.kind, HTTP_RESPONSE);
	str_eq(p->msg.protocol, protocol);
	assert_int_equal(p->msg.status_code, code);
	str_eq(p->msg.status, status);
	done(p);
}

static void test_status_versions(void **state)
{
	status_is("HTTP/1.10 200 OK\r\n\r\n", "HTTP/1.10", 200, "200 OK");
	status_is("HTTP/1. 200 OK\r\n\r\n", "HTTP/1.", 200, "200 OK");
	status_is("HTTP/2 404\r\n\r\n", "HTTP/2", 404, "404");
	status_is("HTTP/1.1 200\rOK\r\n\r\n", "HTTP/1.1", 200, "200\rOK");
	status_is("HTTP/1.1 301\r\r\n\r\n", "HTTP/1.1", 301, "301");
}

static void test_status_line(void **state)
{
	struct parsed *p = parse("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n");

	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.kind, HTTP_RESPONSE);
	str_eq(p->msg.protocol, "HTTP/1.1");
	str_eq(p->msg.status, "404 Not Found");
	assert_int_equal(p->msg.status_code, 404);
	str_eq(p->msg.method, "");
	str_eq(p->msg.host, "");
	str_eq(p->msg.path, "");
	assert_int_equal(p->msg.content_length, 9);
	done(p);

	p = parse("http/1.0 200\r\n\r\n");
	assert_int_equal(p->err, 0);
	str_eq(p->msg.protocol, "http/1.0");
	str_eq(p->msg.status, "200");
	assert_int_equal(p->msg.status_code, 200);
	assert_int_equal(p->msg.content_length, -1);
	done(p);

	p = parse("HTTP/1.1  200  \r\n\r\n");
	assert_int_equal(p->err, 0);
	str_eq(p->msg.status, "200");
	done(p);
}

static void test_folding(void **state)
{
	struct parsed *p = parse("GET / HTTP/1.1\r\nX-Long: first  \r\n   second\r\n\tthird \r\n"
				 "Empty:\r\n  later\r\n \r\nHost: h\r\n\r\n");

	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.n_headers, 3);
	hdr_eq(p, 0, "X-Long", "first second third");
	hdr_eq(p, 1, "Empty", "later");
	hdr_eq(p, 2, "Host", "h");
	str_eq(p->msg.host, "h");
	done(p);

	/* A continuation with nothing to continue is dropped. */
	p = parse("HTTP/1.1 200 OK\r\n  stray\r\nA: 1\r\n\r\n");
	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.n_headers, 1);
	hdr_eq(p, 0, "A", "1");
	done(p);
}

static void test_malformed_fields(void **state)
{
	struct parsed *p = parse("GET / HTTP/1.1\r\nno colon here\r\nHost : spaced\r\n"
				 ": empty name\r\n  folded onto a skipped line\r\n"
				 "Host:  good \r\nx-lower:v\r\n\r\n");

	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.n_headers, 2);
	hdr_eq(p, 0, "Host", "good");
	hdr_eq(p, 1, "x-lower", "v");
	str_eq(p->msg.host, "good");
	done(p);
}

static void test_duplicates(void **state)
{
	struct parsed *p = parse("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nHost: first\r\n"
				 "set-cookie: b=2\r\nContent-Length: 5\r\n"
				 "Content-Length: 5\r\n\r\n");

	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.n_headers, 5);
	hdr_eq(p, 0, "Set-Cookie", "a=1");
	hdr_eq(p, 2, "set-cookie", "b=2");
	assert_int_equal(p->msg.content_length, 5);
	done(p);
	request_is("GET / HTTP/1.1\r\nHost: one\r\nHost: two\r\n\r\n", "GET", "/", "HTTP/1.1",
		   "one", "/");
}

static void test_too_many_fields(void **state)
{
	static const char head[] = "POST /u HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nHost: late\r\n"
				   "Content-Length: 7\r\n\r\n";
	struct parsed *p = parse_n(head, sizeof(head) - 1, 2);

	assert_int_equal(p->err, 0);
	assert_true(p->msg.truncated);
	assert_int_equal(p->msg.n_headers, 2);
	hdr_eq(p, 0, "A", "1");
	hdr_eq(p, 1, "B", "2");
	/* Framing and Host still come from every field. */
	assert_int_equal(p->msg.content_length, 7);
	str_eq(p->msg.host, "late");
	done(p);

	p = parse_n(head, sizeof(head) - 1, 0);
	assert_int_equal(p->err, 0);
	assert_true(p->msg.truncated);
	assert_int_equal(p->msg.n_headers, 0);
	done(p);

	p = parse_n(head, sizeof(head) - 1, 5);
	assert_false(p->msg.truncated);
	assert_int_equal(p->msg.n_headers, 5);
	done(p);
}

static void test_content_length(void **state)
{
	length_is("POST / HTTP/1.1\r\nContent-Length: 42\r\n\r\n", 42, false);
	length_is("POST / HTTP/1.1\r\nContent-Length: 42, 42\r\n\r\n", 42, false);
	length_is("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0, false);
	length_is("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", INT64_MAX,
		  false);
	/* Invalid: unknown (-1), in a request as in a response. */
	length_is("POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", -1, false);
	length_is("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", -1, false);
	length_is("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -1, false);
	length_is("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", -1, false);
	length_is("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -1, false);
	length_is("POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n", -1, false);
	length_is("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", -1, false);
	/* No length: request 0, response close-delimited. */
	length_is("GET / HTTP/1.1\r\n\r\n", 0, false);
	length_is("HTTP/1.1 200 OK\r\n\r\n", -1, false);
}

static void test_no_body_statuses(void **state)
{
	length_is("HTTP/1.1 100 Continue\r\n\r\n", 0, false);
	length_is("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 0, false);
	length_is("HTTP/1.1 204 No Content\r\n\r\n", 0, false);
	length_is("HTTP/1.1 304 Not Modified\r\n\r\n", 0, false);
	length_is("HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n", 1234, false);
	length_is("HTTP/1.1 204 No Content\r\nContent-Length: bad\r\n\r\n", 0, false);
}

static void test_transfer_encoding(void **state)
{
	length_is("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", -1, true);
	length_is("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", -1, true);
	length_is("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
		  "\r\n", -1, true);
	length_is("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", -1, false);
	length_is("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n", -1, true);
	/* TE wins over CL. */
	length_is("POST / HTTP/1.1\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n",
		  -1, true);
	length_is("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n",
		  -1, true);
	/* Folded TE value. */
	length_is("POST / HTTP/1.1\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n", -1, true);
}

static void test_rejects(void **state)
{
	static const char binary[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, '\r', '\n' };

	REJECT("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
	rejected(binary, sizeof(binary));
	REJECT("EHLO mail.example.com\r\n\r\n");
	REJECT("GET / RTSP/1.0\r\n\r\n");
	REJECT("GET / HTTP/1.1 extra\r\n\r\n");
	REJECT("GET / HTTP/1.x\r\n\r\n");
	REJECT("QUIT\r\n\r\n");
	REJECT("GET \r\n\r\n");
	REJECT("T /zeek.html\r\n\r\n");
	REJECT("GE /x\r\n\r\n");
	REJECT("GET /a b\r\n\r\n");
	REJECT("HTTP/1.1 200x OK\r\n\r\n");
	REJECT("G(T / HTTP/1.1\r\n\r\n");
	REJECT("GET /a\x01 HTTP/1.1\r\n\r\n");
	REJECT("HTTP/1.1\r\n\r\n");
	REJECT("HTTP/1.1 20 OK\r\n\r\n");
	REJECT("HTTP/1.1 2000 OK\r\n\r\n");
	REJECT("HTTP/1.1 abc OK\r\n\r\n");
	REJECT("HTTP/x.y 200 OK\r\n\r\n");
	REJECT("\r\nGET / HTTP/1.1\r\n\r\n");
	REJECT("");
	REJECT("hello world\r\n\r\n");
}

static void test_unterminated(void **state)
{
	/* A cut head: the parser takes what is there. */
	struct parsed *p = parse("GET /x HTTP/1.1\r\nHost: h\r\nAccept: te");

	assert_int_equal(p->err, 0);
	assert_int_equal(p->msg.n_headers, 2);
	hdr_eq(p, 1, "Accept", "te");
	done(p);
	request_is("GET /x HTTP/1.1", "GET", "/x", "HTTP/1.1", "", "/x");
}

static void test_looks_like_start(void **state)
{
	static const struct {
		const char *s;
		bool want;
	} cases[] = {
		{ "", true }, { "G", true }, { "GE", true }, { "GET", true }, { "GET ", true },
		{ "GET /", true }, { "h", true }, { "http/1.1 200", true }, { "HTTP/", true },
		{ "HTTP", true }, { "QUERY /", true }, { "M-SEARCH *", true },
		{ "SSH-2.0-OpenSSH_9.2p1\r\n", false }, { "SSH-2.0-OpenSSH", true },
		{ "\x16\x03", false }, { " GET", false },
		{ "GET\t/", false }, { "GET\r\n", true }, { "QUIT\r\n", false }, { "(", false }, { "\r\n", false },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF /", true },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG /", false },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", true },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = http_looks_like_start((const uint8_t *)cases[i].s, strlen(cases[i].s));

		if (got != cases[i].want) {
			print_error("\"%s\": got %d\n", cases[i].s, got);
			fail();
		}
	}
}

static void test_dup(void **state)
{
	struct parsed *p = parse("POST http://h:1/p?q HTTP/1.1\r\nA: x\r\n y\r\nB:\r\n"
				 "Transfer-Encoding: chunked\r\n\r\n");
	struct http_message *d;

	assert_int_equal(p->err, 0);
	p->msg.ts_ns = 77;
	d = http_message_dup(&p->msg);
	assert_non_null(d);
	memset(p->buf, 'Z', strlen("POST http://h:1/p?q HTTP/1.1\r\nA: x\r\n y\r\nB:\r\n"));
	done(p);
	str_eq(d->method, "POST");
	str_eq(d->target, "http://h:1/p?q");
	str_eq(d->host, "h:1");
	str_eq(d->path, "/p");
	str_eq(d->protocol, "HTTP/1.1");
	assert_int_equal(d->n_headers, 3);
	str_eq(d->headers[0].name, "A");
	str_eq(d->headers[0].value, "x y");
	str_eq(d->headers[1].value, "");
	str_eq(d->headers[2].value, "chunked");
	assert_int_equal(d->ts_ns, 77);
	assert_true(d->chunked);
	assert_int_equal(d->content_length, -1);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_basic),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_version_case_and_spaces),
		cmocka_unit_test(test_http09),
		cmocka_unit_test(test_broken_request_lines),
		cmocka_unit_test(test_absolute_form),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_status_line),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_malformed_fields),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_no_body_statuses),
		cmocka_unit_test(test_transfer_encoding),
		cmocka_unit_test(test_status_versions),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_looks_like_start),
		cmocka_unit_test(test_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
