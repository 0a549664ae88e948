/*
 * libFuzzer target for the TLS attacher's ELF readers: the input is a file (in memory, read
 * through a descriptor as the attacher reads one) in which OpenSSL's function names are looked
 * up, and the internal functions under its readers and writers (ssl_core.h), then read as a
 * Go binary (its sections, .gopclntab, Read's code). Whatever it holds, the readers return an
 * error or offsets inside the file.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include "live/tls/elf.h"
#include "live/tls/go_binary.h"
#include "live/tls/ssl_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "SSL_write", "SSL_read", "SSL_free" };
	struct live_tls_go_probes g;
	struct live_tls_ssl_core core;
	uint64_t off[3];
	int fd = memfd_create("elf", MFD_CLOEXEC), err;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	err = live_tls_elf_offsets(fd, names, 3, off);
	for (int i = 0; !err && i < 3; i++)
		if (off[i] >= size)
			abort();
	if (!live_tls_ssl_core(fd, &core) && (core.read >= size || core.write >= size))
		abort();
	err = live_tls_go_probes(fd, &g);
	close(fd);
	if (!err && (g.write >= size || g.read >= size || !g.nrets ||
		     g.nrets > LIVE_TLS_GO_MAX_RETS))
		abort();
	for (uint32_t i = 0; !err && i < g.nrets; i++)
		if (g.rets[i] < g.read || g.rets[i] >= size)
			abort();
	return 0;
}
