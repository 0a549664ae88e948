/*
 * The metrics endpoint's connections: one request head, one answer, then the connection ends.
 * Each state has a deadline and a limit on the time without a byte moved (idle_ns).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "metrics/server_internal.h"

#define SEC 1000000000ull
#define READ_NS (5 * SEC)        /* for the whole request head (slow senders) */
#define WRITE_NS (30 * SEC)      /* for the whole answer (slow readers) */
#define LINGER_NS (1 * SEC)      /* for the client to close after the answer */
#define REUSE_NS (1 * SEC)       /* an exposition still being sent serves this long */
#define DRAIN_BYTES 65536        /* unread input dropped before a close, at most */

/* How long a connection may go without moving a byte, per state. */
static const uint64_t idle_ns[] = {
	[CONN_READ] = 2 * SEC,
	[CONN_WRITE] = 5 * SEC,   /* the client's receive window stays shut */
	[CONN_LINGER] = LINGER_NS,
};

void metrics_conn_open(struct metrics_conn *c, int fd, uint64_t now)
{
	c->fd = fd;
	c->state = CONN_READ;
	c->active_ns = now;
	c->deadline_ns = now + READ_NS;
	c->request_len = 0;
	c->head_len = 0;
	c->body = NULL;
	c->sent = 0;
}

uint64_t metrics_conn_ends(const struct metrics_conn *c)
{
	uint64_t idle = c->active_ns + idle_ns[c->state];

	return idle < c->deadline_ns ? idle : c->deadline_ns;
}

/* Ends the connections still sending the oldest exposition (the slowest); false if none is. */
static bool drop_oldest_body(struct metrics_server *s)
{
	struct metrics_body *old = NULL;
	struct metrics_conn *c;

	for (int i = 0; i < METRICS_SERVER_CONNS; i++) {
		c = &s->conns[i];
		if (c->fd >= 0 && c->body && (!old || c->body->made_ns < old->made_ns))
			old = c->body;
	}
	for (int i = 0; i < METRICS_SERVER_CONNS && old; i++)
		if (s->conns[i].fd >= 0 && s->conns[i].body == old)
			metrics_conn_close(s, &s->conns[i]);
	return old != NULL;
}

static void body_put(struct metrics_server *s, struct metrics_body *b)
{
	if (--b->refs)
		return;
	s->bodies--;
	json_free(&b->text);
	free(b);
}

void metrics_conn_release(struct metrics_server *s, uint64_t now)
{
	struct metrics_body *b = s->latest;

	if (b && now - b->made_ns >= REUSE_NS) {
		s->latest = NULL;
		body_put(s, b);
	}
}

/*
 * The newest exposition when it is recent, else a new one; NULL for want of memory. At most
 * METRICS_SERVER_BODIES are alive: a new one first ends the readers of the oldest.
 */
static struct metrics_body *body_get(struct metrics_server *s, uint64_t now)
{
	struct metrics_body *b = s->latest;

	if (b && now - b->made_ns < REUSE_NS) {
		b->refs++;
		return b;
	}
	metrics_conn_release(s, now);
	while (s->bodies >= METRICS_SERVER_BODIES && drop_oldest_body(s))
		;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	json_init(&b->text);
	if (metrics_render(s->metrics, &b->text)) {
		json_free(&b->text);
		free(b);
		return NULL;
	}
	b->refs = 2;  /* the connection's and s->latest's */
	b->made_ns = now;
	s->latest = b;
	s->bodies++;
	return b;
}

