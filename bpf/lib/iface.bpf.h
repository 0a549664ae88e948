/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface names, decided when the packet is seen: the first packet of an HTTP socket on an
 * interface (and on each interface it moves to) reads the device's name and network namespace
 * from the kernel's sk_buff and, unless it was said in the last minute, says it to user space
 * in a REC_IFACE record ahead of the packet's copies. Every packet record carries the socket's
 * network namespace: user space names (namespace, ifindex) from those records alone, whether
 * or not any process of that namespace still lives. lo (index 1 everywhere) is never said.
 */
#ifndef HTTPEEK_IFACE_BPF_H
#define HTTPEEK_IFACE_BPF_H

#include "lib/maps.bpf.h"
#include <bpf/bpf_core_read.h>

#define IFACES_MAX 1024
#define IFACE_RETELL_NS (60ull * 1000000000ull)
#define IFACE_LOOPBACK 1

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

struct iface_key {
	__u32 net_ns;
	__u32 ifindex;
};

struct iface_said {
	char name[REC_IFNAME_LEN];
	__u64 at_ns;
};

/* What was said of each interface, and when. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IFACES_MAX);
	__type(key, struct iface_key);
	__type(value, struct iface_said);
} ifaces SEC(".maps");

static __always_inline int same_name(const char *a, const char *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1];
}

/* Writes the REC_IFACE record; returns -1 when the ring buffer had no room (counted). */
static __always_inline int say_iface(const struct iface_key *k, const struct iface_said *v,
				     __u64 cookie)
{
	struct rec_iface *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count_drop(1);
		return -1;
	}
	r->h.ts_ns = v->at_ns;
	r->h.sock_cookie = cookie;
	r->h.type = REC_IFACE;
	r->h.pad = 0;
	r->net_ns = k->net_ns;
	r->ifindex = k->ifindex;
	__builtin_memcpy(r->name, v->name, sizeof(r->name));
	bpf_ringbuf_submit(r, submit_flags());
	return 0;
}

/*
 * The packet's interface for st: its network namespace into st->net_ns and, once user space
 * knows the name, its index into st->iface. A global function: the verifier checks it once.
 */
__noinline int name_iface(struct __sk_buff *skb, struct sk_state *st)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct iface_said said = {}, *known;
	struct iface_key k = {};
	struct net_device *dev;

	if (!st)
		return 0;
	dev = BPF_CORE_READ(kskb, dev);
	if (!dev)
		return 0;
	k.ifindex = BPF_CORE_READ(dev, ifindex);
	k.net_ns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	st->net_ns = k.net_ns;
	if (k.ifindex != IFACE_LOOPBACK) {
		BPF_CORE_READ_STR_INTO(&said.name, dev, name);
		said.at_ns = bpf_ktime_get_ns();
		known = bpf_map_lookup_elem(&ifaces, &k);
		if (!known || said.at_ns - known->at_ns > IFACE_RETELL_NS ||
		    !same_name(known->name, said.name)) {
			if (say_iface(&k, &said, bpf_get_socket_cookie(skb)))
				return 0;
			bpf_map_update_elem(&ifaces, &k, &said, BPF_ANY);
		}
	}
	st->iface = k.ifindex;
	return 0;
}

#endif
