/*
 * The TLS attacher: a process forked once the TLS programs are loaded, that attaches their
 * uprobes to every distinct libssl.so.3 file, those on the host's library paths and those in
 * any process's memory map at start, then each one a process opens later (the openat
 * tracepoint's ring buffer). Creating uprobes needs CAP_SYS_ADMIN here and reading through
 * /proc/PID/root CAP_SYS_PTRACE: it keeps those two and nothing else, holds no other
 * descriptor than it needs, and dies with its parent (its links, and so the uprobes, go then).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include "tls.skel.h"
#include "live/tls/attach.h"
#include "record.h"

#define LIB_NAME "libssl.so.3"
#define MAX_LIBRARIES 256
#define KEEP_CAPS (1ull << CAP_SYS_ADMIN | 1ull << CAP_SYS_PTRACE)
#define READY_MS 30000

/* One probe: a program on a function's entry or return. */
struct probe {
	const char *func;
	int ret;
	size_t prog;  /* offset of the program pointer in struct tls_bpf */
};

#define PROG(name) offsetof(struct tls_bpf, progs.name)
static const struct probe probes[] = {
	{ "SSL_write", 0, PROG(tls_write) },         { "SSL_write", 1, PROG(tls_ret) },
	{ "SSL_write_ex", 0, PROG(tls_write_ex) },   { "SSL_write_ex", 1, PROG(tls_ret_ex) },
	{ "SSL_read", 0, PROG(tls_read) },           { "SSL_read", 1, PROG(tls_ret) },
	{ "SSL_read_ex", 0, PROG(tls_read_ex) },     { "SSL_read_ex", 1, PROG(tls_ret_ex) },
	{ "SSL_do_handshake", 0, PROG(tls_handshake) }, { "SSL_do_handshake", 1, PROG(tls_ret) },
	{ "SSL_connect", 0, PROG(tls_handshake) },   { "SSL_connect", 1, PROG(tls_ret) },
	{ "SSL_accept", 0, PROG(tls_handshake) },    { "SSL_accept", 1, PROG(tls_ret) },
	{ "SSL_free", 0, PROG(tls_free) },
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

/* A library file attached to. */
struct library {
	dev_t dev;
	ino_t ino;
};

struct attacher {
	struct tls_bpf *skel;
	struct tls_attach_counters *counters;
	struct library libs[MAX_LIBRARIES];
	size_t nlibs;
	int verbose;
};

static struct bpf_program *probe_prog(struct attacher *a, const struct probe *p)
{
	return *(struct bpf_program **)((char *)a->skel + p->prog);
}

/* Attaches every probe to the file at path; all or none. Returns 0 or -errno. */
static int attach_probes(struct attacher *a, const char *path)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o);
	struct bpf_link *links[NPROBES] = { 0 };
	int err = 0;

	for (size_t i = 0; i < NPROBES && !err; i++) {
		o.func_name = probes[i].func;
		o.retprobe = probes[i].ret;
		links[i] = bpf_program__attach_uprobe_opts(probe_prog(a, &probes[i]), -1, path, 0,
							   &o);
		if (!links[i]) {
			err = errno ? -errno : -EINVAL;
			fprintf(stderr, "httpeek: failed to attach to %s in %s: %s\n",
				probes[i].func, path, strerror(-err));
		}
	}
	if (err)
		for (size_t i = 0; i < NPROBES; i++)
			bpf_link__destroy(links[i]);
	return err;  /* the links stay until this process exits */
}

/*
 * Attaches to the library at path unless its file was attached to before. Only files owned
 * by root and writable by no one else: their code runs in others' processes anyway, and this
 * process parses them with privileges.
 */
static void attach_file(struct attacher *a, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) || !S_ISREG(sb.st_mode))
		return;
	for (size_t i = 0; i < a->nlibs; i++)
		if (a->libs[i].dev == sb.st_dev && a->libs[i].ino == sb.st_ino)
			return;
	if (a->nlibs == MAX_LIBRARIES || sb.st_uid != 0 || (sb.st_mode & (S_IWGRP | S_IWOTH)) ||
	    attach_probes(a, path)) {
		__atomic_fetch_add(&a->counters->failures, 1, __ATOMIC_RELAXED);
		if (a->nlibs < MAX_LIBRARIES)  /* not tried again */
			a->libs[a->nlibs++] = (struct library){ sb.st_dev, sb.st_ino };
		return;
	}
	a->libs[a->nlibs++] = (struct library){ sb.st_dev, sb.st_ino };
	__atomic_fetch_add(&a->counters->libraries, 1, __ATOMIC_RELAXED);
	if (a->verbose)
		fprintf(stderr, "httpeek: tls: attached to %s\n", path);
}

