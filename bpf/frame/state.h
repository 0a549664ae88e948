/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The framer's state: what each direction of a connection is doing (struct frame_dir), what
 * the two directions share (struct frame_conn), one pass over a payload (struct frame_scan)
 * and the payload ranges it marks for copying. Needs __u8 .. __u64 and __always_inline.
 */
#ifndef HTTPEEK_FRAME_STATE_H
#define HTTPEEK_FRAME_STATE_H

#include "record.h"
#include "frame/token.h"

#define FRAME_CHUNK 64          /* bytes read at once */
#define FRAME_RANGES 4          /* payload ranges per packet; more are merged into the last */
#define FRAME_MERGE 128         /* skipped bytes shorter than this are copied instead */
#define FRAME_SPECIALS 16       /* HEAD and CONNECT requests waiting for their responses */
#define FRAME_CL_DIGITS 18
#define FRAME_STEPS_MAX 65536   /* frame_step() calls per packet; past them, the rest is whole */

/* What a direction is doing. */
enum frame_mode {
	D_UNSYNCED = 0, /* not following it: waits for a packet that starts a message */
	D_HEAD,         /* in a head, or between messages */
	D_BODY,         /* Content-Length body: remaining bytes */
	D_CHUNK,        /* chunked body */
	D_CLOSE,        /* body delimited by the end of the connection */
	D_TUNNEL,       /* after 101 or a 2xx to CONNECT: not HTTP any more */
	D_WHOLE,        /* cannot frame as user space would: everything is copied */
	D_IGNORE,       /* its first bytes were not HTTP/1.x */
	D_H2,           /* HTTP/2 frames (h2.h) */
};

/* Byte states in D_HEAD. */
enum frame_head_state {
	H_LEAD = 0,     /* between messages: CR and LF are skipped */
	H_TOKEN,        /* the first token: a method, or "HTTP" of a status line */
	H_TSPACE,       /* blanks before the request target */
	H_TARGET,
	H_VSPACE,       /* blanks before the version */
	H_QVERSION,     /* request version "HTTP/d.d" */
	H_VTRAIL,       /* blanks after the version */
	H_RVERSION,     /* status line: "d.d" after "HTTP/" */
	H_RSPACE,       /* blanks before the status code */
	H_CODE,
	H_REASON,
	H_LINE_CR,      /* CR at the end of the start line: LF must follow */
	H_LSTART,       /* at the start of a field line */
	H_LCR,          /* the line so far is one CR */
	H_NAME,         /* matching "content-length:" or "transfer-encoding:" */
	H_TEXT,         /* the rest of a field line */
	H_CLV,          /* a Content-Length value */
	H_TEV,          /* a Transfer-Encoding value */
	H_VCR,          /* CR after such a value: LF must follow */
};

/* Byte states in D_CHUNK, as in http_stream.c. */
enum frame_chunk_state {
	CH_SIZE = 0, CH_SIZE_WS, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER,
};

/* frame_dir.flags */
#define F_RESPONSE 0x01   /* the head being read is a response */
#define F_CL 0x02         /* it has a valid Content-Length (cl) */
#define F_TE 0x04         /* it says Transfer-Encoding: chunked */
#define F_TE_NAME 0x08    /* the field being matched or read is Transfer-Encoding */
#define F_FRAMING 0x10    /* the last field line was Content-Length or Transfer-Encoding */
#define F_PROVEN 0x20     /* a whole head was framed in this direction */
#define F_JOINED 0x40     /* followed from a packet that looked like a message start */
#define F_H2 0x80         /* the request line is the HTTP/2 preface's, "PRI * HTTP/2.0" */
#define F_KEEP (F_PROVEN | F_JOINED)

/* frame_dir.x */
#define X_SEEN 0x01       /* a byte of the direction was framed */
#define X_UPGRADED 0x02   /* after a 101: HTTP/2 (SETTINGS, or the preface) or a tunnel */
#define X_PROBED 0x04     /* the other direction's 101 was seen (frame_conn.tunnel 2) */
#define X_COUNT 0x08      /* HTTP/2 found in mid-connection: framed and counted, not copied */
#define X_PROBING 0x10    /* a first frame header cut by the packet's end: SETTINGS or not */

/* frame_dir.method: candidates while reading the token, then the request's kind. */
#define M_HTTP 0x01
#define M_HEAD 0x02
#define M_CONNECT 0x04
#define M_PRI 0x08
#define KIND_HEAD 1u
#define KIND_CONNECT 2u
#define KIND_PRI 3u       /* "PRI", and the line so far is the preface's, byte for byte */
#define SPECIAL_REMOTE (1u << 31)  /* frame_conn.special: framed by the peer socket */
#define SPECIAL_REQ(e) (((e) >> 2) & 0x1fffffff)

/* One direction's framing state, kept between packets. */
struct frame_dir {
	__u64 remaining;   /* body or chunk-data bytes left; a number being read in a head */
	__u64 cl;          /* Content-Length of the head being read */
	__u32 h;           /* bytes of the head so far */
	__u32 aux;         /* token length, digits, extension or trailer bytes */
	__u32 body_copy;   /* body bytes still to copy after the last head (--body-bytes) */
	__u16 status;
	__u8 mode;         /* enum frame_mode */
	__u8 st;           /* enum frame_head_state or frame_chunk_state */
	__u8 idx;          /* position in a word being matched; a line state */
	__u8 flags;        /* F_* */
	__u8 method;       /* M_* while in the token, then KIND_* */
	__u8 x;            /* X_* */
};

