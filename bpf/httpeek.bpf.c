// SPDX-License-Identifier: GPL-2.0
/*
 * httpeek's kernel side. cgroup_skb programs on the cgroup v2 root classify TCP payloads
 * (an HTTP message start, or the continuation of a head in progress on the socket) and copy
 * the packet up to the end of the head into the ring buffer; everything else is ignored and
 * every packet is allowed. tp_btf programs tell user space which process uses a socket.
 * Layouts shared with user space are in src/record.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "record.h"
#include "filter.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define TH_FIN 0x01
#define TH_RST 0x04
#define CHUNK 64
#define TOKEN_MAX 20
#define LOOPBACK_IFINDEX 1  /* lo in every network namespace */
#define BPF_TCP_LISTEN 10
#define PEER_TRIES 4
#define MEMO_SLOTS 64  /* per-CPU memos below and in owner.bpf.h, indexed by memo_slot() */

const volatile __u32 max_head = 16384;    /* head bytes copied per message at most */
const volatile __u32 body_bytes = 0;      /* body bytes copied after each head */
const volatile __u32 whole_bytes = 2048;  /* payloads with head bytes up to this are copied whole */
const volatile __u64 wakeup_bytes = 0;    /* wake the reader only past this much unread data */
const volatile __u8 mirror_loopback = 0;  /* attached at the root: one copy per loopback packet */

/*
 * Failed ring-buffer reserves: [0] packets, [1] owner records. In .bss, which user space reads
 * through its memory mapping, without a bpf() call (it keeps no BPF capability).
 */
__u64 drop_count[2] = {};

/*
 * Bumped whenever a socket gets HTTP storage or a new owner: the owner programs' per-CPU
 * memo (owner.bpf.h) holds only while it stays the same.
 */
__u64 owner_gen = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

enum scan_mode { M_IDLE, M_START, M_HEAD, M_BODY, M_STOP };

/* Where one direction of a socket stands; resumed when the next segment is in order. */
struct dir_state {
	__u32 next_seq;
	__u32 h;          /* bytes of the current message so far */
	__u32 w;          /* its last four bytes */
	__u32 body_left;  /* body bytes still to copy */
	__u8 mode;        /* enum scan_mode */
	__u8 tok;         /* start token bytes so far */
	__u8 hp;          /* the token so far is a prefix of "HTTP/" */
	__u8 pad;
};

struct sk_state {
	__u64 owner;      /* pid_tgid that used the socket last; 0 before any owner record */
	__u64 peer;       /* loopback: the receiving socket's cookie, 0 while unknown */
	struct dir_state d[2];
	__u8 mirrored;    /* loopback: the sender's egress copies what this socket receives */
	__u8 peer_tries;  /* lookups of the peer so far */
	__u8 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_state);
} socks SEC(".maps");

/*
 * The byte scanner's state. It lives in a per-CPU slot, one per nesting level (a softirq can
 * interrupt a program in process context on the same CPU), so that the verifier sees its
 * fields as unknown and checks the bpf_loop callback once.
 */
struct scan {
	__u32 off;        /* skb offset of payload byte 0 */
	__u32 limit;      /* payload bytes to scan */
	__u32 pos;        /* next payload byte */
	__u32 keep;       /* payload bytes to copy */
	__u32 ms;         /* payload offset of the current message */
	__u32 h, w, body_left;
	__u8 mode, tok, hp;
	__u8 first;       /* the start being checked is the packet's first: failing means skip */
	__u8 started;     /* the payload holds head bytes: a message start or a resumed head */
	__u8 pad[3];
	__u8 buf[CHUNK] __attribute__((aligned(8)));
};

#define NEST_MAX 4

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NEST_MAX);
	__type(key, __u32);
	__type(value, struct scan);
} scans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} nest SEC(".maps");

struct loop_ctx {
	struct __sk_buff *skb;
	struct scan *s;
};

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

static __always_inline int is_tchar(__u8 c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return 1;
	}
	return 0;
}

