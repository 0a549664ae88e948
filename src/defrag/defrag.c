// SPDX-License-Identifier: GPL-2.0
/*
 * IP fragment reassembly. A datagram is found by its addresses, identification, protocol
 * (IPv4) and zone (the tunnels and VLANs it came in), and holds its bytes as pieces: disjoint
 * ranges sorted by offset, each remembering where its fragment started (its origin), since the
 * fragment that starts lowest wins an overlap. A new fragment first takes its range from
 * the pieces it wins against, then fills the holes that remain in its range. The datagram is
 * whole when the last fragment came and the pieces cover every byte up to its end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "defrag/defrag.h"

#define MIN_BUCKETS 64u
#define ALLOC_COST 16u             /* what malloc keeps beside each block, about */
#define IP_MAX 65535u

struct piece {
	struct piece *next;
	uint32_t start, end;       /* the bytes of the datagram's data it stands for */
	uint32_t origin;           /* where its fragment started */
	uint32_t base, have_end;   /* data[0] is byte base; those before have_end are present */
	uint8_t data[];
};

struct key {
	uint64_t zone;
	uint32_t id;
	uint8_t family, proto;     /* proto: IPv4's only (RFC 8200 keys IPv6 without it) */
	uint8_t src[16], dst[16];
};

struct dgram {
	struct dgram *hnext;       /* hash chain */
	struct dgram *older, *newer; /* by first fragment */
	struct key key;
	uint64_t first_ns;
	struct piece *pieces;
	uint8_t *hdr;              /* the fragment at offset 0's IP header, once it came */
	uint32_t hdr_len;
	uint16_t nh_at;
	uint8_t proto6;            /* IPv6: the next header of the fragment at offset 0 */
	bool last;                 /* the fragment without "more fragments" came */
	uint32_t total;            /* with last: the data's length */
	uint32_t max_end;          /* the furthest any fragment reached */
	uint32_t covered;          /* bytes the pieces cover */
	uint32_t n_pieces, n_frags;
	uint64_t bytes;            /* memory held */
};

struct defrag {
	struct defrag_limits lim;
	struct dgram **buckets;
	uint32_t n_buckets;        /* a power of two */
	struct dgram *oldest, *newest;
	uint64_t seed;
	struct defrag_stats stats;
};

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ h >> 33;
}

static uint32_t key_hash(const struct defrag *d, const struct key *k)
{
	uint64_t h = mix(d->seed ^ k->zone), w;

	h = mix(h ^ ((uint64_t)k->id << 16 | (uint64_t)k->family << 8 | k->proto));
	for (int i = 0; i < 16; i += 8) {
		memcpy(&w, k->src + i, 8);
		h = mix(h ^ w);
		memcpy(&w, k->dst + i, 8);
		h = mix(h ^ w);
	}
	return (uint32_t)h;
}

static void key_of(const struct fragment *f, struct key *k)
{
	memset(k, 0, sizeof(*k));
	k->zone = f->outer.zone;
	k->id = f->id;
	k->family = f->family;
	k->proto = f->family == 4 ? f->proto : 0;
	memcpy(k->src, f->src, sizeof(k->src));
	memcpy(k->dst, f->dst, sizeof(k->dst));
}

struct defrag *defrag_new(const struct defrag_limits *lim)
{
	struct defrag *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->lim = *lim;
	d->n_buckets = MIN_BUCKETS;
	d->buckets = calloc(d->n_buckets, sizeof(*d->buckets));
	if (!d->buckets) {
		free(d);
		return NULL;
	}
	if (getrandom(&d->seed, sizeof(d->seed), GRND_NONBLOCK) != sizeof(d->seed))
		d->seed = (uint64_t)(uintptr_t)d;  /* a seed only against crafted collisions */
	return d;
}

static struct dgram **slot_of(struct defrag *d, const struct key *k)
{
	struct dgram **s = &d->buckets[key_hash(d, k) & (d->n_buckets - 1)];

	while (*s && memcmp(&(*s)->key, k, sizeof(*k)))
		s = &(*s)->hnext;
	return s;
}

/* Twice the buckets, when there are more datagrams than buckets (else nothing). */
static void grow(struct defrag *d)
{
	uint32_t n = d->n_buckets * 2;
	struct dgram **b, *g;

	if (d->stats.held_datagrams <= d->n_buckets || n > 2 * d->lim.max_datagrams)
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;  /* longer chains, still correct */
	free(d->buckets);
	d->buckets = b;
	d->n_buckets = n;
	for (g = d->oldest; g; g = g->newer) {
		struct dgram **s = &b[key_hash(d, &g->key) & (n - 1)];

		g->hnext = *s;
		*s = g;
	}
}

static void charge(struct defrag *d, struct dgram *g, uint64_t bytes)
{
	g->bytes += bytes;
	d->stats.held_bytes += bytes;
}

static uint64_t piece_cost(const struct piece *p)
{
	return sizeof(*p) + (p->have_end - p->base) + ALLOC_COST;
}

