/* The live source's owner table: socket cookie -> the process that uses the socket. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "live/owner_proc.h"
#include "live/owner_table.h"

#define NONE UINT32_MAX
#define PROC_CACHE 1024  /* /proc answers kept, per (host pid, start time) */
#define CONTENTS 1024    /* owner contents given an id lately, by hash */
#define RECENT_BITS 6    /* slots found lately, by a hash of their cookie: 2^6 of them */

struct slot {
	bool used;          /* first: in the cache line of o.sock_cookie */
	struct owner o;
	uint64_t gone_ns;   /* 0 while the socket lives */
	uint32_t next;      /* hash chain */
	uint32_t prev_lru, next_lru;
};

/* An owner content's id and a slot that had it, when it was given. */
struct content_ref {
	uint64_t hash, id;
	uint32_t slot;
};

/* What /proc said about one process, so that it is read once per process, not per event. */
struct proc_info {
	uint32_t host_pid;
	uint64_t start_ns;
	bool valid;
	char exe[256];
	char container_id[65];
	char container_runtime[16];
	char pod_uid[40];
};

struct owner_table {
	uint32_t max, count, mask;
	uint32_t *buckets;
	struct slot *slots;
	uint32_t free_head;
	uint32_t fresh;     /* slots[fresh..max) were never used: taken in order, untouched till then */
	uint32_t lru_head, lru_tail;  /* head: gone entries, then the least recently updated */
	/*
	 * Hints: the slot found last for a cookie of each hash. Every packet and message looks
	 * up its owner; these stay in the cache, the buckets (all sockets') do not.
	 */
	uint32_t recent[1u << RECENT_BITS];
	struct proc_info *procs;
	struct content_ref *contents;
	int helper_fd;      /* the /proc helper's socket, -1: read /proc here */
};

static uint32_t bucket_of(const struct owner_table *t, uint64_t cookie)
{
	return (uint32_t)((cookie * 0x9e3779b97f4a7c15ull) >> 32) & t->mask;
}

struct owner_table *owner_table_new(uint32_t max_entries, int helper_fd)
{
	struct owner_table *t = calloc(1, sizeof(*t));
	uint32_t nb = 1;

	if (!t || !max_entries)
		goto fail;
	while (nb < max_entries && nb < (1u << 30))
		nb <<= 1;
	t->max = max_entries;
	t->mask = nb - 1;
	t->helper_fd = helper_fd;
	t->buckets = malloc(nb * sizeof(*t->buckets));
	t->slots = calloc(max_entries, sizeof(*t->slots));
	t->procs = calloc(PROC_CACHE, sizeof(*t->procs));
	t->contents = calloc(CONTENTS, sizeof(*t->contents));
	if (!t->buckets || !t->slots || !t->procs || !t->contents)
		goto fail;
	memset(t->buckets, 0xff, nb * sizeof(*t->buckets));
	memset(t->recent, 0xff, sizeof(t->recent));
	t->free_head = NONE;
	t->lru_head = t->lru_tail = NONE;
	return t;
fail:
	owner_table_free(t);
	return NULL;
}

void owner_table_free(struct owner_table *t)
{
	if (!t)
		return;
	free(t->contents);
	free(t->procs);
	free(t->slots);
	free(t->buckets);
	free(t);
}

static uint32_t find(struct owner_table *t, uint64_t cookie)
{
	uint32_t *hint = &t->recent[(cookie * 0x9e3779b97f4a7c15ull) >> (64 - RECENT_BITS)];
	uint32_t i = *hint;

	if (i < t->max && t->slots[i].used && t->slots[i].o.sock_cookie == cookie)
		return i;
	i = t->buckets[bucket_of(t, cookie)];
	while (i != NONE && t->slots[i].o.sock_cookie != cookie)
		i = t->slots[i].next;
	if (i != NONE)
		*hint = i;
	return i;
}

static void lru_unlink(struct owner_table *t, uint32_t i)
{
	struct slot *s = &t->slots[i];

	if (s->prev_lru != NONE)
		t->slots[s->prev_lru].next_lru = s->next_lru;
	else
		t->lru_head = s->next_lru;
	if (s->next_lru != NONE)
		t->slots[s->next_lru].prev_lru = s->prev_lru;
	else
		t->lru_tail = s->prev_lru;
}

static void lru_push_tail(struct owner_table *t, uint32_t i)
{
	t->slots[i].prev_lru = t->lru_tail;
	t->slots[i].next_lru = NONE;
	if (t->lru_tail != NONE)
		t->slots[t->lru_tail].next_lru = i;
	else
		t->lru_head = i;
	t->lru_tail = i;
}

static void lru_push_head(struct owner_table *t, uint32_t i)
{
	t->slots[i].next_lru = t->lru_head;
	t->slots[i].prev_lru = NONE;
	if (t->lru_head != NONE)
		t->slots[t->lru_head].prev_lru = i;
	else
		t->lru_tail = i;
	t->lru_head = i;
}

/* Takes slot i out of its hash chain and the LRU list and frees it. */
static void retire(struct owner_table *t, uint32_t i)
{
	struct slot *s = &t->slots[i];
	uint32_t *pp = &t->buckets[bucket_of(t, s->o.sock_cookie)];

	while (*pp != i)
		pp = &t->slots[*pp].next;
	*pp = s->next;
	lru_unlink(t, i);
	s->used = false;
	s->next = t->free_head;
	t->free_head = i;
	t->count--;
}

