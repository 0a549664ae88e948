/* Packets waiting for their socket's owner: per-cookie FIFOs threaded on one global list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "live/hold.h"

#define CHAIN_BUCKETS 1024u

struct held {
	struct packet pkt;          /* pkt.data points at bytes */
	uint64_t held_ns;
	struct held *gprev, *gnext; /* all packets, oldest first */
	struct held *cnext;         /* the same socket's next packet */
	uint8_t bytes[];
};

/* The packets of one socket. */
struct chain {
	uint64_t cookie;
	struct held *head, *tail;
	struct chain *next;
};

struct live_hold {
	uint64_t max_bytes, bytes;
	struct held *oldest, *newest;
	struct chain *buckets[CHAIN_BUCKETS];
};

static struct chain **chain_slot(struct live_hold *h, uint64_t cookie)
{
	struct chain **pp = &h->buckets[(cookie * 0x9e3779b97f4a7c15ull) >> 54];

	while (*pp && (*pp)->cookie != cookie)
		pp = &(*pp)->next;
	return pp;
}

struct live_hold *live_hold_new(uint64_t max_bytes)
{
	struct live_hold *h = calloc(1, sizeof(*h));

	if (h)
		h->max_bytes = max_bytes;
	return h;
}

void live_hold_free(struct live_hold *h)
{
	if (!h)
		return;
	for (struct held *p = h->oldest, *next; p; p = next) {
		next = p->gnext;
		free(p);
	}
	for (uint32_t i = 0; i < CHAIN_BUCKETS; i++) {
		for (struct chain *c = h->buckets[i], *next; c; c = next) {
			next = c->next;
			free(c);
		}
	}
	free(h);
}

bool live_hold_has(const struct live_hold *h, uint64_t cookie)
{
	if (!h->oldest)
		return false;  /* nothing held: no bucket to look at */
	return *chain_slot((struct live_hold *)h, cookie) != NULL;
}

int live_hold_push(struct live_hold *h, const struct packet *pkt, uint64_t now_ns)
{
	struct chain **pp = chain_slot(h, pkt->sock_cookie);
	struct held *p = malloc(sizeof(*p) + pkt->caplen);

	if (!p)
		return -ENOMEM;
	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp) {
			free(p);
			return -ENOMEM;
		}
		(*pp)->cookie = pkt->sock_cookie;
	}
	memcpy(p->bytes, pkt->data, pkt->caplen);
	p->pkt = *pkt;
	p->pkt.data = p->bytes;
	p->held_ns = now_ns;
	p->cnext = NULL;
	p->gnext = NULL;
	p->gprev = h->newest;
	if (h->newest)
		h->newest->gnext = p;
	else
		h->oldest = p;
	h->newest = p;
	if ((*pp)->tail)
		(*pp)->tail->cnext = p;
	else
		(*pp)->head = p;
	(*pp)->tail = p;
	h->bytes += pkt->caplen;
	return 0;
}

/* Unlinks p from the global list, hands it to fn and frees it. */
static void hand_out(struct live_hold *h, struct held *p, packet_fn fn, void *ctx)
{
	if (p->gprev)
		p->gprev->gnext = p->gnext;
	else
		h->oldest = p->gnext;
	if (p->gnext)
		p->gnext->gprev = p->gprev;
	else
		h->newest = p->gprev;
	h->bytes -= p->pkt.caplen;
	fn(ctx, &p->pkt);
	free(p);
}

uint64_t live_hold_release(struct live_hold *h, uint64_t cookie, packet_fn fn, void *ctx)
{
	struct chain **pp = chain_slot(h, cookie), *c = *pp;
	uint64_t n = 0;

	if (!c)
		return 0;
	*pp = c->next;
	for (struct held *p = c->head, *next; p; p = next, n++) {
		next = p->cnext;
		hand_out(h, p, fn, ctx);
	}
	free(c);
	return n;
}

uint64_t live_hold_expire(struct live_hold *h, uint64_t cutoff_ns, packet_fn fn, void *ctx)
{
	uint64_t n = 0;

	while (h->oldest && (h->oldest->held_ns < cutoff_ns || cutoff_ns == UINT64_MAX ||
			     h->bytes > h->max_bytes)) {
		struct held *p = h->oldest;
		struct chain **pp = chain_slot(h, p->pkt.sock_cookie), *c = *pp;

		/* The globally oldest packet is the head of its socket's chain. */
		c->head = p->cnext;
		if (!c->head) {
			*pp = c->next;
			free(c);
		}
		hand_out(h, p, fn, ctx);
		n++;
	}
	return n;
}

uint64_t live_hold_oldest(const struct live_hold *h)
{
	return h->oldest ? h->oldest->held_ns : 0;
}

uint64_t live_hold_bytes(const struct live_hold *h)
{
	return h->bytes;
}
