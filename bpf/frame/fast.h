/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fast path through heads: eight bytes at a time where no line can end (text, reasons,
 * targets), and whole tokens at once where they are common (methods, status lines,
 * Content-Length values). Each takes exactly the bytes the byte-by-byte path would.
 */
#ifndef HTTPEEK_FRAME_FAST_H
#define HTTPEEK_FRAME_FAST_H

#include "frame/head.h"

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
	       http_digit(major) && dot == '.' && http_digit(minor);
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
		    j == 7 && (v & 0xffffffffffffffull) == 0x5443454e4e4f43ull ? KIND_CONNECT :
		    j == 3 && (v & 0xffffff) == 0x495250 ? KIND_PRI : 0;                  /* PRI */
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

	if (!frame_is_version(v) || frame_byte(s, i + 8) != ' ' || !http_digit(a) ||
	    !http_digit(b) || !http_digit(c) || (e != ' ' && !(e == '\r' && f == '\n')))
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
	if (d->method == KIND_PRI && (d->st == H_TSPACE || d->st == H_TARGET))
		return 0;  /* the preface's "*": byte by byte (frame_preface_byte()) */
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
	l = http_lower(c);
	v = frame_word(s, i);
	if (d->st == H_LEAD && l == 'h' && frame_fast_status(s, pos, i, v))
		return 1;
	if (d->st == H_LEAD && c >= 'A' && c <= 'Z')
		return frame_fast_method(s, pos, i, v);
	if (d->st == H_VSPACE && l == 'h' && frame_is_version(v)) {
		if (d->method == KIND_PRI && v == 0x302e322f50545448ull)  /* "HTTP/2.0" */
			d->flags |= F_H2;
		else if (d->method == KIND_PRI)
			d->method = 0;
		if (frame_byte(s, i + 8) == '\r' && frame_byte(s, i + 9) == '\n') {
			d->st = H_LSTART;
			frame_take(s, pos, 10, 0);
		} else {
			d->st = H_VTRAIL;
			frame_take(s, pos, 8, 0);
		}
		return 1;
	}
	if (d->st != H_LSTART || c == '\r' || c == '\n' || http_ows(c))
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

#endif
