/*
 * Unit tests of live/tls/ssl_core.c, which finds the internal functions under OpenSSL's
 * SSL_read/SSL_read_ex and SSL_write/SSL_write_ex: on build/tests/tls-cores.so (wrappers
 * around core_read and core_write, exported there so that the test knows where they are),
 * its twin with SSL_write_ex2, tls-funcs.so (no calls at all) and this host's libssl.so.3.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sys/mman.h>
#include "live/tls/elf.h"
#include "live/tls/ssl_core.h"

static char dir[4096];  /* build/tests, where this program and the shared objects are */

static int open_built(const char *name)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("cannot read %s (make builds it)", path);
	return fd;
}

/* The wrappers' shared targets are found; the error function all four call is not taken. */
static void test_core_found(void **state)
{
	static const char *const cores[] = { "core_read", "core_write" };
	struct live_tls_ssl_core c;
	uint64_t want[2];
	int fd = open_built("tls-cores.so");

	(void)state;
	assert_int_equal(live_tls_elf_offsets(fd, cores, 2, want), 0);
	assert_int_equal(live_tls_ssl_core(fd, &c), 0);
	assert_int_equal(c.read, want[0]);
	assert_int_equal(c.write, want[1]);
	close(fd);
}

/* With SSL_write_ex2 (OpenSSL 3.3), whose writer takes another argument: the reader only. */
static void test_core_write_ex2(void **state)
{
	static const char *const cores[] = { "core_read" };
	struct live_tls_ssl_core c;
	uint64_t want;
	int fd = open_built("tls-cores-ex2.so");

	(void)state;
	assert_int_equal(live_tls_elf_offsets(fd, cores, 1, &want), 0);
	assert_int_equal(live_tls_ssl_core(fd, &c), 0);
	assert_int_equal(c.read, want);
	assert_int_equal(c.write, 0);
	close(fd);
}

/* Functions that call nothing: no core, the exported functions are probed. */
static void test_core_none(void **state)
{
	struct live_tls_ssl_core c = { 1, 1 };
	int fd = open_built("tls-funcs.so");

	(void)state;
	assert_int_equal(live_tls_ssl_core(fd, &c), 0);
	assert_int_equal(c.read, 0);
	assert_int_equal(c.write, 0);
	close(fd);
}

/* Not ELF: an error, no core. */
static void test_core_not_elf(void **state)
{
	struct live_tls_ssl_core c = { 1, 1 };
	int fd = memfd_create("junk", MFD_CLOEXEC);

	(void)state;
	assert_int_equal(write(fd, "not an ELF file at all, just text\n", 34), 34);
	assert_int_equal(live_tls_ssl_core(fd, &c), -ENOEXEC);
	assert_int_equal(c.read, 0);
	assert_int_equal(c.write, 0);
	close(fd);
}

/* This host's OpenSSL: two distinct internal functions, none of them an exported one. */
static void test_core_host_libssl(void **state)
{
	static const char *const names[] = { "SSL_read", "SSL_read_ex", "SSL_write",
					     "SSL_write_ex", "SSL_peek", "SSL_do_handshake" };
	const char *paths[] = { "/usr/lib/x86_64-linux-gnu/libssl.so.3",
				"/lib/x86_64-linux-gnu/libssl.so.3" };
	struct live_tls_ssl_core c;
	uint64_t off[6];
	int fd = -1;

	(void)state;
	for (size_t i = 0; i < 2 && fd < 0; i++)
		fd = open(paths[i], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("libssl.so.3 not found (scripts/deps.sh installs libssl3)");
	assert_int_equal(live_tls_elf_offsets(fd, names, 6, off), 0);
	assert_int_equal(live_tls_ssl_core(fd, &c), 0);
	assert_true(c.read && c.write && c.read != c.write);
	for (size_t i = 0; i < 6; i++)
		assert_true(c.read != off[i] && c.write != off[i]);
	close(fd);
}

#if !defined(__x86_64__)
/* Elsewhere the exported functions are probed: nothing is decoded. */
static void test_core_other_machine(void **state)
{
	struct live_tls_ssl_core c = { 1, 1 };
	int fd = open_built("tls-cores.so");

	(void)state;
	assert_int_equal(live_tls_ssl_core(fd, &c), -ENOTSUP);
	assert_int_equal(c.read, 0);
	close(fd);
}
#endif

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#if defined(__x86_64__)
		cmocka_unit_test(test_core_found),
		cmocka_unit_test(test_core_write_ex2),
		cmocka_unit_test(test_core_none),
		cmocka_unit_test(test_core_not_elf),
		cmocka_unit_test(test_core_host_libssl),
#else
		cmocka_unit_test(test_core_other_machine),
#endif
	};
	char self[4096];

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s", dirname(self));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