/* Unlinks g and frees it; cause: why it was given up, or -1 when it was made whole. */
static void drop(struct defrag *d, struct dgram *g, int cause)
{
	struct dgram **s = slot_of(d, &g->key);
	struct piece *p;

	*s = g->hnext;
	*(g->older ? &g->older->newer : &d->oldest) = g->newer;
	*(g->newer ? &g->newer->older : &d->newest) = g->older;
	while ((p = g->pieces)) {
		g->pieces = p->next;
		free(p);
	}
	if (cause >= 0) {
		d->stats.incomplete[cause]++;
		d->stats.incomplete_fragments += g->n_frags;
	}
	d->stats.held_bytes -= g->bytes;
	d->stats.held_datagrams--;
	free(g->hdr);
	free(g);
}

static struct dgram *dgram_new(struct defrag *d, const struct key *k, uint64_t now_ns)
{
	struct dgram *g;

	if (d->stats.held_datagrams >= d->lim.max_datagrams && d->oldest)
		drop(d, d->oldest, DEFRAG_TOO_MANY);
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->key = *k;
	g->first_ns = now_ns;
	g->older = d->newest;
	*(d->newest ? &d->newest->newer : &d->oldest) = g;
	d->newest = g;
	d->stats.held_datagrams++;
	charge(d, g, sizeof(*g) + ALLOC_COST);
	g->hnext = NULL;
	*slot_of(d, k) = g;
	grow(d);
	return g;
}

/* The fragment at offset 0: its header is the datagram's. */
static int keep_header(struct defrag *d, struct dgram *g, const struct fragment *f)
{
	if (f->wire_len < DEFRAG_TINY && f->more)
		d->stats.tiny++;
	if (g->hdr)
		return 0;
	if (f->family == 6 && f->nh_at >= f->hdr_len)
		return -EINVAL;
	g->hdr = malloc(f->hdr_len);
	if (!g->hdr)
		return -ENOMEM;
	memcpy(g->hdr, f->hdr, f->hdr_len);
	g->hdr_len = f->hdr_len;
	g->nh_at = f->nh_at;
	g->proto6 = f->proto;
	charge(d, g, f->hdr_len + ALLOC_COST);
	return 0;
}

/* Whether where the fragment ends agrees with what the datagram knows of its end. */
static int check_end(struct dgram *g, const struct fragment *f, uint32_t end)
{
	if (!f->more) {
		if (g->last && g->total != end)
			return -EINVAL;
		g->last = true;
		g->total = end;
	}
	if (end > g->max_end)
		g->max_end = end;
	return g->last && g->max_end > g->total ? -EINVAL : 0;
}

/* True when the bytes both have present in [from, to) differ. */
static bool differ(const struct piece *p, const struct fragment *f, uint32_t from, uint32_t to)
{
	uint32_t have = f->offset + f->len;

	if (to > p->have_end)
		to = p->have_end;
	if (to > have)
		to = have;
	return from < to && memcmp(p->data + (from - p->base), f->data + (from - f->offset),
				   to - from);
}

/* Takes [s, e) from the pieces whose fragments started after s: they lose it. */
static void take_from_later(struct defrag *d, struct dgram *g, const struct fragment *f,
			    uint32_t e, int *seen)
{
	uint32_t s = f->offset, cut;
	struct piece **pp = &g->pieces, *p;

	while ((p = *pp) && p->start < e) {
		if (p->end <= s) {
			pp = &p->next;
			continue;
		}
		*seen |= 1 | differ(p, f, p->start > s ? p->start : s,
				    p->end < e ? p->end : e) << 1;
		if (p->origin <= s) {
			pp = &p->next;
			continue;
		}
		cut = (p->end < e ? p->end : e) - p->start;  /* p->start >= p->origin > s */
		g->covered -= cut;
		p->start += cut;
		if (p->start < p->end) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		g->n_pieces--;
		g->bytes -= piece_cost(p);
		d->stats.held_bytes -= piece_cost(p);
		free(p);
	}
}

static struct piece *piece_new(struct defrag *d, struct dgram *g, const struct fragment *f,
			       uint32_t from, uint32_t to)
{
	uint32_t have = f->offset + f->len, n = 0;
	struct piece *p;

	if (have > from)
		n = (have < to ? have : to) - from;
	p = malloc(sizeof(*p) + n);
	if (!p)
		return NULL;
	*p = (struct piece){ .start = from, .end = to, .origin = f->offset, .base = from,
			     .have_end = from + n };
	memcpy(p->data, f->data + (from - f->offset), n);
	charge(d, g, piece_cost(p));
	g->covered += to - from;
	g->n_pieces++;
	return p;
}

/* Fills the holes of [s, e) the other pieces leave with pieces of f. */
static int fill_holes(struct defrag *d, struct dgram *g, const struct fragment *f, uint32_t e)
{
	struct piece **pp = &g->pieces, *p, *n;
	uint32_t pos = f->offset, to;

	while (pos < e) {
		p = *pp;
		if (p && p->end <= pos) {
			pp = &p->next;
			continue;
		}
		to = p && p->start < e ? p->start : e;
		if (to > pos) {
			if (g->n_pieces >= d->lim.max_fragments)
				return -E2BIG;
			n = piece_new(d, g, f, pos, to);
			if (!n)
				return -ENOMEM;
			n->next = p;
			*pp = n;
			pp = &n->next;
		}
		if (!p || p->start >= e)
			break;
		pos = p->end;
		pp = &p->next;
	}
	return 0;
}