static uint32_t insert(struct owner_table *t, uint64_t cookie)
{
	uint32_t i, b;

	if (t->free_head == NONE && t->fresh < t->max) {
		i = t->fresh++;
	} else {
		if (t->free_head == NONE)
			retire(t, t->lru_head);
		i = t->free_head;
		t->free_head = t->slots[i].next;
	}
	b = bucket_of(t, cookie);
	t->slots[i] = (struct slot){ .next = t->buckets[b], .used = true };
	t->slots[i].o.sock_cookie = cookie;
	t->buckets[b] = i;
	lru_push_tail(t, i);
	t->count++;
	return i;
}

/* Fills exe, container and pod fields from the /proc cache, reading /proc on a miss. */
static void fill_proc(struct owner_table *t, struct owner *o, uint64_t start_ns)
{
	struct proc_info *p = &t->procs[(o->host_pid * 2654435761u) % PROC_CACHE];

	if (!p->valid || p->host_pid != o->host_pid || p->start_ns != start_ns) {
		owner_proc_read(o, t->helper_fd);
		p->valid = true;
		p->host_pid = o->host_pid;
		p->start_ns = start_ns;
		memcpy(p->exe, o->exe, sizeof(p->exe));
		memcpy(p->container_id, o->container_id, sizeof(p->container_id));
		memcpy(p->container_runtime, o->container_runtime, sizeof(p->container_runtime));
		memcpy(p->pod_uid, o->pod_uid, sizeof(p->pod_uid));
		return;
	}
	memcpy(o->exe, p->exe, sizeof(o->exe));
	memcpy(o->container_id, p->container_id, sizeof(o->container_id));
	memcpy(o->container_runtime, p->container_runtime, sizeof(o->container_runtime));
	memcpy(o->pod_uid, p->pod_uid, sizeof(o->pod_uid));
}

static void copy_str(char *dst, size_t size, const char *src, size_t src_size)
{
	size_t n = strnlen(src, src_size < size ? src_size : size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static uint64_t content_hash(const struct owner *o)
{
	const unsigned char *p = (const unsigned char *)o + OWNER_CONTENT_OFF;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t k = 0; k < OWNER_CONTENT_LEN; k++)
		h = (h ^ p[k]) * 0x100000001b3ull;
	return h;
}

/*
 * Gives slot i's owner the id of an equal content given lately (while a slot still has
 * it), else an id never given before: events render an owner once per id.
 */
static void give_content_id(struct owner_table *t, uint32_t i)
{
	static uint64_t last_id;
	struct owner *o = &t->slots[i].o;
	uint64_t h = content_hash(o);
	struct content_ref *r = &t->contents[h % CONTENTS];
	const struct owner *had = NULL;

	if (r->id && r->hash == h && r->slot < t->max && t->slots[r->slot].used)
		had = &t->slots[r->slot].o;
	if (had && had->content_id == r->id && owner_same_content(had, o)) {
		o->content_id = r->id;
		return;
	}
	o->content_id = __atomic_add_fetch(&last_id, 1, __ATOMIC_RELAXED);
	*r = (struct content_ref){ .hash = h, .id = o->content_id, .slot = i };
}

void owner_table_update(struct owner_table *t, const struct rec_owner *r, int64_t mono_to_real)
{
	uint32_t i = find(t, r->h.sock_cookie);
	struct owner *o;

	if (i == NONE)
		i = insert(t, r->h.sock_cookie);
	lru_unlink(t, i);
	lru_push_tail(t, i);
	t->slots[i].gone_ns = 0;
	o = &t->slots[i].o;
	o->content_id = 0;  /* its content changes: its old id stands for the old content */
	o->cgroup_id = r->cgroup_id;
	o->thread_start_ns = r->start_ns + (uint64_t)mono_to_real;
	o->pid = r->pid;
	o->tid = r->tid;
	o->ppid = r->ppid;
	o->host_pid = r->host_pid;
	o->host_tid = r->host_tid;
	o->host_ppid = r->host_ppid;
	o->uid = r->uid;
	o->mnt_ns = r->mnt_ns;
	o->pid_ns = r->pid_ns;
	o->net_ns = r->net_ns;
	copy_str(o->comm, sizeof(o->comm), r->comm, sizeof(r->comm));
	copy_str(o->hostname, sizeof(o->hostname), r->nodename, sizeof(r->nodename));
	fill_proc(t, o, r->start_ns);
	give_content_id(t, i);
}

void owner_table_gone(struct owner_table *t, uint64_t cookie, uint64_t now_ns)
{
	uint32_t i = find(t, cookie);

	if (i == NONE || t->slots[i].gone_ns)
		return;
	t->slots[i].gone_ns = now_ns ? now_ns : 1;
	lru_unlink(t, i);
	lru_push_head(t, i);
}

void owner_table_expire(struct owner_table *t, uint64_t now_ns)
{
	uint32_t i = t->lru_head;

	while (i != NONE && t->slots[i].gone_ns) {
		uint32_t next = t->slots[i].next_lru;

		if (now_ns - t->slots[i].gone_ns >= OWNER_GONE_GRACE_NS)
			retire(t, i);
		i = next;
	}
}

const struct owner *owner_table_lookup(struct owner_table *t, uint64_t cookie)
{
	uint32_t i = find(t, cookie);

	return i == NONE ? NULL : &t->slots[i].o;
}

uint32_t owner_table_count(const struct owner_table *t)
{
	return t->count;
}
