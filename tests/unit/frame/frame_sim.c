/*
 * The kernel's framer without a kernel: what httpeek.bpf.c does per packet (follow a
 * direction from its first byte, frame it, copy the marked ranges) replayed in user space,
 * and a generator of random HTTP/1.x conversations to feed it. See frame_sim.h.
 */
#define _GNU_SOURCE
#include <linux/types.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/dlt.h>
#include "frame_sim.h"
#include "output/event.h"
#include "pipeline/pipeline.h"
#include "record.h"

struct sim_src {
	const uint8_t *p;
	uint32_t len;
};

#include "frame/frame.h"

#define HDR 40   /* IPv4 and TCP headers, no options */

/* One step of a pass, reading the packet as bpf_skb_load_bytes() would. */
static int sim_step(struct frame_scan *s, struct frame_conn *c, const struct sim_src *src)
{
	uint32_t n = frame_need(s), off = s->off + s->pos;

	if (n) {
		if (off > src->len || n > src->len - off) {
			frame_unreadable(s);
			return 1;
		}
		memcpy(s->buf, src->p + off, n);
		frame_loaded(s, n);
	}
	return frame_step(s, c);
}

/* One direction as the kernel keeps it (struct dir_state). */
struct sim_dir {
	struct frame_dir f;
	struct frame_seq q;
};

/* The kernel's state for the client's socket: [1] what it sends, [0] what it receives. */
struct sim_kernel {
	bool storage;
	struct sim_dir d[2];
	struct frame_conn conn;
};

/* A TCP segment as both views see it. */
struct sim_seg {
	int side;
	uint32_t seq;
	const uint8_t *payload;
	uint32_t len;
	bool fin;
};

#define REORDER 8  /* segments of a write that may be reordered or repeated */

/* Both views of the connection: whole packets and the kernel's copies. */
struct sim {
	const struct sim_options *opt;
	struct sim_kernel k;
	struct pipeline *pipe[2];  /* [0] whole, [1] framed */
	struct event_writer *w[2];
	FILE *out[2];
	size_t out_len[2];
	struct sim_result *res;
	uint64_t ts;
	uint32_t isn[2];           /* sequence number of each side's first byte */
	uint32_t seq[2];           /* of each side's next new byte */
	uint32_t sent_max[2];      /* past the highest byte sent */
	bool started[2];           /* a side's first byte went by */
	uint64_t rng;
};

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(next_rand(s) % n) : 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* IPv4 and TCP headers of a segment from side with plen payload bytes. */
static void headers(uint8_t *h, int side, uint32_t seq, uint32_t ack, uint8_t flags,
		    uint32_t plen)
{
	uint32_t total = HDR + plen;

	memset(h, 0, HDR);
	h[0] = 0x45;
	h[2] = (uint8_t)(total >> 8);
	h[3] = (uint8_t)total;
	h[8] = 64;
	h[9] = 6;
	h[12] = 10;
	h[15] = side ? 2 : 1;
	h[16] = 10;
	h[19] = side ? 1 : 2;
	h[20] = side ? 0 : 0x9c;   /* client port 40000, server port 80 */
	h[21] = side ? 80 : 0x40;
	h[22] = side ? 0x9c : 0;
	h[23] = side ? 0x40 : 80;
	put32(h + 24, seq);
	put32(h + 28, ack);
	h[32] = 5 << 4;
	h[33] = flags;
}

static void feed(struct sim *sim, int view, const uint8_t *data, uint32_t caplen,
		 uint32_t wirelen, uint32_t off, uint32_t span, uint8_t flags)
{
	struct packet pkt = {
		.ts_ns = sim->ts,
		.data = data,
		.caplen = caplen,
		.wirelen = wirelen,
		.linktype = DLT_RAW,
		.payload_off = off,
		.payload_span = span,
		.flags = flags,
	};

	pipeline_packet(sim->pipe[view], &pkt);
}

