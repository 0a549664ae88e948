/*
 * The pipeline from packets to events, on hand-made TCP conversations: requests paired with
 * their responses (in order, pipelined, unpaired at either end), filters on exchanges, and
 * packet export of exactly the packets of the reported exchanges.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pcap/dlt.h>
#include "output/event.h"
#include "output/export.h"
#include "report/filter.h"
#include "pipeline/pipeline.h"

#define T0 1700000000000000000ull
#define CLIENT 0x0a000001u  /* 10.0.0.1:40000 */
#define SERVER 0x0a000002u  /* 10.0.0.2:80 */
#define ACK 0x10
#define PSH 0x08
#define SYN 0x02
#define FIN 0x01

/* One side of the hand-made connection: its next sequence number. */
struct conv {
	struct pipeline *p;
	uint32_t seq[2];     /* 0: client, 1: server */
	uint64_t ts;
};

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, (uint16_t)v);
}

/* Sends one segment from side (0 client, 1 server) with flags and payload. */
static void segment(struct conv *c, int side, uint8_t flags, const char *payload)
{
	uint8_t pkt[1500] = { 0 };
	size_t n = payload ? strlen(payload) : 0;
	uint8_t *tcp = pkt + 20;

	assert_true(n <= sizeof(pkt) - 40);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)(40 + n));
	pkt[8] = 64;
	pkt[9] = 6;
	put32(pkt + 12, side ? SERVER : CLIENT);
	put32(pkt + 16, side ? CLIENT : SERVER);
	put16(tcp, side ? 80 : 40000);
	put16(tcp + 2, side ? 40000 : 80);
	put32(tcp + 4, c->seq[side]);
	put32(tcp + 8, flags & ACK ? c->seq[!side] : 0);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	memcpy(tcp + 20, payload ? payload : "", n);
	c->seq[side] += (uint32_t)n + (flags & (SYN | FIN) ? 1 : 0);
	c->ts += 1000000;
	pipeline_packet(c->p, &(struct packet){ .ts_ns = c->ts, .data = pkt,
			.caplen = (uint32_t)(40 + n), .wirelen = (uint32_t)(40 + n),
			.linktype = DLT_RAW });
}

static void handshake(struct conv *c)
{
	c->seq[0] = 1000;
	c->seq[1] = 5000;
	segment(c, 0, SYN, NULL);
	segment(c, 1, SYN | ACK, NULL);
	segment(c, 0, ACK, NULL);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: example\r\n\r\n"
#define RESP(status) "HTTP/1.1 " status "\r\nContent-Length: 2\r\n\r\nok"

struct run {
	char *out;           /* the events written */
	size_t len;
	struct pipeline_stats ps;
};

/*
 * Runs conversation through a pipeline writing types as JSON, with the -f terms in terms
 * (NULL-terminated, may be NULL) and exporting to export_path when it is not NULL.
 */
static void run(struct run *r, unsigned types, const char *const *terms,
		const char *export_path, void (*conversation)(struct conv *))
{
	struct event_options eo = { .format = OUTPUT_JSON, .types = types };
	struct pipeline_options po = {
		.flow = { .max_flows = 16, .max_flow_buffer = 1 << 16, .max_total_buffer = 1 << 20,
			  .idle_timeout_ns = 60000000000ull },
		.http = { .max_head = 4096, .max_fields = 32 },
	};
	static struct filter_set filters;
	struct event_writer *w;
	struct conv c = { .ts = T0 };
	FILE *out;

	memset(r, 0, sizeof(*r));
	filters.n = 0;
	for (; terms && *terms; terms++)
		assert_int_equal(filter_add(&filters, *terms), 0);
	po.filter = filters.n ? &filters : NULL;
	if (export_path) {
		int fd = open(export_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		assert_true(fd >= 0);
		po.exp = export_new(fd, &(struct export_options){ 0 });
		assert_non_null(po.exp);
	}
	out = open_memstream(&r->out, &r->len);
	assert_non_null(out);
	w = event_writer_new(out, &eo);
	assert_non_null(w);
	c.p = pipeline_new(&po, w);
	assert_non_null(c.p);
	conversation(&c);
	pipeline_finish(c.p);
	pipeline_stats(c.p, &r->ps, NULL, NULL);
	pipeline_free(c.p);
	event_writer_free(w);
	fclose(out);
	if (export_path) {
		assert_int_equal(export_finish(po.exp), 0);
		export_free(po.exp);
	}
}

/* How often s occurs in text. */
static unsigned count(const char *text, const char *s)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, s)); p += strlen(s))
		n++;
	return n;
}

/* The n-th (from 0) line of text that contains s, or NULL; the caller frees it. */
static char *line_with(const char *text, const char *s, unsigned n)
{
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *line = strndup(p, len);

		if (strstr(line, s) && n-- == 0)
			return line;
		free(line);
		p += len + (end ? 1 : 0);
	}
	return NULL;
}

