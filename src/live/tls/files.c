/*
 * The attacher's memory of library files: two arrays searched linearly (only mappings of
 * files whose name is a library's get here, and both arrays are small).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "live/tls/files.h"

struct attached {
	struct live_tls_key key, alias;
};

struct failure {
	struct live_tls_key key;
	struct live_tls_stamp stamp;
	uint64_t tried_ns;         /* 0: an empty slot */
};

struct live_tls_files {
	struct attached *attached;
	struct failure *failed;
	uint32_t nattached, max_attached, max_failed;
};

const char *live_tls_skip_text(enum live_tls_skip why)
{
	static const char *const text[LIVE_TLS_SKIPS] = {
		[LIVE_TLS_SKIP_OWNER] = "not root's or writable by others",
		[LIVE_TLS_SKIP_TYPE] = "not regular files on a local file system",
		[LIVE_TLS_SKIP_GONE] = "gone before they could be opened",
		[LIVE_TLS_SKIP_FORMAT] = "not OpenSSL (or not whole yet)",
		[LIVE_TLS_SKIP_REFUSED] = "refused by the kernel",
		[LIVE_TLS_SKIP_FULL] = "past the table's limit",
		[LIVE_TLS_SKIP_GO_LAYOUT] = "Go binaries of a layout not known or broken",
		[LIVE_TLS_SKIP_GO_NO_TLS] = "Go binaries without crypto/tls",
	};

	return why < LIVE_TLS_SKIPS ? text[why] : "?";
}

struct live_tls_files *live_tls_files_new(uint32_t max_attached, uint32_t max_failed)
{
	struct live_tls_files *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->attached = calloc(max_attached ? max_attached : 1, sizeof(*f->attached));
	f->failed = calloc(max_failed ? max_failed : 1, sizeof(*f->failed));
	f->max_attached = max_attached;
	f->max_failed = max_failed;
	if (!f->attached || !f->failed) {
		live_tls_files_free(f);
		return NULL;
	}
	return f;
}

void live_tls_files_free(struct live_tls_files *f)
{
	if (!f)
		return;
	free(f->attached);
	free(f->failed);
	free(f);
}

static bool same_key(struct live_tls_key a, struct live_tls_key b)
{
	return a.dev == b.dev && a.ino == b.ino;
}

bool live_tls_files_attached(const struct live_tls_files *f, struct live_tls_key key)
{
	for (uint32_t i = 0; i < f->nattached; i++)
		if (same_key(f->attached[i].key, key) || same_key(f->attached[i].alias, key))
			return true;
	return false;
}

static struct failure *failure_of(struct live_tls_files *f, struct live_tls_key key)
{
	for (uint32_t i = 0; i < f->max_failed; i++)
		if (f->failed[i].tried_ns && same_key(f->failed[i].key, key))
			return &f->failed[i];
	return NULL;
}

bool live_tls_files_worth_opening(struct live_tls_files *f, struct live_tls_key key,
				  uint64_t now_ns, uint64_t recheck_ns)
{
	const struct failure *x;

	if (live_tls_files_attached(f, key))
		return false;
	x = failure_of(f, key);
	return !x || now_ns - x->tried_ns >= recheck_ns;
}

struct live_tls_stamp live_tls_stamp_of(const struct stat *st)
{
	struct live_tls_stamp s = { 0 };

	if (!st)
		return s;
	s.size = st->st_size;
	s.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	s.ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	s.uid = st->st_uid;
	s.mode = st->st_mode;
	return s;
}

static bool same_stamp(const struct live_tls_stamp *a, const struct live_tls_stamp *b)
{
	return a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns &&
	       a->uid == b->uid && a->mode == b->mode;
}

bool live_tls_files_unchanged(struct live_tls_files *f, struct live_tls_key key,
			      const struct live_tls_stamp *s, uint64_t now_ns)
{
	struct failure *x = failure_of(f, key);

	if (!x || !same_stamp(&x->stamp, s))
		return false;
	x->tried_ns = now_ns ? now_ns : 1;
	return true;
}

void live_tls_files_failed(struct live_tls_files *f, struct live_tls_key key,
			   const struct live_tls_stamp *s, uint64_t now_ns)
{
	struct failure *x = failure_of(f, key), *oldest = NULL;

	for (uint32_t i = 0; !x && i < f->max_failed; i++)
		if (!i || f->failed[i].tried_ns < oldest->tried_ns)
			oldest = &f->failed[i];
	if (!x)
		x = oldest;
	if (!x)
		return;
	*x = (struct failure){ .key = key, .stamp = *s, .tried_ns = now_ns ? now_ns : 1 };
}

bool live_tls_files_has_room(const struct live_tls_files *f)
{
	return f->nattached < f->max_attached;
}

int live_tls_files_attach(struct live_tls_files *f, struct live_tls_key key,
			  struct live_tls_key alias)
{
	struct failure *x = failure_of(f, key);

	if (x)
		x->tried_ns = 0;
	if (f->nattached == f->max_attached)
		return -ENOSPC;
	f->attached[f->nattached++] = (struct attached){ key, alias };
	return 0;
}
