/*
 * The TLS attacher: a process forked once the TLS programs are loaded, before httpeek drops
 * its privileges. It attaches their uprobes to every distinct libssl.so.3 file: those in the
 * host's library directories and in any process's memory map at start, then each one a
 * process maps later (live_tls_watch.c: the kernel reports every executable mapping; after
 * reports were lost, /proc/PID/maps is read again). Uprobe and system-wide perf events and
 * /proc/PID/map_files need CAP_SYS_ADMIN, reading other users' /proc/PID/map_files and root
 * CAP_SYS_PTRACE: it keeps those two and nothing else, holds no other descriptor than it
 * needs, ignores SIGINT and SIGTERM (httpeek stops it), can be killed by httpeek even after
 * httpeek became nobody, and dies with it (its links, and so the uprobes, go then).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>
#include "tls.skel.h"
#include "live/privileges.h"
#include "live/tls/attach.h"
#include "live/tls/target.h"
#include "live/tls/watch.h"

#define KEEP_CAPS (1ull << CAP_SYS_ADMIN | 1ull << CAP_SYS_PTRACE)
#define READY_MS 30000
#define WATCH_PAGES 64                 /* per CPU ring, at most (256 KiB) */
#define SCAN_GAP_NS 1000000000ull      /* /proc is read again at most once a second */
#define MAX_KEEP 40                    /* descriptors the attacher keeps */
#define READY 1                        /* the attacher's bytes on the control socket */
#define BYE 2

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Keeps KEEP_CAPS only, in every set, and no way to regain the others. */
static int keep_only_attach_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (unsigned long c = 0; c < 64; c++)
		if (!(KEEP_CAPS >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno == EINVAL)
			break;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		data[i].effective = data[i].permitted = (uint32_t)(KEEP_CAPS >> (32 * i));
	if (syscall(SYS_capset, &hdr, data) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

/*
 * Lets httpeek signal it once httpeek runs as nobody: real and saved uid nobody's, effective
 * uid root's (its file access and capabilities stay). The kernel lets a process signal
 * another, a parent-death signal included, when its uid is the other's real or saved uid;
 * anything that could signal the attacher then could signal httpeek already.
 */
static int signalable_by_parent(void)
{
	if (getuid() != 0)
		return 0;  /* httpeek keeps its uid too */
	return setresuid(LIVE_PRIV_UID, 0, LIVE_PRIV_UID) ? -errno : 0;
}

static int cmp_int(const void *x, const void *y)
{
	return *(const int *)x - *(const int *)y;
}

/* Closes every descriptor but stderr and the n in keep. */
static void close_others(int *keep, int n)
{
	int from = 3;

	qsort(keep, (size_t)n, sizeof(*keep), cmp_int);
	for (int i = 0; i < n; i++) {
		if (keep[i] > from)
			syscall(SYS_close_range, from, keep[i] - 1, 0);
		if (keep[i] >= from)
			from = keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0u, 0);
}

/* Two descriptors per probe and file: as many as the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/* Copies the watch's counters to the shared ones. */
static void publish(const struct live_tls_watch *w, struct live_tls_counters *c)
{
	struct live_tls_watch_stats st;

	live_tls_watch_get_stats(w, &st);
	__atomic_store_n(&c->lost, st.lost, __ATOMIC_RELAXED);
	__atomic_store_n(&c->scans, st.scans, __ATOMIC_RELAXED);
}

/*
 * Follows new mappings until httpeek shuts its end of the control socket down (or is gone);
 * then answers, so that httpeek need not wait for the probes to go (the kernel takes tens of
 * milliseconds for each). Returns the attacher's exit status.
 */
static int follow(struct live_tls_watch *w, struct live_tls_counters *c, int ctl, pid_t parent)
{
	char bye = BYE;

	for (;;) {
		struct pollfd fds[2] = { { .fd = ctl, .events = POLLIN },
					 { .fd = live_tls_watch_fd(w), .events = POLLIN } };
		int due = live_tls_watch_scan(w, mono_ns(), SCAN_GAP_NS);

		publish(w, c);
		if (poll(fds, 2, due < 0 || due > 1000 ? 1000 : due) < 0 && errno != EINTR)
			return 1;
		if (fds[0].revents || getppid() != parent)
			return write(ctl, &bye, 1) == 1 ? 0 : 1;
		if (fds[1].revents && live_tls_watch_read(w))
			return 1;
	}
}

/* The child: attaches, says it is ready on the control socket, then follows. */
static void attacher_run(struct tls_bpf *skel, struct live_tls_counters *c, int verbose,
			 bool exported_only, int ctl, pid_t parent)
{
	struct live_tls_targets *t;
	struct live_tls_watch *w;
	int keep[MAX_KEEP], n, status;
	char ok = READY;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	n = (int)live_tls_targets_prog_fds(skel, keep, MAX_KEEP - 2);
	keep[n++] = bpf_map__fd(skel->maps.tls_mappings);
	keep[n++] = ctl;
	close_others(keep, n);
	raise_fd_limit();
	if (signalable_by_parent() || keep_only_attach_caps() ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) || prctl(PR_SET_PDEATHSIG, SIGKILL)) {
		fprintf(stderr, "httpeek: failed to set up the TLS attacher's privileges: %s\n",
			strerror(errno));
		_exit(1);
	}
	if (getppid() != parent)
		_exit(0);
	t = live_tls_targets_new(skel, c, verbose, exported_only);
	w = t ? live_tls_watch_new(bpf_map__fd(skel->maps.tls_mappings), WATCH_PAGES,
				   live_tls_targets_mapped, t) : NULL;
	if (!w) {
		fprintf(stderr, "httpeek: failed to watch library mappings: %s\n",
			strerror(t ? errno : ENOMEM));
		live_tls_targets_free(t);
		_exit(1);
	}
	live_tls_targets_scan_host(t);
	live_tls_watch_scan(w, mono_ns(), SCAN_GAP_NS);
	publish(w, c);
	status = write(ctl, &ok, 1) == 1 ? follow(w, c, ctl, parent) : 1;
	live_tls_watch_free(w);
	live_tls_targets_free(t);
	_exit(status);
}

/*
 * Reads the attacher's next byte within timeout_ms: 0 and *b, -ECHILD when it ended without
 * one, -ETIMEDOUT, or -EINTR on a signal.
 */
static int answer(int fd, int timeout_ms, char *b)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);

	if (n < 0)
		return errno == EINTR ? -EINTR : -errno;
	if (!n)
		return -ETIMEDOUT;
	return read(fd, b, 1) == 1 ? 0 : -ECHILD;
}

