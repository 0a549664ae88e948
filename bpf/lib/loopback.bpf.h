/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loopback: both ends of a connection over lo are on this host, and a packet one end sends
 * is the packet the other receives. Each end frames and copies what it sends, its records
 * naming the receiving end too (peer_cookie), and the receiving end's ingress program copies
 * nothing on lo (mirrored). Each socket's state is then written on one CPU only. What one
 * end's framing must know of the other's (HEAD and CONNECT requests, a tunnel, kinds lost)
 * is handed over when it happens, which is rare.
 */
#ifndef HTTPEEK_LOOPBACK_BPF_H
#define HTTPEEK_LOOPBACK_BPF_H

#include "lib/maps.bpf.h"

#define LOOPBACK_IFINDEX 1  /* lo in every network namespace */
#define BPF_TCP_LISTEN 10
#define PEER_TRIES 4
#define TOLD_LOST 1       /* sk_state.told: kinds were lost */
#define TOLD_TUNNEL 2     /* a tunnel was opened */

const volatile __u8 mirror_loopback = 0;  /* attached at the root: one copy per loopback packet */

/*
 * Cookies of mirrored sockets this CPU has seen, by a hash of the cookie: a mark is never
 * removed and cookies are never reused, so a hit needs no read of the socket's storage
 * (written on the peer's CPU, so usually a cache miss).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MEMO_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} mirrored_memo SEC(".maps");

static __always_inline int on_loopback(const struct __sk_buff *skb)
{
	return mirror_loopback && skb->ifindex == LOOPBACK_IFINDEX;
}

/* This CPU's memo slot for the packet's socket, and the socket's cookie. */
static __always_inline __u64 *mirrored_slot(struct __sk_buff *skb, __u64 *cookie)
{
	__u32 slot;

	*cookie = bpf_get_socket_cookie(skb);
	slot = memo_slot(*cookie);
	return bpf_map_lookup_elem(&mirrored_memo, &slot);
}

/* An ingress packet on lo of a socket this CPU already knows as mirrored: the cheap test. */
static __always_inline int known_mirrored(struct __sk_buff *skb)
{
	__u64 cookie, *m;

	if (!on_loopback(skb) || !skb->sk)
		return 0;
	m = mirrored_slot(skb, &cookie);
	return m && *m == cookie;
}

/* An ingress packet on lo whose copy the sending socket's egress program made. */
static __always_inline int copied_by_peer(struct __sk_buff *skb, const struct sk_state *st)
{
	__u64 cookie, *m;

	if (!on_loopback(skb) || !st || !*(volatile __u32 *)&st->mirrored)
		return 0;
	m = mirrored_slot(skb, &cookie);
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
 * The other end's storage (made when missing) and, through *cookie, its cookie (0 while it
 * has none: it is made when first asked for). NULL when there is no such socket.
 */
static __always_inline struct sk_state *peer_state(struct __sk_buff *skb, __u64 *cookie)
{
	struct bpf_sock *peer = lookup_peer(skb);
	struct tcp_sock *tp;
	struct sk_state *ps;

	*cookie = 0;
	if (!peer)
		return NULL;
	tp = peer->state == BPF_TCP_LISTEN ? NULL : bpf_skc_to_tcp_sock(peer);
	if (tp)
		*cookie = tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter;
	ps = tp ? bpf_sk_storage_get(&socks, peer, 0, BPF_SK_STORAGE_GET_F_CREATE) : NULL;
	bpf_sk_release(peer);
	return ps;
}

/*
 * Makes st's socket's copies stand for what its peer receives: the peer's ingress stops
 * copying on lo, and its responses are paired with requests framed here. st->peer is set
 * before the peer stops, so no packet goes uncopied; around the switch a packet may be
 * copied at both ends, which user space takes as a retransmission.
 */
static __always_inline void link_peer(struct __sk_buff *skb, struct sk_state *st)
{
	struct sk_state *ps;
	__u64 cookie;

	st->peer_tries++;
	ps = peer_state(skb, &cookie);
	if (!ps || ps == st || !cookie)
		return;
	st->peer = cookie;
	ps->conn.remote_reqs = 1;
	*(volatile __u32 *)&ps->mirrored = 1;
	__sync_fetch_and_add(&owner_gen, 1);
}

/* The peer a record of st's socket also stands for (0: none), linking it when it may. */
static __always_inline __u64 peer_for(struct __sk_buff *skb, struct sk_state *st, __u8 dir)
{
	if (!on_loopback(skb) || dir != REC_DIR_EGRESS)
		return 0;
	if (!st->peer && st->peer_tries < PEER_TRIES)
		link_peer(skb, st);
	return st->peer;
}

/*
 * This end's ingress copies nothing (the peer's egress does), so no response here answers
 * a request framed here: such entries at the head of the queue go.
 */
static __always_inline void drop_local_specials(struct frame_conn *c)
{
	__u32 r = c->special_read, n = *(volatile __u32 *)&c->specials;

	for (int i = 0; i < FRAME_SPECIALS; i++) {
		if (r == n || (c->special[r & (FRAME_SPECIALS - 1)] & SPECIAL_REMOTE))
			break;
		r++;
	}
	c->special_read = r;
}

/*
 * After an egress packet of a linked socket: hands the peer what its framing of the other
 * direction must know. New HEAD and CONNECT requests go into its queue (ours is emptied
 * once this end's ingress copies nothing), lost kinds are lost there too, and a tunnel
 * opened by a response framed here (101, 2xx to CONNECT) makes the peer's sending side a
 * tunnel.
 */
__noinline int tell_peer(struct __sk_buff *skb, struct sk_state *st, __u32 di)
{
	__u32 n, from;
	struct sk_state *ps;
	__u64 cookie;
	__u8 told;

	if (!skb || !st)
		return 0;
	n = st->conn.specials;
	from = st->pushed;
	told = (st->conn.kinds_lost ? TOLD_LOST : 0) | (st->conn.tunnel[(di ^ 1) & 1] ? TOLD_TUNNEL : 0);

	if (st->mirrored)
		drop_local_specials(&st->conn);
	if (!st->peer || (n == from && told == st->told))
		return 0;
	ps = peer_state(skb, &cookie);
	if (!ps || cookie != st->peer)
		return 0;
	for (int i = 0; i < FRAME_SPECIALS; i++) {
		__u32 e = st->conn.special[(from + i) & (FRAME_SPECIALS - 1)];

		if (from + i == n)
			break;
		if (!(e & SPECIAL_REMOTE))  /* what the peer told us stays here */
			frame_special_push(&ps->conn, e | SPECIAL_REMOTE);
	}
	st->pushed = n;
	if (told & TOLD_LOST)
		ps->conn.kinds_lost = 1;
	if (told & TOLD_TUNNEL)
		ps->conn.tunnel[di & 1] = st->conn.tunnel[(di ^ 1) & 1];  /* 2: after a 101, 3: a preface */
	st->told = told;
	return 0;
}

#endif
