/*
 * Unit tests of the Go side of the TLS attacher: the .gopclntab reader and the .go.buildinfo
 * version on tables built here (a well-formed one, then each kind of damage), and the return
 * instructions capstone finds in x86-64 code. tests/live/tls/check_go_tls.py reads real Go
 * binaries (built by the test) end to end.
 */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "live/tls/go_pclntab.h"
#include "live/tls/go_rets.h"

#define TEXT 0x401000u
#define HDR 72u

static const char *const names[] = { "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read",
				     "crypto/tls.(*Conn).Close" };
static const uint8_t required[] = { 1, 1, 0 };
static const char *const table_names[] = { "main.main", "crypto/tls.(*Conn).Read",
					   "crypto/tls.(*Conn).Write" };
static const uint32_t entries[] = { 0x0, 0x40, 0x100, 0x200 };  /* the last: the end */

static uint8_t tab[512];
static size_t tab_len;
static size_t functab_at;

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A Go 1.18 table (magic, 64-bit) of three functions, as the linker lays it out. */
static void build(uint32_t magic)
{
	size_t at = HDR, name_off[3];

	memset(tab, 0, sizeof(tab));
	put32(tab, magic);
	tab[6] = 1;
	tab[7] = 8;
	for (int i = 0; i < 3; i++) {
		name_off[i] = at - HDR;
		memcpy(tab + at, table_names[i], strlen(table_names[i]) + 1);
		at += strlen(table_names[i]) + 1;
	}
	at = (at + 7) & ~(size_t)7;
	functab_at = at;
	put64(tab + 8, 3);
	put64(tab + 24, TEXT);
	put64(tab + 32, HDR);           /* names */
	for (int w = 4; w < 7; w++)
		put64(tab + 8 + 8 * w, HDR);  /* cu, files, pc: unused here */
	put64(tab + 64, functab_at);
	for (int i = 0; i < 3; i++) {
		uint32_t rec = 28 + 8 * (uint32_t)i;  /* records after the 3 pairs and the end */

		put32(tab + at + 8 * i, entries[i]);
		put32(tab + at + 8 * i + 4, rec);
		put32(tab + at + rec, entries[i]);
		put32(tab + at + rec + 4, (uint32_t)name_off[i]);
	}
	put32(tab + at + 24, entries[3]);
	tab_len = at + 28 + 24;
}

static int lookup(size_t len, struct live_tls_go_func *f)
{
	uint32_t magic;

	return live_tls_go_pclntab(tab, len, 0, names, required, 3, f, &magic);
}

static void test_pclntab_found(void **state)
{
	struct live_tls_go_func f[3];
	uint32_t magic;

	(void)state;
	for (int v = 0; v < 2; v++) {
		build(v ? LIVE_TLS_GO_MAGIC_120 : LIVE_TLS_GO_MAGIC_118);
		assert_int_equal(live_tls_go_pclntab(tab, tab_len, 0, names, required, 3, f, &magic),
				 0);
		assert_int_equal(magic, v ? LIVE_TLS_GO_MAGIC_120 : LIVE_TLS_GO_MAGIC_118);
		assert_int_equal(f[0].entry, TEXT + 0x100);  /* Write */
		assert_int_equal(f[0].size, 0x100);
		assert_int_equal(f[1].entry, TEXT + 0x40);   /* Read */
		assert_int_equal(f[1].size, 0xc0);
		assert_int_equal(f[2].entry, 0);             /* Close: optional, absent */
	}
	/* A text start of 0 (position-independent): the caller's .text address. */
	build(LIVE_TLS_GO_MAGIC_118);
	put64(tab + 24, 0);
	assert_int_equal(live_tls_go_pclntab(tab, tab_len, 0x1000, names, required, 3, f, &magic),
			 0);
	assert_int_equal(f[1].entry, 0x1040);
	assert_int_equal(live_tls_go_pclntab(tab, tab_len, 0, names, required, 3, f, &magic),
			 -EBADMSG);
}

