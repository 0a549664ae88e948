/*
 * From a mapping to probes on its file. The file is opened through the mapping itself
 * (/proc/PID/map_files/START-END: the very file mapped, whatever its path became), else
 * through /proc/PID/root with openat2 (no symlink followed, the process's root as "/"),
 * always with O_NONBLOCK (a FIFO does not block the open) and nothing else. The descriptor
 * is then checked with fstat: a regular file on a file system no user serves, owned by root,
 * writable by no one else, and the inode the kernel reported. The probes are attached
 * through /proc/self/fd/N: the file checked is the file attached to.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include "tls.skel.h"
#include "live/tls/elf.h"
#include "live/tls/go_binary.h"
#include "live/tls/ssl_core.h"
#include "live/tls/target.h"

#define MAX_ATTACHED 512          /* distinct files attached to */
#define MAX_FAILED 1024           /* failures remembered (the oldest go) */
#define RECHECK_NS 100000000ull   /* a file that failed is opened again at most every 100 ms */
#define VERBOSE_SKIPS 32          /* -v names this many files not attached to, then counts */
#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

/* One probe: a program on a function's entry or return. */
struct probe {
	uint8_t func;              /* index into the kind's funcs */
	bool ret;
	size_t prog;               /* offset of the program pointer in struct tls_bpf */
};

/* A kind of file and what to attach to it. */
struct kind {
	const char *name;          /* the file name it applies to */
	const char *const *funcs;
	size_t nfuncs;
	const struct probe *probes;
	size_t nprobes;
	bool ssl_core;             /* OpenSSL: its internal read and write functions when found */
};

/* OpenSSL's functions by name, then its internal ones (ssl_core.h), found by decoding. */
enum { WRITE, WRITE_EX, READ, READ_EX, HANDSHAKE, CONNECT, ACCEPT, FREE, SSL_FUNCS,
       WRITE_CORE = SSL_FUNCS, READ_CORE };
static const char *const ssl_funcs[SSL_FUNCS] = {
	"SSL_write", "SSL_write_ex", "SSL_read",  "SSL_read_ex",
	"SSL_do_handshake", "SSL_connect", "SSL_accept", "SSL_free",
};

#define PROG(name) offsetof(struct tls_bpf, progs.name)
static const struct probe ssl_probes[] = {
	{ WRITE, 0, PROG(tls_write) },       { WRITE, 1, PROG(tls_ret) },
	{ WRITE_EX, 0, PROG(tls_write_ex) }, { WRITE_EX, 1, PROG(tls_ret_ex) },
	{ READ, 0, PROG(tls_read) },         { READ, 1, PROG(tls_ret) },
	{ READ_EX, 0, PROG(tls_read_ex) },   { READ_EX, 1, PROG(tls_ret_ex) },
	{ HANDSHAKE, 0, PROG(tls_handshake) }, { HANDSHAKE, 1, PROG(tls_ret) },
	{ CONNECT, 0, PROG(tls_handshake) }, { CONNECT, 1, PROG(tls_ret) },
	{ ACCEPT, 0, PROG(tls_handshake) },  { ACCEPT, 1, PROG(tls_ret) },
	{ FREE, 0, PROG(tls_free) },
};
static const struct probe ssl_write_core[] = {
	{ WRITE_CORE, 0, PROG(tls_write_ex) }, { WRITE_CORE, 1, PROG(tls_ret_ex) },
};
static const struct probe ssl_read_core[] = {
	{ READ_CORE, 0, PROG(tls_read_ex) },   { READ_CORE, 1, PROG(tls_ret_ex) },
};
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PROBES 16
#define NOT_TARGET (LIVE_TLS_SKIPS + 1)  /* a file no kind wants, found when it was read */

/* A second kind (an executable, say) goes here with its own probes and programs. */
static const struct kind kinds[] = {
	{ "libssl.so.3", ssl_funcs, SSL_FUNCS, ssl_probes, ARRAY_LEN(ssl_probes), true },
};

