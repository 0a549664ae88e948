// SPDX-License-Identifier: GPL-2.0
/*
 * httpeek's kernel side. cgroup_skb programs on the cgroup v2 root follow each direction of
 * every HTTP/1.x connection with the framer of frame.h and copy, from each packet, the IP
 * and TCP headers and the payload ranges user space needs (everything but body and chunk
 * data) into the ring buffer; every packet is allowed. tp_btf programs tell user space
 * which process uses a socket. Layouts shared with user space are in src/record.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "record.h"
#include "maps.bpf.h"
#include "copy.bpf.h"
#include "filter.bpf.h"
#include "loopback.bpf.h"
#include "owner.bpf.h"

char LICENSE[] SEC("license") = "GPL";

_Static_assert(FRAME_R_BOUNDARY == REC_F_BOUNDARY && FRAME_R_WHOLE == REC_F_WHOLE, "flags");

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define START_PROBE 24  /* payload bytes that decide whether a packet starts a message */
#define NEST_MAX 4

const volatile __u32 max_head = 65536;  /* user space's head limit */
const volatile __u32 body_bytes = 0;    /* body bytes copied after each head */

/*
 * The framer's pass lives in a per-CPU slot, one per nesting level (a softirq can
 * interrupt a program in process context on the same CPU), so that the verifier sees its
 * fields as unknown and checks the bpf_loop callback once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NEST_MAX);
	__type(key, __u32);
	__type(value, struct frame_scan);
} scans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} nest SEC(".maps");

/* One packet as the programs see it after its headers. */
struct pkt {
	struct __sk_buff *skb;
	struct bpf_sock *sk;
	__u32 hl;       /* IP and TCP header bytes */
	__u32 plen;     /* payload bytes */
	__u32 seq;
	__u8 flags;     /* TCP flags */
	__u8 dir;       /* REC_DIR_* */
	__u8 di;        /* index into sk_state.d: 0 ingress, 1 egress */
};

struct loop_ctx {
	struct __sk_buff *skb;
	struct frame_scan *s;
	struct frame_conn *c;
};

static long frame_cb(__u32 i, void *ctx)
{
	struct loop_ctx *lc = ctx;

	return frame_step(lc->s, lc->c, lc->skb);
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

/* The payload starts a message: CR or LF at most 4 times, then a token and SP, or "HTTP/". */
static __always_inline int starts_message(const struct pkt *p)
{
	__u8 b[START_PROBE] = {};
	__u32 n = p->plen < START_PROBE ? p->plen : START_PROBE, i = 0, t = 0, http = 1;

	if (n < 2 || bpf_skb_load_bytes(p->skb, p->hl, b, n) < 0)
		return 0;
#pragma unroll
	for (int k = 0; k < START_PROBE; k++) {
		__u8 c = b[k];

		if (k >= n)
			return 0;
		if (t == 0 && i < 4 && (c == '\r' || c == '\n')) {
			i++;
			continue;
		}
		if (http && t == 4 && c == '/')
			return 1;
		if (t < 4 && frame_lower(c) != (__u8)(0x70747468u >> (t * 8)))
			http = 0;
		if (c == ' ')
			return t > 0;
		if (!frame_is_tchar(c) || t >= FRAME_TOKEN_MAX)
			return 0;
		t++;
	}
	return 0;
}

/* The first payload byte could begin a message (a fresh stream's first packet). */
static __always_inline int may_start(const struct pkt *p)
{
	__u8 c;

	if (bpf_skb_load_bytes(p->skb, p->hl, &c, 1) < 0)
		return 0;
	return frame_is_tchar(c) || c == '\r' || c == '\n';
}

/*
 * Where the socket's byte streams stand, from its TCP state: whether seq is the first byte
 * of direction di, and the next sequence number of the other direction when it has carried
 * nothing yet (0 and *other_fresh = 0 otherwise).
 */
static __always_inline int stream_start(const struct pkt *p, __u32 *other_next, int *other_fresh)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(p->sk);
	int fresh;

	*other_fresh = 0;
	if (!tp)
		return 0;
	if (p->di == 0) {
		fresh = tp->bytes_received == 0 && p->seq == tp->rcv_nxt;
		*other_fresh = tp->bytes_sent == 0;
		*other_next = tp->snd_nxt;
	} else {
		/* bytes_acked counts the SYN of an active open. */
		fresh = tp->bytes_acked <= 1 && p->seq == tp->snd_una;
		*other_fresh = tp->bytes_received == 0;
		*other_next = tp->rcv_nxt;
	}
	return fresh;
}

