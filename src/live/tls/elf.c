/*
 * Function offsets for uprobes with libelf, bounded: the ELF header is read and checked by
 * hand first (libelf would size its tables from the header's counts), then libelf reads the
 * section and program headers and the dynamic symbol and string tables with pread, nothing
 * else (ELF_C_READ maps nothing, so a file truncated meanwhile gives a read error).
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "live/tls/elf.h"

#if __SIZEOF_POINTER__ == 8
typedef Elf64_Ehdr host_ehdr;
#define HOST_CLASS ELFCLASS64
#define HOST_SYM sizeof(Elf64_Sym)
#define HOST_SHDR sizeof(Elf64_Shdr)
#define HOST_PHDR sizeof(Elf64_Phdr)
#else
typedef Elf32_Ehdr host_ehdr;
#define HOST_CLASS ELFCLASS32
#define HOST_SYM sizeof(Elf32_Sym)
#define HOST_SHDR sizeof(Elf32_Shdr)
#define HOST_PHDR sizeof(Elf32_Phdr)
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#elif defined(__arm__)
#define HOST_MACHINE EM_ARM
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define HOST_MACHINE EM_PPC64
#elif defined(__s390x__)
#define HOST_MACHINE EM_S390
#else
#define HOST_MACHINE EM_NONE  /* not checked */
#endif

/* [off, off + n) lies inside a file of size bytes. */
static int in_file(uint64_t off, uint64_t n, uint64_t size)
{
	return off <= size && n <= size - off;
}

/* The ELF header: this machine's, with header tables of sane counts inside the file. */
static int check_header(int fd, uint64_t size)
{
	host_ehdr h;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return size < sizeof(h) ? -ENOEXEC : -EIO;
	if (memcmp(h.e_ident, ELFMAG, SELFMAG) || h.e_ident[EI_CLASS] != HOST_CLASS ||
	    h.e_ident[EI_DATA] != HOST_DATA || (h.e_type != ET_DYN && h.e_type != ET_EXEC) ||
	    (HOST_MACHINE != EM_NONE && h.e_machine != HOST_MACHINE))
		return -ENOEXEC;
	if (!h.e_shnum || h.e_phnum == PN_XNUM || h.e_shentsize != HOST_SHDR ||
	    h.e_phentsize != HOST_PHDR)
		return -ENOEXEC;
	if (h.e_shnum > LIVE_TLS_ELF_MAX_SECTIONS || h.e_phnum > LIVE_TLS_ELF_MAX_SEGMENTS)
		return -EFBIG;
	if (!in_file(h.e_shoff, (uint64_t)h.e_shnum * HOST_SHDR, size) ||
	    !in_file(h.e_phoff, (uint64_t)h.e_phnum * HOST_PHDR, size))
		return -ENOEXEC;
	return 0;
}

/* A table section's header, checked against the limits and the file. */
static int table_header(Elf *e, size_t index, Elf64_Word type, uint64_t size, GElf_Shdr *sh)
{
	Elf_Scn *scn = elf_getscn(e, index);

	if (!scn || !gelf_getshdr(scn, sh) || sh->sh_type != type)
		return -ENOEXEC;
	if (sh->sh_size > LIVE_TLS_ELF_MAX_TABLE)
		return -EFBIG;
	if (!in_file(sh->sh_offset, sh->sh_size, size) ||
	    (type == SHT_DYNSYM && sh->sh_entsize != HOST_SYM))
		return -ENOEXEC;
	return 0;
}

/* The file offset of the code at address addr: in an executable PT_LOAD segment's bytes. */
static int file_offset(Elf *e, size_t nph, uint64_t size, uint64_t addr, uint64_t *off)
{
	GElf_Phdr ph;

	if (nph > LIVE_TLS_ELF_MAX_SEGMENTS)
		return -ENOEXEC;

	for (size_t i = 0; i < nph; i++) {
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) ||
		    !in_file(ph.p_offset, ph.p_filesz, size))
			continue;
		if (addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_filesz) {
			*off = addr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOEXEC;
}

