/*
 * libFuzzer target for the whole offline pipeline, with filters and packet export on. The
 * input is [filters:1] then a sequence of packets, each [flags:1][len:2 big-endian][bytes];
 * the first byte picks the -f terms (its low bits) and whether exchanges are written, the
 * flags' low three bits pick the link type, bit 7 advances time by a minute (so idle expiry
 * and fragment time-outs run). Small limits make eviction, buffer and fragment limits
 * reachable.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pcap/dlt.h>
#include "output/event.h"
#include "output/export.h"
#include "report/filter.h"
#include "pipeline/pipeline.h"

static const int link_types[] = { DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_NULL,
				  DLT_IEEE802_11, DLT_IEEE802_11_RADIO, DLT_PPI, DLT_RAW };

/* Term sets that keep some messages and drop others, on request and response fields. */
static const char *const filter_sets[][3] = {
	{ NULL },
	{ "status>=200", "method!=DELETE", NULL },
	{ "path=/a*", "header:Host=*", NULL },
	{ "port=80", "direction=ingress", "status<500" },
};

static int filters_of(uint8_t pick, struct filter_set *f)
{
	const char *const *t = filter_sets[pick % 4];

	for (int i = 0; i < 3 && t[i]; i++)
		if (filter_add(f, t[i]))
			return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	static struct filter_set filters;
	struct event_options eo = { .format = OUTPUT_JSON, .types = EVENT_HTTP };
	struct pipeline_options po = {
		.flow = { .max_flows = 8, .max_flow_buffer = 4096, .max_total_buffer = 16384,
			  .idle_timeout_ns = 30000000000ull },
		.http = { .max_head = 2048, .max_fields = 16 },
		.defrag = { .timeout_ns = 30000000000ull, .max_datagrams = 4, .max_fragments = 8 },
		.memory_limit = 65536,
	};
	struct event_writer *w = NULL;
	struct pipeline *p = NULL;
	uint64_t ts = 1000000000ull;
	size_t off = 1;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (size < 1)
		return 0;
	filters.n = 0;
	if (filters_of(data[0], &filters))
		abort();
	po.filter = filters.n ? &filters : NULL;
	if (data[0] & 4)
		eo.types |= EVENT_FLOW_HTTP;
	po.exp = export_new(open("/dev/null", O_WRONLY), &(struct export_options){ 0 });
	if (!po.exp)
		abort();
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
			.linktype = link_types[flags & 7],
		};
		pipeline_packet(p, &pkt);
		pipeline_tick(p, ts);
		off += len;
	}
	pipeline_free(p);
	if (w)
		event_writer_free(w);
	export_free(po.exp);  /* closes its descriptor */
	return 0;
}
