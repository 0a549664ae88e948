/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's HTTP/2 framer (D_H2): after the client's preface (framed as
 * the request line "PRI * HTTP/2.0" it starts with), a SETTINGS frame as a direction's first
 * bytes, or either of them after a 101, it follows the frames and marks for copying the
 * frame headers and every payload but DATA's, which user space skips by length (HPACK needs
 * every header block, in order). Each frame header starts a range marked REC_F_BOUNDARY, so
 * that user space finds the frames again after a copy that was lost; a HEADERS or
 * PUSH_PROMISE frame counts as a message start (lost_heads). A padded DATA frame's padding
 * length is copied (user space needs it for the data length), and --body-bytes copies the
 * first bytes of each DATA frame; the last byte of a DATA frame with END_STREAM is copied too
 * (the message ends in that packet for user space, as reading a capture).
 *
 * Directions found in mid-connection (connections older than the programs) are framed with
 * X_COUNT: nothing is copied (their header blocks cannot be decoded), the blocks are counted.
 */
#ifndef HTTPEEK_FRAME_H2_H
#define HTTPEEK_FRAME_H2_H

#include "frame/body.h"

/* frame_dir.st in D_H2. */
enum frame_h2_state {
	F2_PREFACE = 0,   /* "SM\r\n\r\n", the rest of the preface: copied; idx bytes of it read */
	F2_HEAD,          /* a frame header: idx bytes of it read; cl its length so far */
	F2_COPY,          /* payload bytes copied: remaining */
	F2_PADLEN,        /* a padded DATA frame's padding length: copied */
	F2_SKIP,          /* DATA payload bytes skipped: remaining */
};

#define F2_HEADER 9u
#define F2_PREFACE_TAIL 6u            /* "SM\r\n\r\n" */
#define F2_PROBE_MAX_LEN 16384u       /* a frame a direction starts with is no longer */
#define F2_TYPE_DATA 0u
#define F2_TYPE_HEADERS 1u
#define F2_TYPE_SETTINGS 4u
#define F2_TYPE_PUSH_PROMISE 5u
#define F2_PADDED 0x08u
#define F2_END_STREAM 0x01u

/* Byte i of "SM\r\n\r\n". */
static __always_inline __u8 frame_h2_tail_char(__u32 i)
{
	return i < F2_PREFACE_TAIL ? (__u8)(0x0a0d0a0d4d53ull >> (i * 8)) : 0;
}

/*
 * Nine bytes that make a frame header a direction may start with: SETTINGS (first bytes of a
 * server, or after a 101) when settings is set, else any frame user space's plausibility
 * check accepts as a start in mid-connection (HEADERS, DATA or SETTINGS on a fitting stream).
 */
static __always_inline int frame_h2_header_ok(const __u8 *b, int settings)
{
	__u32 len = (__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2];
	__u32 sid = (__u32)(b[5] & 0x7f) << 24 | (__u32)b[6] << 16 | (__u32)b[7] << 8 | b[8];

	if (len > F2_PROBE_MAX_LEN || (b[5] & 0x80))
		return 0;
	if (b[3] == F2_TYPE_SETTINGS)
		return !sid && len % 6 == 0 && b[4] <= 1;
	if (settings)
		return 0;
	if (b[3] == F2_TYPE_HEADERS)
		return sid && !(b[4] & ~0x2du);
	return b[3] == F2_TYPE_DATA && sid && !(b[4] & ~0x09u);
}

/* The client's preface went by as a request: its last six bytes, then frames. */
static __always_inline void frame_h2_preface(struct frame_dir *d)
{
	d->mode = D_H2;
	d->st = F2_PREFACE;
	d->idx = 0;
	d->x &= ~X_UPGRADED;
}

/* Frames from here on (a SETTINGS frame comes next). */
static __always_inline void frame_h2_frames(struct frame_dir *d)
{
	d->mode = D_H2;
	d->st = F2_HEAD;
	d->idx = 0;
	d->cl = 0;
	d->x &= ~X_UPGRADED;
}

/*
 * At a direction's first byte (or the first after a 101): a SETTINGS frame header in the
 * next nine bytes, which buf holds from i (n of them). Returns 1 when the direction is then
 * HTTP/2.
 */
