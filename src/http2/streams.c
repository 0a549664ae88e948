/* HTTP/2 streams of one connection: a table by stream id (open addressing, linear probing). */
#include <stdlib.h>
#include <string.h>
#include "http2/internal.h"

#define MIN_SLOTS 16u

static uint32_t slot_of(uint32_t id, uint32_t mask)
{
	return (id * 0x9e3779b1u) & mask;
}

struct h2_stream *h2_streams_find(const struct h2_streams *t, uint32_t id)
{
	uint32_t mask = t->nslots - 1, i;

	if (!t->nslots)
		return NULL;
	for (i = slot_of(id, mask); t->slots[i]; i = (i + 1) & mask)
		if (t->slots[i]->id == id)
			return t->slots[i];
	return NULL;
}

static void insert(struct h2_stream **slots, uint32_t mask, struct h2_stream *s)
{
	uint32_t i;

	for (i = slot_of(s->id, mask); slots[i]; i = (i + 1) & mask)
		;
	slots[i] = s;
}

/* Doubles the slots; false for want of memory. */
static bool grow(struct h2_streams *t)
{
	uint32_t n = t->nslots ? t->nslots * 2 : MIN_SLOTS;
	struct h2_stream **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return false;
	for (uint32_t i = 0; i < t->nslots; i++)
		if (t->slots[i])
			insert(slots, n - 1, t->slots[i]);
	*t->held += (uint64_t)(n - t->nslots) * sizeof(*slots);
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	return true;
}

struct h2_stream *h2_streams_add(struct h2_streams *t, uint32_t id)
{
	struct h2_stream *s;

	if (t->count >= H2_MAX_STREAMS || ((t->count + 1) * 2 > t->nslots && !grow(t)))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	s->req_side = s->resp_side = -1;
	*t->held += sizeof(*s);
	insert(t->slots, t->nslots - 1, s);
	t->count++;
	return s;
}

void h2_streams_remove(struct h2_streams *t, struct h2_stream *s)
{
	uint32_t mask = t->nslots - 1, i, j, k;

	for (i = slot_of(s->id, mask); t->slots[i] != s; i = (i + 1) & mask)
		;
	/* Backward shift: later entries of the run move up into the hole. */
	for (j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		k = slot_of(t->slots[j]->id, mask);
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i] = NULL;
	t->count--;
	*t->held -= sizeof(*s);
	free(s);
}

static int by_id(const void *a, const void *b)
{
	uint32_t x = (*(struct h2_stream *const *)a)->id, y = (*(struct h2_stream *const *)b)->id;

	return x < y ? -1 : x > y;
}

uint32_t h2_streams_sorted(const struct h2_streams *t, struct h2_stream **out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->nslots; i++)
		if (t->slots[i])
			out[n++] = t->slots[i];
	qsort(out, n, sizeof(*out), by_id);
	return n;
}

void h2_streams_free(struct h2_streams *t)
{
	*t->held -= (uint64_t)t->nslots * sizeof(*t->slots);
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
}
