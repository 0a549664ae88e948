/* HTTP/2 connections: frames of both sides, header blocks through HPACK, messages per stream. */
#include <stdlib.h>
#include <string.h>
#include "http2/frame.h"
#include "http2/internal.h"
#include "http2/http2.h"
#include "http2/hpack.h"

#define NO_TABLE UINT32_MAX
#define DEFAULT_TABLE 4096u

/* Why a side's header blocks cannot be decoded (the first cause stays). */
enum cause { CAUSE_NONE, CAUSE_JOINED, CAUSE_LOST, CAUSE_HPACK };


static void sync_held(struct h2_conn *c)
{
	*c->env->held += c->held - c->counted;
	c->counted = c->held;
}

/* -w: the packet being read carries a header frame of stream id from side. */
static void keep_packet(struct h2_side *sd, uint32_t id)
{
	struct h2_conn *c = sd->c;
	struct h2_stream *st;

	if (!c->env->exp || sd->blk_bad || !(st = h2_stream_get(c, id)) ||
	    st->kept_seq[sd->idx] == *c->env->packet_seq)
		return;
	st->kept_seq[sd->idx] = *c->env->packet_seq;
	export_keep(c->env->exp, &st->pkts[sd->idx], 2 * c->env->lim->max_head);
}


static void count_not_decoded(struct h2_side *sd)
{
	struct h2_stats *s = sd->c->env->stats;

	if (sd->cause == CAUSE_JOINED)
		s->not_decoded_joined++;
	else if (sd->cause == CAUSE_HPACK)
		s->not_decoded_hpack++;
	else
		s->not_decoded_lost++;
}

/* The block in progress cannot be decoded, and no later one of this side either. */
static void block_abort(struct h2_side *sd, enum cause cause)
{
	if (!sd->cause)
		sd->cause = (uint8_t)cause;
	sd->blk_bad = true;
	h2_msg_free(sd->blk);
	sd->blk = NULL;
}

static void set_table(struct h2_side *sd, uint32_t size)
{
	sd->table = size;
	if (sd->in_block)
		sd->table_later = size;
	else
		hpack_set_table_max(sd->hp, size);
}

/* Trailers end the message their side is sending on st. */
static void trailers(struct h2_conn *c, struct h2_side *sd, struct h2_stream *st, struct h2_msg *t)
{
	struct h2_msg *open = st->msg[sd->idx];

	if (!open) {
		c->env->stats->malformed_frames++;  /* trailers of no message */
	} else {
		h2_msg_append(open, t, c->env->lim);
		h2_side_ended(c, st, sd->idx);
	}
	h2_msg_free(t);
}

/* A decoded header block: a request, a response, an interim response or trailers. */
static void place_block(struct h2_side *sd, struct h2_msg *m)
{
	struct h2_conn *c = sd->c;
	uint32_t id = sd->blk_push ? sd->promised : sd->blk_stream;
	struct h2_stream *st = id ? h2_stream_get(c, id) : NULL;
	int kind = h2_msg_kind(m);

	m->stream = id;
	if (!st) {
		c->env->stats->malformed_frames += !id;
		h2_msg_free(m);
	} else if (!kind) {
		trailers(c, sd, st, m);
	} else if (kind == HTTP_RESPONSE && h2_msg_status(m) / 100 == 1) {
		h2_report_built(c, st, sd->idx, m, true);  /* at once, on its own */
	} else if ((kind == HTTP_REQUEST && st->req_side >= 0) ||
		   (kind == HTTP_RESPONSE && st->resp_side >= 0) || st->msg[sd->idx]) {
		c->env->stats->malformed_frames++;  /* a second request or final response */
		h2_msg_free(m);
	} else {
		st->msg[sd->idx] = m;
		if (kind == HTTP_REQUEST) {
			st->req_side = (int8_t)sd->idx;
			st->depth = ++c->requests;
			st->pushed = sd->blk_push;
		} else {
			st->resp_side = (int8_t)sd->idx;
		}
		if (sd->blk_push || sd->blk_end_stream)
			h2_side_ended(c, st, sd->idx);
	}
}

static void on_field(void *ctx, const uint8_t *name, size_t name_len, const uint8_t *value,
		     size_t value_len)
{
	struct h2_side *sd = ctx;

	if (sd->blk)
		h2_msg_add(sd->blk, sd->c->env->lim, name, name_len, value, value_len);
}

