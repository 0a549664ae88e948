/* httpeek: options -> set-up -> run -> summary -> clean-up. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "capture/capture.h"
#include "output/event.h"
#include "output/export.h"
#include "live/live.h"
#include "metrics/out.h"
#include "options.h"
#include "output/outfile.h"
#include "pipeline/pipeline.h"

#define OFFLINE_TICK_PACKETS 4096u
#define PROGRESS_CHECK_PACKETS 256u
#define PROGRESS_EVERY_NS 250000000ull
#define LIVE_POLL_MS 100
#define MIB (1024.0 * 1024.0)

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = 1;
}

/* SIGINT and SIGTERM stop httpeek; a closed pipe is an error of the write (EPIPE). */
static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

_Static_assert(METRICS_NOT_DECODED == PIPELINE_UNDECODED_KINDS + 1, "a slot for \"other kinds\"");

/* The kinds of packets not decoded, named as the summary names them, the rest as others. */
static void publish_not_decoded(struct metrics_self *s, const struct pipeline_stats *ps)
{
	const struct pipeline_undecoded *u = ps->undecoded_kinds;
	uint64_t other = ps->undecoded;
	int i;

	for (i = 0; i < PIPELINE_UNDECODED_KINDS && u[i].kind; i++) {
		pipeline_undecoded_name(u[i].kind, s->not_decoded[i].name,
					sizeof(s->not_decoded[i].name));
		s->not_decoded[i].packets = u[i].packets;
		other -= u[i].packets;
	}
	if (other) {
		snprintf(s->not_decoded[i].name, sizeof(s->not_decoded[i].name), "other kinds");
		s->not_decoded[i].packets = other;
	}
}

static void publish_fragments(struct metrics_self *s, const struct defrag_stats *ds)
{
	s->ip_fragments = ds->fragments;
	s->ip_reassembled = ds->reassembled;
	s->ip_overlaps = ds->overlaps;
	s->ip_overlap_conflicts = ds->overlap_conflicts;
	s->ip_tiny = ds->tiny;
	s->ip_incomplete_timeout = ds->incomplete[DEFRAG_TIMEOUT];
	s->ip_incomplete_memory = ds->incomplete[DEFRAG_MEMORY];
	s->ip_incomplete_limits = ds->incomplete[DEFRAG_TOO_MANY];
	s->ip_incomplete_invalid = ds->incomplete[DEFRAG_INVALID];
	s->ip_incomplete_end = ds->incomplete[DEFRAG_END];
}

/* Copies the counters of every stage into the metrics' own counters. */
static void publish_metrics(struct metrics *m, struct pipeline *pipe, struct event_writer *w,
			    struct live *live)
{
	struct metrics_self s = { .live = live != NULL };
	struct pipeline_stats ps;
	struct http_stats hs;
	struct live_stats ls;

	if (!m)
		return;
	pipeline_stats(pipe, &ps, NULL, &hs);
	s.packets = ps.packets;
	s.messages = hs.messages;
	s.events = event_writer_stats(w)->events;
	s.parse_failures = hs.parse_failures;
	s.gap_losses = hs.gap_losses;
	s.unpaired_requests = ps.unpaired_requests;
	s.unpaired_responses = ps.unpaired_responses;
	publish_not_decoded(&s, &ps);
	publish_fragments(&s, &ps.defrag);
	s.h2 = ps.h2;
	if (live) {
		live_get_stats(live, &ls);
		s.h2.not_decoded_joined += ls.h2_joined_blocks;
		s.h2.blocks += ls.h2_joined_blocks;
		s.records = ls.records;
		s.kernel_drops = ls.kernel_drops;
		s.lost_heads = ls.lost_heads;
		s.tls = ls.tls;
		s.tls_libraries = ls.tls_libraries;
		s.tls_go_binaries = ls.tls_go_binaries;
		memcpy(s.tls_skipped, ls.tls_skipped, sizeof(s.tls_skipped));
		s.tls_mappings_lost = ls.tls_mappings_lost;
	}
	metrics_set_self(m, &s);
}

