/* Output files: safe to open in a directory others can write to, such as /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output/outfile.h"

#define OUTFILE_MODE 0600

/* Why an existing file is not used, or NULL when it may be. */
static const char *refusal(const struct stat *st)
{
	if (S_ISCHR(st->st_mode))
		return NULL;
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_uid != geteuid())
		return "owned by another user";
	if (st->st_nlink != 1)
		return "has other hard links";
	return NULL;
}

static int fail(const char *path, int fd, int err, const char *reason)
{
	if (fd >= 0)
		close(fd);
	if (!reason)
		reason = err == ELOOP ? "it is a symbolic link" : strerror(err);
	fprintf(stderr, "httpeek: failed to open %s: %s\n", path, reason);
	return -err;
}

int outfile_open(const char *path)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	const char *why;
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO planted in the path must not block; it is refused below. */
	fd = open(path, flags, OUTFILE_MODE);
	if (fd < 0)
		return fail(path, -1, errno, NULL);
	if (fstat(fd, &st))
		return fail(path, fd, errno, NULL);
	why = refusal(&st);
	if (why)
		return fail(path, fd, EPERM, why);
	if (S_ISREG(st.st_mode) && (st.st_mode & 077) && fchmod(fd, st.st_mode & 07700))
		return fail(path, fd, errno, NULL);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		return fail(path, fd, errno, NULL);
	return fd;
}

int outfile_truncate(int fd, const char *path)
{
	struct stat st;
	int err;

	if (!fstat(fd, &st) && (!S_ISREG(st.st_mode) || !ftruncate(fd, 0)))
		return 0;
	err = errno;
	fprintf(stderr, "httpeek: failed to truncate %s: %s\n", path, strerror(err));
	return -err;
}

size_t outfile_write(int fd, const void *p, size_t n, int *err)
{
	size_t done = 0;
	ssize_t k;

	while (done < n) {
		k = write(fd, (const char *)p + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			*err = k < 0 ? errno : EIO;
			break;
		}
		done += (size_t)k;
	}
	return done;
}
