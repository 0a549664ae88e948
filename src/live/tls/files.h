/*
 * The TLS attacher's memory of library files, by (device, inode): those attached to, and a
 * bounded memory of those that failed, which forgets the oldest when full. A failure never
 * takes a place among the attached, and a failed file is looked at again when it changed
 * (its size, times, owner or mode: it may have been still being written) or, if it could not
 * be opened, at its next mapping.
 */
#ifndef HTTPEEK_LIVE_TLS_FILES_H
#define HTTPEEK_LIVE_TLS_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* Why a file (libssl.so.3, a Go binary) was not attached to; the summary and the self-metrics
 * count each. */
enum live_tls_skip {
	LIVE_TLS_SKIP_OWNER,     /* not owned by root, or writable by group or others */
	LIVE_TLS_SKIP_TYPE,      /* not a regular file, or on a file system its user serves */
	LIVE_TLS_SKIP_GONE,      /* gone or replaced before it could be opened */
	LIVE_TLS_SKIP_FORMAT,    /* not the library: not ELF for this machine, functions missing */
	LIVE_TLS_SKIP_REFUSED,   /* the kernel refused a uprobe */
	LIVE_TLS_SKIP_FULL,      /* no room: the table of attached files, or descriptors */
	LIVE_TLS_SKIP_GO_LAYOUT, /* a Go binary whose function table is not one known, or broken */
	LIVE_TLS_SKIP_GO_NO_TLS, /* a Go binary without crypto/tls's (*Conn).Read and Write */
	LIVE_TLS_SKIPS
};

/* What the summary says of the files skipped for a cause ("not OpenSSL"). */
const char *live_tls_skip_text(enum live_tls_skip why);

/* What the attacher counts; written by it, read by its parent: memory both map. */
struct live_tls_counters {
	uint64_t libraries;                  /* distinct library files attached to */
	uint64_t go_binaries;                /* distinct Go binaries attached to */
	uint64_t skipped[LIVE_TLS_SKIPS];    /* files of a library's name not attached to, by cause */
	uint64_t lost;                       /* mapping reports the kernel could not deliver */
	uint64_t scans;                      /* /proc scans: at start, then after losses */
};

struct live_tls_key {
	uint64_t dev;
	uint64_t ino;
};

/* What a failure is compared on: the file changed when any of it differs. */
struct live_tls_stamp {
	int64_t size;
	int64_t mtime_ns, ctime_ns;
	uint32_t uid, mode;
};

struct live_tls_files;

/* A memory of at most max_attached attached files and max_failed failures; NULL: no memory. */
struct live_tls_files *live_tls_files_new(uint32_t max_attached, uint32_t max_failed);

void live_tls_files_free(struct live_tls_files *f);

/* True when the file key (or alias, 0 0 for none) names was attached to. */
bool live_tls_files_attached(const struct live_tls_files *f, struct live_tls_key key);

/*
 * Whether a mapping of key at now_ns (monotonic) is worth opening: false when it is attached,
 * or failed less than recheck_ns ago.
 */
bool live_tls_files_worth_opening(struct live_tls_files *f, struct live_tls_key key,
				  uint64_t now_ns, uint64_t recheck_ns);

/* The stamp of an fstat; NULL st: the file could not be opened. */
struct live_tls_stamp live_tls_stamp_of(const struct stat *st);

/*
 * True when key failed before with this stamp (nothing changed since: it is not tried again,
 * nor counted again); the failure's time becomes now_ns.
 */
bool live_tls_files_unchanged(struct live_tls_files *f, struct live_tls_key key,
			      const struct live_tls_stamp *s, uint64_t now_ns);

/* Remembers a failure of key (the oldest failure goes when full). */
void live_tls_files_failed(struct live_tls_files *f, struct live_tls_key key,
			   const struct live_tls_stamp *s, uint64_t now_ns);

/* True while the table of attached files has room. */
bool live_tls_files_has_room(const struct live_tls_files *f);

/*
 * Remembers key as attached, with alias (the fstat's device and inode, when they differ from
 * the mapping's), and forgets its failure. Returns 0, or -ENOSPC when the table is full.
 */
int live_tls_files_attach(struct live_tls_files *f, struct live_tls_key key,
			  struct live_tls_key alias);

#endif