static __always_inline int frame_h2_probe(struct frame_scan *s, __u32 i, __u32 n)
{
	__u8 b[F2_HEADER];

	if (n < F2_HEADER || i > FRAME_CHUNK - F2_HEADER)
		return 0;
	for (int k = 0; k < (int)F2_HEADER; k++)
		b[k] = frame_byte(s, i + k);
	if (!frame_h2_header_ok(b, 1))
		return 0;
	frame_h2_frames(&s->d);
	return 1;
}

/* The direction may begin with a SETTINGS frame here: its first byte, or the first after a 101. */
static __always_inline int frame_h2_first(const struct frame_dir *d)
{
	return (!(d->x & X_SEEN) && !(d->flags & F_KEEP)) || (d->x & X_UPGRADED);
}

/*
 * At such a place, which buf holds from pos: SETTINGS makes the direction HTTP/2 (returns 1);
 * after a 101, anything but the preface's 'P' makes it a tunnel (returns 1, the pass is
 * over). Returns 0 when HTTP/1.x framing goes on.
 */
static __always_inline int frame_h2_start(struct frame_scan *s, __u32 pos)
{
	struct frame_dir *d = &s->d;
	__u32 i = pos - s->buf_lo, n = s->buf_n - i;
	__u8 c = frame_byte(s, i);

	d->x |= X_SEEN;
	if (frame_h2_probe(s, i, n))
		return 1;
	if (n < F2_HEADER && !c && s->limit - pos < F2_HEADER) {
		/* The packet ends inside what may be the SETTINGS header: decide at its end. */
		d->mode = D_H2;
		d->st = F2_HEAD;
		d->idx = 0;
		d->cl = 0;
		d->x |= X_PROBING;
		return 1;
	}
	if ((d->x & X_UPGRADED) && c != 'P') {
		d->mode = D_TUNNEL;
		s->pos = s->limit;
		return 1;
	}
	return 0;
}

/* The frame header is whole (length in cl, type and flags in status): what its payload is. */
static __always_inline void frame_h2_payload(struct frame_scan *s)
{
	struct frame_dir *d = &s->d;
	__u8 type = (__u8)(d->status >> 8);

	d->idx = 0;
	d->remaining = d->cl;
	if (d->x & X_PROBING) {
		d->x &= ~X_PROBING;
		if (type != F2_TYPE_SETTINGS || d->cl % 6 || (d->status & 0xfe) ||
		    d->cl > F2_PROBE_MAX_LEN) {
			d->mode = (d->x & X_UPGRADED) ? D_TUNNEL : D_IGNORE;
			return;
		}
		d->x &= ~X_UPGRADED;
	}
	if ((type == F2_TYPE_HEADERS || type == F2_TYPE_PUSH_PROMISE) && !(d->x & X_COUNT))
		frame_count_head(s);
	if (type == F2_TYPE_HEADERS || type == F2_TYPE_PUSH_PROMISE)
		s->h2_blocks++;
	if (!d->cl) {
		d->st = F2_HEAD;
	} else if (type != F2_TYPE_DATA) {
		d->st = F2_COPY;
	} else {
		d->body_copy = s->body_bytes;
		d->st = (d->status & F2_PADDED) ? F2_PADLEN : F2_SKIP;
	}
	d->cl = 0;
}

/* Marks n bytes at pos to copy (nothing in X_COUNT) and moves past them. */
static __always_inline void frame_h2_take(struct frame_scan *s, __u32 pos, __u32 n, __u32 flags)
{
	if (!(s->d.x & X_COUNT))
		frame_mark(s, pos, n, flags);
	s->pos = pos + n;
}

