// SPDX-License-Identifier: GPL-2.0
/*
 * httpeek's kernel side. cgroup_skb programs on the cgroup v2 root follow each direction of
 * every HTTP/1.x connection with the framer of frame.h and copy, from each packet, the IP
 * and TCP headers and the payload ranges user space needs (everything but body and chunk
 * data) into the ring buffer; every packet is allowed. tp_btf programs tell user space
 * which process uses a socket, and tie SSL calls to their sockets for tls.bpf.c; the first
 * packet of a socket on an interface names it.
 * Layouts shared with user space are in record.h.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "record.h"
#include "frame/frame.h"
#include "lib/maps.bpf.h"
#include "lib/copy.bpf.h"
#include "lib/filter.bpf.h"
#include "lib/loopback.bpf.h"
#include "lib/owner.bpf.h"
#include "lib/iface.bpf.h"
#include "lib/tie.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define COPY_PARTS 8     /* records per range at most */
#define IP6_EXT_MAX 4    /* IPv6 extension headers stepped over at most */
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

/* One step of the pass over the packet's payload, loaded from the packet when it needs it. */
static long frame_cb(__u32 i, void *ctx)
{
	struct loop_ctx *lc = ctx;
	struct frame_scan *s = lc->s;
	__u32 n = frame_need(s);

	if (n) {
		if (n > FRAME_CHUNK || bpf_skb_load_bytes(lc->skb, s->off + s->pos, s->buf, n) < 0) {
			frame_unreadable(s);
			return 1;
		}
		frame_loaded(s, n);
	}
	return frame_step(s, lc->c);
}

/*
 * Steps over IPv6 extension headers (hop-by-hop, as BIG TCP's jumbo option, routing,
 * destination options, AH) from *hl; returns the next header after them.
 */
static __always_inline __u8 skip_ip6_ext(struct __sk_buff *skb, __u8 nh, __u32 *hl)
{
#pragma unroll
	for (int i = 0; i < IP6_EXT_MAX; i++) {
		__u8 ext[2];

		if (nh != 0 && nh != 43 && nh != 60 && nh != 51)
			break;
		if (bpf_skb_load_bytes(skb, *hl, ext, 2) < 0)
			return 255;
		*hl += nh == 51 ? (ext[1] + 2) * 4 : (ext[1] + 1) * 8;
		nh = ext[0];
	}
	return nh;
}

/*
 * n header bytes at off into to: straight from the packet's linear part when they are in it
 * (no helper call; IP and TCP headers nearly always are), else through bpf_skb_load_bytes.
 */
static __always_inline long head_load(struct __sk_buff *skb, __u32 off, void *to, const __u32 n)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;

	if (off <= REC_HDR_MAX && data + off + n <= end) {
		__builtin_memcpy(to, data + off, n);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, to, n);
}

/*
 * Parses IP and TCP headers: returns the header length, or 0 when the packet is not TCP
 * (or is a fragment, or has headers past REC_HDR_MAX) or the filter knobs reject it.
 */
static __always_inline __u32 parse_headers(struct __sk_buff *skb, __u32 *seq, __u8 *flags)
{
	__u8 ip[40] = {}, tcp[20];
	__u32 hl;
	__u8 ver;

	if (head_load(skb, 0, ip, 1) < 0)
		return 0;
	ver = ip[0] >> 4;
	if (ver == 4) {
		if (head_load(skb, 0, ip, 20) < 0 || ip[9] != IPPROTO_TCP)
			return 0;
		if ((ip[6] & 0x3f) || ip[7])  /* a fragment */
			return 0;
		hl = (ip[0] & 0x0f) * 4;
		if (hl < 20)
			return 0;
	} else if (ver == 6) {
		if (head_load(skb, 0, ip, 40) < 0)
			return 0;
		hl = 40;
		if (skip_ip6_ext(skb, ip[6], &hl) != IPPROTO_TCP || hl > REC_HDR_MAX - 20)
			return 0;
	} else {
		return 0;
	}
	if (head_load(skb, hl, tcp, 20) < 0 || (tcp[12] >> 4) < 5)
		return 0;
	if (!filter_pass(ip, ver, tcp))
		return 0;
	*seq = ((__u32)tcp[4] << 24) | ((__u32)tcp[5] << 16) | ((__u32)tcp[6] << 8) | tcp[7];
	*flags = tcp[13];
	return hl + (tcp[12] >> 4) * 4;
}

