/*
 * Flow table and reassembly tests: hand-built segments in, a recording of every callback out.
 * The log reads like "o d0[ab] g1[3] f0 c": open, data, gap, fin, close.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "flow/flow.h"
#include "flow/internal.h"  /* FLOW_HELD_COST: what a held piece counts against limits */

#define MAX_REC 8192
#define A 0
#define B 1

struct rec_flow {
	int id;
	struct flow_info info;
	uint8_t *stream[2];  /* data bytes, '~' for each gap byte, '#' for a gap over 1 MiB */
	size_t len[2], cap[2];
	uint64_t total[2];   /* data and gap bytes */
	int fins[2];
	int closed;
	uint64_t last_ts[2];
	enum direction last_dir[2];
	uint32_t pieces[2];
	uint32_t ip_lens[2][4];  /* ip_len + 10000 * ifindex of the first pieces */
};

static struct rec_flow *rec[MAX_REC];
static int nrec;
static char logbuf[1 << 16];
static size_t loglen;
static bool quiet;  /* big tests: streams only */

static void log_add(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (quiet)
		return;
	va_start(ap, fmt);
	n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(logbuf) - loglen);
	loglen += (size_t)n;
}

static void stream_add(struct rec_flow *r, int side, const uint8_t *p, uint8_t fill, size_t n)
{
	if (r->len[side] + n > r->cap[side]) {
		r->cap[side] = (r->len[side] + n) * 2;
		r->stream[side] = realloc(r->stream[side], r->cap[side]);
		assert_non_null(r->stream[side]);
	}
	if (p)
		memcpy(r->stream[side] + r->len[side], p, n);
	else
		memset(r->stream[side] + r->len[side], fill, n);
	r->len[side] += n;
}

static void *cb_open(void *ctx, const struct flow_info *info)
{
	struct rec_flow *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_true(nrec < MAX_REC);
	r->id = nrec;
	r->info = *info;
	rec[nrec++] = r;
	log_add("%so%d", loglen ? " " : "", r->id);
	return r;
}

static void cb_data(void *ctx, void *user, int side, const uint8_t *bytes, uint32_t len,
		    const struct flow_chunk_meta *meta)
{
	struct rec_flow *r = user;

	assert_true(len > 0);
	assert_int_equal(r->fins[side], 0);
	assert_int_equal(r->closed, 0);
	stream_add(r, side, bytes, 0, len);
	r->total[side] += len;
	r->last_ts[side] = meta->ts_ns;
	r->last_dir[side] = meta->dir;
	r->ip_lens[side][r->pieces[side] % 4] = meta->ip_len + meta->ifindex * 10000u;
	r->pieces[side]++;
	log_add(" d%d[%.*s]", side, (int)len, (const char *)bytes);
}

static void cb_gap(void *ctx, void *user, int side, uint32_t len)
{
	struct rec_flow *r = user;

	assert_true(len > 0);
	assert_int_equal(r->fins[side], 0);
	assert_int_equal(r->closed, 0);
	r->total[side] += len;
	stream_add(r, side, NULL, len > (1u << 20) ? '#' : '~', len > (1u << 20) ? 1 : len);
	log_add(" g%d[%u]", side, len);
}

static void cb_fin(void *ctx, void *user, int side)
{
	struct rec_flow *r = user;

	assert_int_equal(r->closed, 0);
	r->fins[side]++;
	assert_int_equal(r->fins[side], 1);
	log_add(" f%d", side);
}

/* Flows ended at the memory limit leave this for their return (the session's part). */
static const struct flow_resume resume_left = { .requests = 7, .owed = 2, .owed_head = 2 };

static void cb_close(void *ctx, void *user, struct flow_resume *keep)
{
	struct rec_flow *r = user;

	r->closed++;
	assert_int_equal(r->closed, 1);
	log_add(" c%d%s", r->id, keep ? "s" : "");
	if (keep)
		*keep = resume_left;
}

/* What the consumer says it holds per flow, by flow id (flow_table_shed). */
static uint64_t consumer_held[MAX_REC];

static uint64_t cb_held(void *ctx, void *user)
{
	return consumer_held[((struct rec_flow *)user)->id];
}

static const struct flow_callbacks cbs = { cb_open, cb_data, cb_gap, cb_fin, cb_close,
					   cb_held };

static int setup(void **state)
{
	nrec = 0;
	loglen = 0;
	logbuf[0] = 0;
	quiet = false;
	memset(consumer_held, 0, sizeof(consumer_held));
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < nrec; i++) {
		free(rec[i]->stream[0]);
		free(rec[i]->stream[1]);
		free(rec[i]);
	}
	nrec = 0;
	return 0;
}

static struct flow_limits lim_default(void)
{
	return (struct flow_limits){
		.max_flows = FLOW_DEFAULT_MAX_FLOWS,
		.max_flow_buffer = FLOW_DEFAULT_MAX_FLOW_BUFFER,
		.max_total_buffer = FLOW_DEFAULT_MAX_TOTAL_BUFFER,
		.idle_timeout_ns = FLOW_DEFAULT_IDLE_TIMEOUT_NS,
	};
}

static struct flow_table *table(const struct flow_limits *lim)
{
	struct flow_table *t = flow_table_new(lim, &cbs, NULL);

	assert_non_null(t);
	return t;
}

static struct flow_table *table_default(void)
{
	struct flow_limits lim = lim_default();

	return table(&lim);
}

static uint64_t now_ns = 1000;

