/*
 * One connection as whole packets and as the kernel's copies (twin.c) of the same packets,
 * both through the pipeline. See frame_sim.h.
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
#include "twin.h"

#define HDR 40   /* IPv4 and TCP headers, no options */

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
	struct twin_sock k;
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

/* A kernel record of the packet: its headers and the copied payload, as the pipeline gets it. */
static void copy(struct sim *sim, const uint8_t *pkt, uint32_t plen, const struct twin_copy *c)
{
	uint8_t *p = malloc(HDR + c->n + 1);

	if (!p)
		return;
	memcpy(p, pkt, HDR);
	memcpy(p + HDR, pkt + HDR + c->lo, c->n);
	feed(sim, 1, p, HDR + c->n, HDR + plen, c->lo, c->span, c->flags);
	sim->res->copies++;
	sim->res->copied_bytes += c->n;
	if (c->flags & REC_F_WHOLE)
		sim->res->whole_copies++;
	free(p);
}

/* The kernel's view of a segment at the client's socket: the TCP facts stream_start() reads
 * there (a side is fresh until its first byte went by in order), then handle(). */
static void kernel(struct sim *sim, const uint8_t *pkt, const struct sim_seg *g)
{
	const struct twin_knobs kn = { sim->opt->max_head, sim->opt->body_bytes };
	struct twin_packet tp = { .bytes = pkt, .hl = HDR, .plen = g->len, .seq = g->seq,
				  .tcp_flags = g->fin ? 0x11 : 0x18,
				  .dir = g->side ? REC_DIR_INGRESS : REC_DIR_EGRESS };
	struct twin_facts f = { .self_fresh = !sim->started[g->side], .self_first = sim->isn[g->side],
				.other_fresh = !sim->started[!g->side],
				.other_first = sim->isn[!g->side] };
	struct twin_result r;

	twin_packet(&sim->k, &kn, &tp, &f, &r);
	sim->res->ignored |= r.ignored;
	sim->res->ignored_side[g->side] |= r.not_http;
	sim->res->joined |= r.joined;
	sim->res->h2_blocks += r.h2_blocks;
	for (int i = 0; i < r.n; i++)
		copy(sim, pkt, g->len, &r.copy[i]);
}

/* One segment: whole to the first view, as the kernel copies it to the second. */
static void segment(struct sim *sim, const struct sim_seg *g)
{
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
	kernel(sim, pkt, g);
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
		uint32_t len = sim->opt->first_whole && sim->seq[w->side] == sim->isn[w->side]
				       ? (uint32_t)w->len : segment_size(sim);

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
