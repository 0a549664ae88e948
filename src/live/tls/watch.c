/*
 * Executable mappings as they are made: a software "dummy" perf event per CPU, system-wide,
 * with mmap2 records (pid, addresses, device, inode, protection, path) and nothing sampled.
 * The kernel writes a record for every executable mapping on the host (an exec, a library
 * the loader maps, a dlopen), on the CPU that made it: the cost falls on mmap, never on a
 * request. libbpf's perf buffer reads the rings. A ring that overflows says how many records
 * it lost; the next scan of /proc/PID/maps then finds what they named.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <bpf/libbpf.h>
#include "live/tls/watch.h"

struct live_tls_watch {
	struct perf_buffer *pb;
	live_tls_mapping_fn fn;
	void *ctx;
	uint32_t self;
	bool scan_due;             /* reports were lost, or no scan was made yet */
	uint64_t last_scan_ns;
	struct live_tls_watch_stats st;
};

/* PERF_RECORD_MMAP2 as the attributes below make it. */
struct mmap2_record {
	struct perf_event_header h;
	uint32_t pid, tid;
	uint64_t addr, len, pgoff;
	uint32_t maj, min;
	uint64_t ino, ino_generation;
	uint32_t prot, flags;
	char filename[];           /* NUL-terminated, padded to 8 bytes; struct sample_id follows */
};

/* What sample_id_all appends to every record, for PERF_SAMPLE_TID | PERF_SAMPLE_TIME. */
struct sample_id {
	uint32_t pid, tid;
	uint64_t time;             /* CLOCK_MONOTONIC (use_clockid) */
};

struct lost_record {
	struct perf_event_header h;
	uint64_t id, lost;
};

/* Strips " (deleted)" off a mapped path (the file was unlinked; the mapping still reads it). */
static void strip_deleted(char *path)
{
	static const char mark[] = " (deleted)";
	size_t n = strlen(path), k = sizeof(mark) - 1;

	if (n > k && !strcmp(path + n - k, mark))
		path[n - k] = '\0';
}

static void on_mmap2(struct live_tls_watch *w, const struct perf_event_header *h)
{
	const struct mmap2_record *r = (const void *)h;
	const struct sample_id *id;
	char path[PATH_MAX];
	size_t name_room;

	if (h->size < sizeof(*r) + sizeof(*id) + 1 || (h->misc & PERF_RECORD_MISC_MMAP_BUILD_ID))
		return;
	id = (const void *)((const char *)h + h->size - sizeof(*id));
	name_room = h->size - sizeof(*r) - sizeof(*id);
	if (!memchr(r->filename, '\0', name_room) || r->filename[0] != '/' ||
	    !(r->prot & PROT_EXEC) || r->pid == w->self)
		return;
	snprintf(path, sizeof(path), "%s", r->filename);
	strip_deleted(path);
	w->fn(w->ctx, &(struct live_tls_mapping){
		.start = r->addr,
		.end = r->addr + r->len,
		.dev = makedev(r->maj, r->min),
		.ino = r->ino,
		.time_ns = id->time,
		.pid = r->pid,
		.path = path,
	});
}

static enum bpf_perf_event_ret on_record(void *ctx, int cpu, struct perf_event_header *h)
{
	struct live_tls_watch *w = ctx;

	if (h->type == PERF_RECORD_MMAP2) {
		on_mmap2(w, h);
	} else if (h->type == PERF_RECORD_LOST && h->size >= sizeof(struct lost_record)) {
		w->st.lost += ((const struct lost_record *)h)->lost;
		w->scan_due = true;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

struct live_tls_watch *live_tls_watch_new(int map_fd, uint32_t pages, live_tls_mapping_fn fn,
					  void *ctx)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_DUMMY,
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME,
		.mmap = 1,
		.mmap2 = 1,
		.sample_id_all = 1,
		.use_clockid = 1,
		.clockid = CLOCK_MONOTONIC,
		.watermark = 1,
		.wakeup_watermark = 1,  /* wake the reader at every record: attach before use */
	};
	struct live_tls_watch *w = calloc(1, sizeof(*w));
	int err = ENOMEM;

	if (!w)
		goto fail;
	*w = (struct live_tls_watch){ .fn = fn, .ctx = ctx, .self = (uint32_t)getpid(),
				      .scan_due = true };
	/* Rings count against the locked-memory limit: smaller ones rather than none. */
	for (; pages; pages /= 2) {
		w->pb = perf_buffer__new_raw(map_fd, pages, &attr, on_record, w, NULL);
		err = w->pb ? 0 : errno;
		if (w->pb || (err != EPERM && err != ENOMEM))
			break;
	}
	if (w->pb)
		return w;
fail:
	free(w);
	errno = err ? err : EINVAL;
	return NULL;
}

int live_tls_watch_fd(const struct live_tls_watch *w)
{
	return perf_buffer__epoll_fd(w->pb);
}

int live_tls_watch_read(struct live_tls_watch *w)
{
	int n = perf_buffer__consume(w->pb);

	return n < 0 ? n : 0;
}

/* Every executable file mapping of process pid. */
static void scan_process(struct live_tls_watch *w, uint32_t pid)
{
	char name[64], line[4096 + 128], perms[8];
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	int at;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%u/maps", pid);
	f = fopen(name, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		at = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj,
			   &min, &ino, &at) < 7 || !at || line[at] != '/' || !strchr(perms, 'x'))
			continue;
		line[at + strcspn(line + at, "\n")] = '\0';
		strip_deleted(line + at);
		w->fn(w->ctx, &(struct live_tls_mapping){ .start = start, .end = end,
							  .dev = makedev(maj, min), .ino = ino,
							  .pid = pid, .path = line + at });
	}
	fclose(f);
}

static void scan_processes(struct live_tls_watch *w)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(e->d_name, &end, 10);

		if (*end || !pid || pid > UINT32_MAX || pid == w->self)
			continue;
		scan_process(w, (uint32_t)pid);
	}
	closedir(d);
}

int live_tls_watch_scan(struct live_tls_watch *w, uint64_t now_ns, uint64_t min_gap_ns)
{
	uint64_t since = now_ns - w->last_scan_ns;

	if (!w->scan_due)
		return -1;
	if (w->last_scan_ns && since < min_gap_ns)
		return (int)((min_gap_ns - since) / 1000000) + 1;
	w->scan_due = false;
	w->last_scan_ns = now_ns ? now_ns : 1;
	w->st.scans++;
	scan_processes(w);
	return -1;
}

void live_tls_watch_get_stats(const struct live_tls_watch *w, struct live_tls_watch_stats *st)
{
	*st = w->st;
}

void live_tls_watch_free(struct live_tls_watch *w)
{
	if (!w)
		return;
	perf_buffer__free(w->pb);
	free(w);
}
