// SPDX-License-Identifier: GPL-2.0
/*
 * The canned packets of prog_test_run: HTTP starts and what is copied of them, packets that
 * must be ignored, the load-time knobs, the kernel filter, and the cost of a run.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "prog_test_run.h"
#include "record.h"

/* A message start followed by filler up to size payload bytes; head_end adds "\r\n\r\n". */
static void big(struct pkt *p, int ver, size_t size, const char *start, char fill, int head_end)
{
	static char buf[PKT_MAX];
	size_t n = strlen(start);

	memcpy(buf, start, n);
	memset(buf + n, fill, size - n);
	if (head_end)
		memcpy(buf + n, "\r\n\r\n", 4);
	if (ver == 4)
		tcp4(p, buf, size);
	else
		tcp6(p, buf, size);
}

#define B REC_F_BOUNDARY
#define HEAD200 "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
#define HEAD404 "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\n"
#define CHUNKED "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n"
#define SHORT "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
#define HEAD204 "HTTP/1.1 204 No Content\r\n\r\n"
#define JUNK "\x01\x02binary"

/* Payload: start, filler bytes up to skip, then end (at most PKT_MAX). */
static size_t compose(char *buf, const char *start, size_t skip, const char *end)
{
	size_t n = strlen(start), e = strlen(end);

	memcpy(buf, start, n);
	memset(buf + n, 'x', skip - n);
	memcpy(buf + skip, end, e);
	return skip + e;
}

/* Heads copied, bodies skipped by length: one record per range of the payload. */
static void range_cases(struct loaded *l)
{
	static char buf[PKT_MAX];
	size_t h1 = strlen(HEAD200), h2 = strlen(HEAD404), c = strlen(CHUNKED), n;
	struct pkt p;

	/* A response, its 1000-byte body, the next response: two records. */
	n = compose(buf, HEAD200, h1 + 1000, HEAD404 "nope.");
	tcp4(&p, buf, n);
	expect_last(l, "body-between-heads", &p, 2, 40 + (long)h2, (long)(h1 + 1000),
		    (long)(h2 + 5), B);
	/* Chunk data skipped; the CRLF after it, the last chunk and the end copied. */
	n = compose(buf, CHUNKED, c + 1000, "\r\n0\r\n\r\n");
	tcp4(&p, buf, n);
	expect_last(l, "chunk-data-skipped", &p, 2, 40 + 7, (long)(c + 1000), 7, 0);
	/* The 201 'ok' shape: a short body, then the next head: one record (merged). */
	tcp4(&p, S(SHORT HEAD404));
	expect_last(l, "short-body-then-head", &p, 1, 40 + (long)(sizeof(SHORT) - 1 + h2), 0,
		    (long)(sizeof(SHORT) - 1 + h2), B);
	/* A head with a body that runs past the packet: the head alone, standing for all. */
	n = compose(buf, HEAD200, h1 + 500, "");
	tcp6(&p, buf, n);
	expect_last(l, "body-runs-on", &p, 1, 60 + (long)h1, 0, (long)(h1 + 500), B);
	/* Garbage where a head must start, after a framed one: the rest copied whole. */
	tcp4(&p, S(HEAD204 JUNK));
	expect_last(l, "garbage-after-head", &p, 1, 40 + sizeof(HEAD204 JUNK) - 1, 0,
		    sizeof(HEAD204 JUNK) - 1, B | REC_F_WHOLE);
	/* A text protocol that is not HTTP: nothing. */
	tcp4(&p, S("220 mail.example ESMTP ready\r\n"));
	expect(l, "smtp-banner", &p, 0, ANY);
}

/* An HTTP/2 frame header of a payload of len bytes. */
static size_t h2_frame(char *b, unsigned len, int type, int flags, unsigned stream)
{
	b[0] = (char)(len >> 16);
	b[1] = (char)(len >> 8);
	b[2] = (char)len;
	b[3] = (char)type;
	b[4] = (char)flags;
	b[5] = b[6] = b[7] = 0;
	b[8] = (char)stream;
	return 9;
}

