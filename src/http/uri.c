/* Request targets: the percent-decoding of a path, by Go's net/url rules. */
#include <errno.h>
#include "http/uri.h"

/* The value of hex digit c, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int uri_path_unescape(const char *p, uint32_t len, char *out, uint32_t *out_len)
{
	uint32_t i = 0, n = 0;
	int hi, lo;

	while (i < len) {
		if (p[i] != '%') {
			out[n++] = p[i++];
			continue;
		}
		if (len - i < 3)
			return -EINVAL;
		hi = hex_value(p[i + 1]);
		lo = hex_value(p[i + 2]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[n++] = (char)(hi << 4 | lo);
		i += 3;
	}
	*out_len = n;
	return 0;
}
