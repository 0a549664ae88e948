// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel programs against their user-space twin (root). tests/unit/frame/twin.c rewrites
 * httpeek.bpf.c's handle() around the shared framer so that test_frame and fuzz_frame can run
 * thousands of conversations without a kernel; this holds the real programs to the twin's
 * records (offset, length, span, flags, direction and bytes of each) on the same packets:
 *
 *   test-run  BPF_PROG_TEST_RUN of httpeek_egress and httpeek_ingress on every segment of the
 *             conversations (fuzz_frame's corpus, then generated ones), cut at several sizes,
 *             the last with FIN. Each run gets a dummy socket of its own: no storage, and not
 *             a TCP socket, so stream_start() reads no TCP state and neither direction is
 *             fresh. The twin starts each packet from that same state. Covers, per packet:
 *             sync() of a direction joined at a message start, the framer on the packet,
 *             the ranges copied, their split into records, FIN's record, and packets that
 *             are not followed at all. Not: what a socket keeps between packets.
 *   sockets   frame_twin_sock.c: real TCP connections over loopback, state across packets.
 *
 * One TAP line per check ("ok - twin: ..."). make test-bpf builds it (build/tests/frame_twin).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "frame_twin.h"

#define ETH_LEN 14
#define PKT_MAX 3600          /* what BPF_PROG_TEST_RUN takes */
#define HDR 40
#define GENERATED 300         /* generated conversations per knob set */

int twin_failures;

static int on_record(void *ctx, void *data, size_t size)
{
	struct krecs *k = ctx;
	const struct rec_packet *r = data;
	struct krec *e;

	if (size < sizeof(*r) || r->h.type != REC_PACKET || r->cap_len > size - sizeof(*r) ||
	    r->hdr_len > r->cap_len) {
		k->bad += r->h.type == REC_PACKET;
		return 0;
	}
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 256;
		k->r = realloc(k->r, k->cap * sizeof(*k->r));
		if (!k->r)
			abort();
	}
	e = &k->r[k->n++];
	*e = (struct krec){ .cookie = r->h.sock_cookie, .hl = r->hdr_len, .lo = r->payload_off,
			    .n = r->cap_len - r->hdr_len, .span = r->payload_span,
			    .wire_len = r->wire_len, .flags = r->flags, .dir = r->dir };
	e->bytes = malloc(r->cap_len + 1);
	if (!e->bytes)
		abort();
	memcpy(e->bytes, r + 1, r->cap_len);
	return 0;
}

void krecs_clear(struct krecs *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->r[i].bytes);
	k->n = 0;
	k->bad = 0;
}

int twin_load(struct loaded *l, const struct twin_knobs *kn)
{
	int err;

	memset(l, 0, sizeof(*l));
	l->knobs = *kn;
	l->skel = httpeek_bpf__open();
	if (!l->skel) {
		printf("not ok - twin: open the programs: %s\n", strerror(errno));
		return -1;
	}
	l->skel->rodata->max_head = kn->max_head;
	l->skel->rodata->body_bytes = kn->body_bytes;
	l->skel->rodata->wakeup_bytes = 1ull << 40;
	err = httpeek_bpf__load(l->skel);
	if (!err)
		l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_record, &l->got, NULL);
	if (err || !l->rb) {
		printf("not ok - twin: load the programs: %s\n", strerror(err ? -err : errno));
		httpeek_bpf__destroy(l->skel);
		twin_failures++;
		return -1;
	}
	return 0;
}

void twin_unload(struct loaded *l)
{
	krecs_clear(&l->got);
	free(l->got.r);
	ring_buffer__free(l->rb);
	httpeek_bpf__destroy(l->skel);
}

const char *twin_compare(const struct twin_result *tr, const uint8_t *pkt,
			 const struct krecs *got, size_t *at)
{
	static char why[512];

	for (int i = 0; i < tr->n; i++, (*at)++) {
		const struct twin_copy *c = &tr->copy[i];
		const struct krec *k = *at < got->n ? &got->r[*at] : NULL;

		if (!k) {
			snprintf(why, sizeof(why), "twin record %d of %d (lo %u n %u span %u flags "
				 "%#x) missing from the kernel's", i + 1, tr->n, c->lo, c->n, c->span,
				 c->flags);
			return why;
		}
		if (k->hl != c->hl || k->lo != c->lo || k->n != c->n || k->span != c->span ||
		    k->flags != c->flags || k->dir != c->dir) {
			snprintf(why, sizeof(why), "record %d: kernel hl %u lo %u n %u span %u "
				 "flags %#x dir %u, twin hl %u lo %u n %u span %u flags %#x dir %u",
				 i + 1, k->hl, k->lo, k->n, k->span, k->flags, k->dir, c->hl, c->lo,
				 c->n, c->span, c->flags, c->dir);
			return why;
		}
		if (memcmp(k->bytes, pkt, c->hl) || memcmp(k->bytes + c->hl, pkt + c->hl + c->lo, c->n)) {
			snprintf(why, sizeof(why), "record %d: the kernel's bytes are not the packet's",
				 i + 1);
			return why;
		}
	}
	return NULL;
}

