/*
 * libFuzzer target for the TLS attacher's Go readers: the input is a .gopclntab section (and,
 * read again, a .go.buildinfo one). Whatever it holds, the reader returns an error or
 * functions whose entries lie after the text start and whose sizes fit before the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "live/tls/go_pclntab.h"

#define TEXT 0x401000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read",
					     "crypto/tls.(*Conn).Close", "main.main" };
	static const uint8_t required[] = { 1, 1, 0, 0 };
	struct live_tls_go_func f[4];
	uint32_t magic;
	char v[32];
	int err;

	err = live_tls_go_pclntab(data, size, TEXT, names, required, 4, f, &magic);
	for (int k = 0; k < 4; k++)
		if (f[k].entry && (!f[k].size || f[k].size > UINT32_MAX))
			abort();
	if (!err && (!f[0].entry || !f[1].entry))
		abort();
	if (!live_tls_go_version(data, size, v, sizeof(v)) && strlen(v) >= sizeof(v))
		abort();
	return 0;
}
