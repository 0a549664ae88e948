/*
 * TCP flows and reassembly. Each flow is one TCP connection as seen at one observation
 * point (one socket end in live mode, the capture offline); its two sides are the two
 * byte streams. In-order bytes go to the consumer's callbacks, holes as gaps.
 */
#ifndef HTTPEEK_FLOW_H
#define HTTPEEK_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include "decode/decode.h"

struct flow_limits {
	uint32_t max_flows;          /* oldest idle flow is evicted past this */
	uint32_t max_flow_buffer;    /* out-of-order bytes held per flow side */
	uint64_t max_total_buffer;   /* out-of-order bytes held in all flows */
	uint64_t idle_timeout_ns;    /* flows idle this long are expired */
	bool in_order_source;        /* live: a forward jump in sequence is a gap at once, unless
				      * the segment is marked early */
};

#define FLOW_DEFAULT_MAX_FLOWS 65536u
#define FLOW_DEFAULT_MAX_FLOW_BUFFER (1u << 20)
#define FLOW_DEFAULT_MAX_TOTAL_BUFFER (64ull << 20)
#define FLOW_DEFAULT_IDLE_TIMEOUT_NS (300ull * 1000000000ull)

/*
 * What a connection ended at the memory limit leaves for its return (flow_table_shed()): the
 * consumer fills it in close() and finds it again in open() (flow_info.resume), sides as the
 * new flow numbers them, when packets of the same connection come later.
 */
struct flow_resume {
	uint32_t requests;         /* requests seen so far */
	uint32_t owed;             /* responses due to requests already reported */
	uint32_t owed_head;        /* bit i: the i-th of them answers a HEAD */
	uint8_t client_side;       /* the side that sent those requests */
};

/* Who a flow is between. Side 0 is the sender of the first segment seen. */
struct flow_info {
	struct endpoint end[2];
	uint8_t family;
	uint64_t sock_cookie;
	uint64_t zone;             /* struct segment.zone: the outer identifiers it came in */
	bool tls;          /* the plaintext inside TLS on that connection (a flow of its own) */
	bool resumed;      /* the connection was ended at the memory limit and came back */
	struct flow_resume resume;  /* when resumed */
};

/* Where the bytes handed to data() came from. */
struct flow_chunk_meta {
	uint64_t ts_ns;
	enum direction dir;
	bool boundary;   /* the bytes start between two messages (live: the kernel framed them) */
	uint32_t ip_len, ifindex, net_ns;  /* of the packet that carried them (struct segment) */
};

struct flow_callbacks {
	/* A new flow: returns the consumer's state for it (may be NULL). */
	void *(*open)(void *ctx, const struct flow_info *info);
	/* In-order bytes sent by side, one call per segment piece. */
	void (*data)(void *ctx, void *user, int side, const uint8_t *bytes, uint32_t len,
		     const struct flow_chunk_meta *meta);
	/* len bytes sent by side are missing and will never come. */
	void (*gap)(void *ctx, void *user, int side, uint32_t len);
	/* side sent FIN (its stream ended). */
	void (*fin)(void *ctx, void *user, int side);
	/*
	 * The flow is gone (closed, reset, expired, evicted or table freed): free user. keep is
	 * NULL, or, when the memory limit ended it, where to leave what its return needs.
	 */
	void (*close)(void *ctx, void *user, struct flow_resume *keep);
	/* Memory the consumer holds for the flow (NULL: none), for flow_table_shed(). */
	uint64_t (*held)(void *ctx, void *user);
};

struct flow_stats {
	uint64_t flows_created;
	uint64_t flows_active;
	uint64_t flows_evicted;      /* pushed out by max_flows */
	uint64_t flows_expired;      /* idle past idle_timeout_ns */
	uint64_t flows_shed;         /* ended by flow_table_shed() (a memory limit) */
	uint64_t flows_resumed;      /* of those, connections that came back (not in created) */
	uint64_t gaps;
	uint64_t gap_bytes;
	uint64_t overlaps;           /* retransmitted or overlapping bytes, first data kept */
	uint64_t buffer_drops;       /* out-of-order data given up because of buffer limits */
	uint64_t bytes;              /* payload bytes delivered in order */
};

struct flow_table;

/* Makes a flow table; NULL on allocation failure. cb and ctx are kept, not copied. */
struct flow_table *flow_table_new(const struct flow_limits *lim, const struct flow_callbacks *cb,
				  void *ctx);

/* Feeds one decoded segment. */
void flow_segment(struct flow_table *t, const struct segment *seg);

/* Expires flows idle since before now_ns - idle_timeout_ns. */
void flow_expire(struct flow_table *t, uint64_t now_ns);

/* Out-of-order bytes held now in all flows (their FLOW_HELD_COST). */
uint64_t flow_table_held(const struct flow_table *t);

/*
 * Ends the least recently active flows that hold memory (out-of-order bytes, or what the
 * consumer's held() says) until at least bytes were freed or none holds any; counted in
 * flows_shed. Each is remembered, with what close() left in its flow_resume: a later
 * segment of the same connection (not a SYN) opens a flow with resumed set, counted in
 * flows_resumed, not flows_created. Returns the bytes freed. Must not be called from a
 * callback.
 */
uint64_t flow_table_shed(struct flow_table *t, uint64_t bytes);

/* Current counters. */
const struct flow_stats *flow_table_stats(const struct flow_table *t);

/* Closes every flow (delivering held data as gaps allow, then close()) and frees t. */
void flow_table_free(struct flow_table *t);

#endif
