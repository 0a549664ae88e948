/* Live source: loads and attaches the BPF programs, turns ring-buffer records into packets. */
#include <errno.h>
#include <fcntl.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "httpeek.skel.h"
#include "live/live.h"
#include "live/hold.h"
#include "live/iface.h"
#include "live/privileges.h"
#include "live/tls/tls.h"
#include "live/owner_proc.h"
#include "live/owner_table.h"
#include "record.h"

#define OWNER_TABLE_MAX 65536u
#define HOLD_MAX_BYTES (64ull << 20)
#define NLINKS 5
#define TLS_BUF_SIZE (REC_MAX_COPY + 128)
#define PREFETCH_AHEAD 4096  /* bytes of the ring fetched ahead of the record being read */
#define BATCH_MS 50  /* the reader collects records at least this often (see wakeup_bytes) */

struct live {
	struct httpeek_bpf *skel;
	struct bpf_link *links[NLINKS];
	struct ring_buffer *rb;
	struct owner_table *owners;
	struct live_hold *hold;
	struct live_tls *tls;      /* NULL: TLS is not traced */
	struct iface_names *ifaces;  /* what REC_IFACE records said */
	uint8_t *tls_buf;          /* the packet a TLS record stands for is made here */
	struct live_options opt;
	struct live_stats st;
	int64_t mono_to_real;  /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	int helper_fd;         /* the /proc helper's socket (owner_proc_ask) */
	pid_t helper_pid;
	packet_fn fn;     /* set while live_poll runs */
	void *fn_ctx;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t mono_to_real(void)
{
	uint64_t r1 = clock_ns(CLOCK_REALTIME), m = clock_ns(CLOCK_MONOTONIC);
	uint64_t r2 = clock_ns(CLOCK_REALTIME);

	return (int64_t)(r1 + (r2 - r1) / 2 - m);
}

static int verbosity;

/* libbpf's warnings with -v (they include the verifier's log of a failed load), all with -vv. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && verbosity < 2)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Copies the mount point of the first cgroup2 file system in /proc/mounts into path. */
static int find_cgroup2(char *path, size_t size)
{
	char line[4096], dev[256], dir[2048], type[64];
	FILE *f = fopen("/proc/mounts", "r");
	int err = -ENOENT;

	if (!f) {
		err = -errno;
		fprintf(stderr, "httpeek: failed to read /proc/mounts: %s\n", strerror(-err));
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %2047s %63s", dev, dir, type) == 3 &&
		    !strcmp(type, "cgroup2") && strlen(dir) < size) {
			strcpy(path, dir);
			err = 0;
			break;
		}
	}
	fclose(f);
	if (err)
		fprintf(stderr, "httpeek: live capture needs a cgroup v2 mount (none in "
				"/proc/mounts)\n");
	return err;
}

/* The filter is valid for the kernel: families 0, 4 or 6, prefixes within the family. */
static int check_filter(const struct kernel_filter *f)
{
	const uint8_t fam[2] = { f->src_family, f->dst_family }, pre[2] = { f->src_prefix,
									      f->dst_prefix };

	for (int i = 0; i < 2; i++) {
		if ((fam[i] == 0 || fam[i] == 4 || fam[i] == 6) &&
		    pre[i] <= (fam[i] == 4 ? 32 : fam[i] == 6 ? 128 : 0))
			continue;
		fprintf(stderr, "httpeek: invalid kernel filter: family %u prefix %u\n", fam[i],
			pre[i]);
		return -EINVAL;
	}
	return 0;
}

static void set_filter(struct httpeek_bpf *skel, const struct kernel_filter *f)
{
	skel->rodata->filter_port = f->port;
	skel->rodata->filter_src_family = f->src_family;
	skel->rodata->filter_src_prefix = f->src_prefix;
	memcpy((void *)skel->rodata->filter_src_addr, f->src_addr, sizeof(f->src_addr));
	skel->rodata->filter_dst_family = f->dst_family;
	skel->rodata->filter_dst_prefix = f->dst_prefix;
	memcpy((void *)skel->rodata->filter_dst_addr, f->dst_addr, sizeof(f->dst_addr));
}

static int load(struct live *l)
{
	int err;

	l->skel = httpeek_bpf__open();
	if (!l->skel) {
		err = -errno;
		fprintf(stderr, "httpeek: failed to open BPF object: %s\n", strerror(-err));
		return err;
	}
	l->skel->rodata->max_head = l->opt.max_head;
	l->skel->rodata->body_bytes = l->opt.body_bytes;
	l->skel->rodata->wakeup_bytes = l->opt.ringbuf_bytes / 8;
	/* Below the root, a loopback peer's socket may be outside what is traced. */
	l->skel->rodata->mirror_loopback = !l->opt.cgroup_path;
	set_filter(l->skel, &l->opt.filter);
	err = bpf_map__set_max_entries(l->skel->maps.events, l->opt.ringbuf_bytes);
	if (!err)
		err = httpeek_bpf__load(l->skel);
	if (err)
		fprintf(stderr, "httpeek: failed to load BPF programs: %s%s\n", strerror(-err),
			l->opt.verbose ? "" : " (-v shows the verifier's log)");
	return err;
}