pid_t live_tls_attach_start(struct tls_bpf *skel, struct live_tls_counters *counters,
			    int verbose, bool exported_only, int *ctl_fd)
{
	pid_t parent = getpid(), pid;
	int sv[2], err;
	char b = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		attacher_run(skel, counters, verbose, exported_only, sv[1], parent);
	}
	err = pid < 0 ? -errno : 0;
	close(sv[1]);
	/* Ready once the libraries present now are attached (or it failed). */
	if (!err)
		err = answer(sv[0], READY_MS, &b);
	if (!err && b != READY)
		err = -ECHILD;
	if (err && pid > 0)
		live_tls_attach_stop(pid, sv[0], 1000);
	else if (err)
		close(sv[0]);
	else
		*ctl_fd = sv[0];
	return err ? err : pid;
}

int live_tls_attach_stop(pid_t pid, int ctl_fd, int timeout_ms)
{
	char b = 0;
	int err;

	/* Its answer, or its end: it was not stuck, and the probes go as it exits. */
	shutdown(ctl_fd, SHUT_WR);
	err = answer(ctl_fd, timeout_ms, &b);
	close(ctl_fd);
	if (err == -ETIMEDOUT)
		fprintf(stderr, "httpeek: the TLS attacher did not answer within %d ms: %s\n",
			timeout_ms, kill(pid, SIGKILL) ? "it ends with httpeek" : "killed");
	waitpid(pid, NULL, WNOHANG);
	return err == -ETIMEDOUT ? -ETIMEDOUT : 0;
}
