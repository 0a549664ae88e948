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
	uint64_t since_ns;          /* accepted */
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
	struct metrics_body *latest;  /* the newest exposition while a connection still sends it */
	struct metrics_conn conns[METRICS_SERVER_CONNS];
};

/* Takes fd (non-blocking) into free slot c. */
void metrics_conn_open(struct metrics_conn *c, int fd, uint64_t now);

/* Reads, answers or writes as c's state wants; closes c when done or failed. */
void metrics_conn_io(struct metrics_server *s, struct metrics_conn *c, uint64_t now);

/* Closes c's socket and lets go of its body; the slot is free again. */
void metrics_conn_close(struct metrics_server *s, struct metrics_conn *c);

#endif
