/*
 * Included by httpeek.bpf.c: the kernel filter (port, source and destination prefixes) that
 * packets pass before anything of them is read past the headers or copied. The knobs are set
 * between open and load from struct live_kernel_filter; unset ones cost nothing, the verifier
 * drops their code.
 */
#ifndef HTTPEEK_FILTER_BPF_H
#define HTTPEEK_FILTER_BPF_H

#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>

/* Packets outside these are ignored before anything is read or copied (0: any). */
const volatile __u16 filter_port = 0;     /* either end */
const volatile __u8 filter_src_family = 0;  /* 4 or 6 */
const volatile __u8 filter_src_prefix = 0;
const volatile __u8 filter_src_addr[16] = {};
const volatile __u8 filter_dst_family = 0;
const volatile __u8 filter_dst_prefix = 0;
const volatile __u8 filter_dst_addr[16] = {};

/* The first bits bits of addr equal those of want. */
static __always_inline int prefix_match(const __u8 *addr, const volatile __u8 *want, __u32 bits)
{
#pragma unroll
	for (__u32 i = 0; i < 16; i++) {
		__u8 m;

		if (bits <= i * 8)
			return 1;
		m = bits >= i * 8 + 8 ? 0xff : (__u8)(0xff00 >> (bits - i * 8));
		if ((addr[i] ^ want[i]) & m)
			return 0;
	}
	return 1;
}

static __always_inline int addr_match(const __u8 *addr, __u8 ver, __u8 family, __u8 prefix,
				      const volatile __u8 *want)
{
	__u32 max = ver == 4 ? 32 : 128;

	if (!family)
		return 1;
	return family == ver && prefix_match(addr, want, prefix < max ? prefix : max);
}

/* The packet passes the filter knobs (addresses at their constant offsets in ip). */
static __always_inline int filter_pass(const __u8 *ip, __u8 ver, const __u8 *tcp)
{
	__u16 sport = (__u16)tcp[0] << 8 | tcp[1], dport = (__u16)tcp[2] << 8 | tcp[3];

	if (filter_port && sport != filter_port && dport != filter_port)
		return 0;
	if (ver == 4)
		return addr_match(ip + 12, 4, filter_src_family, filter_src_prefix,
				  filter_src_addr) &&
		       addr_match(ip + 16, 4, filter_dst_family, filter_dst_prefix,
				  filter_dst_addr);
	return addr_match(ip + 8, 6, filter_src_family, filter_src_prefix, filter_src_addr) &&
	       addr_match(ip + 24, 6, filter_dst_family, filter_dst_prefix, filter_dst_addr);
}

#endif
