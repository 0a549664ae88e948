/*
 * libFuzzer target for the kernel's framer (bpf/frame/, compiled for user space, with the
 * programs' glue in tests/unit/frame/twin.c): a connection's writes go through the pipeline
 * as whole packets and as the framer's copies; the events must be the same (segments swapped
 * and repeated when asked), unless the framer joined a direction in the middle (as it does
 * with connections older than itself). A direction the framer judged not HTTP (its first
 * line is not a start line: live leaves such a direction out on purpose) is not excused:
 * user space must judge its first bytes not HTTP too (a stream of that direction's bytes
 * alone reports no message before it resynchronises), and every message the framed view
 * reports from that direction must be one of the whole view's, but for one cut short
 * ("truncated"): a start line split over packets whose first packets were copied before the
 * kernel judged it not HTTP can reach user space cut (the kernel tells it no more; a known
 * difference, docs/LIVE.md). (The other direction may differ: responses framed without their
 * requests, or offline paired after a lost one.) The first check holds for first lines of the
 * strict grammar (strict_start()); on lines user space reads more leniently (a version or a
 * target alone, odd blanks, a bare CR) live leaves the direction out where a capture may
 * report it (docs/LIVE.md, Limits).
 * Input: [mss:1][head limit:1][reorder:3 bits, body bytes:5 bits], then writes
 * [side:1][len:2 big-endian][bytes].
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frame_sim.h"
#include "http/http.h"

#define MAX_WRITES 64

struct first_message {
	struct http_stats st;
	int clean;            /* a whole message came before any resynchronisation (not a head
			       * cut short at the end, which user space reports as it stands) */
	int seen;
};

static enum http_next on_first(void *ctx, const struct http_message *msg)
{
	struct first_message *f = ctx;

	if (!f->seen++)
		f->clean = f->st.resyncs == 0 && !msg->truncated;
	return HTTP_NEXT_DEFAULT;
}

static int tchar(int c)
{
	return c > 32 && c < 127 && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* "HTTP/d.d" at p; returns its length or 0. */
static size_t version(const char *p)
{
	return !strncmp(p, "HTTP/", 5) && isdigit((unsigned char)p[5]) && p[6] == '.' &&
	       isdigit((unsigned char)p[7]) ? 8 : 0;
}

/*
 * The side's first line (after CR and LF between messages) is a start line by the strict
 * grammar: METHOD SP TARGET SP HTTP/d.d, or HTTP/d.d SP ddd [SP reason], then CRLF or LF.
 * Lines user space takes more leniently (odd blanks, a version or a target alone, a bare
 * CR) are left out of check (a): there live leaves the direction out and a capture may not.
 */
static int strict_start(const struct sim_write *w, size_t n, int side)
{
	char line[256], *p = line;
	size_t len = 0, k;

	for (size_t i = 0; i < n && len < sizeof(line) - 1; i++)
		for (size_t j = 0; w[i].side == side && j < w[i].len && len < sizeof(line) - 1; j++)
			line[len++] = (char)w[i].bytes[j];
	line[len] = 0;
	p += strspn(p, "\r\n");
	if ((k = version(p))) {
		p += k;
		if (*p++ != ' ' || !isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]))
			return 0;
		p += 3;
		if (*p == ' ')
			while (*++p && *p != '\r' && *p != '\n' && (unsigned char)*p >= 32)
				;
	} else {
		for (k = 0; tchar(p[k]); k++)
			;
		if (!k || p[k] != ' ')
			return 0;
		p += k + 1;
		for (k = 0; (unsigned char)p[k] > 32 && p[k] != 127; k++)
			;
		if (!k || p[k] != ' ' || !version(p + k + 1))
			return 0;
		p += k + 1 + 8;
	}
	return !strncmp(p, "\r\n", 2) || *p == '\n';
}

