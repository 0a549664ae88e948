/*
 * What the TLS attacher reacts to: every executable file mapping made on the host, as the
 * kernel reports it (a software perf event per CPU with mmap2 records: no tracefs, nothing
 * that runs per request), and, when those reports were lost or at start, every executable
 * mapping in /proc/PID/maps. Libraries (dlopen included) and executables alike.
 */
#ifndef HTTPEEK_LIVE_TLS_WATCH_H
#define HTTPEEK_LIVE_TLS_WATCH_H

#include <stdint.h>

/* One executable mapping of a file. */
struct live_tls_mapping {
	uint64_t start, end;       /* its addresses in pid's memory */
	uint64_t dev, ino;         /* the file, as the kernel names it (makedev(major, minor)) */
	uint64_t time_ns;          /* CLOCK_MONOTONIC when it was made; 0 unknown (a scan) */
	uint32_t pid;              /* in the initial pid namespace */
	const char *path;          /* as pid sees it (from its root) */
};

typedef void (*live_tls_mapping_fn)(void *ctx, const struct live_tls_mapping *m);

struct live_tls_watch_stats {
	uint64_t lost;             /* mapping reports the kernel could not deliver */
	uint64_t scans;            /* /proc scans, the first one and those after losses */
};

struct live_tls_watch;

/*
 * Opens the per-CPU events into map_fd (a BPF_MAP_TYPE_PERF_EVENT_ARRAY with an entry per
 * CPU) with rings of up to pages pages each (fewer when the locked-memory limit allows no
 * more). Needs CAP_PERFMON or CAP_SYS_ADMIN. Mappings go to fn. NULL with errno set.
 */
struct live_tls_watch *live_tls_watch_new(int map_fd, uint32_t pages, live_tls_mapping_fn fn,
					  void *ctx);

/* The descriptor to poll for reports. */
int live_tls_watch_fd(const struct live_tls_watch *w);

/* Hands every report waiting to fn. Returns 0 or -errno. */
int live_tls_watch_read(struct live_tls_watch *w);

/*
 * Reads /proc/PID/maps of every process and hands each executable file mapping to fn, when
 * reports were lost since the last scan (or none was made yet) and the last scan is at least
 * min_gap_ns old at now_ns. Returns the milliseconds until a scan is due (-1: none is).
 */
int live_tls_watch_scan(struct live_tls_watch *w, uint64_t now_ns, uint64_t min_gap_ns);

void live_tls_watch_get_stats(const struct live_tls_watch *w, struct live_tls_watch_stats *st);

void live_tls_watch_free(struct live_tls_watch *w);

#endif
