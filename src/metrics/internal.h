/* Internals shared by metrics.c (series and counting) and text.c (the exposition). */
#ifndef HTTPEEK_METRICS_INTERNAL_H
#define HTTPEEK_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include "output/json.h"
#include "metrics/metrics.h"

/* OpenTelemetry's HTTP duration buckets, in seconds: 0.005 ... 10, then +Inf. */
#define METRICS_BUCKETS 14

extern const char *const metrics_bucket_le[METRICS_BUCKETS];

/* One label set of one histogram. */
struct metrics_series {
	char *labels;               /* rendered: name="value",... (no le) */
	uint32_t len;
	uint32_t hash;
	uint64_t count;
	uint64_t sum_ns;
	uint64_t buckets[METRICS_BUCKETS];  /* observations per bucket, not cumulative */
};

struct metrics_histogram {
	const char *name;
	const char *help;
	struct metrics_series *series;
	uint32_t n, cap;            /* series in use (the overflow one included), allocated */
	uint32_t *index;            /* open addressing: series number + 1, 0 empty */
	uint32_t index_size;        /* a power of two, 0 before the first series */
	uint32_t overflow;          /* the overflow series' number + 1, 0 while there is none */
	uint64_t overflowed;        /* observations counted in the overflow series */
};

enum { METRICS_SERVER, METRICS_CLIENT, METRICS_HISTOGRAMS };

/* Exchanges counted lately, by what their labels are made of, and the series each went to. */
#define METRICS_MEMO 4
#define METRICS_MEMO_RAW 384
struct metrics_memo {
	uint32_t len;               /* bytes of raw; 0: empty */
	uint32_t series;            /* its number in the histogram */
	char raw[METRICS_MEMO_RAW];
};

/*
 * One thread counts (metrics_exchange, metrics_set_self), another renders. The lock guards hist
 * and self; a render holds it only to copy the series, whose label strings it may keep reading
 * afterwards: a series' labels never change once made and are freed only by metrics_free().
 * key and path are the counting thread's own.
 */
struct metrics {
	pthread_mutex_t lock;
	struct metrics_options opt;
	struct metrics_histogram hist[METRICS_HISTOGRAMS];
	struct metrics_self self;
	struct json_buf key;        /* scratch: the labels of the exchange being counted */
	struct json_buf path;       /* scratch: its percent-decoded path */
	struct metrics_memo memo[METRICS_MEMO];  /* the counting thread's own */
	unsigned memo_next;
};

/* Appends a label value: \, " and newline escaped, other control and non-ASCII bytes as '?'. */
void metrics_put_value(struct json_buf *b, const char *s, size_t len);

#endif
