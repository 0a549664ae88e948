/*
 * Random HTTP/1.x conversations for the framer checks (frame_sim.h): keep-alive and
 * pipelined exchanges with every framing (Content-Length, chunked with extensions and
 * trailers, none, close-delimited), HEAD, CONNECT and Upgrade tunnels, 1xx, 204 and 304,
 * and now and then what real peers send less often: bare LF, folded and duplicate fields,
 * odd Content-Length values, bodies that look like heads.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frame_sim.h"

struct gen {
	uint64_t rng;
	uint8_t *buf;
	size_t len, cap;
	struct sim_write *w;
	size_t *off;           /* each write's offset in buf (buf moves while it grows) */
	size_t nw, max;
	bool open;             /* a write is being filled */
	bool failed;
	const char *eol;       /* line ending of the message being written */
};

/* What a response must know of its request. */
struct req {
	bool head, connect, upgrade;
};

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static uint32_t below(struct gen *g, uint32_t n)
{
	return n ? (uint32_t)(rnd(g) % n) : 0;
}

/* True with probability pct percent. */
static bool chance(struct gen *g, uint32_t pct)
{
	return below(g, 100) < pct;
}

static void add(struct gen *g, const void *p, size_t n)
{
	if (g->failed)
		return;
	if (g->len + n > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		uint8_t *b;

		while (cap < g->len + n)
			cap *= 2;
		b = realloc(g->buf, cap);
		if (!b) {
			g->failed = true;
			return;
		}
		g->buf = b;
		g->cap = cap;
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

static void vtext(struct gen *g, const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n > 0)
		add(g, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void text(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text(struct gen *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtext(g, fmt, ap);
	va_end(ap);
}

/* A header line (or the start line) with the message's line ending. */
static void line(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(struct gen *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtext(g, fmt, ap);
	va_end(ap);
	text(g, "%s", g->eol);
}

static void begin(struct gen *g, int side)
{
	if (g->nw >= g->max) {
		g->failed = true;
		return;
	}
	g->w[g->nw] = (struct sim_write){ .side = side };
	g->off[g->nw] = g->len;
	g->open = true;
}

static void end(struct gen *g)
{
	if (!g->open || g->failed)
		return;
	g->w[g->nw].len = g->len - g->off[g->nw];
	if (g->w[g->nw].len)
		g->nw++;
	g->open = false;
}

/* Body bytes: text, binary, or something that looks like the next head. */
static void body(struct gen *g, size_t n)
{
	static const char fake[] = "GET /SPOOFED HTTP/1.1\r\nHost: x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
	size_t i = 0;
	int kind = (int)below(g, 4);

	if (kind == 0 && n) {
		size_t k = n < sizeof(fake) - 1 ? n : sizeof(fake) - 1;

		add(g, fake, k);
		i = k;
	}
	for (; i < n; i++) {
		uint8_t c = kind == 1 ? (uint8_t)rnd(g) : (uint8_t)('a' + below(g, 26));

		if (kind != 1 && below(g, 40) == 0)
			c = '\n';
		add(g, &c, 1);
	}
}

static size_t body_size(struct gen *g)
{
	switch (below(g, 6)) {
	case 0:
		return 0;
	case 1:
		return 1 + below(g, 3);
	case 2:
		return 1 + below(g, 100);
	case 3:
		return 1300 + below(g, 300);
	case 4:
		return 2000 + below(g, 8000);
	default:
		return 1 + below(g, 1500);
	}
}

/* How the body of a message is framed. */
enum framing { FR_NONE, FR_LENGTH, FR_CHUNKED, FR_CLOSE };

static void chunked_body(struct gen *g)
{
	uint32_t chunks = below(g, 6);

	for (uint32_t i = 0; i < chunks; i++) {
		size_t n = 1 + body_size(g);

		text(g, chance(g, 50) ? "%zx" : "%zX", n);
		if (chance(g, 10))
			text(g, ";ext=%u", below(g, 100));
		if (chance(g, 5))
			text(g, " ");
		text(g, "%s", chance(g, 5) ? "\n" : "\r\n");
		body(g, n);
		text(g, "%s", chance(g, 5) ? "\n" : "\r\n");
	}
	text(g, "0%s", chance(g, 5) ? "\n" : "\r\n");
	if (chance(g, 15))
		text(g, "X-Trailer: %u\r\n", below(g, 1000));
	text(g, "\r\n");
}

static void length_field(struct gen *g, size_t n)
{
	switch (below(g, 40)) {
	case 0:
		line(g, "content-length:%zu", n);
		break;
	case 1:
		line(g, "CONTENT-LENGTH:   %zu  ", n);
		break;
	case 2:
		line(g, "Content-Length: %zu, %zu", n, n);  /* valid for user space */
		break;
	case 3:
		line(g, "Content-Length: %zu", n);
		line(g, "Content-Length: %zu", n);
		break;
	case 4:
		line(g, "Content-Length: %zu", n);
		line(g, " ");                        /* a fold after it */
		break;
	default:
		line(g, "Content-Length: %zu", n);
		break;
	}
}

static void chunked_field(struct gen *g)
{
	switch (below(g, 30)) {
	case 0:
		line(g, "transfer-encoding: Chunked");
		break;
	case 1:
		line(g, "Transfer-Encoding: gzip, chunked");
		break;
	case 2:
		line(g, "Transfer-Encoding:chunked ");
		break;
	default:
		line(g, "Transfer-Encoding: chunked");
		break;
	}
}

static void some_fields(struct gen *g)
{
	uint32_t n = below(g, 5);

	for (uint32_t i = 0; i < n; i++) {
		switch (below(g, 12)) {
		case 0:
			line(g, "Cookie: id=%0*u", (int)(20 + below(g, 400)), below(g, 10));
			break;
		case 1:
			line(g, "Content-Type: text/plain");
			break;
		case 2:
			line(g, "Connection: keep-alive");
			break;
		case 3:
			line(g, "X-Folded: a");
			line(g, "\tb");
			break;
		case 4:
			line(g, "Content-Lengthy: 12");
			break;
		case 5:
			line(g, "Transfer-Encoded: chunked");
			break;
		case 6:
			line(g, "Cache-Control: no-cache");
			break;
		default:
			line(g, "X-%u: %u", below(g, 100), below(g, 100000));
			break;
		}
	}
}

/* Framing fields and body. */
static void framed_body(struct gen *g, enum framing fr, bool send_body)
{
	size_t n = body_size(g);

	if (fr == FR_LENGTH)
		length_field(g, n);
	else if (fr == FR_CHUNKED)
		chunked_field(g);
	if (chance(g, 2))
		line(g, "Content-Length: banana");
	some_fields(g);
	text(g, "%s", g->eol);
	if (!send_body)
		return;
	if (fr == FR_LENGTH)
		body(g, n);
	else if (fr == FR_CHUNKED)
		chunked_body(g);
	else if (fr == FR_CLOSE)
		body(g, n);
}

static void pick_eol(struct gen *g)
{
	g->eol = chance(g, 4) ? "\n" : "\r\n";
}

static struct req request(struct gen *g, int i)
{
	static const char *const methods[] = { "GET", "GET", "GET", "GET", "HEAD", "HEAD", "POST",
					       "POST", "PUT", "DELETE", "OPTIONS", "PATCH",
					       "PROPFIND", "CONNECT", "get" };
	const char *m = methods[below(g, sizeof(methods) / sizeof(methods[0]))];
	struct req r = { .head = !strcmp(m, "HEAD"), .connect = !strcmp(m, "CONNECT") };
	enum framing fr = (enum framing)below(g, 3);

	pick_eol(g);
	if (chance(g, 3))
		text(g, "\r\n");
	if (r.connect)
		line(g, "CONNECT h%d.example:443 HTTP/1.1", i);
	else
		line(g, "%s /p%d%s HTTP/1.%d", m, i, chance(g, 20) ? "?q=a%20b&x=1" : "",
		     chance(g, 90));
	line(g, "Host: example");
	if (chance(g, 3)) {
		r.upgrade = true;
		line(g, "Upgrade: websocket");
	}
	framed_body(g, r.connect ? FR_NONE : fr, true);
	return r;
}

static const char *reason(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 404: return "Not Found";
	default: return "Whatever";
	}
}

static void status_line(struct gen *g, int code)
{
	switch (below(g, 20)) {
	case 0:
		line(g, "HTTP/1.1 %d", code);
		break;
	case 1:
		line(g, "HTTP/1.0 %d %s", code, reason(code));
		break;
	case 2:
		line(g, "http/1.1 %d  %s\t!", code, reason(code));
		break;
	default:
		line(g, "HTTP/1.1 %d %s", code, reason(code));
		break;
	}
}

/* The response to r; returns false when the connection cannot go on after it. */
static bool response(struct gen *g, const struct req *r, bool last)
{
	static const int codes[] = { 200, 200, 200, 201, 204, 206, 301, 302, 304, 400, 404, 405,
				     500 };
	int code = codes[below(g, sizeof(codes) / sizeof(codes[0]))];
	enum framing fr = (enum framing)below(g, last ? 4 : 3);

	pick_eol(g);
	if (chance(g, 10)) {
		status_line(g, 100 + 2 * (int)below(g, 2));
		some_fields(g);
		text(g, "%s", g->eol);
	}
	if (r->upgrade && chance(g, 60))
		code = 101;
	if (r->connect && chance(g, 70))
		code = 200;
	status_line(g, code);
	if (code == 101 || (r->connect && code / 100 == 2)) {
		some_fields(g);
		text(g, "%s", g->eol);
		return false;
	}
	framed_body(g, fr, !r->head && code != 204 && code != 304);
	return fr != FR_CLOSE || r->head || code == 204 || code == 304;
}

/* Bytes of a tunnel in both directions. */
static void tunnel(struct gen *g)
{
	for (int i = 0; i < 3; i++) {
		begin(g, i & 1);
		body(g, 1 + below(g, 3000));
		end(g);
	}
}

static void conversation(struct gen *g)
{
	uint32_t n = 1 + below(g, 8);
	bool pipelined = chance(g, 35), going = true;
	struct req reqs[8];

	if (chance(g, 2)) {
		begin(g, 1);
		text(g, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n");
		end(g);
	}
	for (uint32_t i = 0; i < n && going; i++) {
		if (!pipelined || i == 0 || chance(g, 30)) {
			end(g);
			begin(g, 0);
		}
		reqs[i] = request(g, (int)i);
		if (reqs[i].connect || reqs[i].upgrade || !pipelined) {
			end(g);
			begin(g, 1);
			going = response(g, &reqs[i], i + 1 == n);
			end(g);
			if (!going && (reqs[i].connect || reqs[i].upgrade))
				tunnel(g);
			if (pipelined)
				n = i + 1;
		}
	}
	end(g);
	if (!pipelined)
		return;
	begin(g, 1);
	for (uint32_t i = 0; i < n && going; i++) {
		if (reqs[i].connect || reqs[i].upgrade)
			continue;
		if (chance(g, 30)) {
			end(g);
			begin(g, 1);
		}
		going = response(g, &reqs[i], i + 1 == n);
	}
	end(g);
}

size_t sim_conversation(uint64_t seed, struct sim_write *w, size_t max, uint8_t **buf)
{
	struct gen g = { .rng = seed * 0x9e3779b97f4a7c15ull | 1, .w = w, .max = max,
			 .eol = "\r\n" };

	g.off = calloc(max ? max : 1, sizeof(*g.off));
	if (!g.off)
		return 0;
	conversation(&g);
	end(&g);
	for (size_t i = 0; i < g.nw; i++)
		w[i].bytes = g.buf + g.off[i];
	free(g.off);
	*buf = g.buf;
	return g.failed ? 0 : g.nw;
}
