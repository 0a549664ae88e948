/*
 * The return instructions of a function's machine code, found by decoding it with capstone:
 * where the TLS attacher puts the uprobes that stand for a Go function's return (Go stacks
 * move, so uretprobes, which rewrite the return address on the stack, cannot be used).
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

#endif
