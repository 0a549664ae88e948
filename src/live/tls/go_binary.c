/*
 * A Go binary's probes: its sections found by name through libelf (the section name table
 * checked first), .gopclntab and .go.buildinfo copied to memory with pread (bounded), the
 * functions looked up there, (*Conn).Read's code decoded for its returns. The file's size and
 * times are compared before and after: a file that changed while it was read is refused.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "live/tls/elf.h"
#include "live/tls/go_binary.h"
#include "live/tls/go_pclntab.h"

enum { F_WRITE, F_READ, F_CLOSE, F_CLIENT, F_SERVER, NFUNCS };
static const char *const go_funcs[NFUNCS] = {
	"crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Close",
	"crypto/tls.(*Conn).clientHandshake", "crypto/tls.(*Conn).serverHandshake",
};
static const uint8_t go_required[NFUNCS] = { 1, 1, 0, 0, 0 };

/* The header of the section named name (one of the first LIVE_TLS_ELF_MAX_SECTIONS). */
static int section(Elf *e, const char *name, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(e, &shstrndx))
		return -ENOEXEC;
	scn = elf_getscn(e, shstrndx);
	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB)
		return -ENOEXEC;
	if (sh.sh_size > LIVE_TLS_ELF_MAX_TABLE)
		return -EFBIG;
	scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		const char *s;

		if (!gelf_getshdr(scn, &sh))
			return -ENOEXEC;
		s = elf_strptr(e, shstrndx, sh.sh_name);
		if (s && !strcmp(s, name)) {
			*out = sh;
			return 0;
		}
	}
	return -ENODATA;
}

/* n bytes at off of a file of size bytes, into a new buffer (*out). */
static int read_range(int fd, uint64_t size, uint64_t off, uint64_t n, uint64_t max,
		      uint8_t **out)
{
	uint8_t *b;

	*out = NULL;
	if (n > max)
		return -EFBIG;
	if (!n || off > size || n > size - off)
		return -EBADMSG;
	b = malloc(n);
	if (!b)
		return -ENOMEM;
	if (pread(fd, b, n, (off_t)off) != (ssize_t)n) {
		free(b);
		return -EIO;
	}
	*out = b;
	return 0;
}

/* A section's bytes (SHT_PROGBITS), at most max. */
static int read_section(int fd, Elf *e, uint64_t size, const char *name, uint64_t max,
			uint8_t **out, GElf_Shdr *sh)
{
	int err = section(e, name, sh);

	*out = NULL;
	if (err)
		return err;
	if (sh->sh_type != SHT_PROGBITS)
		return -EBADMSG;
	return read_range(fd, size, sh->sh_offset, sh->sh_size, max, out);
}

/*
 * The file offsets of the functions found (Write's and Read's entry probes on their stack
 * check's jump: go_rets.h), and (*Conn).Read's returns.
 */
static int place(int fd, Elf *e, uint64_t size, const struct live_tls_go_func *f,
		 struct live_tls_go_probes *out)
{
	uint64_t *offs[NFUNCS] = { &out->write, &out->read, &out->close, &out->client_handshake,
				   &out->server_handshake };
	uint64_t addrs[LIVE_TLS_GO_MAX_RETS], entry;
	uint8_t *code;
	int err, n;

	for (int k = 0; k < NFUNCS; k++)
		if (f[k].entry && live_tls_elf_code_offset(e, size, f[k].entry, offs[k]))
			return -EBADMSG;
	n = f[F_WRITE].size < 32 ? (int)f[F_WRITE].size : 32;  /* the stack check's bytes */
	err = read_range(fd, size, out->write, (uint64_t)n, LIVE_TLS_GO_MAX_CODE, &code);
	if (err)
		return err;
	out->write += live_tls_go_entry(code, (size_t)n, f[F_WRITE].entry) - f[F_WRITE].entry;
	free(code);
	err = read_range(fd, size, out->read, f[F_READ].size, LIVE_TLS_GO_MAX_CODE, &code);
	if (err)
		return err;
	n = live_tls_go_rets(code, f[F_READ].size, f[F_READ].entry, addrs, LIVE_TLS_GO_MAX_RETS);
	entry = live_tls_go_entry(code, f[F_READ].size, f[F_READ].entry);
	free(code);
	if (n <= 0)
		return n == -ENOTSUP ? -ENOTSUP : -EBADMSG;
	for (int i = 0; i < n; i++)
		out->rets[i] = out->read + (addrs[i] - f[F_READ].entry);
	out->nrets = (uint32_t)n;
	out->read += entry - f[F_READ].entry;  /* past the stack check, where one trap does */
	return 0;
}

/* The version, when .go.buildinfo says it (a binary without one is still read). */
static void version(int fd, Elf *e, uint64_t size, struct live_tls_go_probes *out)
{
	GElf_Shdr sh;
	uint8_t *b;

	if (read_section(fd, e, size, ".go.buildinfo", 1u << 20, &b, &sh))
		return;
	live_tls_go_version(b, sh.sh_size, out->version, sizeof(out->version));
	free(b);
}

static int read_binary(int fd, Elf *e, uint64_t size, struct live_tls_go_probes *out)
{
	struct live_tls_go_func f[NFUNCS];
	GElf_Shdr tab, text;
	uint8_t *b;
	int err;

	err = read_section(fd, e, size, ".gopclntab", LIVE_TLS_GO_MAX_TABLE, &b, &tab);
	if (err == -ENODATA)  /* position-independent builds keep it in .data.rel.ro */
		err = read_section(fd, e, size, ".data.rel.ro.gopclntab", LIVE_TLS_GO_MAX_TABLE,
				   &b, &tab);
	if (err)
		return err;
	if (section(e, ".text", &text))
		text.sh_addr = 0;
	err = live_tls_go_pclntab(b, tab.sh_size, text.sh_addr, go_funcs, go_required, NFUNCS, f,
				  &out->magic);
	free(b);
	if (!err)
		err = place(fd, e, size, f, out);
	if (!err)
		version(fd, e, size, out);
	return err;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int live_tls_go_probes(int fd, struct live_tls_go_probes *out)
{
	struct stat before, after;
	uint64_t size;
	Elf *e;
	int err;

	memset(out, 0, sizeof(*out));
	if (fstat(fd, &before))
		return -errno;
	err = live_tls_elf_begin(fd, &e, &size);
	if (err)
		return err;
	err = read_binary(fd, e, size, out);
	elf_end(e);
	if (err != -ENODATA && (fstat(fd, &after) || !same_file(&before, &after)))
		err = -EIO;
	return err;
}