/* The payload (plen bytes after hl header bytes) starts a message. A global function. */
__noinline int starts_message(struct __sk_buff *skb, __u32 hl, __u32 plen)
{
	__u8 b[HTTP_START_PROBE] = {};
	__u32 n = plen < HTTP_START_PROBE ? plen : HTTP_START_PROBE;

	if (!skb || n < 2 || bpf_skb_load_bytes(skb, hl, b, n) < 0)
		return 0;
	return http_starts_message(b, n);
}

/* The payload's first byte; 0xff when it cannot be read (it then starts nothing). */
static __always_inline __u8 first_byte(const struct pkt *p)
{
	__u8 c;

	return bpf_skb_load_bytes(p->skb, p->hl, &c, 1) < 0 ? 0xff : c;
}

/* First byte c could begin a message (a fresh stream's first packet). */
static __always_inline int may_start(__u8 c)
{
	return http_is_tchar(c) || c == '\r' || c == '\n';
}

/*
 * The payload, whose first byte is c, starts with an HTTP/2 frame header: SETTINGS (settings
 * set: a fresh stream's first frame), or one user space would take as frames in mid-connection.
 * Only a 0 first byte (frames up to 64 KiB) is looked at further: TLS and text never are.
 */
static __always_inline int starts_h2(const struct pkt *p, __u8 c, int settings)
{
	__u8 b[F2_HEADER];

	if (c || p->plen < F2_HEADER || bpf_skb_load_bytes(p->skb, p->hl, b, F2_HEADER) < 0)
		return 0;
	return frame_h2_header_ok(b, settings);
}

/* Where a direction of a socket stands: nothing carried yet (fresh), from first. */
struct stream_pos {
	__u32 first;      /* sequence number of its first byte, when fresh */
	int fresh;
};

/*
 * The TCP state of p's socket: whether p's direction has carried nothing yet (its first
 * byte is then at or before p's), and the same for the other direction.
 */
static __always_inline void stream_start(const struct pkt *p, struct stream_pos *self,
					 struct stream_pos *other)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(p->sk);

	self->fresh = other->fresh = 0;
	if (!tp)
		return;
	if (p->di == 0) {
		/* A packet ahead of a hole may come first; rcv_nxt is still the start. */
		self->fresh = tp->bytes_received == 0;
		self->first = tp->rcv_nxt;
		other->fresh = tp->bytes_sent == 0;
		other->first = tp->snd_nxt;
	} else {
		/* bytes_acked counts the SYN of an active open. */
		self->fresh = tp->bytes_acked <= 1 && p->seq == tp->snd_una;
		self->first = p->seq;
		other->fresh = tp->bytes_received == 0;
		other->first = tp->rcv_nxt;
	}
}

static __always_inline void follow_from(struct dir_state *ds, __u32 seq, int joined)
{
	__builtin_memset(&ds->f, 0, sizeof(ds->f));
	frame_head_begin(&ds->f);
	ds->f.flags = joined ? F_JOINED : 0;
	frame_seq_init(&ds->q, seq);
}

/*
 * A packet of a direction not followed yet: follows the direction from its first byte when
 * it has carried nothing yet (and its first bytes may start a message), or from this packet
 * when it starts a message (a connection older than the programs). Makes the socket's
 * storage then. Returns it, or NULL.
 */
static __always_inline struct sk_state *sync(const struct pkt *p, struct sk_state *st)
{
	struct stream_pos self = { 0 }, other = { 0 };
	__u8 c = first_byte(p);
	int h2 = 0;

	stream_start(p, &self, &other);
	if (self.fresh && self.first == p->seq && !may_start(c) && !starts_h2(p, c, 1))
		return NULL;
	if (!self.fresh && !(may_start(c) && starts_message(p->skb, p->hl, p->plen)) &&
	    !(h2 = starts_h2(p, c, 0)))
		return NULL;
	if (!st) {
		st = bpf_sk_storage_get(&socks, p->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!st)
			return NULL;
		__sync_fetch_and_add(&owner_gen, 1);
		if (other.fresh)
			follow_from(&st->d[(p->di ^ 1) & 1], other.first, 0);
	}
	follow_from(&st->d[p->di & 1], self.fresh ? self.first : p->seq, !self.fresh);
	if (h2)
		frame_h2_joined(&st->d[p->di & 1].f);  /* counted, never decoded */
	else if (!self.fresh)
		__sync_fetch_and_add(&joined, 1);
	return st;
}

/* Payload [lo, hi) of a packet to copy, standing for [lo, end). */
struct span {
	__u32 lo, hi, end;
	__u32 heads;      /* message starts in it */
	__u32 hl;         /* the packet's header bytes */
	__u8 flags;       /* REC_F_* */
	__u8 dir;         /* REC_DIR_* */
	__u8 pad[2];
};

