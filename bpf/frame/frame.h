/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's HTTP/1.x framer: follows one direction of a connection byte by byte as
 * src/http_stream.c does (heads, Content-Length and chunked bodies, HEAD, 1xx, 204, 304,
 * close-delimited bodies, tunnels) and marks the payload ranges user space needs: every
 * byte except body and chunk data, which user space skips by length. Whatever it cannot
 * frame as user space would, it copies whole from there on (D_WHOLE), so user space,
 * which frames exactly, still gets every byte it looks at.
 *
 * Compiled for BPF (the includer defines FRAME_LOAD with bpf_skb_load_bytes) and for user
 * space (tests and fuzzing define FRAME_LOAD with memcpy), so the two framers can be
 * compared on the same byte streams. One call of frame_step() handles one byte, eight head
 * bytes or one jump over body bytes; the caller loops until it returns 1.
 *
 * Needs __u8 .. __u64, __always_inline, FRAME_SRC (the type of src) and
 * FRAME_LOAD(src, off, dst, len) -> 0 or < 0.
 */
#ifndef HTTPEEK_FRAME_H
#define HTTPEEK_FRAME_H

#include "record.h"  /* REC_F_BOUNDARY, REC_F_WHOLE: the flags a range carries */

#define FRAME_CHUNK 64          /* bytes read at once */
#define FRAME_RANGES 4          /* payload ranges per packet; more are merged into the last */
#define FRAME_MERGE 128         /* skipped bytes shorter than this are copied instead */
#define FRAME_SPECIALS 16       /* HEAD and CONNECT requests waiting for their responses */
#define FRAME_TOKEN_MAX 32      /* longest method (user space's limit too) */
#define FRAME_CL_DIGITS 18
#define FRAME_STEPS_MAX 65536   /* frame_step() calls per packet; past them, the rest is whole */
#define FRAME_START_PROBE 24    /* bytes that decide whether a stream's bytes start a message */

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
#define F_H2 0x80         /* the request line says HTTP/2 or later */
#define F_KEEP (F_PROVEN | F_JOINED)

/* frame_dir.method: candidates while reading the token, then the request's kind. */
#define M_HTTP 0x01
#define M_HEAD 0x02
#define M_CONNECT 0x04
#define KIND_HEAD 1u
#define KIND_CONNECT 2u
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
	__u8 pad;
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
	__u8 tunnel[2];                  /* set for a direction by the other: it became a tunnel */
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
	__u8 pad[7];
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

static __always_inline int frame_is_tchar(__u8 c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return 1;
	}
	return 0;
}

static __always_inline __u8 frame_lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static __always_inline int frame_ows(__u8 c)
{
	return c == ' ' || c == '\t';
}

static __always_inline int frame_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

/*
 * The n bytes of b (n <= FRAME_START_PROBE) start a message: CR or LF at most 4 times, then
 * a token and SP, or "HTTP/".
 */
static __always_inline int frame_starts_message(const __u8 *b, __u32 n)
{
	__u32 i = 0, t = 0, http = 1;

	for (int k = 0; k < FRAME_START_PROBE; k++) {
		__u8 c = b[k];

		if ((__u32)k >= n)
			return 0;
		if (t == 0 && i < 4 && (c == '\r' || c == '\n')) {
			i++;
			continue;
		}
		if (http && t == 4 && c == '/')
			return 1;
		if (t < 4 && frame_lower(c) != (__u8)(0x70747468u >> (t * 8)))
			http = 0;
		if (c == ' ')
			return t > 0;
		if (!frame_is_tchar(c) || t >= FRAME_TOKEN_MAX)
			return 0;
		t++;
	}
	return 0;
}

/* Byte i of "content-length:" (te 0) or "transfer-encoding:" (te 1); 0 past the end. */
static __always_inline __u8 frame_name_char(int te, __u32 i)
{
	__u64 w;

	if (i >= 24)
		return 0;
	if (te)
		w = i < 8 ? 0x726566736e617274ull : i < 16 ? 0x6e69646f636e652dull : 0x3a67ull;
	else
		w = i < 8 ? 0x2d746e65746e6f63ull : i < 16 ? 0x3a6874676e656cull : 0;
	return (__u8)(w >> ((i & 7) * 8));
}