struct offline_feed {
	struct pipeline *pipe;
	struct capture *cap;
	struct event_writer *w;
	struct metrics *metrics;
	uint64_t packets;
	bool progress;             /* stderr is a terminal */
	uint64_t file_size;        /* 0 when unknown (a pipe) */
	uint64_t start_ns, shown_ns;
};

/* The progress line: bytes read (and of how many), messages, read rate; redrawn in place. */
static void show_progress(struct offline_feed *f, uint64_t now)
{
	struct http_stats hs;
	double read = (double)capture_get_stats(f->cap)->bytes_read;
	double secs = (double)(now - f->start_ns) / 1e9;

	pipeline_stats(f->pipe, NULL, NULL, &hs);
	fprintf(stderr, "\rhttpeek: %.1f MiB", read / MIB);
	if (f->file_size)
		fprintf(stderr, " of %.1f MiB (%.0f%%)", (double)f->file_size / MIB,
			100.0 * read / (double)f->file_size);
	fprintf(stderr, ", %llu messages, %.1f MiB/s\033[K", (unsigned long long)hs.messages,
		secs > 0 ? read / MIB / secs : 0.0);
	fflush(stderr);
	f->shown_ns = now;
}

static void feed_offline(void *ctx, const struct packet *pkt)
{
	struct offline_feed *f = ctx;
	uint64_t now;

	pipeline_packet(f->pipe, pkt);
	if (++f->packets % OFFLINE_TICK_PACKETS == 0) {
		pipeline_tick(f->pipe, pkt->ts_ns);
		publish_metrics(f->metrics, f->pipe, f->w, NULL);
	}
	if (f->progress && f->packets % PROGRESS_CHECK_PACKETS == 0) {
		now = mono_ns();
		if (now - f->shown_ns >= PROGRESS_EVERY_NS)
			show_progress(f, now);
	}
}

/* Reads the capture to its end; returns 0, or -EIO when it could not be read whole. */
static int run_offline(struct capture *cap, struct pipeline *pipe, const char *path,
		       struct event_writer *w, struct metrics *m)
{
	struct offline_feed feed = { .pipe = pipe, .cap = cap, .w = w, .metrics = m,
				     .progress = isatty(2) };
	struct stat st;
	int err;

	if (strcmp(path, "-") && !stat(path, &st) && S_ISREG(st.st_mode))
		feed.file_size = (uint64_t)st.st_size;
	feed.start_ns = feed.shown_ns = mono_ns();
	err = capture_run(cap, feed_offline, &feed, &stop_requested);
	if (feed.progress && feed.shown_ns != feed.start_ns)
		fputs("\r\033[K", stderr);
	return err;
}

static void feed_live(void *ctx, const struct packet *pkt)
{
	pipeline_packet(ctx, pkt);
}

static uint64_t events_written(const struct event_writer *w)
{
	const struct event_stats *st = event_writer_stats(w);

	return st->events - st->not_written;
}

/* ", N not written" after the events written, when some were not; else "". */
static const char *not_written_text(const struct event_writer *w, char *buf, size_t size)
{
	uint64_t n = event_writer_stats(w)->not_written;

	if (!n)
		return "";
	snprintf(buf, size, " (%llu not written)", (unsigned long long)n);
	return buf;
}

/* --stats: one line of counters so far. */
static void print_live_stats(struct pipeline *pipe, struct event_writer *w, struct live *live)
{
	char text[48];
	struct pipeline_stats ps;
	struct http_stats hs;
	struct live_stats ls;

	pipeline_stats(pipe, &ps, NULL, &hs);
	live_get_stats(live, &ls);
	fprintf(stderr,
		"httpeek: stats: %llu records, %llu packets, %llu messages, %llu events%s, "
		"%llu filtered, %llu kernel drops, %llu owner timeouts, messages missed: %llu in "
		"dropped copies, %llu where bytes were lost\n",
		(unsigned long long)ls.records, (unsigned long long)ps.packets,
		(unsigned long long)hs.messages, (unsigned long long)events_written(w),
		not_written_text(w, text, sizeof(text)),
		(unsigned long long)ps.filtered, (unsigned long long)ls.kernel_drops,
		(unsigned long long)ls.owner_timeouts, (unsigned long long)ls.lost_heads,
		(unsigned long long)hs.gap_losses);
}

