/*
 * The kernel's framer (bpf/frame/frame.h) against user space: the events from a connection's
 * whole packets must equal the events from the copies the framer makes of them, for the
 * shapes that once lost messages live and for thousands of random conversations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <pcap/pcap.h>
#include "frame_sim.h"

#define W(side, s) { side, (const uint8_t *)(s), sizeof(s) - 1 }
#define MAX_WRITES 64

static const struct sim_options mtu = { .seed = 1, .mss = 1448, .max_head = 65536 };

/* Prints the first line where the two outputs differ. */
static void show_difference(const struct sim_result *r)
{
	const char *a = r->whole, *b = r->framed;

	while (*a && *a == *b) {
		a++;
		b++;
	}
	while (a > r->whole && a[-1] != '\n') {
		a--;
		b--;
	}
	fprintf(stderr, "whole:  %.300s\nframed: %.300s\n", a, b);
}

static void check(const struct sim_write *w, size_t n, const struct sim_options *opt)
{
	struct sim_result r;
	int rc = sim_run(w, n, opt, &r);

	if (rc)
		show_difference(&r);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(r.whole, "net_packet_http"));
	sim_result_free(&r);
}

/* Three pipelined requests; nginx answers 200, 201 'ok' and the 404 to HEAD. */
static void test_pipelined_after_short_body(void **state)
{
	struct sim_write w[] = {
		W(0, "GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n"
		     "GET /api/p HTTP/1.1\r\nHost: h\r\n\r\nHEAD /missing HTTP/1.1\r\nHost: h\r\n\r\n"),
		W(1, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
		W(1, "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"),
		W(1, "HTTP/1.1 404 Not Found\r\nContent-Length: 153\r\n\r\n"),
	};

	check(w, 4, &mtu);
}

/* Keep-alive: every response after a 201 'ok' was lost. */
static void test_keepalive_after_short_body(void **state)
{
	struct sim_write w[] = {
		W(0, "GET /api/p HTTP/1.1\r\nHost: h\r\n\r\n"),
		W(1, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
		W(0, "GET /missing HTTP/1.1\r\nHost: h\r\n\r\n"),
		W(1, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"),
		W(0, "GET /api/q HTTP/1.1\r\nHost: h\r\n\r\n"),
		W(1, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
		W(0, "GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n"),
		W(1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
	};

	check(w, 8, &mtu);
}

/* A chunked body whose data starts a segment with a request line is not a request. */
static void test_no_request_inside_chunked_body(void **state)
{
	struct sim_write w[] = {
		W(0, "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "30\r\n"),
		W(0, "GET /SPOOFED HTTP/1.1\r\nHost: evil\r\n\r\nxxxxxxxx\r\n0\r\n\r\n"),
		W(1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	struct sim_options one = mtu;
	struct sim_result r;

	one.mss = 64;
	check(w, 3, &one);
	assert_int_equal(sim_run(w, 3, &one, &r), 0);
	assert_null(strstr(r.framed, "SPOOFED"));
	sim_result_free(&r);
}

/* 100 Continue, HEAD with a chunked answer, 204 and 304 with lengths, a CONNECT tunnel. */
static void test_no_body_rules(void **state)
{
	struct sim_write w[] = {
		W(0, "PUT /a HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"),
		W(1, "HTTP/1.1 100 Continue\r\n\r\n"),
		W(0, "abc"),
		W(1, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"),
		W(0, "HEAD /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"),
		W(1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"),
		W(0, "CONNECT h:443 HTTP/1.1\r\n\r\n"),
		W(1, "HTTP/1.1 200 Connection established\r\n\r\n"),
		W(0, "\x16\x03\x01GET / HTTP/1.1\r\n\r\n"),
		W(1, "HTTP/1.1 200 OK\r\n\r\n"),
	};

	check(w, 10, &mtu);
}

/*
 * Start lines the framer's fast paths do not take (blanks in a target, versions like
 * HTTP/1.10, a bare CR after the code, versionless GET): user space's one rule decides, live
 * as offline.
 */
static void test_odd_start_lines(void **state)
{
	struct sim_write w[] = {
		W(0, "GET /uri afterspace HTTP/1.1\r\nHost: h\r\n\r\n"),
		W(1, "HTTP/1.10 200 OK\r\nContent-Length: 2\r\n\r\nok"),
		W(0, "GET /b HTTP/1.1\r\n\r\n"),
		W(1, "HTTP/1.1 204\rNo Content\r\n\r\n"),
		W(0, "T /zeek.html\r\n\r\n"),
		W(1, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
	};

	check(w, 6, &mtu);
}

/*
 * Only "PRI * HTTP/2.0", byte for byte, is the HTTP/2 preface (as user space reads it): other
 * request lines with a version 2.x are HTTP/1 requests, counted and paired (a HEAD's answer
 * has no body), and the direction goes on being followed.
 */
static void test_version_two_is_not_the_preface(void **state)
{
	static const char *const lines[] = {
		"HEAD /b HTTP/2.1", "PRI  * HTTP/2.0", "PRI *x HTTP/2.0", "PRI * http/2.0",
	};
	struct sim_options small = mtu;
	char first[96];
	struct sim_write w[] = {
		W(0, ""),
		W(1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
		W(1, "HTTP/1.1 203 NA\r\nContent-Length: 5\r\n\r\n"),
		W(0, "HEAD /c HTTP/1.1\r\n\r\n"),
		W(1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"),
	};
	struct sim_result r;

	for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
		w[0].len = (size_t)snprintf(first, sizeof(first),
					    "GET /a HTTP/1.1\r\n\r\n%s\r\n\r\n", lines[i]);
		w[0].bytes = (const uint8_t *)first;
		for (uint32_t mss = 1; mss <= 1448; mss = mss * 3 + 1) {
			small.mss = mss;
			check(w, 5, &small);
			assert_int_equal(sim_run(w, 5, &small, &r), 0);
			assert_int_equal(r.ignored, 0);
			sim_result_free(&r);
		}
	}
}

/*
 * The client's HTTP/2 preface while the server's body runs to the close: user space reads
 * HTTP/2 frames from there on in both directions, and so the framer copies that body's
 * direction whole rather than skip the frames as body.
 */
static void test_preface_during_close_delimited_body(void **state)
{
	struct sim_write w[] = {
		W(1, "HTTP/1.1 200 OK\r\n\r\nto the close"),
		W(0, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"),
		W(1, "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
		     "\x00\x00\x01\x01\x05\x00\x00\x00\x01\x88"),
	};
	struct sim_result r;

	check(w, 3, &mtu);
	assert_int_equal(sim_run(w, 3, &mtu, &r), 0);
	assert_non_null(strstr(r.framed, "HTTP/2.0"));
	sim_result_free(&r);
}

/* Random conversations, each cut into random segments: whole and tiny MSS, small limits. */
static void random_runs(uint64_t first, uint64_t count, struct sim_options opt)
{
	uint64_t copies = 0, bytes = 0, copied = 0, whole = 0;
	struct sim_write w[MAX_WRITES];

	for (uint64_t seed = first; seed < first + count; seed++) {
		struct sim_result r;
		uint8_t *buf = NULL;
		size_t n = sim_conversation(seed, w, MAX_WRITES, &buf);
		int rc;

		opt.seed = seed;
		rc = n ? sim_run(w, n, &opt, &r) : 0;
		if (rc) {
			fprintf(stderr, "conversation %llu (mss %u, head limit %u):\n",
				(unsigned long long)seed, opt.mss, opt.max_head);
			show_difference(&r);
		}
		if (n) {
			assert_int_equal(r.ignored, 0);
			assert_int_equal(r.joined, 0);
			copies += r.copies;
			bytes += r.payload_bytes;
			copied += r.copied_bytes;
			whole += r.whole_copies;
			sim_result_free(&r);
		}
		free(buf);
		assert_int_equal(rc, 0);
	}
	printf("frame: %llu conversations, mss %u: %llu copies (%llu whole), "
	       "%.1f%% of payload bytes copied\n", (unsigned long long)count, opt.mss,
	       (unsigned long long)copies, (unsigned long long)whole,
	       bytes ? 100.0 * (double)copied / (double)bytes : 0.0);
}

static void test_random_mtu(void **state)
{
	random_runs(1, 3000, mtu);
}

static void test_random_small_segments(void **state)
{
	struct sim_options o = mtu;

	o.mss = 7;
	random_runs(100000, 1000, o);
}

static void test_random_reordered(void **state)
{
	struct sim_options o = mtu;

	o.mss = 500;
	o.reorder = 20;
	random_runs(300000, 1000, o);
}

static void test_random_limits(void **state)
{
	struct sim_options o = mtu;

	o.max_head = 300;
	o.body_bytes = 16;
	random_runs(200000, 1000, o);
}

#define H2_CAPTURES "tests/captures/h2"
#define MAX_CONN_WRITES 4096

/* The TCP payloads of one connection of a capture, in order, as writes of its two sides. */
struct conn_writes {
	uint16_t port[2];       /* [0] the client's (it sent the SYN), [1] the server's */
	struct sim_write w[MAX_CONN_WRITES];
	size_t n;
};

/* The TCP payload of an Ethernet frame (IPv4 or IPv6), its ports and SYN flag; 0 if none. */
static const uint8_t *tcp_payload(const uint8_t *p, uint32_t len, uint16_t *sport,
				  uint16_t *dport, int *syn, uint32_t *plen)
{
	uint32_t ip = 14, tcp, total;

	if (len < 14 + 40)
		return NULL;
	if (p[12] == 0x08 && p[13] == 0x00 && p[ip + 9] == 6) {
		tcp = ip + (p[ip] & 15) * 4;
		total = ip + ((uint32_t)p[ip + 2] << 8 | p[ip + 3]);
	} else if (p[12] == 0x86 && p[13] == 0xdd && p[ip + 6] == 6) {
		tcp = ip + 40;
		total = tcp + ((uint32_t)p[ip + 4] << 8 | p[ip + 5]);
	} else {
		return NULL;
	}
	if (total > len || tcp + 20 > total)
		return NULL;
	*sport = (uint16_t)(p[tcp] << 8 | p[tcp + 1]);
	*dport = (uint16_t)(p[tcp + 2] << 8 | p[tcp + 3]);
	*syn = (p[tcp + 13] & 0x12) == 0x02;
	*plen = total - tcp - (p[tcp + 12] >> 4) * 4;
	return p + tcp + (p[tcp + 12] >> 4) * 4;
}

/* Every connection of a capture (by client port) through the simulator; returns how many. */
static int replay_capture(const char *path, const struct sim_options *opt, uint64_t *blocks)
{
	char err[PCAP_ERRBUF_SIZE];
	static struct conn_writes c[16];
	struct pcap_pkthdr *h;
	const uint8_t *d, *pl;
	uint16_t sp, dp;
	uint32_t plen;
	int syn, nc = 0, k;
	pcap_t *pc = pcap_open_offline(path, err);

	assert_non_null(pc);
	memset(c, 0, sizeof(c));
	while (pcap_next_ex(pc, &h, &d) == 1) {
		if (!(pl = tcp_payload(d, h->caplen, &sp, &dp, &syn, &plen)))
			continue;
		if (syn && nc < 16) {
			c[nc].port[0] = sp;
			c[nc++].port[1] = dp;
			continue;
		}
		for (k = 0; k < nc && !(c[k].port[0] == sp && c[k].port[1] == dp) &&
			    !(c[k].port[0] == dp && c[k].port[1] == sp); k++)
			;
		if (k == nc || !plen || c[k].n == MAX_CONN_WRITES)
			continue;
		c[k].w[c[k].n].bytes = memcpy(malloc(plen), pl, plen);
		c[k].w[c[k].n].len = plen;
		c[k].w[c[k].n++].side = sp != c[k].port[0];
	}
	pcap_close(pc);
	for (k = 0; k < nc; k++) {
		struct sim_result r;
		int rc = sim_run(c[k].w, c[k].n, opt, &r);

		if (rc) {
			fprintf(stderr, "%s, connection from port %u (mss %u, body bytes %u):\n",
				path, c[k].port[0], opt->mss, opt->body_bytes);
			show_difference(&r);
		}
		assert_int_equal(rc, 0);
		assert_int_equal(r.ignored, 0);
		*blocks += r.h2_blocks;
		sim_result_free(&r);
		for (size_t i = 0; i < c[k].n; i++)
			free((void *)c[k].w[i].bytes);
	}
	return nc;
}

/*
 * HTTP/2 (the real captures of tests/captures/h2: prior knowledge, h2c Upgrade, padding,
 * PUSH_PROMISE, CONTINUATION, gRPC trailers and RST_STREAM, HTTP/1.x beside): the kernel's
 * copies (frame headers and all but DATA) give the events the whole packets give, at the MTU,
 * in small segments (frame headers cut anywhere), reordered and with --body-bytes. Each
 * side's first write goes whole, as TCP sends it: a first segment shorter than a frame header
 * would hide a server's SETTINGS from both views.
 */
static void test_h2_captures(void **state)
{
	static const struct sim_options opts[] = {
		{ .seed = 7, .mss = 1448, .max_head = 65536, .first_whole = true },
		{ .seed = 8, .mss = 13, .max_head = 65536, .first_whole = true },
		{ .seed = 9, .mss = 700, .max_head = 65536, .reorder = 20, .first_whole = true },
		{ .seed = 10, .mss = 1448, .max_head = 65536, .body_bytes = 3, .first_whole = true },
	};
	char path[512];
	uint64_t blocks = 0;
	int conns = 0, files = 0;
	struct dirent *e;
	DIR *dir = opendir(H2_CAPTURES);

	assert_non_null(dir);
	while ((e = readdir(dir))) {
		if (!strstr(e->d_name, ".pcap"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", H2_CAPTURES, e->d_name);
		files++;
		for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			conns += replay_capture(path, &opts[i], &blocks);
	}
	closedir(dir);
	printf("frame: HTTP/2: %d captures, %d connection runs, %llu header blocks framed\n",
	       files, conns, (unsigned long long)blocks);
	assert_true(files >= 9 && blocks > 1000);
}

/*
 * HTTP/2 frames in mid-connection (a connection older than the programs): the kernel frames
 * them without copying (header blocks counted), user space reading the capture counts them
 * as not decoded: no event either way.
 */
static void test_h2_joined(void **state)
{
	static const uint8_t frames[] = {
		0, 0, 3, 1, 4, 0, 0, 0, 9, 0x82, 0x84, 0xbe,  /* HEADERS on stream 9 */
		0, 0, 2, 0, 1, 0, 0, 0, 9, 'o', 'k',          /* DATA, END_STREAM */
	};
	struct sim_write w[] = {
		{ 0, frames, sizeof(frames) },  /* the first bytes seen: not followed (not HTTP) */
		{ 0, frames, sizeof(frames) },  /* a frame header in mid-stream: counted */
		{ 1, frames, sizeof(frames) },  /* a server starting without SETTINGS: not HTTP */
		{ 1, frames, sizeof(frames) },
	};
	struct sim_result r;

	assert_int_equal(sim_run(w, 4, &mtu, &r), 0);
	assert_int_equal(r.copies, 0);
	assert_int_equal(r.h2_blocks, 1);
	assert_null(strstr(r.whole, "HTTP/2.0"));
	sim_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_after_short_body),
		cmocka_unit_test(test_keepalive_after_short_body),
		cmocka_unit_test(test_no_request_inside_chunked_body),
		cmocka_unit_test(test_no_body_rules),
		cmocka_unit_test(test_odd_start_lines),
		cmocka_unit_test(test_version_two_is_not_the_preface),
		cmocka_unit_test(test_preface_during_close_delimited_body),
		cmocka_unit_test(test_random_mtu),
		cmocka_unit_test(test_random_small_segments),
		cmocka_unit_test(test_random_limits),
		cmocka_unit_test(test_random_reordered),
		cmocka_unit_test(test_h2_captures),
		cmocka_unit_test(test_h2_joined),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
