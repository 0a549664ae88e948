/* Live TLS: the OpenSSL programs, their attacher process, and packets from their records. */
#include <errno.h>
#include <pcap/dlt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>
#include "tls.skel.h"
#include "live/tls/tls.h"
#include "live/tls/attach.h"

#define IP4_HDR 20
#define IP6_HDR 40
#define TCP_HDR 20
#define STOP_MS 2000  /* the attacher is waited for this long at most */

struct live_tls {
	struct tls_bpf *skel;
	struct live_tls_counters *counters;  /* shared with the attacher */
	pid_t attacher;
	int attacher_ctl;  /* its control socket: shut down, it ends */
};

static int load(struct live_tls *t, const struct live_tls_options *opt)
{
	int err;

	t->skel = tls_bpf__open();
	if (!t->skel)
		return -errno;
	t->skel->rodata->max_head = opt->max_head;
	t->skel->rodata->body_bytes = opt->body_bytes;
	t->skel->rodata->wakeup_bytes = opt->wakeup_bytes;
	err = bpf_map__reuse_fd(t->skel->maps.events, opt->events_fd);
	/* The cleartext programs tie each call to its socket in these two maps. */
	if (!err)
		err = bpf_map__reuse_fd(t->skel->maps.tls_calls, opt->calls_fd);
	if (!err)
		err = bpf_map__reuse_fd(t->skel->maps.tls_open, opt->open_fd);
	if (!err)
		err = tls_bpf__load(t->skel);
	return err;
}

int live_tls_open(struct live_tls **out, const struct live_tls_options *opt)
{
	struct live_tls *t = calloc(1, sizeof(*t));
	void *shared = mmap(NULL, sizeof(*t->counters), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;
	int err;

	*out = NULL;
	if (!t || shared == MAP_FAILED) {
		free(t);
		if (shared != MAP_FAILED)
			munmap(shared, sizeof(*t->counters));
		return -ENOMEM;
	}
	t->counters = shared;
	err = load(t, opt);
	if (!err) {
		pid = live_tls_attach_start(t->skel, t->counters, opt->verbose,
					    opt->exported_only, &t->attacher_ctl);
		err = pid < 0 ? (int)pid : 0;
		t->attacher = pid > 0 ? pid : 0;
	}
	if (err) {
		fprintf(stderr, "httpeek: failed to set up the TLS programs: %s (--no-tls goes "
				"without)\n", strerror(-err));
		live_tls_close(t);
		return err;
	}
	*out = t;
	return 0;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* IP header for a payload of len bytes (0 in the length field when it does not fit). */
static uint32_t put_ip(uint8_t *b, const struct rec_tls *r, int v4, uint64_t len)
{
	if (v4) {
		memset(b, 0, IP4_HDR);
		b[0] = 0x45;
		put16(b + 2, IP4_HDR + TCP_HDR + len <= 0xffff ? IP4_HDR + TCP_HDR + len : 0);
		b[8] = 64;
		b[9] = 6;
		memcpy(b + 12, r->family == 4 ? r->src : r->src + 12, 4);
		memcpy(b + 16, r->family == 4 ? r->dst : r->dst + 12, 4);
		return IP4_HDR;
	}
	memset(b, 0, IP6_HDR);
	b[0] = 0x60;
	put16(b + 4, TCP_HDR + len <= 0xffff ? TCP_HDR + len : 0);
	b[6] = 6;
	b[7] = 64;
	memcpy(b + 8, r->src, 16);
	memcpy(b + 24, r->dst, 16);
	return IP6_HDR;
}

static int mapped_v4(const uint8_t *a)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, prefix, 12);
}

int live_tls_packet(const struct rec_tls *r, size_t size, uint8_t *buf, size_t cap,
		    struct packet *pkt)
{
	int v4 = r->family == 4 || (mapped_v4(r->src) && mapped_v4(r->dst));
	uint32_t hl;
	uint8_t *tcp;

	if (size < sizeof(*r) || r->cap_len > size - sizeof(*r) || (r->family != 4 &&
	    r->family != 6) || r->payload_off > r->call_len ||
	    r->payload_span > r->call_len - r->payload_off || r->cap_len > r->payload_span ||
	    cap < IP6_HDR + TCP_HDR + (size_t)r->cap_len)
		return -1;
	hl = put_ip(buf, r, v4, r->call_len);
	tcp = buf + hl;
	memset(tcp, 0, TCP_HDR);
	put16(tcp, r->src_port);
	put16(tcp + 2, r->dst_port);
	put32(tcp + 4, r->seq);
	tcp[12] = 5 << 4;
	tcp[13] = r->flags & REC_F_FIN ? 0x11 : 0x18;  /* FIN|ACK, else PSH|ACK */
	put16(tcp + 14, 0xffff);
	memcpy(tcp + TCP_HDR, r + 1, r->cap_len);
	*pkt = (struct packet){
		.ts_ns = r->h.ts_ns,
		.sock_cookie = r->h.sock_cookie,
		.data = buf,
		.caplen = hl + TCP_HDR + r->cap_len,
		.wirelen = hl + TCP_HDR + r->call_len,
		.linktype = DLT_RAW,
		.dir = r->dir == REC_DIR_EGRESS ? DIR_EGRESS : DIR_INGRESS,
		.payload_off = r->payload_off,
		.payload_span = r->payload_span,
		.flags = (r->flags & (REC_F_BOUNDARY | REC_F_EARLY)) | PACKET_TLS,
	};
	return 0;
}

void live_tls_get_stats(const struct live_tls *t, struct live_tls_stats *st)
{
	const volatile struct tls_bpf__bss *b = t->skel->bss;

	memset(st, 0, sizeof(*st));
	st->libraries = __atomic_load_n(&t->counters->libraries, __ATOMIC_RELAXED);
	st->go_binaries = __atomic_load_n(&t->counters->go_binaries, __ATOMIC_RELAXED);
	for (int i = 0; i < LIVE_TLS_SKIPS; i++)
		st->skipped[i] = __atomic_load_n(&t->counters->skipped[i], __ATOMIC_RELAXED);
	st->mappings_lost = __atomic_load_n(&t->counters->lost, __ATOMIC_RELAXED);
	st->scans = __atomic_load_n(&t->counters->scans, __ATOMIC_RELAXED);
	st->not_http = b->tls_not_http;
	st->no_socket = b->tls_no_socket;
	st->untracked = b->tls_untracked;
	st->drops = b->drop_count[0] + b->drop_count[1];
	st->lost_heads = b->lost_heads;
	st->joined = b->joined;
	st->h2_joined_blocks = b->h2_joined_blocks;
}

void live_tls_detach(struct live_tls *t)
{
	if (!t)
		return;
	if (t->attacher > 0) {
		live_tls_attach_stop(t->attacher, t->attacher_ctl, STOP_MS);
		t->attacher = 0;
	}
}

void live_tls_close(struct live_tls *t)
{
	if (!t)
		return;
	live_tls_detach(t);
	tls_bpf__destroy(t->skel);
	munmap(t->counters, sizeof(*t->counters));
	free(t);
}