/* The client's preface, SETTINGS, a HEADERS frame, then the header of a DATA frame. */
static size_t h2_client(char *buf, unsigned data, int data_flags)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	size_t n;

	memcpy(buf, preface, 24);
	n = 24 + h2_frame(buf + 24, 6, 4, 0, 0);
	memset(buf + n, 0, 6);
	n += 6;
	n += h2_frame(buf + n, 20, 1, 4, 1);
	memset(buf + n, 0x82, 20);
	n += 20;
	n += h2_frame(buf + n, data, 0, data_flags, 1);
	memset(buf + n, 'd', data);
	return n;
}

/*
 * HTTP/2: frame headers and every payload but DATA's copied, DATA skipped by length; the last
 * byte of a DATA frame that ends its stream copied. (The test runs' socket is no TCP socket,
 * so every packet is taken as mid-connection: the client's is followed from its preface.)
 */
static void h2_cases(struct loaded *l)
{
	static char buf[PKT_MAX];
	__u64 blocks;
	struct pkt p;
	size_t n;

	n = h2_client(buf, 1000, 0);
	tcp4(&p, buf, n + 1000);
	expect_last(l, "h2-preface-data-skipped", &p, 1, 40 + (long)n, 0, (long)n + 1000, B);
	n = h2_client(buf, 1000, 1);
	tcp6(&p, buf, n + 1000);
	expect_last(l, "h2-end-stream-last-byte", &p, 2, 60 + 1, (long)n + 999, 1, 0);
	/* Frames in mid-connection: counted in h2_joined_blocks, nothing copied. */
	n = h2_frame(buf, 10, 1, 4, 3);
	memset(buf + n, 0x88, 10);
	tcp4(&p, buf, n + 10);
	blocks = l->skel->bss->h2_joined_blocks;
	expect(l, "h2-joined-counted", &p, 0, ANY);
	if (l->skel->bss->h2_joined_blocks != blocks + 2)  /* one per program */
		fail("h2-joined-counted: %llu header blocks counted, want 2",
		     (unsigned long long)(l->skel->bss->h2_joined_blocks - blocks));
}

/* p with an 8-byte hop-by-hop header (BIG TCP's jumbo option) after its IPv6 header. */
static void add_hop_by_hop(struct pkt *p)
{
	static const unsigned char hbh[8] = { 6, 0, 0xc2, 4, 0, 0, 0, 0 };
	unsigned char *ip = p->b + ETH_LEN;

	memmove(ip + 48, ip + 40, p->len - ETH_LEN - 40);
	memcpy(ip + 40, hbh, sizeof(hbh));
	ip[6] = 0;
	ip[4] = ip[5] = 0;  /* the jumbo payload length is in the option */
	p->len += sizeof(hbh);
}

