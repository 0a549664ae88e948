/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SSL calls in progress, by thread (tls.bpf.c's uprobes begin and end them), and the tie
 * of each to its TCP socket: the socket its thread sends or receives on inside the call.
 * httpeek.bpf.c's send and receive programs tie (one program per hook rather than two, each
 * run of which costs its own dispatch), so httpeek.bpf.c owns the two maps and the TLS
 * object reuses them (src/live/tls/tls.c).
 */
#ifndef HTTPEEK_TIE_BPF_H
#define HTTPEEK_TIE_BPF_H

#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "frame/state.h"  /* struct frame_scan */
#include "lib/owner.bpf.h"  /* AF_INET, AF_INET6, IPPROTO_TCP */

/* The TCP connection under an SSL object. */
struct tls_sock {
	__u64 cookie;     /* 0: not seen yet */
	__u8 local[16];
	__u8 remote[16];
	__u16 lport, rport;  /* host order */
	__u8 family;      /* 4 or 6 */
	__u8 pad[3];
};

/* A thread's SSL call in progress: its arguments, the socket used in it, the framer. */
struct tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 len_ptr;    /* _ex calls: where the library stores the byte count */
	struct tls_sock sk;
	__u8 kind;        /* CALL_* */
	__u8 active;      /* a call is in progress */
	__u8 pad[6];
	struct frame_scan s;  /* per thread: no slot is shared with a preempted program */
};

/*
 * In each thread's own storage, made at its first SSL call and gone with the thread: a call
 * begins and ends without a hash map's insert and delete, each of which takes a lock with
 * interrupts off (costly on a paravirtualised guest).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

/*
 * At least as many as the calls in progress (each begun counts one, each ended takes it back;
 * a thread that died inside a call stays counted): while it is 0 no thread is inside an SSL
 * call, and the send and receive programs, which run for every socket of the host, stop
 * before they look at the thread's storage.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tls_open SEC(".maps");

/* Adds d to the count of calls open. */
static __always_inline void tls_calls_count(__s64 d)
{
	__u32 z = 0;
	__u64 *n = bpf_map_lookup_elem(&tls_open, &z);

	if (n)
		__sync_fetch_and_add(n, d);
}

/* The calling thread's SSL call in progress; NULL when it is in none. */
static __always_inline struct tls_call *tls_call_now(void)
{
	struct tls_call *c = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);

	return c && c->active ? c : NULL;
}

/* A send or receive inside an SSL call: the socket under the SSL object. */
static __always_inline void tls_tie(struct sock *sk)
{
	__u32 z = 0;
	__u64 *open = bpf_map_lookup_elem(&tls_open, &z);
	struct tls_call *c;
	__u16 family;

	if (!open || !*(volatile __u64 *)open)
		return;
	c = tls_call_now();
	if (!c || c->sk.cookie || sk->sk_protocol != IPPROTO_TCP)
		return;
	family = sk->__sk_common.skc_family;
	if (family == AF_INET) {
		c->sk.family = 4;
		BPF_CORE_READ_INTO((__u32 *)c->sk.local, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)c->sk.remote, sk, __sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		c->sk.family = 6;
		bpf_core_read(c->sk.local, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(c->sk.remote, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		return;
	}
	c->sk.lport = sk->__sk_common.skc_num;
	c->sk.rport = bpf_ntohs(sk->__sk_common.skc_dport);
	c->sk.cookie = bpf_get_socket_cookie(sk);
}

#endif
