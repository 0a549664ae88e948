/* Redaction lists: one lookup for the event writer and the packet export. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "output/redact.h"

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int redact_init(struct redact_list *r, const char *const *names)
{
	size_t n = 0;
	int c;

	memset(r, 0, sizeof(*r));
	while (names && names[n])
		n++;
	r->len = calloc(n + 1, sizeof(*r->len));
	if (!r->len)
		return -ENOMEM;
	r->names = names;
	while (n--) {
		c = ascii_lower((unsigned char)names[n][0]);
		r->len[n] = strlen(names[n]);
		r->first[c >> 6] |= 1ull << (c & 63);
	}
	return 0;
}

bool redact_has(const struct redact_list *r, const char *name, size_t len)
{
	size_t i, k;
	int c;

	if (!len)
		return false;
	c = ascii_lower((unsigned char)name[0]);
	if (!(r->first[c >> 6] >> (c & 63) & 1))
		return false;
	for (k = 0; r->names && r->names[k]; k++) {
		if (r->len[k] != len)
			continue;
		for (i = 0; i < len; i++)
			if (ascii_lower((unsigned char)r->names[k][i]) != ascii_lower((unsigned char)name[i]))
				break;
		if (i == len)
			return true;
	}
	return false;
}

bool redact_any(const struct redact_list *r)
{
	return r->names && r->names[0];
}

void redact_release(struct redact_list *r)
{
	free(r->len);
	r->len = NULL;
}
