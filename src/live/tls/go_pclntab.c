/*
 * Go's function table, read from a copy of .gopclntab. The layout (Go 1.18 and later, the
 * runtime's pcHeader): a 4-byte magic, two zero bytes, the instruction size quantum, the
 * pointer size, then eight pointer-sized words: the number of functions, of files, the text
 * start, and the offsets (from the table's start) of the function name table, the compile
 * unit table, the file table, the pc table and the function table. The function table holds
 * nfunc pairs of 32-bit (entry offset from the text start, offset of the function's record
 * from the function table), then the end's entry offset. A function's record starts with its
 * entry offset again and the offset of its name in the name table (NUL-terminated).
 */
#include <errno.h>
#include <string.h>
#include "live/tls/go_pclntab.h"

#define HDR_WORDS 8
enum { W_NFUNC, W_NFILES, W_TEXT, W_NAMES, W_CU, W_FILES, W_PC, W_FUNCTAB };

struct table {
	const uint8_t *p;
	size_t size;
	uint64_t text;
	uint64_t names;            /* offset of the name table */
	uint64_t functab;          /* offset of the function table */
	uint64_t nfunc;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t word(const uint8_t *p, unsigned ptr)
{
	return ptr == 8 ? (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32 : le32(p);
}

/* The header: a known layout (-EPROTO otherwise), offsets and counts inside the table. */
static int read_header(struct table *t, uint64_t text, uint32_t *magic)
{
	const uint8_t *p = t->p;
	uint64_t w[HDR_WORDS];
	unsigned ptr;

	if (t->size < 8)
		return -EBADMSG;
	*magic = le32(p);
	ptr = p[7];
	if ((*magic != LIVE_TLS_GO_MAGIC_118 && *magic != LIVE_TLS_GO_MAGIC_120) || p[4] || p[5] ||
	    (p[6] != 1 && p[6] != 2 && p[6] != 4) || (ptr != 4 && ptr != 8))
		return -EPROTO;
	if (t->size < 8 + (size_t)HDR_WORDS * ptr)
		return -EBADMSG;
	for (unsigned i = 0; i < HDR_WORDS; i++)
		w[i] = word(p + 8 + i * ptr, ptr);
	for (unsigned i = W_NAMES; i < HDR_WORDS; i++)
		if (w[i] < 8 + (uint64_t)HDR_WORDS * ptr || w[i] >= t->size)
			return -EBADMSG;
	t->names = w[W_NAMES];
	t->functab = w[W_FUNCTAB];
	t->nfunc = w[W_NFUNC];
	t->text = w[W_TEXT] ? w[W_TEXT] : text;
	/* nfunc pairs and the end's entry, 4 bytes each, inside the table. */
	if (!t->nfunc || t->nfunc > (t->size - t->functab) / 8 ||
	    (t->nfunc * 2 + 1) * 4 > t->size - t->functab)
		return -EBADMSG;
	return 0;
}

/* The name of function i (its record checked), or NULL; *len its length. */
static const char *name_of(const struct table *t, uint64_t i, uint32_t entry, size_t *len)
{
	const uint8_t *ft = t->p + t->functab;
	uint64_t rec = le32(ft + i * 8 + 4), name;
	const char *s;

	if (rec > t->size - t->functab || t->size - t->functab - rec < 8 ||
	    le32(ft + rec) != entry)
		return NULL;
	name = le32(ft + rec + 4);
	if (name >= t->size - t->names)
		return NULL;
	s = (const char *)t->p + t->names + name;
	*len = strnlen(s, t->size - t->names - name < LIVE_TLS_GO_NAME_MAX ?
			  t->size - t->names - name : LIVE_TLS_GO_NAME_MAX);
	return s;
}

/* Function i's entry and size, when it is one of the names. Returns -EBADMSG or 0. */
static int match(const struct table *t, uint64_t i, const char *const *names, size_t n,
		 struct live_tls_go_func *funcs)
{
	const uint8_t *ft = t->p + t->functab;
	uint32_t entry = le32(ft + i * 8), next = le32(ft + (i + 1) * 8);
	const char *s;
	size_t len;

	if (next < entry)
		return -EBADMSG;
	s = name_of(t, i, entry, &len);
	if (!s)
		return -EBADMSG;
	for (size_t k = 0; k < n; k++) {
		if (funcs[k].entry || strlen(names[k]) != len || memcmp(s, names[k], len))
			continue;
		if (next == entry || t->text + entry < t->text)
			return -EBADMSG;
		funcs[k] = (struct live_tls_go_func){ t->text + entry, next - entry };
	}
	return 0;
}

int live_tls_go_pclntab(const uint8_t *p, size_t size, uint64_t text, const char *const *names,
			const uint8_t *required, size_t n, struct live_tls_go_func *funcs,
			uint32_t *magic)
{
	struct table t = { .p = p, .size = size };
	int err;

	*magic = 0;
	if (n > LIVE_TLS_GO_MAX_NAMES)
		return -EINVAL;
	memset(funcs, 0, n * sizeof(*funcs));
	err = read_header(&t, text, magic);
	if (err)
		return err;
	if (!t.text)
		return -EBADMSG;
	for (uint64_t i = 0; i < t.nfunc; i++) {
		err = match(&t, i, names, n, funcs);
		if (err)
			return err;
	}
	for (size_t k = 0; k < n; k++)
		if (required[k] && !funcs[k].entry)
			return -ENOENT;
	return 0;
}

/* An unsigned LEB128 number at p[*at], at most 10 bytes, inside size. */
static int uvarint(const uint8_t *p, size_t size, size_t *at, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *at < size; shift += 7) {
		uint8_t b = p[(*at)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -EBADMSG;
}

int live_tls_go_version(const uint8_t *p, size_t size, char *out, size_t cap)
{
	static const char magic[14] = "\xff Go buildinf:";
	size_t at = 32;
	uint64_t len;

	if (!cap)
		return -EINVAL;
	out[0] = 0;
	if (size < 32 || memcmp(p, magic, sizeof(magic)))
		return -EBADMSG;
	if (!(p[15] & 2))
		return -EPROTO;  /* before Go 1.18: pointers to the strings */
	if (uvarint(p, size, &at, &len) || len > size - at || len < 3 || len >= cap)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++)
		if (p[at + i] < 0x21 || p[at + i] > 0x7e)
			return -EBADMSG;
	memcpy(out, p + at, len);
	out[len] = 0;
	return strncmp(out, "go", 2) && strncmp(out, "devel", 5) ? -EBADMSG : 0;
}
