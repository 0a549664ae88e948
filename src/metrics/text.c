/* Metrics: the Prometheus text exposition format (version 0.0.4) of the histograms and counters. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "metrics/internal.h"

#define LIT(b, s) json_raw((b), (s), sizeof(s) - 1)

/* "# HELP name help" and "# TYPE name type". */
static void put_family(struct json_buf *b, const char *name, const char *help, const char *type)
{
	LIT(b, "# HELP ");
	json_lit(b, name);
	LIT(b, " ");
	json_lit(b, help);
	LIT(b, "\n# TYPE ");
	json_lit(b, name);
	LIT(b, " ");
	json_lit(b, type);
	LIT(b, "\n");
}

/* ns as seconds, exactly: 1234567890 -> 1.234567890 */
static void put_seconds(struct json_buf *b, uint64_t ns)
{
	char frac[10];
	uint64_t f = ns % 1000000000u;

	json_u64(b, ns / 1000000000u);
	for (int i = 8; i >= 0; i--, f /= 10)
		frac[i + 1] = (char)('0' + f % 10);
	frac[0] = '.';
	json_raw(b, frac, sizeof(frac));
}

/* name suffix{labels[,le="le"]} */
static void put_sample_name(struct json_buf *b, const char *name, const char *suffix,
			    const struct metrics_series *s, const char *le)
{
	json_lit(b, name);
	json_lit(b, suffix);
	LIT(b, "{");
	json_raw(b, s->labels, s->len);
	if (le) {
		LIT(b, ",le=\"");
		json_lit(b, le);
		LIT(b, "\"");
	}
	LIT(b, "} ");
}

static void put_series(struct json_buf *b, const char *name, const struct metrics_series *s)
{
	uint64_t cumulative = 0;

	for (int k = 0; k < METRICS_BUCKETS; k++) {
		cumulative += s->buckets[k];
		put_sample_name(b, name, "_bucket", s, metrics_bucket_le[k]);
		json_u64(b, cumulative);
		LIT(b, "\n");
	}
	put_sample_name(b, name, "_bucket", s, "+Inf");
	json_u64(b, s->count);
	LIT(b, "\n");
	put_sample_name(b, name, "_sum", s, NULL);
	put_seconds(b, s->sum_ns);
	LIT(b, "\n");
	put_sample_name(b, name, "_count", s, NULL);
	json_u64(b, s->count);
	LIT(b, "\n");
}

/*
 * What one exposition shows, copied under the lock so that it is formatted without it: the
 * counts are copies, the label strings are shared (a series' labels never change and live as
 * long as the metrics).
 */
struct snapshot {
	struct metrics_series *series[METRICS_HISTOGRAMS];
	uint32_t n[METRICS_HISTOGRAMS];
	uint32_t cap[METRICS_HISTOGRAMS];      /* series allocated */
	uint64_t overflowed[METRICS_HISTOGRAMS];
	struct metrics_self self;
};

#define SNAPSHOT_SLACK 64u  /* series that may appear between sizing and copying */

/* Under m's lock: copies the counts into s when they fit, else says how many series there are. */
static bool snapshot_copy(struct metrics *m, struct snapshot *s)
{
	bool fits = true;

	for (int i = 0; i < METRICS_HISTOGRAMS; i++) {
		s->n[i] = m->hist[i].n;
		fits = fits && s->n[i] <= s->cap[i];
	}
	if (!fits)
		return false;
	for (int i = 0; i < METRICS_HISTOGRAMS; i++) {
		if (s->n[i])
			memcpy(s->series[i], m->hist[i].series, s->n[i] * sizeof(*s->series[i]));
		s->overflowed[i] = m->hist[i].overflowed;
	}
	s->self = m->self;
	return true;
}

/* Holds m's lock only to copy the counts (allocating outside it); 0 or -ENOMEM. */
static int snapshot_take(struct metrics *m, struct snapshot *s)
{
	struct metrics_series *more;
	bool done;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		done = snapshot_copy(m, s);
		pthread_mutex_unlock(&m->lock);
		if (done)
			return 0;
		for (int i = 0; i < METRICS_HISTOGRAMS; i++) {
			if (s->n[i] <= s->cap[i])
				continue;
			more = realloc(s->series[i], (s->n[i] + SNAPSHOT_SLACK) * sizeof(*more));
			if (!more)
				return -ENOMEM;
			s->series[i] = more;
			s->cap[i] = s->n[i] + SNAPSHOT_SLACK;
		}
	}
}

static void snapshot_free(struct snapshot *s)
{
	for (int i = 0; i < METRICS_HISTOGRAMS; i++)
		free(s->series[i]);
}