/* Traces until SIGINT/SIGTERM, then drains what the kernel captured. */
static int run_live(struct live *live, struct pipeline *pipe, struct event_writer *w,
		    uint64_t stats_ns, struct metrics *m)
{
	uint64_t last_tick = wall_ns(), last_stats = mono_ns();
	int n;

	while (!stop_requested) {
		n = live_poll(live, LIVE_POLL_MS, feed_live, pipe);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "httpeek: failed to read ring buffer: %s\n", strerror(-n));
			return n;
		}
		if (n > 0)
			event_writer_flush(w);  /* a pipe reader sees events as they come */
		if (wall_ns() - last_tick > 1000000000ull) {
			last_tick = wall_ns();
			pipeline_tick(pipe, last_tick);
			publish_metrics(m, pipe, w, live);
		}
		if (stats_ns && mono_ns() - last_stats >= stats_ns) {
			last_stats = mono_ns();
			event_writer_flush(w);
			print_live_stats(pipe, w, live);
		}
	}
	live_detach(live);
	while (live_poll(live, 0, feed_live, pipe) > 0)
		;
	live_flush(live, feed_live, pipe);
	if (stats_ns) {  /* the last one counts what the summary counts */
		event_writer_flush(w);
		print_live_stats(pipe, w, live);
	}
	return 0;
}

/* Live TLS: the library copies read and those not, by cause; what was neither HTTP/1.x nor 2. */
static void print_tls(const struct live_stats *ls)
{
	const char *sep = " (";
	uint64_t skipped = 0;

	for (int i = 0; i < LIVE_TLS_SKIPS; i++)
		skipped += ls->tls_skipped[i];
	fprintf(stderr, "httpeek: tls: read from %llu copies of libssl.so.3 and %llu Go binaries "
			"(-v names them), %llu files not read",
		(unsigned long long)ls->tls_libraries, (unsigned long long)ls->tls_go_binaries,
		(unsigned long long)skipped);
	for (int i = 0; i < LIVE_TLS_SKIPS; i++) {
		if (!ls->tls_skipped[i])
			continue;
		fprintf(stderr, "%s%llu %s", sep, (unsigned long long)ls->tls_skipped[i],
			live_tls_skip_text(i));
		sep = ", ";
	}
	fprintf(stderr, "%s, %llu mapping reports lost (every process's maps read again); %llu "
			"connections were neither HTTP/1.x nor HTTP/2; %llu library calls were "
			"skipped (connection unknown, or no memory to follow the call)\n",
		skipped ? ")" : "", (unsigned long long)ls->tls_mappings_lost,
		(unsigned long long)ls->tls_not_http, (unsigned long long)ls->tls_no_socket);
}

/*
 * Live: what may be missing and why. Gaps are normal live (body bytes are not copied); what
 * counts is a head that never arrived.
 */
static void print_missed(const struct live_stats *ls, const struct http_stats *hs,
			 const struct h2_stats *h2)
{
	if (!ls->lost_heads && !ls->kernel_drops && !hs->gap_losses && !h2_not_decoded(h2)) {
		fprintf(stderr, "httpeek: no message missed: every head the kernel found was "
				"delivered\n");
	} else {
		fprintf(stderr,
			"httpeek: messages missed: %llu in copies the ring buffer had no room for "
			"(%llu copies dropped); %llu times a head was due where bytes were lost, "
			"so the messages until the next known message start are missing; %llu "
			"HTTP/2 header blocks not decoded (%llu on connections older than httpeek, "
			"%llu after a lost header block, %llu refused by the HPACK decoder)\n",
			(unsigned long long)ls->lost_heads, (unsigned long long)ls->kernel_drops,
			(unsigned long long)hs->gap_losses, (unsigned long long)h2_not_decoded(h2),
			(unsigned long long)h2->not_decoded_joined,
			(unsigned long long)h2->not_decoded_lost,
			(unsigned long long)h2->not_decoded_hpack);
	}
	if (ls->tls)
		print_tls(ls);
	if (ls->joined || ls->whole_records)
		fprintf(stderr,
			"httpeek: %llu connections were already open and are followed from their "
			"next message; %llu copies were made whole (traffic the kernel could not "
			"frame; nothing lost)\n",
			(unsigned long long)ls->joined, (unsigned long long)ls->whole_records);
}