/* One byte of a frame header or of the preface's tail, which buf holds at i. */
static __always_inline void frame_h2_byte(struct frame_scan *s, __u32 pos, __u32 i)
{
	struct frame_dir *d = &s->d;
	__u8 ch = frame_byte(s, i), k = d->idx;

	if (d->st == F2_PREFACE) {
		if (ch != frame_h2_tail_char(k)) {
			frame_whole(d);  /* "PRI * HTTP/2.0" without the rest: user space decides */
			return;
		}
		frame_h2_take(s, pos, 1, 0);
		if (++d->idx == F2_PREFACE_TAIL)
			frame_h2_frames(d);
		return;
	}
	if (d->st == F2_PADLEN) {
		frame_h2_take(s, pos, 1, 0);
		d->remaining--;
		d->st = F2_SKIP;
		return;
	}
	frame_h2_take(s, pos, 1, k ? 0 : REC_F_BOUNDARY);
	if (k < 3)
		d->cl = d->cl << 8 | ch;
	else if (k == 3)
		d->status = (__u16)ch << 8;
	else if (k == 4)
		d->status |= ch;
	if (++d->idx == F2_HEADER)
		frame_h2_payload(s);
}

/* A whole frame header at once, which buf holds at i. */
static __always_inline void frame_h2_header(struct frame_scan *s, __u32 pos, __u32 i)
{
	struct frame_dir *d = &s->d;

	d->cl = (__u64)frame_byte(s, i) << 16 | (__u64)frame_byte(s, i + 1) << 8 |
		frame_byte(s, i + 2);
	d->status = (__u16)frame_byte(s, i + 3) << 8 | frame_byte(s, i + 4);
	frame_h2_take(s, pos, F2_HEADER, REC_F_BOUNDARY);
	frame_h2_payload(s);
}

/*
 * Payload bytes to copy or to skip: as many as the packet holds at once. The last byte of a
 * DATA frame that ends its stream is copied: user space ends the message in the packet where
 * the frame ends, as it does reading a capture.
 */
static __always_inline void frame_h2_run(struct frame_scan *s, __u32 pos)
{
	struct frame_dir *d = &s->d;
	__u64 left = s->limit - pos;
	__u32 n = (__u32)(d->remaining < left ? d->remaining : left);
	int last = n && n == d->remaining && (d->status & F2_END_STREAM);

	if (d->st == F2_COPY) {
		frame_h2_take(s, pos, n, 0);
	} else if (d->x & X_COUNT) {
		s->pos = pos + n;
	} else {
		frame_body_bytes(s, pos, n - last);
		if (last)
			frame_h2_take(s, pos + n - 1, 1, 0);
	}
	d->remaining -= n;
	if (!d->remaining) {
		d->st = F2_HEAD;
		d->idx = 0;
	}
}

/*
 * One step over a frame header or the preface's tail, which buf holds from pos on (frame_step
 * filled it): in BPF a global function, checked once on its own. Returns 0.
 */
FRAME_FN int frame_h2_step(struct frame_scan *s)
{
	struct frame_dir *d;
	__u32 pos, i;

	if (!s)
		return 0;
	d = &s->d;
	pos = s->pos;
	i = pos - s->buf_lo;
	if (d->st == F2_HEAD && !d->idx && s->buf_n - i >= F2_HEADER &&
	    i <= FRAME_CHUNK - F2_HEADER)
		frame_h2_header(s, pos, i);
	else
		frame_h2_byte(s, pos, i);
	return 0;
}

/*
 * What the other direction said of this one (frame_conn.tunnel): 1 it is a tunnel; 2 a 101
 * came, so that HTTP/2's preface, or a tunnel, follows (applied once, between messages); 3 the
 * other sent HTTP/2's preface, so that a body being read here is copied whole from now on.
 */
static __always_inline void frame_tunnel(struct frame_dir *d, __u8 t)
{
	if (t == 1) {
		d->mode = D_TUNNEL;
	} else if (t == 2 && !(d->x & X_PROBED)) {
		d->x |= X_PROBED;
		if (d->mode == D_HEAD && d->st == H_LEAD)
			d->x |= X_UPGRADED;
		else if (d->mode != D_WHOLE)
			d->mode = D_TUNNEL;
	} else if (t == 3 && d->mode >= D_BODY && d->mode <= D_CLOSE) {
		frame_whole(d);  /* user space reads HTTP/2 frames where a body was: its call */
	}
}

/* A direction found in mid-connection at a frame header: counted from here, not copied. */
static __always_inline void frame_h2_joined(struct frame_dir *d)
{
	frame_h2_frames(d);
	d->flags = F_JOINED;
	d->x |= X_COUNT | X_SEEN;
}

#endif
