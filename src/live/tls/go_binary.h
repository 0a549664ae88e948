/*
 * Where the uprobes go in a Go binary: crypto/tls's (*Conn).Write, Read (its entry and each
 * of its return instructions), Close and the client's and server's handshakes, found through .gopclntab (stripped
 * binaries have it too) with bounded work in a file that is hostile input.
 */
#ifndef HTTPEEK_LIVE_TLS_GO_BINARY_H
#define HTTPEEK_LIVE_TLS_GO_BINARY_H

#include <stdint.h>
#include "live/tls/go_rets.h"

#define LIVE_TLS_GO_MAX_TABLE (128u << 20)  /* bytes of .gopclntab read at most */
#define LIVE_TLS_GO_MAX_CODE (64u << 10)    /* bytes of (*Conn).Read decoded at most */

/* File offsets for uprobes; 0: none (Close and the handshakes are optional). */
struct live_tls_go_probes {
	uint64_t write, read, close, client_handshake, server_handshake;
	uint64_t rets[LIVE_TLS_GO_MAX_RETS];   /* (*Conn).Read's return instructions */
	uint32_t nrets;
	uint32_t magic;                        /* the pclntab's */
	char version[32];                      /* from .go.buildinfo; "" unknown */
};

/*
 * Reads the Go binary open at fd. Returns 0; -ENODATA when it is not a Go binary (no
 * .gopclntab); -ENOENT when it has no crypto/tls (*Conn).Read and Write; -EPROTO when the
 * table's layout is not one known (before Go 1.18, or newer than known); -EBADMSG when the
 * table or the code is malformed; -ENOEXEC when not an ELF file for this machine; -EFBIG past
 * a limit; -EIO when it could not be read whole or changed meanwhile.
 */
int live_tls_go_probes(int fd, struct live_tls_go_probes *out);

#endif
