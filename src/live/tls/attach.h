/* The TLS attacher process: uprobes on every libssl.so.3 copy, now and as processes open them. */
#ifndef HTTPEEK_LIVE_TLS_ATTACH_H
#define HTTPEEK_LIVE_TLS_ATTACH_H

#include <stdint.h>
#include <sys/types.h>

struct tls_bpf;

/* Written by the attacher, read by its parent: memory both map. */
struct tls_attach_counters {
	uint64_t libraries;  /* distinct library files attached to */
	uint64_t failures;   /* files found but not attached to */
};

/*
 * Forks the attacher for skel's loaded programs and waits until the libraries present now
 * are attached. Returns its pid, or -errno. It runs until *stay_fd (set on success) is closed
 * or httpeek dies; its links, and so the uprobes, go with it.
 */
pid_t live_tls_attach_start(struct tls_bpf *skel, struct tls_attach_counters *counters,
			    int verbose, int *stay_fd);

#endif
