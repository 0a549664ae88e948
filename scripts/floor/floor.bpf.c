// SPDX-License-Identifier: GPL-2.0
/*
 * The least the kernel side could cost, for the floor part of scripts/bench.py: programs at
 * httpeek's hooks that do nothing, and egress programs that only write one 256-byte record
 * per packet, on a ring both CPUs share (as httpeek does) or on the CPU's own ring. Not part
 * of httpeek.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define RECORD 256
#define ARRAY_OF_MAPS 12  /* BPF_MAP_TYPE_ARRAY_OF_MAPS, which httpeek's vmlinux_min.h lacks */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} shared_ring SEC(".maps");

struct cpu_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 23);
};

/* One ring per CPU; user space makes them (max_entries: the possible CPUs). */
struct {
	__uint(type, ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct cpu_ring);
} cpu_rings SEC(".maps");

static __always_inline void record(void *ring)
{
	__u8 *r = bpf_ringbuf_reserve(ring, RECORD, 0);

	if (r) {
		r[0] = 1;
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	}
}

SEC("cgroup_skb/egress")
int empty_egress(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/ingress")
int empty_ingress(struct __sk_buff *skb)
{
	return 1;
}

SEC("tp_btf/sock_send_length")
int empty_send(__u64 *ctx)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int empty_recv(__u64 *ctx)
{
	return 0;
}

SEC("cgroup_skb/egress")
int shared_record(struct __sk_buff *skb)
{
	record(&shared_ring);
	return 1;
}

SEC("cgroup_skb/egress")
int cpu_record(struct __sk_buff *skb)
{
	__u32 cpu = bpf_get_smp_processor_id();
	void *ring = bpf_map_lookup_elem(&cpu_rings, &cpu);

	if (ring)
		record(ring);
	return 1;
}
