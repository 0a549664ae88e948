/*
 * Reassembly of one side of a flow. Sequence numbers become 64-bit stream offsets relative to
 * the next expected byte, so wraparound needs no special case. In-order bytes go out straight
 * from the segment; out-of-order bytes are copied into a sorted list of non-overlapping pieces.
 * The first data seen for an offset wins.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flow/internal.h"

/* Bytes placed in the stream: p[0] is at offset off, bytes from pend on were not captured. */
struct piece {
	const uint8_t *p;
	int64_t off;
	int64_t pend;
	uint64_t ts_ns;
	enum direction dir;
	uint32_t ip_len, ifindex, net_ns;
	bool boundary;  /* p[0] starts between two messages */
	bool early;     /* ahead of bytes that will come: held even from an in-order source */
};

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t seq_off(const struct flow_side *sd, uint32_t seq)
{
	uint32_t next_seq = sd->isn + (uint32_t)sd->next;

	return (int64_t)sd->next + (int32_t)(seq - next_seq);
}

static void emit_gap(struct flow_table *t, struct flow *f, int side, uint64_t len)
{
	if (!len)
		return;
	t->st.gaps++;
	t->st.gap_bytes += len;
	while (len) {
		uint32_t n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;

		t->cb->gap(t->ctx, f->user, side, n);
		len -= n;
	}
}

/* Moves next to end: the present bytes of pc from next on as data, the rest as a gap. */
static void deliver(struct flow_table *t, struct flow *f, int side, const struct piece *pc,
		    int64_t end)
{
	struct flow_side *sd = &f->side[side];
	int64_t from = (int64_t)sd->next;

	if (sd->fin_seen)
		end = min64(end, (int64_t)sd->fin_off);
	if (end <= from)
		return;
	sd->next = (uint64_t)end;
	if (from < pc->pend) {
		int64_t stop = min64(end, pc->pend);
		struct flow_chunk_meta meta = { .ts_ns = pc->ts_ns, .dir = pc->dir,
						.ip_len = pc->ip_len, .ifindex = pc->ifindex,
						.net_ns = pc->net_ns,
						.boundary = pc->boundary && from == pc->off };
		uint32_t len = (uint32_t)(stop - from);

		t->st.bytes += len;
		t->cb->data(t->ctx, f->user, side, pc->p + (from - pc->off), len, &meta);
		from = stop;
	}
	emit_gap(t, f, side, (uint64_t)(end - from));
}

static void held_release(struct flow_table *t, struct flow_side *sd, struct flow_held *h)
{
	sd->held_bytes -= FLOW_HELD_COST(h->len);
	t->held_total -= FLOW_HELD_COST(h->len);
	free(h);
}

/* Drops held pieces from *pp on. */
static void held_cut(struct flow_table *t, struct flow_side *sd, struct flow_held **pp)
{
	struct flow_held *h;

	while ((h = *pp)) {
		*pp = h->next;
		held_release(t, sd, h);
	}
}

/* Delivers held pieces that start at or before next. */
static void side_drain(struct flow_table *t, struct flow *f, int side)
{
	struct flow_side *sd = &f->side[side];
	struct flow_held *h;

	while ((h = sd->held) && h->off <= sd->next) {
		struct piece pc = {
			.p = h->data,
			.off = (int64_t)h->off,
			.pend = (int64_t)(h->off + h->len),
			.ts_ns = h->ts_ns,
			.dir = h->dir,
			.ip_len = h->ip_len, .ifindex = h->ifindex, .net_ns = h->net_ns,
		};

		sd->held = h->next;
		deliver(t, f, side, &pc, (int64_t)(h->off + h->span));
		held_release(t, sd, h);
	}
}

/* Gives up the bytes before off as a gap, then delivers what became in order. */
static void side_skip(struct flow_table *t, struct flow *f, int side, int64_t off)
{
	struct flow_side *sd = &f->side[side];

	if (sd->fin_seen)
		off = min64(off, (int64_t)sd->fin_off);
	if (off > (int64_t)sd->next) {
		emit_gap(t, f, side, (uint64_t)off - sd->next);
		sd->next = (uint64_t)off;
	}
	side_drain(t, f, side);
}

void flow_side_finish(struct flow_table *t, struct flow *f, int side)
{
	struct flow_side *sd = &f->side[side];

	if (sd->fin_done)
		return;
	sd->fin_done = true;
	held_cut(t, sd, &sd->held);
	held_cut(t, sd, &sd->stash);
	t->cb->fin(t->ctx, f->user, side);
}

