/*
 * libFuzzer target for the kernel's framer (bpf/frame/frame.h, compiled for user space): a
 * connection's writes go through the pipeline as whole packets and as the framer's copies;
 * the events must be the same (segments swapped and repeated when asked), unless the framer
 * judged a direction not HTTP (its first line is not a start line; live leaves such
 * connections out on purpose) or joined one in the middle (as it does with connections older
 * than itself). Input: [mss:1][head limit:1][reorder:3 bits, body bytes:5 bits], then
 * writes [side:1][len:2 big-endian][bytes].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "frame_sim.h"

#define MAX_WRITES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_write w[MAX_WRITES];
	struct sim_options opt;
	struct sim_result r;
	size_t off = 3, n = 0;
	int rc;

	if (size < 3)
		return 0;
	opt = (struct sim_options){
		.seed = size,
		.mss = 1 + data[0] * 8u,
		.max_head = 64 + data[1] * 64u,
		.body_bytes = data[2] & 0x1f,
		.reorder = (data[2] >> 5) * 8u,
	};
	while (n < MAX_WRITES && size - off >= 3) {
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];

		off += 3;
		if (len > size - off)
			len = size - off;
		w[n++] = (struct sim_write){ data[off - 3] & 1, data + off, len };
		off += len;
	}
	rc = sim_run(w, n, &opt, &r);
	if (rc > 0 && !r.ignored && !r.joined) {
		fprintf(stderr, "whole:\n%s\nframed:\n%s\n", r.whole, r.framed);
		abort();
	}
	sim_result_free(&r);
	return 0;
}
