// SPDX-License-Identifier: GPL-2.0
/*
 * HTTPS without keys: uprobes on OpenSSL's SSL_write, SSL_write_ex, SSL_read and SSL_read_ex
 * see the plaintext a program hands to its TLS library and takes from it. Each direction of
 * each SSL object is framed with frame.h exactly as a TCP stream's packets are, and what user
 * space needs (everything but body) goes to the shared ring buffer as REC_TLS records. The
 * TCP socket under an SSL object is the one its thread sends or receives on inside a call
 * (httpeek.bpf.c's send and receive programs tie it: lib/tie.bpf.h). Which library files get the uprobes is user
 * space's business (src/live_tls_attach.c); tls_mappings only holds its perf events.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "record.h"
#include "frame/frame.h"

#include "lib/maps.bpf.h"
#include "lib/owner.bpf.h"
#include "lib/tie.bpf.h"
#include "lib/go.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define CALL_WRITE 1
#define CALL_READ 2
#define CALL_HANDSHAKE 3
#define TLS_STREAMS_MAX 32768   /* SSL objects followed at once */
#define COPY_PARTS 8            /* records per range at most */

const volatile __u32 max_head = 65536;  /* user space's head limit */
const volatile __u32 body_bytes = 0;    /* body bytes copied after each head */

/* tls_not_http: SSL objects whose plaintext is not HTTP/1.x; tls_no_socket: calls on an SSL
 * object whose socket was never seen (their bytes are skipped). */
__u64 tls_not_http = 0;
__u64 tls_no_socket = 0;
__u64 tls_untracked = 0;  /* calls not followed: no storage for the thread (memory) */

struct tls_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

/* One SSL object: its connection, where each direction's plaintext stands, its framers. */
struct tls_stream {
	struct tls_sock sk;
	__u64 owner;      /* pid_tgid named in the last owner record */
	__u64 off[2];     /* plaintext bytes so far: [0] read, [1] written */
	struct frame_dir f[2];
	struct frame_conn conn;
	__u8 fresh;       /* followed from its handshake: its first bytes start the streams */
	__u8 not_http;    /* counted in tls_not_http */
	__u8 dropped[2];  /* a record found the ring full since the last one written */
	__u8 pad[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TLS_STREAMS_MAX);
	__type(key, struct tls_key);
	__type(value, struct tls_stream);
} tls_streams SEC(".maps");

/* Zeroes to insert new entries from (they are too large for the stack); never written. */
struct blank {
	__u8 b[512];
};

_Static_assert(sizeof(struct tls_stream) <= sizeof(struct blank), "blank");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct blank);
} blanks SEC(".maps");

/*
 * The attacher's per-CPU perf events that report executable mappings (no program writes to
 * it: libbpf's perf buffer, which reads them, wants a map to hold them).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} tls_mappings SEC(".maps");

/* A call begins on this thread (one still open there, never ended, is replaced). */
static __always_inline void call_enter(__u64 ssl, __u64 buf, __u64 len_ptr, __u8 kind)
{
	struct tls_call *c = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0,
						  BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!c) {
		__sync_fetch_and_add(&tls_untracked, 1);
		return;
	}
	if (!c->active)
		tls_calls_count(1);
	c->active = 1;
	c->ssl = ssl;
	c->buf = buf;
	c->len_ptr = len_ptr;
	c->kind = kind;
	__builtin_memset(&c->sk, 0, sizeof(c->sk));
}

