/*
 * TCP flow table: a hash of flows keyed by the unordered endpoint pair, the socket cookie
 * (live) and the zone (offline: the VLAN ids, VNIs and GRE keys the packets came in),
 * an LRU list by last activity for eviction and expiry, and the flow life cycle.
 * Reassembly of each side's byte stream lives in reasm.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "flow/internal.h"

#define FLOW_MIN_BUCKETS 256u

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static int endpoint_cmp(const struct endpoint *a, const struct endpoint *b)
{
	int c = memcmp(a->addr, b->addr, sizeof(a->addr));

	if (c)
		return c;
	return (int)a->port - (int)b->port;
}

static bool endpoint_eq(const struct endpoint *a, const struct endpoint *b)
{
	return a->port == b->port && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static uint64_t hash_endpoint(uint64_t h, const struct endpoint *e)
{
	uint64_t w[2];

	memcpy(w, e->addr, sizeof(w));
	h = mix64(h ^ w[0]);
	h = mix64(h ^ w[1]);
	return mix64(h ^ e->port);
}

/*
 * The same value for both directions: endpoints hashed in a fixed order. A socket end
 * (live) has one pair of endpoints: its cookie alone tells flows apart.
 */
static uint64_t key_hash(const struct flow_table *t, const struct segment *seg)
{
	const struct endpoint *lo = &seg->src, *hi = &seg->dst;
	uint64_t h;

	h = mix64(t->seed ^ seg->sock_cookie ^ seg->tls);
	if (seg->sock_cookie)
		return h;
	if (endpoint_cmp(lo, hi) > 0) {
		lo = &seg->dst;
		hi = &seg->src;
	}
	h = mix64(h ^ seg->zone);
	h = hash_endpoint(h ^ seg->family, lo);
	return hash_endpoint(h, hi);
}

static bool info_match(const struct flow_info *in, uint64_t hash, uint64_t h,
		       const struct segment *seg)
{
	if (h != hash || in->family != seg->family || in->sock_cookie != seg->sock_cookie ||
	    in->tls != seg->tls || in->zone != seg->zone)
		return false;
	if (endpoint_eq(&in->end[0], &seg->src) && endpoint_eq(&in->end[1], &seg->dst))
		return true;
	return endpoint_eq(&in->end[1], &seg->src) && endpoint_eq(&in->end[0], &seg->dst);
}

static bool key_match(const struct flow *f, uint64_t hash, const struct segment *seg)
{
	return info_match(&f->info, f->hash, hash, seg);
}

static struct flow *flow_find(const struct flow_table *t, uint64_t hash, const struct segment *seg)
{
	struct flow *f = t->buckets[hash & (t->nbuckets - 1)];

	while (f && !key_match(f, hash, seg))
		f = f->hnext;
	return f;
}

static void hash_link(struct flow **buckets, uint32_t nbuckets, struct flow *f)
{
	struct flow **head = &buckets[f->hash & (nbuckets - 1)];

	f->hnext = *head;
	if (*head)
		(*head)->hpprev = &f->hnext;
	f->hpprev = head;
	*head = f;
}

static void hash_unlink(struct flow *f)
{
	*f->hpprev = f->hnext;
	if (f->hnext)
		f->hnext->hpprev = f->hpprev;
}