/* Byte i of "chunked"; 0 past the end. */
static __always_inline __u8 frame_chunked_char(__u32 i)
{
	return i < 7 ? (__u8)(0x64656b6e756863ull >> (i * 8)) : 0;
}

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
	if ((d->flags & F_PROVEN) || looks_http)
		d->mode = D_WHOLE;
	else if (d->flags & F_JOINED)
		d->mode = D_UNSYNCED;
	else
		d->mode = D_IGNORE;
}

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

static __always_inline void frame_request_done(struct frame_dir *d, struct frame_conn *c)
{
	__u32 kind = d->method & 3, k = c->reqs;

	if (d->flags & F_H2) {
		d->mode = D_IGNORE;
		return;
	}
	if (kind)
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
	} else if (code == 101 || (kind == KIND_CONNECT && code / 100 == 2)) {
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
		frame_request_done(d, c);
	d->flags &= F_KEEP;
	d->status = 0;
	d->method = 0;
	d->cl = 0;
	d->h = 0;
	d->body_copy = s->body_bytes;
}

static __always_inline void frame_token_byte(struct frame_dir *d, __u8 ch)
{
	__u32 t = d->aux;

	if ((d->method & M_HTTP) && t == 4 && ch == '/') {
		d->flags |= F_RESPONSE;
		d->st = H_RVERSION;
		d->idx = 0;
	} else if (frame_is_tchar(ch) && t < FRAME_TOKEN_MAX) {
		if (t >= 4 || frame_lower(ch) != (__u8)(0x70747468u >> (t * 8)))  /* "http" */
			d->method &= ~M_HTTP;
		if (t >= 4 || ch != (__u8)(0x44414548u >> (t * 8)))               /* "HEAD" */
			d->method &= ~M_HEAD;
		if (t >= 7 || ch != (__u8)(0x5443454e4e4f43ull >> (t * 8)))       /* "CONNECT" */
			d->method &= ~M_CONNECT;
		d->aux = t + 1;
	} else if (ch == ' ' && t) {
		d->method = (d->method & M_HEAD) && t == 4       ? KIND_HEAD
			    : (d->method & M_CONNECT) && t == 7 ? KIND_CONNECT
								 : 0;
		d->st = H_TSPACE;
	} else {
		frame_bad_start(d, 0);
	}
}

static __always_inline int frame_target_byte(__u8 ch)
{
	return ch > ' ' && ch != 0x7f;
}

/* Request line after the method. */
static __always_inline void frame_request_line(struct frame_dir *d, __u8 ch)
{
	switch (d->st) {
	case H_TSPACE:
		if (frame_target_byte(ch)) {
			d->st = H_TARGET;
			d->idx = ch == '/';
		} else if (!frame_ows(ch)) {
			frame_bad_start(d, 0);
		}
		break;
	case H_TARGET:
		/* A line that ends after a path is an HTTP/0.9 request to user space. */
		if (frame_ows(ch))
			d->st = H_VSPACE;
		else if (!frame_target_byte(ch))
			frame_bad_start(d, d->idx && (ch == '\r' || ch == '\n'));
		break;
	case H_VSPACE:
		if (frame_lower(ch) == 'h') {
			d->st = H_QVERSION;
			d->idx = 1;
		} else if (frame_target_byte(ch)) {
			d->st = H_TARGET;  /* "/uri afterspace": blanks inside the target */
		} else if (!frame_ows(ch)) {
			frame_bad_start(d, 0);
		}
		break;
	case H_QVERSION:
		if (d->idx < 5 && frame_lower(ch) == (__u8)(0x2f70747468ull >> (d->idx * 8))) {
			d->idx++;  /* "http/" */
		} else if ((d->idx == 5 || d->idx == 7) && frame_digit(ch)) {
			if (d->idx == 5 && ch >= '2')
				d->flags |= F_H2;
			if (d->idx++ == 7)
				d->st = H_VTRAIL;
		} else if (d->idx == 6 && ch == '.') {
			d->idx++;
		} else if (d->idx < 5 && frame_ows(ch)) {
			d->st = H_VSPACE;  /* "/a h b HTTP/1.1": a word of the target */
		} else if (d->idx < 5 && frame_target_byte(ch)) {
			d->st = H_TARGET;
		} else {
			frame_bad_start(d, d->idx >= 5);
		}
		break;
	default: /* H_VTRAIL */
		if (ch == '\r')
			d->st = H_LINE_CR;
		else if (ch == '\n')
			d->st = H_LSTART;
		else if (!frame_ows(ch))
			frame_bad_start(d, 1);
		break;
	}
}