/* HTTP starts: what is copied of them. */
void http_cases(struct loaded *l)
{
	const char resp3[] = RESP RESP RESP, post2[] = POST("/a", "n=0&x=1") POST("/b", "n=1&x=1");
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 3000";
	const char *two = "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 5000";
	struct pkt p;

	tcp4(&p, S(GET));
	expect_last(l, "get4", &p, 1, 40 + sizeof(GET) - 1, 0, sizeof(GET) - 1, B);
	tcp6(&p, S(GET));
	expect(l, "get6", &p, 1, 60 + sizeof(GET) - 1);
	tcp6(&p, S(GET));
	add_hop_by_hop(&p);
	expect(l, "get6-hop-by-hop", &p, 1, 68 + sizeof(GET) - 1);
	/* Bodies shorter than a range gap are copied with the heads; the last one is not. */
	tcp4(&p, S(resp3));
	expect(l, "three-responses", &p, 1, 40 + sizeof(resp3) - 1 - 3);
	tcp6(&p, S(post2));
	expect(l, "two-posts", &p, 1, 60 + sizeof(post2) - 1 - 7);
	tcp4(&p, S("GET /x HTTP/1.1\r\nHost: a"));
	expect(l, "unfinished-head", &p, 1, 40 + 24);
	tcp4(&p, S("http/1.1 200 OK\r\n\r\n"));
	expect(l, "lowercase-http", &p, 1, 40 + 19);
	tcp4(&p, S("ABCDEFGHIJKLMNOPQRST /x HTTP/1.1\r\n\r\n"));
	expect(l, "token-20", &p, 1, 40 + 36);
	big(&p, 4, 3000, head, 'z', 1);
	expect(l, "large-head-only", &p, 1, 40 + (long)strlen(head) + 4);
	big(&p, 6, 3000, two, '\x01', 1);
	expect(l, "large-pipelined-heads", &p, 1, 60 + (long)strlen(two) + 4);
	big(&p, 6, PKT_MAX - ETH_LEN - 60, "GET /huge HTTP/1.1\r\nX-Long: ", 'a', 0);
	expect(l, "huge-head-in-progress", &p, 1, PKT_MAX - ETH_LEN);
	tcp4(&p, S(GET));
	p.b[ETH_LEN + 2] = p.b[ETH_LEN + 3] = 0xff;  /* total length lies */
	expect(l, "ip-length-lies", &p, 1, 40 + sizeof(GET) - 1);
	range_cases(l);
	h2_cases(l);
}

