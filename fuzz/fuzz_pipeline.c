/*
 * libFuzzer target for the whole offline pipeline. The input is a sequence of packets, each
 * [flags:1][len:2 big-endian][bytes]; flags' low bits pick the link type, bit 7 advances time
 * by a minute (so idle expiry runs). Small limits make eviction and buffer limits reachable.
 */
#include <stdint.h>
#include <stdio.h>
#include <pcap/dlt.h>
#include "event.h"
#include "pipeline.h"

static const int link_types[] = { DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct event_options eo = { .format = OUTPUT_JSON, .types = EVENT_HTTP | EVENT_FLOW_HTTP };
	struct pipeline_options po = {
		.flow = { .max_flows = 8, .max_flow_buffer = 4096, .max_total_buffer = 16384,
			  .idle_timeout_ns = 30000000000ull },
		.http = { .max_head = 2048, .max_fields = 16 },
	};
	struct event_writer *w;
	struct pipeline *p;
	uint64_t ts = 1000000000ull;
	size_t off = 0;

	if (!sink)
		sink = fopen("/dev/null", "w");
	w = event_writer_new(sink, &eo);
	p = w ? pipeline_new(&po, w) : NULL;
	while (p && size - off >= 3) {
		uint8_t flags = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		struct packet pkt;

		off += 3;
		if (len > size - off)
			len = size - off;
		ts += flags & 0x80 ? 60000000000ull : 1000;
		pkt = (struct packet){
			.ts_ns = ts,
			.data = data + off,
			.caplen = (uint32_t)len,
			.wirelen = (uint32_t)len + (flags & 0x40 ? 100 : 0),
			.linktype = link_types[flags & 3],
		};
		pipeline_packet(p, &pkt);
		pipeline_tick(p, ts);
		off += len;
	}
	pipeline_free(p);
	if (w)
		event_writer_free(w);
	return 0;
}
