/* HPACK header blocks through libnghttp2's inflater, its memory counted through nghttp2_mem. */
#include <errno.h>
#include <stdlib.h>
#include <nghttp2/nghttp2.h>
#include "http2/hpack.h"

/* Each allocation carries its size in front, so that frees can be counted. */
#define PREFIX 16u

struct hpack {
	nghttp2_hd_inflater *inflater;
	nghttp2_mem mem;
	uint64_t held;       /* bytes allocated for the inflater, prefixes included */
	uint64_t *total;     /* the caller's count, kept */
	bool in_block;
	bool broken;
};

static void count(struct hpack *h, int64_t n)
{
	h->held += (uint64_t)n;
	if (h->total)
		*h->total += (uint64_t)n;
}

static void *mem_malloc(size_t size, void *ud)
{
	uint8_t *p = malloc(size + PREFIX);

	if (!p)
		return NULL;
	*(size_t *)p = size;
	count(ud, (int64_t)(size + PREFIX));
	return p + PREFIX;
}

static void mem_free(void *ptr, void *ud)
{
	uint8_t *p = ptr;

	if (!p)
		return;
	p -= PREFIX;
	count(ud, -(int64_t)(*(size_t *)p + PREFIX));
	free(p);
}

static void *mem_calloc(size_t nmemb, size_t size, void *ud)
{
	uint8_t *p;
	size_t n;

	if (size && nmemb > (SIZE_MAX - PREFIX) / size)
		return NULL;
	n = nmemb * size;
	p = mem_malloc(n, ud);
	if (p)
		__builtin_memset(p, 0, n);
	return p;
}

static void *mem_realloc(void *ptr, size_t size, void *ud)
{
	uint8_t *p = ptr ? (uint8_t *)ptr - PREFIX : NULL, *q;
	size_t old = p ? *(size_t *)p : 0;

	if (size > SIZE_MAX - PREFIX)
		return NULL;
	q = realloc(p, size + PREFIX);
	if (!q)
		return NULL;
	*(size_t *)q = size;
	count(ud, (int64_t)size - (int64_t)old + (p ? 0 : (int64_t)PREFIX));
	return q + PREFIX;
}

struct hpack *hpack_new(uint64_t *held)
{
	struct hpack *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->total = held;
	count(h, sizeof(*h));
	h->mem = (nghttp2_mem){ h, mem_malloc, mem_free, mem_calloc, mem_realloc };
	if (nghttp2_hd_inflate_new2(&h->inflater, &h->mem)) {
		hpack_free(h);
		return NULL;
	}
	return h;
}

int hpack_set_table_max(struct hpack *h, uint32_t size)
{
	if (h->in_block)
		return -EINVAL;
	if (h->broken)
		return 0;
	if (nghttp2_hd_inflate_change_table_size(h->inflater,
						 size > HPACK_TABLE_MAX ? HPACK_TABLE_MAX : size))
		h->broken = true;
	return 0;
}

int hpack_feed(struct hpack *h, const uint8_t *p, size_t n, bool final, hpack_field_fn fn,
	       void *ctx)
{
	nghttp2_nv nv;
	int flags;
	ssize_t used;

	if (h->broken)
		return -EPROTO;
	h->in_block = true;
	for (;;) {
		flags = 0;
		used = nghttp2_hd_inflate_hd2(h->inflater, &nv, &flags, p, n, final);
		if (used < 0) {
			h->broken = true;
			return -EPROTO;
		}
		p += used;
		n -= (size_t)used;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			fn(ctx, nv.name, nv.namelen, nv.value, nv.valuelen);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(h->inflater);
			h->in_block = false;
			return 0;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && !n)
			return 0;
	}
}

bool hpack_broken(const struct hpack *h)
{
	return h->broken;
}

uint64_t hpack_held(const struct hpack *h)
{
	return h->held;
}

void hpack_free(struct hpack *h)
{
	if (!h)
		return;
	if (h->inflater)
		nghttp2_hd_inflate_del(h->inflater);
	count(h, -(int64_t)sizeof(*h));
	free(h);
}