static void put_histogram(struct json_buf *b, const struct metrics_histogram *h,
			  const struct metrics_series *series, uint32_t n)
{
	put_family(b, h->name, h->help, "histogram");
	for (uint32_t k = 0; k < n; k++)
		put_series(b, h->name, &series[k]);
}

/* A counter or gauge without labels. */
static void put_number(struct json_buf *b, const char *name, const char *help, const char *type,
		       uint64_t v)
{
	put_family(b, name, help, type);
	json_lit(b, name);
	LIT(b, " ");
	json_u64(b, v);
	LIT(b, "\n");
}

/* One sample of a family with one label. */
static void put_labelled(struct json_buf *b, const char *name, const char *label,
			 const char *value, uint64_t v)
{
	json_lit(b, name);
	LIT(b, "{");
	json_lit(b, label);
	LIT(b, "=\"");
	metrics_put_value(b, value, strlen(value));
	LIT(b, "\"} ");
	json_u64(b, v);
	LIT(b, "\n");
}

static const struct {
	const char *name;
	const char *help;
	size_t offset;
	bool live;
} counters[] = {
#define COUNTER(name, field, live, help) { name, help, offsetof(struct metrics_self, field), live }
	COUNTER("httpeek_packets_total", packets, false, "Packets read."),
	COUNTER("httpeek_messages_total", messages, false, "HTTP messages (heads) found."),
	COUNTER("httpeek_events_total", events, false, "Events written."),
	COUNTER("httpeek_parse_failures_total", parse_failures, false,
		"Places where a head should start that are not HTTP."),
	COUNTER("httpeek_ringbuf_records_total", records, true, "Ring-buffer records read."),
	COUNTER("httpeek_kernel_drops_total", kernel_drops, true,
		"Copies the ring buffer had no room for."),
	COUNTER("httpeek_http2_connections_total", h2.connections, false,
		"Connections found to speak HTTP/2."),
	COUNTER("httpeek_http2_header_lists_cut_total", h2.too_large, false,
		"HTTP/2 header lists cut at the head limit (HPACK bombs among them)."),
	COUNTER("httpeek_http2_malformed_frames_total", h2.malformed_frames, false,
		"HTTP/2 frames whose lengths or order are invalid."),
	COUNTER("httpeek_grpc_errors_total", h2.grpc_errors, false,
		"gRPC calls answered with HTTP 200 and a grpc-status other than 0."),
#undef COUNTER
};

/* Live TLS: the library files attached to, those not and why, mapping reports lost. */
static void put_tls(struct json_buf *b, const struct metrics_self *s)
{
	static const char *const reasons[LIVE_TLS_SKIPS] = {
		[LIVE_TLS_SKIP_OWNER] = "owner", [LIVE_TLS_SKIP_TYPE] = "type",
		[LIVE_TLS_SKIP_GONE] = "gone",   [LIVE_TLS_SKIP_FORMAT] = "format",
		[LIVE_TLS_SKIP_REFUSED] = "refused", [LIVE_TLS_SKIP_FULL] = "full",
		[LIVE_TLS_SKIP_GO_LAYOUT] = "go_layout", [LIVE_TLS_SKIP_GO_NO_TLS] = "go_no_tls",
	};
	const char *skipped = "httpeek_tls_libraries_skipped_total";

	put_number(b, "httpeek_tls_libraries", "Distinct libssl.so.3 files attached to.", "gauge",
		   s->tls_libraries);
	put_number(b, "httpeek_tls_go_binaries", "Distinct Go binaries attached to (crypto/tls).",
		   "gauge", s->tls_go_binaries);
	put_family(b, skipped, "Files named libssl.so.3 and Go binaries not attached to, by "
		   "reason.", "counter");
	for (int i = 0; i < LIVE_TLS_SKIPS; i++)
		put_labelled(b, skipped, "reason", reasons[i], s->tls_skipped[i]);
	put_number(b, "httpeek_tls_mapping_reports_lost_total",
		   "Executable mappings the kernel could not report (then every process's maps "
		   "are read again).", "counter", s->tls_mappings_lost);
}

