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
#include "event.h"
#include "pipeline.h"
#include "record.h"

struct sim_src {
	const uint8_t *p;
	uint32_t len;
};

static int sim_load(const struct sim_src *src, uint32_t off, void *dst, uint64_t len)
{
	if (off > src->len || len > src->len - off)
		return -1;
	memcpy(dst, src->p + off, len);
	return 0;
}

#define FRAME_SRC const struct sim_src *
#define FRAME_LOAD(src, off, dst, len) sim_load(src, off, dst, len)
#include "../../bpf/frame.h"

#define HDR 40   /* IPv4 and TCP headers, no options */
#define START_PROBE 24

/* The kernel's state for the client's socket: [1] what it sends, [0] what it receives. */
struct sim_kernel {
	bool storage;
	struct frame_dir d[2];
	struct frame_conn conn;
	uint64_t sent[2];          /* bytes each side sent so far */
};

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
	uint32_t seq[2];
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

/* Mirrors starts_message() in httpeek.bpf.c. */
static bool starts_message(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0, t = 0, http = 1;

	if (n > START_PROBE)
		n = START_PROBE;
	for (uint32_t k = 0; k < n; k++) {
		uint8_t c = p[k];

		if (t == 0 && i < 4 && (c == '\r' || c == '\n')) {
			i++;
			continue;
		}
		if (http && t == 4 && c == '/')
			return true;
		if (t < 4 && frame_lower(c) != (uint8_t)(0x70747468u >> (t * 8)))
			http = 0;
		if (c == ' ')
			return t > 0;
		if (!frame_is_tchar(c) || t >= FRAME_TOKEN_MAX)
			return false;
		t++;
	}
	return false;
}

static void follow_from(struct frame_dir *d, bool joined)
{
	memset(d, 0, sizeof(*d));
	frame_head_begin(d);
	d->flags = joined ? F_JOINED : 0;
}

/* Mirrors sync(): may the kernel start following direction di with this payload? */
static bool sim_sync(struct sim *sim, int side, int di, const uint8_t *p, uint32_t plen)
{
	struct sim_kernel *k = &sim->k;
	bool fresh = k->sent[side] == 0;

	if (!frame_is_tchar(p[0]) && p[0] != '\r' && p[0] != '\n') {
		sim->res->ignored |= fresh;  /* its first bytes are not HTTP */
		return false;
	}
	if (!fresh && !starts_message(p, plen))
		return false;
	if (!k->storage) {
		k->storage = true;
		if (k->sent[!side] == 0)
			follow_from(&k->d[di ^ 1], false);
	}
	follow_from(&k->d[di], !fresh);
	sim->res->joined |= !fresh;
	return true;
}

static bool followed(const struct frame_dir *d)
{
	return d->mode != D_UNSYNCED && d->mode != D_IGNORE;
}

/* Mirrors follow() for an in-order packet: frames it and makes the copies. */
static void sim_follow(struct sim *sim, int di, const uint8_t *pkt, uint32_t plen, bool fin)
{
	struct sim_kernel *k = &sim->k;
	struct frame_dir *d = &k->d[di];
	struct sim_src src = { pkt, HDR + plen };
	struct frame_scan s;

	if (k->conn.tunnel[di])
		d->mode = D_TUNNEL;
	if (d->mode == D_WHOLE) {
		k->conn.kinds_lost = 1;
		copy(sim, pkt, plen, 0, plen, plen, REC_F_WHOLE);
		return;
	}
	memset(&s, 0, sizeof(s));
	s.nr = 0;
	if (d->mode != D_TUNNEL && d->mode != D_IGNORE && (d->mode != D_CLOSE || d->body_copy)) {
		frame_scan_init(&s, d, HDR, 0, plen);
		s.max_head = sim->opt->max_head;
		s.body_bytes = sim->opt->body_bytes;
		s.dir = (uint8_t)di;
		while (!frame_step(&s, &k->conn, &src))
			;
		frame_pass_done(&s, &k->conn);
		*d = s.d;
		if ((d->mode == D_IGNORE || d->mode == D_UNSYNCED) && !(d->flags & F_PROVEN)) {
			s.nr = 0;
			sim->res->ignored = 1;
		}
	}
	for (uint32_t i = 0; i < s.nr; i++)
		copy(sim, pkt, plen, s.r[i].lo, s.r[i].hi, i + 1 < s.nr ? s.r[i + 1].lo : plen,
		     (uint8_t)s.r[i].flags);
	if (!s.nr && fin && (followed(&k->d[0]) || followed(&k->d[1])))
		copy(sim, pkt, plen, plen, plen, plen, 0);
}

/* One segment from side: both views. */
static void segment(struct sim *sim, int side, const uint8_t *payload, uint32_t plen, bool fin)
{
	struct sim_kernel *k = &sim->k;
	int di = side ? 0 : 1;
	uint8_t *pkt = malloc(HDR + plen + 1);

	if (!pkt)
		return;
	headers(pkt, side, sim->seq[side], sim->seq[!side], 0x18 | (fin ? 1 : 0), plen);
	if (plen)
		memcpy(pkt + HDR, payload, plen);
	sim->ts += 1000;
	feed(sim, 0, pkt, HDR + plen, HDR + plen, 0, 0, 0);
	sim->res->packets++;
	sim->res->payload_bytes += plen;
	if (!plen) {
		if (k->storage && fin && (followed(&k->d[0]) || followed(&k->d[1])))
			feed(sim, 1, pkt, HDR, HDR, 0, 0, 0);
	} else if ((k->storage && k->d[di].mode != D_UNSYNCED) ||
		   sim_sync(sim, side, di, payload, plen)) {
		sim_follow(sim, di, pkt, plen, fin);
	}
	k->sent[side] += plen;
	sim->seq[side] += plen + (fin ? 1 : 0);
	free(pkt);
}

/* Cuts a write into segments of random sizes up to the MSS. */
static void write_out(struct sim *sim, const struct sim_write *w)
{
	size_t off = 0;

	while (off < w->len) {
		uint32_t max = sim->opt->mss, n;

		switch (below(&sim->rng, 4)) {
		case 0:
			n = 1 + below(&sim->rng, 8);
			break;
		case 1:
			n = 1 + below(&sim->rng, max);
			break;
		default:
			n = max;
			break;
		}
		if (n > w->len - off)
			n = (uint32_t)(w->len - off);
		segment(sim, w->side, w->bytes + off, n, false);
		off += n;
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
		.http = { .max_head = sim->opt->max_head, .max_fields = 512 },
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
			   .seq = { 1000, 500000 }, .rng = opt->seed | 1 };
	int err = 0;

	memset(res, 0, sizeof(*res));
	for (int v = 0; v < 2 && !err; v++)
		err = open_view(&sim, v);
	for (size_t i = 0; i < n && !err; i++)
		write_out(&sim, &w[i]);
	if (!err) {
		segment(&sim, 0, NULL, 0, true);
		segment(&sim, 1, NULL, 0, true);
	}
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
