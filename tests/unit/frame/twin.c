/*
 * bpf/httpeek.bpf.c's handle() in user space, function for function (see twin.h): the
 * framer itself is the same code (bpf/frame/), the glue around it is rewritten here, and
 * tests/bpf/frame_twin.c checks that this rewriting does what the programs do.
 */
#include <string.h>
#include "twin.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define COPY_PARTS 8
#define COPY_MAX_PAYLOAD (REC_MAX_COPY - REC_HDR_MAX)

/* What one call of handle() works with (struct pkt and the socket's state). */
struct twin_run {
	struct twin_sock *k;
	const struct twin_knobs *kn;
	const struct twin_packet *p;
	uint8_t di;            /* 0 ingress, 1 egress */
	struct twin_result *r;
	int overflow;
};

static void follow_from(struct twin_dir *d, uint32_t seq, bool joined)
{
	memset(&d->f, 0, sizeof(d->f));
	frame_head_begin(&d->f);
	d->f.flags = joined ? F_JOINED : 0;
	frame_seq_init(&d->q, seq);
}

/* may_start(): the first payload byte could begin a message. */
static bool may_start(const struct twin_packet *p)
{
	uint8_t c = p->bytes[p->hl];

	return http_is_tchar(c) || c == '\r' || c == '\n';
}

/* starts_message(): the payload starts a message (as many bytes as the program loads). */
static bool starts_message(const struct twin_packet *p)
{
	uint32_t n = p->plen < HTTP_START_PROBE ? p->plen : HTTP_START_PROBE;

	return n >= 2 && http_starts_message(p->bytes + p->hl, n);
}

/* starts_h2(): the payload starts with an HTTP/2 frame header (SETTINGS when settings). */
static bool starts_h2(const struct twin_packet *p, int settings)
{
	return !p->bytes[p->hl] && p->plen >= F2_HEADER &&
	       frame_h2_header_ok(p->bytes + p->hl, settings);
}

/* sync(): follows the packet's direction from its first byte or from this packet. */
static bool twin_sync(struct twin_run *t, const struct twin_facts *f)
{
	struct twin_sock *k = t->k;
	bool h2 = false;

	if (f->self_fresh && f->self_first == t->p->seq && !may_start(t->p) &&
	    !starts_h2(t->p, 1)) {
		t->r->ignored = t->r->not_http = true;  /* the fuzzer's question, not the kernel's */
		return false;
	}
	if (!f->self_fresh && !(may_start(t->p) && starts_message(t->p)) &&
	    !(h2 = starts_h2(t->p, 0)))
		return false;
	if (!k->storage) {
		k->storage = true;
		if (f->other_fresh)
			follow_from(&k->d[t->di ^ 1], f->other_first, false);
	}
	follow_from(&k->d[t->di], f->self_fresh ? f->self_first : t->p->seq, !f->self_fresh);
	if (h2)
		frame_h2_joined(&k->d[t->di].f);  /* counted, never decoded */
	t->r->joined |= !f->self_fresh;
	return true;
}

/* copy_span(): [lo, hi) standing for [lo, end), in records of the largest class at most. */
static void copy_span(struct twin_run *t, uint32_t lo, uint32_t hi, uint32_t end,
		      uint32_t heads, uint8_t flags)
{
	for (int part = 0; part < COPY_PARTS; part++) {
		struct twin_copy c = { .hl = t->p->hl, .lo = lo, .dir = t->p->dir };

		c.n = hi - lo > COPY_MAX_PAYLOAD ? COPY_MAX_PAYLOAD : hi - lo;
		c.span = c.n < hi - lo ? c.n : end - lo;
		c.heads = part ? 0 : heads;
		c.flags = flags;
		if (part && !(flags & REC_F_WHOLE))
			c.flags &= (uint8_t)~REC_F_BOUNDARY;
		if (t->r->n < TWIN_COPIES)
			t->r->copy[t->r->n++] = c;
		else
			t->overflow = 1;
		lo += c.n;
		if (lo >= hi)
			break;
	}
}

static void copy_whole(struct twin_run *t, uint32_t from, uint8_t flags)
{
	if (from < t->p->plen)
		copy_span(t, from, t->p->plen, t->p->plen, 0, REC_F_WHOLE | flags);
}

static bool followed(const struct twin_dir *d)
{
	return d->f.mode != D_UNSYNCED && d->f.mode != D_IGNORE && !(d->f.x & X_COUNT);
}