/* The TCP connection of sk (read through bpf_core_read: sk may be any kernel pointer). */
static __always_inline void sock_fill(struct tls_sock *out, struct sock *sk, __u64 cookie)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return;
	if (family == AF_INET) {
		out->family = 4;
		BPF_CORE_READ_INTO((__u32 *)out->local, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)out->remote, sk, __sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		out->family = 6;
		bpf_core_read(out->local, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(out->remote, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		return;
	}
	out->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	out->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	out->cookie = cookie;
}

/* The stream of c's SSL object, made when missing (followed from byte 0 when fresh). */
static __always_inline struct tls_stream *stream_of(struct tls_call *c, __u32 tgid, int fresh)
{
	struct tls_key k = { .ssl = c->ssl, .tgid = tgid };
	struct tls_stream *t = bpf_map_lookup_elem(&tls_streams, &k);
	struct blank *zero;
	__u32 z = 0;

	if (!t) {
		zero = bpf_map_lookup_elem(&blanks, &z);
		if (!zero || bpf_map_update_elem(&tls_streams, &k, zero, BPF_NOEXIST))
			return NULL;
		t = bpf_map_lookup_elem(&tls_streams, &k);
		if (!t)
			return NULL;
		if (fresh) {
			t->fresh = 1;
			frame_head_begin(&t->f[0]);
			frame_head_begin(&t->f[1]);
		}
	}
	if (c->sk.cookie && c->sk.cookie != t->sk.cookie)
		t->sk = c->sk;
	return t;
}

/* Says which process uses t's socket when the calling thread is not the last one named. */
static __always_inline void name_owner(struct tls_stream *t, __u64 id)
{
	struct rec_owner *r;

	if (t->owner == id)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop(1);
		return;
	}
	t->owner = id;
	r->h.ts_ns = bpf_ktime_get_ns();
	r->h.sock_cookie = t->sk.cookie;
	r->h.type = REC_OWNER;
	r->h.pad = 0;
	fill_owner(r, id);
	bpf_ringbuf_submit(r, submit_flags());
}

/* What one record of a call says. */
struct tls_req {
	__u64 buf;        /* the call's buffer */
	__u32 seq;        /* stream offset of the call's first byte */
	__u32 call_len;
	__u32 lo, n;      /* bytes [lo, lo + n) of the call are copied */
	__u32 span;       /* and stand for span bytes from lo */
	__u32 heads;
	__u8 di;          /* 0 read (ingress), 1 write (egress) */
	__u8 flags;
};

static __always_inline void fill_tls(struct rec_tls *r, const struct tls_sock *sk,
				     const struct tls_req *q, __u32 n)
{
	r->h.ts_ns = bpf_ktime_get_ns();
	r->h.sock_cookie = sk->cookie;
	r->h.type = REC_TLS;
	r->h.pad = 0;
	if (q->di) {
		__builtin_memcpy(r->src, sk->local, 16);
		__builtin_memcpy(r->dst, sk->remote, 16);
		r->src_port = sk->lport;
		r->dst_port = sk->rport;
	} else {
		__builtin_memcpy(r->src, sk->remote, 16);
		__builtin_memcpy(r->dst, sk->local, 16);
		r->src_port = sk->rport;
		r->dst_port = sk->lport;
	}
	r->seq = q->seq;
	r->call_len = q->call_len;
	r->cap_len = n;
	r->payload_off = q->lo;
	r->payload_span = q->span;
	r->family = sk->family;
	r->dir = q->di ? REC_DIR_EGRESS : REC_DIR_INGRESS;
	r->flags = q->flags;
	__builtin_memset(r->pad, 0, sizeof(r->pad));
}

/* Reserves a record of class cls, fills it with q and the copied bytes, submits it. */
static __always_inline int tls_class(const struct tls_sock *sk, const struct tls_req *q,
				     const __u32 cls)
{
	struct rec_tls *r;
	__u64 n = q->n;

	r = bpf_ringbuf_reserve(&events, sizeof(*r) + cls, 0);
	if (!r)
		return -1;
	barrier_var(n);
	if (n > cls || (n && bpf_probe_read_user(r + 1, n, (const void *)(q->buf + q->lo)) < 0)) {
		bpf_ringbuf_discard(r, 0);
		return 0;
	}
	fill_tls(r, sk, q, n);
	bpf_ringbuf_submit(r, submit_flags());
	return 0;
}

/* Writes one record; returns -1 when the ring buffer had no room (counted). */
__noinline int tls_record(const struct tls_sock *sk, const struct tls_req *q)
{
	int err;

	if (!sk || !q)
		return 0;
	if (q->n <= 256)
		err = tls_class(sk, q, 256);
	else if (q->n <= 1024)
		err = tls_class(sk, q, 1024);
	else if (q->n <= 4096)
		err = tls_class(sk, q, 4096);
	else if (q->n <= 16384)
		err = tls_class(sk, q, 16384);
	else
		err = tls_class(sk, q, REC_MAX_COPY);
	if (err) {
		count_drop(0);
		__sync_fetch_and_add(&lost_heads, q->heads);
	}
	return err;
}

