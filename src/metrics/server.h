/*
 * The metrics endpoint: a small HTTP/1.1 server for GET /metrics on its own thread, so that
 * scrapes never wait for packets and packets never wait for scrapes (the two share only the
 * metrics' lock). Non-blocking sockets, bounded requests, connections and time per client.
 */
#ifndef HTTPEEK_METRICS_SERVER_H
#define HTTPEEK_METRICS_SERVER_H

#include "metrics/metrics.h"

struct metrics_server;

/*
 * Binds addr ("127.0.0.1:9464", "[::1]:9464", "localhost:9464", ":9464" for every address;
 * port 0 picks a free one) and listens; m is kept, not owned. Returns 0, or a negative errno
 * after printing a one-line error (bad address, port in use) on stderr.
 */
int metrics_server_open(struct metrics_server **out, const char *addr, struct metrics *m);

/* The bound address, "127.0.0.1:9464" or "[::]:9464"; valid until metrics_server_close(). */
const char *metrics_server_address(const struct metrics_server *s);

/*
 * Starts serving on a new thread with every signal blocked; call it after privileges are
 * dropped (a thread keeps the capabilities it was created with). Returns 0 or -errno.
 */
int metrics_server_start(struct metrics_server *s);

/* Stops the thread, closes every connection and frees s; accepts NULL. */
void metrics_server_close(struct metrics_server *s);

#endif