static int add(struct defrag *d, struct dgram *g, const struct fragment *f)
{
	uint32_t end = f->offset + f->wire_len;
	int seen = 0, err;

	if (f->offset + (uint64_t)f->wire_len > IP_MAX)
		return -EINVAL;
	if (!f->offset && (err = keep_header(d, g, f)))
		return err;
	err = check_end(g, f, end);
	if (err || !f->wire_len)
		return err;
	take_from_later(d, g, f, end, &seen);
	d->stats.overlaps += seen & 1;
	d->stats.overlap_conflicts += seen >> 1 & 1;
	return fill_holes(d, g, f, end);
}

static void set_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The datagram's bytes: its header, lengths set, then the data present from the start. */
static int assemble(const struct dgram *g, const struct fragment *f, struct defrag_datagram *dg)
{
	uint32_t cap = 0;
	const struct piece *p;

	for (p = g->pieces; p && p->have_end >= p->end; p = p->next)
		cap = p->end;
	if (p && p->have_end > p->start)
		cap = p->have_end;
	dg->data = malloc(g->hdr_len + cap ? g->hdr_len + cap : 1);
	if (!dg->data)
		return -ENOMEM;
	memcpy(dg->data, g->hdr, g->hdr_len);
	for (p = g->pieces; p && p->start < cap; p = p->next)
		memcpy(dg->data + g->hdr_len + p->start, p->data + (p->start - p->base),
		       (p->end < cap ? p->end : cap) - p->start);
	dg->caplen = g->hdr_len + cap;
	dg->len = g->hdr_len + g->total;
	dg->outer = f->outer;
	if (g->key.family == 4) {
		set_be16(dg->data + 2, dg->len);
		dg->data[6] &= 0x40;  /* DF stays; MF and the offset go */
		dg->data[7] = 0;
	} else {
		set_be16(dg->data + 4, dg->len - 40);
		dg->data[g->nh_at] = g->proto6;
	}
	return 0;
}

/* After f was added: the datagram, when whole, into dg (1); else 0. */
static int complete(struct defrag *d, struct dgram *g, const struct fragment *f,
		    struct defrag_datagram *dg)
{
	if (!g->last || g->covered != g->total || !g->hdr)
		return 0;
	if (g->hdr_len + g->total > IP_MAX + (g->key.family == 6 ? 40u : 0)) {
		drop(d, g, DEFRAG_INVALID);  /* longer than its length field can say */
		return 0;
	}
	if (assemble(g, f, dg)) {
		drop(d, g, DEFRAG_MEMORY);
		return 0;
	}
	d->stats.reassembled++;
	drop(d, g, -1);
	return 1;
}

int defrag_fragment(struct defrag *d, const struct fragment *f, uint64_t now_ns,
		    struct defrag_datagram *dg)
{
	struct dgram *g;
	struct key k;
	int err;

	d->stats.fragments++;
	defrag_expire(d, now_ns);
	key_of(f, &k);
	g = *slot_of(d, &k);
	if (!g)
		g = dgram_new(d, &k, now_ns);
	if (!g) {
		d->stats.incomplete[DEFRAG_MEMORY]++;
		d->stats.incomplete_fragments++;
		return 0;
	}
	g->n_frags++;
	err = add(d, g, f);
	if (err) {
		drop(d, g, err == -EINVAL ? DEFRAG_INVALID :
			   err == -E2BIG ? DEFRAG_TOO_MANY : DEFRAG_MEMORY);
		return 0;
	}
	return complete(d, g, f, dg);
}

void defrag_expire(struct defrag *d, uint64_t now_ns)
{
	while (d->oldest && now_ns > d->oldest->first_ns &&
	       now_ns - d->oldest->first_ns > d->lim.timeout_ns)
		drop(d, d->oldest, DEFRAG_TIMEOUT);
}

uint64_t defrag_held(const struct defrag *d)
{
	return d->stats.held_bytes;
}

uint64_t defrag_shed(struct defrag *d, uint64_t bytes)
{
	uint64_t before = d->stats.held_bytes;

	while (d->oldest && before - d->stats.held_bytes < bytes)
		drop(d, d->oldest, DEFRAG_MEMORY);
	return before - d->stats.held_bytes;
}

void defrag_flush(struct defrag *d)
{
	while (d->oldest)
		drop(d, d->oldest, DEFRAG_END);
}

const struct defrag_stats *defrag_get_stats(const struct defrag *d)
{
	return &d->stats;
}

void defrag_free(struct defrag *d)
{
	if (!d)
		return;
	while (d->oldest)
		drop(d, d->oldest, -1);
	free(d->buckets);
	free(d);
}