/* "1 packet", "2 packets": n and the noun with an s when n is not 1. */
static void print_count(const char *sep, uint64_t n, const char *noun)
{
	fprintf(stderr, "%s %llu %s%s", sep, (unsigned long long)n, noun, n == 1 ? "" : "s");
}

/* Why incomplete IP datagrams were given up, as the summary names them. */
static const char *const incomplete_cause[DEFRAG_CAUSES] = {
	[DEFRAG_TIMEOUT] = "timed out",
	[DEFRAG_MEMORY] = "given up at --memory-limit",
	[DEFRAG_TOO_MANY] = "past the limits of datagrams or fragments held",
	[DEFRAG_INVALID] = "invalid (past 65535 bytes, or fragments disagreeing on the end)",
	[DEFRAG_END] = "at the end of the capture",
};

/* ", N IP fragments of M incomplete datagrams (K timed out, ...)" when there were some. */
static void print_incomplete(const char *sep, const struct defrag_stats *ds)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < DEFRAG_CAUSES; i++)
		n += ds->incomplete[i];
	if (!n)
		return;
	print_count(sep, ds->incomplete_fragments, "IP fragment");
	fputs(" of", stderr);
	print_count("", n, "incomplete datagram");
	for (i = 0, sep = " ("; i < DEFRAG_CAUSES; i++) {
		if (!ds->incomplete[i])
			continue;
		fprintf(stderr, "%s%llu %s", sep, (unsigned long long)ds->incomplete[i],
			incomplete_cause[i]);
		sep = ", ";
	}
	fputc(')', stderr);
}

/*
 * What was not looked into, one line: packets of each kind the decoder could not open, IP
 * fragments never reassembled. Nothing when there was none.
 */
static void print_undecoded(const struct pipeline_stats *ps)
{
	const struct pipeline_undecoded *u = ps->undecoded_kinds;
	const struct defrag_stats *ds = &ps->defrag;
	uint64_t other = ps->undecoded;
	const char *sep = "";
	char name[PIPELINE_KIND_NAME];

	if (!ps->undecoded && !ps->fragments && !ds->incomplete_fragments)
		return;
	fputs("httpeek: not decoded:", stderr);
	for (int i = 0; i < PIPELINE_UNDECODED_KINDS && u[i].kind; i++, sep = ",") {
		pipeline_undecoded_name(u[i].kind, name, sizeof(name));
		print_count(sep, u[i].packets, "packet");
		fprintf(stderr, " of %s", name);
		other -= u[i].packets;
	}
	if (other) {
		print_count(sep, other, "packet");
		fputs(" of other kinds", stderr);
		sep = ",";
	}
	if (ps->fragments) {
		print_count(sep, ps->fragments, "IP fragment");
		fputs(" (not reassembled)", stderr);
		sep = ",";
	}
	if (ds->incomplete_fragments) {
		print_incomplete(sep, ds);
	}
	fputc('\n', stderr);
}

/* IP fragments reassembled, and the evasions among them; nothing without fragments. */
static void print_fragments(const struct defrag_stats *ds)
{
	if (!ds->fragments)
		return;
	fprintf(stderr, "httpeek: IP fragments: %llu read,", (unsigned long long)ds->fragments);
	print_count("", ds->reassembled, "datagram");
	fputs(" reassembled;", stderr);
	print_count("", ds->overlaps, "overlapping fragment");
	fprintf(stderr, " (%llu with different bytes: the lowest offset's kept),",
		(unsigned long long)ds->overlap_conflicts);
	print_count("", ds->tiny, "tiny first fragment");
	fputc('\n', stderr);
}

