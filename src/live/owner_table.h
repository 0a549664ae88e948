/*
 * The live source's socket owners: socket cookie -> struct owner, filled from the kernel's
 * owner records and /proc. Internal to the live stage (live.c, owner.c, owner_proc.c).
 */
#ifndef HTTPEEK_OWNER_TABLE_H
#define HTTPEEK_OWNER_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "pipeline/owner.h"
#include "record.h"

/* Gone sockets are kept this long so that events still being paired find them. */
#define OWNER_GONE_GRACE_NS (30ull * 1000000000ull)

struct owner_table;

/*
 * A table of at most max_entries owners; NULL on allocation failure. helper_fd: the /proc
 * helper's socket (owner_proc_ask), or -1 to read /proc in this process.
 */
struct owner_table *owner_table_new(uint32_t max_entries, int helper_fd);

void owner_table_free(struct owner_table *t);

/*
 * Records r's process as the owner of r's socket, replacing any earlier owner in place.
 * mono_to_real converts the kernel's CLOCK_MONOTONIC times to epoch ns. When the table is
 * full the oldest gone entry, else the least recently updated one, is reused.
 */
void owner_table_update(struct owner_table *t, const struct rec_owner *r, int64_t mono_to_real);

/* Marks a socket gone at now_ns (monotonic); it is retired OWNER_GONE_GRACE_NS later. */
void owner_table_gone(struct owner_table *t, uint64_t cookie, uint64_t now_ns);

/* Retires the gone entries older than the grace period. */
void owner_table_expire(struct owner_table *t, uint64_t now_ns);

/*
 * The owner of a socket or NULL. The pointer stays valid until the table is freed; its
 * contents change when the socket gets a new owner or the slot is retired and reused.
 */
const struct owner *owner_table_lookup(struct owner_table *t, uint64_t cookie);

/* Entries in use. */
uint32_t owner_table_count(const struct owner_table *t);

/*
 * Finds a container id, its runtime and a Kubernetes pod UID in the text of
 * /proc/PID/cgroup (len bytes, not NUL-terminated); leaves the fields "" when there is none.
 */
void owner_parse_cgroup(const char *text, size_t len, struct owner *o);

/*
 * What only CAP_SYS_PTRACE can read of another user's process (the ptrace read-access
 * check): where /proc/PID/exe points, and the inode of /proc/PID/ns/net. A small helper
 * process that kept that capability answers these for httpeek, which keeps none.
 */
struct owner_proc_answer {
	int32_t exe_err;           /* errno of the readlink, 0 when exe is valid */
	int32_t ns_err;            /* errno of the stat, 0 when net_ns is valid */
	uint32_t net_ns;
	char exe[256];             /* NUL-terminated */
};

/* Fills a for host pid (1 to 4194304, else EINVAL in both errors) from /proc, here. */
void owner_proc_answer(uint32_t pid, struct owner_proc_answer *a);

/*
 * Asks the helper at the other end of fd (a SOCK_SEQPACKET socket) about pid. Returns 0, or
 * -EIO with both errors EIO when the helper did not answer.
 */
int owner_proc_ask(int fd, uint32_t pid, struct owner_proc_answer *a);

/*
 * The helper's loop: answers each request on fd (exactly one uint32_t pid; anything else gets
 * EINVAL) with owner_proc_answer(), until fd is closed at the other end.
 */
void owner_proc_serve(int fd);

/*
 * Reads o->exe (the link /proc/PID/exe, through the helper at helper_fd, or here when it is
 * -1) and the container and pod fields (/proc/PID/cgroup, world-readable) of host pid
 * o->host_pid. Returns 0 or -errno (the process may be gone); fields it could not read are
 * left "".
 */
int owner_proc_read(struct owner *o, int helper_fd);

#endif