static void block_end(struct h2_side *sd)
{
	static const uint8_t none[1];
	struct h2_msg *m = sd->blk;
	struct h2_stream *st;

	sd->blk = NULL;
	if (!sd->blk_bad && hpack_feed(sd->hp, none, 0, true, on_field, sd))
		block_abort(sd, CAUSE_HPACK);
	sd->in_block = false;
	if (sd->blk_bad) {
		count_not_decoded(sd);
		h2_msg_free(m);
		st = h2_streams_find(&sd->c->streams, sd->blk_stream);
		if (st && !st->msg[0] && !st->msg[1] && st->req_side < 0 && st->resp_side < 0)
			h2_stream_free(sd->c, st);  /* made for -w only */
	} else if (m) {
		m->at = sd->pk;
		sd->c->env->stats->too_large += m->truncated;
		place_block(sd, m);
	}
	if (sd->table_later != NO_TABLE)
		hpack_set_table_max(sd->hp, sd->table_later);
	sd->table_later = NO_TABLE;
}

static void block_begin(struct h2_side *sd, const struct h2_frame *f)
{
	struct h2_conn *c = sd->c;

	sd->in_block = true;
	sd->blk_stream = f->stream;
	sd->blk_end_stream = f->type == H2_HEADERS && (f->flags & H2_END_STREAM);
	sd->blk_push = f->type == H2_PUSH_PROMISE;
	sd->promised = 0;
	sd->blk_bad = sd->cause != CAUSE_NONE;
	c->env->stats->blocks++;
	if (!sd->blk_bad)
		sd->blk = h2_msg_new(&c->held, f->stream);
}

static void on_begin(void *ctx, const struct h2_frame *f)
{
	struct h2_side *sd = ctx;
	struct h2_stats *s = sd->c->env->stats;

	if (!sd->framed && f->type != H2_SETTINGS && sd->cause != CAUSE_JOINED)
		s->no_settings++;
	sd->framed = true;
	if (sd->in_block && (f->type != H2_CONTINUATION || f->stream != sd->blk_stream)) {
		s->malformed_frames++;  /* a header block must end before anything else */
		block_abort(sd, CAUSE_LOST);
		count_not_decoded(sd);
		sd->in_block = false;
	}
	if (f->type == H2_HEADERS || f->type == H2_PUSH_PROMISE)
		block_begin(sd, f);
	else if (f->type == H2_CONTINUATION && !sd->in_block)
		s->malformed_frames++;
	if (f->type == H2_HEADERS || f->type == H2_CONTINUATION || f->type == H2_RST_STREAM)
		keep_packet(sd, f->stream);
}

static void on_block(void *ctx, const struct h2_frame *f, const uint8_t *p, size_t n)
{
	struct h2_side *sd = ctx;

	if (!sd->in_block)
		return;
	keep_packet(sd, sd->blk_stream);
	if (f->type == H2_PUSH_PROMISE)
		sd->promised = f->promised;
	if (sd->blk_bad)
		return;
	if (!p)
		block_abort(sd, CAUSE_LOST);
	else if (hpack_feed(sd->hp, p, n, false, on_field, sd))
		block_abort(sd, CAUSE_HPACK);
}

static void on_data(struct h2_side *sd, const struct h2_frame *f)
{
	struct h2_conn *c = sd->c;
	struct h2_stream *st = h2_streams_find(&c->streams, f->stream);
	struct h2_msg *m = st ? st->msg[sd->idx] : NULL;

	c->env->stats->data_bytes += f->lost ? f->len : f->data;
	if (!m)
		return;
	if (f->lost || f->malformed)
		m->data_unknown = true;
	else
		m->data += f->data;
	if (f->flags & H2_END_STREAM)
		h2_side_ended(c, st, sd->idx);
}

static void on_end(void *ctx, const struct h2_frame *f)
{
	struct h2_side *sd = ctx, *other = &sd->c->side[!sd->idx];
	struct h2_stream *st;

	if (f->malformed) {
		sd->c->env->stats->malformed_frames++;
		if (sd->in_block)
			block_abort(sd, CAUSE_LOST);
	}
	if (f->type == H2_PUSH_PROMISE)
		sd->promised = f->promised;
	switch (f->type) {
	case H2_DATA:
		on_data(sd, f);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (sd->in_block && (f->flags & H2_END_HEADERS || f->malformed))
			block_end(sd);
		break;
	case H2_RST_STREAM:
		st = f->lost || f->malformed ? NULL : h2_streams_find(&sd->c->streams, f->stream);
		if (st)
			h2_flush_stream(sd->c, st);
		break;
	case H2_SETTINGS:
		/* sd applied the other side's settings: its encoder uses the table size now. */
		if ((f->flags & H2_ACK) && other->announced != NO_TABLE) {
			set_table(sd, other->announced);
			other->announced = NO_TABLE;
		}
		break;
	}
}

static void on_setting(void *ctx, const struct h2_frame *f, uint16_t id, uint32_t value)
{
	struct h2_side *sd = ctx, *other = &sd->c->side[!sd->idx];

	if (id != H2_SETTINGS_HEADER_TABLE_SIZE)
		return;
	sd->announced = value;
	if (value > other->table)
		set_table(other, value);  /* a larger table: the encoder cannot use it before */
}