/* A kernel copy of payload [lo, hi) of the packet, standing for [lo, end). */
static void copy(struct sim *sim, const uint8_t *pkt, uint32_t plen, uint32_t lo, uint32_t hi,
		 uint32_t end, uint8_t flags)
{
	uint8_t *c = malloc(HDR + (hi - lo) + 1);

	if (!c)
		return;
	memcpy(c, pkt, HDR);
	memcpy(c + HDR, pkt + HDR + lo, hi - lo);
	feed(sim, 1, c, HDR + (hi - lo), HDR + plen, lo, end - lo, flags);
	sim->res->copies++;
	sim->res->copied_bytes += hi - lo;
	if (flags & REC_F_WHOLE)
		sim->res->whole_copies++;
	free(c);
}

static void follow_from(struct sim_dir *sd, uint32_t seq, bool joined)
{
	memset(sd, 0, sizeof(*sd));
	frame_head_begin(&sd->f);
	sd->f.flags = joined ? F_JOINED : 0;
	frame_seq_init(&sd->q, seq);
}

/* The bytes starts_message() in httpeek.bpf.c loads of a payload of n bytes. */
static uint32_t probe_len(uint32_t n)
{
	return n < HTTP_START_PROBE ? n : HTTP_START_PROBE;
}

/* Mirrors sync(): may the kernel start following direction di with this segment? */
static bool may_start(const struct sim_seg *g)
{
	uint8_t c = g->payload[0];

	return http_is_tchar(c) || c == '\r' || c == '\n';
}

/* Mirrors sync(); a side is fresh until its first byte went by in order. */
static bool sim_sync(struct sim *sim, const struct sim_seg *g, int di)
{
	struct sim_kernel *k = &sim->k;
	bool fresh = !sim->started[g->side];

	if (fresh && g->seq == sim->isn[g->side] && !may_start(g)) {
		sim->res->ignored = 1;  /* its first bytes are not HTTP */
		return false;
	}
	if (!fresh && !(may_start(g) && http_starts_message(g->payload, probe_len(g->len))))
		return false;
	if (!k->storage) {
		k->storage = true;
		if (!sim->started[!g->side])
			follow_from(&k->d[di ^ 1], sim->isn[!g->side], false);
	}
	follow_from(&k->d[di], fresh ? sim->isn[g->side] : g->seq, !fresh);
	sim->res->joined |= !fresh;
	return true;
}

static bool followed(const struct sim_dir *sd)
{
	return sd->f.mode != D_UNSYNCED && sd->f.mode != D_IGNORE;
}

/* Mirrors copy_end(): a header-only copy for FIN or RST on a socket that carries HTTP. */
static void sim_end(struct sim *sim, const uint8_t *pkt, const struct sim_seg *g)
{
	if (g->fin && (followed(&sim->k.d[0]) || followed(&sim->k.d[1])))
		copy(sim, pkt, g->len, g->len, g->len, g->len, 0);
}

/* Mirrors frame_packet(): frames payload [from, *limit) and copies the marked ranges. */
static int sim_frame(struct sim *sim, int di, const uint8_t *pkt, const struct sim_seg *g,
		     uint32_t from, uint32_t *limit)
{
	struct sim_kernel *k = &sim->k;
	struct sim_dir *sd = &k->d[di];
	struct sim_src src = { pkt, HDR + g->len };
	struct frame_scan s;

	memset(&s, 0, sizeof(s));
	frame_scan_init(&s, &sd->f, HDR, from, *limit);
	s.max_head = sim->opt->max_head;
	s.body_bytes = sim->opt->body_bytes;
	s.dir = (uint8_t)di;
	for (int i = 0; i < FRAME_STEPS_MAX && !sim_step(&s, &k->conn, &src); i++)
		;
	frame_pass_done(&s, &k->conn);
	sd->f = s.d;
	*limit = s.limit;
	if ((s.d.mode == D_IGNORE || s.d.mode == D_UNSYNCED) && !(s.d.flags & F_PROVEN))
		s.nr = 0;
	sim->res->ignored |= s.d.mode == D_IGNORE;  /* not HTTP, or HTTP/2 */
	for (uint32_t i = 0; i < s.nr; i++)
		copy(sim, pkt, g->len, s.r[i].lo, s.r[i].hi,
		     i + 1 < s.nr ? s.r[i + 1].lo : s.limit, (uint8_t)s.r[i].flags);
	if (!s.nr && s.limit == g->len)
		sim_end(sim, pkt, g);
	return (int)s.nr;
}

