/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a direction's byte stream stands between packets: retransmissions are skipped,
 * bytes ahead of a hole are copied whole at once and stepped over when the hole turns out
 * to be body; anything else tangled goes whole.
 */
#ifndef HTTPEEK_FRAME_SEQ_H
#define HTTPEEK_FRAME_SEQ_H

#include "frame/state.h"

/*
 * Where a direction's byte stream stands: framed up to next; bytes that came ahead of a
 * hole are copied whole at once and remembered, so that once the hole is framed they can
 * be stepped over (inside a body) or the direction goes whole.
 */
struct frame_seq {
	__u32 next;        /* sequence number of the next byte to frame */
	__u32 ooo_seq;     /* [ooo_seq, ooo_end): early bytes; equal: none */
	__u32 ooo_end;
	__u32 tangled;     /* more than one hole: every copy may be early from now on */
};

enum frame_act {
	ACT_NONE,          /* nothing of the payload to copy (FIN or RST may still be) */
	ACT_FRAME,         /* frame [from, limit), then frame_after() */
	ACT_WHOLE,         /* copy [from, plen) whole */
};

struct frame_plan {
	__u32 from, limit;
	__u8 act;          /* enum frame_act */
	__u8 early;        /* the whole copy may be ahead of bytes still to come */
};

static __always_inline void frame_seq_init(struct frame_seq *q, __u32 seq)
{
	q->next = q->ooo_seq = q->ooo_end = seq;
	q->tangled = 0;
}

/* Remembers early bytes [seq, end); a second hole tangles the direction (goes whole). */
static __always_inline void frame_seq_early(struct frame_seq *q, struct frame_dir *f, __u32 seq,
					    __u32 end)
{
	if (q->ooo_end == q->ooo_seq) {
		q->ooo_seq = seq;
		q->ooo_end = end;
	} else if ((__s32)(seq - q->ooo_end) <= 0 && (__s32)(end - q->ooo_seq) >= 0) {
		if ((__s32)(seq - q->ooo_seq) < 0)
			q->ooo_seq = seq;
		if ((__s32)(end - q->ooo_end) > 0)
			q->ooo_end = end;
	} else {
		frame_whole(f);
		q->tangled = 1;
	}
}

/* In-order bytes up to end were copied whole: next moves there, and past early bytes. */
static __always_inline void frame_seq_advance(struct frame_seq *q, __u32 end)
{
	if ((__s32)(end - q->next) > 0)
		q->next = end;
	if (q->ooo_end != q->ooo_seq && (__s32)(q->next - q->ooo_seq) >= 0) {
		if ((__s32)(q->ooo_end - q->next) > 0)
			q->next = q->ooo_end;
		q->ooo_seq = q->ooo_end = q->next;
	}
}

/* What to do with the payload of a packet of a followed direction (f->mode not D_UNSYNCED). */
static __always_inline void frame_plan(struct frame_seq *q, struct frame_dir *f, __u32 seq,
				       __u32 plen, struct frame_plan *pl)
{
	__s32 ahead = seq - q->next;

	pl->from = 0;
	pl->limit = plen;
	pl->early = 0;
	pl->act = ACT_NONE;
	if (f->mode == D_TUNNEL || f->mode == D_IGNORE || (f->mode == D_CLOSE && !f->body_copy))
		return;
	if (ahead > 0) {
		frame_seq_early(q, f, seq, seq + plen);
		pl->act = ACT_WHOLE;
		pl->early = 1;
	} else if ((__u32)-ahead >= plen) {
		return;  /* a retransmission */
	} else if (f->mode == D_WHOLE) {
		frame_seq_advance(q, seq + plen);
		pl->act = ACT_WHOLE;
		pl->early = (__u8)q->tangled;
	} else {
		pl->act = ACT_FRAME;
		pl->from = -ahead;
		if (q->ooo_end != q->ooo_seq && (__s32)(q->ooo_seq - (seq + plen)) < 0)
			pl->limit = q->ooo_seq - seq;
	}
}

/*
 * After framing [from, done) of an ACT_FRAME packet: steps over early bytes that the hole
 * led into when they are body, else the direction goes whole. Returns the payload offset
 * from which the rest of the packet is copied whole (plen: nothing). *mark: the framed part
 * left no copy, yet user space must learn that it ends at done (early bytes are held there).
 */
static __always_inline __u32 frame_after(struct frame_seq *q, struct frame_dir *f, __u32 seq,
					 __u32 plen, __u32 done, int copied, int *mark)
{
	__u32 n;

	q->next = seq + done;
	*mark = 0;
	if (q->ooo_end == q->ooo_seq || q->next != q->ooo_seq)
		return plen;
	n = q->ooo_end - q->ooo_seq;
	if ((f->mode == D_BODY || (f->mode == D_CHUNK && f->st == CH_DATA) ||
	     (f->mode == D_H2 && f->st == F2_SKIP)) && f->remaining >= n) {
		f->remaining -= n;
		if (!f->remaining) {
			if (f->mode == D_BODY)
				frame_head_begin(f);
			else if (f->mode == D_H2)
				f->st = F2_HEAD;
			else
				f->st = CH_DATA_CR;
		}
	} else if (f->mode != D_CLOSE && f->mode != D_TUNNEL && f->mode != D_IGNORE) {
		frame_whole(f);
		*mark = !copied && done;
	}
	q->next = q->ooo_end;
	q->ooo_seq = q->ooo_end;
	if ((__s32)(seq + plen - q->next) <= 0)
		return plen;
	frame_whole(f);
	return q->next - seq;
}

#endif
