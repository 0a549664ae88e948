/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Owner records: which process uses an HTTP socket (touch(), from the send and receive
 * tracepoints), and "gone" records when such a socket closes (gone()).
 */
#ifndef HTTPEEK_OWNER_BPF_H
#define HTTPEEK_OWNER_BPF_H

#include "lib/maps.bpf.h"
#include <bpf/bpf_core_read.h>

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_CLOSE 7

static __always_inline __u32 ns_nr(struct pid *p, struct pid_namespace **ns)
{
	unsigned int level = BPF_CORE_READ(p, level);
	struct upid u = {};

	bpf_core_read(&u, sizeof(u), &p->numbers[level & 31]);
	if (ns)
		*ns = u.ns;
	return u.nr;
}

/* The pid of p's task as seen from namespace ns, or 0 when it is not visible there. */
static __always_inline __u32 nr_in(struct pid *p, struct pid_namespace *ns)
{
	unsigned int level = BPF_CORE_READ(ns, level);
	struct upid u = {};

	if (BPF_CORE_READ(p, level) < level)
		return 0;
	bpf_core_read(&u, sizeof(u), &p->numbers[level & 31]);
	return u.ns == ns ? u.nr : 0;
}

static __always_inline void fill_owner(struct rec_owner *r, __u64 id)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(t, group_leader);
	struct task_struct *parent = BPF_CORE_READ(t, real_parent);
	struct pid_namespace *ns = NULL;

	r->cgroup_id = bpf_get_current_cgroup_id();
	r->start_ns = BPF_CORE_READ(t, start_time);
	r->host_pid = id >> 32;
	r->host_tid = (__u32)id;
	r->host_ppid = BPF_CORE_READ(parent, tgid);
	r->tid = ns_nr(BPF_CORE_READ(t, thread_pid), &ns);
	r->pid = nr_in(BPF_CORE_READ(leader, thread_pid), ns);
	r->ppid = nr_in(BPF_CORE_READ(parent, thread_pid), ns);
	r->uid = (__u32)bpf_get_current_uid_gid();
	r->mnt_ns = BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
	r->pid_ns = BPF_CORE_READ(ns, ns.inum);
	r->net_ns = BPF_CORE_READ(t, nsproxy, net_ns, ns.inum);
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	bpf_probe_read_kernel_str(r->nodename, sizeof(r->nodename),
				  BPF_CORE_READ(t, nsproxy, uts_ns, name.nodename));
}

/*
 * What touch() last found for a socket on this CPU: nothing to do for thread id while
 * owner_gen is still gen. Reading a socket's storage after another CPU wrote it costs more
 * than the rest of touch(); this slot is CPU-local.
 */
struct touch_memo {
	__u64 cookie;
	__u64 id;
	__u64 gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MEMO_SLOTS);
	__type(key, __u32);
	__type(value, struct touch_memo);
} touch_memos SEC(".maps");

/* A process used sk: when it is a new user of an HTTP socket, says so to user space. */
static __always_inline void touch(struct sock *sk)
{
	__u64 id = bpf_get_current_pid_tgid(), gen = *(volatile __u64 *)&owner_gen, cookie;
	struct touch_memo *m;
	struct sk_state *st;
	struct rec_owner *r;
	__u32 slot;

	if (sk->__sk_common.skc_family != AF_INET && sk->__sk_common.skc_family != AF_INET6)
		return;
	if (sk->sk_protocol != IPPROTO_TCP)
		return;
	cookie = bpf_get_socket_cookie(sk);
	slot = memo_slot(cookie);
	m = bpf_map_lookup_elem(&touch_memos, &slot);
	if (m && m->cookie == cookie && m->id == id && m->gen == gen)
		return;
	st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (!st || st->owner == id) {
		/* No storage yet, or id owns it: holds until a socket gets storage or an owner. */
		if (m) {
			m->cookie = cookie;
			m->id = id;
			m->gen = gen;
		}
		return;
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop(1);
		return;
	}
	__sync_fetch_and_add(&owner_gen, 1);
	st->owner = id;
	r->h.ts_ns = bpf_ktime_get_ns();
	r->h.sock_cookie = cookie;
	r->h.type = REC_OWNER;
	r->h.pad = 0;
	fill_owner(r, id);
	bpf_ringbuf_submit(r, submit_flags());
}

/* A socket reached TCP_CLOSE: when it carried HTTP, says so to user space. */
static __always_inline void gone(const struct sock *sk, int newstate)
{
	struct sk_state *st;
	struct rec_hdr *r;

	if (newstate != TCP_CLOSE || sk->sk_protocol != IPPROTO_TCP)
		return;
	st = bpf_sk_storage_get(&socks, (struct sock *)sk, 0, 0);
	if (!st || !st->owner)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop(1);
		return;
	}
	r->ts_ns = bpf_ktime_get_ns();
	r->sock_cookie = bpf_get_socket_cookie((struct sock *)sk);
	r->type = REC_GONE;
	r->pad = 0;
	bpf_ringbuf_submit(r, submit_flags());
}

#endif