/* Status line after "HTTP/". */
static __always_inline void frame_status_line(struct frame_dir *d, __u8 ch)
{
	switch (d->st) {
	case H_RVERSION:
		if ((d->idx == 0 || d->idx == 2) && frame_digit(ch))
			d->idx++;
		else if (d->idx == 1 && ch == '.')
			d->idx++;
		else if (d->idx == 3 && frame_ows(ch))
			d->st = H_RSPACE;
		else
			frame_bad_start(d, 1);
		break;
	case H_RSPACE:
		if (frame_digit(ch)) {
			d->st = H_CODE;
			d->status = ch - '0';
			d->idx = 1;
		} else if (!frame_ows(ch)) {
			frame_bad_start(d, 1);
		}
		break;
	case H_CODE:
		if (d->idx < 3 && frame_digit(ch)) {
			d->status = d->status * 10 + (ch - '0');
			d->idx++;
		} else if (d->idx == 3 && frame_ows(ch)) {
			d->st = H_REASON;
		} else if (d->idx == 3 && ch == '\r') {
			d->st = H_LINE_CR;
		} else if (d->idx == 3 && ch == '\n') {
			d->st = H_LSTART;
		} else {
			frame_bad_start(d, 1);
		}
		break;
	case H_REASON:
		if (ch == '\n')
			d->st = H_LSTART;
		break;
	default: /* H_LINE_CR */
		if (ch == '\n')
			d->st = H_LSTART;
		else
			frame_bad_start(d, 1);
		break;
	}
}

/* The end of a Content-Length or Transfer-Encoding value. */
static __always_inline void frame_value_done(struct frame_dir *d)
{
	if (d->flags & F_TE_NAME) {
		if (d->aux != 7 || (d->flags & F_TE)) {
			frame_whole(d);
			return;
		}
		d->flags |= F_TE;
	} else {
		if (!d->aux || ((d->flags & F_CL) && d->cl != d->remaining)) {
			frame_whole(d);
			return;
		}
		d->flags |= F_CL;
		d->cl = d->remaining;
	}
	d->flags |= F_FRAMING;
	d->st = H_LSTART;
}

static __always_inline void frame_cl_byte(struct frame_dir *d, __u8 ch)
{
	if (frame_ows(ch)) {
		if (d->idx == 1)
			d->idx = 2;
	} else if (frame_digit(ch) && d->idx < 2 && d->aux < FRAME_CL_DIGITS) {
		d->remaining = d->remaining * 10 + (ch - '0');
		d->aux++;
		d->idx = 1;
	} else if (ch == '\r') {
		d->st = H_VCR;
	} else if (ch == '\n') {
		frame_value_done(d);
	} else {
		frame_whole(d);
	}
}

/* "chunked" between blanks; anything else is left to user space (copied whole). */
static __always_inline void frame_te_byte(struct frame_dir *d, __u8 ch)
{
	if (frame_ows(ch)) {
		if (d->aux == 7)
			d->idx = 1;
		else if (d->aux)
			frame_whole(d);
	} else if (!d->idx && frame_lower(ch) == frame_chunked_char(d->aux)) {
		d->aux++;
	} else if (ch == '\r') {
		d->st = H_VCR;
	} else if (ch == '\n') {
		frame_value_done(d);
	} else {
		frame_whole(d);
	}
}

static __always_inline void frame_line_start(struct frame_scan *s, struct frame_conn *c,
					     __u8 ch)
{
	struct frame_dir *d = &s->d;
	__u8 l = frame_lower(ch);

	if (ch == '\n') {
		frame_head_done(s, c);
		return;
	}
	if (frame_ows(ch)) {
		/* Folding: a framing field's value would go on here. */
		if (d->flags & F_FRAMING)
			frame_whole(d);
		d->st = H_TEXT;
		return;
	}
	d->flags &= ~(F_FRAMING | F_TE_NAME);
	if (ch == '\r') {
		d->st = H_LCR;
	} else if (l == 'c' || l == 't') {
		if (l == 't')
			d->flags |= F_TE_NAME;
		d->st = H_NAME;
		d->idx = 1;
	} else {
		d->st = H_TEXT;
	}
}