struct live_tls_targets {
	struct tls_bpf *skel;
	struct live_tls_counters *c;
	struct live_tls_files *files;
	int verbose;
	bool exported_only;        /* --tls-exported: never the internal functions */
	unsigned int named_skips;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct live_tls_targets *live_tls_targets_new(struct tls_bpf *skel,
					      struct live_tls_counters *c, int verbose,
					      bool exported_only)
{
	struct live_tls_targets *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct live_tls_targets){ .skel = skel, .c = c, .verbose = verbose,
					.exported_only = exported_only,
					.files = live_tls_files_new(MAX_ATTACHED, MAX_FAILED) };
	if (!t->files) {
		free(t);
		return NULL;
	}
	return t;
}

void live_tls_targets_free(struct live_tls_targets *t)
{
	if (!t)
		return;
	live_tls_files_free(t->files);
	free(t);
}

static struct bpf_program *prog_of(const struct tls_bpf *skel, const struct probe *p)
{
	return *(struct bpf_program *const *)((const char *)skel + p->prog);
}

size_t live_tls_targets_prog_fds(const struct tls_bpf *skel, int *fds, size_t max)
{
	const struct bpf_program *go[] = { skel->progs.go_write, skel->progs.go_read,
					   skel->progs.go_read_ret, skel->progs.go_handshake,
					   skel->progs.go_close };
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_LEN(kinds); k++)
		for (size_t i = 0; i < kinds[k].nprobes && n < max; i++)
			fds[n++] = bpf_program__fd(prog_of(skel, &kinds[k].probes[i]));
	for (size_t i = 0; i < ARRAY_LEN(ssl_read_core) && n + 1 < max; i++) {
		fds[n++] = bpf_program__fd(prog_of(skel, &ssl_read_core[i]));
		fds[n++] = bpf_program__fd(prog_of(skel, &ssl_write_core[i]));
	}
	for (size_t i = 0; i < ARRAY_LEN(go) && n < max; i++)
		fds[n++] = bpf_program__fd(go[i]);
	return n;
}

static const struct kind *kind_of(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t k = 0; k < ARRAY_LEN(kinds); k++)
		if (!strcmp(base, kinds[k].name))
			return &kinds[k];
	return NULL;
}

/*
 * Any other executable mapping may be a Go binary (read to know): not a shared library
 * (Go's are rare: -buildmode=c-shared is not covered), and not a kernel or anonymous one.
 */
static bool maybe_go(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return path[0] == '/' && !strstr(base, ".so") && strncmp(path, "/memfd:", 7);
}

/* The mapped file, opened as the comment at the top says; -1 when it cannot be. */
static int open_mapped(const struct live_tls_mapping *m, bool *via_map)
{
	struct open_how how = {
		.flags = OPEN_FLAGS | O_NOFOLLOW,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char p[96];
	int fd, root;

	*via_map = false;
	if (!m->pid)  /* the host's library directories: root's own paths */
		return open(m->path, OPEN_FLAGS);
	snprintf(p, sizeof(p), "/proc/%u/map_files/%llx-%llx", m->pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(p, OPEN_FLAGS);
	if (fd >= 0) {
		*via_map = true;
		return fd;
	}
	snprintf(p, sizeof(p), "/proc/%u/root", m->pid);
	root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, root, m->path, &how, sizeof(how));
	close(root);
	return fd;
}

/* What is wrong with the open file for a uprobe; LIVE_TLS_SKIPS when nothing is. */
static enum live_tls_skip check_file(const struct live_tls_mapping *m, int fd,
				     const struct stat *st, bool via_map)
{
	struct statfs fs;

	if (!S_ISREG(st->st_mode) || fstatfs(fd, &fs) || fs.f_type == FUSE_SUPER_MAGIC)
		return LIVE_TLS_SKIP_TYPE;
	if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)))
		return LIVE_TLS_SKIP_OWNER;
	/* Through a path, the file must be the one mapped (map_files opens that one itself). */
	if (m->ino && (st->st_ino != m->ino || (!via_map && st->st_dev != m->dev)))
		return LIVE_TLS_SKIP_GONE;
	return LIVE_TLS_SKIPS;
}

