/*
 * Return instructions and the stack check, decoded with capstone (its iterating decoder: no
 * allocation per step).
 */
#include <errno.h>
#include <capstone/capstone.h>
#include "live/tls/go_rets.h"

#if defined(__x86_64__)
#define ARCH CS_ARCH_X86
#define MODE CS_MODE_64
#define IS_RET(id) ((id) == X86_INS_RET)
#elif defined(__aarch64__)
#define ARCH CS_ARCH_ARM64
#define MODE CS_MODE_ARM
#define IS_RET(id) ((id) == ARM64_INS_RET)
#endif

#ifdef ARCH
/* A decoder for arch and mode (with each instruction's operands when detail) and its buffer. */
static int decoder_open(cs_arch arch, cs_mode mode, int detail, csh *h, cs_insn **insn)
{
	if (cs_open(arch, mode, h) != CS_ERR_OK)
		return -ENOTSUP;
	if (detail)
		cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	*insn = cs_malloc(*h);
	if (!*insn) {
		cs_close(h);
		return -ENOTSUP;
	}
	return 0;
}

static void decoder_close(csh *h, cs_insn *insn)
{
	cs_free(insn, 1);
	cs_close(h);
}
#endif

int live_tls_go_rets(const uint8_t *code, size_t n, uint64_t addr, uint64_t *rets, size_t max)
{
#ifdef ARCH
	const uint8_t *at = code;
	uint64_t pc = addr;
	size_t left = n;
	int found = 0;
	cs_insn *insn;
	csh h;

	if (decoder_open(ARCH, MODE, 0, &h, &insn))
		return -ENOTSUP;
	/* Each step consumes at least one byte: at most n steps. */
	while (left && cs_disasm_iter(h, &at, &left, &pc, insn)) {
		if (!IS_RET(insn->id))
			continue;
		if ((size_t)found == max) {
			found = -E2BIG;
			break;
		}
		rets[found++] = insn->address;
	}
	if (found >= 0 && left)
		found = -ENOEXEC;
	decoder_close(&h, insn);
	return found;
#else
	return -ENOTSUP;
#endif
}

#if defined(__x86_64__)
/* ins is `OP reg, [r14 + 16]` (the goroutine's stack guard), or, for lea, `lea r12, [rsp...]`. */
static int stack_check_step(const cs_insn *ins, unsigned int id, x86_reg reg, x86_reg base)
{
	const cs_x86 *x = &ins->detail->x86;

	return ins->id == id && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	       x->operands[0].reg == reg && x->operands[1].type == X86_OP_MEM &&
	       x->operands[1].mem.base == base && x->operands[1].mem.index == X86_REG_INVALID &&
	       (base != X86_REG_R14 || x->operands[1].mem.disp == 16);
}
#endif

uint64_t live_tls_go_entry(const uint8_t *code, size_t n, uint64_t addr)
{
#if defined(__x86_64__)
	const uint8_t *at = code;
	uint64_t pc = addr, found = addr;
	size_t left = n;
	x86_reg cmp_reg = X86_REG_RSP;
	int compared = 0;
	cs_insn *insn;
	csh h;

	if (decoder_open(CS_ARCH_X86, CS_MODE_64, 1, &h, &insn))
		return addr;
	for (int step = 0; step < 3 && left && cs_disasm_iter(h, &at, &left, &pc, insn);
	     step++) {
		if (step == 0 && stack_check_step(insn, X86_INS_LEA, X86_REG_R12, X86_REG_RSP)) {
			cmp_reg = X86_REG_R12;
			continue;
		}
		if (!compared && stack_check_step(insn, X86_INS_CMP, cmp_reg, X86_REG_R14)) {
			compared = 1;
			continue;
		}
		if (compared && insn->id == X86_INS_JBE)
			found = insn->address;
		break;
	}
	decoder_close(&h, insn);
	return found;
#else
	(void)code;
	(void)n;
	return addr;
#endif
}
