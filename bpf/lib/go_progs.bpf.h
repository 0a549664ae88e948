/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The programs for Go's crypto/tls, part of tls.bpf.c (included after the OpenSSL programs,
 * whose streams, framing and records they share). Registers and the socket: go.bpf.h.
 */
#ifndef HTTPEEK_BPF_LIB_GO_PROGS_H
#define HTTPEEK_BPF_LIB_GO_PROGS_H

/*
 * Go's crypto/tls (registers: lib/go.bpf.h). No uretprobe (Go stacks move): Write is framed
 * at its entry (its bytes are all there), Read at each of its return instructions, from what
 * its entry saved by goroutine (goroutines move between threads). The socket is the Conn's
 * descriptor's, looked up at each call: no thread tie is needed, and a Conn whose address
 * was reused for another connection starts a new stream.
 */
#define GO_READS_MAX 8192  /* Go reads in progress at once, host-wide */

struct go_key {
	__u64 g;
	__u32 tgid;
	__u32 pad;
};

struct go_read {
	__u64 conn;
	__u64 buf;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GO_READS_MAX);
	__type(key, struct go_key);
	__type(value, struct go_read);
} go_reads SEC(".maps");

/* A call of kind on conn moved n bytes at buf (a handshake: n 0): framed as OpenSSL's are. */
static __always_inline void go_call(__u64 conn, __u64 buf, __u64 n, __u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_key k = { .ssl = conn, .tgid = id >> 32 };
	struct tls_stream *t;
	struct tls_call *c;
	struct sock *sk;

	call_enter(conn, buf, 0, kind);
	c = tls_call_now();
	if (!c)
		return;
	sk = go_conn_sock(conn);
	if (sk)
		sock_fill(&c->sk, sk, BPF_CORE_READ(sk, __sk_common.skc_cookie.counter));
	t = bpf_map_lookup_elem(&tls_streams, &k);
	if (t && (kind == CALL_HANDSHAKE || (t->sk.cookie && c->sk.cookie &&
		  c->sk.cookie != t->sk.cookie)))
		bpf_map_delete_elem(&tls_streams, &k);  /* a new connection at that address */
	call_done(c, id, n);
}

SEC("uprobe")
int go_write(struct pt_regs *ctx)
{
	go_call(GO_ARG1(ctx), GO_ARG2(ctx), GO_ARG3(ctx), CALL_WRITE);
	return 0;
}

SEC("uprobe")
int go_read(struct pt_regs *ctx)
{
	struct go_key k = { .g = GO_G(ctx), .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct go_read r = { .conn = GO_ARG1(ctx), .buf = GO_ARG2(ctx) };

	if (bpf_map_update_elem(&go_reads, &k, &r, BPF_ANY))
		__sync_fetch_and_add(&tls_untracked, 1);
	return 0;
}

/* On each return instruction of (*Conn).Read. */
SEC("uprobe")
int go_read_ret(struct pt_regs *ctx)
{
	struct go_key k = { .g = GO_G(ctx), .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct go_read *r = bpf_map_lookup_elem(&go_reads, &k);
	struct go_read copy;
	long n = (long)GO_RET1(ctx);

	if (!r)
		return 0;
	copy = *r;
	bpf_map_delete_elem(&go_reads, &k);
	if (n > 0)
		go_call(copy.conn, copy.buf, n, CALL_READ);
	return 0;
}

/* The client's or the server's handshake begins: the Conn's first bytes start messages. */
SEC("uprobe")
int go_handshake(struct pt_regs *ctx)
{
	go_call(GO_ARG1(ctx), 0, 0, CALL_HANDSHAKE);
	return 0;
}

SEC("uprobe")
int go_close(struct pt_regs *ctx)
{
	stream_end(GO_ARG1(ctx));
	return 0;
}

#endif