static int attach(struct live *l, const char *cgroup)
{
	struct bpf_program *tp[3] = { l->skel->progs.httpeek_send, l->skel->progs.httpeek_recv,
				      l->skel->progs.httpeek_state };
	int fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "httpeek: failed to open cgroup %s: %s\n", cgroup, strerror(-err));
		return err;
	}
	l->links[0] = bpf_program__attach_cgroup(l->skel->progs.httpeek_ingress, fd);
	l->links[1] = l->links[0] ? bpf_program__attach_cgroup(l->skel->progs.httpeek_egress, fd)
				  : NULL;
	for (int i = 0; i < 3 && l->links[1 + i]; i++)
		l->links[2 + i] = bpf_program__attach(tp[i]);
	close(fd);
	for (int i = 0; i < NLINKS && !err; i++)
		if (!l->links[i])
			err = -errno ? -errno : -EINVAL;
	if (err)
		fprintf(stderr, "httpeek: failed to attach BPF programs to %s: %s\n", cgroup,
			strerror(-err));
	return err;
}

static int on_record(void *ctx, void *data, size_t size);

/* TLS through OpenSSL uprobes; without it (refused, no uprobes) cleartext is still traced. */
static void open_tls(struct live *l)
{
	struct live_tls_options o = {
		.events_fd = bpf_map__fd(l->skel->maps.events),
		.calls_fd = bpf_map__fd(l->skel->maps.tls_calls),
		.open_fd = bpf_map__fd(l->skel->maps.tls_open),
		.max_head = l->opt.max_head,
		.body_bytes = l->opt.body_bytes,
		.wakeup_bytes = l->opt.ringbuf_bytes / 8,
		.verbose = l->opt.verbose,
		.exported_only = l->opt.tls_exported,
	};

	l->tls_buf = malloc(TLS_BUF_SIZE);
	if (!l->tls_buf || live_tls_open(&l->tls, &o)) {
		fprintf(stderr, "httpeek: TLS is not traced; cleartext HTTP is\n");
		free(l->tls_buf);
		l->tls_buf = NULL;
	}
}

/* path is a directory of a cgroup v2 file system (not v1, not any other directory). */
static int check_cgroup(const char *path)
{
	struct statfs fs;
	struct stat st;
	const char *why = NULL;
	int err = 0;

	if (stat(path, &st) || statfs(path, &fs))
		err = errno;
	else if (!S_ISDIR(st.st_mode) || fs.f_type != CGROUP2_SUPER_MAGIC)
		why = "not a cgroup v2 directory";
	if (!err && !why)
		return 0;
	fprintf(stderr, "httpeek: failed to use cgroup %s: %s\n", path, why ? why : strerror(err));
	return err ? -err : -ENOTDIR;
}

int live_open(struct live **out, const struct live_options *opt)
{
	struct live *l;
	char cgroup[2048];
	int err;

	*out = NULL;
	err = live_priv_check();
	if (!err)
		err = check_filter(&opt->filter);
	if (err)
		return err;
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "httpeek: live capture needs kernel BTF "
				"(/sys/kernel/btf/vmlinux)\n");
		return -ENOTSUP;
	}
	if (opt->cgroup_path)
		snprintf(cgroup, sizeof(cgroup), "%s", opt->cgroup_path);
	else if ((err = find_cgroup2(cgroup, sizeof(cgroup))))
		return err;
	if ((err = check_cgroup(cgroup)))
		return err;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->opt = *opt;
	/* Forked first: the helper must hold nothing of what follows. */
	l->helper_fd = live_priv_start_helper(&l->helper_pid);
	if (l->helper_fd < 0) {
		err = l->helper_fd;
		goto fail;
	}
	verbosity = opt->verbose;
	libbpf_set_print(opt->verbose > 0 ? print_libbpf : NULL);
	err = load(l);
	if (!err)
		err = attach(l, cgroup);
	if (err)
		goto fail;
	l->owners = owner_table_new(OWNER_TABLE_MAX, l->helper_fd);
	l->hold = live_hold_new(HOLD_MAX_BYTES);
	l->ifaces = iface_names_new();
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_record, l, NULL);
	if (!l->owners || !l->hold || !l->ifaces || !l->rb) {
		err = l->rb ? -ENOMEM : -errno;
		fprintf(stderr, "httpeek: failed to set up the ring buffer: %s\n", strerror(-err));
		goto fail;
	}
	if (opt->tls)
		open_tls(l);
	err = live_priv_drop();
	if (err)
		goto fail;
	l->mono_to_real = mono_to_real();
	if (opt->verbose > 0)
		fprintf(stderr, "httpeek: live: tracing below %s (TLS %s)\n", cgroup,
			l->tls ? "too" : "not");
	*out = l;
	return 0;
