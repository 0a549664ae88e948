/*
 * IP fragment reassembly, between the decoder and the flows (offline: live, the kernel hands
 * over whole datagrams). Fragments of IPv4 and IPv6 datagrams, inside tunnels too, are held
 * until their datagram is whole, which is then decoded again from its IP header.
 *
 * Overlaps follow one policy, BSD's (Suricata's default, and what tshark does): each byte of
 * the datagram comes from the fragment that starts lowest; of fragments that start at the same
 * offset, from the one seen first. Every fragment that overlaps bytes already held is counted,
 * and apart those whose bytes differ. Memory is bounded (max_datagrams, max_fragments, and
 * defrag_shed() at the pipeline's --memory-limit) and so is time (timeout_ns); a datagram given
 * up incomplete is counted under its cause.
 */
#ifndef HTTPEEK_DEFRAG_H
#define HTTPEEK_DEFRAG_H

#include <stdint.h>
#include "decode/decode.h"

struct defrag_limits {
	uint64_t timeout_ns;       /* a datagram still incomplete this long after its first
				    * fragment is given up */
	uint32_t max_datagrams;    /* incomplete datagrams at once; past it the oldest goes */
	uint32_t max_fragments;    /* pieces held per datagram; past it the datagram goes */
};

#define DEFRAG_DEFAULT_TIMEOUT_NS (60ull * 1000000000ull)
#define DEFRAG_DEFAULT_MAX_DATAGRAMS 65536u
#define DEFRAG_DEFAULT_MAX_FRAGMENTS 1024u
#define DEFRAG_TINY 20             /* a first fragment shorter than a TCP header is "tiny" */

/* Why a datagram was given up incomplete. */
enum defrag_cause {
	DEFRAG_TIMEOUT,            /* timeout_ns passed */
	DEFRAG_MEMORY,             /* defrag_shed() (the memory limit), or no memory */
	DEFRAG_TOO_MANY,           /* max_datagrams or max_fragments */
	DEFRAG_INVALID,            /* past 65535 bytes, or fragments disagreeing on its end */
	DEFRAG_END,                /* still incomplete at defrag_flush() (the end of the capture) */
	DEFRAG_CAUSES,
};

struct defrag_stats {
	uint64_t fragments;        /* fragments taken */
	uint64_t reassembled;      /* datagrams made whole */
	uint64_t overlaps;         /* fragments overlapping bytes already held (duplicates too) */
	uint64_t overlap_conflicts; /* of those, the ones whose bytes differed there */
	uint64_t tiny;             /* first fragments shorter than DEFRAG_TINY (RFC 1858) */
	uint64_t incomplete[DEFRAG_CAUSES]; /* datagrams given up, by cause */
	uint64_t incomplete_fragments; /* the fragments those held */
	uint64_t held_bytes;       /* now: memory held */
	uint64_t held_datagrams;   /* now: datagrams waiting for fragments */
};

/* A datagram made whole: its IP header (from the fragment at offset 0), then its data. */
struct defrag_datagram {
	uint8_t *data;             /* malloc'd; the caller frees it */
	uint32_t caplen;           /* bytes present: a fragment the capture cut short ends them */
	uint32_t len;              /* the datagram's length, its header's length fields set to it */
	struct decode_outer outer; /* around the fragment that completed it */
};

struct defrag;

/* An empty defragmenter (lim copied); NULL on allocation failure. */
struct defrag *defrag_new(const struct defrag_limits *lim);

/*
 * Takes one fragment seen at now_ns (its bytes are copied) and first gives up the datagrams
 * older than the time-out. Returns 1 when it completed its datagram (dg filled, dg->data the
 * caller's), else 0: held, or given up and counted.
 */
int defrag_fragment(struct defrag *d, const struct fragment *f, uint64_t now_ns,
		    struct defrag_datagram *dg);

/* Gives up the datagrams whose first fragment came before now_ns - timeout_ns. */
void defrag_expire(struct defrag *d, uint64_t now_ns);

/* Memory held now (what stats.held_bytes says). */
uint64_t defrag_held(const struct defrag *d);

/* Gives up the oldest datagrams (DEFRAG_MEMORY) until bytes were freed; returns the bytes. */
uint64_t defrag_shed(struct defrag *d, uint64_t bytes);

/* Gives up every datagram still held (DEFRAG_END). */
void defrag_flush(struct defrag *d);

/* Current counters. */
const struct defrag_stats *defrag_get_stats(const struct defrag *d);

/* Frees d and what it holds (uncounted: defrag_flush() first to count it); accepts NULL. */
void defrag_free(struct defrag *d);

#endif
