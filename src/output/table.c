/* The table: one aligned line per event for people; no wire byte reaches the terminal raw. */
#include <string.h>
#include <time.h>
#include "http2/http2.h"
#include "output/event_internal.h"

#define LIT EVENT_LIT
#define COL_DIR 7
#define COL_ENDPOINT 21
#define COL_PROCESS 22

static const char spaces[] = "                                ";

/* Pads what was appended since start to width columns, then adds one separating space. */
static void pad(struct json_buf *b, size_t start, size_t width)
{
	size_t cols = 0, i;

	if (b->failed)
		return;
	for (i = start; i < b->len; i++)
		cols += ((unsigned char)b->data[i] & 0xc0) != 0x80;
	if (cols < width)
		json_raw(b, spaces, width - cols);
	LIT(b, " ");
}

static void put_digits(struct json_buf *b, uint64_t v, int n)
{
	char text[20];
	int i;

	for (i = n - 1; i >= 0; i--) {
		text[i] = (char)('0' + v % 10);
		v /= 10;
	}
	json_raw(b, text, (size_t)n);
}

/* HH:MM:SS.uuuuuu in local time; localtime_r runs once per second of events. */
static void put_clock(struct event_writer *w, uint64_t ts_ns)
{
	int64_t sec = (int64_t)(ts_ns / 1000000000u);
	time_t t = (time_t)sec;
	struct tm tm;

	if (sec != w->clock_sec) {
		if (!localtime_r(&t, &tm))
			memset(&tm, 0, sizeof(tm));
		w->clock_text[0] = (char)('0' + tm.tm_hour / 10);
		w->clock_text[1] = (char)('0' + tm.tm_hour % 10);
		w->clock_text[2] = ':';
		w->clock_text[3] = (char)('0' + tm.tm_min / 10);
		w->clock_text[4] = (char)('0' + tm.tm_min % 10);
		w->clock_text[5] = ':';
		w->clock_text[6] = (char)('0' + tm.tm_sec / 10 % 10);
		w->clock_text[7] = (char)('0' + tm.tm_sec % 10);
		w->clock_sec = sec;
	}
	json_raw(&w->buf, w->clock_text, sizeof(w->clock_text));
	LIT(&w->buf, ".");
	put_digits(&w->buf, ts_ns / 1000u % 1000000u, 6);
	LIT(&w->buf, " ");
}

/* addr:port, IPv6 as [addr]:port. */
static void put_endpoint(struct json_buf *b, uint8_t family, const struct endpoint *e)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	bool v6 = family == 6 && memcmp(e->addr, mapped, sizeof(mapped));

	if (v6)
		LIT(b, "[");
	json_ip(b, family, e->addr);
	if (v6)
		LIT(b, "]");
	LIT(b, ":");
	json_u64(b, e->port);
}

/* Time, direction, endpoints and process: the columns every line starts with. */
static void put_columns(struct event_writer *w, uint64_t ts_ns, enum direction dir,
			uint8_t family, const struct endpoint *from, const struct endpoint *to,
			const struct owner *o)
{
	struct json_buf *b = &w->buf;
	size_t start;

	put_clock(w, ts_ns);
	start = b->len;
	json_lit(b, event_dir_name(dir));
	pad(b, start, COL_DIR);
	start = b->len;
	put_endpoint(b, family, from);
	pad(b, start, COL_ENDPOINT);
	LIT(b, "-> ");
	start = b->len;
	put_endpoint(b, family, to);
	pad(b, start, COL_ENDPOINT);
	start = b->len;
	if (o) {
		json_term_safe(b, o->comm, strnlen(o->comm, sizeof(o->comm)));
		LIT(b, "/");
		json_u64(b, o->host_pid);
	} else {
		LIT(b, "-");
	}
	pad(b, start, COL_PROCESS);
}

static void put_safe(struct json_buf *b, const struct http_str *s)
{
	json_term_safe(b, s->p, s->len);
}

/*
 * " [truncated]", " [h2 stream 3]", " [grpc-status 5]", " [via socks5 10.0.0.3:1080 host:80]"
 * after a message's text; the stream only when stream is set.
 */
static void put_marks(struct json_buf *b, const struct http_message *m, bool stream)
{
	int grpc = m->kind == HTTP_RESPONSE ? h2_grpc_status(m) : -1;

	if (m->truncated)
		LIT(b, " [truncated]");
	if (stream && m->stream_id) {
		LIT(b, " [h2 stream ");
		json_u64(b, m->stream_id);
		LIT(b, "]");
	}
	if (grpc >= 0) {
		LIT(b, " [grpc-status ");
		json_u64(b, (uint64_t)grpc);
		LIT(b, "]");
	}
	if (!m->tunnel.via.len)
		return;
	LIT(b, " [via ");
	put_safe(b, &m->tunnel.via);
	LIT(b, " ");
	put_safe(b, &m->tunnel.proxy);
	LIT(b, " ");
	put_safe(b, &m->tunnel.target);
	LIT(b, "]");
}

/* METHOD host path: the path without query, the raw target when there is none (CONNECT). */
static void put_request_text(struct event_writer *w, const struct http_message *m)
{
	struct json_buf *b = &w->buf;

	put_safe(b, &m->method);
	LIT(b, " ");
	if (!m->host.len)
		LIT(b, "-");
	else if (w->redact_host)
		LIT(b, "REDACTED");
	else
		put_safe(b, &m->host);
	LIT(b, " ");
	if (m->path.len)
		put_safe(b, &m->path);
	else if (w->redact_host && event_target_has_host(&m->target))
		LIT(b, "REDACTED");
	else
		put_safe(b, &m->target);
	put_marks(b, m, true);
}

/* "200 OK", or the bare code when the status line had no reason. */
static void put_response_text(struct json_buf *b, const struct http_message *m, bool stream)
{
	if (m->status.len)
		put_safe(b, &m->status);
	else
		json_i64(b, m->status_code);
	put_marks(b, m, stream);
}

void event_table_message(struct event_writer *w, const struct msg_context *ctx,
			 const struct http_message *msg)
{
	struct json_buf *b = &w->buf;

	put_columns(w, ctx->ts_ns, ctx->dir, ctx->family, &ctx->src, &ctx->dst, ctx->owner);
	if (msg->kind == HTTP_REQUEST) {
		LIT(b, "REQUEST  ");
		put_request_text(w, msg);
	} else {
		LIT(b, "RESPONSE ");
		put_response_text(b, msg, true);
	}
	if (ctx->tls)
		LIT(b, " [tls]");
	LIT(b, "\n");
}

/* Milliseconds with three decimals, from integer nanoseconds. */
static void put_latency(struct json_buf *b, uint64_t ns)
{
	LIT(b, " (");
	json_u64(b, ns / 1000000u);
	LIT(b, ".");
	put_digits(b, ns / 1000u % 1000u, 3);
	LIT(b, " ms)");
}

void event_table_exchange(struct event_writer *w, const struct exchange *x)
{
	struct json_buf *b = &w->buf;

	put_columns(w, x->ts_ns, x->dir, x->family, &x->client, &x->server, x->owner);
	LIT(b, "EXCHANGE ");
	if (x->request)
		put_request_text(w, x->request);
	else
		LIT(b, "(no request)");
	LIT(b, " -> ");
	if (x->response) {
		put_response_text(b, x->response, !x->request);
		if (x->request)
			put_latency(b, x->latency_ns);
	} else {
		LIT(b, "(no response)");
	}
	if (x->tls)
		LIT(b, " [tls]");
	LIT(b, "\n");
}