fail:
	live_close(l);
	return err;
}

/* Hands pkt on now when its owner is known and nothing of its socket waits, else holds it. */
static void deliver(struct live *l, const struct packet *pkt)
{
	if (owner_table_lookup(l->owners, pkt->sock_cookie) &&
	    !live_hold_has(l->hold, pkt->sock_cookie)) {
		l->fn(l->fn_ctx, pkt);
		return;
	}
	if (live_hold_push(l->hold, pkt, clock_ns(CLOCK_MONOTONIC)) < 0) {
		l->st.owner_timeouts++;
		l->fn(l->fn_ctx, pkt);
	}
}

_Static_assert(PACKET_BOUNDARY == REC_F_BOUNDARY && PACKET_EARLY == REC_F_EARLY, "flags");

static void count_record(struct live *l, const struct rec_packet *r)
{
	l->st.record_bytes += sizeof(*r) + r->cap_len;
	if (r->flags & REC_F_WHOLE)
		l->st.whole_records++;
	if (r->flags & REC_F_AFTER_DROP)
		l->st.after_drop++;
}

static void on_packet(struct live *l, const struct rec_packet *r, size_t size)
{
	struct packet pkt;

	if (size < sizeof(*r) || r->cap_len > size - sizeof(*r) || r->cap_len > r->wire_len ||
	    r->hdr_len > r->cap_len)
		return;
	pkt = (struct packet){
		.ts_ns = r->h.ts_ns + (uint64_t)l->mono_to_real,
		.sock_cookie = r->h.sock_cookie,
		.data = (const uint8_t *)(r + 1),
		.caplen = r->cap_len,
		.wirelen = r->wire_len,
		.linktype = DLT_RAW,
		.dir = r->dir == REC_DIR_EGRESS ? DIR_EGRESS : DIR_INGRESS,
		.ifindex = r->ifindex,
		.net_ns = r->net_ns,
		.payload_off = r->payload_off,
		.payload_span = r->payload_span,
		.flags = r->flags,
	};
	count_record(l, r);
	deliver(l, &pkt);
	if (r->peer_cookie) {
		/* Loopback: the same packet as the other socket end saw it. */
		l->st.mirrored++;
		pkt.sock_cookie = r->peer_cookie;
		pkt.dir = pkt.dir == DIR_EGRESS ? DIR_INGRESS : DIR_EGRESS;
		deliver(l, &pkt);
	}
}

static void on_tls(struct live *l, const struct rec_tls *r, size_t size)
{
	struct packet pkt;

	if (!l->tls_buf || live_tls_packet(r, size, l->tls_buf, TLS_BUF_SIZE, &pkt))
		return;
	pkt.ts_ns += (uint64_t)l->mono_to_real;
	l->st.record_bytes += sizeof(*r) + r->cap_len;
	l->st.tls_records++;
	deliver(l, &pkt);
}

static void on_iface(struct live *l, const struct rec_iface *r)
{
	char name[REC_IFNAME_LEN + 1];

	memcpy(name, r->name, REC_IFNAME_LEN);
	name[REC_IFNAME_LEN] = '\0';
	iface_names_learn(l->ifaces, r->net_ns, r->ifindex, name);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct live *l = ctx;
	const struct rec_hdr *h = data;

	l->st.records++;
	/*
	 * The records after this one, into the cache while it is read: they were written up to a
	 * batch ago, often on the other CPU. (A prefetch past the ring's end does not fault.)
	 */
	for (size_t off = 0; off < size + sizeof(*h); off += 64)
		__builtin_prefetch((const char *)data + PREFETCH_AHEAD + off);
	if (size < sizeof(*h))
		return 0;
	switch (h->type) {
	case REC_PACKET:
		on_packet(l, data, size);
		break;
	case REC_OWNER:
		if (size < sizeof(struct rec_owner))
			break;
		l->st.owner_records++;
		owner_table_update(l->owners, data, l->mono_to_real);
		live_hold_release(l->hold, h->sock_cookie, l->fn, l->fn_ctx);
		break;
	case REC_GONE:
		owner_table_gone(l->owners, h->sock_cookie, clock_ns(CLOCK_MONOTONIC));
		break;
	case REC_TLS:
		on_tls(l, data, size);
		break;
	case REC_IFACE:
		if (size >= sizeof(struct rec_iface))
			on_iface(l, data);
		break;
	}
	return 0;
}

