/* Interface names of live packets: an ifindex named in its socket's network namespace. */
#ifndef HTTPEEK_IFACE_H
#define HTTPEEK_IFACE_H

#include <stdint.h>

struct iface_names;

/*
 * A name cache that reads proc (the host's "/proc"; tests pass a tree of their own).
 * own_netns is the inode of httpeek's network namespace (iface_own_netns), 0 when unknown.
 * NULL on allocation failure.
 */
struct iface_names *iface_names_new(const char *proc, uint32_t own_netns);

/* The inode of pid's network namespace into *net_ns: 0, or -errno. */
typedef int (*iface_netns_fn)(void *ctx, uint32_t pid, uint32_t *net_ns);

/*
 * Asks fn for a process's network namespace instead of reading PROC/PID/ns/net here (that
 * needs the ptrace read-access check, which live httpeek leaves to its /proc helper).
 */
void iface_names_set_netns(struct iface_names *n, iface_netns_fn fn, void *ctx);

/* The inode of /proc/self/ns/net, or 0 when it cannot be read. */
uint32_t iface_own_netns(void);

/*
 * The name of interface ifindex in network namespace net_ns, in which process pid lives
 * (0 for either when unknown), or NULL when it cannot be found. ifindex 1 is "lo" in every
 * namespace; in httpeek's own the kernel answers (if_indextoname); another namespace's names
 * are read from PID's /proc net files (igmp6, then igmp) once PID is checked to be in it.
 * Answers are cached per (net_ns, ifindex): found ones for 10 s, missing ones for 1 s of
 * now_ns (a monotonic clock). The string stays valid until the next call.
 */
const char *iface_name(struct iface_names *n, uint32_t net_ns, uint32_t pid, uint32_t ifindex,
		       uint64_t now_ns);

void iface_names_free(struct iface_names *n);

#endif
