/*
 * Live privileges: what set-up needs, and what is left afterwards. httpeek itself keeps no
 * capability and runs as nobody once set up; a helper process forked before that keeps only
 * CAP_SYS_PTRACE and answers one question, "pid -> /proc/pid/exe" (owner_proc_serve), which
 * the ptrace read-access check guards.
 */
#ifndef HTTPEEK_LIVE_PRIV_H
#define HTTPEEK_LIVE_PRIV_H

#include <sys/types.h>

/* The uid and gid httpeek runs as once set up, when it was started as root: nobody. */
#define LIVE_PRIV_UID 65534u
#define LIVE_PRIV_GID 65534u

/* 0 when the effective set allows loading and attaching; else -EPERM after one line. */
int live_priv_check(void);

/*
 * Forks the /proc helper: it closes every descriptor but its socket, keeps CAP_SYS_PTRACE
 * alone (when this process has it), is killed when its parent dies and exits when its
 * socket closes. Returns the parent's end of the socket (*pid: the helper) or -errno after
 * one line.
 */
int live_priv_start_helper(pid_t *pid);

/* Closes the helper's socket (it exits then) and reaps it. */
void live_priv_stop_helper(int fd, pid_t pid);

/*
 * Drops everything once set up: every capability (effective, permitted, inheritable,
 * ambient, bounding), root's uid and gid for nobody's (when running as root), then sets
 * no_new_privs. Returns 0 or -errno after one line.
 */
int live_priv_drop(void);

#endif
