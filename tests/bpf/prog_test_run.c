// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel-side checks without traffic (root): loads httpeek's programs from the skeleton with
 * the verifier's log captured (no warning allowed), then runs both cgroup_skb programs with
 * BPF_PROG_TEST_RUN on canned packets: malformed, truncated, non-TCP, huge, HTTP starts, and
 * the kernel filter. Every run must allow the packet (return 1), leave it unchanged and
 * produce exactly the expected ring-buffer records. One TAP line per check ("ok - prog: NAME").
 *
 * make test-bpf builds it (build/tests/prog_test_run) and runs it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "prog_test_run.h"
#include "record.h"

static char *log_text;
static size_t log_len;
static int log_warnings;
int failures;
int quiet;

static int capture_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512], *big = NULL;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, aq);
	va_end(aq);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(buf) && (big = malloc((size_t)n + 1)))
		vsnprintf(big, (size_t)n + 1, fmt, ap);
	if (level == LIBBPF_WARN)
		log_warnings++;
	log_text = realloc(log_text, log_len + (size_t)n + 1);
	memcpy(log_text + log_len, big ? big : buf, big ? (size_t)n : strlen(buf));
	log_len += big ? (size_t)n : strlen(buf);
	log_text[log_len] = '\0';
	free(big);
	return 0;
}

/* A failed check: "not ok - prog: " and the first line, the rest as TAP comments. */
void fail(const char *fmt, ...)
{
	char *text = NULL, *line, *save = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	failures++;
	if (n < 0) {
		printf("not ok - prog: (out of memory formatting a failure)\n");
		return;
	}
	line = strtok_r(text, "\n", &save);
	printf("not ok - prog: %s\n", line ? line : "");
	while ((line = strtok_r(NULL, "\n", &save)))
		printf("# %s\n", line);
	free(text);
}

/* Ethernet + IP (4 or 6) + TCP (doff words) + payload; proto other than 6 means no TCP. */
void build(struct pkt *p, int ver, const char *src, const char *dst, unsigned sport,
	   unsigned dport, int proto, int doff, int tcp_flags, const char *payload,
	   size_t plen)
{
	unsigned char *ip = p->b + ETH_LEN, *tcp;
	size_t ihl = ver == 4 ? 20 : 40, thl = (size_t)doff * 4, l4 = proto == 6 ? thl : 8;

	memset(p, 0, sizeof(*p));
	p->b[12] = ver == 4 ? 0x08 : 0x86;
	p->b[13] = ver == 4 ? 0x00 : 0xdd;
	if (ver == 4) {
		ip[0] = 0x45;
		ip[2] = (unsigned char)((ihl + l4 + plen) >> 8);
		ip[3] = (unsigned char)(ihl + l4 + plen);
		ip[8] = 64;
		ip[9] = (unsigned char)proto;
		inet_pton(AF_INET, src, ip + 12);
		inet_pton(AF_INET, dst, ip + 16);
	} else {
		ip[0] = 0x60;
		ip[4] = (unsigned char)((l4 + plen) >> 8);
		ip[5] = (unsigned char)(l4 + plen);
		ip[6] = (unsigned char)proto;
		ip[7] = 64;
		inet_pton(AF_INET6, src, ip + 8);
		inet_pton(AF_INET6, dst, ip + 24);
	}
	tcp = ip + ihl;
	tcp[0] = (unsigned char)(sport >> 8);
	tcp[1] = (unsigned char)sport;
	tcp[2] = (unsigned char)(dport >> 8);
	tcp[3] = (unsigned char)dport;
	if (proto == 6) {
		tcp[7] = 1;  /* seq */
		tcp[12] = (unsigned char)(doff << 4);
		tcp[13] = (unsigned char)(tcp_flags | 0x10);
	}
	p->len = ETH_LEN + ihl + l4 + plen;
	if (p->len > PKT_MAX) {
		p->len = 0;
		return;
	}
	memcpy(tcp + l4, payload, plen);
}