/* The library as process pid sees path, through its root (containers have their own). */
static void attach_in(struct attacher *a, unsigned pid, const char *path)
{
	char full[512];

	if (path[0] != '/' || snprintf(full, sizeof(full), "/proc/%u/root%s", pid, path) >=
				      (int)sizeof(full))
		return;
	attach_file(a, full);
}

static int is_library(const char *path)
{
	size_t n = strlen(path), k = strlen(LIB_NAME);

	return n >= k && !strcmp(path + n - k, LIB_NAME) && (n == k || path[n - k - 1] == '/');
}

/* Every libssl.so.3 that process pid maps. */
static void scan_maps(struct attacher *a, unsigned pid)
{
	char name[64], line[4096];
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%u/maps", pid);
	f = fopen(name, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');

		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (is_library(path))
			attach_in(a, pid, path);
	}
	fclose(f);
}

static void scan_processes(struct attacher *a)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(e->d_name, &end, 10);

		if (*end || !pid || pid > UINT32_MAX || pid == (unsigned long)getpid())
			continue;
		scan_maps(a, (unsigned)pid);
	}
	closedir(d);
}

/* The host's own copies: attached even when no process maps them yet. */
static void scan_host(struct attacher *a)
{
	static const char *const dirs[] = { "/usr/lib/%s-linux-gnu", "/lib/%s-linux-gnu",
					     "/usr/lib64", "/lib64", "/usr/lib", "/lib",
					     "/usr/local/lib64", "/usr/local/lib" };
	struct utsname u;
	char dir[256], path[512];

	if (uname(&u))
		return;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(dir, sizeof(dir), dirs[i], u.machine);
		snprintf(path, sizeof(path), "%s/%s", dir, LIB_NAME);
		attach_file(a, path);
	}
}

static int on_library(void *ctx, void *data, size_t size)
{
	struct attacher *a = ctx;
	const struct rec_lib *r = data;
	char path[REC_PATH_LEN];

	if (size < sizeof(*r) || r->h.type != REC_LIB || r->pid == (uint32_t)getpid())
		return 0;
	memcpy(path, r->path, sizeof(path));
	path[sizeof(path) - 1] = '\0';
	if (is_library(path))
		attach_in(a, r->pid, path);
	return 0;
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

/*
 * The child: attaches, says it is ready on the ready descriptor, then follows new files until
 * the stay descriptor's other end closes (httpeek, no longer root, cannot signal it).
 */
static void attacher_run(struct attacher *a, int ready, int stay, pid_t parent)
{
	struct ring_buffer *rb;
	int keep[NPROBES + 3], n = 0;
	char ok = 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	for (size_t i = 0; i < NPROBES; i++)
		keep[n++] = bpf_program__fd(probe_prog(a, &probes[i]));
	keep[n++] = bpf_map__fd(a->skel->maps.libs);
	keep[n++] = ready;
	keep[n++] = stay;
	close_others(keep, n);
	if (keep_only_attach_caps()) {
		fprintf(stderr, "httpeek: failed to drop capabilities: %s\n", strerror(errno));
		_exit(1);
	}
	rb = ring_buffer__new(bpf_map__fd(a->skel->maps.libs), on_library, a, NULL);
	scan_host(a);
	scan_processes(a);
	if (write(ready, &ok, 1) != 1 || !rb)
		_exit(1);
	close(ready);
	for (;;) {
		struct pollfd fds[2] = { { .fd = stay, .events = POLLIN },
					 { .fd = ring_buffer__epoll_fd(rb), .events = POLLIN } };

		if (poll(fds, 2, 1000) < 0 && errno != EINTR)
			_exit(1);
		if (fds[0].revents || getppid() != parent)
			_exit(0);
		if (fds[1].revents)
			ring_buffer__consume(rb);
	}
}

pid_t live_tls_attach_start(struct tls_bpf *skel, struct tls_attach_counters *counters,
			    int verbose, int *stay_fd)
{
	struct attacher *a = calloc(1, sizeof(*a));
	pid_t parent = getpid(), pid;
	int p[2], stay[2], err;
	char ok = 0;

	if (!a || pipe2(p, O_CLOEXEC)) {
		err = a ? -errno : -ENOMEM;
		free(a);
		return err;
	}
	if (pipe2(stay, O_CLOEXEC)) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		free(a);
		return err;
	}
	*a = (struct attacher){ .skel = skel, .counters = counters, .verbose = verbose };
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		close(stay[1]);
		attacher_run(a, p[1], stay[0], parent);
	}
	err = pid < 0 ? -errno : 0;
	free(a);
	close(p[1]);
	close(stay[0]);
	/* Ready once the libraries present now are attached (or it failed). */
	if (!err && (poll(&(struct pollfd){ .fd = p[0], .events = POLLIN }, 1, READY_MS) != 1 ||
		     read(p[0], &ok, 1) != 1))
		err = -ECHILD;
	close(p[0]);
	if (err)
		close(stay[1]);
	else
		*stay_fd = stay[1];
	return err ? err : pid;
}
