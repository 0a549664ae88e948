/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bodies: Content-Length bodies and chunk data are stepped over by length (the first
 * --body-bytes bytes copied), chunk sizes, extensions and trailers are framed byte by byte.
 */
#ifndef HTTPEEK_FRAME_BODY_H
#define HTTPEEK_FRAME_BODY_H

#include "frame/state.h"

static __always_inline int frame_hex(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static __always_inline void frame_size_done(struct frame_dir *d)
{
	d->st = d->remaining ? CH_DATA : CH_TRAILER;
	d->idx = 0;
	d->aux = 0;
}

/* Extension or trailer bytes: past a margin below user space's limit, copy whole. */
static __always_inline void frame_chunk_extra(struct frame_scan *s)
{
	if (++s->d.aux >= s->max_head / 2)
		frame_whole(&s->d);
}

/* One byte of chunk framing (not chunk data). */
static __always_inline void frame_chunk_byte(struct frame_scan *s, __u8 ch)
{
	struct frame_dir *d = &s->d;
	int v = frame_hex(ch);

	switch (d->st) {
	case CH_SIZE:
		if (v >= 0) {
			if (d->remaining >> 56)
				frame_whole(d);
			d->remaining = d->remaining << 4 | (__u64)v;
			d->aux++;
			return;
		}
		if (!d->aux) {
			frame_whole(d);
			return;
		}
		d->st = CH_SIZE_WS;
		/* fall through */
	case CH_SIZE_WS:
		if (ch == ';') {
			d->st = CH_EXT;
			d->aux = 0;
		} else if (ch == '\r') {
			d->st = CH_SIZE_LF;
		} else if (ch == '\n') {
			frame_size_done(d);
		} else if (!http_ows(ch)) {
			frame_whole(d);
		}
		return;
	case CH_SIZE_LF:
		if (ch == '\n')
			frame_size_done(d);
		else
			frame_whole(d);
		return;
	case CH_EXT:
		if (ch == '\n')
			frame_size_done(d);
		else
			frame_chunk_extra(s);
		return;
	case CH_DATA_CR:
		if (ch == '\r') {
			d->st = CH_DATA_LF;
			return;
		}
		/* fall through */
	case CH_DATA_LF:
		if (ch == '\n') {
			d->st = CH_SIZE;
			d->remaining = 0;
			d->aux = 0;
		} else {
			frame_whole(d);
		}
		return;
	default: /* CH_TRAILER: idx is the line state, 0 empty, 1 one CR, 2 text */
		if (ch == '\n') {
			if (d->idx != 2) {
				frame_head_begin(d);
				d->aux = 0;
				return;
			}
			d->idx = 0;
		} else {
			d->idx = d->idx == 0 && ch == '\r' ? 1 : 2;
		}
		frame_chunk_extra(s);
		return;
	}
}

/* Skips n body bytes at pos, copying the first ones --body-bytes asks for. */
static __always_inline void frame_body_bytes(struct frame_scan *s, __u32 pos, __u32 n)
{
	__u32 copy = s->d.body_copy < n ? s->d.body_copy : n;

	if (copy) {
		frame_mark(s, pos, copy, 0);
		s->d.body_copy -= copy;
	}
	s->pos = pos + n;
}

/* D_BODY or chunk data: a jump over min(remaining, what is left) bytes. */
static __always_inline void frame_jump(struct frame_scan *s, __u32 pos)
{
	struct frame_dir *d = &s->d;
	__u64 left = s->limit - pos;
	__u32 n = (__u32)(d->remaining < left ? d->remaining : left);

	frame_body_bytes(s, pos, n);
	d->remaining -= n;
	if (d->remaining)
		return;
	if (d->mode == D_BODY)
		frame_head_begin(d);
	else
		d->st = CH_DATA_CR;
}

#endif