/* An IPv4 and TCP header (20 + 20 bytes) and the payload: the packet after its Ethernet header. */
static size_t packet(uint8_t *b, uint32_t seq, uint8_t flags, const uint8_t *p, size_t n)
{
	uint8_t *ip = b + ETH_LEN, *tcp = ip + 20;
	size_t total = HDR + n;

	memset(b, 0, ETH_LEN + HDR);
	b[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[8] = 64;
	ip[9] = 6;
	inet_pton(AF_INET, "10.9.0.1", ip + 12);
	inet_pton(AF_INET, "10.9.0.2", ip + 16);
	tcp[0] = 0x9c;
	tcp[1] = 0x40;
	tcp[3] = 80;
	tcp[4] = (uint8_t)(seq >> 24);
	tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8);
	tcp[7] = (uint8_t)seq;
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	memcpy(tcp + 20, p, n);
	return ETH_LEN + total;
}

/* One packet through one program and through the twin; NULL or what differs. */
static const char *run_both(struct loaded *l, struct bpf_program *prog, uint8_t dir,
			    const uint8_t *b, size_t len, uint8_t flags, uint32_t seq)
{
	static uint8_t out[PKT_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out));
	struct twin_packet tp = { .bytes = b + ETH_LEN, .hl = HDR, .plen = (uint32_t)(len - ETH_LEN - HDR),
				  .seq = seq, .tcp_flags = flags, .dir = dir };
	struct twin_facts none = { 0 };
	struct twin_sock fresh = { 0 };
	struct twin_result tr;
	const char *why;
	size_t at = 0;

	krecs_clear(&l->got);
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o) || o.retval != 1)
		return "the test run failed or did not let the packet pass";
	ring_buffer__consume(l->rb);
	if (twin_packet(&fresh, &l->knobs, &tp, &none, &tr))
		return "more records than the twin keeps";
	why = twin_compare(&tr, b + ETH_LEN, &l->got, &at);
	if (!why && at != l->got.n)
		return "the kernel wrote records the twin does not";
	return why;
}

/* Every segment of every conversation, cut at mss bytes, through both programs. */
static void test_run(struct loaded *l, struct conv *convs, size_t n, const char *what,
		     uint32_t mss)
{
	static uint8_t b[PKT_MAX];
	struct bpf_program *progs[2] = { l->skel->progs.httpeek_ingress,
					 l->skel->progs.httpeek_egress };
	uint64_t packets = 0, records = 0;
	const char *why = NULL;
	char where[160] = "";

	for (size_t c = 0; c < n && !why; c++) {
		for (size_t i = 0; i < convs[c].n && !why; i++) {
			const struct sim_write *w = &convs[c].w[i];

			for (size_t off = 0; off < w->len && !why; off += mss) {
				size_t k = w->len - off < mss ? w->len - off : mss;
				uint8_t flags = 0x18 | (i + 1 == convs[c].n && off + k == w->len);
				size_t len = packet(b, 1000 + (uint32_t)off, flags, w->bytes + off, k);

				for (int p = 0; p < 2 && !why; p++) {
					why = run_both(l, progs[p], p ? REC_DIR_EGRESS : REC_DIR_INGRESS,
						       b, len, flags, 1000 + (uint32_t)off);
					records += l->got.n;
					snprintf(where, sizeof(where), "%s write %zu offset %zu, %s",
						 convs[c].name, i + 1, off, bpf_program__name(progs[p]));
				}
				packets++;
			}
		}
	}
	if (why) {
		printf("not ok - twin: test-run %s, mss %u, head limit %u: %s: %s\n", what, mss,
		       l->knobs.max_head, where, why);
		twin_failures++;
		return;
	}
	printf("ok - twin: test-run %s, mss %u, head limit %u\n", what, mss, l->knobs.max_head);
	printf("# twin: test-run %s, mss %u: %llu packets, both programs, %llu records equal\n",
	       what, mss, (unsigned long long)packets, (unsigned long long)records);
}

int main(void)
{
	static const struct twin_knobs knobs[2] = { { 65536, 0 }, { 300, 16 } };
	struct conv *convs;
	size_t n, corpus;

	setvbuf(stdout, NULL, _IOLBF, 0);
	n = twin_conversations(&convs, GENERATED);
	corpus = n - GENERATED;
	for (int k = 0; k < 2; k++) {
		struct loaded l;

		if (twin_load(&l, &knobs[k]))
			continue;
		test_run(&l, convs, corpus, "fuzz corpus", 1400);
		test_run(&l, convs, corpus, "fuzz corpus", 7);
		test_run(&l, convs + corpus, GENERATED, "generated", 1400);
		test_run(&l, convs + corpus, GENERATED, "generated", 61);
		twin_unload(&l);
		twin_sockets(convs, n, &knobs[k]);
	}
	twin_conversations_free(convs, n);
	return twin_failures ? 1 : 0;
}