static __always_inline void follow_from(struct dir_state *ds, __u32 seq, int joined)
{
	__builtin_memset(&ds->f, 0, sizeof(ds->f));
	frame_head_begin(&ds->f);
	ds->f.flags = joined ? F_JOINED : 0;
	ds->next_seq = seq;
	ds->ooo_seq = ds->ooo_end = seq;
}

/*
 * A packet of a direction not followed yet: follows it from here when the packet is the
 * stream's first and may start a message, or when it starts one (a connection older than
 * the programs). Makes the socket's storage then. Returns it, or NULL.
 */
static __always_inline struct sk_state *sync(const struct pkt *p, struct sk_state *st)
{
	int fresh, other_fresh;
	__u32 other_next = 0;

	if (!may_start(p))
		return NULL;
	fresh = stream_start(p, &other_next, &other_fresh);
	if (!fresh && !starts_message(p))
		return NULL;
	if (!st) {
		st = bpf_sk_storage_get(&socks, p->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!st)
			return NULL;
		__sync_fetch_and_add(&owner_gen, 1);
		if (other_fresh)
			follow_from(&st->d[(p->di ^ 1) & 1], other_next, 0);
	}
	follow_from(&st->d[p->di & 1], p->seq, !fresh);
	if (!fresh)
		__sync_fetch_and_add(&joined, 1);
	return st;
}

/* Payload [lo, hi) to copy, standing for [lo, end). */
struct span {
	__u32 lo, hi, end;
	__u32 heads;      /* message starts in it */
	__u8 flags;       /* REC_F_* */
};

/* Copies a span of p in records of at most the largest size class. */
static __noinline void copy_range(const struct pkt *p, struct sk_state *st, struct dir_state *ds,
				  const struct span *sp)
{
	struct copy_req q = {
		.cookie = bpf_get_socket_cookie(p->skb),
		.peer = peer_for(p->skb, st, p->dir),
		.hl = p->hl,
		.dir = p->dir,
	};
	__u32 lo = sp->lo, hi = sp->hi;

	for (int part = 0; part < 2; part++) {
		q.lo = lo;
		q.n = hi - lo > COPY_MAX_PAYLOAD ? COPY_MAX_PAYLOAD : hi - lo;
		q.span = q.n < hi - lo ? q.n : sp->end - lo;
		q.heads = part ? 0 : sp->heads;
		q.flags = sp->flags | (ds->dropped ? REC_F_AFTER_DROP : 0);
		if (part && !(sp->flags & REC_F_WHOLE))
			q.flags &= ~REC_F_BOUNDARY;
		ds->dropped = copy_record(p->skb, &q) < 0;
		lo += q.n;
		if (lo >= hi)
			break;
	}
}

/* Payload bytes [from, plen) of p copied whole: the framer cannot vouch for them. */
static __always_inline void copy_whole(const struct pkt *p, struct sk_state *st,
				       struct dir_state *ds, __u32 from)
{
	struct span sp = { .lo = from, .hi = p->plen, .end = p->plen, .flags = REC_F_WHOLE };

	if (from < p->plen)
		copy_range(p, st, ds, &sp);
}

/* A direction whose bytes go to user space (or may). */
static __always_inline int followed(const struct dir_state *ds)
{
	return ds->f.mode != D_UNSYNCED && ds->f.mode != D_IGNORE;
}

/*
 * FIN or RST in a packet none of whose payload is copied, on a socket that carries HTTP: a
 * header-only record, so that flows end promptly.
 */
static __always_inline void copy_end(const struct pkt *p, struct sk_state *st,
				     struct dir_state *ds)
{
	struct span sp = { .lo = p->plen, .hi = p->plen, .end = p->plen };

