/*
 * libFuzzer target for the defragmenter. The input is a sequence of fragments, each
 * [flags:1][offset in 8-byte units:2 big-endian][length:2 big-endian, its low 13 bits][bytes],
 * the bytes taken from the input while it lasts, then from a fixed pattern (so that fragments
 * can be large).
 * Flags: bits 0-1 the datagram (its id), bit 2 more fragments, bit 3 IPv6, bit 4 cut short by
 * the capture, bit 5 a minute later (time-outs), bit 6 shed memory first, bit 7 another zone.
 * Small limits make every limit reachable. Checks every datagram made whole (its length fields,
 * its bytes readable), the counters, and that the memory held goes back to zero.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "defrag/defrag.h"

static volatile uint8_t sink;
static uint8_t pattern[8192];
static uint8_t hdr4[20] = { 0x45, 0, 0, 0, 0, 0, 0x20, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
static uint8_t hdr6[48] = { 0x60, 0, 0, 0, 0, 0, 0, 64, 0xfd, [23] = 1, 0xfd, [39] = 2,
			    44 /* hop-by-hop: the fragment header follows */ };

static void check(const struct defrag_datagram *dg, int v6)
{
	uint32_t hlen = v6 ? 48 : 20, len = dg->data[v6 ? 4 : 2] << 8 | dg->data[v6 ? 5 : 3];

	if (dg->caplen > dg->len || dg->caplen < hlen || len != dg->len - (v6 ? 40 : 0))
		abort();
	if (v6 ? dg->data[40] != 6 : (dg->data[6] & 0x3f) || dg->data[7])
		abort();
	for (uint32_t i = 0; i < dg->caplen; i++)
		sink ^= dg->data[i];
	if (dg->outer.layers != 2)
		abort();
}

/* One fragment from rec (5 bytes read); returns the bytes of input its data took. */
static size_t feed(struct defrag *d, const uint8_t *rec, const uint8_t *rest, size_t left,
		   uint64_t *now)
{
	uint8_t flags = rec[0];
	int v6 = flags & 8;
	struct fragment f = {
		.hdr = v6 ? hdr6 : hdr4, .hdr_len = v6 ? 48 : 20, .nh_at = 40,
		.offset = (uint32_t)(rec[1] << 8 | rec[2]) * 8u, .id = flags & 3,
		.wire_len = (uint32_t)((rec[3] & 0x1f) << 8 | rec[4]), .family = v6 ? 6 : 4,
		.proto = 6,
		.more = flags & 4, .src = { 10, 0, 0, 1 }, .dst = { 10, 0, 0, 2 },
		.outer = { .zone = flags & 0x80 ? 9 : 0, .layers = 2 },
	};
	struct defrag_datagram dg;
	size_t took = f.wire_len < left ? f.wire_len : left;

	f.offset &= 0xffff;
	f.data = took == f.wire_len ? rest : pattern;
	f.len = flags & 0x10 ? f.wire_len / 2 : f.wire_len;
	if (flags & 0x20)
		*now += 60000000000ull;
	if (flags & 0x40)
		defrag_shed(d, 4096);
	if (defrag_fragment(d, &f, *now, &dg) == 1) {
		check(&dg, v6);
		free(dg.data);
	}
	return f.data == rest ? took : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct defrag_limits lim = { .timeout_ns = 30000000000ull,
						  .max_datagrams = 4, .max_fragments = 16 };
	struct defrag *d = defrag_new(&lim);
	const struct defrag_stats *st;
	uint64_t now = 1000000000ull, gone = 0;
	size_t off = 0;

	if (!d)
		abort();
	if (!pattern[1])
		for (size_t i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)(i * 13 + 1);
	while (size - off >= 5) {
		off += 5;
		off += feed(d, data + off - 5, data + off, size - off, &now);
	}
	st = defrag_get_stats(d);
	if (st->reassembled > st->fragments || st->overlap_conflicts > st->overlaps)
		abort();
	defrag_flush(d);
	for (int i = 0; i < DEFRAG_CAUSES; i++)
		gone += st->incomplete[i];
	if (defrag_held(d) || st->held_datagrams || gone + st->reassembled > st->fragments)
		abort();
	defrag_free(d);
	return 0;
}