void tcp4(struct pkt *p, const char *payload, size_t plen)
{
	build(p, 4, "10.200.0.1", "10.200.0.2", 40000, 80, 6, 5, 0, payload, plen);
}

void tcp6(struct pkt *p, const char *payload, size_t plen)
{
	build(p, 6, "fd00:200::1", "fd00:200::2", 40000, 80, 6, 5, 0, payload, plen);
}

static struct seen seen;  /* filled by on_record */

static int on_record(void *ctx __attribute__((unused)), void *data, size_t size)
{
	const struct rec_packet *r = data;

	seen.records++;
	if (size < sizeof(*r) || r->h.type != REC_PACKET || r->cap_len > size - sizeof(*r) ||
	    r->cap_len > r->wire_len) {
		seen.bad++;
		return 0;
	}
	seen.cap_len = r->cap_len;
	seen.wire_len = r->wire_len;
	seen.off = r->payload_off;
	seen.span = r->payload_span;
	seen.flags = r->flags;
	return 0;
}

static void set_knobs(struct httpeek_bpf *skel, const struct knobs *k)
{
	skel->rodata->max_head = k->max_head ? k->max_head : 65536;
	skel->rodata->body_bytes = k->body_bytes;
	skel->rodata->wakeup_bytes = k->wakeup_bytes;
	skel->rodata->filter_port = k->f.port;
	skel->rodata->filter_src_family = k->f.src_family;
	skel->rodata->filter_src_prefix = k->f.src_prefix;
	skel->rodata->filter_dst_family = k->f.dst_family;
	skel->rodata->filter_dst_prefix = k->f.dst_prefix;
	if (k->f.src)
		inet_pton(k->f.src_family == 4 ? AF_INET : AF_INET6, k->f.src,
			  (void *)skel->rodata->filter_src_addr);
	if (k->f.dst)
		inet_pton(k->f.dst_family == 4 ? AF_INET : AF_INET6, k->f.dst,
			  (void *)skel->rodata->filter_dst_addr);
}

/* Opens and loads the skeleton with knobs k; log asks for the verifier's log and stats. */
int load(struct loaded *l, const struct knobs *k, int log)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .kernel_log_level = log ? 1 | 4 : 0);
	int err;

	l->rb = NULL;
	l->skel = httpeek_bpf__open_opts(&oo);
	if (!l->skel) {
		fail("open: %s", strerror(errno));
		return -1;
	}
	set_knobs(l->skel, k);
	err = httpeek_bpf__load(l->skel);
	if (!err)
		l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_record, NULL, NULL);
	if (err || !l->rb) {
		fail("load: %s", strerror(err ? -err : errno));
		httpeek_bpf__destroy(l->skel);
		return -1;
	}
	return 0;
}

void unload(struct loaded *l)
{
	ring_buffer__free(l->rb);
	httpeek_bpf__destroy(l->skel);
}