/* Doubles the bucket array; on allocation failure the table keeps working, only slower. */
static void hash_grow(struct flow_table *t)
{
	uint32_t n = t->nbuckets * 2;
	struct flow **b = calloc(n, sizeof(*b));
	struct flow *f;

	if (!b)
		return;
	for (f = t->lru_head; f; f = f->lru_next)
		hash_link(b, n, f);
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static void lru_unlink(struct flow_table *t, struct flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		t->lru_head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		t->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void lru_append(struct flow_table *t, struct flow *f)
{
	f->lru_prev = t->lru_tail;
	f->lru_next = NULL;
	if (t->lru_tail)
		t->lru_tail->lru_next = f;
	else
		t->lru_head = f;
	t->lru_tail = f;
}

static int32_t *tomb_bucket(struct flow_tombs *tb, uint64_t hash)
{
	return &tb->bucket[hash & (FLOW_TOMBS - 1)];
}

/* Takes the oldest tomb out of the ring and its bucket. */
static void tomb_drop_oldest(struct flow_tombs *tb)
{
	int32_t i = (int32_t)tb->head, *pp = tomb_bucket(tb, tb->slot[i].hash);

	while (*pp != i)
		pp = &tb->slot[*pp].next;
	*pp = tb->slot[i].next;
	tb->head = (tb->head + 1) & (FLOW_TOMBS - 1);
	tb->count--;
}

/*
 * Remembers f, which ended with both FINs or a RST, or at the memory limit (keep); on
 * allocation failure, forgets it.
 */
static void tomb_add(struct flow_table *t, const struct flow *f, const struct flow_resume *keep)
{
	struct flow_tombs *tb = t->tombs;
	struct flow_tomb *m;
	int32_t i, *b;

	if (!tb) {
		tb = t->tombs = malloc(sizeof(*tb));
		if (!tb)
			return;
		memset(tb->bucket, 0xff, sizeof(tb->bucket));
		tb->head = tb->count = 0;
	}
	if (tb->count == FLOW_TOMBS)
		tomb_drop_oldest(tb);
	i = (int32_t)((tb->head + tb->count++) & (FLOW_TOMBS - 1));
	m = &tb->slot[i];
	b = tomb_bucket(tb, f->hash);
	*m = (struct flow_tomb){ .hash = f->hash, .ts_ns = f->last_ns, .info = f->info,
				 .shed = keep != NULL, .next = *b };
	if (keep)
		m->info.resume = *keep;
	for (int side = 0; side < 2; side++) {
		const struct flow_side *sd = &f->side[side];

		m->started[side] = sd->started;
		m->end_seq[side] = sd->isn + (uint32_t)(sd->fin_seen ? sd->fin_off : sd->next);
	}
	*b = i;
}

/*
 * True when seg carries only bytes of a connection that already ended: a late
 * retransmission, dropped (its bytes count as overlaps). A SYN is a new connection.
 */
static bool tomb_holds(struct flow_table *t, uint64_t hash, const struct segment *seg)
{
	struct flow_tombs *tb = t->tombs;
	const struct flow_tomb *m;
	int32_t i;
	int side;

	if (!tb || (seg->tcp_flags & TCP_SYN))
		return false;
	for (i = *tomb_bucket(tb, hash); i >= 0; i = tb->slot[i].next)
		if (info_match(&tb->slot[i].info, tb->slot[i].hash, hash, seg))
			break;
	if (i < 0)
		return false;
	m = &tb->slot[i];
	side = !endpoint_eq(&m->info.end[0], &seg->src);
	if (!m->started[side] || (int32_t)(seg->seq + seg->seg_len - m->end_seq[side]) > 0)
		return false;
	t->st.overlaps += seg->seg_len;
	return true;
}

/*
 * A segment (not a SYN) of a connection ended at the memory limit: info takes what it left,
 * its client side as info numbers the sides; the tomb then only guards against late copies.
 */
static bool tomb_resume(struct flow_table *t, uint64_t hash, const struct segment *seg,
			struct flow_info *info)
{
	struct flow_tombs *tb = t->tombs;
	struct flow_tomb *m;
	int32_t i;

	if (!tb || (seg->tcp_flags & TCP_SYN))
		return false;
	for (i = *tomb_bucket(tb, hash); i >= 0; i = tb->slot[i].next)
		if (tb->slot[i].shed && info_match(&tb->slot[i].info, tb->slot[i].hash, hash, seg))
			break;
	if (i < 0)
		return false;
	m = &tb->slot[i];
	m->shed = false;
	info->resume = m->info.resume;
	if (!endpoint_eq(&m->info.end[0], &info->end[0]))
		info->resume.client_side ^= 1;
	return true;
}

/* Forgets connections that ended before limit. */
static void tomb_expire(struct flow_table *t, uint64_t limit)
{
	struct flow_tombs *tb = t->tombs;

	while (tb && tb->count && tb->slot[tb->head].ts_ns < limit)
		tomb_drop_oldest(tb);
}

/*
 * Ends f: held data out as gaps allow, fin for each side not ended, close(), free. keep: f
 * is ended at the memory limit; it is remembered with what close() leaves there.
 */
static void flow_end(struct flow_table *t, struct flow *f, struct flow_resume *keep)
{
	int side;

	for (side = 0; side < 2; side++)
		flow_side_flush(t, f, side);
	for (side = 0; side < 2; side++)
		flow_side_finish(t, f, side);
	t->cb->close(t->ctx, f->user, keep);
	if (keep)
		tomb_add(t, f, keep);
	hash_unlink(f);
	lru_unlink(t, f);
	t->st.flows_active--;
	free(f);
}

static struct flow *flow_create(struct flow_table *t, uint64_t hash, const struct segment *seg)
{
	struct flow *f;

	if (t->st.flows_active >= t->lim.max_flows && t->lru_head) {
		t->st.flows_evicted++;
		flow_end(t, t->lru_head, NULL);
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->hash = hash;
	f->info.end[0] = seg->src;
	f->info.end[1] = seg->dst;
	f->info.family = seg->family;
	f->info.sock_cookie = seg->sock_cookie;
	f->info.zone = seg->zone;
	f->info.tls = seg->tls;
	f->info.resumed = tomb_resume(t, hash, seg, &f->info);
	if (t->st.flows_active >= t->nbuckets && t->nbuckets < (1u << 30))
		hash_grow(t);
	hash_link(t->buckets, t->nbuckets, f);
	lru_append(t, f);
	if (f->info.resumed)
		t->st.flows_resumed++;
	else
		t->st.flows_created++;
	t->st.flows_active++;
	f->user = t->cb->open(t->ctx, &f->info);
	return f;
}

/* A SYN from a side whose stream already started elsewhere: the 4-tuple was reused. */
static bool is_new_connection(const struct flow *f, int side, const struct segment *seg)
{
	const struct flow_side *sd = &f->side[side];

	if ((seg->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return false;
	return sd->started && seg->seq + 1 != sd->isn;
}

static int side_of(const struct flow *f, const struct segment *seg)
{
	return !endpoint_eq(&f->info.end[0], &seg->src) || !endpoint_eq(&f->info.end[1], &seg->dst);
}

struct flow_table *flow_table_new(const struct flow_limits *lim, const struct flow_callbacks *cb,
				  void *ctx)
{
	struct flow_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->lim = *lim;
	if (!t->lim.max_flows)
		t->lim.max_flows = FLOW_DEFAULT_MAX_FLOWS;
	t->cb = cb;
	t->ctx = ctx;
	t->nbuckets = FLOW_MIN_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
	return t;
}

void flow_segment(struct flow_table *t, const struct segment *seg)
{
	uint64_t hash = key_hash(t, seg);
	struct flow *f = flow_find(t, hash, seg);
	int side;

	if (f && is_new_connection(f, side_of(f, seg), seg)) {
		flow_end(t, f, NULL);
		f = NULL;
	}
	if (!f) {
		/* Bare ACK, FIN or RST of a connection not seen (or already closed). */
		if (!seg->seg_len && !(seg->tcp_flags & TCP_SYN))
			return;
		if (tomb_holds(t, hash, seg))
			return;
		f = flow_create(t, hash, seg);
		if (!f)
			return;
	}
	f->last_ns = seg->ts_ns;
	lru_unlink(t, f);
	lru_append(t, f);
	side = side_of(f, seg);
	flow_side_segment(t, f, side, seg);
	if ((seg->tcp_flags & TCP_RST) || (f->side[0].fin_done && f->side[1].fin_done)) {
		tomb_add(t, f, NULL);
		flow_end(t, f, NULL);
	}
}

void flow_expire(struct flow_table *t, uint64_t now_ns)
{
	uint64_t limit;

	if (now_ns <= t->lim.idle_timeout_ns)
		return;
	limit = now_ns - t->lim.idle_timeout_ns;
	while (t->lru_head && t->lru_head->last_ns < limit) {
		t->st.flows_expired++;
		flow_end(t, t->lru_head, NULL);
	}
	tomb_expire(t, limit);
}

uint64_t flow_table_held(const struct flow_table *t)
{
	return t->held_total;
}

static uint64_t flow_held(const struct flow_table *t, struct flow *f)
{
	uint64_t n = f->side[0].held_bytes + f->side[1].held_bytes;

	return t->cb->held ? n + t->cb->held(t->ctx, f->user) : n;
}

uint64_t flow_table_shed(struct flow_table *t, uint64_t bytes)
{
	struct flow *f = t->lru_head, *next;
	uint64_t freed = 0, n;

	while (f && freed < bytes) {
		next = f->lru_next;
		n = flow_held(t, f);
		if (n) {
			struct flow_resume keep = { 0 };

			t->st.flows_shed++;
			flow_end(t, f, &keep);
			freed += n;
		}
		f = next;
	}
	return freed;
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
	return &t->st;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	while (t->lru_head)
		flow_end(t, t->lru_head, NULL);
	free(t->tombs);
	free(t->buckets);
	free(t);
}
