/*
 * Go binaries without symbols: functions found in the runtime's own table, .gopclntab (present
 * in stripped binaries too), and the Go version in .go.buildinfo. Pure: both read a copy of
 * the section in memory, which is hostile input (any size, any bytes).
 */
#ifndef HTTPEEK_LIVE_TLS_GO_PCLNTAB_H
#define HTTPEEK_LIVE_TLS_GO_PCLNTAB_H

#include <stddef.h>
#include <stdint.h>

#define LIVE_TLS_GO_MAGIC_118 0xfffffff0u  /* Go 1.18 and 1.19 */
#define LIVE_TLS_GO_MAGIC_120 0xfffffff1u  /* Go 1.20 and later */
#define LIVE_TLS_GO_MAX_NAMES 8u           /* names looked up in one call */
#define LIVE_TLS_GO_NAME_MAX 256u          /* bytes of a function name compared at most */

/* A function: its address (link-time) and its size in bytes, up to the next function. */
struct live_tls_go_func {
	uint64_t entry;
	uint64_t size;
};

/*
 * Finds the n names among the functions of the pclntab p (size bytes, a little-endian Go 1.18
 * or later table, magic LIVE_TLS_GO_MAGIC_*). text is the address of .text, used when the
 * table's own text start is 0 (position-independent builds leave it to a relocation). Every
 * offset and count is checked against size before it is used; the work is at most one pass
 * over the function table. Writes each function found to funcs (entry 0: not found) and the
 * table's magic to *magic. Returns 0 when every name with required[k] set was found; -ENOENT
 * when one is missing; -EPROTO when the layout is not one known (another magic, pointer size
 * or instruction size); -EBADMSG when the table is malformed (out of bounds, unordered, its
 * records disagree); -EINVAL for more than LIVE_TLS_GO_MAX_NAMES names.
 */
int live_tls_go_pclntab(const uint8_t *p, size_t size, uint64_t text, const char *const *names,
			const uint8_t *required, size_t n, struct live_tls_go_func *funcs,
			uint32_t *magic);

/*
 * The Go version ("go1.19.8") in a .go.buildinfo section of size bytes, copied to out (cap
 * bytes, NUL-terminated). Only the form of Go 1.18 and later (the version inline) is read.
 * Returns 0, -EPROTO for another form, -EBADMSG when malformed or not printable.
 */
int live_tls_go_version(const uint8_t *p, size_t size, char *out, size_t cap);

#endif
