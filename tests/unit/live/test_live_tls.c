/*
 * Unit tests of the TLS attacher's pure parts: the bounded ELF reader (on build/tests/
 * tls-funcs.so, a shared object with OpenSSL's function names, and on broken copies of it)
 * and the memory of files attached to and failed.
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <elf.h>
#include "live/tls/elf.h"
#include "live/tls/files.h"

static const char *const names[] = { "SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex",
				     "SSL_do_handshake", "SSL_connect", "SSL_accept", "SSL_free" };
#define NNAMES (sizeof(names) / sizeof(names[0]))

static char funcs_path[4096];  /* build/tests/tls-funcs.so, beside this program */
static uint8_t *funcs;         /* its bytes */
static size_t funcs_len;

/* A file of len bytes from data, open for reading (a memfd: no file left behind). */
static int file_of(const void *data, size_t len)
{
	int fd = memfd_create("elf", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

static int offsets_of(const void *data, size_t len, uint64_t *off)
{
	int fd = file_of(data, len), err = live_tls_elf_offsets(fd, names, NNAMES, off);

	close(fd);
	return err;
}

/* Every name is found, at the code of its own function (x86-64: mov $N, %eax). */
static void test_elf_found(void **state)
{
	uint64_t off[NNAMES];

	assert_int_equal(offsets_of(funcs, funcs_len, off), 0);
	for (size_t i = 0; i < NNAMES; i++) {
		assert_true(off[i] + 6 <= funcs_len);
#if defined(__x86_64__)
		if (funcs[off[i]] != 0xb8 || funcs[off[i] + 1] != i + 1)
			fail_msg("%s at %llu: %02x %02x", names[i], (unsigned long long)off[i],
				 funcs[off[i]], funcs[off[i] + 1]);
#endif
	}
}

/* A name missing, too many names. */
static void test_elf_missing(void **state)
{
	const char *const other[] = { "SSL_write", "SSL_nonesuch" };
	uint64_t off[LIVE_TLS_ELF_MAX_NAMES + 1];
	const char *many[LIVE_TLS_ELF_MAX_NAMES + 1];
	int fd = file_of(funcs, funcs_len);

	assert_int_equal(live_tls_elf_offsets(fd, other, 2, off), -ENOENT);
	for (size_t i = 0; i < LIVE_TLS_ELF_MAX_NAMES + 1; i++)
		many[i] = "SSL_write";
	assert_int_equal(live_tls_elf_offsets(fd, many, LIVE_TLS_ELF_MAX_NAMES + 1, off), -EINVAL);
	close(fd);
}

/* A copy of the file with the bytes at off replaced by len bytes of patch. */
static int patched(size_t at, const void *patch, size_t len, uint64_t *off)
{
	uint8_t *copy = malloc(funcs_len);
	int err;

	assert_non_null(copy);
	memcpy(copy, funcs, funcs_len);
	memcpy(copy + at, patch, len);
	err = offsets_of(copy, funcs_len, off);
	free(copy);
	return err;
}

/* Every way of being wrong is an error, never a crash or unbounded work. */
static void test_elf_broken(void **state)
{
	const Elf64_Ehdr *h = (const Elf64_Ehdr *)funcs;
	uint16_t big = 0xffff, one = 1, machine = EM_NONE + 1;
	uint64_t huge = UINT64_MAX / 2, off[NNAMES];
	Elf64_Shdr sh;

	assert_int_equal(offsets_of("not an ELF file at all", 22, off), -ENOEXEC);
	assert_int_equal(offsets_of(funcs, 40, off), -ENOEXEC);              /* cut in its header */
	assert_int_equal(offsets_of(funcs, funcs_len / 2, off), -ENOEXEC);   /* headers past the end */
	assert_int_equal(patched(offsetof(Elf64_Ehdr, e_shnum), &big, 2, off), -EFBIG);
	assert_int_equal(patched(offsetof(Elf64_Ehdr, e_phnum), &big, 2, off), -ENOEXEC);
	assert_int_equal(patched(offsetof(Elf64_Ehdr, e_machine), &machine, 2, off), -ENOEXEC);
	assert_int_equal(patched(offsetof(Elf64_Ehdr, e_shentsize), &one, 2, off), -ENOEXEC);
	assert_int_equal(patched(offsetof(Elf64_Ehdr, e_shoff), &huge, 8, off), -ENOEXEC);
	/* The dynamic symbol table claims more than the limit, or more than the file. */
	for (uint16_t i = 1; i < h->e_shnum; i++) {
		size_t at = h->e_shoff + (size_t)i * sizeof(sh);

		memcpy(&sh, funcs + at, sizeof(sh));
		if (sh.sh_type != SHT_DYNSYM)
			continue;
		sh.sh_size = LIVE_TLS_ELF_MAX_TABLE + sizeof(Elf64_Sym);
		assert_int_equal(patched(at, &sh, sizeof(sh), off), -EFBIG);
		sh.sh_size = funcs_len;
		assert_int_equal(patched(at, &sh, sizeof(sh), off), -ENOEXEC);
		sh.sh_link = 0xffff;
		assert_int_equal(patched(at, &sh, sizeof(sh), off), -ENOEXEC);
	}
}

/* Not a regular file: refused before anything is read. */
static void test_elf_not_regular(void **state)
{
	uint64_t off[NNAMES];
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(live_tls_elf_offsets(p[0], names, NNAMES, off), -ENOEXEC);
	close(p[0]);
	close(p[1]);
}

static struct live_tls_stamp stamp(int64_t size, int64_t mtime)
{
	return (struct live_tls_stamp){ .size = size, .mtime_ns = mtime, .ctime_ns = mtime };
}

/* Failures never take a place among the attached; the oldest failure is forgotten first. */
static void test_files_failures_apart(void **state)
{
	struct live_tls_files *f = live_tls_files_new(2, 3);
	struct live_tls_stamp s = stamp(100, 1);

	assert_non_null(f);
	for (uint64_t ino = 1; ino <= 300; ino++)
		live_tls_files_failed(f, (struct live_tls_key){ 8, ino }, &s, ino * 1000);
	assert_true(live_tls_files_has_room(f));
	assert_int_equal(live_tls_files_attach(f, (struct live_tls_key){ 8, 500 },
					       (struct live_tls_key){ 0, 0 }), 0);
	assert_true(live_tls_files_attached(f, (struct live_tls_key){ 8, 500 }));
	/* The three newest failures are remembered, the older ones forgotten. */
	assert_true(live_tls_files_unchanged(f, (struct live_tls_key){ 8, 300 }, &s, 301000));
	assert_true(live_tls_files_unchanged(f, (struct live_tls_key){ 8, 298 }, &s, 301000));
	assert_false(live_tls_files_unchanged(f, (struct live_tls_key){ 8, 297 }, &s, 301000));
	assert_false(live_tls_files_unchanged(f, (struct live_tls_key){ 8, 1 }, &s, 301000));
	live_tls_files_free(f);
}

/* A failed file is opened again after recheck_ns, and tried again only when it changed. */
static void test_files_changed(void **state)
{
	struct live_tls_files *f = live_tls_files_new(4, 4);
	struct live_tls_key k = { 8, 42 }, none = { 0, 0 };
	struct live_tls_stamp half = stamp(300000, 1), whole = stamp(600000, 2);

	assert_non_null(f);
	assert_true(live_tls_files_worth_opening(f, k, 1000, 100));
	live_tls_files_failed(f, k, &half, 1000);
	assert_false(live_tls_files_worth_opening(f, k, 1050, 100));
	assert_true(live_tls_files_worth_opening(f, k, 1100, 100));
	assert_true(live_tls_files_unchanged(f, k, &half, 1100));
	assert_false(live_tls_files_worth_opening(f, k, 1150, 100));  /* looked at, at 1100 */
	assert_false(live_tls_files_unchanged(f, k, &whole, 1200));
	assert_int_equal(live_tls_files_attach(f, k, (struct live_tls_key){ 9, 42 }), 0);
	assert_false(live_tls_files_worth_opening(f, k, 5000, 100));
	assert_true(live_tls_files_attached(f, (struct live_tls_key){ 9, 42 }));  /* its alias */
	assert_false(live_tls_files_attached(f, none));
	assert_false(live_tls_files_unchanged(f, k, &half, 5000));  /* its failure is forgotten */
	live_tls_files_free(f);
}

/* The table of attached files is bounded; past it, -ENOSPC. */
static void test_files_full(void **state)
{
	struct live_tls_files *f = live_tls_files_new(2, 1);
	struct live_tls_key none = { 0, 0 };

	assert_non_null(f);
	assert_int_equal(live_tls_files_attach(f, (struct live_tls_key){ 1, 1 }, none), 0);
	assert_int_equal(live_tls_files_attach(f, (struct live_tls_key){ 1, 2 }, none), 0);
	assert_false(live_tls_files_has_room(f));
	assert_int_equal(live_tls_files_attach(f, (struct live_tls_key){ 1, 3 }, none), -ENOSPC);
	assert_false(live_tls_files_attached(f, (struct live_tls_key){ 1, 3 }));
	live_tls_files_free(f);
}

static int load_funcs(void **state)
{
	struct stat st;
	int fd = open(funcs_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		fail_msg("cannot read %s (make builds it)", funcs_path);
	funcs_len = (size_t)st.st_size;
	funcs = malloc(funcs_len);
	assert_non_null(funcs);
	assert_int_equal(read(fd, funcs, funcs_len), (ssize_t)funcs_len);
	close(fd);
	return 0;
}

static int free_funcs(void **state)
{
	free(funcs);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_found),
		cmocka_unit_test(test_elf_missing),
		cmocka_unit_test(test_elf_broken),
		cmocka_unit_test(test_elf_not_regular),
		cmocka_unit_test(test_files_failures_apart),
		cmocka_unit_test(test_files_changed),
		cmocka_unit_test(test_files_full),
	};
	char self[4096];

	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(funcs_path, sizeof(funcs_path), "%s/tls-funcs.so", dirname(self));
	return cmocka_run_group_tests(tests, load_funcs, free_funcs);
}