static void side_check_fin(struct flow_table *t, struct flow *f, int side)
{
	struct flow_side *sd = &f->side[side];

	if (sd->fin_seen && sd->next >= sd->fin_off)
		flow_side_finish(t, f, side);
}

void flow_side_flush(struct flow_table *t, struct flow *f, int side)
{
	struct flow_side *sd = &f->side[side];

	if (sd->fin_done)
		return;
	while (sd->held) {
		if (sd->fin_seen && sd->held->off >= sd->fin_off) {
			held_cut(t, sd, &sd->held);
			break;
		}
		side_skip(t, f, side, (int64_t)sd->held->off);
	}
	if (sd->fin_seen)
		side_skip(t, f, side, (int64_t)sd->fin_off);
}

/* The peer acknowledged up to ack: bytes it got that the capture missed will never come. */
static void side_ack(struct flow_table *t, struct flow *f, int side, uint32_t ack)
{
	struct flow_side *sd = &f->side[side];
	int64_t a, upto;

	if (!sd->started || sd->fin_done)
		return;
	a = seq_off(sd, ack);
	while (sd->held || sd->fin_seen) {
		upto = min64(a, (int64_t)(sd->held ? sd->held->off : sd->fin_off));
		if (upto <= (int64_t)sd->next)
			break;
		side_skip(t, f, side, upto);
	}
	side_check_fin(t, f, side);
}

static uint32_t present(const struct piece *pc, int64_t a, int64_t b)
{
	return a < pc->pend ? (uint32_t)(min64(b, pc->pend) - a) : 0;
}

/* Links a copy of [a, b) of pc at *pp; returns where the next piece links. */
static struct flow_held **held_insert(struct flow_table *t, struct flow_side *sd,
				      struct flow_held **pp, const struct piece *pc, int64_t a,
				      int64_t b)
{
	uint32_t len = present(pc, a, b);
	struct flow_held *h = malloc(sizeof(*h) + len);

	if (!h) {
		t->st.buffer_drops++;
		return pp;
	}
	h->off = (uint64_t)a;
	h->len = len;
	h->span = (uint32_t)(b - a);
	h->ts_ns = pc->ts_ns;
	h->dir = pc->dir;
	h->ip_len = pc->ip_len;
	h->ifindex = pc->ifindex;
	h->net_ns = pc->net_ns;
	if (len)
		memcpy(h->data, pc->p + (a - pc->off), len);
	h->next = *pp;
	*pp = h;
	sd->held_bytes += FLOW_HELD_COST(len);
	t->held_total += FLOW_HELD_COST(len);
	return &h->next;
}

/* Holds the parts of [s, e) not held yet; returns the memory that needs (dry) or took. */
static uint64_t held_fill(struct flow_table *t, struct flow_side *sd, const struct piece *pc,
			  int64_t s, int64_t e, bool dry)
{
	struct flow_held **pp = &sd->held;
	uint64_t need = 0;

	while (s < e) {
		struct flow_held *h = *pp;
		int64_t stop;

		if (h && (int64_t)(h->off + h->span) <= s) {
			pp = &h->next;
		} else if (h && (int64_t)h->off <= s) {
			stop = min64(e, (int64_t)(h->off + h->span));
			if (!dry)
				t->st.overlaps += (uint64_t)(stop - s);
			s = stop;
			pp = &h->next;
		} else {
			stop = h ? min64(e, (int64_t)h->off) : e;
			need += FLOW_HELD_COST(present(pc, s, stop));
			if (!dry)
				pp = held_insert(t, sd, pp, pc, s, stop);
			s = stop;
		}
	}
	return need;
}

/* Holds out-of-order [s, e); -ENOBUFS when that would pass a buffer limit. */
static int side_hold(struct flow_table *t, struct flow_side *sd, const struct piece *pc,
		     int64_t s, int64_t e)
{
	uint64_t need = held_fill(t, sd, pc, s, e, true);

	if (sd->held_bytes + need > t->lim.max_flow_buffer ||
	    t->held_total + need > t->lim.max_total_buffer)
		return -ENOBUFS;
	held_fill(t, sd, pc, s, e, false);
	return 0;
}

