/* HTTP/2 framing of one direction: preface, frame headers, payload parts, lost bytes. */
#include <string.h>
#include "http2/frame.h"

#define TYPES 10u

/* Flags each known type defines (h2_frames_plausible wants no other). */
static const uint8_t type_flags[TYPES] = {
	[H2_DATA] = H2_END_STREAM | H2_PADDED,
	[H2_HEADERS] = H2_END_STREAM | H2_END_HEADERS | H2_PADDED | H2_PRIORITY_FLAG,
	[H2_SETTINGS] = H2_ACK,
	[H2_PUSH_PROMISE] = H2_END_HEADERS | H2_PADDED,
	[H2_PING] = H2_ACK,
	[H2_CONTINUATION] = H2_END_HEADERS,
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static bool is_block(const struct h2_frame *f)
{
	return f->type == H2_HEADERS || f->type == H2_PUSH_PROMISE || f->type == H2_CONTINUATION;
}

static bool has_pad(const struct h2_frame *f)
{
	return (f->flags & H2_PADDED) &&
	       (f->type == H2_DATA || f->type == H2_HEADERS || f->type == H2_PUSH_PROMISE);
}

/* Bytes after the padding length and before the body: priority, promised stream, codes. */
static uint32_t prefix_len(const struct h2_frame *f)
{
	switch (f->type) {
	case H2_HEADERS:
		return f->flags & H2_PRIORITY_FLAG ? 5 : 0;
	case H2_PUSH_PROMISE:
	case H2_RST_STREAM:
		return 4;
	case H2_GOAWAY:
		return 8;
	default:
		return 0;
	}
}

/* The lengths and streams RFC 9113 fixes per type. */
static bool sizes_ok(const struct h2_frame *f)
{
	bool conn = f->stream == 0;

	switch (f->type) {
	case H2_DATA:
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		return !conn && f->len >= has_pad(f) + prefix_len(f);
	case H2_PRIORITY:
		return !conn && f->len == 5;
	case H2_RST_STREAM:
		return !conn && f->len == 4;
	case H2_SETTINGS:
		return conn && f->len % 6 == 0 && (!(f->flags & H2_ACK) || !f->len);
	case H2_PING:
		return conn && f->len == 8;
	case H2_GOAWAY:
		return conn && f->len >= 8;
	case H2_WINDOW_UPDATE:
		return f->len == 4;
	default:
		return true;  /* unknown types are skipped */
	}
}

static void read_header(struct h2_frame *f, const uint8_t *b)
{
	memset(f, 0, sizeof(*f));
	f->len = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
	f->type = b[3];
	f->flags = b[4];
	f->stream = be32(b + 5) & 0x7fffffffu;
}

bool h2_frames_plausible(const uint8_t *p, size_t n)
{
	struct h2_frame f;
	size_t off = 0;
	unsigned whole = 0;

	while (n - off >= H2_FRAME_HEADER) {
		read_header(&f, p + off);
		if (f.type >= TYPES || (p[off + 5] & 0x80) || f.len > H2_DEFAULT_MAX_FRAME ||
		    (f.flags & ~type_flags[f.type]) || !sizes_ok(&f))
			return false;
		whole++;
		off += H2_FRAME_HEADER + f.len;
		if (off >= n)
			break;
	}
	return whole > 0;
}

void h2_framer_init(struct h2_framer *fr, uint32_t preface, const struct h2_frame_ops *ops,
		    void *ctx)
{
	memset(fr, 0, sizeof(*fr));
	fr->ops = ops;
	fr->ctx = ctx;
	fr->preface = preface > H2_PREFACE_LEN ? H2_PREFACE_LEN : preface;
	fr->state = fr->preface == H2_PREFACE_LEN ? H2F_HEAD : H2F_PREFACE;
}

static void frame_end(struct h2_framer *fr)
{
	if (fr->ops->end)
		fr->ops->end(fr->ctx, &fr->f);
	fr->state = H2F_HEAD;
	fr->n = 0;
}

/* What is left of the payload is skipped (padding, debug data, other types' payloads). */
static void skip_rest(struct h2_framer *fr)
{
	fr->state = H2F_SKIP;
	if (!fr->left)
		frame_end(fr);
}

static void malformed(struct h2_framer *fr)
{
	fr->f.malformed = true;
	fr->malformed++;
	skip_rest(fr);
}

static void start_body(struct h2_framer *fr)
{
	uint32_t pad = has_pad(&fr->f) ? fr->f.pad : 0;

	if (pad > fr->left) {
		malformed(fr);
		return;
	}
	fr->part = fr->left - pad;
	if (fr->f.type == H2_DATA)
		fr->f.data = fr->part;
	fr->state = H2F_BODY;
	fr->n = 0;
	if (!fr->part)
		skip_rest(fr);
}

static void start_prefix(struct h2_framer *fr)
{
	fr->part = prefix_len(&fr->f);
	fr->n = 0;
	if (fr->part)
		fr->state = H2F_PREFIX;
	else
		start_body(fr);
}

static void head_done(struct h2_framer *fr)
{
	read_header(&fr->f, fr->buf);
	fr->left = fr->f.len;
	fr->frames++;
	if (fr->ops->begin)
		fr->ops->begin(fr->ctx, &fr->f);
	if (!sizes_ok(&fr->f))
		malformed(fr);
	else if (has_pad(&fr->f))
		fr->state = H2F_PADLEN;
	else
		start_prefix(fr);
}

static void prefix_done(struct h2_framer *fr)
{
	struct h2_frame *f = &fr->f;

	if (f->type == H2_PUSH_PROMISE)
		f->promised = be32(fr->buf) & 0x7fffffffu;
	else if (f->type == H2_RST_STREAM)
		f->error = be32(fr->buf);
	else if (f->type == H2_GOAWAY) {
		f->last_stream = be32(fr->buf) & 0x7fffffffu;
		f->error = be32(fr->buf + 4);
	}
	start_body(fr);
}

/* Copies up to want - fr->n bytes into buf; returns how many. */
static size_t take(struct h2_framer *fr, const uint8_t *p, size_t n, uint32_t want)
{
	size_t k = min_size(n, want - fr->n);

	memcpy(fr->buf + fr->n, p, k);
	fr->n += (uint8_t)k;
	return k;
}

static void settings_bytes(struct h2_framer *fr, const uint8_t *p, size_t n)
{
	size_t k;

	while (n) {
		k = take(fr, p, n, 6);
		p += k;
		n -= k;
		if (fr->n < 6)
			return;
		fr->n = 0;
		if (fr->ops->setting)
			fr->ops->setting(fr->ctx, &fr->f, (uint16_t)(fr->buf[0] << 8 | fr->buf[1]),
					 be32(fr->buf + 2));
	}
}

static size_t feed_body(struct h2_framer *fr, const uint8_t *p, size_t n)
{
	size_t k = min_size(n, fr->part);

	if (is_block(&fr->f) && fr->ops->block)
		fr->ops->block(fr->ctx, &fr->f, p, k);
	else if (fr->f.type == H2_SETTINGS)
		settings_bytes(fr, p, k);
	fr->part -= (uint32_t)k;
	fr->left -= (uint32_t)k;
	if (!fr->part)
		skip_rest(fr);
	return k;
}

static size_t feed_preface(struct h2_framer *fr, const uint8_t *p, size_t n)
{
	size_t k = min_size(n, H2_PREFACE_LEN - fr->preface);

	if (memcmp(p, &H2_PREFACE[fr->preface], k)) {
		fr->state = H2F_DEAD;
		if (fr->ops->bad_preface)
			fr->ops->bad_preface(fr->ctx);
		return n;
	}
	fr->preface += (uint32_t)k;
	if (fr->preface == H2_PREFACE_LEN)
		fr->state = H2F_HEAD;
	return k;
}

/* One step over p; returns the bytes used (0 only when nothing more is read). */
static size_t step(struct h2_framer *fr, const uint8_t *p, size_t n)
{
	size_t k;

	switch (fr->state) {
	case H2F_PREFACE:
		return feed_preface(fr, p, n);
	case H2F_HEAD:
		k = take(fr, p, n, H2_FRAME_HEADER);
		if (fr->n == H2_FRAME_HEADER)
			head_done(fr);
		return k;
	case H2F_PADLEN:
		fr->f.pad = p[0];
		fr->left--;
		start_prefix(fr);
		return 1;
	case H2F_PREFIX:
		k = take(fr, p, n, fr->part);
		fr->left -= (uint32_t)k;
		if (fr->n == fr->part)
			prefix_done(fr);
		return k;
	case H2F_BODY:
		return feed_body(fr, p, n);
	case H2F_SKIP:
		k = min_size(n, fr->left);
		fr->left -= (uint32_t)k;
		if (!fr->left)
			frame_end(fr);
		return k;
	default:
		return 0;
	}
}

void h2_framer_data(struct h2_framer *fr, const uint8_t *p, size_t n, bool piece)
{
	size_t k;

	if (piece && fr->state == H2F_LOST && h2_frames_plausible(p, n)) {
		fr->state = H2F_HEAD;
		fr->n = 0;
		fr->resyncs++;
	}
	while (n && (k = step(fr, p, n))) {
		p += k;
		n -= k;
	}
}

static void lose(struct h2_framer *fr)
{
	fr->state = H2F_LOST;
	if (fr->ops->lost)
		fr->ops->lost(fr->ctx);
}

/* n lost bytes all inside the current payload. */
static void gap_in_payload(struct h2_framer *fr, size_t n)
{
	struct h2_frame *f = &fr->f;
	bool data_only = fr->state == H2F_SKIP ||
			 (fr->state == H2F_BODY && !is_block(f) && f->type != H2_SETTINGS);

	if (!data_only) {
		f->lost = true;
		if (fr->state == H2F_BODY && is_block(f) && fr->ops->block)
			fr->ops->block(fr->ctx, f, NULL, min_size(n, fr->part));
	}
	fr->left -= (uint32_t)n;
	if (fr->state == H2F_BODY && data_only && n < fr->part)
		fr->part -= (uint32_t)n;
	else
		fr->state = H2F_SKIP;
	if (!fr->left)
		frame_end(fr);
}

void h2_framer_gap(struct h2_framer *fr, size_t n)
{
	if (!n || fr->state == H2F_DEAD || fr->state == H2F_LOST)
		return;
	if (fr->state == H2F_PREFACE && n <= H2_PREFACE_LEN - fr->preface) {
		fr->preface += (uint32_t)n;  /* taken on trust: it cannot be checked */
		if (fr->preface == H2_PREFACE_LEN)
			fr->state = H2F_HEAD;
		return;
	}
	if (fr->state != H2F_PREFACE && fr->state != H2F_HEAD && n <= fr->left) {
		gap_in_payload(fr, n);
		return;
	}
	lose(fr);
}

void h2_framer_boundary(struct h2_framer *fr)
{
	if (fr->state != H2F_LOST)
		return;
	fr->state = H2F_HEAD;
	fr->n = 0;
	fr->resyncs++;
}