/* The start token did not become a message start: the rest is body (or not HTTP). */
static __always_inline void scan_fail(struct scan *s)
{
	__u32 room = s->limit - s->ms;
	__u32 n = s->body_left < room ? s->body_left : room;

	s->keep = s->ms + n;
	s->body_left -= n;
	s->mode = M_STOP;
}

static __always_inline void scan_start_byte(struct scan *s, __u8 c)
{
	__u8 t = s->tok;

	if (c == '/' && s->hp && t == 4) {
		s->mode = M_HEAD;
		s->started = 1;
	} else if (c == ' ' && t >= 1) {
		s->mode = M_HEAD;
		s->started = 1;
	} else if (is_tchar(c) && t < TOKEN_MAX) {
		if (t >= 4 || (c | 0x20) != ((0x70747468u >> ((t & 3) * 8)) & 0xff))  /* "http" */
			s->hp = 0;
		s->tok = t + 1;
	} else {
		scan_fail(s);
	}
}

static __always_inline void scan_head_byte(struct scan *s, __u8 c)
{
	__u32 w = (s->w << 8) | c;

	s->w = w;
	if (c == '\n' && ((w & 0xffff) == 0x0a0a || (w & 0xffffff) == 0x0a0d0a)) {
		/* End of head; what follows may be another message. */
		s->keep = s->pos + 1;
		s->ms = s->pos + 1;
		s->mode = M_START;
		s->tok = 0;
		s->hp = 1;
		s->h = 0;
		s->w = 0;
		s->first = 0;
		s->body_left = body_bytes;
	} else if (s->h >= max_head) {
		s->keep = s->pos + 1;
		s->mode = M_STOP;
	}
}

