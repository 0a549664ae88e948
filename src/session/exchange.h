/*
 * What the session stage hands on: one HTTP message with where and when it was seen, and one
 * request/response exchange. Reporting, events and metrics read them; none owns them.
 */
#ifndef HTTPEEK_EXCHANGE_H
#define HTTPEEK_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>
#include "decode/decode.h"
#include "http/http.h"
#include "pipeline/owner.h"
#include "pipeline/packet.h"

/* Where and when one message was seen. */
struct msg_context {
	uint64_t ts_ns;
	uint8_t family;            /* 4 or 6 */
	struct endpoint src, dst;  /* sender and receiver of the message */
	enum direction dir;
	uint32_t packet_len;       /* IP length of the packet that completed the head */
	uint32_t ifindex;          /* live: its interface in the socket's netns; 0 unknown */
	uint32_t net_ns;           /* live: that netns's inode; 0 unknown */
	const struct owner *owner; /* NULL when unknown or offline */
	bool tls;                  /* live: read from TLS library calls */
};

/* One request/response exchange; either message may be NULL (never both). */
struct exchange {
	uint64_t ts_ns;                     /* response head time, else the flow's end */
	uint8_t family;
	struct endpoint client, server;
	enum direction dir;                 /* direction of the request at this end */
	const struct owner *owner;
	const struct http_message *request;
	const struct http_message *response;
	uint64_t latency_ns;                /* request head to response head; 0 if unpaired */
	uint32_t trans_depth;               /* 1 for the first request on the connection */
	bool tls;                           /* live: read from TLS library calls */
};

#endif