static void print_summary(struct pipeline *pipe, struct event_writer *w, struct live *live,
			  const struct options *opt, struct export *exp)
{
	const struct export_stats *xs = exp ? export_get_stats(exp) : NULL;
	char text[48];
	struct pipeline_stats ps;
	struct flow_stats fs;
	struct http_stats hs;
	struct live_stats ls = { 0 };

	pipeline_stats(pipe, &ps, &fs, &hs);
	fprintf(stderr,
		"httpeek: %llu packets, %llu bytes, %llu flows, %llu messages, %llu events%s, "
		"%llu gaps, %llu truncated heads, %llu evictions, %llu parse failures",
		(unsigned long long)ps.packets, (unsigned long long)ps.bytes,
		(unsigned long long)fs.flows_created, (unsigned long long)hs.messages,
		(unsigned long long)events_written(w), not_written_text(w, text, sizeof(text)),
		(unsigned long long)fs.gaps, (unsigned long long)hs.truncated_heads,
		(unsigned long long)(fs.flows_evicted + fs.flows_expired + fs.flows_shed),
		(unsigned long long)hs.parse_failures);
	if (fs.flows_shed)
		fprintf(stderr, " (%llu flows ended at --memory-limit, %llu of them came back)",
			(unsigned long long)fs.flows_shed, (unsigned long long)fs.flows_resumed);
	if (opt->filter.n)
		fprintf(stderr, ", %llu filtered out", (unsigned long long)ps.filtered);
	if (exp)
		fprintf(stderr, ", %llu packets exported", (unsigned long long)xs->packets);
	if (exp && xs->not_written)
		fprintf(stderr, " (%llu not written)", (unsigned long long)xs->not_written);
	if (live) {
		live_get_stats(live, &ls);
		ps.h2.not_decoded_joined += ls.h2_joined_blocks;  /* framed, never copied */
		ps.h2.blocks += ls.h2_joined_blocks;
		fprintf(stderr, ", %llu kernel drops, %llu unknown owners, %llu ring-buffer records",
			(unsigned long long)ls.kernel_drops, (unsigned long long)ps.unknown_owner,
			(unsigned long long)ls.records);
	}
	fputc('\n', stderr);
	print_undecoded(&ps);
	print_fragments(&ps.defrag);
	h2_print_summary(stderr, &ps.h2);
	if (opt->verbose)
		fprintf(stderr, "httpeek: head parse cache: %llu hits, %llu misses\n",
			(unsigned long long)hs.cache_hits, (unsigned long long)hs.cache_misses);
	if (live)
		print_missed(&ls, &hs, &ps.h2);
}

/* One output: where it goes (a path, or "standard output") and what it carries. */
struct output {
	const char *name;
	const char *what;          /* "events" or "packets" */
	int fd;                    /* -1: not opened, or handed to its writer */
};

struct outputs {
	struct output events;      /* -O */
	struct output packets;     /* -w */
};

/*
 * The first failed write of an output, told at once; later ones are counted. When the reader
 * of the events went away (a closed pipe: httpeek -r x | head), httpeek stops as on SIGTERM.
 */
static void output_failed(void *ctx, int err)
{
	const struct output *o = ctx;
	bool gone = err == EPIPE && !strcmp(o->what, "events");

	fprintf(stderr, "httpeek: failed to write %s to %s: %s (%s; the %s not written are "
			"counted in the summary)\n",
		o->what, o->name, strerror(err), gone ? "its reader is gone: stopping"
						      : "tracing goes on", o->what);
	if (gone)
		stop_requested = 1;
}

/* -O and -w opened before set-up (live_open drops the privileges that may need), not emptied. */
static int open_outputs(const struct options *opt, struct outputs *o)
{
	o->events = (struct output){ "standard output", "events", -1 };
	o->packets = (struct output){ opt->write_path, "packets", -1 };
	if (opt->output_path) {
		o->events.name = opt->output_path;
		o->events.fd = outfile_open(opt->output_path);
		if (o->events.fd < 0)
			return o->events.fd;
	}
	if (opt->write_path) {
		o->packets.fd = outfile_open(opt->write_path);
		if (o->packets.fd < 0)
			return o->packets.fd;
	}
	return 0;
}