/* Mirrors follow(): one packet with payload of a followed direction. */
static void sim_follow(struct sim *sim, int di, const uint8_t *pkt, const struct sim_seg *g)
{
	struct sim_kernel *k = &sim->k;
	struct sim_dir *sd = &k->d[di];
	struct frame_plan pl;
	uint32_t tail;
	int nr, mark;

	if (k->conn.tunnel[di])
		sd->f.mode = D_TUNNEL;
	frame_plan(&sd->q, &sd->f, g->seq, g->len, &pl);
	if (pl.act == ACT_NONE) {
		sim_end(sim, pkt, g);
		return;
	}
	if (pl.act == ACT_WHOLE) {
		copy(sim, pkt, g->len, pl.from, g->len, g->len,
		     REC_F_WHOLE | (pl.early ? REC_F_EARLY : 0));
		return;
	}
	nr = sim_frame(sim, di, pkt, g, pl.from, &pl.limit);
	tail = frame_after(&sd->q, &sd->f, g->seq, g->len, pl.limit, nr > 0, &mark);
	if (mark)
		copy(sim, pkt, g->len, pl.limit - 1, pl.limit - 1, pl.limit, 0);
	if (tail < g->len)
		copy(sim, pkt, g->len, tail, g->len, g->len, REC_F_WHOLE);
}

/* One segment: whole to the first view, as the kernel copies it to the second. */
static void segment(struct sim *sim, const struct sim_seg *g)
{
	struct sim_kernel *k = &sim->k;
	int di = g->side ? 0 : 1;
	uint8_t *pkt = malloc(HDR + g->len + 1);

	if (!pkt)
		return;
	headers(pkt, g->side, g->seq, sim->sent_max[!g->side], 0x18 | (g->fin ? 1 : 0), g->len);
	if (g->len)
		memcpy(pkt + HDR, g->payload, g->len);
	sim->ts += 1000;
	feed(sim, 0, pkt, HDR + g->len, HDR + g->len, 0, 0, 0);
	sim->res->packets++;
	sim->res->payload_bytes += g->len;
	if (!g->len) {
		if (k->storage && g->fin && (followed(&k->d[0]) || followed(&k->d[1])))
			feed(sim, 1, pkt, HDR, HDR, 0, 0, 0);
	} else if ((k->storage && k->d[di].f.mode != D_UNSYNCED) || sim_sync(sim, g, di)) {
		sim_follow(sim, di, pkt, g);
		if (k->d[di].f.mode == D_WHOLE)
			k->conn.kinds_lost = 1;
	}
	if ((int32_t)(g->seq + g->len - sim->sent_max[g->side]) > 0)
		sim->sent_max[g->side] = g->seq + g->len;
	sim->started[g->side] |= g->seq == sim->isn[g->side] && g->len;
	free(pkt);
}

/* A segment size: often the MSS, sometimes a few bytes or anything between (mss 0: all). */
static uint32_t segment_size(struct sim *sim)
{
	if (!sim->opt->mss)
		return UINT32_MAX;
	switch (below(&sim->rng, 4)) {
	case 0:
		return 1 + below(&sim->rng, 8);
	case 1:
		return 1 + below(&sim->rng, sim->opt->mss);
	default:
		return sim->opt->mss;
	}
}

/* Sends up to REORDER segments, some swapped or sent twice when the options ask. */
static void send_batch(struct sim *sim, struct sim_seg *g, int n)
{
	for (int i = 0; i + 1 < n; i++)
		if (below(&sim->rng, 100) < sim->opt->reorder) {
			struct sim_seg t = g[i];

			g[i] = g[i + 1];
			g[i + 1] = t;
		}
	for (int i = 0; i < n; i++) {
		segment(sim, &g[i]);
		if (below(&sim->rng, 100) < sim->opt->reorder / 2)
			segment(sim, &g[below(&sim->rng, (uint32_t)i + 1)]);
	}
}

