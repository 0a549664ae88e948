/* Return instructions, decoded with capstone (its iterating decoder: no allocation per step). */
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

int live_tls_go_rets(const uint8_t *code, size_t n, uint64_t addr, uint64_t *rets, size_t max)
{
#ifdef ARCH
	const uint8_t *at = code;
	uint64_t pc = addr;
	size_t left = n;
	int found = 0;
	cs_insn *insn;
	csh h;

	if (cs_open(ARCH, MODE, &h) != CS_ERR_OK)
		return -ENOTSUP;
	insn = cs_malloc(h);
	if (!insn) {
		cs_close(&h);
		return -ENOTSUP;
	}
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
	cs_free(insn, 1);
	cs_close(&h);
	return found;
#else
	return -ENOTSUP;
#endif
}
