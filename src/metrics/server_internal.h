/* Internals of the metrics endpoint: server.c (sockets, thread), conn.c (HTTP). */
#ifndef HTTPEEK_METRICS_SERVER_INTERNAL_H
#define HTTPEEK_METRICS_SERVER_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "output/json.h"
#include "metrics/server.h"

#define METRICS_SERVER_CONNS 16
#define METRICS_SERVER_REQUEST 8192  /* bytes of a request head */
#define METRICS_SERVER_BODIES 4      /* expositions alive at once, the newest included */

/* An exposition shared by the connections answered within a second of its rendering. */
struct metrics_body {
	unsigned refs;
	uint64_t made_ns;
	struct json_buf text;
};

enum conn_state {
	CONN_READ,    /* until the request head is whole */
	CONN_WRITE,   /* the response */
	CONN_LINGER,  /* response sent and write side shut: reading until the client closes */
};

struct metrics_conn {
	int fd;                     /* -1: slot free */
	enum conn_state state;
	uint64_t active_ns;         /* accepted, or the last byte of its request or answer moved */
	uint64_t deadline_ns;       /* closed at this time, whatever its state */
	char request[METRICS_SERVER_REQUEST];
	uint32_t request_len;
	char head[512];             /* response head, with the whole body of small answers */
	uint32_t head_len;
	struct metrics_body *body;  /* NULL: nothing after the head */
	size_t sent;                /* bytes of head and body sent */
};

struct metrics_server {
	struct metrics *metrics;
	int listen_fd;
	int wake[2];                /* a byte in wake[1] stops the thread */
	pthread_t thread;
	bool started;
	uint64_t accept_after_ns;   /* accept() failed for want of resources: pause until then */
	char address[INET6_ADDRSTRLEN + 10];
	struct metrics_body *latest;  /* the newest exposition, kept (one ref) while it may serve */
	unsigned bodies;              /* expositions alive */
	struct metrics_conn conns[METRICS_SERVER_CONNS];
};

/* Takes fd (non-blocking) into free slot c. */
void metrics_conn_open(struct metrics_conn *c, int fd, uint64_t now);

/* When c is closed unless it moves a byte before: its idle limit or its deadline. */
uint64_t metrics_conn_ends(const struct metrics_conn *c);

/* Reads, answers or writes as c's state wants; closes c when done or failed. */
void metrics_conn_io(struct metrics_server *s, struct metrics_conn *c, uint64_t now);

/* Lets go of s->latest once it is too old to serve again (now UINT64_MAX: at once). */
void metrics_conn_release(struct metrics_server *s, uint64_t now);

/*
 * Closes c's socket and lets go of its body; the slot is free again. An answered connection's
 * unread input is dropped first, so that closing sends a FIN, not a reset under the answer.
 */
void metrics_conn_close(struct metrics_server *s, struct metrics_conn *c);

#endif