/*
 * Kind k's probes, with OpenSSL's internal functions in place of the exported readers (or
 * writers) where core found them; returns how many (at most MAX_PROBES).
 */
static size_t choose_probes(const struct kind *k, const struct live_tls_ssl_core *core,
			    struct probe *out)
{
	size_t n = 0;

	for (size_t i = 0; i < k->nprobes && n < MAX_PROBES; i++) {
		uint8_t f = k->probes[i].func;

		if ((core->read && (f == READ || f == READ_EX)) ||
		    (core->write && (f == WRITE || f == WRITE_EX)))
			continue;
		out[n++] = k->probes[i];
	}
	for (size_t i = 0; core->read && i < ARRAY_LEN(ssl_read_core) && n < MAX_PROBES; i++)
		out[n++] = ssl_read_core[i];
	for (size_t i = 0; core->write && i < ARRAY_LEN(ssl_write_core) && n < MAX_PROBES; i++)
		out[n++] = ssl_write_core[i];
	return n;
}

/* The n probes on the file at fd, all or none. Returns 0 or -errno. */
static int attach_probes(struct live_tls_targets *t, const struct probe *probes, size_t n,
			 int fd, const uint64_t *offsets)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o);
	struct bpf_link *links[MAX_PROBES] = { 0 };
	char path[32];
	int err = 0;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (size_t i = 0; i < n && i < MAX_PROBES && !err; i++) {
		o.retprobe = probes[i].ret;
		links[i] = bpf_program__attach_uprobe_opts(prog_of(t->skel, &probes[i]), -1, path,
							   offsets[probes[i].func], &o);
		if (!links[i])
			err = errno ? -errno : -EINVAL;
	}
	if (err)
		for (size_t i = 0; i < MAX_PROBES; i++)
			bpf_link__destroy(links[i]);
	return err;  /* the links stay until this process exits */
}

/*
 * A Go binary's probes (go_binary.c): Write, Read and each of its returns, and, when present,
 * the handshakes and Close; all or none. Returns 0 or -errno.
 */
static int attach_go(struct live_tls_targets *t, int fd, const struct live_tls_go_probes *g)
{
	struct { struct bpf_program *prog; uint64_t off; } p[4 + 2 + LIVE_TLS_GO_MAX_RETS] = {
		{ t->skel->progs.go_write, g->write }, { t->skel->progs.go_read, g->read },
		{ t->skel->progs.go_close, g->close },
		{ t->skel->progs.go_handshake, g->client_handshake },
		{ t->skel->progs.go_handshake, g->server_handshake },
	};
	struct bpf_link *links[ARRAY_LEN(p)] = { 0 };
	size_t n = 5;
	char path[32];
	int err = 0;

	for (uint32_t i = 0; i < g->nrets && n < ARRAY_LEN(p); i++)
		p[n++] = (typeof(p[0])){ t->skel->progs.go_read_ret, g->rets[i] };
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (size_t i = 0; i < n && !err; i++) {
		if (!p[i].off)
			continue;  /* an optional function this binary does not have */
		links[i] = bpf_program__attach_uprobe_opts(p[i].prog, -1, path, p[i].off, NULL);
		if (!links[i])
			err = errno ? -errno : -EINVAL;
	}
	if (err)
		for (size_t i = 0; i < n; i++)
			bpf_link__destroy(links[i]);
	return err;  /* the links stay until this process exits */
}

/* What a Go binary's reader's answer means: a cause, LIVE_TLS_SKIPS (none) or NOT_TARGET. */
static int go_failure(int err)
{
	switch (err) {
	case 0:
		return LIVE_TLS_SKIPS;
	case -ENODATA:
	case -ENOEXEC:
		return NOT_TARGET;
	case -ENOENT:
		return LIVE_TLS_SKIP_GO_NO_TLS;
	case -EIO:
	case -ENOMEM:
		return LIVE_TLS_SKIP_FORMAT;
	default:
		return LIVE_TLS_SKIP_GO_LAYOUT;
	}
}