/* Copies call bytes [lo, hi), standing for [lo, end), in records of at most REC_MAX_COPY. */
static __always_inline void copy_call(struct tls_stream *t, struct tls_req *q, __u32 lo, __u32 hi,
				      __u32 end)
{
	__u8 *dropped = &t->dropped[q->di & 1];
	__u8 flags = q->flags;

	for (int part = 0; part < COPY_PARTS; part++) {
		q->lo = lo;
		q->n = hi - lo > REC_MAX_COPY ? REC_MAX_COPY : hi - lo;
		q->span = q->n < hi - lo ? q->n : end - lo;
		q->flags = (part && !(flags & REC_F_WHOLE) ? flags & ~REC_F_BOUNDARY : flags) |
			   (*dropped ? REC_F_AFTER_DROP : 0);
		*dropped = tls_record(&t->sk, q) < 0;
		lo += q->n;
		if (lo >= hi)
			break;
	}
	q->flags = flags;
}

struct tls_loop {
	struct frame_scan *s;
	struct frame_conn *c;
	__u64 buf;
};

/* One step of the pass over the call's buffer, read from the process when the step needs it. */
static long tls_frame_cb(__u32 i, void *ctx)
{
	struct tls_loop *lc = ctx;
	struct frame_scan *s = lc->s;
	__u32 n = frame_need(s);

	if (n) {
		if (n > FRAME_CHUNK ||
		    bpf_probe_read_user(s->buf, n, (const void *)(lc->buf + s->off + s->pos)) < 0) {
			frame_unreadable(s);
			return 1;
		}
		frame_loaded(s, n);
	}
	return frame_step(s, lc->c);
}

/* The call's first bytes start a message (a stream followed from the middle). */
static __always_inline int call_starts_message(__u64 buf, __u32 n)
{
	__u8 b[HTTP_START_PROBE] = {};

	if (n > HTTP_START_PROBE)
		n = HTTP_START_PROBE;
	if (n < 2 || bpf_probe_read_user(b, n, (const void *)buf) < 0)
		return 0;
	return http_starts_message(b, n);
}

/* The call's first bytes are an HTTP/2 frame header (a stream followed from the middle). */
static __always_inline int call_starts_h2(__u64 buf, __u32 n)
{
	__u8 b[F2_HEADER];

	if (n < F2_HEADER || bpf_probe_read_user(b, F2_HEADER, (const void *)buf) < 0)
		return 0;
	return frame_h2_header_ok(b, 0);
}

/* Frames the call's n bytes with the direction's framer and copies the ranges it marks. */
static __always_inline void frame_call(struct tls_call *c, struct tls_stream *t, struct tls_req *q)
{
	struct frame_scan *s = &c->s;
	struct frame_dir *f = &t->f[q->di & 1];
	struct tls_loop lc = { .s = s, .c = &t->conn, .buf = c->buf };
	__u32 n = q->call_len, nr;

	frame_scan_init(s, f, 0, 0, n);
	s->max_head = max_head;
	s->body_bytes = body_bytes;
	s->dir = q->di;
	bpf_loop(FRAME_STEPS_MAX, tls_frame_cb, &lc, 0);
	if (s->limit < n) {
		/* Bytes it could not read: the rest goes whole (if it can be read at all). */
		frame_whole(&s->d);
		frame_mark(s, s->limit, n - s->limit, REC_F_WHOLE);
		s->limit = n;
	}
	frame_pass_done(s, &t->conn);
	*f = s->d;
	if (f->x & X_COUNT)
		__sync_fetch_and_add(&h2_joined_blocks, s->h2_blocks);
	if ((f->mode == D_IGNORE || f->mode == D_UNSYNCED) && !(f->flags & F_PROVEN))
		s->nr = 0;  /* not HTTP: nothing of it goes to user space */
	if (f->mode == D_IGNORE && !t->not_http) {
		t->not_http = 1;  /* neither HTTP/1.x nor HTTP/2 */
		__sync_fetch_and_add(&tls_not_http, 1);
	}
	nr = s->nr;
#pragma unroll
	for (int i = 0; i < FRAME_RANGES; i++) {
		const struct frame_range *r = &s->r[i];

		if (i >= nr)
			break;
		q->heads = r->heads;
		q->flags = r->flags;
		copy_call(t, q, r->lo, r->hi,
			  i + 1 < nr ? s->r[(i + 1) & (FRAME_RANGES - 1)].lo : n);
	}
}

