/*
 * Packets waiting for their socket's owner (internal to the live stage). Held packets are
 * copies, kept per socket cookie in arrival order and globally oldest first.
 */
#ifndef HTTPEEK_LIVE_HOLD_H
#define HTTPEEK_LIVE_HOLD_H

#include <stdbool.h>
#include <stdint.h>
#include "pipeline/packet.h"

struct live_hold;

/* A hold of at most max_bytes packet bytes; NULL on allocation failure. */
struct live_hold *live_hold_new(uint64_t max_bytes);

/* Frees h and every packet it still holds, without handing them out. */
void live_hold_free(struct live_hold *h);

/* True when packets of this socket are held. */
bool live_hold_has(const struct live_hold *h, uint64_t cookie);

/* Copies pkt in, stamped with now_ns (monotonic). Returns 0 or -ENOMEM. */
int live_hold_push(struct live_hold *h, const struct packet *pkt, uint64_t now_ns);

/* Hands every packet held for cookie to fn, in arrival order. Returns how many. */
uint64_t live_hold_release(struct live_hold *h, uint64_t cookie, packet_fn fn, void *ctx);

/*
 * Hands to fn, oldest first, the packets held since before cutoff_ns and those past the
 * byte limit (all of them when cutoff_ns is UINT64_MAX). Returns how many.
 */
uint64_t live_hold_expire(struct live_hold *h, uint64_t cutoff_ns, packet_fn fn, void *ctx);

/* When the oldest packet was held (monotonic ns), or 0 when nothing is held. */
uint64_t live_hold_oldest(const struct live_hold *h);

/* Bytes held now. */
uint64_t live_hold_bytes(const struct live_hold *h);

#endif
