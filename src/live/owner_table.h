/*
 * The live source's socket owners: socket cookie -> struct owner, filled from the kernel's
 * owner records and /proc (owner_proc.h).
 */
#ifndef HTTPEEK_OWNER_TABLE_H
#define HTTPEEK_OWNER_TABLE_H

#include <stdint.h>
#include "pipeline/owner.h"
#include "record.h"

/* Gone sockets are kept this long so that events still being paired find them. */
#define OWNER_GONE_GRACE_NS (30ull * 1000000000ull)

struct owner_table;

/*
 * A table of at most max_entries owners; NULL on allocation failure. helper_fd: the /proc
 * helper's socket (owner_proc_ask), or -1 to read /proc in this process.
 */
struct owner_table *owner_table_new(uint32_t max_entries, int helper_fd);

void owner_table_free(struct owner_table *t);

/*
 * Records r's process as the owner of r's socket, replacing any earlier owner in place.
 * mono_to_real converts the kernel's CLOCK_MONOTONIC times to epoch ns. When the table is
 * full the oldest gone entry, else the least recently updated one, is reused.
 */
void owner_table_update(struct owner_table *t, const struct rec_owner *r, int64_t mono_to_real);

/* Marks a socket gone at now_ns (monotonic); it is retired OWNER_GONE_GRACE_NS later. */
void owner_table_gone(struct owner_table *t, uint64_t cookie, uint64_t now_ns);

/* Retires the gone entries older than the grace period. */
void owner_table_expire(struct owner_table *t, uint64_t now_ns);

/*
 * The owner of a socket or NULL. The pointer stays valid until the table is freed; its
 * contents change when the socket gets a new owner or the slot is retired and reused.
 */
const struct owner *owner_table_lookup(struct owner_table *t, uint64_t cookie);

/* Entries in use. */
uint32_t owner_table_count(const struct owner_table *t);

#endif