/* Nothing to copy: not TCP, malformed, truncated, not HTTP. */
void ignored_cases(struct loaded *l)
{
	struct pkt p;

	build(&p, 4, "10.0.0.1", "10.0.0.2", 1, 80, 17, 5, 0, S(GET));
	expect(l, "udp", &p, 0, ANY);
	build(&p, 6, "::1", "::2", 1, 80, 58, 5, 0, S(GET));
	expect(l, "icmp6", &p, 0, ANY);
	/* BPF_PROG_TEST_RUN itself refuses packets shorter than their IP header. */
	tcp4(&p, S(GET));
	p.len = ETH_LEN + 20;
	expect(l, "ipv4-header-only", &p, 0, ANY);
	tcp4(&p, S(GET));
	p.len = ETH_LEN + 20 + 10;
	expect(l, "truncated-tcp4", &p, 0, ANY);
	tcp6(&p, S(GET));
	p.len = ETH_LEN + 40;
	expect(l, "ipv6-header-only", &p, 0, ANY);
	tcp6(&p, S(GET));
	p.len = ETH_LEN + 40 + 19;
	expect(l, "truncated-tcp6", &p, 0, ANY);
	tcp4(&p, S(GET));
	p.b[ETH_LEN] = 0x43;
	expect(l, "ihl-3", &p, 0, ANY);
	tcp4(&p, S("GET / HTTP"));
	p.b[ETH_LEN] = 0x4f;
	expect(l, "ihl-15-past-end", &p, 0, ANY);
	tcp4(&p, S(GET));
	p.b[ETH_LEN] = 0x55;
	expect(l, "ip-version-5", &p, 0, ANY);
	tcp4(&p, S(GET));
	p.b[ETH_LEN + 6] = 0x20;
	expect(l, "ipv4-first-fragment", &p, 0, ANY);
	tcp4(&p, S(GET));
	p.b[ETH_LEN + 7] = 0x10;
	expect(l, "ipv4-later-fragment", &p, 0, ANY);
	tcp6(&p, S(GET));
	p.b[ETH_LEN + 6] = 0;
	expect(l, "ipv6-next-header-lies", &p, 0, ANY);
	build(&p, 4, "10.0.0.1", "10.0.0.2", 1, 80, 6, 4, 0, S(GET));
	expect(l, "tcp-doff-4", &p, 0, ANY);
	tcp4(&p, S("GET / HTTP"));
	p.b[ETH_LEN + 20 + 12] = 0xf0;
	expect(l, "tcp-doff-15-past-end", &p, 0, ANY);
	build(&p, 4, "10.0.0.1", "10.0.0.2", 1, 80, 6, 15, 0, S(GET));
	expect(l, "tcp-options", &p, 1, 80 + sizeof(GET) - 1);
	tcp4(&p, S(GET));
	p.b[12] = 0x08;
	p.b[13] = 0x06;
	expect(l, "arp-ethertype", &p, 0, ANY);
	tcp4(&p, "", 0);
	expect(l, "pure-ack", &p, 0, ANY);
	build(&p, 4, "10.0.0.1", "10.0.0.2", 1, 80, 6, 5, 0x01, "", 0);
	expect(l, "fin-unknown-socket", &p, 0, ANY);
	tcp4(&p, S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"));
	expect(l, "tls-hello", &p, 0, ANY);
	tcp4(&p, S(" GET / HTTP/1.1\r\n\r\n"));
	expect(l, "leading-space", &p, 0, ANY);
	tcp4(&p, S("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg /x HTTP/1.1\r\n\r\n"));
	expect(l, "token-33", &p, 0, ANY);
	tcp4(&p, S("PING\r\n"));
	expect(l, "no-space", &p, 0, ANY);
	big(&p, 6, PKT_MAX - ETH_LEN - 60, "\x16", '\x80', 0);
	expect(l, "huge-binary", &p, 0, ANY);
}

/*
 * A head ending at every offset of an 8-byte word (the framer skips head words without a
 * line feed), with CRLF, bare LF and a lone CR before the end, then a body, or a second head
 * and a body: the copy ends exactly after the last head.
 */
static void head_ends(struct loaded *l)
{
	const char *ends[3] = { "\r\n\r\n", "\n\n", "\r\n\rZ: 1\r\n\r\n" };
	char buf[256], name[64];
	struct pkt p;

	for (int e = 0; e < 3; e++) {
		for (int k = 0; k < 16; k++) {
			for (int two = 0; two < 2; two++) {
				int n = snprintf(buf, sizeof(buf),
						 "%s /a HTTP/1.1\r\nX: %.*s%s%s", two ? "GET" : "PUT",
						 k, "yyyyyyyyyyyyyyyy", two ? "" : "\r\nContent-Length: 10",
						 ends[e]);

				if (two)
					n += snprintf(buf + n, sizeof(buf) - (size_t)n,
						      "PUT /b HTTP/1.1\r\nContent-Length: 10\r\n\r\n");
				memcpy(buf + n, "<html>\r\n\r\n", 10);
				tcp4(&p, buf, (size_t)n + 10);
				snprintf(name, sizeof(name), "head-end-%d-at-%d%s", e, k,
					 two ? "-then-head" : "");
				expect(l, name, &p, 1, 40 + n);
			}
		}
	}
}

/* A small max_head: a head longer than it is left to user space, copied whole. */
void knob_cases(struct loaded *l)
{
	const char resp3[] = RESP RESP RESP;
	struct pkt p;

	tcp4(&p, S(resp3));
	expect(l, "small-limit-short-heads", &p, 1, 40 + sizeof(resp3) - 1 - 3);
	big(&p, 4, 1000, "GET /cut HTTP/1.1\r\nX: ", 'c', 0);
	expect_last(l, "head-past-max-head", &p, 1, 40 + 1000, 0, 1000, B | REC_F_WHOLE);
	head_ends(l);
}

/* Seven HTTP packets; each filter lets through the ones in its mask (bit i: packet i). */
static const struct {
	int ver;
	const char *src, *dst;
	unsigned sport, dport;
} flows[7] = {
	{ 4, "10.200.0.1", "10.200.0.2", 40000, 80 },
	{ 4, "10.200.0.2", "10.200.0.1", 80, 40000 },
	{ 4, "10.200.0.1", "10.200.0.2", 40001, 8081 },
	{ 4, "10.201.0.1", "10.200.0.2", 40002, 8081 },
	{ 6, "fd00:200::1", "fd00:200::2", 40003, 80 },
	{ 6, "fd00:200::2", "fd00:200::1", 80, 40003 },
	{ 6, "fd00:201::1", "fd00:200::2", 40004, 8081 },
};

static const struct {
	const char *name;
	struct knobs k;
	unsigned mask;
} filters[] = {
	{ "none", { 0 }, 0x7f },
	{ "port-8081", { .f = { .port = 8081 } }, 0x4c },
	{ "port-80", { .f = { .port = 80 } }, 0x33 },
	{ "src-10.200.0.0/24", { .f = { .src_family = 4, .src_prefix = 24, .src = "10.200.0.0" } },
	  0x07 },
	{ "src-10.200.0.1/32", { .f = { .src_family = 4, .src_prefix = 32, .src = "10.200.0.1" } },
	  0x05 },
	{ "src-10.200.0.0/15", { .f = { .src_family = 4, .src_prefix = 15, .src = "10.200.0.0" } },
	  0x0f },
	{ "dst-10.200.0.2/32+port-80",
	  { .f = { .port = 80, .dst_family = 4, .dst_prefix = 32, .dst = "10.200.0.2" } }, 0x01 },
	{ "ipv6-only", { .f = { .src_family = 6 } }, 0x70 },
	{ "ipv4-dst-only", { .f = { .dst_family = 4 } }, 0x0f },
	{ "dst-fd00:200::/64", { .f = { .dst_family = 6, .dst_prefix = 64, .dst = "fd00:200::" } },
	  0x70 },
	{ "src-fd00:200::/32", { .f = { .src_family = 6, .src_prefix = 32, .src = "fd00:200::" } },
	  0x30 },
	{ "src-fd00:200::/31", { .f = { .src_family = 6, .src_prefix = 31, .src = "fd00:200::" } },
	  0x70 },
	{ "src-fd00:200::1/128",
	  { .f = { .src_family = 6, .src_prefix = 128, .src = "fd00:200::1" } }, 0x10 },
};

/* Loads once per filter and counts the records the seven packets produce. */
void filter_cases(void)
{
	int total[sizeof(filters) / sizeof(filters[0])];

	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		struct loaded l;
		char name[96];
		struct pkt p;

		int before = failures;

		total[i] = 0;
		if (load(&l, &filters[i].k, 0))
			continue;
		quiet = 1;
		for (int j = 0; j < 7; j++) {
			build(&p, flows[j].ver, flows[j].src, flows[j].dst, flows[j].sport,
			      flows[j].dport, 6, 5, 0, S(GET));
			snprintf(name, sizeof(name), "filter-%s-packet-%d", filters[i].name, j);
			expect(&l, name, &p, filters[i].mask >> j & 1, ANY);
			total[i] += (filters[i].mask >> j & 1) * 2;
		}
		unload(&l);
		quiet = 0;
		if (failures == before)
			printf("ok - prog: filter %s: %d of %d records\n", filters[i].name, total[i],
			       total[0]);
	}
}

/* Average cost of one run (ns) on a few packets. */
void costs(void)
{
	const char resp3[] = RESP RESP RESP;
	static const char *names[4] = { "get", "three-responses", "3000-byte-response",
					"3526-byte-binary" };
	/* As in httpeek: records submitted without waking the reader. */
	struct knobs k = { .wakeup_bytes = 1ull << 40 };
	struct pkt p[4];
	struct loaded l;
	__u32 ns;

	tcp4(&p[0], S(GET));
	tcp4(&p[1], S(resp3));
	big(&p[2], 4, 3000, "HTTP/1.1 200 OK\r\nContent-Length: 2962", 'z', 1);
	big(&p[3], 6, PKT_MAX - ETH_LEN - 60, "\x16", '\x80', 0);
	if (load(&l, &k, 0))
		return;
	for (int i = 0; i < 4; i++) {
		if (run_one(names[i], l.skel->progs.httpeek_egress, &p[i], 2000, &ns))
			break;
		ring_buffer__consume(l.rb);
		printf("# prog: cost %s: %u ns\n", names[i], ns);
	}
	unload(&l);
}