static void test_pclntab_missing(void **state)
{
	static const uint8_t need_close[] = { 1, 1, 1 };
	struct live_tls_go_func f[3];
	uint32_t magic;

	(void)state;
	build(LIVE_TLS_GO_MAGIC_118);
	assert_int_equal(live_tls_go_pclntab(tab, tab_len, 0, names, need_close, 3, f, &magic),
			 -ENOENT);
	/* A name that only starts like one is not it. */
	memcpy(tab + HDR + strlen("main.main") + 1 + strlen("crypto/tls.(*Conn).Re"), "ad2", 3);
	assert_int_equal(lookup(tab_len, f), -ENOENT);
}

static void test_pclntab_layouts(void **state)
{
	struct live_tls_go_func f[3];

	(void)state;
	build(0xfffffffa);  /* Go 1.16 and 1.17 */
	assert_int_equal(lookup(tab_len, f), -EPROTO);
	build(0xfffffffb);  /* Go 1.2 to 1.15 */
	assert_int_equal(lookup(tab_len, f), -EPROTO);
	build(LIVE_TLS_GO_MAGIC_120);
	tab[7] = 6;         /* a pointer size no Go has */
	assert_int_equal(lookup(tab_len, f), -EPROTO);
	build(LIVE_TLS_GO_MAGIC_120);
	tab[6] = 3;
	assert_int_equal(lookup(tab_len, f), -EPROTO);
}

/* Every prefix of the table is refused, none is read past. */
static void test_pclntab_truncated(void **state)
{
	struct live_tls_go_func f[3];
	uint8_t *copy;

	(void)state;
	build(LIVE_TLS_GO_MAGIC_118);
	for (size_t len = 0; len < tab_len; len++) {
		copy = malloc(len ? len : 1);
		memcpy(copy, tab, len);
		assert_int_not_equal(live_tls_go_pclntab(copy, len, 0, names, required, 3, f,
							 &(uint32_t){ 0 }), 0);
		free(copy);
	}
}

static void test_pclntab_malformed(void **state)
{
	struct live_tls_go_func f[3];

	(void)state;
	build(LIVE_TLS_GO_MAGIC_118);
	put64(tab + 8, 1ull << 60);                  /* a huge function count */
	assert_int_equal(lookup(tab_len, f), -EBADMSG);
	build(LIVE_TLS_GO_MAGIC_118);
	put64(tab + 64, tab_len + 100);              /* the function table past the end */
	assert_int_equal(lookup(tab_len, f), -EBADMSG);
	build(LIVE_TLS_GO_MAGIC_118);
	put32(tab + functab_at + 28 + 8 + 4, 0x7fffffff);  /* a name past the end */
	assert_int_equal(lookup(tab_len, f), -EBADMSG);
	build(LIVE_TLS_GO_MAGIC_118);
	put32(tab + functab_at + 4, 0xfffffff0);     /* a record past the end */
	assert_int_equal(lookup(tab_len, f), -EBADMSG);
	build(LIVE_TLS_GO_MAGIC_118);
	put32(tab + functab_at + 28 + 8, 0x44);      /* a record that disagrees with its entry */
	assert_int_equal(lookup(tab_len, f), -EBADMSG);
	build(LIVE_TLS_GO_MAGIC_118);
	put32(tab + functab_at + 16, 0x20);          /* entries out of order */
	assert_int_equal(lookup(tab_len, f), -EBADMSG);
}

static size_t buildinfo(uint8_t *b, uint8_t flags, const char *v)
{
	memset(b, 0, 64);
	memcpy(b, "\xff Go buildinf:", 14);
	b[14] = 8;
	b[15] = flags;
	b[32] = (uint8_t)strlen(v);
	memcpy(b + 33, v, strlen(v));
	return 33 + strlen(v);
}

static void test_version(void **state)
{
	uint8_t b[64];
	char v[32];
	size_t n;

	(void)state;
	n = buildinfo(b, 2, "go1.19.8");
	assert_int_equal(live_tls_go_version(b, n, v, sizeof(v)), 0);
	assert_string_equal(v, "go1.19.8");
	assert_int_equal(live_tls_go_version(b, n - 1, v, sizeof(v)), -EBADMSG);
	assert_int_equal(live_tls_go_version(b, n, v, 8), -EBADMSG);  /* no room */
	n = buildinfo(b, 0, "go1.17");                                /* pointers: older */
	assert_int_equal(live_tls_go_version(b, n, v, sizeof(v)), -EPROTO);
	n = buildinfo(b, 2, "go1.2\n");
	assert_int_equal(live_tls_go_version(b, n, v, sizeof(v)), -EBADMSG);
	b[32] = 0xff;                                                 /* a varint that never ends */
	memset(b + 33, 0xff, sizeof(b) - 33);
	assert_int_equal(live_tls_go_version(b, sizeof(b), v, sizeof(v)), -EBADMSG);
}

