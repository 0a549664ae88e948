/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A whole head and what follows it, as user space's session decides: requests are counted and
 * HEAD and CONNECT ones queued, so that each final response knows what it answers (no body
 * after HEAD, a tunnel after a 2xx to CONNECT or a 101); then the body's framing.
 */
#ifndef HTTPEEK_FRAME_PAIRING_H
#define HTTPEEK_FRAME_PAIRING_H

#include "frame/h2.h"

/* Queues entry e (request number << 2 | KIND_*, maybe SPECIAL_REMOTE). */
static __always_inline void frame_special_push(struct frame_conn *c, __u32 e)
{
	__u32 n = c->specials;

	if (n - *(volatile __u32 *)&c->special_read >= FRAME_SPECIALS) {
		c->kinds_lost = 1;
		return;
	}
	c->special[n & (FRAME_SPECIALS - 1)] = e;
	*(volatile __u32 *)&c->specials = n + 1;
}

/* The kind of request number req, which a final response answers. */
static __always_inline __u32 frame_special_pop(struct frame_conn *c, __u32 req)
{
	__u32 r = c->special_read, e;

	if (r == *(volatile __u32 *)&c->specials)
		return 0;
	e = c->special[r & (FRAME_SPECIALS - 1)];
	if (SPECIAL_REQ(e) != req) {
		if ((__s32)(SPECIAL_REQ(e) - req) < 0)
			c->kinds_lost = 1;  /* an entry was skipped: the counts disagree */
		return 0;
	}
	c->special_read = r + 1;
	return e & 3;
}

static __always_inline void frame_request_done(struct frame_scan *s, struct frame_conn *c)
{
	struct frame_dir *d = &s->d;
	__u32 kind = d->method & 3, k = c->reqs;

	if (d->flags & F_H2) {
		frame_h2_preface(d);
		c->tunnel[(s->dir ^ 1) & 1] = 3;  /* the connection is HTTP/2 from here on */
		return;
	}
	if (d->x & X_UPGRADED) {
		d->mode = D_TUNNEL;  /* HTTP/1.x after a 101 is the other protocol's */
		return;
	}
	if (kind && kind != KIND_PRI)
		frame_special_push(c, k << 2 | kind);
	*(volatile __u32 *)&c->reqs = k + 1;
	if (d->flags & F_TE) {
		d->mode = D_CHUNK;
		d->st = CH_SIZE;
	} else if ((d->flags & F_CL) && d->cl) {
		d->mode = D_BODY;
		d->remaining = d->cl;
	} else {
		frame_head_begin(d);
	}
}

static __always_inline void frame_response_done(struct frame_scan *s, struct frame_conn *c)
{
	struct frame_dir *d = &s->d;
	__u32 code = d->status, kind = 0, k;

	if (code / 100 == 1 && code != 101) {
		frame_head_begin(d);
		return;
	}
	k = c->answered;
	if (c->remote_reqs || *(volatile __u32 *)&c->reqs != k) {
		kind = frame_special_pop(c, k);
		c->answered = k + 1;
	}
	if (c->kinds_lost) {
		frame_whole(d);
	} else if (code == 101) {
		frame_head_begin(d);  /* HTTP/2 (h2c), or a tunnel: the next bytes tell */
		d->x |= X_UPGRADED;
		c->tunnel[(s->dir ^ 1) & 1] = 2;
	} else if (kind == KIND_CONNECT && code / 100 == 2) {
		d->mode = D_TUNNEL;
		c->tunnel[(s->dir ^ 1) & 1] = 1;
	} else if (kind == KIND_HEAD || code == 204 || code == 304) {
		frame_head_begin(d);
	} else if (d->flags & F_TE) {
		d->mode = D_CHUNK;
		d->st = CH_SIZE;
	} else if (d->flags & F_CL) {
		d->remaining = d->cl;
		if (d->cl)
			d->mode = D_BODY;
		else
			frame_head_begin(d);
	} else {
		d->mode = D_CLOSE;
	}
}

/* The empty line: the head is whole. Frames what follows as user space will. */
static __always_inline void frame_head_done(struct frame_scan *s, struct frame_conn *c)
{
	struct frame_dir *d = &s->d;

	d->flags |= F_PROVEN;
	d->remaining = 0;
	d->aux = 0;
	if (d->flags & F_RESPONSE)
		frame_response_done(s, c);
	else
		frame_request_done(s, c);
	d->flags &= F_KEEP;
	d->status = 0;
	d->method = 0;
	d->cl = 0;
	d->h = 0;
	d->body_copy = s->body_bytes;
}

#endif