/* n plaintext bytes went through c (its direction di): frames them when followed. */
static __always_inline void call_data(struct tls_call *c, struct tls_stream *t, __u8 di, __u32 n)
{
	struct frame_dir *f = &t->f[di & 1];
	struct tls_req q = { .buf = c->buf, .call_len = n, .di = di };

	q.seq = (__u32)t->off[di & 1];
	t->off[di & 1] += n;
	frame_tunnel(f, t->conn.tunnel[di & 1]);
	if (f->mode == D_UNSYNCED && call_starts_h2(c->buf, n)) {
		frame_h2_joined(f);  /* counted, never decoded */
	} else if (f->mode == D_UNSYNCED) {
		if (!call_starts_message(c->buf, n))
			return;
		frame_head_begin(f);
		f->flags = F_JOINED;
		__sync_fetch_and_add(&joined, 1);
	}
	if (f->mode == D_TUNNEL || f->mode == D_IGNORE || (f->mode == D_CLOSE && !f->body_copy))
		return;
	frame_call(c, t, &q);
}

/* The call c of thread id is done: n bytes moved (a handshake: its stream starts fresh). */
static __always_inline void call_done(struct tls_call *c, __u64 id, __u64 n)
{
	struct tls_stream *t;

	if (c->kind == CALL_HANDSHAKE) {
		stream_of(c, id >> 32, 1);
	} else if (n && n <= 0x7fffffff) {
		t = stream_of(c, id >> 32, 0);
		if (t && !t->sk.cookie)
			__sync_fetch_and_add(&tls_no_socket, 1);
		else if (t) {
			name_owner(t, id);
			call_data(c, t, c->kind == CALL_WRITE, n);
		}
	}
	c->active = 0;
	tls_calls_count(-1);
}

/* A read or write returned: n bytes moved. */
static __always_inline void call_exit(long ret, int ex)
{
	__u64 id = bpf_get_current_pid_tgid(), n = 0;
	struct tls_call *c = tls_call_now();

	if (!c)
		return;
	if (ex) {
		if (ret == 1 && bpf_probe_read_user(&n, sizeof(n), (const void *)c->len_ptr) < 0)
			n = 0;
	} else if (ret > 0) {
		n = ret;
	}
	call_done(c, id, n);
}

SEC("uprobe")
int BPF_KPROBE(tls_write, void *ssl, const void *buf, int num)
{
	call_enter((__u64)ssl, (__u64)buf, 0, CALL_WRITE);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(tls_write_ex, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	call_enter((__u64)ssl, (__u64)buf, (__u64)written, CALL_WRITE);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(tls_read, void *ssl, void *buf, int num)
{
	call_enter((__u64)ssl, (__u64)buf, 0, CALL_READ);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(tls_read_ex, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	call_enter((__u64)ssl, (__u64)buf, (__u64)readbytes, CALL_READ);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(tls_handshake, void *ssl)
{
	call_enter((__u64)ssl, 0, 0, CALL_HANDSHAKE);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(tls_ret, long ret)
{
	call_exit(ret, 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(tls_ret_ex, long ret)
{
	call_exit(ret, 1);
	return 0;
}

/* The end of an SSL object or Go Conn: its two directions end (FIN records), it is forgotten. */
static __always_inline void stream_end(__u64 ssl)
{
	struct tls_key k = { .ssl = ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct tls_stream *t = bpf_map_lookup_elem(&tls_streams, &k);

	if (!t)
		return;
	if (t->sk.cookie && (t->f[0].flags & F_PROVEN || t->f[1].flags & F_PROVEN)) {
		for (__u8 di = 0; di < 2; di++) {
			struct tls_req q = { .seq = (__u32)t->off[di], .di = di, .flags = REC_F_FIN };

			tls_record(&t->sk, &q);
		}
	}
	bpf_map_delete_elem(&tls_streams, &k);
}

SEC("uprobe")
int BPF_KPROBE(tls_free, void *ssl)
{
	stream_end((__u64)ssl);
	return 0;
}

#include "lib/go_progs.bpf.h"  /* Go's crypto/tls: its programs use the functions above */
