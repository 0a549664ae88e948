/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One pass over a payload. Only the caller knows where the bytes are (a packet, a buffer in
 * the traced process, a test's array), so it reads them; per step:
 *
 *	n = frame_need(s);
 *	if (n)  load payload bytes [s->pos, s->pos + n) into s->buf, then frame_loaded(s, n);
 *		on failure frame_unreadable(s) and stop;
 *	if (frame_step(s, c))  stop;
 *
 * then frame_pass_done(). Each step takes one byte, eight head bytes or one jump over body.
 */
#ifndef HTTPEEK_FRAME_STEP_H
#define HTTPEEK_FRAME_STEP_H

#include "frame/body.h"
#include "frame/fast.h"

/*
 * The bytes the next step reads, when buf does not hold them yet: 0, or n (1 to FRAME_CHUNK)
 * payload bytes from s->pos on, which the caller loads into s->buf (they are at s->off +
 * s->pos in its source) before frame_loaded(s, n), or cannot: frame_unreadable(s).
 */
static __always_inline __u32 frame_need(const struct frame_scan *s)
{
	const struct frame_dir *d = &s->d;
	__u32 pos = s->pos, want;
	__u64 n;

	if (pos >= s->limit)
		return 0;
	if (d->mode == D_HEAD)
		want = frame_fast_state(d->st) ? 18 : 1;
	else if (d->mode == D_CHUNK && d->st != CH_DATA)
		want = 1;
	else if (d->mode == D_H2 && d->st != F2_COPY && d->st != F2_SKIP)
		want = d->st == F2_HEAD && !d->idx ? F2_HEADER : 1;
	else
		return 0;
	if (pos - s->buf_lo < s->buf_n && (want == 1 || pos - s->buf_lo + want <= s->buf_n ||
					     s->limit - pos < want))
		return 0;
	n = s->limit - pos;
	return n > FRAME_CHUNK ? FRAME_CHUNK : (__u32)n;
}

/* buf now holds the n bytes frame_need() asked for. */
static __always_inline void frame_loaded(struct frame_scan *s, __u32 n)
{
	s->buf_lo = s->pos;
	s->buf_n = n;
}

/* The bytes frame_need() asked for cannot be read: the pass ends at them. */
static __always_inline void frame_unreadable(struct frame_scan *s)
{
	s->limit = s->pos;
}

/*
 * The steps over head and chunk-framing bytes, which buf holds from pos on: in BPF global
 * functions, which the verifier checks once on their own rather than in every state of the
 * loop that calls them. Return 0.
 */
FRAME_FN int frame_head_step(struct frame_scan *s, struct frame_conn *c)
{
	__u32 pos, flags;
	__u8 ch;

	if (!s || !c)
		return 0;
	pos = s->pos;
	if (frame_fast_state(s->d.st) && frame_head_fast(s, c, pos))
		return 0;
	ch = frame_byte(s, pos - s->buf_lo);
	flags = s->d.st == H_LEAD ? REC_F_BOUNDARY : 0;
	frame_mark(s, pos, 1, flags);
	s->pos = pos + 1;
	frame_head_byte(s, c, ch);
	return 0;
}

FRAME_FN int frame_chunk_step(struct frame_scan *s)
{
	__u32 pos;
	__u8 ch;

	if (!s)
		return 0;
	pos = s->pos;
	ch = frame_byte(s, pos - s->buf_lo);
	frame_mark(s, pos, 1, 0);
	s->pos = pos + 1;
	frame_chunk_byte(s, ch);
	return 0;
}

/*
 * One step over the payload, once buf holds what frame_need() asked for: returns 1 when the
 * pass is over (pos reached limit).
 */
static __always_inline int frame_step(struct frame_scan *s, struct frame_conn *c)
{
	struct frame_dir *d = &s->d;
	__u32 pos = s->pos;

	if (pos >= s->limit)
		return 1;
	switch (d->mode) {
	case D_BODY:
		frame_jump(s, pos);
		return 0;
	case D_CHUNK:
		if (d->st != CH_DATA)
			break;
		frame_jump(s, pos);
		return 0;
	case D_CLOSE:
		frame_body_bytes(s, pos, s->limit - pos);
		return 1;
	case D_HEAD:
		break;
	case D_H2:
		if (d->st == F2_COPY || d->st == F2_SKIP) {
			frame_h2_run(s, pos);
			return 0;
		}
		return frame_h2_step(s);
	case D_WHOLE:
		frame_mark(s, pos, s->limit - pos, REC_F_WHOLE);
		s->pos = s->limit;
		return 1;
	default: /* D_TUNNEL, D_IGNORE, D_UNSYNCED */
		s->pos = s->limit;
		return 1;
	}
	if (d->mode == D_HEAD && d->st == H_LEAD && frame_h2_first(d) && frame_h2_start(s, pos))
		return d->mode == D_TUNNEL;
	if (d->mode == D_HEAD)
		return frame_head_step(s, c);
	return frame_chunk_step(s);
}

/*
 * After a pass: bytes it did not reach (FRAME_STEPS_MAX) are copied whole from there on. A
 * direction copied whole no longer counts its requests or their kinds, so the other
 * direction cannot frame responses by them any more.
 */
static __always_inline void frame_pass_done(struct frame_scan *s, struct frame_conn *c)
{
	if (s->pos < s->limit) {
		frame_whole(&s->d);
		frame_mark(s, s->pos, s->limit - s->pos, REC_F_WHOLE);
		s->pos = s->limit;
	}
	if (s->d.mode == D_WHOLE)
		c->kinds_lost = 1;
}

/* Starts a pass over payload bytes [from, limit) of a packet whose payload is at off. */
static __always_inline void frame_scan_init(struct frame_scan *s, const struct frame_dir *d,
					    __u32 off, __u32 from, __u32 limit)
{
	s->d = *d;
	s->off = off;
	s->pos = from;
	s->limit = limit;
	s->buf_lo = 0;
	s->buf_n = 0;
	s->nr = 0;
	s->h2_blocks = 0;
}

#endif
