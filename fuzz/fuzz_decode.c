// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the decoder. The first byte picks the link type (low nibble) and how
 * much longer than the capture the packet was on the wire (high nibble); the rest is the
 * packet. Checks the segment's invariants on every TCP result.
 */
#include <stdint.h>
#include <stdlib.h>
#include "decode/decode.h"

static volatile uint8_t sink;

/* every link type decode.c knows, and one it does not (105, 802.11) */
static const int links[] = { 0, 1, 9, 12, 14, 50, 51, 101, 104, 108, 113, 228, 229, 239, 276,
			     105 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct segment seg;
	struct packet pkt = { 0 };
	uint32_t i;
	int ret;

	if (size < 1)
		return 0;
	pkt.linktype = links[(data[0] & 0x0f) % (sizeof(links) / sizeof(links[0]))];
	pkt.data = data + 1;
	pkt.caplen = (uint32_t)(size - 1);
	pkt.wirelen = pkt.caplen + (data[0] >> 4) * 1000u;
	pkt.dir = data[0] & 0x40 ? DIR_EGRESS : DIR_UNKNOWN;
	ret = decode_packet(&pkt, &seg);
	if (ret < DECODE_UNSUPPORTED || ret > DECODE_TCP)
		abort();
	if ((ret == DECODE_UNSUPPORTED) != (seg.undecoded != 0))
		abort();
	if (!decode_link_supported(pkt.linktype) && ret != DECODE_UNSUPPORTED)
		abort();
	if (ret != DECODE_TCP)
		return 0;
	if (seg.payload < pkt.data || seg.payload_len > seg.seg_len ||
	    seg.payload_len > pkt.caplen ||
	    (size_t)(seg.payload - pkt.data) > pkt.caplen - seg.payload_len)
		abort();
	if (seg.family != 4 && seg.family != 6)
		abort();
	if (pkt.dir != DIR_UNKNOWN && seg.dir != pkt.dir)
		abort();
	/* touch every payload byte so that a bad length shows up under ASan */
	for (i = 0; i < seg.payload_len; i++)
		sink ^= seg.payload[i];
	return 0;
}
