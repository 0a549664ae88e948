/* The metrics endpoint: listening socket, serving thread, connections and their deadlines. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "metrics/server_internal.h"

#define LISTEN_BACKLOG 64
#define POLL_MS 1000                 /* deadlines are checked at least this often */
#define ACCEPT_PAUSE_NS 100000000ull /* after EMFILE and the like, instead of spinning */
#define ACCEPTS_PER_ROUND 4          /* between two rounds of I/O: a burst evicts only so many */
#define SEND_BUFFER (128 * 1024)     /* SO_SNDBUF: bytes queued in the kernel per client */
#define STALL_NS 250000000ull        /* a client that moved no byte for this long is stalled */

/* CLOCK_MONOTONIC in ns. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Splits "HOST:PORT", "[HOST]:PORT" or ":PORT" into host ("" for any) and a checked port. */
static int split_addr(const char *text, char *host, size_t size, char *port)
{
	const char *colon = strrchr(text, ':'), *h = text, *p;
	size_t hlen;
	char *end;
	unsigned long v;

	if (!colon)
		return -EINVAL;
	hlen = (size_t)(colon - text);
	if (hlen && text[0] == '[') {
		if (text[hlen - 1] != ']' || hlen < 3)
			return -EINVAL;
		h++;
		hlen -= 2;
	} else if (memchr(text, ':', hlen) || memchr(text, '[', hlen)) {
		return -EINVAL;  /* IPv6 addresses go in brackets */
	}
	p = colon + 1;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (hlen >= size || *p < '0' || *p > '9' || *end || errno || v > 65535 || end - p > 5)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, 6, "%lu", v);
	return 0;
}

/* A listening socket on ai; its fd or -errno. */
static int listen_on(const struct addrinfo *ai)
{
	int fd, one = 1, zero = 0, err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)  /* "::" takes IPv4 too */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, LISTEN_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Resolves host (numeric or a name; "" is every address, IPv6 and IPv4) and listens. */
static int open_listener(const char *text, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	int gai, fd = -EADDRNOTAVAIL;

	gai = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (gai) {
		fprintf(stderr, "httpeek: failed to resolve --metrics address '%s': %s\n", text,
			gai_strerror(gai));
		return -EINVAL;
	}
	/* For every address, "::" first: one socket then serves both families. */
	for (int pass = 0; pass < 2 && fd < 0; pass++)
		for (ai = res; ai && fd < 0; ai = ai->ai_next)
			if (*host || (ai->ai_family == AF_INET6) == !pass)
				fd = listen_on(ai);
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "httpeek: failed to listen on %s: %s\n", text, strerror(-fd));
	return fd;
}

/* "addr:port" of the bound socket, IPv6 in brackets. */
static void name_address(struct metrics_server *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(s->address, sizeof(s->address), "[%s]:%u", host, port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(s->address, sizeof(s->address), "%s:%u", host, port);
	}
}

int metrics_server_open(struct metrics_server **out, const char *addr, struct metrics *m)
{
	struct metrics_server *s;
	char host[256], port[6];
	int fd;

	if (split_addr(addr, host, sizeof(host), port)) {
		fprintf(stderr, "httpeek: invalid --metrics '%s': expected ADDR:PORT "
				"(127.0.0.1:9464, [::1]:9464, :9464)\n", addr);
		return -EINVAL;
	}
	fd = open_listener(addr, host, port);
	if (fd < 0)
		return fd;
	s = calloc(1, sizeof(*s));
	if (!s || pipe2(s->wake, O_CLOEXEC | O_NONBLOCK)) {
		fprintf(stderr, "httpeek: failed to set up the metrics endpoint: %s\n",
			strerror(s ? errno : ENOMEM));
		free(s);
		close(fd);
		return -ENOMEM;
	}
	s->metrics = m;
	s->listen_fd = fd;
	for (int i = 0; i < METRICS_SERVER_CONNS; i++)
		s->conns[i].fd = -1;
	name_address(s);
	*out = s;
	return 0;
}

const char *metrics_server_address(const struct metrics_server *s)
{
	return s->address;
}

/*
 * Which connection ends first when a new one needs its slot: answered ones (0), then those that
 * moved no byte for STALL_NS (1), then those still sending their request (2), then answers
 * being read (3). Within a rank, the one idle the longest.
 */
static int evict_rank(const struct metrics_conn *c, uint64_t now)
{
	if (c->state == CONN_LINGER)
		return 0;
	if (now - c->active_ns >= STALL_NS)
		return 1;
	return c->state == CONN_READ ? 2 : 3;
}

