/*
 * Interface names of live packets: (network namespace, ifindex) as the kernel named them in
 * REC_IFACE records when it saw a packet there (bpf/iface.bpf.h), so that a name never depends
 * on a process that may have exited.
 */
#ifndef HTTPEEK_IFACE_H
#define HTTPEEK_IFACE_H

#include <stdint.h>

struct iface_names;

/* An empty table; NULL on allocation failure. */
struct iface_names *iface_names_new(void);

/*
 * Remembers name (NUL-terminated within 16 bytes, else cut) for ifindex in net_ns (inodes and
 * indexes 0 are ignored). The table holds 4096 names; when a place is needed, the name used
 * least recently among four goes (the kernel says a name again after a minute, see record.h).
 */
void iface_names_learn(struct iface_names *n, uint32_t net_ns, uint32_t ifindex,
		       const char *name);

/*
 * The name of interface ifindex in network namespace net_ns, or NULL when the kernel did not
 * say it. ifindex 1 is "lo" in every namespace. The string stays valid until the next call.
 */
const char *iface_name(struct iface_names *n, uint32_t net_ns, uint32_t ifindex);

void iface_names_free(struct iface_names *n);

#endif
