/* The TLS attacher process: uprobes on every libssl.so.3 copy, now and as processes map them. */
#ifndef HTTPEEK_LIVE_TLS_ATTACH_H
#define HTTPEEK_LIVE_TLS_ATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "live/tls/files.h"

struct tls_bpf;

/*
 * Forks the attacher for skel's loaded programs and waits until the libraries present now
 * are attached. Returns its pid, or -errno (-EINTR when a signal came meanwhile: httpeek is
 * being stopped). It runs until httpeek shuts *ctl_fd (set on success) down or dies; its
 * links, and so the uprobes, go with it.
 */
pid_t live_tls_attach_start(struct tls_bpf *skel, struct live_tls_counters *counters,
			    int verbose, bool exported_only, int *ctl_fd);

/*
 * Stops the attacher: shuts ctl_fd down, waits at most timeout_ms for its answer, closes
 * ctl_fd. One that does not answer is killed, or, when httpeek may no longer signal it, left
 * to die with httpeek (it has a parent-death signal); nothing waits for it. Returns 0, or
 * -ETIMEDOUT after one line.
 */
int live_tls_attach_stop(pid_t pid, int ctl_fd, int timeout_ms);

#endif