/* A segment of connection conn (client 10.0.0.1:40000+conn, server 10.0.0.2:80) sent by from. */
static struct segment mkseg(int conn, int from, uint8_t flags, uint32_t seq, const void *data,
			    uint32_t len)
{
	struct segment s = {
		.ts_ns = now_ns++,
		.family = 4,
		.tcp_flags = flags,
		.dir = from == A ? DIR_EGRESS : DIR_INGRESS,
		.seq = seq,
		.payload = data,
		.payload_len = len,
		.seg_len = len,
	};
	struct endpoint c = { .addr = { 10, 0, 0, 1 }, .port = (uint16_t)(40000 + conn) };
	struct endpoint srv = { .addr = { 10, 0, 0, 2 }, .port = 80 };

	s.src = from == A ? c : srv;
	s.dst = from == A ? srv : c;
	return s;
}

static void feed(struct flow_table *t, int conn, int from, uint8_t flags, uint32_t seq,
		 const char *data)
{
	struct segment s = mkseg(conn, from, flags, seq, data, data ? (uint32_t)strlen(data) : 0);

	flow_segment(t, &s);
}

/* Data of connection 0 from the client, no flags. */
static void put(struct flow_table *t, uint32_t seq, const char *data)
{
	feed(t, 0, A, 0, seq, data);
}

static void assert_stream(int id, int side, const char *want)
{
	assert_true(id < nrec);
	assert_int_equal(rec[id]->len[side], strlen(want));
	assert_memory_equal(rec[id]->stream[side], want, strlen(want));
}

static void test_in_order(void **state)
{
	struct flow_table *t = table_default();
	const struct flow_stats *st = flow_table_stats(t);

	feed(t, 0, A, TCP_SYN, 1000, NULL);
	feed(t, 0, B, TCP_SYN | TCP_ACK, 5000, NULL);
	feed(t, 0, A, TCP_ACK, 1001, NULL);
	feed(t, 0, A, TCP_ACK | TCP_PSH, 1001, "GET /");
	feed(t, 0, A, TCP_ACK | TCP_PSH, 1006, " HTTP/1.1");
	feed(t, 0, B, TCP_ACK | TCP_PSH, 5001, "HTTP/1.1 200");
	feed(t, 0, A, TCP_ACK | TCP_FIN, 1015, NULL);
	feed(t, 0, B, TCP_ACK | TCP_FIN, 5013, NULL);
	assert_string_equal(logbuf, "o0 d0[GET /] d0[ HTTP/1.1] d1[HTTP/1.1 200] f0 f1 c0");
	assert_int_equal(st->flows_created, 1);
	assert_int_equal(st->flows_active, 0);
	assert_int_equal(st->bytes, 26);
	assert_int_equal(st->overlaps, 0);
	assert_int_equal(st->gaps, 0);
	/* Side 0 is the client that sent the first segment; meta is the segment's. */
	assert_int_equal(rec[0]->info.end[0].port, 40000);
	assert_int_equal(rec[0]->info.end[1].port, 80);
	assert_int_equal(rec[0]->info.family, 4);
	assert_int_equal(rec[0]->last_dir[0], DIR_EGRESS);
	assert_int_equal(rec[0]->last_dir[1], DIR_INGRESS);
	/* The last ACK after close does not reopen the flow. */
	feed(t, 0, A, TCP_ACK, 1016, NULL);
	feed(t, 0, B, TCP_ACK | TCP_FIN, 5013, NULL);
	assert_int_equal(st->flows_created, 1);
	flow_table_free(t);
	assert_int_equal(nrec, 1);
}

/* Each piece carries its packet's IP length and interface, a piece held out of order too. */
static void test_packet_meta(void **state)
{
	struct flow_table *t = table_default();
	struct segment s;

	feed(t, 0, A, TCP_SYN, 1000, NULL);
	s = mkseg(0, A, TCP_ACK, 1006, "world", 5);
	s.ip_len = 111;
	s.ifindex = 3;
	flow_segment(t, &s);
	s = mkseg(0, A, TCP_ACK, 1001, "hello", 5);
	s.ip_len = 222;
	s.ifindex = 4;
	flow_segment(t, &s);
	assert_string_equal(logbuf, "o0 d0[hello] d0[world]");
	assert_int_equal(rec[0]->pieces[0], 2);
	assert_int_equal(rec[0]->ip_lens[0][0], 40222);
	assert_int_equal(rec[0]->ip_lens[0][1], 30111);
	flow_table_free(t);
}

