/* Where the metrics go: the --metrics endpoint and the --metrics-file, around one struct metrics. */
#ifndef HTTPEEK_METRICS_OUT_H
#define HTTPEEK_METRICS_OUT_H

#include <signal.h>
#include <stdio.h>
#include "metrics/metrics.h"
#include "metrics/server.h"

struct metrics_out {
	struct metrics *m;           /* NULL: no metrics asked for */
	struct metrics_server *srv;  /* --metrics */
	FILE *file;                  /* --metrics-file, until written */
	const char *path;
};

/*
 * Creates the metrics when opt asks for them, binds their endpoint (not serving yet) and opens
 * their file: call it while privileges last. Returns 0, or -errno after a one-line error.
 */
int metrics_out_open(struct metrics_out *mo, const struct metrics_options *opt);

/* Writes one exposition to the file and closes it; 0, or -EIO after a one-line error. */
int metrics_out_write_file(struct metrics_out *mo);

/* With an endpoint, says where it is and waits until *stop is set (SIGINT, SIGTERM). */
void metrics_out_serve_until(const struct metrics_out *mo, volatile sig_atomic_t *stop);

/* Stops the endpoint and frees everything; accepts a zeroed or half-opened mo. */
void metrics_out_close(struct metrics_out *mo);

#endif
