// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the decoder. The first byte picks the link type (low nibble) and how
 * much longer than the capture the packet was on the wire (high nibble); the rest is the
 * packet. Checks the segment's invariants on every TCP result and the fragment's on every
 * fragment, for each A-MSDU subframe in turn.
 */
#include <stdint.h>
#include <stdlib.h>
#include "decode/decode.h"

static volatile uint8_t sink;

/* every link type decode.c knows (but aliases of raw IP and PPP), and one it does not (10) */
static const int links[] = { 0, 1, 9, 12, 105, 127, 192, 10, 104, 108, 113, 228, 229, 239, 276,
			     51 };

/* A fragment lies inside the packet, its header before its data. */
static void check_fragment(const struct packet *pkt, const struct fragment *f)
{
	const uint8_t *end = pkt->data + pkt->caplen;

	if (f->hdr < pkt->data || f->hdr_len > (size_t)(end - f->hdr) || f->data < f->hdr +
	    f->hdr_len || f->len > (size_t)(end - f->data) || f->len > f->wire_len)
		abort();
	if ((f->family != 4 && f->family != 6) || (f->family == 6 && f->nh_at >= f->hdr_len))
		abort();
	for (uint32_t i = 0; i < f->len; i++)
		sink ^= f->data[i];
}

/* Decodes from where from says and checks the result; returns the next A-MSDU subframe's. */
static uint32_t check_one(const struct packet *pkt, const struct decode_from *from, size_t size)
{
	struct fragment frag;
	struct segment seg;
	uint32_t i;
	int ret;

	ret = decode_packet_from(pkt, from, &seg, &frag);
	if (ret < DECODE_UNSUPPORTED || ret > DECODE_TCP)
		abort();
	if ((ret == DECODE_UNSUPPORTED) != (seg.undecoded != 0))
		abort();
	if (!decode_link_supported(pkt->linktype) && ret != DECODE_UNSUPPORTED)
		abort();
	if (seg.msdu_next && (seg.msdu_next <= from->msdu || seg.msdu_next >= size))
		abort();
	if (ret == DECODE_FRAGMENT)
		check_fragment(pkt, &frag);
	if (ret != DECODE_TCP)
		return seg.msdu_next;
	if (seg.payload < pkt->data || seg.payload_len > seg.seg_len ||
	    seg.payload_len > pkt->caplen ||
	    (size_t)(seg.payload - pkt->data) > pkt->caplen - seg.payload_len)
		abort();
	if (seg.family != 4 && seg.family != 6)
		abort();
	if (pkt->dir != DIR_UNKNOWN && seg.dir != pkt->dir)
		abort();
	/* touch every payload byte so that a bad length shows up under ASan */
	for (i = 0; i < seg.payload_len; i++)
		sink ^= seg.payload[i];
	return seg.msdu_next;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decode_from from = { 0 };
	struct packet pkt = { 0 };

	if (size < 1)
		return 0;
	pkt.linktype = links[(data[0] & 0x0f) % (sizeof(links) / sizeof(links[0]))];
	pkt.data = data + 1;
	pkt.caplen = (uint32_t)(size - 1);
	pkt.wirelen = pkt.caplen + (data[0] >> 4) * 1000u;
	pkt.dir = data[0] & 0x40 ? DIR_EGRESS : DIR_UNKNOWN;
	do  /* each A-MSDU subframe */
		from.msdu = check_one(&pkt, &from, size);
	while (from.msdu);
	return 0;
}