static void test_rets(void **state)
{
	/* sub $0x68,%rsp; test %eax,%eax; je +2; ret; nop; add $0x68,%rsp; ret; int3 padding */
	static const uint8_t code[] = { 0x48, 0x83, 0xec, 0x68, 0x85, 0xc0, 0x74, 0x01, 0xc3,
					0x90, 0x48, 0x83, 0xc4, 0x68, 0xc3, 0xcc, 0xcc };
	/* movabs with a 0xc3 inside its immediate: no return there */
	static const uint8_t imm[] = { 0x48, 0xb8, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3,
				       0xc3 };
	uint64_t rets[4];

	(void)state;
	assert_int_equal(live_tls_go_rets(code, sizeof(code), 0x1000, rets, 4), 2);
	assert_int_equal(rets[0], 0x1008);
	assert_int_equal(rets[1], 0x100e);
	assert_int_equal(live_tls_go_rets(imm, sizeof(imm), 0, rets, 4), 1);
	assert_int_equal(rets[0], 10);
	assert_int_equal(live_tls_go_rets(code, sizeof(code), 0, rets, 1), -E2BIG);
	/* cut inside the movabs: does not decode */
	assert_int_equal(live_tls_go_rets(imm, 5, 0, rets, 4), -ENOEXEC);
}

/*
 * The entry probe's place: the stack check's jump, in both forms Go 1.19 emits (bytes from
 * (*Conn).Write and Read of a Go 1.19 build), and the entry itself for any other start.
 */
static void test_entry(void **state)
{
	/* lea -0x68(%rsp),%r12; cmp 0x10(%r14),%r12; jbe ...; sub $0xe8,%rsp */
	static const uint8_t big[] = { 0x4c, 0x8d, 0x64, 0x24, 0x98, 0x4d, 0x3b, 0x66, 0x10, 0x0f,
				       0x86, 0x64, 0x07, 0x00, 0x00, 0x48, 0x81, 0xec, 0xe8, 0x00,
				       0x00, 0x00 };
	/* cmp 0x10(%r14),%rsp; jbe ...; sub $0x68,%rsp */
	static const uint8_t small[] = { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0xc2, 0x03, 0x00,
					 0x00, 0x48, 0x83, 0xec, 0x68 };
	/* cmp 0x18(%r14),%rsp (not the stack guard); jbe */
	static const uint8_t other[] = { 0x49, 0x3b, 0x66, 0x18, 0x0f, 0x86, 0xc2, 0x03, 0x00, 0x00 };
	/* lea -0x68(%rsp),%rax (an argument register); cmp 0x10(%r14),%rax; jbe */
	static const uint8_t arg[] = { 0x48, 0x8d, 0x44, 0x24, 0x98, 0x49, 0x3b, 0x46, 0x10, 0x0f,
				       0x86, 0x64, 0x07, 0x00, 0x00 };

	(void)state;
#if defined(__x86_64__)
	assert_int_equal(live_tls_go_entry(big, sizeof(big), 0x5a1a00), 0x5a1a09);
	assert_int_equal(live_tls_go_entry(small, sizeof(small), 0x5a2ec0), 0x5a2ec4);
#endif
	assert_int_equal(live_tls_go_entry(other, sizeof(other), 0x1000), 0x1000);
	assert_int_equal(live_tls_go_entry(arg, sizeof(arg), 0x1000), 0x1000);
	assert_int_equal(live_tls_go_entry(small, 4, 0x1000), 0x1000);  /* the jump cut off */
	assert_int_equal(live_tls_go_entry(small + 4, sizeof(small) - 4, 0x1000), 0x1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry),
		cmocka_unit_test(test_pclntab_found),
		cmocka_unit_test(test_pclntab_missing),
		cmocka_unit_test(test_pclntab_layouts),
		cmocka_unit_test(test_pclntab_truncated),
		cmocka_unit_test(test_pclntab_malformed),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_rets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
