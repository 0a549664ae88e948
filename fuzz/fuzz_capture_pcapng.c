/*
 * libFuzzer target for the pcapng direction walk. The first byte picks the chunk size the
 * stream is fed in; after each chunk a few packets are taken with lengths from the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include "capture/pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capture_pcapng *w;
	size_t chunk, off = 1;

	if (size < 1 || !(w = capture_pcapng_new()))
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		enum direction d;

		capture_pcapng_feed(w, data + off, n);
		d = capture_pcapng_take(w, (uint32_t)n, (uint32_t)(data[off] * 4));
		if (d != DIR_UNKNOWN && d != DIR_INGRESS && d != DIR_EGRESS)
			abort();
		off += n;
	}
	capture_pcapng_free(w);
	return 0;
}