	if ((p->flags & (TH_FIN | TH_RST)) && (followed(&st->d[0]) || followed(&st->d[1])))
		copy_range(p, st, ds, &sp);
}

/* Copies the ranges the framer marked; the last one stands for the packet's rest. */
static __always_inline void copy_marked(const struct pkt *p, struct sk_state *st,
					struct dir_state *ds, const struct frame_scan *s)
{
	__u32 nr = s->nr;

	if (!nr) {
		copy_end(p, st, ds);
		return;
	}
#pragma unroll
	for (int i = 0; i < FRAME_RANGES; i++) {
		const struct frame_range *r = &s->r[i];
		struct span sp = {
			.lo = r->lo,
			.hi = r->hi,
			.end = i + 1 < nr ? s->r[(i + 1) & (FRAME_RANGES - 1)].lo : p->plen,
			.heads = r->heads,
			.flags = r->flags,
		};

		if (i >= nr)
			break;
		copy_range(p, st, ds, &sp);
	}
}

/*
 * Bytes that arrived ahead of a hole: copied whole and remembered, so that once the hole
 * is framed the framer can step over them (inside a body) or give up (D_WHOLE).
 */
static __always_inline void early(const struct pkt *p, struct sk_state *st,
				  struct dir_state *ds)
{
	__u32 end = p->seq + p->plen;

	if (ds->ooo_end == ds->ooo_seq) {
		ds->ooo_seq = p->seq;
		ds->ooo_end = end;
	} else if ((__s32)(p->seq - ds->ooo_end) <= 0 && (__s32)(end - ds->ooo_seq) >= 0) {
		if ((__s32)(p->seq - ds->ooo_seq) < 0)
			frame_whole(&ds->f);
		else if ((__s32)(end - ds->ooo_end) > 0)
			ds->ooo_end = end;
	} else {
		frame_whole(&ds->f);
	}
	copy_whole(p, st, ds, 0);
}

/* The hole before the early bytes is framed: steps over them when they are body. */
static __always_inline void skip_early(struct dir_state *ds)
{
	struct frame_dir *f = &ds->f;
	__u32 n = ds->ooo_end - ds->ooo_seq;

	if ((f->mode == D_BODY || (f->mode == D_CHUNK && f->st == CH_DATA)) && f->remaining >= n) {
		f->remaining -= n;
		if (!f->remaining) {
			if (f->mode == D_BODY)
				frame_head_begin(f);
			else
				f->st = CH_DATA_CR;
		}
	} else if (f->mode != D_CLOSE && f->mode != D_TUNNEL && f->mode != D_IGNORE) {
		frame_whole(f);
	}
	ds->next_seq = ds->ooo_end;
	ds->ooo_seq = ds->ooo_end;
}

/* Frames payload [from, limit) of p with this CPU's slot for the nesting level. */
static __always_inline void frame_packet(const struct pkt *p, struct sk_state *st,
					 struct dir_state *ds, __u32 from, __u32 limit)
{
	__u32 zero = 0, level, *lvl;
	struct loop_ctx lc;
	struct frame_scan *s;

	lvl = bpf_map_lookup_elem(&nest, &zero);
	if (!lvl)
		return;
	level = *lvl;
	s = level < NEST_MAX ? bpf_map_lookup_elem(&scans, &level) : NULL;
	if (!s) {
		frame_whole(&ds->f);
		copy_whole(p, st, ds, from);
		return;
	}
	*lvl = level + 1;
	frame_scan_init(s, &ds->f, p->hl, from, limit);
	s->max_head = max_head;
	s->body_bytes = body_bytes;
	s->dir = p->di;
	lc.skb = p->skb;
	lc.s = s;
	lc.c = &st->conn;
	bpf_loop(REC_MAX_COPY, frame_cb, &lc, 0);
	if (s->limit < limit)
		frame_whole(&s->d);  /* bytes it could not read */
	frame_pass_done(s, &st->conn);
	ds->f = s->d;
	ds->next_seq = p->seq + s->limit;
	if ((s->d.mode == D_IGNORE || s->d.mode == D_UNSYNCED) && !(s->d.flags & F_PROVEN))
		s->nr = 0;  /* not HTTP: nothing of it goes to user space */
	copy_marked(p, st, ds, s);
	*lvl = level;
}

