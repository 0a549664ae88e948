/*
 * What the TLS attacher attaches to: a table of kinds of files (today one: OpenSSL 3's
 * libssl.so.3, by name), each with the functions to probe and the programs that probe them,
 * and the steps from a mapping to probes on its file: open it without following anything its
 * user controls, check it, read its function offsets with bounded work, attach through the
 * descriptor checked. Runs in the attacher process.
 */
#ifndef HTTPEEK_LIVE_TLS_TARGET_H
#define HTTPEEK_LIVE_TLS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include "live/tls/files.h"
#include "live/tls/watch.h"

struct live_tls_targets;

/*
 * Targets for skel's programs, counting into c (shared memory); exported_only: OpenSSL's
 * exported functions even where its internal ones are found. NULL on allocation failure.
 */
struct live_tls_targets *live_tls_targets_new(struct tls_bpf *skel,
					      struct live_tls_counters *c, int verbose,
					      bool exported_only);

void live_tls_targets_free(struct live_tls_targets *t);

/*
 * A mapping was made (a live_tls_mapping_fn, ctx the targets): attaches to its file when a
 * kind wants it and it was neither attached to nor found wanting, unchanged, before.
 */
void live_tls_targets_mapped(void *ctx, const struct live_tls_mapping *m);

/* The host's own copies in its library directories, attached even before anything maps them. */
void live_tls_targets_scan_host(struct live_tls_targets *t);

/* The descriptors of the programs the kinds attach (at most max); returns how many. */
size_t live_tls_targets_prog_fds(const struct tls_bpf *skel, int *fds, size_t max);

#endif