/*
 * A free connection slot: an unused one, else that of a connection ended for the new one. So
 * clients that do not read, or send nothing, never keep a scraper out, and a scrape being read
 * is ended only for want of anything else.
 */
static struct metrics_conn *free_slot(struct metrics_server *s, uint64_t now)
{
	struct metrics_conn *c, *victim = NULL;
	int rank, best = 4;

	for (int i = 0; i < METRICS_SERVER_CONNS; i++) {
		c = &s->conns[i];
		if (c->fd < 0)
			return c;
		rank = evict_rank(c, now);
		if (rank < best || (rank == best && c->active_ns < victim->active_ns)) {
			victim = c;
			best = rank;
		}
	}
	metrics_conn_close(s, victim);
	return victim;
}

/* Accepts up to ACCEPTS_PER_ROUND clients, each read (and answered) at once when it can be. */
static void accept_some(struct metrics_server *s, uint64_t now)
{
	int fd, sndbuf = SEND_BUFFER;
	struct metrics_conn *c;

	for (int n = 0; n < ACCEPTS_PER_ROUND;) {
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				s->accept_after_ns = now + ACCEPT_PAUSE_NS;
			if (errno != EINTR && errno != ECONNABORTED)
				return;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		now = now_ns();
		c = free_slot(s, now);
		metrics_conn_open(c, fd, now);
		metrics_conn_io(s, c, now_ns());
		n++;
	}
}

/* Fills fds: the wake-up pipe, the listener when accepting, then each connection. */
static int poll_set(struct metrics_server *s, struct pollfd *fds, int *slot, uint64_t now)
{
	int n = 0;

	fds[n++] = (struct pollfd){ .fd = s->wake[0], .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = now >= s->accept_after_ns ? s->listen_fd : -1,
				    .events = POLLIN };
	for (int i = 0; i < METRICS_SERVER_CONNS; i++) {
		if (s->conns[i].fd < 0)
			continue;
		slot[n] = i;
		fds[n++] = (struct pollfd){
			.fd = s->conns[i].fd,
			.events = s->conns[i].state == CONN_WRITE ? POLLOUT : POLLIN,
		};
	}
	return n;
}

/*
 * Closes the connections whose time is up and lets go of a stale exposition; returns the ms
 * until the next end, at most POLL_MS.
 */
static int close_expired(struct metrics_server *s, uint64_t now)
{
	uint64_t next = now + POLL_MS * 1000000ull, ends;

	metrics_conn_release(s, now);
	for (int i = 0; i < METRICS_SERVER_CONNS; i++) {
		if (s->conns[i].fd < 0)
			continue;
		ends = metrics_conn_ends(&s->conns[i]);
		if (now >= ends)
			metrics_conn_close(s, &s->conns[i]);
		else if (ends < next)
			next = ends;
	}
	return (int)((next - now + 999999) / 1000000);
}

static void *serve(void *arg)
{
	struct metrics_server *s = arg;
	struct pollfd fds[2 + METRICS_SERVER_CONNS];
	int slot[2 + METRICS_SERVER_CONNS], n, wait_ms = POLL_MS;
	uint64_t now = now_ns();

	for (;;) {
		n = poll_set(s, fds, slot, now);
		if (poll(fds, (nfds_t)n, wait_ms) < 0 && errno != EINTR)
			break;
		now = now_ns();
		if (fds[0].revents)
			break;
		if (fds[1].revents)
			accept_some(s, now);
		/* Each its own clock: a client served now is newer than those accepted before. */
		for (int i = 2; i < n; i++)
			if (fds[i].revents && s->conns[slot[i]].fd == fds[i].fd)
				metrics_conn_io(s, &s->conns[slot[i]], now_ns());
		now = now_ns();
		wait_ms = close_expired(s, now);
	}
	return NULL;
}

int metrics_server_start(struct metrics_server *s)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&s->thread, NULL, serve, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		fprintf(stderr, "httpeek: failed to start the metrics endpoint: %s\n", strerror(err));
		return -err;
	}
	s->started = true;
	return 0;
}

void metrics_server_close(struct metrics_server *s)
{
	if (!s)
		return;
	if (s->started) {
		if (write(s->wake[1], "x", 1) < 0)
			perror("httpeek: failed to stop the metrics endpoint");
		pthread_join(s->thread, NULL);
	}
	for (int i = 0; i < METRICS_SERVER_CONNS; i++)
		if (s->conns[i].fd >= 0)
			metrics_conn_close(s, &s->conns[i]);
	metrics_conn_release(s, UINT64_MAX);
	close(s->listen_fd);
	close(s->wake[0]);
	close(s->wake[1]);
	free(s);
}