static void on_lost(void *ctx)
{
	struct h2_side *sd = ctx;
	struct h2_streams *t = &sd->c->streams;

	if (sd->in_block) {
		block_abort(sd, CAUSE_LOST);
		count_not_decoded(sd);
		sd->in_block = false;
	}
	if (!sd->cause)
		sd->cause = CAUSE_LOST;
	for (uint32_t i = 0; i < t->nslots; i++)
		if (t->slots[i] && t->slots[i]->msg[sd->idx])
			t->slots[i]->msg[sd->idx]->data_unknown = true;
}

static void on_bad_preface(void *ctx)
{
	struct h2_side *sd = ctx;

	sd->c->env->stats->bad_prefaces++;
}

static const struct h2_frame_ops frame_ops = {
	.begin = on_begin,
	.block = on_block,
	.setting = on_setting,
	.end = on_end,
	.lost = on_lost,
	.bad_preface = on_bad_preface,
};

struct h2_conn *h2_conn_new(const struct h2_env *env, const struct h2_report *rep,
			    enum h2_start start, int client)
{
	struct h2_conn *c = calloc(1, sizeof(*c));
	uint32_t preface;

	if (!c)
		return NULL;
	c->env = env;
	c->rep = *rep;
	c->client = client & 1;
	c->held = sizeof(*c);
	c->streams.held = &c->held;
	for (int i = 0; i < 2; i++) {
		struct h2_side *sd = &c->side[i];

		*sd = (struct h2_side){ .c = c, .idx = i, .table = DEFAULT_TABLE,
				     .table_later = NO_TABLE, .announced = NO_TABLE };
		preface = i != c->client || start == H2_START_JOINED ? H2_PREFACE_LEN
			: start == H2_START_PREFACE ? H2_PREFACE_LINE : 0;
		h2_framer_init(&sd->fr, preface, &frame_ops, sd);
		if (start == H2_START_JOINED)
			sd->cause = CAUSE_JOINED;
		if (!(sd->hp = hpack_new(&c->held))) {
			h2_conn_free(c);
			return NULL;
		}
	}
	env->stats->connections++;
	env->stats->joined += start == H2_START_JOINED;
	sync_held(c);
	return c;
}

void h2_conn_upgraded(struct h2_conn *c, struct http_message *req, uint32_t depth,
		      struct export_list *pkts)
{
	struct h2_stream *st = h2_stream_get(c, 1);

	if (!st) {
		free(req);
		if (pkts && c->env->exp)
			export_list_clear(c->env->exp, pkts);
		return;
	}
	if (req)
		c->held += h2_message_cost(req);
	st->req = req;
	st->req_side = (int8_t)c->client;
	st->req_done = true;
	st->req_ts = req ? req->ts_ns : 0;
	st->depth = depth;
	c->requests = depth;
	if (pkts) {
		st->pkts[c->client] = *pkts;
		*pkts = (struct export_list){ 0 };
	}
	sync_held(c);
}

void h2_conn_data(struct h2_conn *c, int side, const uint8_t *p, size_t n,
		  const struct h2_packet *pk, bool piece)
{
	struct h2_side *sd = &c->side[side & 1];

	sd->pk = *pk;
	h2_framer_data(&sd->fr, p, n, piece);
	sync_held(c);
}

void h2_conn_gap(struct h2_conn *c, int side, size_t n)
{
	h2_framer_gap(&c->side[side & 1].fr, n);
	sync_held(c);
}

void h2_conn_boundary(struct h2_conn *c, int side)
{
	h2_framer_boundary(&c->side[side & 1].fr);
}

uint64_t h2_conn_held(const struct h2_conn *c)
{
	return c ? c->held : 0;
}

bool h2_conn_looks_joined(const uint8_t *p, size_t n)
{
	return h2_frames_plausible(p, n);
}

void h2_conn_free(struct h2_conn *c)
{
	struct h2_stream **all;
	uint32_t n;

	if (!c)
		return;
	all = c->streams.count ? malloc(c->streams.count * sizeof(*all)) : NULL;
	if (all) {
		n = h2_streams_sorted(&c->streams, all);
		for (uint32_t i = 0; i < n; i++)
			h2_flush_stream(c, all[i]);
		free(all);
	}
	while (c->streams.count) {  /* no memory for the sorted list: in any order */
		for (n = 0; !c->streams.slots[n]; n++)
			;
		h2_flush_stream(c, c->streams.slots[n]);
	}
	for (int i = 0; i < 2; i++) {
		if (c->side[i].in_block) {
			block_abort(&c->side[i], CAUSE_LOST);  /* cut by the connection's end */
			count_not_decoded(&c->side[i]);
		}
		h2_msg_free(c->side[i].blk);
		hpack_free(c->side[i].hp);
	}
	h2_streams_free(&c->streams);
	*c->env->held -= c->counted;
	free(c);
}
