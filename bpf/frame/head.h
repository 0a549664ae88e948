/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A head, one byte at a time: the start line (method, target and version, or version, status
 * and reason), then field lines, reading only Content-Length and Transfer-Encoding. What user
 * space may take otherwise is left to it: copied whole from there on.
 */
#ifndef HTTPEEK_FRAME_HEAD_H
#define HTTPEEK_FRAME_HEAD_H

#include "frame/pairing.h"

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

/*
 * The first bytes of a token (in remaining while the token is read, the first byte lowest)
 * and its length name a method user space takes alone on a line, as a request whose fields
 * follow (http.c's parse_bare_request(): GET HEAD POST PUT DELETE OPTIONS TRACE CONNECT PATCH).
 */
static __always_inline int frame_bare_method(__u64 w, __u32 t)
{
	switch (t) {
	case 3:
		return w == 0x544547 || w == 0x545550;                    /* GET PUT */
	case 4:
		return w == 0x44414548 || w == 0x54534f50;                /* HEAD POST */
	case 5:
		return w == 0x4543415254ull || w == 0x4843544150ull;      /* TRACE PATCH */
	case 6:
		return w == 0x4554454c4544ull;                            /* DELETE */
	case 7:
		return w == 0x534e4f4954504full || w == 0x5443454e4e4f43ull;  /* OPTIONS CONNECT */
	}
	return 0;
}

static __always_inline void frame_token_byte(struct frame_dir *d, __u8 ch)
{
	__u32 t = d->aux;

	if ((d->method & M_HTTP) && t == 4 && ch == '/') {
		d->flags |= F_RESPONSE;
		d->st = H_RVERSION;
		d->idx = 0;
	} else if (http_is_tchar(ch) && t < HTTP_TOKEN_MAX) {
		if (t >= 4 || http_lower(ch) != (__u8)(0x70747468u >> (t * 8)))  /* "http" */
			d->method &= ~M_HTTP;
		if (t >= 4 || ch != (__u8)(0x44414548u >> (t * 8)))               /* "HEAD" */
			d->method &= ~M_HEAD;
		if (t >= 7 || ch != (__u8)(0x5443454e4e4f43ull >> (t * 8)))       /* "CONNECT" */
			d->method &= ~M_CONNECT;
		if (t >= 3 || ch != (__u8)(0x495250u >> (t * 8)))                 /* "PRI" */
			d->method &= ~M_PRI;
		if (t < 8)
			d->remaining |= (__u64)ch << (t * 8);
		d->aux = t + 1;
	} else if (ch == ' ' && t) {
		d->method = (d->method & M_HEAD) && t == 4       ? KIND_HEAD
			    : (d->method & M_CONNECT) && t == 7 ? KIND_CONNECT
			    : (d->method & M_PRI) && t == 3     ? KIND_PRI
								 : 0;
		d->st = H_TSPACE;
	} else if ((ch == '\r' || ch == '\n') && frame_bare_method(d->remaining, t)) {
		/* A bare method: its fields follow, as after a whole request line. */
		d->method = (d->method & M_HEAD) && t == 4       ? KIND_HEAD
			    : (d->method & M_CONNECT) && t == 7 ? KIND_CONNECT
								 : 0;
		d->remaining = 0;
		d->st = ch == '\r' ? H_LINE_CR : H_LSTART;
	} else {
		frame_bad_start(d, 0);
	}
}

static __always_inline int frame_target_byte(__u8 ch)
{
	return ch > ' ' && ch != 0x7f;
}

/*
 * Byte ch of a request line in state st (idx as it stands) is the preface's, "PRI * HTTP/2.0"
 * after the method and its space, as user space matches it byte for byte.
 */
static __always_inline int frame_preface_byte(struct frame_dir *d, __u8 ch)
{
	switch (d->st) {
	case H_TSPACE:
		return ch == '*';
	case H_TARGET:
		return ch == ' ';
	case H_VSPACE:
		return ch == 'H';
	case H_QVERSION:
		return ch == (__u8)(0x302e322f50545448ull >> (d->idx * 8));  /* "HTTP/2.0" */
	}
	return 1;  /* H_VTRAIL: blanks and the line's end */
}

