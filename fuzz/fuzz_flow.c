/*
 * libFuzzer target for the flow stage: the input is a list of segments on a few flows, with
 * small limits so that eviction, expiry and buffer limits are hit. Every payload byte is a
 * function of its sequence number and sender, so the consumer checks that what comes out is
 * in order, never more than was sent, and that the callbacks keep their contract.
 *
 * clang -g -fsanitize=fuzzer,address,undefined -Isrc fuzz/fuzz_flow.c src/flow*.c -o fuzz_flow
 */
#include <stdlib.h>
#include <string.h>
#include "flow/internal.h"

#define NCONN 4
#define SERVER_PORT 80

struct fz_side {
	uint64_t pos;       /* data and gap bytes so far */
	uint64_t data;      /* data bytes so far */
	int have_base;
	uint8_t base;       /* low byte of the sequence number at pos 0 */
	int fin;
};

struct fz_flow {
	const uint64_t *sent[2];  /* payload bytes ever sent by each end on this key */
	uint8_t key[2];           /* payload xor of each end */
	struct fz_side side[2];
	int closed;
};

struct fz_ctx {
	uint64_t sent[NCONN][2][2];  /* [conn][cookie][sender is server] */
	uint64_t opens, closes, delivered, gap_bytes;
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static void *fz_open(void *ctx, const struct flow_info *info)
{
	struct fz_ctx *c = ctx;
	struct fz_flow *f = calloc(1, sizeof(*f));
	int side;

	check(f != NULL);
	for (side = 0; side < 2; side++) {
		const struct endpoint *e = &info->end[side], *peer = &info->end[!side];
		int server = e->port == SERVER_PORT;
		uint16_t cport = server ? peer->port : e->port;

		check(cport >= 1000 && cport < 1000 + NCONN && info->sock_cookie < 2);
		f->sent[side] = &c->sent[cport - 1000][info->sock_cookie][server];
		f->key[side] = (uint8_t)e->port;
	}
	c->opens++;
	return f;
}

static void fz_data(void *ctx, void *user, int side, const uint8_t *bytes, uint32_t len,
		    const struct flow_chunk_meta *meta)
{
	struct fz_ctx *c = ctx;
	struct fz_flow *f = user;
	struct fz_side *s = &f->side[side];
	uint32_t i;

	check(len > 0 && !s->fin && !f->closed);
	if (!s->have_base) {
		s->base = (uint8_t)((bytes[0] ^ f->key[side]) - s->pos);
		s->have_base = 1;
	}
	for (i = 0; i < len; i++)
		check((uint8_t)(bytes[i] ^ f->key[side]) == (uint8_t)(s->base + s->pos + i));
	s->pos += len;
	s->data += len;
	c->delivered += len;
	check(s->data <= *f->sent[side]);
}

static void fz_gap(void *ctx, void *user, int side, uint32_t len)
{
	struct fz_ctx *c = ctx;
	struct fz_flow *f = user;

	check(len > 0 && !f->side[side].fin && !f->closed);
	f->side[side].pos += len;
	c->gap_bytes += len;
}

static void fz_fin(void *ctx, void *user, int side)
{
	struct fz_flow *f = user;

	check(!f->side[side].fin && !f->closed);
	f->side[side].fin = 1;
}

static void fz_close(void *ctx, void *user, struct flow_resume *keep)
{
	struct fz_ctx *c = ctx;
	struct fz_flow *f = user;

	check(!f->closed);
	c->closes++;
	free(f);
}

static const struct flow_callbacks fz_cbs = { fz_open, fz_data, fz_gap, fz_fin, fz_close };

static void check_memory(const struct flow_table *t)
{
	const struct flow *f;
	uint64_t total = 0;
	int side;

	for (f = t->lru_head; f; f = f->lru_next) {
		for (side = 0; side < 2; side++) {
			const struct flow_side *sd = &f->side[side];
			const struct flow_held *h;
			uint64_t sum = 0, end = sd->next;

			for (h = sd->held; h; h = h->next) {
				check(h == sd->held ? h->off > sd->next : h->off >= end);
				check(h->len <= h->span);
				end = h->off + h->span;
				sum += FLOW_HELD_COST(h->len);
			}
			check(sum == sd->held_bytes && sum <= t->lim.max_flow_buffer);
			total += sum;
		}
	}
	check(total == t->held_total && total <= t->lim.max_total_buffer);
}

/* Seq state of each end of each key: the next sequence number it would send. */
static uint32_t seqs[NCONN][2][2];

static void fz_segment(struct flow_table *t, struct fz_ctx *c, const uint8_t *op, uint64_t ts)
{
	static uint8_t buf[256];
	struct segment s = { .ts_ns = ts, .family = 4 };
	int conn = op[0] % NCONN, cookie = (op[0] >> 2) & 1, server = (op[0] >> 3) & 1;
	uint32_t *seq = &seqs[conn][cookie][server];
	uint32_t i, len = op[4] % 64, start;
	struct endpoint cl = { .addr = { 10, 0, 0, 1 }, .port = (uint16_t)(1000 + conn) };
	struct endpoint sv = { .addr = { 10, 0, 0, 2 }, .port = SERVER_PORT };
	uint8_t key = (uint8_t)(server ? sv.port : cl.port);

	s.sock_cookie = (uint64_t)cookie;
	s.src = server ? sv : cl;
	s.dst = server ? cl : sv;
	s.tcp_flags = op[1] & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK | TCP_PSH);
	s.dir = server ? DIR_INGRESS : DIR_EGRESS;
	/* Mostly near the sender's next byte: retransmissions, holes and reordering. */
	s.seq = *seq + (uint32_t)(int32_t)(int8_t)op[2] * (op[1] & 0x80 ? 997u : 1u);
	s.ack = seqs[conn][cookie][!server] + (uint32_t)(int32_t)(int8_t)op[3];
	start = s.seq + !!(s.tcp_flags & TCP_SYN);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(start + i) ^ key;
	s.payload = buf;
	s.payload_len = len;
	s.seg_len = len + (op[5] & 0x40 ? op[5] % 32 : 0);
	if (op[5] & 0x80)
		*seq = start + s.seg_len;
	c->sent[conn][cookie][server] += len;
	flow_segment(t, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_ctx c = { 0 };
	struct flow_limits lim = { 0 };
	struct flow_table *t;
	uint64_t ts = 1000;
	size_t i;

	if (size < 4)
		return 0;
	lim.max_flows = 1 + data[0] % 4;
	lim.max_flow_buffer = (uint32_t)data[1] * 2;
	lim.max_total_buffer = (uint64_t)data[2] * 4;
	lim.idle_timeout_ns = 50;
	lim.in_order_source = data[3] & 1;
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0][0][0]); i++)
		((uint32_t *)seqs)[i] = 0xffffff00u + (uint32_t)(data[3] >> 1) + (uint32_t)i * 16;
	t = flow_table_new(&lim, &fz_cbs, &c);
	if (!t)
		return 0;
	for (i = 4; i + 6 <= size; i += 6) {
		const uint8_t *op = data + i;

		ts += op[5] & 0x20 ? 20 : 1;
		if ((op[1] & 0x60) == 0x60)
			flow_expire(t, ts);
		else
			fz_segment(t, &c, op, ts);
		check_memory(t);
		check(flow_table_stats(t)->flows_active <= lim.max_flows);
		check(flow_table_stats(t)->flows_active == c.opens - c.closes);
		check(flow_table_stats(t)->bytes == c.delivered);
		check(flow_table_stats(t)->gap_bytes == c.gap_bytes);
	}
	flow_table_free(t);
	check(c.opens == c.closes);
	return 0;
}
