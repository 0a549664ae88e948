/* What /proc tells about a socket's owner: its executable, container and pod. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "live/owner_proc.h"

#define CID_LEN 64
#define POD_UID_LEN 36

struct runtime_prefix {
	const char *prefix;
	const char *runtime;
};

/* Path components "<prefix><64 hex>[.scope]" that name a container. */
static const struct runtime_prefix prefixes[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "crio-", "crio" },
	{ "libpod-", "podman" },
};

static bool all_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

static bool starts_with(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(p, prefix, k) == 0;
}

/* Component c (n bytes) ends in 64 hex digits from offset off, then nothing or ".scope". */
static bool id_at(const char *c, size_t n, size_t off)
{
	if (n < off || n - off < CID_LEN || !all_hex(c + off, CID_LEN))
		return false;
	if (n - off == CID_LEN)
		return true;
	return n - off == CID_LEN + 6 && !memcmp(c + off + CID_LEN, ".scope", 6);
}

static void set_container(struct owner *o, const char *id, const char *runtime)
{
	memcpy(o->container_id, id, CID_LEN);
	o->container_id[CID_LEN] = '\0';
	snprintf(o->container_runtime, sizeof(o->container_runtime), "%s", runtime);
}

/* A pod UID in "pod<uuid>" (cgroupfs) or "...-pod<uuid with _>.slice" (systemd). */
static void find_pod(const char *c, size_t n, struct owner *o)
{
	for (size_t i = 0; n >= 3 + POD_UID_LEN && i <= n - 3 - POD_UID_LEN; i++) {
		const char *u = c + i + 3;
		size_t k;

		if (memcmp(c + i, "pod", 3))
			continue;
		for (k = 0; k < POD_UID_LEN; k++)
			if (!all_hex(u + k, 1) && u[k] != '-' && u[k] != '_')
				break;
		if (k < POD_UID_LEN)
			continue;
		for (k = 0; k < POD_UID_LEN; k++)
			o->pod_uid[k] = u[k] == '_' ? '-' : u[k];
		o->pod_uid[POD_UID_LEN] = '\0';
		return;
	}
}

/* Looks at one path component; prev is the one before it ("" at the start). */
static void parse_component(const char *c, size_t n, const char *prev, size_t prev_n,
			    bool kube, struct owner *o)
{
	if (!o->pod_uid[0] && starts_with(c, n, "kubepods"))
		find_pod(c, n, o);
	else if (!o->pod_uid[0] && kube && starts_with(c, n, "pod"))
		find_pod(c, n, o);
	if (o->container_id[0])
		return;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t k = strlen(prefixes[i].prefix);

		if (starts_with(c, n, prefixes[i].prefix) && id_at(c, n, k)) {
			set_container(o, c + k, prefixes[i].runtime);
			return;
		}
	}
	if (n == CID_LEN && all_hex(c, n)) {
		if (prev_n == 6 && !memcmp(prev, "docker", 6))
			set_container(o, c, "docker");
		else if (kube)
			set_container(o, c, "");
	}
}

/* One line "ID:CONTROLLERS:PATH". */
static void parse_line(const char *line, size_t len, struct owner *o)
{
	const char *p = memchr(line, ':', len), *end = line + len, *prev = "";
	size_t prev_n = 0;
	bool kube;

	if (!p || !(p = memchr(p + 1, ':', (size_t)(end - p - 1))))
		return;
	p++;
	kube = memmem(p, (size_t)(end - p), "kubepods", 8) != NULL;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);

		if (n)
			parse_component(p, n, prev, prev_n, kube, o);
		prev = p;
		prev_n = n;
		if (!slash)
			break;
		p = slash + 1;
	}
}

void owner_parse_cgroup(const char *text, size_t len, struct owner *o)
{
	size_t i = 0;

	o->container_id[0] = o->container_runtime[0] = o->pod_uid[0] = '\0';
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		parse_line(text + i, n, o);
		i += n + 1;
	}
}

static int read_file(const char *path, char *buf, size_t size, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	*len = 0;
	if (fd < 0)
		return -errno;
	while (*len < size && (n = read(fd, buf + *len, size - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	return 0;
}

/* Only what the kernel's pid_max allows (PID_MAX_LIMIT). */
#define PROC_PID_MAX 4194304u

void owner_proc_answer(uint32_t pid, struct owner_proc_answer *a)
{
	char path[64];
	ssize_t n;

	*a = (struct owner_proc_answer){ 0 };
	if (!pid || pid > PROC_PID_MAX) {
		a->exe_err = EINVAL;
		return;
	}
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, a->exe, sizeof(a->exe) - 1);
	a->exe_err = n < 0 ? errno : 0;
	a->exe[n < 0 ? 0 : n] = '\0';
}

int owner_proc_ask(int fd, uint32_t pid, struct owner_proc_answer *a)
{
	ssize_t n;

	if (send(fd, &pid, sizeof(pid), MSG_NOSIGNAL) != sizeof(pid))
		goto fail;
	do
		n = recv(fd, a, sizeof(*a), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(*a))
		goto fail;
	a->exe[sizeof(a->exe) - 1] = '\0';
	return 0;
fail:
	*a = (struct owner_proc_answer){ .exe_err = EIO };
	return -EIO;
}

void owner_proc_serve(int fd)
{
	struct owner_proc_answer a;
	uint32_t pid;
	ssize_t n;

	for (;;) {
		n = recv(fd, &pid, sizeof(pid), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (n == sizeof(pid))
			owner_proc_answer(pid, &a);
		else
			a = (struct owner_proc_answer){ .exe_err = EINVAL };
		if (send(fd, &a, sizeof(a), MSG_NOSIGNAL) != sizeof(a))
			return;
	}
}

int owner_proc_read(struct owner *o, int helper_fd)
{
	struct owner_proc_answer a;
	char path[64], buf[8192];
	size_t len;
	int err;

	if (helper_fd >= 0)
		owner_proc_ask(helper_fd, o->host_pid, &a);
	else
		owner_proc_answer(o->host_pid, &a);
	memcpy(o->exe, a.exe, sizeof(o->exe));
	if (a.exe_err)
		return -a.exe_err;
	snprintf(path, sizeof(path), "/proc/%u/cgroup", o->host_pid);
	err = read_file(path, buf, sizeof(buf), &len);
	if (err)
		return err;
	owner_parse_cgroup(buf, len, o);
	return 0;
}
