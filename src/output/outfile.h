/*
 * Output files (-O, -w): opened without following a symbolic link, created 0600, refused when
 * another user owns them, and truncated only once tracing is ready.
 */
#ifndef HTTPEEK_OUTFILE_H
#define HTTPEEK_OUTFILE_H

#include <stddef.h>

/*
 * Opens path for writing without truncating it: created with mode 0600 when missing; an
 * existing one must be a regular file of httpeek's own user with one link (its group and
 * other permission bits are cleared) or a character device such as /dev/null. A symbolic
 * link, dangling or not, is refused. Returns a descriptor, or -errno after a one-line error.
 */
int outfile_open(const char *path);

/*
 * Empties the file behind fd (opened by outfile_open): called once set-up has succeeded, so
 * that a failed start leaves an existing file as it was. Returns 0 or -errno after a
 * one-line error.
 */
int outfile_truncate(int fd, const char *path);

/*
 * Writes p[0..n) to fd, again after short writes and EINTR. Returns the bytes written; when
 * that is fewer than n, *err holds the errno of the write that failed.
 */
size_t outfile_write(int fd, const void *p, size_t n, int *err);

#endif
