/*
 * What /proc says of a socket's owner: its executable, container and pod. The executable
 * link needs the ptrace read-access check, so a helper process that kept CAP_SYS_PTRACE
 * answers for httpeek (owner_proc_serve), which keeps no capability.
 */
#ifndef HTTPEEK_OWNER_PROC_H
#define HTTPEEK_OWNER_PROC_H

#include <stddef.h>
#include <stdint.h>
#include "pipeline/owner.h"

/*
 * Finds a container id, its runtime and a Kubernetes pod UID in the text of
 * /proc/PID/cgroup (len bytes, not NUL-terminated); leaves the fields "" when there is none.
 */
void owner_parse_cgroup(const char *text, size_t len, struct owner *o);

/*
 * What only CAP_SYS_PTRACE can read of another user's process (the ptrace read-access
 * check): where /proc/PID/exe points. A small helper process that kept that capability
 * answers this for httpeek, which keeps none.
 */
struct owner_proc_answer {
	int32_t exe_err;           /* errno of the readlink, 0 when exe is valid */
	char exe[256];             /* NUL-terminated */
};

/* Fills a for host pid (1 to 4194304, else EINVAL) from /proc, here. */
void owner_proc_answer(uint32_t pid, struct owner_proc_answer *a);

/*
 * Asks the helper at the other end of fd (a SOCK_SEQPACKET socket) about pid. Returns 0, or
 * -EIO with exe_err EIO when the helper did not answer.
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
