/*
 * Function offsets in an ELF file for uprobes, read with bounded work from a descriptor the
 * TLS attacher opened (the file is hostile input: any size, any contents, maybe still being
 * written).
 */
#ifndef HTTPEEK_LIVE_TLS_ELF_H
#define HTTPEEK_LIVE_TLS_ELF_H

#include <stddef.h>
#include <stdint.h>

#define LIVE_TLS_ELF_MAX_SECTIONS 4096u        /* section headers read at most */
#define LIVE_TLS_ELF_MAX_SEGMENTS 256u         /* program headers read at most */
#define LIVE_TLS_ELF_MAX_TABLE (16u << 20)     /* bytes of a symbol or string table */
#define LIVE_TLS_ELF_MAX_NAMES 32u             /* names looked up in one call */

/*
 * Finds the n function names in the dynamic symbol table of the ELF file open at fd, built
 * for this machine, and writes the file offset of each (what a uprobe takes) to offsets.
 * Reads the ELF header, the section and program headers and the two tables, each checked
 * against the limits above and the file's size before it is read (nothing is mapped: a file
 * cut short while it is read is a read error, not a signal). Returns 0 when every name was
 * found; -EINVAL for more than LIVE_TLS_ELF_MAX_NAMES names, -ENOENT when one is missing, -ENOEXEC when the file is not an ELF file for this
 * machine or is malformed, -EFBIG past a limit, -EIO when it could not be read whole.
 */
int live_tls_elf_offsets(int fd, const char *const *names, size_t n, uint64_t *offsets);

typedef struct Elf Elf;  /* libelf's */

/*
 * Opens the ELF file at fd for reading with libelf, once its header was checked as above;
 * *size is the file's size. Returns 0 (then elf_end(*e) when done), -ENOEXEC, -EFBIG, -EIO.
 */
int live_tls_elf_begin(int fd, Elf **e, uint64_t *size);

/*
 * The address (and, when sizes is not NULL, the size) of each of the n function names in the
 * dynamic symbol table of e (of a file of size bytes): returns as live_tls_elf_offsets.
 */
int live_tls_elf_symbols(Elf *e, uint64_t size, const char *const *names, size_t n,
			 uint64_t *addrs, uint64_t *sizes);

/* The file offset of address addr, inside an executable PT_LOAD segment's bytes: 0 or -ENOEXEC. */
int live_tls_elf_code_offset(Elf *e, uint64_t size, uint64_t addr, uint64_t *off);

#endif
