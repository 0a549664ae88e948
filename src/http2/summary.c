/* HTTP/2 in the closing summary: what was decoded, and what could not be and why. */
#include "http2/http2.h"

uint64_t h2_not_decoded(const struct h2_stats *s)
{
	return s->not_decoded_joined + s->not_decoded_lost + s->not_decoded_hpack;
}

void h2_print_summary(FILE *f, const struct h2_stats *s)
{
	if (!s->connections)
		return;
	fprintf(f,
		"httpeek: HTTP/2: %llu connections (%llu joined midway), %llu header blocks, %llu "
		"not decoded (%llu on connections joined midway, %llu after a header block was "
		"lost, %llu refused by the HPACK decoder); %llu header lists cut at the head "
		"limit, %llu malformed frames, %llu bad prefaces, %llu directions not starting "
		"with SETTINGS, %llu streams past the limit; %llu gRPC errors\n",
		(unsigned long long)s->connections, (unsigned long long)s->joined,
		(unsigned long long)s->blocks, (unsigned long long)h2_not_decoded(s),
		(unsigned long long)s->not_decoded_joined, (unsigned long long)s->not_decoded_lost,
		(unsigned long long)s->not_decoded_hpack, (unsigned long long)s->too_large,
		(unsigned long long)s->malformed_frames, (unsigned long long)s->bad_prefaces,
		(unsigned long long)s->no_settings, (unsigned long long)s->streams_dropped,
		(unsigned long long)s->grpc_errors);
}
