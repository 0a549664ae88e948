/*
 * The kernel's framer (bpf/frame/frame.h) checked against user space without a kernel: one
 * connection's bytes go through the real pipeline twice, once as whole packets (what a
 * capture holds) and once as the copies the kernel programs make of the same packets (what
 * live mode gets: twin.h, held to the real programs by tests/bpf/frame_twin), and the two
 * event outputs must be the same.
 */
#ifndef HTTPEEK_FRAME_SIM_H
#define HTTPEEK_FRAME_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One write() of one side: 0 the client (sends first), 1 the server. */
struct sim_write {
	int side;
	const uint8_t *bytes;
	size_t len;
};

/* Segmentation and limits of one run. */
struct sim_options {
	uint64_t seed;         /* picks segment sizes */
	uint32_t mss;          /* largest segment; 0: each write is one segment */
	uint32_t max_head;     /* user space's and the kernel's head limit */
	uint32_t body_bytes;   /* --body-bytes */
	uint32_t reorder;      /* percent of segments swapped with the next (half as many sent twice) */
	bool first_whole;      /* each side's first write in one segment (as TCP sends it) */
};

struct sim_result {
	char *whole;           /* JSON events from whole packets (malloc'd) */
	char *framed;          /* JSON events from the kernel's copies (malloc'd) */
	uint64_t packets, copies, copied_bytes, payload_bytes;
	uint64_t whole_copies; /* copies the framer could not frame */
	int ignored;           /* a direction's first line was not HTTP: live leaves it out */
	int ignored_side[2];   /* a side whose first line the framer judged not HTTP/1.x (0 the
				* client's, 1 the server's) */
	uint64_t h2_blocks;    /* HTTP/2 header blocks the framer went by */
	int joined;            /* a direction was followed from a packet that looked like a
				* message start, not from its first byte (as live does with
				* connections older than itself): the two may differ */
};

/*
 * Runs the writes (then a FIN from each side) both ways. Returns 0 when both outputs are
 * the same, 1 when they differ, -1 on allocation failure. Free the result with
 * sim_result_free() in every case.
 */
int sim_run(const struct sim_write *w, size_t n, const struct sim_options *opt,
	    struct sim_result *res);

void sim_result_free(struct sim_result *res);

/* A random HTTP/1.x conversation (mostly well-formed, sometimes odd) for seed; returns the
 * number of writes put in w (at most max), their bytes in *buf (malloc'd, free it). */
size_t sim_conversation(uint64_t seed, struct sim_write *w, size_t max, uint8_t **buf);

#endif