/* Request line after the method. */
static __always_inline void frame_request_line(struct frame_dir *d, __u8 ch)
{
	if (d->method == KIND_PRI && !frame_preface_byte(d, ch))
		d->method = 0;
	switch (d->st) {
	case H_TSPACE:
		if (frame_target_byte(ch)) {
			d->st = H_TARGET;
			d->idx = ch == '/';
		} else if (!http_ows(ch)) {
			frame_bad_start(d, 0);
		}
		break;
	case H_TARGET:
		/* A line that ends after a path is an HTTP/0.9 request to user space. */
		if (http_ows(ch))
			d->st = H_VSPACE;
		else if (!frame_target_byte(ch))
			frame_bad_start(d, d->idx && (ch == '\r' || ch == '\n'));
		break;
	case H_VSPACE:
		if (http_lower(ch) == 'h') {
			d->st = H_QVERSION;
			d->idx = 1;
		} else if (frame_target_byte(ch)) {
			d->st = H_TARGET;  /* "/uri afterspace": blanks inside the target */
		} else if (ch == '\r' || ch == '\n') {
			frame_bad_start(d, d->idx);  /* a path and blanks, no version: as in H_TARGET */
		} else if (!http_ows(ch)) {
			frame_bad_start(d, 0);
		}
		break;
	case H_QVERSION:
		if (d->idx < 5 && http_lower(ch) == (__u8)(0x2f70747468ull >> (d->idx * 8))) {
			d->idx++;  /* "http/" */
		} else if ((d->idx == 5 || d->idx == 7) && http_digit(ch)) {
			if (d->idx++ != 7)
				break;
			d->st = H_VTRAIL;
			if (d->method == KIND_PRI)
				d->flags |= F_H2;
		} else if (d->idx == 6 && ch == '.') {
			d->idx++;
		} else if (d->idx < 5 && http_ows(ch)) {
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
		else if (!http_ows(ch))
			frame_bad_start(d, 1);
		break;
	}
}

/* Status line after "HTTP/". */
static __always_inline void frame_status_line(struct frame_dir *d, __u8 ch)
{
	switch (d->st) {
	case H_RVERSION:
		if ((d->idx == 0 || d->idx == 2) && http_digit(ch))
			d->idx++;
		else if (d->idx == 1 && ch == '.')
			d->idx++;
		else if (d->idx == 3 && http_ows(ch))
			d->st = H_RSPACE;
		else
			frame_bad_start(d, 1);
		break;
	case H_RSPACE:
		if (http_digit(ch)) {
			d->st = H_CODE;
			d->status = ch - '0';
			d->idx = 1;
		} else if (!http_ows(ch)) {
			frame_bad_start(d, 1);
		}
		break;
	case H_CODE:
		if (d->idx < 3 && http_digit(ch)) {
			d->status = d->status * 10 + (ch - '0');
			d->idx++;
		} else if (d->idx == 3 && http_ows(ch)) {
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
	if (http_ows(ch)) {
		if (d->idx == 1)
			d->idx = 2;
	} else if (http_digit(ch) && d->idx < 2 && d->aux < FRAME_CL_DIGITS) {
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
	if (http_ows(ch)) {
		if (d->aux == 7)
			d->idx = 1;
		else if (d->aux)
			frame_whole(d);
	} else if (!d->idx && http_lower(ch) == frame_chunked_char(d->aux)) {
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
	__u8 l = http_lower(ch);

	if (ch == '\n') {
		frame_head_done(s, c);
		return;
	}
	if (http_ows(ch)) {
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
	} else if (http_lower(ch) == want && want != ':') {
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
		d->remaining = 0;
		d->method = M_HTTP | M_HEAD | M_CONNECT | M_PRI;
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

#endif
