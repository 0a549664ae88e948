/*
 * Go functions' code, decoded with capstone: the return instructions, where the TLS attacher
 * puts the uprobes that stand for a Go function's return (Go stacks move, so uretprobes, which
 * rewrite the return address on the stack, cannot be used), and the entry probe's cheapest
 * place.
 */
#ifndef HTTPEEK_LIVE_TLS_GO_RETS_H
#define HTTPEEK_LIVE_TLS_GO_RETS_H

#include <stddef.h>
#include <stdint.h>

#define LIVE_TLS_GO_MAX_RETS 32u   /* return instructions of one function, at most */

/*
 * Decodes the n bytes of code, the function at address addr, for this machine (x86-64 or
 * arm64), and writes the address of each return instruction to rets (at most max). Every byte
 * must decode (a function's padding does). Returns how many were found (0: none), -ENOEXEC
 * when a byte does not decode, -E2BIG past max, -ENOTSUP on another machine or when capstone
 * cannot be opened.
 */
int live_tls_go_rets(const uint8_t *code, size_t n, uint64_t addr, uint64_t *rets, size_t max);

/*
 * Where an entry uprobe on the Go function whose first n bytes of code are at addr costs one
 * trap: on the conditional jump of its stack check (x86-64: `cmp rsp, [r14+16]`, or `lea r12,
 * [rsp-N]` then `cmp r12, [r14+16]`, then `jbe`), which the kernel emulates, where the check's
 * first instruction would be single-stepped out of line in a second trap. Nothing before the
 * jump writes an argument register, and a call that grows its stack comes back through both
 * places alike. Returns that address, or addr when the code does not start so (or on another
 * machine).
 */
uint64_t live_tls_go_entry(const uint8_t *code, size_t n, uint64_t addr);

#endif