/* Runs prog on p; checks the verdict and that the packet came out as it went in. */
int run_one(const char *name, struct bpf_program *prog, const struct pkt *p, int repeat,
	    __u32 *ns)
{
	static unsigned char out[PKT_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = (__u32)p->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

	if (err) {
		fail("%s: %s: test run failed: %s", name, bpf_program__name(prog), strerror(-err));
		return -1;
	}
	if (o.retval != 1)
		fail("%s: %s returned %u, want 1", name, bpf_program__name(prog), o.retval);
	/* The harness hands the link header back zeroed for cgroup programs; compare the rest. */
	if (o.data_size_out != p->len || memcmp(out + ETH_LEN, p->b + ETH_LEN, p->len - ETH_LEN))
		fail("%s: %s changed the packet", name, bpf_program__name(prog));
	if (ns)
		*ns = o.duration;
	return 0;
}

/*
 * Runs both cgroup programs on p: each run must yield want packet records (ANY: any number);
 * the last one must hold cap bytes (ANY: any), copied from payload offset off and standing
 * for span payload bytes, with REC_F_* flags (each ANY: any).
 */
void expect_last(struct loaded *l, const char *name, const struct pkt *p, int want, long cap,
		 long off, long span, int flags)
{
	struct bpf_program *progs[2] = { l->skel->progs.httpeek_ingress,
					 l->skel->progs.httpeek_egress };
	int before = failures;

	if (!p->len) {
		fail("%s: packet does not fit", name);
		return;
	}
	for (int i = 0; i < 2; i++) {
		memset(&seen, 0, sizeof(seen));
		if (run_one(name, progs[i], p, 1, NULL))
			continue;
		ring_buffer__consume(l->rb);
		if (seen.bad)
			fail("%s: %d malformed records", name, seen.bad);
		if (want != ANY && seen.records != want)
			fail("%s: %s: %d records, want %d", name, bpf_program__name(progs[i]),
			     seen.records, want);
		if (want >= 1 && cap != ANY && seen.cap_len != cap)
			fail("%s: copied %ld bytes, want %ld", name, seen.cap_len, cap);
		if (want >= 1 && off != ANY && seen.off != off)
			fail("%s: copy from payload offset %ld, want %ld", name, seen.off, off);
		if (want >= 1 && span != ANY && seen.span != span)
			fail("%s: copy stands for %ld bytes, want %ld", name, seen.span, span);
		if (want >= 1 && flags != ANY && seen.flags != flags)
			fail("%s: flags %#x, want %#x", name, seen.flags, flags);
		if (seen.records && seen.wire_len != (long)(p->len - ETH_LEN))
			fail("%s: wire length %ld, want %zu", name, seen.wire_len, p->len - ETH_LEN);
	}
	if (failures == before && !quiet)
		printf("ok - prog: %s\n", name);
}

/* expect_last() for one record holding cap bytes. */
void expect(struct loaded *l, const char *name, const struct pkt *p, int want, long cap)
{
	expect_last(l, name, p, want, cap, ANY, ANY, ANY);
}

static int verifier_clean(void)
{
	struct knobs k = { 0 };
	struct loaded l;
	const char *p;
	int ok;

	libbpf_set_print(capture_log);
	ok = !load(&l, &k, 1);
	libbpf_set_print(NULL);
	if (!ok)
		return -1;
	unload(&l);
	if (log_warnings || (log_text && strcasestr(log_text, "warning"))) {
		fail("verifier/libbpf: %d warnings:\n%s", log_warnings, log_text);
		return -1;
	}
	/* Each program's statistics line, e.g. "processed 4658 insns (limit 1000000) ...". */
	for (p = log_text; p && (p = strstr(p, "prog '")); p += 6) {
		const char *insns, *end;
		char name[64];
		int n = 0;

		sscanf(p, "prog '%63[^']': -- BEGIN PROG LOAD LOG --%n", name, &n);
		insns = n ? strstr(p + n, "processed ") : NULL;
		end = n ? strstr(p + n, "-- END PROG LOAD LOG --") : NULL;
		if (insns && end && insns < end)
			printf("# prog: verifier %s %.*s\n", name, (int)strcspn(insns, "\n"), insns);
	}
	printf("ok - prog: verifier-no-warnings\n");
	return 0;
}

int main(void)
{
	struct knobs dflt = { 0 }, small = { .max_head = 256 };
	struct loaded l;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (verifier_clean())
		return 1;
	if (!load(&l, &dflt, 0)) {
		http_cases(&l);
		ignored_cases(&l);
		unload(&l);
	}
	if (!load(&l, &small, 0)) {
		knob_cases(&l);
		unload(&l);
	}
	filter_cases();
	costs();
	free(log_text);
	if (failures)
		printf("# prog: %d failures\n", failures);
	return failures ? 1 : 0;
}