/* One exchange, then two pipelined requests in one segment answered in one segment. */
static void keepalive_and_pipelined(struct conv *c)
{
	handshake(c);
	segment(c, 0, ACK | PSH, GET("/one"));
	segment(c, 1, ACK | PSH, RESP("200 OK"));
	segment(c, 0, ACK | PSH, GET("/two") GET("/three"));
	segment(c, 1, ACK | PSH, RESP("404 Not Found") RESP("503 Service Unavailable"));
	segment(c, 0, ACK | FIN, NULL);
	segment(c, 1, ACK | FIN, NULL);
}

static void test_pairing_in_order(void **state)
{
	static const char *const want[][2] = {
		{ "\"/one\"", "\"200 OK\"" },
		{ "\"/two\"", "\"404 Not Found\"" },
		{ "\"/three\"", "\"503 Service Unavailable\"" },
	};
	struct run r;

	run(&r, EVENT_FLOW_HTTP, NULL, NULL, keepalive_and_pipelined);
	assert_int_equal(count(r.out, "\"eventName\":\"net_flow_http\""), 3);
	for (unsigned i = 0; i < 3; i++) {
		char *line = line_with(r.out, "net_flow_http", i);
		char depth[64];

		assert_non_null(line);
		snprintf(depth, sizeof(depth), "\"name\":\"trans_depth\",\"type\":\"uint32\",\"value\":%u",
			 i + 1);
		assert_non_null(strstr(line, want[i][0]));
		assert_non_null(strstr(line, want[i][1]));
		assert_non_null(strstr(line, depth));
		assert_null(strstr(line, "\"name\":\"latency_ns\",\"type\":\"uint64\",\"value\":0}"));
		free(line);
	}
	assert_int_equal(r.ps.unpaired_requests, 0);
	assert_int_equal(r.ps.unpaired_responses, 0);
	free(r.out);
}

/* A response nobody asked for, then a request that gets no answer before the close. */
static void unpaired(struct conv *c)
{
	handshake(c);
	segment(c, 1, ACK | PSH, RESP("200 OK"));
	segment(c, 0, ACK | PSH, GET("/lost"));
	segment(c, 0, ACK | FIN, NULL);
	segment(c, 1, ACK | FIN, NULL);
}

static void test_pairing_unpaired(void **state)
{
	struct run r;
	char *line;

	run(&r, EVENT_FLOW_HTTP, NULL, NULL, unpaired);
	assert_int_equal(r.ps.unpaired_requests, 1);
	assert_int_equal(r.ps.unpaired_responses, 1);
	line = line_with(r.out, "\"/lost\"", 0);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"name\":\"latency_ns\",\"type\":\"uint64\",\"value\":0}"));
	assert_non_null(strstr(line, "\"type\":\"trace.ProtoHTTPResponse\",\"value\":null"));
	free(line);
	free(r.out);
}

static void test_filter_on_exchanges(void **state)
{
	static const char *const terms[] = { "status>=500", NULL };
	struct run r;

	run(&r, EVENT_FLOW_HTTP, terms, NULL, keepalive_and_pipelined);
	assert_int_equal(count(r.out, "\"eventName\":\"net_flow_http\""), 1);
	assert_non_null(strstr(r.out, "\"/three\""));
	assert_int_equal(r.ps.filtered, 2);
	free(r.out);
}

/* The Enhanced Packet Blocks of a pcapng file and how many of them carry a comment. */
static void count_epbs(const char *path, unsigned *epbs, unsigned *comments)
{
	uint8_t buf[1 << 16];
	size_t len, off = 0;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	*epbs = *comments = 0;
	while (len - off >= 12) {
		uint32_t type, blen;

		memcpy(&type, buf + off, 4);
		memcpy(&blen, buf + off + 4, 4);
		assert_true(blen >= 12 && blen % 4 == 0 && blen <= len - off);
		if (type == 6) {
			(*epbs)++;
			*comments += memmem(buf + off, blen, "net_flow_http", 13) != NULL;
		}
		off += blen;
	}
	assert_int_equal(off, len);
}

static void test_export_of_reported_exchanges(void **state)
{
	static const char *const terms[] = { "path=/one", NULL };
	char path[] = "/tmp/httpeek-test-export-XXXXXX";
	unsigned epbs, comments;
	struct run r;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	run(&r, EVENT_FLOW_HTTP, terms, path, keepalive_and_pipelined);
	assert_int_equal(count(r.out, "\"eventName\":\"net_flow_http\""), 1);
	/* The request's and the response's packet, each named by the exchange's event. */
	count_epbs(path, &epbs, &comments);
	assert_int_equal(epbs, 2);
	assert_int_equal(comments, 2);
	unlink(path);
	free(r.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairing_in_order),
		cmocka_unit_test(test_pairing_unpaired),
		cmocka_unit_test(test_filter_on_exchanges),
		cmocka_unit_test(test_export_of_reported_exchanges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
