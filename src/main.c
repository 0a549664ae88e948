/* httpeek: options -> set-up -> run -> summary -> clean-up. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "capture.h"
#include "event.h"
#include "live.h"
#include "options.h"
#include "pipeline.h"

#define OFFLINE_TICK_PACKETS 4096u
#define LIVE_POLL_MS 100

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct offline_feed {
	struct pipeline *pipe;
	uint64_t packets;
};

static void feed_offline(void *ctx, const struct packet *pkt)
{
	struct offline_feed *f = ctx;

	pipeline_packet(f->pipe, pkt);
	if (++f->packets % OFFLINE_TICK_PACKETS == 0)
		pipeline_tick(f->pipe, pkt->ts_ns);
}

/* Reads the capture to its end; returns 0, or -EIO when it could not be read whole. */
static int run_offline(struct capture *cap, struct pipeline *pipe)
{
	struct offline_feed feed = { .pipe = pipe };

	return capture_run(cap, feed_offline, &feed, &stop_requested);
}

static void feed_live(void *ctx, const struct packet *pkt)
{
	pipeline_packet(ctx, pkt);
}

/* Traces until SIGINT/SIGTERM, then drains what the kernel captured. */
static int run_live(struct live *live, struct pipeline *pipe)
{
	uint64_t last_tick = wall_ns();
	int n;

	while (!stop_requested) {
		n = live_poll(live, LIVE_POLL_MS, feed_live, pipe);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "httpeek: failed to read ring buffer: %s\n", strerror(-n));
			return n;
		}
		if (wall_ns() - last_tick > 1000000000ull) {
			last_tick = wall_ns();
			pipeline_tick(pipe, last_tick);
		}
	}
	live_detach(live);
	while (live_poll(live, 0, feed_live, pipe) > 0)
		;
	live_flush(live, feed_live, pipe);
	return 0;
}

static void print_summary(struct pipeline *pipe, struct event_writer *w, struct live *live)
{
	struct pipeline_stats ps;
	struct flow_stats fs;
	struct http_stats hs;
	struct live_stats ls = { 0 };

	pipeline_stats(pipe, &ps, &fs, &hs);
	fprintf(stderr,
		"httpeek: %llu packets, %llu bytes, %llu flows, %llu messages, %llu events, "
		"%llu gaps, %llu truncated heads, %llu evictions, %llu parse failures",
		(unsigned long long)ps.packets, (unsigned long long)ps.bytes,
		(unsigned long long)fs.flows_created, (unsigned long long)hs.messages,
		(unsigned long long)event_writer_stats(w)->events,
		(unsigned long long)fs.gaps, (unsigned long long)hs.truncated_heads,
		(unsigned long long)(fs.flows_evicted + fs.flows_expired),
		(unsigned long long)hs.parse_failures);
	if (live) {
		live_get_stats(live, &ls);
		fprintf(stderr, ", %llu kernel drops, %llu unknown owners",
			(unsigned long long)ls.kernel_drops, (unsigned long long)ps.unknown_owner);
	}
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	struct options opt;
	struct event_writer *writer = NULL;
	struct pipeline *pipe = NULL;
	struct live *live = NULL;
	struct capture *cap = NULL;
	FILE *out = stdout;
	int err, ret = 1;

	err = options_parse(&opt, argc, argv);
	if (err)
		return err > 0 ? 0 : 1;
	install_signals();
	if (opt.read_path) {
		if (capture_open(&cap, opt.read_path, opt.pcap_filter))
			return 1;
	} else {
		if (live_open(&live, &opt.live))
			return 1;
		opt.pipeline.flow.in_order_source = true;
		opt.pipeline.owner_lookup = live_owner_lookup;
		opt.pipeline.owner_ctx = live;
	}
	if (opt.output_path) {
		out = fopen(opt.output_path, "w");
		if (!out) {
			fprintf(stderr, "httpeek: failed to open %s: %s\n", opt.output_path,
				strerror(errno));
			goto cleanup;
		}
	}
	writer = event_writer_new(out, &opt.events);
	pipe = writer ? pipeline_new(&opt.pipeline, writer) : NULL;
	if (!pipe) {
		fprintf(stderr, "httpeek: failed to set up: out of memory\n");
		goto cleanup;
	}

	err = live ? run_live(live, pipe) : run_offline(cap, pipe);

	pipeline_finish(pipe);
	if (event_writer_flush(writer))
		fprintf(stderr, "httpeek: failed to write events: %s\n", strerror(EIO));
	print_summary(pipe, writer, live);
	ret = err || event_writer_stats(writer)->write_errors ? 1 : 0;
cleanup:
	pipeline_free(pipe);
	if (writer)
		event_writer_free(writer);
	if (out && out != stdout)
		fclose(out);
	if (live)
		live_close(live);
	if (cap)
		capture_close(cap);
	return ret;
}
