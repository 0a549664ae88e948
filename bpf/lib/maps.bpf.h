/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every httpeek program shares: the ring buffer, the per-socket state in socket
 * storage, the counters user space reads through the .bss mapping, and the per-CPU memo
 * slots.
 */
#ifndef HTTPEEK_MAPS_BPF_H
#define HTTPEEK_MAPS_BPF_H

#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include "record.h"

#include "frame/seq.h"    /* struct frame_seq */
#include "frame/state.h"  /* struct frame_dir, frame_conn */

#define MEMO_SLOTS 64  /* per-CPU memos, indexed by memo_slot() */

const volatile __u64 wakeup_bytes = 0;  /* wake the reader only past this much unread data */

/*
 * In .bss, which user space reads through its memory mapping without a bpf() call (it keeps
 * no BPF capability). drop_count: failed ring-buffer reserves, [0] packets, [1] owner
 * records. lost_heads: message starts in the packet records that found the ring full.
 */
__u64 drop_count[2] = {};
__u64 lost_heads = 0;
__u64 joined = 0;  /* directions followed from a message start in mid-stream */
__u64 h2_joined_blocks = 0;  /* HTTP/2 header blocks framed in mid-connection (not copied) */

/*
 * Bumped whenever a socket gets HTTP storage, a new owner or a loopback peer: the owner
 * programs' per-CPU memo (owner.bpf.h) holds only while it stays the same.
 */
__u64 owner_gen = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

/* One direction of a socket: its framer and where its byte stream stands. */
struct dir_state {
	struct frame_dir f;
	struct frame_seq q;
	__u32 busy;       /* programs framing it now (more than one: copy whole) */
	__u8 dropped;     /* a record found the ring full since the last one written */
	__u8 pad[3];
} __attribute__((aligned(64)));

struct sk_state {
	__u64 owner;      /* pid_tgid that used the socket last; 0 before any owner record */
	__u64 peer;       /* loopback: the receiving socket's cookie, which our copies stand for */
	struct dir_state d[2];  /* [0] ingress, [1] egress */
	struct frame_conn conn __attribute__((aligned(64)));
	__u32 mirrored;   /* loopback: the sender's egress copies what this socket receives */
	__u32 peer_tries; /* lookups of the peer so far */
	__u32 pushed;     /* conn.specials handed to the peer so far */
	__u32 iface;      /* the interface user space knows the name of (iface.bpf.h); 0: none */
	__u32 net_ns;     /* the socket's network namespace inode, in its copies */
	__u8 told;        /* TOLD_*: what else the peer was told */
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_state);
} socks SEC(".maps");

/*
 * Waking the reader costs more than the rest of a program run: wake it only when unread
 * data piles up; otherwise it collects records on its own short timer.
 */
static __always_inline __u64 submit_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									    : BPF_RB_NO_WAKEUP;
}

static __always_inline void count_drop(__u32 key)
{
	__sync_fetch_and_add(&drop_count[key & 1], 1);
}

/* A memo slot for a socket cookie: the top bits of a multiplicative hash. */
static __always_inline __u32 memo_slot(__u64 cookie)
{
	return (cookie * 0x9e3779b97f4a7c15ull) >> 58;  /* 64 - log2(MEMO_SLOTS) */
}

#endif