/* Places [s, e) of pc: trims what is delivered, delivers what is in order, holds the rest. */
static void side_data(struct flow_table *t, struct flow *f, int side, const struct piece *pc,
		      int64_t s, int64_t e)
{
	struct flow_side *sd = &f->side[side];
	bool forced = false;

	while (s < e) {
		int64_t next = (int64_t)sd->next;

		if (s < next) {
			t->st.overlaps += (uint64_t)(min64(e, next) - s);
			s = min64(e, next);
		} else if (s == next) {
			int64_t upto = sd->held ? min64(e, (int64_t)sd->held->off) : e;

			deliver(t, f, side, pc, upto);
			s = upto;
			side_drain(t, f, side);
		} else if (t->lim.in_order_source && !pc->early) {
			side_skip(t, f, side, s);
		} else if (side_hold(t, sd, pc, s, e)) {
			/* Over a limit: give up the hole before held data or this segment. */
			t->st.buffer_drops += !forced;
			forced = true;
			side_skip(t, f, side, sd->held ? min64(s, (int64_t)sd->held->off) : s);
		} else {
			break;
		}
	}
}

/* An early segment (live) before the side's first byte came: kept aside until it does. */
static void side_stash(struct flow_table *t, struct flow_side *sd, const struct segment *seg)
{
	uint64_t cost = FLOW_HELD_COST(seg->payload_len);
	struct flow_held *h = NULL, **tail = &sd->stash;

	if (sd->held_bytes + cost <= t->lim.max_flow_buffer &&
	    t->held_total + cost <= t->lim.max_total_buffer)
		h = malloc(sizeof(*h) + seg->payload_len);
	if (!h) {
		t->st.buffer_drops++;
		return;
	}
	*h = (struct flow_held){ .off = seg->seq, .ts_ns = seg->ts_ns,
				 .len = seg->payload_len, .span = seg->seg_len, .dir = seg->dir,
				 .ip_len = seg->ip_len, .ifindex = seg->ifindex,
				 .net_ns = seg->net_ns };
	if (seg->payload_len)
		memcpy(h->data, seg->payload, seg->payload_len);
	while (*tail)
		tail = &(*tail)->next;  /* in arrival order: the first copy of a byte wins */
	*tail = h;
	sd->held_bytes += cost;
	t->held_total += cost;
}

/* The side's start is known: what was kept aside goes in as early pieces. */
static void side_unstash(struct flow_table *t, struct flow *f, int side)
{
	struct flow_side *sd = &f->side[side];
	struct flow_held *h;

	while ((h = sd->stash)) {
		int64_t s = seq_off(sd, (uint32_t)h->off);
		struct piece pc = { h->data, s, s + h->len, h->ts_ns, h->dir, h->ip_len,
				    h->ifindex, h->net_ns, false, true };

		sd->stash = h->next;
		if (!sd->fin_done)
			side_data(t, f, side, &pc, s, s + h->span);
		held_release(t, sd, h);
	}
}

static void side_set_fin(struct flow_table *t, struct flow_side *sd, int64_t end)
{
	struct flow_held **pp = &sd->held;

	sd->fin_seen = true;
	sd->fin_off = end > (int64_t)sd->next ? (uint64_t)end : sd->next;
	while (*pp && (*pp)->off < sd->fin_off)
		pp = &(*pp)->next;
	held_cut(t, sd, pp);
}

void flow_side_segment(struct flow_table *t, struct flow *f, int side, const struct segment *seg)
{
	struct flow_side *sd = &f->side[side];
	bool syn = seg->tcp_flags & TCP_SYN, fin = seg->tcp_flags & TCP_FIN;
	uint32_t seq = seg->seq + syn;
	struct piece pc;
	int64_t s, e;

	if (seg->tcp_flags & TCP_ACK)
		side_ack(t, f, !side, seg->ack);
	if (!sd->started) {
		if (!syn && !fin && !seg->seg_len)
			return;
		if (seg->early && !syn && !fin) {
			side_stash(t, sd, seg);
			return;
		}
		sd->isn = seq;
		sd->started = true;
	}
	if (sd->fin_done)
		return;
	s = seq_off(sd, seq);
	e = s + seg->seg_len;
	pc = (struct piece){ seg->payload, s, s + seg->payload_len, seg->ts_ns, seg->dir,
			     seg->ip_len, seg->ifindex, seg->net_ns, seg->boundary, seg->early };
	if (fin && !sd->fin_seen)
		side_set_fin(t, sd, e);
	if (sd->fin_seen)
		e = min64(e, (int64_t)sd->fin_off);
	side_data(t, f, side, &pc, s, e);
	if (sd->fin_seen && t->lim.in_order_source)
		side_skip(t, f, side, (int64_t)sd->fin_off);
	side_check_fin(t, f, side);
	side_unstash(t, f, side);
}