/*
 * What both directions of a connection share: the queue that pairs responses with
 * requests, as user space's session does, reduced to counts and the HEAD and CONNECT
 * requests still waiting. Each direction writes only its own fields.
 */
struct frame_conn {
	__u32 reqs;                      /* requests framed (written by the request side) */
	__u32 answered;                  /* final responses paired with one (response side) */
	__u32 specials;                  /* entries pushed into special[] (request side) */
	__u32 special_read;              /* entries consumed (response side) */
	__u32 special[FRAME_SPECIALS];   /* request number << 2 | KIND_*, SPECIAL_REMOTE */
	__u8 kinds_lost;                 /* special[] overflowed: kinds are unknown */
	__u8 tunnel[2];                  /* set for a direction by the other: 1 it became a
					  * tunnel, 2 a 101 (HTTP/2 may follow), 3 the
					  * HTTP/2 preface (HTTP/2 from here on) */
	__u8 remote_reqs;                /* requests are framed by the peer socket (loopback):
					  * every final response answers one */
	__u8 pad[4];
};

/* A payload range to copy; flags are REC_F_* for the record that carries it. */
struct frame_range {
	__u32 lo, hi;
	__u32 heads;       /* messages that start in it */
	__u32 flags;
};

/* One pass over a payload: the direction's state and the cursor. */
struct frame_scan {
	struct frame_dir d;
	__u32 pos;         /* payload offset of the next byte */
	__u32 limit;       /* payload bytes to look at */
	__u32 off;         /* where payload byte 0 is in the source */
	__u32 buf_lo;      /* payload offset of buf[0] */
	__u32 buf_n;       /* valid bytes in buf */
	__u32 max_head;
	__u32 body_bytes;
	__u32 nr;          /* ranges used */
	__u8 dir;          /* this direction's index in frame_conn.tunnel */
	__u8 pad[3];
	__u32 h2_blocks;   /* HTTP/2 header blocks framed in the pass */
	struct frame_range r[FRAME_RANGES];
	__u8 buf[FRAME_CHUNK] __attribute__((aligned(8)));
};

#ifdef __bpf__
#define FRAME_FN __noinline  /* global: verified once, on its own */
#define frame_load64(p) (*(const __u64 *)(p))  /* unaligned map-value loads are fine here */
/* Keeps the compiler from folding a checked index into other arithmetic the verifier lost. */
#define FRAME_BARRIER(x) asm volatile("" : "+r"(x))
#else
#define FRAME_FN static inline
#define FRAME_BARRIER(x) ((void)0)
static inline __u64 frame_load64(const void *p)
{
	__u64 v;

	__builtin_memcpy(&v, p, 8);
	return v;
}
#endif

/* Adds [lo, lo + n) to the ranges to copy. */
static __always_inline void frame_mark(struct frame_scan *s, __u32 lo, __u32 n, __u32 flags)
{
	__u32 k = s->nr, hi = lo + n;
	struct frame_range *r;

	if (k && k <= FRAME_RANGES) {
		r = &s->r[(k - 1) & (FRAME_RANGES - 1)];
		if (lo <= r->hi + FRAME_MERGE || k == FRAME_RANGES) {
			if (hi > r->hi)
				r->hi = hi;
			r->flags |= flags & REC_F_WHOLE;
			return;
		}
	}
	if (k >= FRAME_RANGES)
		return;
	r = &s->r[k & (FRAME_RANGES - 1)];
	r->lo = lo;
	r->hi = hi;
	r->heads = 0;
	r->flags = flags;
	s->nr = k + 1;
}

/* Counts a message start in the range being built. */
static __always_inline void frame_count_head(struct frame_scan *s)
{
	__u32 k = s->nr;

	if (k && k <= FRAME_RANGES)
		s->r[(k - 1) & (FRAME_RANGES - 1)].heads++;
}

static __always_inline void frame_head_begin(struct frame_dir *d)
{
	d->mode = D_HEAD;
	d->st = H_LEAD;
}

/* The framer cannot follow what user space will do: copy everything from here on. */
static __always_inline void frame_whole(struct frame_dir *d)
{
	d->mode = D_WHOLE;
}

/*
 * A start line that user space may not take as HTTP/1.x: copied whole where it may (the
 * direction carried HTTP, or it reached a version), else the direction is not HTTP.
 */
static __always_inline void frame_bad_start(struct frame_dir *d, int looks_http)
{
	if (d->x & X_UPGRADED)
		d->mode = D_TUNNEL;  /* after a 101: not HTTP/2's preface */
	else if ((d->flags & F_PROVEN) || looks_http)
		d->mode = D_WHOLE;
	else if (d->flags & F_JOINED)
		d->mode = D_UNSYNCED;
	else
		d->mode = D_IGNORE;
}

/* The eight bytes at buf[i] (the caller keeps i + 8 within buf; else 0). */
static __always_inline __u64 frame_word(const struct frame_scan *s, __u32 i)
{
	FRAME_BARRIER(i);
	if (i > FRAME_CHUNK - 8)
		return 0;
	return frame_load64(&s->buf[i]);
}

/* The byte at buf[i]. */
static __always_inline __u8 frame_byte(const struct frame_scan *s, __u32 i)
{
	FRAME_BARRIER(i);
	return s->buf[i & (FRAME_CHUNK - 1)];
}

#endif