static long scan_step(__u32 i, void *ctx)
{
	struct loop_ctx *lc = ctx;
	struct scan *s = lc->s;
	__u32 pos = s->pos;
	__u64 n;
	__u8 c;

	if (pos >= s->limit || s->mode == M_STOP)
		return 1;
	if ((pos & (CHUNK - 1)) == 0) {
		n = s->limit - pos;
		barrier_var(n);
		if (n > CHUNK)
			n = CHUNK;
		if (n < 1 || bpf_skb_load_bytes(lc->skb, s->off + pos, s->buf, n) < 0) {
			s->limit = pos;
			return 1;
		}
	}
	if (s->mode == M_HEAD && !(pos & 7) && s->limit - pos >= 8 && s->h + 8 < max_head) {
		/* Eight head bytes without a '\n' cannot end the head: skip them at once. */
		__u64 v = *(__u64 *)&s->buf[pos & (CHUNK - 8)] ^ 0x0a0a0a0a0a0a0a0aull;

		if (!((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull)) {
			s->w = 0;
			s->h += 8;
			s->pos = pos + 8;
			return 0;
		}
	}
	c = s->buf[pos & (CHUNK - 1)];
	s->h++;
	if (s->mode == M_START)
		scan_start_byte(s, c);
	else
		scan_head_byte(s, c);
	s->pos = pos + 1;
	return 0;
}

/* Reserves a record of size class cls, copies len packet bytes into it and submits it. */
static __always_inline void emit_class(struct __sk_buff *skb, __u32 len, __u8 dir, __u64 cookie,
				       __u64 peer, const __u32 cls)
{
	struct rec_packet *r;
	__u64 n;

	r = bpf_ringbuf_reserve(&events, sizeof(*r) + cls, 0);
	if (!r) {
		count_drop(0);
		return;
	}
	n = len;
	barrier_var(n);
	if (n > cls)
		n = cls;
	if (n < 1 || bpf_skb_load_bytes(skb, 0, (void *)(r + 1), n) < 0) {
		bpf_ringbuf_discard(r, 0);
		return;
	}
	r->h.ts_ns = bpf_ktime_get_ns();
	r->h.sock_cookie = cookie;
	r->h.type = REC_PACKET;
	r->h.pad = 0;
	r->peer_cookie = peer;
	r->wire_len = skb->len;
	r->cap_len = n;
	r->ifindex = skb->ifindex;
	r->dir = dir;
	r->pad[0] = r->pad[1] = r->pad[2] = 0;
	bpf_ringbuf_submit(r, submit_flags());
}

/* peer: the loopback receiver this copy also stands for, or 0. */
static __always_inline void emit_packet(struct __sk_buff *skb, __u32 len, __u8 dir, __u64 peer)
{
	__u64 cookie = bpf_get_socket_cookie(skb);

	if (len <= 256)
		emit_class(skb, len, dir, cookie, peer, 256);
	else if (len <= 1024)
		emit_class(skb, len, dir, cookie, peer, 1024);
	else if (len <= 4096)
		emit_class(skb, len, dir, cookie, peer, 4096);
	else if (len <= 16384)
		emit_class(skb, len, dir, cookie, peer, 16384);
	else
		emit_class(skb, len, dir, cookie, peer, REC_MAX_COPY);
}

/*
 * Loopback: what a socket sends is what its peer receives, so the sender's egress copy stands
 * for both ends. find_peer looks up the receiving socket of this packet and marks it, so
 * that its ingress program skips loopback packets from then on, and returns its cookie.
 * The cookie must already exist (it is made when first asked for): until then, 0, and both
 * ends copy as usual.
 */
static __always_inline __u64 find_peer(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *peer;
	struct tcp_sock *tp;
	struct sk_state *ps;
	__u32 size, hl;
	__u64 cookie = 0;
	__u8 ip[40];

	if (bpf_skb_load_bytes(skb, 0, ip, 1) < 0)
		return 0;
	if (ip[0] >> 4 == 4) {
		if (bpf_skb_load_bytes(skb, 0, ip, 20) < 0)
			return 0;
		__builtin_memcpy(&t.ipv4.saddr, ip + 12, 8);
		hl = (ip[0] & 0x0f) * 4;
		if (bpf_skb_load_bytes(skb, hl, &t.ipv4.sport, 4) < 0)
			return 0;
		size = sizeof(t.ipv4);
	} else {
		if (bpf_skb_load_bytes(skb, 0, ip, 40) < 0)
			return 0;
		__builtin_memcpy(t.ipv6.saddr, ip + 8, 32);
		if (bpf_skb_load_bytes(skb, 40, &t.ipv6.sport, 4) < 0)
			return 0;
		size = sizeof(t.ipv6);
	}
	peer = bpf_sk_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
	if (!peer)
		return 0;
	tp = peer->state == BPF_TCP_LISTEN ? NULL : bpf_skc_to_tcp_sock(peer);
	if (tp)
		cookie = tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter;
	if (cookie) {
		ps = bpf_sk_storage_get(&socks, peer, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (ps) {
			ps->mirrored = 1;
			__sync_fetch_and_add(&owner_gen, 1);
		} else {
			cookie = 0;
		}
	}
	bpf_sk_release(peer);
	return cookie;
}

/* The loopback receiver that an egress copy from st's socket also stands for, or 0. */
static __always_inline __u64 peer_of(struct __sk_buff *skb, struct sk_state *st, __u8 dir)
{
	if (!mirror_loopback || dir != REC_DIR_EGRESS || skb->ifindex != LOOPBACK_IFINDEX)
		return 0;
	if (!st->peer && st->peer_tries < PEER_TRIES) {
		st->peer_tries++;
		st->peer = find_peer(skb);
	}
	return st->peer;
}

/*
 * Cookies of marked sockets this CPU has seen, by a hash of the cookie: a mark is never
 * removed and cookies are never reused, so a hit needs no read of the socket's storage
 * (written on the peer's CPU, so usually a cache miss).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MEMO_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} mirrored_memo SEC(".maps");

/* A memo slot for a socket cookie: the top bits of a multiplicative hash. */
static __always_inline __u32 memo_slot(__u64 cookie)
{
	return (cookie * 0x9e3779b97f4a7c15ull) >> 58;  /* 64 - log2(MEMO_SLOTS) */
}

/* An ingress packet on loopback whose copy the sending socket's egress program made. */
static __always_inline int mirrored_here(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct sk_state *st;
	__u64 cookie, *m;
	__u32 slot;

	if (!mirror_loopback || skb->ifindex != LOOPBACK_IFINDEX || !sk)
		return 0;
	cookie = bpf_get_socket_cookie(skb);
	slot = memo_slot(cookie);
	m = bpf_map_lookup_elem(&mirrored_memo, &slot);
	if (m && *m == cookie)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (!st || !st->mirrored)
		return 0;
	if (m)
		*m = cookie;
	return 1;
}

/*
 * Parses IP and TCP headers: returns the header length, or 0 when the packet is not TCP
 * (or is a fragment, or has IPv6 extension headers) or the filter knobs reject it.
 */
static __always_inline __u32 parse_headers(struct __sk_buff *skb, __u32 *seq, __u8 *flags)
{
	__u8 ip[40] = {}, tcp[20];
	__u32 hl;
	__u8 ver;

	if (bpf_skb_load_bytes(skb, 0, ip, 1) < 0)
		return 0;
	ver = ip[0] >> 4;
	if (ver == 4) {
		if (bpf_skb_load_bytes(skb, 0, ip, 20) < 0 || ip[9] != IPPROTO_TCP)
			return 0;
		if ((ip[6] & 0x3f) || ip[7])  /* a fragment */
			return 0;
		hl = (ip[0] & 0x0f) * 4;
		if (hl < 20)
			return 0;
	} else if (ver == 6) {
		if (bpf_skb_load_bytes(skb, 0, ip, 40) < 0 || ip[6] != IPPROTO_TCP)
			return 0;
		hl = 40;
	} else {
		return 0;
	}
	if (bpf_skb_load_bytes(skb, hl, tcp, 20) < 0 || (tcp[12] >> 4) < 5)
		return 0;
	if (!filter_pass(ip, ver, tcp))
		return 0;
	*seq = ((__u32)tcp[4] << 24) | ((__u32)tcp[5] << 16) | ((__u32)tcp[6] << 8) | tcp[7];
	*flags = tcp[13];
	return hl + (tcp[12] >> 4) * 4;
}

/* Saves where the scan ended so that the next in-order segment resumes it. */
static __always_inline void save_state(struct dir_state *d, const struct scan *s, __u32 seq,
				       __u32 plen)
{
	__u8 mode = s->mode;

	if (s->limit < plen)
		mode = M_IDLE;  /* bytes were left unscanned: the thread is lost */
	else if (mode == M_START && s->pos == s->ms)
		mode = s->body_left ? M_BODY : M_IDLE;
	else if (mode == M_STOP)
		mode = s->body_left && s->keep == plen ? M_BODY : M_IDLE;
	d->mode = mode;
	d->next_seq = seq + plen;
	d->h = s->h;
	d->w = s->w;
	d->body_left = s->body_left;
	d->tok = s->tok;
	d->hp = s->hp;
}

static __always_inline void scan_init(struct scan *s, const struct dir_state *d, int resume)
{
	s->mode = M_START;
	s->hp = 1;
	s->first = 1;
	if (!resume)
		return;
	s->h = d->h;
	s->w = d->w;
	s->body_left = d->body_left;
	if (d->mode == M_HEAD) {
		s->mode = M_HEAD;
		s->started = 1;
	} else if (d->mode == M_START) {
		s->tok = d->tok;
		s->hp = d->hp;
	} else {
		s->h = 0;  /* M_BODY: a new message may start here, else body follows */
	}
}

/* Scans the payload of one packet into s, resuming d's state when the segment is in order. */
static __always_inline void scan_packet(struct __sk_buff *skb, struct scan *s,
					const struct dir_state *d, __u32 hl, __u32 seq, int resume)
{
	struct loop_ctx lc = { .skb = skb, .s = s };
	__u32 plen = skb->len - hl, room = REC_MAX_COPY - hl;

	__builtin_memset(s, 0, sizeof(*s) - CHUNK);
	s->off = hl;
	s->limit = plen < room ? plen : room;
	scan_init(s, d, resume);
	bpf_loop(REC_MAX_COPY, scan_step, &lc, 0);
	if (s->mode == M_START || s->mode == M_HEAD)
		s->keep = s->pos;
}

/*
 * A packet with payload: scans it, copies what is HTTP head, keeps the socket's state. A small
 * payload with head bytes is copied whole: user space frames the bodies in it and finds the
 * messages that follow them, which the scanner cannot.
 */
static __always_inline void handle(struct __sk_buff *skb, __u8 dir, __u32 hl, __u32 seq,
				   struct scan *s)
{
	struct sk_state *st = NULL;
	struct dir_state *d = NULL;
	__u32 keep, plen = skb->len - hl;
	struct bpf_sock *sk;
	int resume;

	sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (sk)
		st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (st) {
		barrier_var(st);
		d = &st->d[dir == REC_DIR_EGRESS];
	}
	resume = d && d->mode != M_IDLE && d->next_seq == seq;
	scan_packet(skb, s, d, hl, seq, resume);
	keep = s->keep;
	if (s->started && plen <= whole_bytes && plen <= s->limit)
		keep = plen;
	if (keep > REC_MAX_COPY - hl)
		keep = 0;
	if (!st && (s->started || keep) && sk) {
		st = bpf_sk_storage_get(&socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (st)
			__sync_fetch_and_add(&owner_gen, 1);
	}
	if (keep)
		emit_packet(skb, hl + keep, dir, st ? peer_of(skb, st, dir) : 0);
	if (!st)
		return;
	d = &st->d[dir == REC_DIR_EGRESS];
	if (keep || resume)
		save_state(d, s, seq, plen);
	else if ((__s32)(seq - d->next_seq) > 0)
		d->mode = M_IDLE;  /* an unseen segment passed: drop the thread */
}

/* Takes this CPU's scan slot for the current nesting level around handle(). */
static __always_inline void handle_nested(struct __sk_buff *skb, __u8 dir, __u32 hl, __u32 seq)
{
	__u32 zero = 0, level, *lvl;
	struct scan *s;

	lvl = bpf_map_lookup_elem(&nest, &zero);
	if (!lvl)
		return;
	level = *lvl;
	if (level >= NEST_MAX) {
		count_drop(0);
		return;
	}
	*lvl = level + 1;
	s = bpf_map_lookup_elem(&scans, &level);
	if (s)
		handle(skb, dir, hl, seq, s);
	*lvl = level;
}

static __always_inline void handle_any(struct __sk_buff *skb, __u8 dir)
{
	struct sk_state *st = NULL;
	struct bpf_sock *sk;
	__u32 hl, seq = 0;
	__u8 flags = 0;

	if (skb->protocol != bpf_htons(ETH_P_IP) && skb->protocol != bpf_htons(ETH_P_IPV6))
		return;
	if (dir == REC_DIR_INGRESS && mirrored_here(skb))
		return;
	hl = parse_headers(skb, &seq, &flags);
	if (!hl || hl > skb->len || hl > REC_MAX_COPY - CHUNK)
		return;
	if (hl < skb->len) {
		handle_nested(skb, dir, hl, seq);
		return;
	}
	/* FIN or RST without payload on an HTTP socket: copied so that flows end promptly. */
	if (!(flags & (TH_FIN | TH_RST)))
		return;
	sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (sk)
		st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (st)
		emit_packet(skb, hl, dir, peer_of(skb, st, dir));
}

SEC("cgroup_skb/ingress")
int httpeek_ingress(struct __sk_buff *skb)
{
	handle_any(skb, REC_DIR_INGRESS);
	return 1;
}

SEC("cgroup_skb/egress")
int httpeek_egress(struct __sk_buff *skb)
{
	handle_any(skb, REC_DIR_EGRESS);
	return 1;
}

#include "owner.bpf.h"
