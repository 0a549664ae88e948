/* Live source: the BPF programs on the cgroup v2 tree and their ring buffer. */
#ifndef HTTPEEK_LIVE_H
#define HTTPEEK_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include "live/kernel_filter.h"
#include "live/tls/files.h"
#include "pipeline/owner.h"
#include "pipeline/packet.h"

struct live_options {
	struct kernel_filter filter;
	const char *cgroup_path;   /* NULL: the cgroup v2 root found in /proc/mounts */
	uint32_t ringbuf_bytes;    /* power of two */
	uint32_t max_head;         /* head bytes the kernel copies per message */
	uint32_t body_bytes;       /* body bytes copied after each head (default 0) */
	uint64_t owner_wait_ns;    /* how long a packet may wait for its socket's owner */
	int verbose;               /* > 0 routes libbpf's messages to stderr */
	bool tls;                  /* trace HTTPS through OpenSSL uprobes when possible */
	bool tls_exported;         /* probe only OpenSSL's exported read and write functions */
};

struct live_stats {
	uint64_t records;          /* ring-buffer records read */
	uint64_t record_bytes;     /* bytes of the packet records among them */
	uint64_t mirrored;         /* loopback packets delivered for both ends from one record */
	uint64_t kernel_drops;     /* failed ring-buffer reserves, all CPUs */
	uint64_t owner_records;
	uint64_t owner_timeouts;   /* packets released without a known owner */
	uint64_t lost_heads;       /* message starts in packet copies the ring buffer had no room for */
	uint64_t whole_records;    /* copies the kernel could not frame (copied whole) */
	uint64_t after_drop;       /* copies after a dropped one on the same direction */
	uint64_t joined;           /* directions followed from a message start mid-stream */
	uint64_t tls_records;      /* plaintext copies of TLS library calls */
	uint64_t tls_libraries;    /* distinct libssl.so.3 files attached to */
	uint64_t tls_go_binaries;  /* distinct Go binaries attached to (crypto/tls) */
	uint64_t tls_skipped[LIVE_TLS_SKIPS];  /* files of that name not attached to, by cause */
	uint64_t tls_mappings_lost;  /* mapping reports lost (then every process's maps are read) */
	uint64_t h2_joined_blocks; /* HTTP/2 header blocks on connections older than httpeek:
				    * counted by the kernel, not copied (they cannot be decoded) */
	uint64_t tls_not_http;     /* TLS connections whose plaintext is neither HTTP/1.x nor 2 */
	uint64_t tls_no_socket;    /* TLS calls skipped: connection unknown, or no memory */
	bool tls;                  /* TLS is traced */
};

struct live;

/*
 * Loads and attaches the programs, then drops every privilege (live/privileges.h): the process
 * keeps no capability and runs as nobody when started as root. Returns 0 or a negative
 * errno after printing a one-line reason (not root, no BTF, no cgroup v2, BPF refused) on
 * stderr.
 */
int live_open(struct live **out, const struct live_options *opt);

/*
 * Waits up to timeout_ms for records and hands each packet, in kernel order per socket,
 * to fn once its owner is known or owner_wait_ns passed. Returns records read or -errno.
 */
int live_poll(struct live *l, int timeout_ms, packet_fn fn, void *ctx);

/* Detaches the programs; records already in the ring buffer can still be polled. */
void live_detach(struct live *l);

/* Hands every held packet to fn now, owner known or not. */
void live_flush(struct live *l, packet_fn fn, void *ctx);

/* The owner of a socket end, for pipeline_options.owner_lookup (ctx is the struct live). */
const struct owner *live_owner_lookup(void *ctx, uint64_t sock_cookie);

/*
 * The name of interface ifindex in network namespace net_ns as the kernel said it, for
 * event_options.iface_name (ctx is the struct live); NULL when it did not.
 */
const char *live_iface_name(void *ctx, uint32_t net_ns, uint32_t ifindex);

void live_get_stats(const struct live *l, struct live_stats *st);

void live_close(struct live *l);

#endif