/*
 * Copies a span of a packet in records of at most the largest size class; COPY_PARTS of them
 * hold a whole BIG TCP packet (GSO packets past 64 KiB, 512 KiB at most). A global function:
 * the verifier checks it once. Returns 0.
 */
__noinline int copy_span(struct __sk_buff *skb, struct sk_state *st, struct dir_state *ds,
			 const struct span *sp)
{
	struct copy_req q = {};
	__u32 lo, hi;

	if (!skb || !st || !ds || !sp)
		return 0;
	q.cookie = bpf_get_socket_cookie(skb);
	q.peer = peer_for(skb, st, sp->dir);
	q.hl = sp->hl;
	q.dir = sp->dir;
	q.net_ns = st->net_ns;
	lo = sp->lo;
	hi = sp->hi;
	for (int part = 0; part < COPY_PARTS; part++) {
		q.lo = lo;
		q.n = hi - lo > COPY_MAX_PAYLOAD ? COPY_MAX_PAYLOAD : hi - lo;
		q.span = q.n < hi - lo ? q.n : sp->end - lo;
		q.heads = part ? 0 : sp->heads;
		q.flags = sp->flags | (ds->dropped ? REC_F_AFTER_DROP : 0);
		if (part && !(sp->flags & REC_F_WHOLE))
			q.flags &= ~REC_F_BOUNDARY;
		ds->dropped = copy_record(skb, &q) < 0;
		lo += q.n;
		if (lo >= hi)
			break;
	}
	return 0;
}

static __always_inline void copy_range(const struct pkt *p, struct sk_state *st,
				       struct dir_state *ds, struct span *sp)
{
	sp->hl = p->hl;
	sp->dir = p->dir;
	copy_span(p->skb, st, ds, sp);
}

/* Payload bytes [from, plen) of p copied whole: the framer cannot vouch for them. */
static __always_inline void copy_whole(const struct pkt *p, struct sk_state *st,
				       struct dir_state *ds, __u32 from, __u8 flags)
{
	struct span sp = { .lo = from, .hi = p->plen, .end = p->plen,
			   .flags = REC_F_WHOLE | flags };

	if (from < p->plen)
		copy_range(p, st, ds, &sp);
}