/* Offline: IP fragments reassembled, their evasions, the datagrams given up by cause. */
static void put_fragments(struct json_buf *b, const struct metrics_self *s)
{
	static const char over[] = "httpeek_ip_fragment_overlaps_total";
	static const char lost[] = "httpeek_ip_datagrams_incomplete_total";

	put_number(b, "httpeek_ip_fragments_total", "IP fragments read.", "counter",
		   s->ip_fragments);
	put_number(b, "httpeek_ip_datagrams_reassembled_total", "IP datagrams made whole.",
		   "counter", s->ip_reassembled);
	put_family(b, over, "Fragments overlapping bytes already held, by whether theirs "
			    "differed (the lowest offset's are kept).", "counter");
	put_labelled(b, over, "bytes", "same", s->ip_overlaps - s->ip_overlap_conflicts);
	put_labelled(b, over, "bytes", "different", s->ip_overlap_conflicts);
	put_number(b, "httpeek_ip_fragments_tiny_total",
		   "First fragments too short for a TCP header (RFC 1858).", "counter", s->ip_tiny);
	put_family(b, lost, "IP datagrams given up incomplete, by cause.", "counter");
	put_labelled(b, lost, "cause", "timeout", s->ip_incomplete_timeout);
	put_labelled(b, lost, "cause", "memory_limit", s->ip_incomplete_memory);
	put_labelled(b, lost, "cause", "limits", s->ip_incomplete_limits);
	put_labelled(b, lost, "cause", "invalid", s->ip_incomplete_invalid);
	put_labelled(b, lost, "cause", "capture_end", s->ip_incomplete_end);
}

/* Packets the decoder could not look into, by kind (only the kinds seen). */
static void put_not_decoded(struct json_buf *b, const struct metrics_self *s)
{
	static const char name[] = "httpeek_packets_not_decoded_total";

	put_family(b, name, "Packets that may carry TCP but that httpeek cannot look into, by "
			    "kind.", "counter");
	for (int i = 0; i < METRICS_NOT_DECODED && s->not_decoded[i].name[0]; i++)
		put_labelled(b, name, "kind", s->not_decoded[i].name, s->not_decoded[i].packets);
}

static void put_self(struct json_buf *b, const struct metrics_self *s)
{
	const char *missed = "httpeek_messages_missed_total";
	const char *unpaired = "httpeek_unpaired_messages_total";

	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (!counters[i].live || s->live)
			put_number(b, counters[i].name, counters[i].help, "counter",
				   *(const uint64_t *)((const char *)s + counters[i].offset));
	put_family(b, missed, "HTTP messages possibly missed, by reason.", "counter");
	put_labelled(b, missed, "reason", "bytes_lost", s->gap_losses);
	if (s->live)
		put_labelled(b, missed, "reason", "ring_buffer_full", s->lost_heads);
	put_labelled(b, missed, "reason", "h2_joined_midway", s->h2.not_decoded_joined);
	put_labelled(b, missed, "reason", "h2_header_block_lost", s->h2.not_decoded_lost);
	put_labelled(b, missed, "reason", "h2_hpack_refused", s->h2.not_decoded_hpack);
	put_family(b, unpaired, "Requests without a response and responses without a request.",
		   "counter");
	put_labelled(b, unpaired, "message", "request", s->unpaired_requests);
	put_labelled(b, unpaired, "message", "response", s->unpaired_responses);
	put_not_decoded(b, s);
	if (!s->live)
		put_fragments(b, s);
	if (s->tls)
		put_tls(b, s);
}

/* The series in use per histogram, and what went past the cap. */
static void put_cap(struct json_buf *b, const struct metrics *m, const struct snapshot *s)
{
	static const char series[] = "httpeek_metrics_series";
	static const char over[] = "httpeek_metrics_overflow_total";
	int i;

	put_family(b, series, "Series per histogram, the overflow series included.", "gauge");
	for (i = 0; i < METRICS_HISTOGRAMS; i++)
		put_labelled(b, series, "metric", m->hist[i].name, s->n[i]);
	put_family(b, over, "Observations counted in the overflow series (past the series cap).",
		   "counter");
	for (i = 0; i < METRICS_HISTOGRAMS; i++)
		put_labelled(b, over, "metric", m->hist[i].name, s->overflowed[i]);
	put_number(b, "httpeek_metrics_series_limit", "Series allowed per histogram (the cap).",
		   "gauge", m->opt.max_series);
}

int metrics_render(struct metrics *m, struct json_buf *b)
{
	struct snapshot s = { 0 };
	int err = snapshot_take(m, &s);

	if (!err) {
		for (int i = 0; i < METRICS_HISTOGRAMS; i++)
			put_histogram(b, &m->hist[i], s.series[i], s.n[i]);
		put_self(b, &s.self);
		put_cap(b, m, &s);
		err = b->failed ? -ENOMEM : 0;
	}
	snapshot_free(&s);
	return err;
}

int metrics_write(struct metrics *m, FILE *f)
{
	struct json_buf b;
	int err;

	json_init(&b);
	err = metrics_render(m, &b);
	if (!err && (fwrite(b.data, 1, b.len, f) != b.len || fflush(f)))
		err = -EIO;
	json_free(&b);
	return err;
}