/* The address of each name among the defined functions of the symbol table (0: missing). */
static int find_symbols(Elf *e, Elf_Scn *symscn, const GElf_Shdr *sym_sh, size_t strndx,
			const char *const *names, size_t n, uint64_t *addrs, uint64_t *sizes)
{
	Elf_Data *data = elf_getdata(symscn, NULL);
	size_t count = sym_sh->sh_size / HOST_SYM;
	GElf_Sym sym;

	if (!data || data->d_size < sym_sh->sh_size)
		return -EIO;
	for (size_t i = 1; i < count; i++) {
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(e, strndx, sym.st_name);
		for (size_t k = 0; name && k < n; k++)
			if (!addrs[k] && !strcmp(name, names[k])) {
				addrs[k] = sym.st_value;
				if (sizes)
					sizes[k] = sym.st_size;
			}
	}
	for (size_t k = 0; k < n; k++)
		if (!addrs[k])
			return -ENOENT;
	return 0;
}

int live_tls_elf_symbols(Elf *e, uint64_t size, const char *const *names, size_t n,
			 uint64_t *addrs, uint64_t *sizes)
{
	GElf_Shdr sym_sh, str_sh;
	Elf_Scn *scn = NULL;
	int err;

	if (!n || n > LIVE_TLS_ELF_MAX_NAMES)
		return -EINVAL;
	memset(addrs, 0, n * sizeof(*addrs));
	while ((scn = elf_nextscn(e, scn))) {
		if (gelf_getshdr(scn, &sym_sh) && sym_sh.sh_type == SHT_DYNSYM)
			break;
	}
	if (!scn)
		return -ENOENT;
	err = table_header(e, elf_ndxscn(scn), SHT_DYNSYM, size, &sym_sh);
	if (!err)
		err = table_header(e, sym_sh.sh_link, SHT_STRTAB, size, &str_sh);
	if (!err)
		err = find_symbols(e, scn, &sym_sh, sym_sh.sh_link, names, n, addrs, sizes);
	return err;
}

/* Looks the names up in e's dynamic symbol table; offsets as live_tls_elf_offsets. */
static int resolve(Elf *e, uint64_t size, const char *const *names, size_t n,
		   uint64_t *offsets)
{
	uint64_t addrs[LIVE_TLS_ELF_MAX_NAMES];
	int err = live_tls_elf_symbols(e, size, names, n, addrs, NULL);

	for (size_t k = 0; k < n && !err; k++)
		err = live_tls_elf_code_offset(e, size, addrs[k], &offsets[k]);
	return err;
}

int live_tls_elf_code_offset(Elf *e, uint64_t size, uint64_t addr, uint64_t *off)
{
	size_t nph;

	if (elf_getphdrnum(e, &nph))
		return -ENOEXEC;
	return file_offset(e, nph, size, addr, off);
}

int live_tls_elf_begin(int fd, Elf **out, uint64_t *size)
{
	struct stat st;
	Elf *e;
	int err;

	*out = NULL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	*size = (uint64_t)st.st_size;
	err = check_header(fd, *size);
	if (err)
		return err;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		return -EIO;
	if (elf_kind(e) != ELF_K_ELF) {
		elf_end(e);
		return -ENOEXEC;
	}
	*out = e;
	return 0;
}

int live_tls_elf_offsets(int fd, const char *const *names, size_t n, uint64_t *offsets)
{
	uint64_t size;
	Elf *e;
	int err;

	if (!n || n > LIVE_TLS_ELF_MAX_NAMES)
		return -EINVAL;
	err = live_tls_elf_begin(fd, &e, &size);
	if (err)
		return err;
	err = resolve(e, size, names, n, offsets);
	elf_end(e);
	return err;
}
