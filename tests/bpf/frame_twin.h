/*
 * Shared by frame_twin.c (the harness, BPF_PROG_TEST_RUN) and frame_twin_sock.c (real sockets):
 * the kernel's records and the twin's, compared one by one.
 */
#ifndef HTTPEEK_FRAME_TWIN_H
#define HTTPEEK_FRAME_TWIN_H

#include <stddef.h>
#include <stdint.h>
#include "frame_sim.h"
#include "httpeek.skel.h"
#include "twin.h"

/* A record the programs wrote: what struct rec_packet says and the bytes after it. */
struct krec {
	uint64_t cookie;
	uint32_t hl, lo, n, span, wire_len;
	uint8_t flags, dir;
	uint8_t *bytes;        /* hl header bytes, then n payload bytes (malloc'd) */
};

/* Records read from the ring buffer since the last krecs_clear(). */
struct krecs {
	struct krec *r;
	size_t n, cap;
	size_t bad;            /* records that are not packet records */
};

struct loaded {
	struct httpeek_bpf *skel;
	struct ring_buffer *rb;
	struct krecs got;
	struct twin_knobs knobs;
};

/* A conversation to run: its writes (into buf). */
struct conv {
	struct sim_write w[64];
	size_t n;
	uint8_t *buf;          /* malloc'd, when the writes point into it */
	char name[64];
};

/* Loads the programs with knobs kn; 0 or -1 (a failed check printed). */
int twin_load(struct loaded *l, const struct twin_knobs *kn);
void twin_unload(struct loaded *l);
void krecs_clear(struct krecs *k);

/*
 * Compares the twin's copies of a packet (its bytes: IP header first) with the kernel's
 * records got[*at...]; advances *at. Returns NULL when equal, else what differs (static).
 */
const char *twin_compare(const struct twin_result *tr, const uint8_t *pkt,
			 const struct krecs *got, size_t *at);

/* Every conversation the checks run: the fuzz corpus of fuzz_frame, then generated ones. */
size_t twin_conversations(struct conv **out, size_t generated);
void twin_conversations_free(struct conv *c, size_t n);

/* Real TCP connections over loopback (frame_twin_sock.c): one TAP line per knob set. */
void twin_sockets(struct conv *convs, size_t n, const struct twin_knobs *kn);

extern int twin_failures;

#endif
