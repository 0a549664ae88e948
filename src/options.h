/* Command-line options. */
#ifndef HTTPEEK_OPTIONS_H
#define HTTPEEK_OPTIONS_H

#include <stdint.h>
#include "output/event.h"
#include "report/filter.h"
#include "live/live.h"
#include "metrics/metrics.h"
#include "pipeline/pipeline.h"

#define OPTIONS_MAX_REDACT 32

struct options {
	const char *read_path;      /* -r: capture file, NULL for live */
	const char *output_path;    /* -O: NULL for standard output */
	const char *pcap_filter;    /* -F: libpcap filter expression (offline) */
	const char *write_path;     /* -w: pcapng file of the reported messages' packets */
	uint64_t stats_interval_ns; /* --stats: live counters every so often; 0: never */
	struct filter_set filter;   /* -f terms */
	struct event_options events;
	struct pipeline_options pipeline;
	struct live_options live;
	struct metrics_options metrics;
	const char *redact[OPTIONS_MAX_REDACT + 1];
	int verbose;
};

/*
 * Fills opt from argv. Returns 0 to run, 1 when --help or --version was printed, or -EINVAL
 * after printing a one-line error on stderr.
 */
int options_parse(struct options *opt, int argc, char **argv);

#endif