/* copy_end(): a header-only record for FIN or RST on a socket that carries HTTP. */
static void copy_end(struct twin_run *t)
{
	uint32_t plen = t->p->plen;

	if ((t->p->tcp_flags & (TH_FIN | TH_RST)) && (followed(&t->k->d[0]) || followed(&t->k->d[1])))
		copy_span(t, plen, plen, plen, 0, 0);
}

static void copy_marked(struct twin_run *t, const struct frame_scan *s)
{
	if (!s->nr) {
		if (s->limit == t->p->plen)
			copy_end(t);
		return;
	}
	for (uint32_t i = 0; i < s->nr; i++)
		copy_span(t, s->r[i].lo, s->r[i].hi, i + 1 < s->nr ? s->r[i + 1].lo : s->limit,
			  s->r[i].heads, (uint8_t)s->r[i].flags);
}

/* The frame_cb() loop: loads what frame_need() asks for from the packet. */
static void scan(struct frame_scan *s, struct frame_conn *c, const struct twin_packet *p)
{
	for (uint32_t i = 0; i < FRAME_STEPS_MAX; i++) {
		uint32_t n = frame_need(s), off = s->off + s->pos;

		if (n) {
			if (n > FRAME_CHUNK || off > p->hl + p->plen || n > p->hl + p->plen - off) {
				frame_unreadable(s);
				return;
			}
			memcpy(s->buf, p->bytes + off, n);
			frame_loaded(s, n);
		}
		if (frame_step(s, c))
			return;
	}
}

/* frame_packet(): frames [from, *limit), copies the marked ranges; returns how many. */
static int frame_packet(struct twin_run *t, uint32_t from, uint32_t *limit)
{
	struct twin_dir *d = &t->k->d[t->di];
	bool begun = d->f.mode == D_HEAD && d->f.h;
	struct frame_scan s;

	memset(&s, 0, sizeof(s));
	frame_scan_init(&s, &d->f, t->p->hl, from, *limit);
	s.max_head = t->kn->max_head;
	s.body_bytes = t->kn->body_bytes;
	s.dir = t->di;
	scan(&s, &t->k->conn, t->p);
	if (s.limit < *limit)
		frame_whole(&s.d);
	frame_pass_done(&s, &t->k->conn);
	d->f = s.d;
	*limit = s.limit;
	t->r->h2_blocks += s.h2_blocks;
	if ((s.d.mode == D_IGNORE || s.d.mode == D_UNSYNCED) && !(s.d.flags & F_PROVEN) && !begun)
		s.nr = 0;
	t->r->ignored |= s.d.mode == D_IGNORE;
	t->r->not_http |= s.d.mode == D_IGNORE && !(s.d.flags & F_PROVEN);
	copy_marked(t, &s);
	return (int)s.nr;
}

/* follow(): frames and copies one packet with payload of a followed direction. */
static void follow(struct twin_run *t)
{
	struct twin_dir *d = &t->k->d[t->di];
	const struct twin_packet *p = t->p;
	struct frame_plan pl;
	uint32_t tail;
	int nr, mark;

	frame_tunnel(&d->f, t->k->conn.tunnel[t->di]);
	frame_plan(&d->q, &d->f, p->seq, p->plen, &pl);
	if (pl.act == ACT_NONE) {
		copy_end(t);
		return;
	}
	if (pl.act == ACT_WHOLE) {
		copy_whole(t, pl.from, pl.early ? REC_F_EARLY : 0);
		return;
	}
	nr = frame_packet(t, pl.from, &pl.limit);
	tail = frame_after(&d->q, &d->f, p->seq, p->plen, pl.limit, nr > 0, &mark);
	if (mark)
		copy_span(t, pl.limit - 1, pl.limit - 1, pl.limit, 0, 0);
	if (tail < p->plen)
		copy_whole(t, tail, 0);
}

int twin_packet(struct twin_sock *k, const struct twin_knobs *kn, const struct twin_packet *p,
		const struct twin_facts *facts, struct twin_result *r)
{
	struct twin_run t = { .k = k, .kn = kn, .p = p, .r = r,
			      .di = p->dir == REC_DIR_EGRESS };

	memset(r, 0, sizeof(*r));
	if (!p->plen) {
		if (k->storage)
			copy_end(&t);
		return t.overflow ? -1 : 0;
	}
	if (p->tcp_flags & TH_SYN)
		return 0;
	if ((!k->storage || k->d[t.di].f.mode == D_UNSYNCED) && !twin_sync(&t, facts))
		return 0;
	follow(&t);
	if (k->d[t.di].f.mode == D_WHOLE)
		k->conn.kinds_lost = 1;
	return t.overflow ? -1 : 0;
}