/* Cuts a write into segments and sends them. */
static void write_out(struct sim *sim, const struct sim_write *w)
{
	struct sim_seg batch[REORDER];
	size_t off = 0;
	int n = 0;

	while (off < w->len) {
		uint32_t len = segment_size(sim);

		if (len > w->len - off)
			len = (uint32_t)(w->len - off);
		batch[n++] = (struct sim_seg){ w->side, sim->seq[w->side], w->bytes + off, len, false };
		sim->seq[w->side] += len;
		off += len;
		if (n == REORDER) {
			send_batch(sim, batch, n);
			n = 0;
		}
	}
	send_batch(sim, batch, n);
}

/* The handshake, which only a capture has (the kernel programs copy no SYN). */
static void handshake(struct sim *sim)
{
	uint8_t h[HDR];

	for (int side = 0; side < 2; side++) {
		headers(h, side, sim->isn[side] - 1, side ? sim->isn[0] : 0, side ? 0x12 : 0x02, 0);
		sim->ts += 1000;
		feed(sim, 0, h, HDR, HDR, 0, 0, 0);
	}
}

/* Both sides end with a FIN. */
static void finish(struct sim *sim)
{
	for (int side = 0; side < 2; side++) {
		struct sim_seg fin = { side, sim->seq[side], NULL, 0, true };

		segment(sim, &fin);
		sim->seq[side]++;
	}
}

static int open_view(struct sim *sim, int view)
{
	struct event_options eo = {
		.format = OUTPUT_JSON,
		.types = EVENT_HTTP | EVENT_HTTP_REQUEST | EVENT_HTTP_RESPONSE | EVENT_FLOW_HTTP,
	};
	struct pipeline_options po = {
		.flow = { .max_flows = 16, .max_flow_buffer = 1u << 20,
			  .max_total_buffer = 16u << 20, .idle_timeout_ns = 300000000000ull,
			  .in_order_source = view == 1 },
		.http = { .max_head = sim->opt->max_head, .max_fields = 512,
			  .opaque_tunnels = true },  /* as the framer: tunnels not looked into */
	};
	char **buf = view ? &sim->res->framed : &sim->res->whole;

	sim->out[view] = open_memstream(buf, &sim->out_len[view]);
	sim->w[view] = sim->out[view] ? event_writer_new(sim->out[view], &eo) : NULL;
	sim->pipe[view] = sim->w[view] ? pipeline_new(&po, sim->w[view]) : NULL;
	return sim->pipe[view] ? 0 : -1;
}

static void close_view(struct sim *sim, int view)
{
	pipeline_free(sim->pipe[view]);
	if (sim->w[view])
		event_writer_free(sim->w[view]);
	if (sim->out[view])
		fclose(sim->out[view]);
}

int sim_run(const struct sim_write *w, size_t n, const struct sim_options *opt,
	    struct sim_result *res)
{
	struct sim sim = { .opt = opt, .res = res, .ts = 1000000000ull,
			   .isn = { 1000, 500000 }, .seq = { 1000, 500000 },
			   .sent_max = { 1000, 500000 }, .rng = opt->seed | 1 };
	int err = 0;

	memset(res, 0, sizeof(*res));
	for (int v = 0; v < 2 && !err; v++)
		err = open_view(&sim, v);
	if (!err)
		handshake(&sim);
	for (size_t i = 0; i < n && !err; i++)
		write_out(&sim, &w[i]);
	if (!err)
		finish(&sim);
	for (int v = 0; v < 2; v++)
		close_view(&sim, v);
	if (err || !res->whole || !res->framed)
		return -1;
	return strcmp(res->whole, res->framed) ? 1 : 0;
}

void sim_result_free(struct sim_result *res)
{
	free(res->whole);
	free(res->framed);
	res->whole = res->framed = NULL;
}