static void test_byte_by_byte(void **state)
{
	static const char msg[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
	struct flow_table *t = table_default();
	size_t n = strlen(msg);
	char one[2] = { 0 };

	feed(t, 0, A, TCP_SYN, 77, NULL);
	for (size_t i = 0; i < n; i++) {
		one[0] = msg[i];
		put(t, 78 + (uint32_t)i, one);
	}
	/* Connection 1: every byte in reverse order, then all delivered at the first one. */
	feed(t, 1, A, TCP_SYN, 900, NULL);
	for (size_t i = n; i-- > 1;) {
		one[0] = msg[i];
		feed(t, 1, A, 0, 901 + (uint32_t)i, one);
	}
	assert_int_equal(rec[1]->len[0], 0);
	one[0] = msg[0];
	feed(t, 1, A, 0, 901, one);
	assert_stream(0, 0, msg);
	assert_stream(1, 0, msg);
	assert_int_equal(flow_table_stats(t)->bytes, 2 * n);
	flow_table_free(t);
}

static const char *const PARTS[4] = { "aa", "bbb", "cccc", "d" };

static void permute(int *idx, int k, int n, int *count)
{
	if (k == n) {
		struct flow_table *t = table_default();
		uint32_t off[4] = { 0, 2, 5, 9 };
		int id = nrec;

		feed(t, 0, A, TCP_SYN, 99, NULL);
		for (int i = 0; i < n; i++)
			put(t, 100 + off[idx[i]], PARTS[idx[i]]);
		assert_stream(id, 0, "aabbbccccd");
		assert_int_equal(flow_table_stats(t)->gaps, 0);
		assert_int_equal(flow_table_stats(t)->overlaps, 0);
		flow_table_free(t);
		(*count)++;
		return;
	}
	for (int i = k; i < n; i++) {
		int tmp = idx[k];

		idx[k] = idx[i];
		idx[i] = tmp;
		permute(idx, k + 1, n, count);
		idx[i] = idx[k];
		idx[k] = tmp;
	}
}

static void test_out_of_order(void **state)
{
	int idx[4] = { 0, 1, 2, 3 }, count = 0;
	struct flow_table *t;

	quiet = true;
	permute(idx, 0, 4, &count);
	assert_int_equal(count, 24);
	quiet = false;
	/* Delivery happens as soon as the hole closes, each piece with its own call. */
	t = table_default();
	feed(t, 9, A, TCP_SYN, 99, NULL);
	feed(t, 9, A, 0, 105, "cccc");
	feed(t, 9, A, 0, 102, "bbb");
	assert_string_equal(logbuf + strlen(logbuf) - 3, "o24");
	feed(t, 9, A, 0, 100, "aa");
	assert_string_equal(strstr(logbuf, "o24"), "o24 d0[aa] d0[bbb] d0[cccc]");
	flow_table_free(t);
}

static void test_overlaps_first_wins(void **state)
{
	struct flow_table *t = table_default();
	const struct flow_stats *st = flow_table_stats(t);

	feed(t, 0, A, TCP_SYN, 0, NULL);
	put(t, 1, "abcd");      /* [0,4) delivered */
	put(t, 3, "XYef");      /* [2,4) already delivered: only "ef" is new */
	assert_int_equal(st->overlaps, 2);
	put(t, 11, "klmn");     /* [10,14) held */
	put(t, 9, "QRSTUVWX");  /* [8,16): [8,10) new, [10,14) held wins, [14,16) new */
	assert_int_equal(st->overlaps, 6);
	put(t, 7, "gh");        /* fills [6,8) */
	assert_stream(0, 0, "abcdefghQRklmnWX");
	put(t, 1, "ZZZZZZZZZZZZZZZZZ"); /* [0,17): all again and one new byte */
	assert_stream(0, 0, "abcdefghQRklmnWXZ");
	assert_int_equal(st->overlaps, 6 + 16);
	assert_int_equal(st->bytes, 17);
	/* A duplicate of held data is not held twice. */
	put(t, 21, "uv");
	put(t, 21, "UV");
	put(t, 20, "tUVw");
	assert_int_equal(st->overlaps, 6 + 16 + 2 + 2);
	assert_stream(0, 0, "abcdefghQRklmnWXZ");
	/* In order over held data: the held bytes are kept. */
	put(t, 18, "rsTUVWx");
	assert_stream(0, 0, "abcdefghQRklmnWXZrstuvwx");
	assert_int_equal(st->overlaps, 6 + 16 + 2 + 2 + 4);
	flow_table_free(t);
	assert_string_equal(logbuf, "o0 d0[abcd] d0[ef] d0[gh] d0[QR] d0[klmn] d0[WX] d0[Z] "
				    "d0[rs] d0[t] d0[uv] d0[w] d0[x] f0 f1 c0");
}

static void test_wraparound(void **state)
{
	struct flow_table *t = table_default();
	uint32_t isn = 0xfffffffau;  /* stream offset 0 is 0xfffffffb */

	feed(t, 0, A, TCP_SYN, isn, NULL);
	put(t, isn + 1, "01234");          /* 0xfffffffb..0xffffffff */
	put(t, isn + 10, "9abc");          /* past the wrap, held */
	put(t, 0xfffffffeu, "34567");      /* overlaps 2, crosses the wrap */
	put(t, isn + 9, "8");
	put(t, isn + 14, "defg");
	assert_stream(0, 0, "0123456789abcdefg");
	assert_int_equal(flow_table_stats(t)->overlaps, 2);
	/* Offsets keep growing through more wraps: five snapped segments of 2^30 - 1 bytes. */
	uint32_t seq = isn + 18;
	for (int k = 0; k < 5; k++) {
		struct segment s = mkseg(0, A, 0, seq, "x", 1);

		s.seg_len = (1u << 30) - 1;
		flow_segment(t, &s);
		seq += s.seg_len;
	}
	put(t, seq + 2, "yz");
	put(t, seq - 2, "..wx");
	assert_stream(0, 0, "0123456789abcdefgx#x#x#x#x#wxyz");
	assert_int_equal(rec[0]->total[0], 17 + 5 * ((1ull << 30) - 1) + 4);
	assert_int_equal(flow_table_stats(t)->overlaps, 2 + 2);
	flow_table_free(t);
}

static void test_wrap_out_of_order_first(void **state)
{
	struct flow_table *t = table_default();

	feed(t, 0, B, TCP_SYN | TCP_ACK, 0xfffffff0u, NULL);
	feed(t, 0, B, 0, 0x00000004u, "WRAP");        /* offset 19 */
	feed(t, 0, B, 0, 0xfffffffcu, "abcdefgh");    /* [11,19), across the wrap */
	feed(t, 0, B, 0, 0xfffffff1u, "0123456789A"); /* [0,11) */
	assert_stream(0, 0, "0123456789AabcdefghWRAP");
	flow_table_free(t);
}

static void test_mid_stream(void **state)
{
	struct flow_table *t = table_default();
	const struct flow_stats *st = flow_table_stats(t);

	/* Bare ACK, FIN and RST of unknown flows open nothing. */
	feed(t, 0, A, TCP_ACK, 5, NULL);
	feed(t, 0, A, TCP_ACK | TCP_FIN, 5, NULL);
	feed(t, 0, B, TCP_RST, 5, NULL);
	assert_int_equal(st->flows_created, 0);
	/* The server's data comes first: it is side 0, its first byte is stream start. */
	feed(t, 0, B, TCP_ACK, 700, "ponse body");
	feed(t, 0, B, TCP_ACK, 690, "old respon");  /* before the start: dropped */
	feed(t, 0, A, TCP_ACK, 300, NULL);          /* bare ACK: the client side does not start */
	feed(t, 0, A, TCP_ACK, 310, "GET");
	feed(t, 0, B, TCP_ACK, 710, "!");
	assert_int_equal(rec[0]->info.end[0].port, 80);
	assert_stream(0, 0, "ponse body!");
	assert_stream(0, 1, "GET");
	assert_int_equal(st->overlaps, 10);
	flow_table_free(t);
}

static void test_syn(void **state)
{
	struct flow_table *t = table_default();
	const struct flow_stats *st = flow_table_stats(t);
	struct segment s;

	feed(t, 0, A, TCP_SYN, 41, NULL);
	feed(t, 0, A, TCP_SYN, 41, NULL);            /* retransmitted SYN */
	feed(t, 0, B, TCP_SYN | TCP_ACK, 9, NULL);
	feed(t, 0, A, 0, 41, "X");                  /* the SYN's own sequence number: no data */
	feed(t, 0, A, 0, 42, "hi");
	assert_string_equal(logbuf, "o0 d0[hi]");
	assert_int_equal(st->flows_created, 1);
	/* SYN with data (TCP Fast Open): the data follows the SYN's sequence number. */
	s = mkseg(1, A, TCP_SYN, 500, "fast", 4);
	flow_segment(t, &s);
	feed(t, 1, A, 0, 505, "open");
	assert_stream(1, 0, "fastopen");
	/* A new SYN from the client with another ISN: the 4-tuple was reused. */
	feed(t, 0, A, TCP_SYN, 7000, NULL);
	feed(t, 0, A, 0, 7001, "new");
	assert_int_equal(rec[0]->closed, 1);
	assert_stream(2, 0, "new");
	assert_int_equal(st->flows_created, 3);
	flow_table_free(t);
	assert_string_equal(logbuf, "o0 d0[hi] o1 d0[fast] d0[open] f0 f1 c0 o2 d0[new] f0 f1 c1 "
				    "f0 f1 c2");
}

static void test_snapped(void **state)
{
	struct flow_table *t = table_default();
	const struct flow_stats *st = flow_table_stats(t);
	struct segment s;

	feed(t, 0, A, TCP_SYN, 0, NULL);
	s = mkseg(0, A, 0, 1, "abcdefgh", 3);
	s.seg_len = 8;                       /* [0,8), only "abc" captured */
	flow_segment(t, &s);
	put(t, 9, "ij");
	assert_string_equal(logbuf, "o0 d0[abc] g0[5] d0[ij]");
	/* Out of order: a snapped held segment, its missing tail ends as a gap in order. */
	s = mkseg(0, A, 0, 13, "mnopq", 2);
	s.seg_len = 5;                       /* [12,17): "mn" then 3 missing */
	flow_segment(t, &s);
	put(t, 18, "r");
	put(t, 12, "lmnXX");                 /* [11,16): "l" new, the rest held first */
	put(t, 11, "k");
	assert_stream(0, 0, "abc~~~~~ijklmn~~~r");
	assert_int_equal(st->gaps, 2);
	assert_int_equal(st->gap_bytes, 8);
	assert_int_equal(st->bytes, 10);
	/* A segment with nothing captured is all gap. */
	s = mkseg(0, A, 0, 19, "", 0);
	s.seg_len = 4;
	flow_segment(t, &s);
	assert_int_equal(st->flows_created, 1);
	assert_stream(0, 0, "abc~~~~~ijklmn~~~r~~~~");
	flow_table_free(t);
}

static void test_in_order_source(void **state)
{
	struct flow_limits lim = lim_default();
	struct flow_table *t;
	const struct flow_stats *st;

	lim.in_order_source = true;
	t = table(&lim);
	st = flow_table_stats(t);
	feed(t, 0, A, TCP_SYN, 0, NULL);
	put(t, 1, "ab");
	put(t, 6, "fg");   /* [2,5) were not copied: a gap at once */
	put(t, 3, "cde");  /* too late */
	put(t, 8, "h");
	assert_string_equal(logbuf, "o0 d0[ab] g0[3] d0[fg] d0[h]");
	assert_int_equal(st->gaps, 1);
	assert_int_equal(st->gap_bytes, 3);
	assert_int_equal(st->overlaps, 3);
	feed(t, 0, A, TCP_FIN, 12, NULL);  /* [8,11) not copied, then the FIN */
	assert_string_equal(logbuf, "o0 d0[ab] g0[3] d0[fg] d0[h] g0[3] f0");
	flow_table_free(t);
}

static void test_flow_buffer_limit(void **state)
{
	struct flow_limits lim = lim_default();
	struct flow_table *t;
	const struct flow_stats *st;

	char big[129], want[256];

	memset(big, 'Z', 128);
	big[128] = 0;
	lim.max_flow_buffer = (uint32_t)(2 * FLOW_HELD_COST(4));
	assert_true(FLOW_HELD_COST(128) > lim.max_flow_buffer);
	t = table(&lim);
	st = flow_table_stats(t);
	feed(t, 0, A, TCP_SYN, 0, NULL);
	put(t, 1, "ab");
	put(t, 5, "efgh");    /* held: one piece of 4 */
	put(t, 11, "klmn");   /* held: two, at the limit */
	assert_int_equal(rec[0]->len[0], 2);
	put(t, 16, "pq");     /* over: give up [2,4), deliver "efgh", hole [8,10) stays */
	assert_stream(0, 0, "ab~~efgh");
	assert_int_equal(st->buffer_drops, 1);
	put(t, 9, "ij");
	assert_stream(0, 0, "ab~~efghijklmn");
	/* Too large to hold even alone: "pq" after a gap, then a gap and the segment itself. */
	put(t, 30, big);
	snprintf(want, sizeof(want), "ab~~efghijklmn~pq~~~~~~~~~~~~%s", big);
	assert_stream(0, 0, want);
	assert_int_equal(st->buffer_drops, 2);
	assert_int_equal(st->gaps, 3);
	flow_table_free(t);
}

/* A capture of headers only: holes of nothing but missing bytes still count against limits. */
static void test_snapped_limit(void **state)
{
	struct flow_limits lim = lim_default();
	struct flow_table *t;
	struct segment s;

	lim.max_flow_buffer = (uint32_t)(2 * FLOW_HELD_COST(0));
	t = table(&lim);
	feed(t, 0, A, TCP_SYN, 0, NULL);
	for (uint32_t k = 1; k <= 3; k++) {
		s = mkseg(0, A, 0, 1 + 100 * k, "", 0);
		s.seg_len = 100;
		flow_segment(t, &s);
	}
	/* The third piece did not fit: [0,100) given up, the rest then in order. */
	assert_string_equal(logbuf, "o0 g0[100] g0[100] g0[100] g0[100]");
	assert_int_equal(flow_table_stats(t)->buffer_drops, 1);
	assert_int_equal(flow_table_stats(t)->gap_bytes, 400);
	flow_table_free(t);
}

static void test_total_buffer_limit(void **state)
{
	struct flow_limits lim = lim_default();
	struct flow_table *t;

	lim.max_total_buffer = 6 + 2 * FLOW_HELD_COST(0);
	t = table(&lim);
	feed(t, 0, A, TCP_SYN, 0, NULL);
	feed(t, 1, A, TCP_SYN, 0, NULL);
	feed(t, 0, A, 0, 3, "cd");     /* flow 0 holds 2 */
	feed(t, 1, A, 0, 3, "CDEF");   /* flow 1 holds 4: total 6 */
	feed(t, 1, A, 0, 9, "I");      /* 7 > 6: flow 1 gives up its hole */
	assert_stream(1, 0, "~~CDEF");
	feed(t, 0, A, 0, 1, "ab");
	assert_stream(0, 0, "abcd");
	assert_int_equal(flow_table_stats(t)->buffer_drops, 1);
	flow_table_free(t);
	assert_stream(1, 0, "~~CDEF~~I");
}

static void test_fin_order(void **state)
{
	struct flow_table *t = table_default();

	feed(t, 0, A, TCP_SYN, 0, NULL);
	put(t, 4, "def");
	put(t, 10, "after");                  /* held, then found to be past the FIN */
	feed(t, 0, A, TCP_FIN, 7, NULL);      /* FIN before "abc" arrived */
	put(t, 7, "late");                    /* past the FIN: ignored */
	assert_string_equal(logbuf, "o0");
	put(t, 1, "abc");
	assert_string_equal(logbuf, "o0 d0[abc] d0[def] f0");
	put(t, 4, "more");                    /* the side has ended */
	feed(t, 0, A, TCP_FIN, 11, NULL);
	assert_string_equal(logbuf, "o0 d0[abc] d0[def] f0");
	/* The server's FIN carries data and comes before the earlier data. */
	feed(t, 0, B, TCP_SYN | TCP_ACK, 100, NULL);
	feed(t, 0, B, TCP_FIN, 104, "XYZ");
	feed(t, 0, B, TCP_FIN, 104, "XYZ");   /* retransmitted */
	feed(t, 0, B, 0, 101, "UVW");
	assert_string_equal(logbuf, "o0 d0[abc] d0[def] f0 d1[UVW] d1[XYZ] f1 c0");
	assert_int_equal(flow_table_stats(t)->flows_active, 0);
	flow_table_free(t);
}

/* A bare ACK from the server of connection 0. */
static void ack(struct flow_table *t, uint32_t ack)
{
	struct segment s = mkseg(0, B, TCP_ACK, 1, NULL, 0);

	s.ack = ack;
	flow_segment(t, &s);
}

static void test_ack_above_hole(void **state)
{
	struct flow_table *t = table_default();

	feed(t, 0, A, TCP_SYN, 0, NULL);
	feed(t, 0, B, TCP_SYN | TCP_ACK, 0, NULL);
	put(t, 1, "GET ");
	put(t, 9, "HTTP");                 /* [4,8) lost in the capture */
	ack(t, 5);                          /* acknowledges only [0,4) */
	assert_string_equal(logbuf, "o0 d0[GET ]");
	ack(t, 13);                         /* the server got [4,8): it will never come */
	assert_string_equal(logbuf, "o0 d0[GET ] g0[4] d0[HTTP]");
	/* A FIN behind a hole ends once the peer acknowledges it. */
	feed(t, 0, A, TCP_FIN, 15, NULL);
	ack(t, 3);                          /* old */
	ack(t, 16);
	assert_string_equal(logbuf, "o0 d0[GET ] g0[4] d0[HTTP] g0[2] f0");
	flow_table_free(t);
}

static void test_rst(void **state)
{
	struct flow_table *t = table_default();

	feed(t, 0, A, TCP_SYN, 0, NULL);
	feed(t, 0, B, TCP_SYN | TCP_ACK, 50, NULL);
	put(t, 1, "ab");
	put(t, 5, "ef");
	feed(t, 0, B, 0, 51, "xy");
	feed(t, 0, B, TCP_RST, 53, NULL);
	assert_string_equal(logbuf, "o0 d0[ab] d1[xy] g0[2] d0[ef] f0 f1 c0");
	assert_int_equal(flow_table_stats(t)->flows_active, 0);
	/* Later segments without payload do not bring it back. */
	feed(t, 0, A, TCP_ACK, 7, NULL);
	feed(t, 0, A, TCP_RST, 7, NULL);
	assert_int_equal(flow_table_stats(t)->flows_created, 1);
	flow_table_free(t);
	assert_int_equal(nrec, 1);
}

static void test_eviction(void **state)
{
	struct flow_limits lim = lim_default();
	struct flow_table *t;
	const struct flow_stats *st;

	lim.max_flows = 2;
	t = table(&lim);
	st = flow_table_stats(t);
	feed(t, 0, A, 0, 10, "zero");
	feed(t, 1, A, 0, 10, "one");
	feed(t, 0, B, 0, 10, "back");   /* flow 0 is now the most recent */
	feed(t, 2, A, 0, 10, "two");    /* evicts flow 1 */
	assert_int_equal(st->flows_evicted, 1);
	assert_int_equal(st->flows_active, 2);
	assert_int_equal(rec[1]->closed, 1);
	assert_int_equal(rec[0]->closed, 0);
	feed(t, 3, A, 0, 10, "three");  /* evicts flow 0 */
	assert_int_equal(rec[0]->closed, 1);
	assert_int_equal(st->flows_evicted, 2);
	flow_table_free(t);
	assert_string_equal(logbuf, "o0 d0[zero] o1 d0[one] d1[back] f0 f1 c1 o2 d0[two] "
				    "f0 f1 c0 o3 d0[three] f0 f1 c2 f0 f1 c3");
}

/* Shedding ends the least recently active flows that hold memory, theirs or the consumer's. */
static void test_shed(void **state)
{
	struct flow_table *t = table_default();
	const struct flow_stats *st = flow_table_stats(t);

	feed(t, 0, A, TCP_SYN, 0, NULL);
	feed(t, 1, A, 0, 10, "one");
	feed(t, 2, A, 0, 10, "two");
	feed(t, 3, A, TCP_SYN, 0, NULL);
	feed(t, 0, A, 0, 3, "cd");      /* flow 0 holds out-of-order bytes */
	feed(t, 3, A, 0, 1, "x");       /* flow 3 holds nothing */
	consumer_held[1] = 100;         /* flows 1 and 2: the consumer holds memory */
	consumer_held[2] = 100;
	assert_int_equal(flow_table_held(t), FLOW_HELD_COST(2));
	/* Least recently active first: 1 (100 bytes) is enough. */
	assert_int_equal(flow_table_shed(t, 50), 100);
	assert_int_equal(rec[1]->closed, 1);
	assert_int_equal(rec[2]->closed + rec[0]->closed + rec[3]->closed, 0);
	/* Then 2, then 0 (its held bytes go out as the flow ends); 3 holds nothing. */
	assert_int_equal(flow_table_shed(t, 1000), 100 + FLOW_HELD_COST(2));
	assert_int_equal(rec[2]->closed + rec[0]->closed, 2);
	assert_int_equal(rec[3]->closed, 0);
	assert_int_equal(st->flows_shed, 3);
	assert_int_equal(flow_table_held(t), 0);
	assert_int_equal(flow_table_shed(t, 1), 0);
	flow_table_free(t);
}

/*
 * A connection ended at the memory limit comes back as itself: the flow opened for its next
 * segment is resumed (not counted as created) with what close() left, its client side as
 * the new flow numbers sides; a late copy of its old bytes is no new flow; a SYN on the same
 * ports is a new connection.
 */
static void test_shed_resume(void **state)
{
	struct flow_table *t = table_default();
	const struct flow_stats *st = flow_table_stats(t);

	feed(t, 0, A, TCP_SYN, 0, NULL);
	feed(t, 0, B, TCP_SYN | TCP_ACK, 0, NULL);
	feed(t, 0, A, 0, 1, "GET /a");
	consumer_held[0] = 100;
	assert_int_equal(flow_table_shed(t, 1), 100);
	assert_int_equal(st->flows_created, 1);
	feed(t, 0, A, 0, 4, "/a");          /* a late copy of old bytes */
	assert_int_equal(nrec, 1);
	feed(t, 0, B, 0, 1, "HTTP/1.1 200");  /* the server side first, now side 0 */
	assert_int_equal(nrec, 2);
	assert_true(rec[1]->info.resumed);
	assert_int_equal(rec[1]->info.resume.requests, 7);
	assert_int_equal(rec[1]->info.resume.owed, 2);
	assert_int_equal(rec[1]->info.resume.owed_head, 2);
	assert_int_equal(rec[1]->info.resume.client_side, 1);
	assert_int_equal(st->flows_created, 1);
	assert_int_equal(st->flows_resumed, 1);
	feed(t, 0, A, 0, 7, " HTTP/1.1");     /* the same flow, on */
	assert_int_equal(nrec, 2);
	assert_stream(1, 1, " HTTP/1.1");
	consumer_held[1] = 100;
	assert_int_equal(flow_table_shed(t, 1), 100);
	feed(t, 0, A, TCP_SYN, 1000, NULL);  /* the ports used again: a new connection */
	assert_int_equal(nrec, 3);
	assert_false(rec[2]->info.resumed);
	assert_int_equal(st->flows_created, 2);
	assert_int_equal(st->flows_resumed, 1);
	flow_table_free(t);
}

static void test_expire(void **state)
{
	struct flow_limits lim = lim_default();
	struct flow_table *t;
	const struct flow_stats *st;
	struct segment s;

	lim.idle_timeout_ns = 100;
	t = table(&lim);
	st = flow_table_stats(t);
	s = mkseg(0, A, 0, 1, "a", 1);
	s.ts_ns = 1000;
	flow_segment(t, &s);
	s = mkseg(1, A, 0, 1, "b", 1);
	s.ts_ns = 1050;
	flow_segment(t, &s);
	s = mkseg(1, A, 0, 4, "d", 1);  /* held until the flow ends */
	s.ts_ns = 1060;
	flow_segment(t, &s);
	flow_expire(t, 50);
	flow_expire(t, 1100);
	assert_int_equal(st->flows_expired, 0);
	flow_expire(t, 1101);
	assert_int_equal(st->flows_expired, 1);
	assert_int_equal(rec[0]->closed, 1);
	assert_int_equal(rec[1]->closed, 0);
	flow_expire(t, 1161);
	assert_int_equal(st->flows_expired, 2);
	assert_int_equal(st->flows_active, 0);
	assert_string_equal(logbuf, "o0 d0[a] o1 d0[b] f0 f1 c0 g0[2] d0[d] f0 f1 c1");
	assert_int_equal(rec[1]->last_ts[0], 1060);
	flow_table_free(t);
}

static void test_cookie_key(void **state)
{
	struct flow_table *t = table_default();
	struct segment s;

	/* Both ends of one loopback connection: same 4-tuple, one flow per socket. */
	s = mkseg(0, A, TCP_SYN, 10, NULL, 0);
	s.sock_cookie = 11;
	flow_segment(t, &s);
	s.sock_cookie = 22;
	s.dir = DIR_INGRESS;
	flow_segment(t, &s);
	s = mkseg(0, A, 0, 11, "req", 3);
	s.sock_cookie = 11;
	flow_segment(t, &s);
	s.sock_cookie = 22;
	flow_segment(t, &s);
	s = mkseg(0, B, 0, 50, "resp", 4);
	s.sock_cookie = 22;
	flow_segment(t, &s);
	assert_int_equal(flow_table_stats(t)->flows_created, 2);
	assert_int_equal(rec[0]->info.sock_cookie, 11);
	assert_int_equal(rec[1]->info.sock_cookie, 22);
	assert_stream(0, 0, "req");
	assert_stream(1, 0, "req");
	assert_stream(1, 1, "resp");
	assert_int_equal(rec[0]->len[1], 0);
	/* Other family, same address bytes: another flow. */
	s.family = 6;
	flow_segment(t, &s);
	assert_int_equal(flow_table_stats(t)->flows_created, 3);
	flow_table_free(t);
}

/* After both FINs (or a RST), a late retransmission is old bytes, not a new connection. */
static void test_late_retransmission(void **state)
{
	struct flow_limits lim = lim_default();
	struct flow_table *t;
	const struct flow_stats *st;

	lim.idle_timeout_ns = 100000;
	t = table(&lim);
	st = flow_table_stats(t);
	feed(t, 0, A, TCP_SYN, 1000, NULL);
	feed(t, 0, B, TCP_SYN | TCP_ACK, 5000, NULL);
	feed(t, 0, A, TCP_ACK, 1001, "GET /");
	feed(t, 0, B, TCP_ACK, 5001, "HTTP/1.1 200");
	feed(t, 0, A, TCP_ACK | TCP_FIN, 1006, NULL);
	feed(t, 0, B, TCP_ACK | TCP_FIN, 5013, NULL);
	feed(t, 0, B, TCP_ACK, 5001, "HTTP/1.1 200");  /* late */
	feed(t, 0, A, TCP_ACK, 1001, "GET /");
	assert_int_equal(st->flows_created, 1);
	assert_int_equal(st->overlaps, 17);
	/* Bytes past the end: the 4-tuple was reused, the SYN not seen. */
	feed(t, 0, A, TCP_ACK, 90000, "GET /b");
	assert_int_equal(st->flows_created, 2);
	/* A SYN is a new connection, whatever its sequence number. */
	feed(t, 1, A, TCP_SYN, 10, NULL);
	feed(t, 1, A, TCP_RST, 11, NULL);
	feed(t, 1, A, TCP_SYN, 10, NULL);
	feed(t, 1, A, 0, 11, "x");
	assert_int_equal(st->flows_created, 4);
	/* Remembered as long as an idle flow would be. */
	feed(t, 2, A, TCP_SYN, 10, NULL);
	feed(t, 2, A, 0, 11, "abc");
	feed(t, 2, A, TCP_RST, 14, NULL);
	flow_expire(t, now_ns + lim.idle_timeout_ns + 1);
	feed(t, 2, A, 0, 11, "abc");
	assert_int_equal(st->flows_created, 6);
	flow_table_free(t);
	assert_string_equal(logbuf, "o0 d0[GET /] d1[HTTP/1.1 200] f0 f1 c0 o1 d0[GET /b] o2 f0 f1 "
				    "c2 o3 d0[x] o4 d0[abc] f0 f1 c4 f0 f1 c1 f0 f1 c3 o5 d0[abc] "
				    "f0 f1 c5");
}

/* Equal 4-tuples in different zones (VLANs, VNIs, GRE keys) are different flows. */
static void test_zone_key(void **state)
{
	struct flow_table *t = table_default();
	struct segment s;

	for (uint64_t z = 0; z < 3; z++) {
		s = mkseg(0, A, 0, 1, "abc", 3);
		s.zone = z;
		flow_segment(t, &s);
	}
	s = mkseg(0, B, 0, 7, "back", 4);
	s.zone = 2;
	flow_segment(t, &s);
	assert_int_equal(flow_table_stats(t)->flows_created, 3);
	assert_int_equal(rec[2]->info.zone, 2);
	assert_stream(2, 1, "back");
	assert_int_equal(rec[1]->len[1], 0);
	flow_table_free(t);
}

static void test_free_closes_all(void **state)
{
	struct flow_table *t = table_default();
	const struct flow_stats *st = flow_table_stats(t);

	feed(t, 0, A, TCP_SYN, 0, NULL);
	put(t, 1, "ab");
	put(t, 5, "ef");
	put(t, 9, "ij");
	feed(t, 1, B, 0, 100, "srv");
	feed(t, 1, B, TCP_FIN, 106, NULL);    /* FIN after a hole */
	feed(t, 2, A, TCP_SYN, 0, NULL);
	feed(t, 2, A, TCP_FIN, 1, NULL);      /* fin already given */
	assert_int_equal(st->flows_active, 3);
	flow_table_free(t);
	assert_string_equal(logbuf, "o0 d0[ab] o1 d0[srv] o2 f0 g0[2] d0[ef] g0[2] d0[ij] f0 f1 c0 "
				    "g0[3] f0 f1 c1 f1 c2");
}

static void test_many_flows(void **state)
{
	struct flow_table *t = table_default();
	char b[2] = "x";

	quiet = true;
	for (int i = 0; i < 3000; i++)
		feed(t, i, A, 0, 1, b);
	for (int i = 0; i < 3000; i++)
		feed(t, i, B, 0, 1, b);
	assert_int_equal(flow_table_stats(t)->flows_created, 3000);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(rec[i]->len[1], 1);
	/* Newest first: flows leave from the middle of hash chains, the rest stay found. */
	for (int i = 2999; i >= 0; i -= 2)
		feed(t, i, B, TCP_RST, 2, NULL);
	assert_int_equal(flow_table_stats(t)->flows_active, 1500);
	for (int i = 0; i < 3000; i++) {
		feed(t, i, A, 0, 2, b);
		assert_int_equal(rec[i]->closed, i % 2);
		assert_int_equal(rec[i]->len[0], 1 + (i % 2 == 0));
	}
	assert_int_equal(flow_table_stats(t)->flows_created, 4500);
	flow_table_free(t);
}

/* Loopback: both ends on one address, told apart by port; each direction finds the flow. */
static void test_same_address(void **state)
{
	struct flow_table *t = table_default();
	struct endpoint lo1 = { .addr = { 127, 0, 0, 1 }, .port = 5000 };
	struct endpoint lo2 = { .addr = { 127, 0, 0, 1 }, .port = 80 };
	struct segment s = mkseg(0, A, 0, 1, "ping", 4);

	s.src = lo1;
	s.dst = lo2;
	flow_segment(t, &s);
	s = mkseg(0, B, 0, 9, "pong", 4);
	s.src = lo2;
	s.dst = lo1;
	flow_segment(t, &s);
	s.src.port = 81;
	flow_segment(t, &s);
	assert_int_equal(flow_table_stats(t)->flows_created, 2);
	assert_stream(0, 0, "ping");
	assert_stream(0, 1, "pong");
	assert_int_equal(rec[0]->info.end[0].port, 5000);
	flow_table_free(t);
}

/* A random stream cut into random segments, shuffled, partly duplicated, fed offline. */
static uint64_t random_run(unsigned seed, bool limits)
{
	struct flow_limits lim = lim_default();
	enum { LEN = 20000, MAXSEG = 1500 };
	static uint8_t data[LEN];
	static struct segment segs[2 * LEN];
	uint32_t isn = (uint32_t)rand_r(&seed) * 2654435761u;
	size_t n = 0, off = 0;
	struct flow_table *t;
	uint64_t drops;
	int id = nrec;

	if (limits)
		lim.max_flow_buffer = 3000;
	for (size_t i = 0; i < LEN; i++)
		data[i] = (uint8_t)rand_r(&seed);
	while (off < LEN) {
		size_t len = 1 + (size_t)rand_r(&seed) % MAXSEG;

		if (len > LEN - off)
			len = LEN - off;
		segs[n++] = mkseg(0, A, 0, isn + (uint32_t)off, data + off, (uint32_t)len);
		if (rand_r(&seed) % 4 == 0) {
			size_t d = (size_t)rand_r(&seed) % (off + 1);
			uint32_t dlen = (uint32_t)(off + len - d);

			segs[n++] = mkseg(0, A, 0, isn + (uint32_t)d, data + d, dlen);
		}
		off += len;
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)rand_r(&seed) % (i + 1);
		struct segment tmp = segs[i];

		segs[i] = segs[j];
		segs[j] = tmp;
	}
	t = table(&lim);
	{
		struct segment syn = mkseg(0, A, TCP_SYN, isn - 1, NULL, 0);

		flow_segment(t, &syn);
	}
	for (size_t i = 0; i < n; i++)
		flow_segment(t, &segs[i]);
	assert_true(flow_table_stats(t)->bytes <= LEN);
	if (!limits) {
		assert_int_equal(rec[id]->len[0], LEN);
		assert_memory_equal(rec[id]->stream[0], data, LEN);
		assert_int_equal(flow_table_stats(t)->gaps, 0);
	}
	drops = flow_table_stats(t)->buffer_drops;
	flow_table_free(t);
	/* With limits some holes are given up: the rest is in place, the length exact. */
	assert_int_equal(rec[id]->len[0], LEN);
	for (size_t i = 0; i < LEN; i++)
		if (rec[id]->stream[0][i] != '~' || data[i] == '~')
			assert_int_equal(rec[id]->stream[0][i], data[i]);
	return drops;
}

static void test_random(void **state)
{
	uint64_t drops = 0;

	quiet = true;
	for (unsigned seed = 1; seed <= 40; seed++) {
		assert_int_equal(random_run(seed, false), 0);
		drops += random_run(seed, true);
	}
	assert_true(drops > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packet_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlaps_first_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_out_of_order_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mid_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_order_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_buffer_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapped_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_total_buffer_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_above_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shed_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_retransmission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_closes_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