/* Frames and copies one packet with payload of a followed direction. */
static __always_inline void follow(const struct pkt *p, struct sk_state *st, struct dir_state *ds)
{
	__u32 from, limit = p->plen;
	__s32 ahead = p->seq - ds->next_seq;

	if (st->conn.tunnel[p->di & 1])
		ds->f.mode = D_TUNNEL;
	if (ds->f.mode == D_WHOLE) {
		st->conn.kinds_lost = 1;
		copy_whole(p, st, ds, 0);
		return;
	}
	if (ds->f.mode == D_TUNNEL || ds->f.mode == D_IGNORE ||
	    (ds->f.mode == D_CLOSE && !ds->f.body_copy)) {
		copy_end(p, st, ds);
		return;
	}
	if (ahead > 0) {
		early(p, st, ds);
		return;
	}
	from = -ahead;
	if (from >= p->plen) {
		copy_end(p, st, ds);  /* a retransmission */
		return;
	}
	if (ds->ooo_end != ds->ooo_seq && (__s32)(ds->ooo_seq - (p->seq + p->plen)) < 0)
		limit = ds->ooo_seq - p->seq;
	frame_packet(p, st, ds, from, limit);
	if (ds->ooo_end != ds->ooo_seq && ds->next_seq == ds->ooo_seq) {
		skip_early(ds);
		if ((__s32)(p->seq + p->plen - ds->ooo_end) > 0) {
			frame_whole(&ds->f);
			copy_whole(p, st, ds, ds->ooo_end - p->seq);
		}
	}
}

/* follow() with the direction marked busy; a second program at once copies whole. */
static __always_inline void follow_once(const struct pkt *p, struct sk_state *st,
					struct dir_state *ds)
{
	if (__sync_fetch_and_add(&ds->busy, 1)) {
		copy_whole(p, st, ds, 0);
		return;
	}
	follow(p, st, ds);
	if (__sync_fetch_and_add(&ds->busy, -1) != 1) {
		frame_whole(&ds->f);
		ds->busy = 0;
	}
}

static __always_inline void handle(struct __sk_buff *skb, __u8 dir)
{
	struct pkt p = { .skb = skb, .dir = dir, .di = dir == REC_DIR_EGRESS };
	struct sk_state *st;
	struct dir_state *ds = NULL;
	struct bpf_sock *sk;

	if (skb->protocol != bpf_htons(ETH_P_IP) && skb->protocol != bpf_htons(ETH_P_IPV6))
		return;
	p.hl = parse_headers(skb, &p.seq, &p.flags);
	if (!p.hl || p.hl > skb->len || p.hl > REC_HDR_MAX)
		return;
	sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (!sk)
		return;
	p.sk = sk;
	p.plen = skb->len - p.hl;
	st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (copied_by_peer(skb, st))
		return;
	if (st) {
		barrier_var(st);
		ds = &st->d[p.di & 1];
	}
	if (!p.plen) {
		if (ds)
			copy_end(&p, st, ds);  /* FIN or RST: flows end promptly */
		return;
	}
	if (p.flags & TH_SYN)
		return;  /* data in a SYN (TCP Fast Open) is not followed */
	if (!st || ds->f.mode == D_UNSYNCED) {
		st = sync(&p, st);
		if (!st)
			return;
		ds = &st->d[p.di & 1];
	}
	follow_once(&p, st, ds);
}

SEC("cgroup_skb/ingress")
int httpeek_ingress(struct __sk_buff *skb)
{
	handle(skb, REC_DIR_INGRESS);
	return 1;
}

SEC("cgroup_skb/egress")
int httpeek_egress(struct __sk_buff *skb)
{
	handle(skb, REC_DIR_EGRESS);
	return 1;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(httpeek_send, struct sock *sk, int ret, int flags)
{
	touch(sk);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(httpeek_recv, struct sock *sk, int ret, int flags)
{
	touch(sk);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(httpeek_state, const struct sock *sk, const int oldstate, const int newstate)
{
	gone(sk, newstate);
	return 0;
}