/* A direction whose bytes go to user space (or may). */
static __always_inline int followed(const struct dir_state *ds)
{
	return ds->f.mode != D_UNSYNCED && ds->f.mode != D_IGNORE && !(ds->f.x & X_COUNT);
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

/*
 * Copies the ranges the framer marked; the last one stands for the rest of what it looked
 * at (bytes past that, ahead of a hole, were copied when they came).
 */
static __always_inline void copy_marked(const struct pkt *p, struct sk_state *st,
					struct dir_state *ds, const struct frame_scan *s)
{
	__u32 nr = s->nr;

	if (!nr) {
		if (s->limit == p->plen)
			copy_end(p, st, ds);
		return;
	}
#pragma unroll
	for (int i = 0; i < FRAME_RANGES; i++) {
		const struct frame_range *r = &s->r[i];
		struct span sp = {
			.lo = r->lo,
			.hi = r->hi,
			.end = i + 1 < nr ? s->r[(i + 1) & (FRAME_RANGES - 1)].lo : s->limit,
			.heads = r->heads,
			.flags = r->flags,
		};

		if (i >= nr)
			break;
		copy_range(p, st, ds, &sp);
	}
}

/* Payload byte done - 1 as a copy of nothing: user space learns the framed part ends there. */
static __always_inline void copy_mark(const struct pkt *p, struct sk_state *st,
				      struct dir_state *ds, __u32 done)
{
	struct span sp = { .lo = done - 1, .hi = done - 1, .end = done };

	copy_range(p, st, ds, &sp);
}

/*
 * Frames payload [from, limit) of p with this CPU's slot for the nesting level and copies
 * the marked ranges; returns how many ranges, or -1 when no slot was free (then the rest of
 * the packet is copied whole).
 */
static __always_inline int frame_packet(const struct pkt *p, struct sk_state *st,
					struct dir_state *ds, __u32 from, __u32 *limit)
{
	__u32 zero = 0, level, *lvl, nr;
	struct loop_ctx lc;
	struct frame_scan *s;
	/* A head whose first bytes went to user space in earlier packets. */
	int begun = ds->f.mode == D_HEAD && ds->f.h;

	lvl = bpf_map_lookup_elem(&nest, &zero);
	if (!lvl)
		return -1;
	level = *lvl;
	s = level < NEST_MAX ? bpf_map_lookup_elem(&scans, &level) : NULL;
	if (!s)
		return -1;
	*lvl = level + 1;
	frame_scan_init(s, &ds->f, p->hl, from, *limit);
	s->max_head = max_head;
	s->body_bytes = body_bytes;
	s->dir = p->di;
	lc.skb = p->skb;
	lc.s = s;
	lc.c = &st->conn;
	bpf_loop(FRAME_STEPS_MAX, frame_cb, &lc, 0);
	if (s->limit < *limit)
		frame_whole(&s->d);  /* bytes it could not read */
	frame_pass_done(s, &st->conn);
	ds->f = s->d;
	*limit = s->limit;
	if (s->d.x & X_COUNT)
		__sync_fetch_and_add(&h2_joined_blocks, s->h2_blocks);
	/*
	 * Not HTTP: nothing of it goes to user space; but when the start line began in copies
	 * user space already has, the bytes that make it not HTTP go too, so that user space
	 * judges the line as the kernel did rather than report its start cut.
	 */
	if ((s->d.mode == D_IGNORE || s->d.mode == D_UNSYNCED) && !(s->d.flags & F_PROVEN) &&
	    !begun)
		s->nr = 0;
	copy_marked(p, st, ds, s);
	nr = s->nr;
	*lvl = level;
	return nr;
}

/* Frames and copies one packet with payload of a followed direction. */
static __always_inline void follow(const struct pkt *p, struct sk_state *st, struct dir_state *ds)
{
	struct frame_plan pl;
	__u32 tail;
	int nr, mark;

	frame_tunnel(&ds->f, st->conn.tunnel[p->di & 1]);
	frame_plan(&ds->q, &ds->f, p->seq, p->plen, &pl);
	if (pl.act == ACT_NONE) {
		copy_end(p, st, ds);
		return;
	}
	if (pl.act == ACT_WHOLE) {
		copy_whole(p, st, ds, pl.from, pl.early ? REC_F_EARLY : 0);
		return;
	}
	nr = frame_packet(p, st, ds, pl.from, &pl.limit);
	if (nr < 0) {
		frame_whole(&ds->f);
		frame_seq_advance(&ds->q, p->seq + p->plen);
		copy_whole(p, st, ds, pl.from, 0);
		return;
	}
	tail = frame_after(&ds->q, &ds->f, p->seq, p->plen, pl.limit, nr > 0, &mark);
	if (mark)
		copy_mark(p, st, ds, pl.limit);
	if (tail < p->plen)
		copy_whole(p, st, ds, tail, 0);
}

/*
 * follow() with the direction marked busy. Egress runs under the socket's lock; ingress can
 * run on two CPUs at once for one socket (packets queued on two CPUs' backlogs): a second
 * program then copies whole.
 */
static __always_inline void follow_once(const struct pkt *p, struct sk_state *st,
					struct dir_state *ds)
{
	if (p->dir == REC_DIR_EGRESS) {
		__u32 before = st->conn.specials;
		__u64 peer = st->peer;

		follow(p, st, ds);
		if (!peer && st->peer)
			st->pushed = before;  /* the peer framed the requests before this packet */
		if (on_loopback(p->skb))
			tell_peer(p->skb, st, p->di);
	} else if (__sync_fetch_and_add(&ds->busy, 1)) {
		st->conn.kinds_lost = 1;
		copy_whole(p, st, ds, 0, REC_F_EARLY);
		return;
	} else {
		follow(p, st, ds);
		if (__sync_fetch_and_add(&ds->busy, -1) != 1) {
			frame_whole(&ds->f);
			ds->busy = 0;
		}
	}
	/* Copied whole, this direction's requests are no longer counted. */
	if (ds->f.mode == D_WHOLE)
		st->conn.kinds_lost = 1;
}

static __always_inline void handle(struct __sk_buff *skb, __u8 dir)
{
	struct pkt p = { .skb = skb, .dir = dir, .di = dir == REC_DIR_EGRESS };
	struct sk_state *st;
	struct dir_state *ds = NULL;
	struct bpf_sock *sk;

	if (skb->protocol != bpf_htons(ETH_P_IP) && skb->protocol != bpf_htons(ETH_P_IPV6))
		return;
	if (dir == REC_DIR_INGRESS && known_mirrored(skb))
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
	if (dir == REC_DIR_INGRESS && copied_by_peer(skb, st))
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
	if (skb->ifindex != st->iface)
		name_iface(skb, st);
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
	tls_tie(sk);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(httpeek_recv, struct sock *sk, int ret, int flags)
{
	touch(sk);
	tls_tie(sk);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(httpeek_state, const struct sock *sk, const int oldstate, const int newstate)
{
	gone(sk, newstate);
	return 0;
}
