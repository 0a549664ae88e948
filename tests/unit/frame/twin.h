/*
 * The user-space twin of bpf/httpeek.bpf.c's cgroup_skb programs, for one socket: what
 * handle() does with a packet (follow a direction, frame it with the shared framer of
 * bpf/frame/, copy the marked ranges as copy_span() splits them) without a kernel, so that
 * thousands of conversations run in a unit test and a fuzzer. tests/bpf/frame_twin.c holds
 * the real programs to the same records on the same packets.
 * Not modelled: loopback's copies made once for both ends (mirror_loopback), two programs
 * framing one direction at once (busy), a full ring buffer (REC_F_AFTER_DROP), the kernel
 * filter (-f): the twin is handle() with those off.
 */
#ifndef HTTPEEK_TWIN_H
#define HTTPEEK_TWIN_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "record.h"
#include "frame/frame.h"

/* One direction as the kernel keeps it (struct dir_state). */
struct twin_dir {
	struct frame_dir f;
	struct frame_seq q;
};

/* The kernel's state of one socket (struct sk_state, what the twin models of it). */
struct twin_sock {
	bool storage;              /* bpf_sk_storage_get() made it */
	struct twin_dir d[2];      /* [0] what it receives, [1] what it sends */
	struct frame_conn conn;
};

/* The load-time knobs (const volatile globals of httpeek.bpf.c). */
struct twin_knobs {
	uint32_t max_head;
	uint32_t body_bytes;
};

/*
 * What stream_start() reads of the socket's TCP state for a packet: whether its direction
 * (self) and the other one have carried nothing yet, and where each starts then.
 */
struct twin_facts {
	bool self_fresh, other_fresh;
	uint32_t self_first, other_first;
};

/* One packet record as copy_record() writes it (the bytes aside). */
struct twin_copy {
	uint32_t hl;      /* header bytes copied */
	uint32_t lo, n;   /* payload bytes [lo, lo + n) copied */
	uint32_t span;    /* payload bytes the record stands for, from lo */
	uint32_t heads;   /* message starts in it */
	uint8_t flags;    /* REC_F_* */
	uint8_t dir;      /* REC_DIR_* */
};

#define TWIN_COPIES 64

/* One packet as handle() gets it: IP and TCP headers of hl bytes, then plen payload bytes. */
struct twin_packet {
	const uint8_t *bytes;
	uint32_t hl, plen, seq;
	uint8_t tcp_flags;
	uint8_t dir;       /* REC_DIR_* */
};

/* What one packet did. */
struct twin_result {
	struct twin_copy copy[TWIN_COPIES];
	int n;             /* records written */
	bool ignored;      /* its direction is not followed any more (D_IGNORE): not HTTP/1.x */
	bool not_http;     /* that, before any head of it was framed: its first bytes */
	bool joined;       /* its direction was followed from this packet, a message start in
			    * the middle of the stream (sync() of a direction not fresh) */
	uint32_t h2_blocks; /* HTTP/2 header blocks framed (h2_joined_blocks when X_COUNT) */
};

/*
 * handle() of httpeek.bpf.c on a packet p of socket k (state kept in k between packets):
 * fills r with the records the programs would write. Returns 0, or -1 when the copies do
 * not fit in r (then r holds the first TWIN_COPIES).
 */
int twin_packet(struct twin_sock *k, const struct twin_knobs *kn, const struct twin_packet *p,
		const struct twin_facts *facts, struct twin_result *r);

#endif