/* User space's reading of one side's bytes: does it take its first bytes for a message? */
static int starts_as_http(const struct sim_write *w, size_t n, int side, uint32_t max_head)
{
	struct http_limits lim = { .max_head = max_head, .max_fields = 512,
				   .opaque_tunnels = true };
	struct first_message f = { 0 };
	struct http_stream *s = http_stream_new(&lim, &f.st, NULL);

	if (!s)
		return 0;
	for (size_t i = 0; i < n && !f.seen; i++)
		if (w[i].side == side)
			http_stream_data(s, w[i].bytes, w[i].len, 0, on_first, &f);
	if (!f.seen)
		http_stream_end(s, on_first, &f);
	http_stream_free(s);
	return f.seen && f.clean;
}

/* The sender's port of each side (frame_sim.c's packets). */
static const char *const side_port[2] = { "40000", "80" };

/* A message event line sent by side (its src_port). */
static int sent_by(const char *line, int side)
{
	char a[96], b[64];

	snprintf(a, sizeof(a), "\"name\":\"src_port\",\"type\":\"uint16\",\"value\":%s}",
		 side_port[side]);
	snprintf(b, sizeof(b), "\"src_port\":%s,", side_port[side]);
	return strstr(line, a) || strstr(line, b);
}

/* The message event lines (not exchanges) of a view that side sent (cut_allowed: but those
 * cut short). */
static char **message_lines(char *text, int side, int cut_allowed, size_t *n)
{
	char **out = NULL, *line, *save = NULL;

	*n = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "\"eventId\":\"2100\"") || !sent_by(line, side) ||
		    (cut_allowed && strstr(line, "\"truncated\":true")))
			continue;
		out = realloc(out, (*n + 1) * sizeof(*out));
		if (!out)
			abort();
		out[(*n)++] = line;
	}
	return out;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every message line of framed that side sent is one of whole's (as multisets). */
static int framed_within_whole(const struct sim_result *r, int side)
{
	size_t nw, nf, i = 0, j = 0;
	char *whole = strdup(r->whole), *framed = strdup(r->framed);
	char **w = message_lines(whole, side, 0, &nw), **f = message_lines(framed, side, 1, &nf);
	int ok;

	if (nw)
		qsort(w, nw, sizeof(*w), by_text);
	if (nf)
		qsort(f, nf, sizeof(*f), by_text);
	while (i < nw && j < nf) {
		int c = strcmp(w[i], f[j]);

		if (c < 0)
			i++;
		else if (c == 0)
			i++, j++;
		else
			break;
	}
	ok = j == nf;
	free(w);
	free(f);
	free(whole);
	free(framed);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_write w[MAX_WRITES];
	struct sim_options opt;
	struct sim_result r;
	size_t off = 3, n = 0;
	int rc;

	if (size < 3)
		return 0;
	opt = (struct sim_options){
		.seed = size,
		.mss = 1 + data[0] * 8u,
		.max_head = 64 + data[1] * 64u,
		.body_bytes = data[2] & 0x1f,
		.reorder = (data[2] >> 5) * 8u,
	};
	while (n < MAX_WRITES && size - off >= 3) {
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];

		off += 3;
		if (len > size - off)
			len = size - off;
		w[n++] = (struct sim_write){ data[off - 3] & 1, data + off, len };
		off += len;
	}
	rc = sim_run(w, n, &opt, &r);
	if (rc > 0 && !r.joined && !r.ignored) {
		fprintf(stderr, "whole:\n%s\nframed:\n%s\n", r.whole, r.framed);
		abort();
	}
	for (int side = 0; side < 2 && rc >= 0; side++) {
		if (!r.ignored_side[side])
			continue;
		if (strict_start(w, n, side) && starts_as_http(w, n, side, opt.max_head)) {
			fprintf(stderr, "the framer judged side %d not HTTP; user space reads a "
					"message from its first byte\n", side);
			abort();
		}
		if (rc > 0 && !r.joined && !framed_within_whole(&r, side)) {
			fprintf(stderr, "side %d, judged not HTTP, has a framed message the whole "
					"view lacks:\nwhole:\n%s\nframed:\n%s\n", side, r.whole,
				r.framed);
			abort();
		}
	}
	sim_result_free(&r);
	return 0;
}
