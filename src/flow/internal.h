/* Flow stage internals shared by flow.c (table, life cycle) and reasm.c (reassembly). */
#ifndef HTTPEEK_FLOW_INTERNAL_H
#define HTTPEEK_FLOW_INTERNAL_H

#include "flow/flow.h"

/* A copy of out-of-order bytes; [off + len, off + span) was not captured. */
struct flow_held {
	struct flow_held *next;
	uint64_t off;
	uint64_t ts_ns;
	uint32_t len;
	uint32_t span;
	enum direction dir;
	uint32_t ip_len, ifindex, net_ns;
	uint8_t data[];
};

/* What a piece of len bytes counts against the buffer limits: its memory. */
#define FLOW_HELD_COST(len) (sizeof(struct flow_held) + (uint64_t)(len))

/* One byte stream. Offsets count from the stream start; isn is the sequence number of 0. */
struct flow_side {
	struct flow_held *held;  /* sorted, not overlapping, all past next */
	struct flow_held *stash; /* early pieces before the start is known; off is their seq */
	uint64_t held_bytes;      /* FLOW_HELD_COST of each piece */
	uint64_t next;           /* offset of the next byte to deliver */
	uint64_t fin_off;        /* offset of the FIN when fin_seen */
	uint32_t isn;
	bool started;
	bool fin_seen;
	bool fin_done;           /* fin() called */
};

struct flow {
	struct flow *hnext, **hpprev;
	struct flow *lru_prev, *lru_next;
	uint64_t hash;
	uint64_t last_ns;
	struct flow_info info;
	void *user;
	struct flow_side side[2];
};

/*
 * A connection that ended with both FINs or a RST, or at the memory limit, remembered for a
 * while (FLOW_TOMBS at most, idle_timeout_ns at longest) so that a late retransmission of its
 * bytes is not taken for a new connection, and a connection ended at the memory limit comes
 * back as itself.
 */
struct flow_tomb {
	uint64_t hash;
	uint64_t ts_ns;          /* when it ended */
	struct flow_info info;
	uint32_t end_seq[2];     /* per side: the sequence number past its last byte */
	bool started[2];
	bool shed;               /* ended at the memory limit (info.resume): it may come back */
	int32_t next;            /* the next tomb in its bucket; -1: none */
};

#define FLOW_TOMBS 4096u     /* a power of two */

struct flow_tombs {
	struct flow_tomb slot[FLOW_TOMBS];  /* a ring, oldest at head */
	int32_t bucket[FLOW_TOMBS];
	uint32_t head, count;
};

struct flow_table {
	struct flow_limits lim;
	const struct flow_callbacks *cb;
	void *ctx;
	struct flow **buckets;
	uint32_t nbuckets;                /* a power of two */
	struct flow *lru_head, *lru_tail; /* head: least recently active */
	uint64_t held_total;              /* held_bytes of every side */
	uint64_t seed;
	struct flow_tombs *tombs;         /* allocated when the first connection closes */
	struct flow_stats st;
};

/* Feeds seg, sent by side of f: the peer's ACK, then this side's bytes and FIN. */
void flow_side_segment(struct flow_table *t, struct flow *f, int side, const struct segment *seg);

/* Delivers everything side holds, holes and a missing tail before its FIN as gaps. */
void flow_side_flush(struct flow_table *t, struct flow *f, int side);

/* Calls fin() for side unless done already; frees what it still holds. */
void flow_side_finish(struct flow_table *t, struct flow *f, int side);

#endif
