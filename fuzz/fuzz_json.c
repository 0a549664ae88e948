/*
 * libFuzzer target for the JSON string writer and the terminal-safe writer: the input as a
 * string value must come out as one valid JSON string (no raw control byte, valid UTF-8), and
 * the terminal form must hold no control byte at all.
 */
#include <stdint.h>
#include <stdlib.h>
#include "output/json.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2
		   : s[0] >= 0xe0 && s[0] < 0xf0 ? 3 : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

static void check_string(const struct json_buf *b)
{
	const unsigned char *s = (const unsigned char *)b->data;
	size_t i = 1, n = b->len, k;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		abort();
	while (i < n - 1) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			abort();
		if (s[i] == '"')
			abort();
		if (s[i] == '\\') {
			i += s[i + 1] == 'u' ? 6 : 2;
			continue;
		}
		if (!(k = utf8_len(s + i, n - 1 - i)))
			abort();
		i += k;
	}
	if (i != n - 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_buf b;

	json_init(&b);
	json_str(&b, (const char *)data, size);
	if (!b.failed)
		check_string(&b);
	json_reset(&b);
	json_term_safe(&b, (const char *)data, size);
	for (size_t i = 0; !b.failed && i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			abort();
	json_free(&b);
	return 0;
}
