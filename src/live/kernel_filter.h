/*
 * The kernel's share of -f: what the BPF programs check before they copy anything (port and
 * address prefixes). report/filter.c fills it from the filters; live.c hands it to the kernel.
 */
#ifndef HTTPEEK_KERNEL_FILTER_H
#define HTTPEEK_KERNEL_FILTER_H

#include <stdint.h>

/* All set fields must match. */
struct kernel_filter {
	uint16_t port;             /* either end, host order; 0: any */
	uint8_t src_family;        /* 0: any source; 4 or 6 */
	uint8_t src_prefix;
	uint8_t src_addr[16];
	uint8_t dst_family;        /* 0: any destination */
	uint8_t dst_prefix;
	uint8_t dst_addr[16];
};

#endif
