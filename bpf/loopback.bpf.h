/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loopback: both ends of a connection over lo are on this host, and a packet one end sends
 * is the packet the other receives. One end (ROLE_BOTH) frames and copies both directions,
 * its records naming the other end too; the other end (ROLE_PEER) copies nothing on lo.
 * Each connection's framing then lives in one socket's storage, and each packet is copied
 * once.
 */
#ifndef HTTPEEK_LOOPBACK_BPF_H
#define HTTPEEK_LOOPBACK_BPF_H

#include "maps.bpf.h"

#define LOOPBACK_IFINDEX 1  /* lo in every network namespace */
#define BPF_TCP_LISTEN 10
#define PEER_TRIES 4

const volatile __u8 mirror_loopback = 0;  /* attached at the root: one copy per loopback packet */

/*
 * Cookies of ROLE_PEER sockets this CPU has seen, by a hash of the cookie: a role is never
 * taken back and cookies are never reused, so a hit needs no read of the socket's storage
 * (written on the peer's CPU, so usually a cache miss).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MEMO_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} peer_memo SEC(".maps");

static __always_inline int on_loopback(const struct __sk_buff *skb)
{
	return mirror_loopback && skb->ifindex == LOOPBACK_IFINDEX;
}

/* The packet's socket is one whose peer copies for it: nothing to do here. */
static __always_inline int copied_by_peer(struct __sk_buff *skb, const struct sk_state *st)
{
	__u64 cookie, *m;
	__u32 slot;

	if (!on_loopback(skb))
		return 0;
	cookie = bpf_get_socket_cookie(skb);
	slot = memo_slot(cookie);
	m = bpf_map_lookup_elem(&peer_memo, &slot);
	if (m && *m == cookie)
		return 1;
	if (!st || *(volatile __u32 *)&st->role != ROLE_PEER)
		return 0;
	if (m)
		*m = cookie;
	return 1;
}

/* The socket at the other end of this loopback packet (a reference), or NULL. */
static __always_inline struct bpf_sock *lookup_peer(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	__u32 size, hl;
	__u8 ip[40];

	if (bpf_skb_load_bytes(skb, 0, ip, 1) < 0)
		return NULL;
	if (ip[0] >> 4 == 4) {
		if (bpf_skb_load_bytes(skb, 0, ip, 20) < 0)
			return NULL;
		__builtin_memcpy(&t.ipv4.saddr, ip + 12, 8);
		hl = (ip[0] & 0x0f) * 4;
		if (bpf_skb_load_bytes(skb, hl, &t.ipv4.sport, 4) < 0)
			return NULL;
		size = sizeof(t.ipv4);
	} else {
		if (bpf_skb_load_bytes(skb, 0, ip, 40) < 0)
			return NULL;
		__builtin_memcpy(t.ipv6.saddr, ip + 8, 32);
		if (bpf_skb_load_bytes(skb, 40, &t.ipv6.sport, 4) < 0)
			return NULL;
		size = sizeof(t.ipv6);
	}
	return bpf_sk_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
}

/*
 * Makes st's socket copy for its peer too: the peer's cookie must already exist (made when
 * first asked for) and neither end may have a role yet. st->peer is set before the peer
 * stops copying, so no packet goes uncopied; around the switch a packet may be copied at
 * both ends, which user space takes as a retransmission.
 */
static __always_inline void link_peer(struct __sk_buff *skb, struct sk_state *st)
{
	struct bpf_sock *peer;
	struct tcp_sock *tp;
	struct sk_state *ps;
	__u64 cookie = 0;

	st->peer_tries++;
	peer = lookup_peer(skb);
	if (!peer)
		return;
	tp = peer->state == BPF_TCP_LISTEN ? NULL : bpf_skc_to_tcp_sock(peer);
	if (tp)
		cookie = tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter;
	ps = cookie ? bpf_sk_storage_get(&socks, peer, 0, BPF_SK_STORAGE_GET_F_CREATE) : NULL;
	if (ps && ps != st && __sync_val_compare_and_swap(&st->role, ROLE_NONE, ROLE_BOTH) ==
				      ROLE_NONE) {
		st->peer = cookie;
		if (__sync_val_compare_and_swap(&ps->role, ROLE_NONE, ROLE_PEER) == ROLE_NONE) {
			__sync_fetch_and_add(&owner_gen, 1);
		} else {
			st->peer = 0;
			st->role = ROLE_NONE;
		}
	}
	bpf_sk_release(peer);
}

/* The peer a record of st's socket also stands for (0: none), linking it when it may. */
static __always_inline __u64 peer_for(struct __sk_buff *skb, struct sk_state *st, __u8 dir)
{
	if (!on_loopback(skb))
		return 0;
	if (st->role == ROLE_NONE && dir == REC_DIR_EGRESS && st->peer_tries < PEER_TRIES)
		link_peer(skb, st);
	return st->role == ROLE_BOTH ? st->peer : 0;
}

#endif