void metrics_conn_close(struct metrics_server *s, struct metrics_conn *c)
{
	char sink[4096];

	for (int n = 0; c->state == CONN_LINGER && n < DRAIN_BYTES; n += (int)sizeof(sink))
		if (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
	if (c->body)
		body_put(s, c->body);
	c->body = NULL;
	close(c->fd);
	c->fd = -1;
}

/* An answer whose body is text, with an extra header line (or ""). */
static void answer_small(struct metrics_conn *c, const char *status, const char *extra,
			 const char *text)
{
	int n = snprintf(c->head, sizeof(c->head),
			 "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n%sConnection: close\r\n\r\n%s",
			 status, strlen(text), extra, text);

	c->head_len = n > 0 && (size_t)n < sizeof(c->head) ? (uint32_t)n : 0;
}

static void answer_metrics(struct metrics_server *s, struct metrics_conn *c, uint64_t now,
			   bool head_only)
{
	struct metrics_body *b = body_get(s, now);
	int n;

	if (!b) {
		answer_small(c, "500 Internal Server Error", "", "out of memory\n");
		return;
	}
	n = snprintf(c->head, sizeof(c->head),
		     "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n", b->text.len);
	c->head_len = (uint32_t)n;
	if (head_only)
		body_put(s, b);
	else
		c->body = b;
}

static bool equals(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/* The path of a request target: up to its query. */
static size_t path_len(const char *t, size_t n)
{
	const char *query = memchr(t, '?', n);

	return query ? (size_t)(query - t) : n;
}

/* Answers the request line: GET or HEAD of /metrics (any query), 404 for other paths. */
static void answer(struct metrics_server *s, struct metrics_conn *c, uint64_t now)
{
	const char *r = c->request, *eol = memchr(r, '\n', c->request_len), *sp, *t, *q;
	size_t n = (size_t)(eol - r);

	if (n && r[n - 1] == '\r')
		n--;
	sp = memchr(r, ' ', n);
	t = sp ? sp + 1 : NULL;
	q = t ? memchr(t, ' ', (size_t)(r + n - t)) : NULL;
	if (!q || (size_t)(r + n - q) < 8 || memcmp(q + 1, "HTTP/1.", 7))
		answer_small(c, "400 Bad Request", "", "bad request\n");
	else if (!equals(r, (size_t)(sp - r), "GET") && !equals(r, (size_t)(sp - r), "HEAD"))
		answer_small(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
			     "method not allowed\n");
	else if (!equals(t, path_len(t, (size_t)(q - t)), "/metrics"))
		answer_small(c, "404 Not Found", "", "not found: the metrics are at /metrics\n");
	else
		answer_metrics(s, c, now, r[0] == 'H');
}

static void start_answer(struct metrics_conn *c, uint64_t now)
{
	c->state = CONN_WRITE;
	c->deadline_ns = now + WRITE_NS;
	c->sent = 0;
}

static bool head_whole(const struct metrics_conn *c)
{
	return memmem(c->request, c->request_len, "\r\n\r\n", 4) ||
	       memmem(c->request, c->request_len, "\n\n", 2);
}

/* After recv() or send() returned n: true when it would block or c ended (then closed). */
static bool io_stops(struct metrics_server *s, struct metrics_conn *c, ssize_t n)
{
	if (n > 0)
		return false;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	metrics_conn_close(s, c);
	return true;
}

static void conn_read(struct metrics_server *s, struct metrics_conn *c, uint64_t now)
{
	ssize_t n = recv(c->fd, c->request + c->request_len,
			 sizeof(c->request) - c->request_len, 0);

	if (io_stops(s, c, n))
		return;
	c->active_ns = now;
	c->request_len += (uint32_t)n;
	if (head_whole(c))
		answer(s, c, now);
	else if (c->request_len == sizeof(c->request))
		answer_small(c, "431 Request Header Fields Too Large", "", "request too large\n");
	else
		return;
	start_answer(c, now);
}

/* The next bytes to send, or NULL when all were sent. */
static const char *unsent(const struct metrics_conn *c, size_t *len)
{
	size_t off;

	if (c->sent < c->head_len) {
		*len = c->head_len - c->sent;
		return c->head + c->sent;
	}
	off = c->sent - c->head_len;
	if (!c->body || off >= c->body->text.len)
		return NULL;
	*len = c->body->text.len - off;
	return c->body->text.data + off;
}

static void conn_write(struct metrics_server *s, struct metrics_conn *c, uint64_t now)
{
	const char *p;
	size_t len;
	ssize_t n;

	while ((p = unsent(c, &len))) {
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (io_stops(s, c, n))
			return;
		c->sent += (size_t)n;
		c->active_ns = now;
	}
	/* Closing now could reset the connection under the answer if the client sent more. */
	if (c->body)
		body_put(s, c->body);
	c->body = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_LINGER;
	c->active_ns = now;
	c->deadline_ns = now + LINGER_NS;
}

static void conn_linger(struct metrics_server *s, struct metrics_conn *c)
{
	char sink[4096];

	io_stops(s, c, recv(c->fd, sink, sizeof(sink), 0));  /* what it sends is dropped */
}

void metrics_conn_io(struct metrics_server *s, struct metrics_conn *c, uint64_t now)
{
	if (c->state == CONN_READ)
		conn_read(s, c, now);
	if (c->fd >= 0 && c->state == CONN_WRITE)
		conn_write(s, c, now);
	else if (c->fd >= 0 && c->state == CONN_LINGER)
		conn_linger(s, c);
}
