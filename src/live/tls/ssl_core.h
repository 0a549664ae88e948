/*
 * The internal functions under OpenSSL's read and write calls, where one uprobe stands for
 * SSL_read and SSL_read_ex (and one for SSL_write and SSL_write_ex), found by decoding the
 * exported functions with capstone.
 */
#ifndef HTTPEEK_LIVE_TLS_SSL_CORE_H
#define HTTPEEK_LIVE_TLS_SSL_CORE_H

#include <stdint.h>

#define LIVE_TLS_SSL_CORE_CODE 1024u  /* bytes of each exported function decoded at most */

/* File offsets of the two functions; 0 where none was found. */
struct live_tls_ssl_core {
	uint64_t read;   /* ssl_read_internal(ssl, buf, num, size_t *readbytes) */
	uint64_t write;  /* ssl_write_internal(ssl, buf, num, size_t *written) */
};

/*
 * Reads libssl's file at fd (bounded, as elf.h's readers) and fills core. The read core is
 * the one direct call or jump target that SSL_read and SSL_read_ex share and neither
 * SSL_write nor SSL_write_ex has, inside an executable segment; the write core the other way
 * round, and none when the library has SSL_write_ex2 (OpenSSL 3.3 added a flags argument
 * before written). Returns 0 (core may still be all 0), or -errno when the file cannot be
 * read as ELF; -ENOTSUP on a machine other than x86-64.
 */
int live_tls_ssl_core(int fd, struct live_tls_ssl_core *core);

#endif