/* The poll timeout shortened so that no held packet waits much past owner_wait_ns. */
static int poll_timeout(const struct live *l, int timeout_ms, uint64_t now)
{
	uint64_t oldest = live_hold_oldest(l->hold), due, left_ms;

	if (timeout_ms < 0 || timeout_ms > BATCH_MS)
		timeout_ms = BATCH_MS;
	if (!oldest || timeout_ms == 0)
		return timeout_ms;
	due = oldest + l->opt.owner_wait_ns;
	left_ms = due > now ? (due - now) / 1000000 + 1 : 0;
	return left_ms < (uint64_t)timeout_ms ? (int)left_ms : timeout_ms;
}

int live_poll(struct live *l, int timeout_ms, packet_fn fn, void *ctx)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	int n;

	l->fn = fn;
	l->fn_ctx = ctx;
	l->mono_to_real = mono_to_real();
	n = ring_buffer__poll(l->rb, poll_timeout(l, timeout_ms, now));
	if (n == -EINTR)
		n = 0;
	if (n >= 0) {
		/* Records submitted without a wake-up are collected here. */
		int m = ring_buffer__consume(l->rb);

		n = m < 0 ? m : n + m;
	}
	now = clock_ns(CLOCK_MONOTONIC);
	if (now > l->opt.owner_wait_ns)
		l->st.owner_timeouts +=
			live_hold_expire(l->hold, now - l->opt.owner_wait_ns, fn, ctx);
	owner_table_expire(l->owners, now);
	return n;
}

void live_detach(struct live *l)
{
	live_tls_detach(l->tls);
	for (int i = 0; i < NLINKS; i++) {
		bpf_link__destroy(l->links[i]);
		l->links[i] = NULL;
	}
}

void live_flush(struct live *l, packet_fn fn, void *ctx)
{
	l->st.owner_timeouts += live_hold_expire(l->hold, UINT64_MAX, fn, ctx);
}

const char *live_iface_name(void *ctx, uint32_t net_ns, uint32_t ifindex)
{
	struct live *l = ctx;

	return iface_name(l->ifaces, net_ns, ifindex);
}

const struct owner *live_owner_lookup(void *ctx, uint64_t sock_cookie)
{
	const struct live *l = ctx;

	return owner_table_lookup(l->owners, sock_cookie);
}

/* Read from the .bss mapping: no bpf() call, which needs capabilities on older kernels. */
static uint64_t kernel_drops(const struct live *l)
{
	const volatile __u64 *n = l->skel->bss->drop_count;

	return n[0] + n[1];
}

void live_get_stats(const struct live *l, struct live_stats *st)
{
	*st = l->st;
	st->kernel_drops = kernel_drops(l);
	st->lost_heads = *(const volatile __u64 *)&l->skel->bss->lost_heads;
	st->joined = *(const volatile __u64 *)&l->skel->bss->joined;
	st->h2_joined_blocks = *(const volatile __u64 *)&l->skel->bss->h2_joined_blocks;
	if (l->tls) {
		struct live_tls_stats t;

		live_tls_get_stats(l->tls, &t);
		st->tls = true;
		st->kernel_drops += t.drops;
		st->lost_heads += t.lost_heads;
		st->joined += t.joined;
		st->h2_joined_blocks += t.h2_joined_blocks;
		st->tls_libraries = t.libraries;
		st->tls_go_binaries = t.go_binaries;
		memcpy(st->tls_skipped, t.skipped, sizeof(st->tls_skipped));
		st->tls_mappings_lost = t.mappings_lost;
		st->tls_not_http = t.not_http;
		st->tls_no_socket = t.no_socket + t.untracked;
	}
}

void live_close(struct live *l)
{
	if (!l)
		return;
	if (l->rb && l->opt.verbose > 0)
		fprintf(stderr, "httpeek: live: %llu ring-buffer records (%llu bytes of packet "
				"copies), %llu mirrored, %llu owner records, %llu kernel drops, "
				"%llu owner timeouts\n",
			(unsigned long long)l->st.records, (unsigned long long)l->st.record_bytes,
			(unsigned long long)l->st.mirrored,
			(unsigned long long)l->st.owner_records,
			(unsigned long long)kernel_drops(l),
			(unsigned long long)l->st.owner_timeouts);
	live_detach(l);
	live_tls_close(l->tls);
	free(l->tls_buf);
	ring_buffer__free(l->rb);
	httpeek_bpf__destroy(l->skel);
	live_hold_free(l->hold);
	iface_names_free(l->ifaces);
	owner_table_free(l->owners);
	live_priv_stop_helper(l->helper_fd, l->helper_pid);
	free(l);
}
