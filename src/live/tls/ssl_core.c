/*
 * OpenSSL's SSL_read and SSL_read_ex are thin wrappers around one function (ssl_read_internal
 * in 1.1.1 and 3.x) that takes SSL_read_ex's arguments; SSL_write and SSL_write_ex wrap
 * ssl_write_internal. A uprobe and uretprobe there see every call of both wrappers, and they
 * cost less: each wrapper starts by moving the stack pointer, an instruction x86's uprobes
 * execute out of line with a second trap, while each internal function starts with a push,
 * which the kernel emulates. Decoding (capstone) finds them: the direct call or jump target
 * both readers share that no writer has, and the other way round.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <libelf.h>
#include <capstone/capstone.h>
#include "live/tls/elf.h"
#include "live/tls/ssl_core.h"

#define MAX_TARGETS 16  /* direct call and jump targets of one function kept */

enum { READ, READ_EX, WRITE, WRITE_EX, FUNCS };
static const char *const names[FUNCS] = { "SSL_read", "SSL_read_ex", "SSL_write",
					  "SSL_write_ex" };

/* The direct call and jump targets of one function, outside the function itself. */
struct targets {
	uint64_t addr[MAX_TARGETS];
	unsigned int n;
};

static int has(const struct targets *t, uint64_t addr)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (t->addr[i] == addr)
			return 1;
	return 0;
}

#if defined(__x86_64__)
/* Decodes the function at addr (its first bytes, at most LIVE_TLS_SSL_CORE_CODE) into t. */
static void find_targets(csh h, cs_insn *insn, const uint8_t *code, size_t n, uint64_t addr,
			 struct targets *t)
{
	const uint8_t *at = code;
	uint64_t pc = addr;
	size_t left = n;

	t->n = 0;
	while (left && cs_disasm_iter(h, &at, &left, &pc, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		uint64_t to;

		if ((insn->id != X86_INS_CALL && insn->id != X86_INS_JMP) || x->op_count != 1 ||
		    x->operands[0].type != X86_OP_IMM)
			continue;
		to = (uint64_t)x->operands[0].imm;
		if ((to >= addr && to < addr + n) || has(t, to) || t->n == MAX_TARGETS)
			continue;
		t->addr[t->n++] = to;
	}
}

/* The one target both of a's functions have and neither of b's; 0 when not exactly one. */
static uint64_t shared(const struct targets *a, const struct targets *b)
{
	uint64_t found = 0;

	for (unsigned int i = 0; i < a[0].n; i++) {
		uint64_t to = a[0].addr[i];

		if (!has(&a[1], to) || has(&b[0], to) || has(&b[1], to))
			continue;
		if (found)
			return 0;
		found = to;
	}
	return found;
}

/* The code of each function into t; -errno when one cannot be read. */
static int read_targets(int fd, Elf *e, uint64_t size, const uint64_t *addrs,
			const uint64_t *sizes, struct targets *t)
{
	uint8_t code[LIVE_TLS_SSL_CORE_CODE];
	cs_insn *insn;
	csh h;
	int err = 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -ENOTSUP;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(h);
	for (int f = 0; f < FUNCS && insn && !err; f++) {
		size_t n = sizes[f] < sizeof(code) ? sizes[f] : sizeof(code);
		uint64_t off;
		ssize_t got;

		err = live_tls_elf_code_offset(e, size, addrs[f], &off);
		if (err)
			break;
		if (off + n > size)
			n = size - off;
		got = pread(fd, code, n, (off_t)off);
		if (got != (ssize_t)n) {
			err = -EIO;
			break;
		}
		find_targets(h, insn, code, n, addrs[f], &t[f]);
	}
	if (!insn)
		err = -ENOMEM;
	cs_free(insn, 1);
	cs_close(&h);
	return err;
}

/* The file offset of a core at addr, or 0 when addr is 0 or not in executable code. */
static uint64_t core_offset(Elf *e, uint64_t size, uint64_t addr)
{
	uint64_t off;

	return addr && !live_tls_elf_code_offset(e, size, addr, &off) ? off : 0;
}

int live_tls_ssl_core(int fd, struct live_tls_ssl_core *core)
{
	static const char *const write_ex2[] = { "SSL_write_ex2" };
	uint64_t addrs[FUNCS], sizes[FUNCS], addr2, size;
	struct targets t[FUNCS];
	Elf *e;
	int err;

	memset(core, 0, sizeof(*core));
	err = live_tls_elf_begin(fd, &e, &size);
	if (err)
		return err;
	err = live_tls_elf_symbols(e, size, names, FUNCS, addrs, sizes);
	if (!err)
		err = read_targets(fd, e, size, addrs, sizes, t);
	if (!err) {
		core->read = core_offset(e, size, shared(&t[READ], &t[WRITE]));
		if (live_tls_elf_symbols(e, size, write_ex2, 1, &addr2, NULL) == -ENOENT)
			core->write = core_offset(e, size, shared(&t[WRITE], &t[READ]));
	}
	elf_end(e);
	return err == -ENOENT ? 0 : err;
}
#else
int live_tls_ssl_core(int fd, struct live_tls_ssl_core *core)
{
	(void)fd;
	memset(core, 0, sizeof(*core));
	return -ENOTSUP;
}
#endif
