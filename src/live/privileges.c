/* Live privileges: checked before set-up, dropped after it; the /proc helper. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "live/privileges.h"
#include "live/owner_proc.h"

#define HELPER_FD 3

/* The effective capability set from /proc/self/status; 0 when it cannot be read. */
static uint64_t effective_caps(void)
{
	char line[256];
	uint64_t caps = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *end;

		if (strncmp(line, "CapEff:", 7))
			continue;
		errno = 0;
		caps = strtoull(line + 7, &end, 16);
		if (errno || end == line + 7)
			caps = 0;
		break;
	}
	fclose(f);
	return caps;
}

int live_priv_check(void)
{
	uint64_t c = effective_caps();
	int bpf = (c >> CAP_BPF & 1) && (c >> CAP_PERFMON & 1), admin = c >> CAP_SYS_ADMIN & 1;

	if ((bpf || admin) && (c >> CAP_NET_ADMIN & 1))
		return 0;
	fprintf(stderr, "httpeek: live capture needs root (CAP_BPF, CAP_PERFMON and "
			"CAP_NET_ADMIN)\n");
	return -EPERM;
}

/*
 * Keeps the capabilities of keep that are permitted now (permitted and effective), empties
 * the inheritable, ambient and bounding sets and sets no_new_privs, so that nothing can
 * regain the others. Needs CAP_SETPCAP for the bounding set (root has it; once it is gone,
 * the set is already empty). Returns 0 or -errno.
 */
static int keep_caps(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	keep &= (uint64_t)data[1].permitted << 32 | data[0].permitted;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* EINVAL past the last capability the kernel knows. */
	for (unsigned long c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno == EINVAL)
			break;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].effective = data[i].permitted = (uint32_t)(keep >> (32 * i));
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

/* Root's ids for nobody's; the capabilities go with them (no keep-caps). */
static int leave_root(void)
{
	if (getuid() && geteuid())
		return 0;
	if (setgroups(0, NULL) || setresgid(LIVE_PRIV_GID, LIVE_PRIV_GID, LIVE_PRIV_GID) ||
	    setresuid(LIVE_PRIV_UID, LIVE_PRIV_UID, LIVE_PRIV_UID))
		return -errno;
	return 0;
}

int live_priv_drop(void)
{
	int err = keep_caps(1ull << CAP_SETUID | 1ull << CAP_SETGID);

	if (!err)
		err = leave_root();
	if (!err)
		err = keep_caps(0);
	if (err)
		fprintf(stderr, "httpeek: failed to drop privileges: %s\n", strerror(-err));
	return err;
}

/* The helper's life: nothing of httpeek's but its socket, CAP_SYS_PTRACE, one loop. */
static void helper_main(int sock, pid_t parent)
{
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(1);
	if (dup2(sock, HELPER_FD) != HELPER_FD)
		_exit(1);
	for (int fd = 0; fd < HELPER_FD; fd++)
		close(fd);
	if (syscall(SYS_close_range, HELPER_FD + 1, ~0u, 0))
		_exit(1);
	if (keep_caps(1ull << CAP_SYS_PTRACE) || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		_exit(1);
	owner_proc_serve(HELPER_FD);
	_exit(0);
}

int live_priv_start_helper(pid_t *pid)
{
	pid_t parent = getpid();
	int sv[2], err;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		goto fail;
	*pid = fork();
	if (*pid == 0)
		helper_main(sv[1], parent);
	close(sv[1]);
	if (*pid > 0)
		return sv[0];
	close(sv[0]);
fail:
	err = errno;
	fprintf(stderr, "httpeek: failed to start the /proc helper: %s\n", strerror(err));
	return -err;
}

void live_priv_stop_helper(int fd, pid_t pid)
{
	if (fd < 0)
		return;
	close(fd);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}
