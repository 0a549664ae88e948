/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet records: the IP and TCP headers of a packet, then one range of its payload, in
 * the smallest of five ring-buffer size classes that holds them.
 */
#ifndef HTTPEEK_COPY_BPF_H
#define HTTPEEK_COPY_BPF_H

#include "lib/maps.bpf.h"

/* What one record says about its packet. */
struct copy_req {
	__u64 cookie;
	__u64 peer;
	__u32 hl;         /* header bytes, at most REC_HDR_MAX */
	__u32 lo;         /* payload offset of the first byte to copy */
	__u32 n;          /* payload bytes to copy */
	__u32 span;       /* payload bytes the record stands for, from lo */
	__u32 heads;      /* message starts in the copy (counted when it is lost) */
	__u32 net_ns;
	__u8 dir;
	__u8 flags;
};

/* Reserves a record of class cls, copies the headers and the range into it, submits it. */
static __always_inline int copy_class(struct __sk_buff *skb, const struct copy_req *q,
				      const __u32 cls)
{
	struct rec_packet *r;
	__u64 hl = q->hl, n = q->n;

	r = bpf_ringbuf_reserve(&events, sizeof(*r) + cls, 0);
	if (!r)
		return -1;
	barrier_var(hl);
	barrier_var(n);
	if (hl < 20 || hl > REC_HDR_MAX || n > cls - REC_HDR_MAX ||
	    bpf_skb_load_bytes(skb, 0, (void *)(r + 1), hl) < 0 ||
	    (n && bpf_skb_load_bytes(skb, q->hl + q->lo, (__u8 *)(r + 1) + hl, n) < 0)) {
		bpf_ringbuf_discard(r, 0);
		return 0;
	}
	r->h.ts_ns = bpf_ktime_get_ns();
	r->h.sock_cookie = q->cookie;
	r->h.type = REC_PACKET;
	r->h.pad = 0;
	r->peer_cookie = q->peer;
	r->wire_len = skb->len;
	r->cap_len = hl + n;
	r->ifindex = skb->ifindex;
	r->net_ns = q->net_ns;
	r->payload_off = q->lo;
	r->payload_span = q->span;
	r->hdr_len = hl;
	r->dir = q->dir;
	r->flags = q->flags;
	__builtin_memset(r->pad, 0, sizeof(r->pad));
	bpf_ringbuf_submit(r, submit_flags());
	return 0;
}

/* Payload bytes a record of the largest class holds. */
#define COPY_MAX_PAYLOAD (REC_MAX_COPY - REC_HDR_MAX)

/*
 * Writes one record; returns -1 when the ring buffer had no room (counted). A global
 * function: the verifier checks it once.
 */
__noinline int copy_record(struct __sk_buff *skb, const struct copy_req *q)
{
	__u32 need;
	int err;

	if (!skb || !q)
		return 0;
	need = q->n + REC_HDR_MAX;
	if (need <= 256)
		err = copy_class(skb, q, 256);
	else if (need <= 1024)
		err = copy_class(skb, q, 1024);
	else if (need <= 4096)
		err = copy_class(skb, q, 4096);
	else if (need <= 16384)
		err = copy_class(skb, q, 16384);
	else
		err = copy_class(skb, q, REC_MAX_COPY);
	if (err) {
		count_drop(0);
		__sync_fetch_and_add(&lost_heads, q->heads);
	}
	return err;
}

#endif