/*
 * Reads the offsets and attaches; LIVE_TLS_SKIPS on success, else the cause. core: the
 * internal functions of OpenSSL's probed (0: the exported ones were).
 */
static enum live_tls_skip attach_file(struct live_tls_targets *t, const struct kind *k, int fd,
				      struct live_tls_key key, struct live_tls_key alias,
				      struct live_tls_ssl_core *core)
{
	uint64_t offsets[LIVE_TLS_ELF_MAX_NAMES];
	struct probe probes[MAX_PROBES];
	size_t n;
	int err;

	if (!live_tls_files_has_room(t->files))
		return LIVE_TLS_SKIP_FULL;
	if (live_tls_elf_offsets(fd, k->funcs, k->nfuncs, offsets))
		return LIVE_TLS_SKIP_FORMAT;
	memset(core, 0, sizeof(*core));
	if (k->ssl_core && !t->exported_only && live_tls_ssl_core(fd, core))
		memset(core, 0, sizeof(*core));
	offsets[READ_CORE] = core->read;
	offsets[WRITE_CORE] = core->write;
	n = choose_probes(k, core, probes);
	err = attach_probes(t, probes, n, fd, offsets);
	if (err)
		return err == -EMFILE || err == -ENFILE ? LIVE_TLS_SKIP_FULL : LIVE_TLS_SKIP_REFUSED;
	live_tls_files_attach(t->files, key, alias);
	__atomic_fetch_add(&t->c->libraries, 1, __ATOMIC_RELAXED);
	return LIVE_TLS_SKIPS;
}

/*
 * Attaches to a Go binary (checked as libssl's copies are); the cause when not, NOT_TARGET
 * when it is no Go binary (remembered as failed, not counted: most executables are not Go).
 */
static int attach_go_file(struct live_tls_targets *t, const struct live_tls_mapping *m, int fd,
			  const struct stat *st, bool via_map, struct live_tls_key key,
			  struct live_tls_key alias)
{
	struct live_tls_go_probes g;
	int why, err;

	if (!S_ISREG(st->st_mode))
		return NOT_TARGET;
	why = go_failure(live_tls_go_probes(fd, &g));
	if (why == LIVE_TLS_SKIPS)
		why = check_file(m, fd, st, via_map);
	if (why != LIVE_TLS_SKIPS)
		return why;
	if (!live_tls_files_has_room(t->files))
		return LIVE_TLS_SKIP_FULL;
	err = attach_go(t, fd, &g);
	if (err)
		return err == -EMFILE || err == -ENFILE ? LIVE_TLS_SKIP_FULL : LIVE_TLS_SKIP_REFUSED;
	live_tls_files_attach(t->files, key, alias);
	__atomic_fetch_add(&t->c->go_binaries, 1, __ATOMIC_RELAXED);
	if (t->verbose)
		fprintf(stderr, "httpeek: tls: %s is Go %s (table %#x), %u returns of "
				"(*Conn).Read\n", m->path, g.version[0] ? g.version : "(version unknown)",
			g.magic, g.nrets);
	return LIVE_TLS_SKIPS;
}

static void say(const struct live_tls_mapping *m, const char *what, uint64_t now)
{
	fprintf(stderr, "httpeek: tls: %s %s", what, m->path);
	if (m->pid)
		fprintf(stderr, " (pid %u, inode %llu", m->pid, (unsigned long long)m->ino);
	if (m->pid && m->time_ns && now > m->time_ns)
		fprintf(stderr, ", %.1f ms after it was mapped", (double)(now - m->time_ns) / 1e6);
	fprintf(stderr, "%s\n", m->pid ? ")" : "");
}

