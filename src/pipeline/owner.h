/* The process that owns one socket end (live mode only). */
#ifndef HTTPEEK_OWNER_H
#define HTTPEEK_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct owner {
	uint64_t sock_cookie;
	/*
	 * Not 0: owners with the same id have the same content (below, from cgroup_id on);
	 * the owner table gives it. 0: only their contents tell.
	 */
	uint64_t content_id;
	uint64_t cgroup_id;
	uint64_t thread_start_ns;  /* Tracee's threadStartTime: ns since the Unix epoch */
	uint32_t pid, tid, ppid;   /* in the process's own pid namespace */
	uint32_t host_pid, host_tid, host_ppid;
	uint32_t uid;
	uint32_t mnt_ns, pid_ns, net_ns;  /* namespace inode numbers */
	char comm[16];
	char exe[256];
	char hostname[65];         /* UTS node name */
	char container_id[65];     /* "" outside a container */
	char container_runtime[16];
	char pod_uid[40];          /* Kubernetes pod UID from the cgroup path, or "" */
};

/* An owner's content, what its events say of it: cgroup_id through pod_uid. */
#define OWNER_CONTENT_OFF offsetof(struct owner, cgroup_id)
#define OWNER_CONTENT_LEN (offsetof(struct owner, pod_uid) + sizeof(((struct owner *)0)->pod_uid) - \
			   OWNER_CONTENT_OFF)

static inline bool owner_same_content(const struct owner *a, const struct owner *b)
{
	return !memcmp((const char *)a + OWNER_CONTENT_OFF, (const char *)b + OWNER_CONTENT_OFF,
		       OWNER_CONTENT_LEN);
}

/* Looks up the owner of a socket end; NULL when unknown. */
typedef const struct owner *(*owner_lookup_fn)(void *ctx, uint64_t sock_cookie);

#endif