/* Set-up succeeded: empties the output files and puts writers on them. */
static int start_outputs(struct options *opt, struct outputs *o, FILE **out, struct export **exp)
{
	struct export_options eo = { .redact = opt->events.redact,
				     .write_failed = output_failed, .write_failed_ctx = &o->packets };

	if ((o->events.fd >= 0 && outfile_truncate(o->events.fd, o->events.name)) ||
	    (o->packets.fd >= 0 && outfile_truncate(o->packets.fd, o->packets.name)))
		return -1;
	if (o->events.fd >= 0 && (*out = fdopen(o->events.fd, "w")))
		o->events.fd = -1;
	if (o->packets.fd >= 0 && (*exp = export_new(o->packets.fd, &eo)))
		o->packets.fd = -1;
	if (o->events.fd >= 0 || o->packets.fd >= 0) {
		fprintf(stderr, "httpeek: failed to set up: out of memory\n");
		return -ENOMEM;
	}
	opt->events.write_failed = output_failed;
	opt->events.write_failed_ctx = &o->events;
	return 0;
}

/* Opens the packet source: a capture, or the live programs. */
static int open_source(struct options *opt, struct capture **cap, struct live **live)
{
	if (opt->read_path)
		return capture_open(cap, opt->read_path, opt->pcap_filter);
	if (live_open(live, &opt->live))
		return -1;
	opt->events.iface_name = live_iface_name;
	opt->events.iface_ctx = *live;
	opt->pipeline.flow.in_order_source = true;
	opt->pipeline.defrag.max_datagrams = 0;  /* the kernel hands over whole datagrams */
	opt->pipeline.http.resync_at_marks = true;
	opt->pipeline.http.opaque_tunnels = true;
	opt->pipeline.owner_lookup = live_owner_lookup;
	opt->pipeline.owner_ctx = *live;
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct outputs outs = { .events.fd = -1, .packets.fd = -1 };
	struct event_writer *writer = NULL;
	struct pipeline *pipe = NULL;
	struct live *live = NULL;
	struct capture *cap = NULL;
	struct export *exp = NULL;
	struct metrics_out mo = { 0 };
	FILE *out = stdout;
	int err, ret = 1;

	err = options_parse(&opt, argc, argv);
	if (err)
		return err > 0 ? 0 : 1;
	install_signals();
	if (open_outputs(&opt, &outs) || metrics_out_open(&mo, &opt.metrics) ||
	    open_source(&opt, &cap, &live) || start_outputs(&opt, &outs, &out, &exp))
		goto cleanup;
	if (mo.srv && metrics_server_start(mo.srv))
		goto cleanup;
	opt.pipeline.filter = &opt.filter;
	opt.pipeline.exp = exp;
	opt.pipeline.metrics = mo.m;
	writer = event_writer_new(out, &opt.events);
	pipe = writer ? pipeline_new(&opt.pipeline, writer) : NULL;
	if (!pipe) {
		fprintf(stderr, "httpeek: failed to set up: out of memory\n");
		goto cleanup;
	}

	err = live ? run_live(live, pipe, writer, opt.stats_interval_ns, mo.m)
		   : run_offline(cap, pipe, opt.read_path, writer, mo.m);

	pipeline_finish(pipe);
	event_writer_flush(writer);
	export_finish(exp);  /* failures are reported as they happen, counted in the summary */
	publish_metrics(mo.m, pipe, writer, live);
	print_summary(pipe, writer, live, &opt, exp);
	ret = err || event_writer_stats(writer)->write_errors ||
	      (exp && export_get_stats(exp)->write_errors) ? 1 : 0;
	if (metrics_out_write_file(&mo))
		ret = 1;
	if (!err && opt.read_path)
		metrics_out_serve_until(&mo, &stop_requested);
cleanup:
	pipeline_free(pipe);
	metrics_out_close(&mo);
	export_free(exp);
	if (writer)
		event_writer_free(writer);
	if (out && out != stdout)
		fclose(out);
	if (outs.events.fd >= 0)
		close(outs.events.fd);
	if (outs.packets.fd >= 0)
		close(outs.packets.fd);
	if (live)
		live_close(live);
	if (cap)
		capture_close(cap);
	return ret;
}