/* -v: the file attached to, and where its reads and writes are probed. */
static void say_attached(const struct live_tls_mapping *m, const struct live_tls_ssl_core *core,
			 uint64_t now)
{
	say(m, "attached to", now);
	if (!core->read && !core->write)
		return;
	fprintf(stderr, "httpeek: tls: %s: probed where SSL_read and SSL_read_ex meet (%#llx) "
			"and where SSL_write and SSL_write_ex meet (%#llx), 0 meaning each itself\n",
		m->path, (unsigned long long)core->read, (unsigned long long)core->write);
}

/* Counts and remembers a file not attached to (named with -v, the first few). */
static void skipped(struct live_tls_targets *t, const struct live_tls_mapping *m,
		    struct live_tls_key key, const struct live_tls_stamp *s,
		    enum live_tls_skip why, uint64_t now)
{
	char what[96];

	__atomic_fetch_add(&t->c->skipped[why], 1, __ATOMIC_RELAXED);
	if (why != LIVE_TLS_SKIP_FULL)
		live_tls_files_failed(t->files, key, s, now);
	if (t->verbose && t->named_skips++ < VERBOSE_SKIPS) {
		snprintf(what, sizeof(what), "not attached (%s%s):", live_tls_skip_text(why),
			 t->named_skips == VERBOSE_SKIPS ? "; more are only counted" : "");
		say(m, what, now);
	}
}

void live_tls_targets_mapped(void *ctx, const struct live_tls_mapping *m)
{
	struct live_tls_targets *t = ctx;
	const struct kind *k = kind_of(m->path);
	bool go = !k && m->pid && maybe_go(m->path);
	struct live_tls_key key = { m->dev, m->ino }, alias;
	struct live_tls_stamp stamp = { 0 };
	uint64_t now = mono_ns();
	struct stat st;
	bool via_map;
	struct live_tls_ssl_core core = { 0 };
	int fd, why;

	/* A scan of the host's directories knows no inode before it opens the file. */
	if ((!k && !go) || (m->ino && !live_tls_files_worth_opening(t->files, key, now,
								    RECHECK_NS)))
		return;
	fd = open_mapped(m, &via_map);
	if (fd < 0 || fstat(fd, &st)) {
		if (m->ino && !live_tls_files_unchanged(t->files, key, &stamp, now))
			skipped(t, m, key, &stamp, LIVE_TLS_SKIP_GONE, now);
		goto out;
	}
	stamp = live_tls_stamp_of(&st);
	alias = (struct live_tls_key){ st.st_dev, st.st_ino };
	if (!m->ino)
		key = alias;
	if (live_tls_files_attached(t->files, alias) ||
	    live_tls_files_unchanged(t->files, key, &stamp, now))
		goto out;
	if (go) {
		why = attach_go_file(t, m, fd, &st, via_map, key, alias);
	} else {
		why = check_file(m, fd, &st, via_map);
		if (why == LIVE_TLS_SKIPS)
			why = attach_file(t, k, fd, key, alias, &core);
	}
	if (why == NOT_TARGET)
		live_tls_files_failed(t->files, key, &stamp, now);
	else if (why != LIVE_TLS_SKIPS)
		skipped(t, m, key, &stamp, (enum live_tls_skip)why, now);
	else if (t->verbose)
		say_attached(m, &core, mono_ns());
out:
	if (fd >= 0)
		close(fd);
}

void live_tls_targets_scan_host(struct live_tls_targets *t)
{
	static const char *const dirs[] = { "/usr/lib/%s-linux-gnu", "/lib/%s-linux-gnu",
					     "/usr/lib64", "/lib64", "/usr/lib", "/lib",
					     "/usr/local/lib64", "/usr/local/lib" };
	struct utsname u;
	char dir[256], path[512];

	if (uname(&u))
		return;
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		snprintf(dir, sizeof(dir), dirs[i], u.machine);
		for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
			snprintf(path, sizeof(path), "%s/%s", dir, kinds[k].name);
			if (!access(path, F_OK))
				live_tls_targets_mapped(t, &(struct live_tls_mapping){ .path = path });
		}
	}
}