static __always_inline void frame_name_byte(struct frame_dir *d, __u8 ch)
{
	__u8 want = frame_name_char(d->flags & F_TE_NAME, d->idx);

	if (want == ':' && ch == ':') {
		d->st = (d->flags & F_TE_NAME) ? H_TEV : H_CLV;
		d->idx = 0;
		d->aux = 0;
		d->remaining = 0;
	} else if (frame_lower(ch) == want && want != ':') {
		d->idx++;
	} else {
		d->flags &= ~F_TE_NAME;
		d->st = ch == '\n' ? H_LSTART : H_TEXT;
	}
}

/* One head byte; the caller has counted and copied it. */
static __always_inline void frame_head_byte(struct frame_scan *s, struct frame_conn *c, __u8 ch)
{
	struct frame_dir *d = &s->d;

	switch (d->st) {
	case H_LEAD:
		if (ch == '\r' || ch == '\n')
			return;
		d->st = H_TOKEN;
		d->aux = 0;
		d->h = 0;
		d->method = M_HTTP | M_HEAD | M_CONNECT;
		frame_count_head(s);
		frame_token_byte(d, ch);
		break;
	case H_TOKEN:
		frame_token_byte(d, ch);
		break;
	case H_TSPACE: case H_TARGET: case H_VSPACE: case H_QVERSION: case H_VTRAIL:
		frame_request_line(d, ch);
		break;
	case H_RVERSION: case H_RSPACE: case H_CODE: case H_REASON: case H_LINE_CR:
		frame_status_line(d, ch);
		break;
	case H_LSTART:
		frame_line_start(s, c, ch);
		break;
	case H_LCR:
		if (ch == '\n')
			frame_head_done(s, c);
		else
			d->st = H_TEXT;
		break;
	case H_NAME:
		frame_name_byte(d, ch);
		break;
	case H_CLV:
		frame_cl_byte(d, ch);
		break;
	case H_TEV:
		frame_te_byte(d, ch);
		break;
	case H_VCR:
		if (ch == '\n')
			frame_value_done(d);
		else
			frame_whole(d);
		break;
	default: /* H_TEXT */
		if (ch == '\n')
			d->st = H_LSTART;
		break;
	}
	if (d->mode == D_HEAD && d->st != H_LEAD && ++d->h >= s->max_head)
		frame_whole(d);  /* user space cuts the head here and resynchronises */
}

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
		} else if (!frame_ows(ch)) {
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

/* Makes sure buf holds the bytes [pos, pos + want) (when they exist). */
static __always_inline int frame_fill(struct frame_scan *s, FRAME_SRC src, __u32 pos, __u32 want)
{
	__u64 n;

	if (pos - s->buf_lo < s->buf_n && (want == 1 || pos - s->buf_lo + want <= s->buf_n ||
					     s->limit - pos < want))
		return 0;
	n = s->limit - pos;
	if (n > FRAME_CHUNK)
		n = FRAME_CHUNK;
	if (n < 1 || FRAME_LOAD(src, s->off + pos, s->buf, n) < 0)
		return -1;
	s->buf_lo = pos;
	s->buf_n = (__u32)n;
	return 0;
}

/* Head states whose bytes may be skipped eight at a time while no line ends. */
static __always_inline int frame_run_state(__u8 st)
{
	return st == H_TEXT || st == H_REASON || st == H_TARGET;
}

/* Head states frame_head_fast() may take more than one byte in. */
static __always_inline int frame_fast_state(__u8 st)
{
	return frame_run_state(st) || st == H_LSTART || st == H_LEAD || st == H_VSPACE ||
	       st == H_TSPACE || st == H_CLV;
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

/* Bits 0x80 set in the bytes of v equal to b (the lowest one is exact). */
static __always_inline __u64 frame_bytes_eq(__u64 v, __u64 b)
{
	__u64 x = v ^ (b * 0x0101010101010101ull);

	return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

/* The index of the lowest byte flagged in a frame_bytes_eq() mask (not 0). */
static __always_inline __u32 frame_first_byte(__u64 m)
{
	__u32 j = 0;

	m &= -m;
	if (!(m & 0xffffffffull)) {
		j += 4;
		m >>= 32;
	}
	if (!(m & 0xffffull)) {
		j += 2;
		m >>= 16;
	}
	if (!(m & 0xffull))
		j += 1;
	return j;
}

/* Takes n head bytes at pos in one step. */
static __always_inline void frame_take(struct frame_scan *s, __u32 pos, __u32 n, __u32 flags)
{
	frame_mark(s, pos, n, flags);
	s->d.h += n;
	s->pos = pos + n;
}

/*
 * Bytes that end a run in word v: a line feed in text or a reason; in a target also a blank,
 * a control byte or DEL.
 */
static __always_inline __u64 frame_run_stops(__u8 st, __u64 v)
{
	__u64 m = frame_bytes_eq(v, '\n');

	if (st == H_TARGET)
		m |= ((v - 0x2121212121212121ull) & ~v & 0x8080808080808080ull) |
		     frame_bytes_eq(v, 0x7f);
	return m;
}

/*
 * A run of text, reason or target bytes, word by word over what buf holds from i (n bytes):
 * text and a reason are taken up to and through the first line feed, a target up to its
 * first stop. Returns 1 when it took bytes.
 */
static __always_inline int frame_head_run(struct frame_scan *s, __u32 pos, __u32 i, __u32 n)
{
	__u8 st = s->d.st;
	__u32 k;

	for (k = 0; k < FRAME_CHUNK; k += 8) {
		__u32 left = n - k;
		__u64 stops;

		if (k >= n || i + k > FRAME_CHUNK - 8)
			break;
		stops = frame_run_stops(st, frame_word(s, i + k));
		if (left < 8)
			stops &= (1ull << (left * 8)) - 1;
		if (!stops)
			continue;
		k += frame_first_byte(stops);
		if (st != H_TARGET) {
			frame_take(s, pos, k + 1, 0);
			s->d.st = H_LSTART;
			return 1;
		}
		if (!k)
			return 0;
		frame_take(s, pos, k, 0);
		return 1;
	}
	if (k > n)
		k = n;
	if (!k)
		return 0;
	frame_take(s, pos, k, 0);
	return 1;
}

/* "http/" in any case, a digit, '.', a digit: the eight bytes of a version. */
static __always_inline int frame_is_version(__u64 v)
{
	__u8 major = (__u8)(v >> 40), dot = (__u8)(v >> 48), minor = (__u8)(v >> 56);

	return ((v | 0x20202020ull) & 0xffffffffffull) == 0x2f70747468ull &&
	       frame_digit(major) && dot == '.' && frame_digit(minor);
}

/*
 * A field line whose name is Content-Length or Transfer-Encoding (n bytes from i in buf, at
 * least 18): its value comes next. Returns 0 when it is neither.
 */
static __always_inline int frame_framing_name(struct frame_scan *s, __u32 pos, __u32 i)
{
	__u64 a = frame_word(s, i), b = frame_word(s, i + 7), c = frame_word(s, i + 10);
	struct frame_dir *d = &s->d;

	if ((a | 0x0020202020202020ull) == 0x2d746e65746e6f63ull &&  /* "content-" */
	    (b | 0x0020202020202000ull) == 0x3a6874676e656c2dull) {  /* "-length:" */
		frame_take(s, pos, 15, 0);
		d->st = H_CLV;
	} else if ((a | 0x2020202020202020ull) == 0x726566736e617274ull &&  /* "transfer" */
		   (frame_word(s, i + 8) | 0x2020202020202000ull) == 0x6e69646f636e652dull &&
		   (c | 0x0020202020202020ull) == 0x3a676e69646f636eull) {  /* "ncoding:" */
		frame_take(s, pos, 18, 0);
		d->st = H_TEV;
		d->flags |= F_TE_NAME;
	} else {
		return 0;
	}
	d->idx = 0;
	d->aux = 0;
	d->remaining = 0;
	return 1;
}

/* Bytes of v that are not capital letters (0x80 set in them). */
static __always_inline __u64 frame_not_caps(__u64 v)
{
	__u64 t = v & 0x7f7f7f7f7f7f7f7full, hi = 0x8080808080808080ull;

	return ((v | (t + 0x2525252525252525ull)) & hi) |            /* >= 0x80, > 'Z' */
	       (~((t | hi) - 0x4141414141414141ull) & hi);          /* < 'A' */
}

/* Bytes of v that are not decimal digits (0x80 set in them). */
static __always_inline __u64 frame_not_digits(__u64 v)
{
	__u64 t = v & 0x7f7f7f7f7f7f7f7full, hi = 0x8080808080808080ull;

	return ((v | (t + 0x4646464646464646ull)) & hi) |            /* >= 0x80, > '9' */
	       (~((t | hi) - 0x3030303030303030ull) & hi);          /* < '0' */
}

/* A method of capitals in word v ending in a space within its eight bytes: its length, or 0. */
static __always_inline __u32 frame_caps_method(__u64 v)
{
	__u64 sp = frame_bytes_eq(v, ' ');
	__u32 j;

	if (!sp)
		return 0;
	j = frame_first_byte(sp);
	if (!j || (frame_not_caps(v) & ((1ull << (j * 8)) - 1)))
		return 0;
	return j;
}

/* The value of the j (1 to 7) decimal digits at the start of word v (byte 0 the first). */
static __always_inline __u64 frame_digits_value(__u64 v, __u32 j)
{
	__u64 x = (v - 0x3030303030303030ull) << ((8 - j) * 8);

	x = ((x & 0x0f0f0f0f0f0f0f0full) * 2561) >> 8;
	x = ((x & 0x00ff00ff00ff00ffull) * 6553601) >> 16;
	return ((x & 0x0000ffff0000ffffull) * 42949672960001ull) >> 32;
}

/* A request line's method at once ("GET ", "HEAD ", "CONNECT "). */
static __always_inline int frame_fast_method(struct frame_scan *s, __u32 pos, __u32 i, __u64 v)
{
	struct frame_dir *d = &s->d;
	__u32 j = frame_caps_method(v);

	if (!j)
		return 0;
	d->aux = j;
	d->h = 0;
	d->method = j == 4 && (__u32)v == 0x44414548u ? KIND_HEAD :                       /* HEAD */
		    j == 7 && (v & 0xffffffffffffffull) == 0x5443454e4e4f43ull ? KIND_CONNECT : 0;
	d->st = H_TSPACE;
	frame_take(s, pos, j + 1, REC_F_BOUNDARY);
	frame_count_head(s);
	return 1;
}

/* "HTTP/d.d ddd " or "HTTP/d.d ddd\r\n" at once; the reason, if any, comes next. */
static __always_inline int frame_fast_status(struct frame_scan *s, __u32 pos, __u32 i, __u64 v)
{
	struct frame_dir *d = &s->d;
	__u8 a = frame_byte(s, i + 9), b = frame_byte(s, i + 10), c = frame_byte(s, i + 11);
	__u8 e = frame_byte(s, i + 12), f = frame_byte(s, i + 13);

	if (!frame_is_version(v) || frame_byte(s, i + 8) != ' ' || !frame_digit(a) ||
	    !frame_digit(b) || !frame_digit(c) || (e != ' ' && !(e == '\r' && f == '\n')))
		return 0;
	d->aux = 0;
	d->h = 0;
	d->method = 0;
	d->flags |= F_RESPONSE;
	d->status = (a - '0') * 100 + (b - '0') * 10 + (c - '0');
	d->st = e == ' ' ? H_REASON : H_LSTART;
	frame_take(s, pos, e == ' ' ? 13 : 14, REC_F_BOUNDARY);
	frame_count_head(s);
	return 1;
}

/*
 * A Content-Length value in its usual form, one space, 1 to 7 digits, CRLF or LF, at once
 * (frame_cl_byte() reads every other form). Needs 11 bytes at i.
 */
static __always_inline int frame_fast_length(struct frame_scan *s, __u32 pos, __u32 i)
{
	struct frame_dir *d = &s->d;
	__u64 v = frame_word(s, i + 1), nd = frame_not_digits(v);
	__u32 j;
	__u8 e;

	if (frame_byte(s, i) != ' ' || !nd)
		return 0;
	j = frame_first_byte(nd);
	e = frame_byte(s, i + 1 + j);
	if (!j || (e != '\n' && !(e == '\r' && frame_byte(s, i + 2 + j) == '\n')))
		return 0;
	d->aux = j;
	d->remaining = frame_digits_value(v, j);
	frame_take(s, pos, 1 + j + (e == '\r' ? 2 : 1), 0);
	frame_value_done(d);
	return 1;
}

/*
 * More than one head byte in one step where it is safe: runs of text, whole field names,
 * methods, status lines, versions, length values, the empty line, as far as buf holds them.
 * Returns 1 when it took bytes.
 */
static __always_inline int frame_head_fast(struct frame_scan *s, struct frame_conn *cn,
					   __u32 pos)
{
	struct frame_dir *d = &s->d;
	__u32 i = pos - s->buf_lo, n = s->buf_n - i;
	__u8 c, l;
	__u64 v;

	if (i > FRAME_CHUNK - 8 || n < 2 || d->h + 24 >= s->max_head)
		return 0;
	if (frame_run_state(d->st))
		return frame_head_run(s, pos, i, n);
	c = frame_byte(s, i);
	if (d->st == H_LSTART && c == '\r' && frame_byte(s, i + 1) == '\n') {
		frame_take(s, pos, 2, 0);
		frame_head_done(s, cn);
		return 1;
	}
	if (d->st == H_CLV)
		return !d->idx && !d->aux && i <= FRAME_CHUNK - 18 && n >= 11 &&
		       frame_fast_length(s, pos, i);
	if (d->st == H_TSPACE && frame_target_byte(c)) {
		d->st = H_TARGET;
		d->idx = c == '/';
		return frame_head_run(s, pos, i, n);
	}
	if (i > FRAME_CHUNK - 18 || n < 14)
		return 0;
	l = frame_lower(c);
	v = frame_word(s, i);
	if (d->st == H_LEAD && l == 'h' && frame_fast_status(s, pos, i, v))
		return 1;
	if (d->st == H_LEAD && c >= 'A' && c <= 'Z')
		return frame_fast_method(s, pos, i, v);
	if (d->st == H_VSPACE && l == 'h' && frame_is_version(v)) {
		if ((__u8)(v >> 40) >= '2')
			d->flags |= F_H2;
		if (frame_byte(s, i + 8) == '\r' && frame_byte(s, i + 9) == '\n') {
			d->st = H_LSTART;
			frame_take(s, pos, 10, 0);
		} else {
			d->st = H_VTRAIL;
			frame_take(s, pos, 8, 0);
		}
		return 1;
	}
	if (d->st != H_LSTART || c == '\r' || c == '\n' || frame_ows(c))
		return 0;
	d->flags &= ~(F_FRAMING | F_TE_NAME);
	if (l == 'c' || l == 't') {
		if (n < 18)
			return 0;
		if (frame_framing_name(s, pos, i))
			return 1;
	}
	d->st = H_TEXT;
	return frame_head_run(s, pos, i, n);
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
 * One step over the payload: returns 1 when the pass is over (pos reached limit, or the
 * bytes could not be read: then limit is cut to pos).
 */
static __always_inline int frame_step(struct frame_scan *s, struct frame_conn *c, FRAME_SRC src)
{
	struct frame_dir *d = &s->d;
	__u32 pos = s->pos;
	int run;

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
	case D_WHOLE:
		frame_mark(s, pos, s->limit - pos, REC_F_WHOLE);
		s->pos = s->limit;
		return 1;
	default: /* D_TUNNEL, D_IGNORE, D_UNSYNCED */
		s->pos = s->limit;
		return 1;
	}
	run = d->mode == D_HEAD && frame_fast_state(d->st);
	if (frame_fill(s, src, pos, run ? 18 : 1) < 0) {
		s->limit = pos;
		return 1;
	}
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
	if ((f->mode == D_BODY || (f->mode == D_CHUNK && f->st == CH_DATA)) && f->remaining >= n) {
		f->remaining -= n;
		if (!f->remaining) {
			if (f->mode == D_BODY)
				frame_head_begin(f);
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
}

#endif
