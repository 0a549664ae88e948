/*
 * The pipeline: packets decoded (each A-MSDU subframe in turn), IP fragments into datagrams,
 * decoded again; segments into flows, flow bytes into HTTP streams, heads into events.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pipeline/pipeline.h"
#include "session/session.h"

struct pipeline {
	struct pipeline_options opt;
	struct event_writer *writer;
	struct flow_table *flows;   /* NULL once finished */
	struct flow_stats flow_final;
	struct defrag *defrag;      /* NULL: fragments counted, not reassembled */
	struct defrag_stats defrag_final;
	struct session_env env;
	struct http_stats http;
	struct pipeline_stats stats;  /* the pipeline's own counters */
	struct session_stats sessions;
};

static void *on_open(void *ctx, const struct flow_info *info)
{
	return session_new(ctx, info);
}

static void on_data(void *ctx, void *user, int side, const uint8_t *bytes, uint32_t len,
		    const struct flow_chunk_meta *meta)
{
	session_data(user, side, bytes, len, meta);
}

static void on_gap(void *ctx, void *user, int side, uint32_t len)
{
	session_gap(user, side, len);
}

static void on_fin(void *ctx, void *user, int side)
{
	session_fin(user, side);
}

static void on_close(void *ctx, void *user, struct flow_resume *keep)
{
	session_close(user, keep);
}

static uint64_t on_held(void *ctx, void *user)
{
	return session_held(user);
}

static const struct flow_callbacks flow_to_session = {
	.open = on_open,
	.data = on_data,
	.gap = on_gap,
	.fin = on_fin,
	.close = on_close,
	.held = on_held,
};

/*
 * Over the memory limit: gives up the oldest incomplete IP datagrams, then ends the least
 * recently active flows that hold memory.
 */
static void keep_memory_limit(struct pipeline *p)
{
	uint64_t frags = p->defrag ? defrag_held(p->defrag) : 0;
	uint64_t used = p->http.head_bytes + p->sessions.held_bytes + flow_table_held(p->flows) +
			frags;

	if (!p->opt.memory_limit || used <= p->opt.memory_limit)
		return;
	if (frags)
		used -= defrag_shed(p->defrag, used - p->opt.memory_limit);
	if (used > p->opt.memory_limit)
		flow_table_shed(p->flows, used - p->opt.memory_limit);
}

struct pipeline *pipeline_new(const struct pipeline_options *opt, struct event_writer *w)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->opt = *opt;
	p->writer = w;
	p->env = (struct session_env){
		.report = { .writer = w, .filter = opt->filter, .exp = opt->exp,
			    .metrics = opt->metrics, .filtered = &p->sessions.filtered },
		.http_limits = &p->opt.http,
		.http_stats = &p->http,
		.parse_cache = http_parse_cache_new(&p->http),
		.stats = &p->sessions,
		.owner_lookup = opt->owner_lookup,
		.owner_ctx = opt->owner_ctx,
		.keep_requests = event_wants(w, EVENT_FLOW_HTTP) || opt->metrics ||
				 (opt->filter && filter_needs_request(opt->filter)),
	};
	p->env.h2 = (struct h2_env){
		.lim = &p->opt.http,
		.http = &p->http,
		.stats = &p->sessions.h2,
		.held = &p->sessions.held_bytes,
		.exp = opt->exp,
		.packet_seq = &p->env.packet_seq,
		.keep_requests = p->env.keep_requests,
	};
	p->flows = flow_table_new(&p->opt.flow, &flow_to_session, &p->env);
	if (opt->defrag.max_datagrams)
		p->defrag = defrag_new(&opt->defrag);
	if (!p->flows || !p->env.parse_cache || (opt->defrag.max_datagrams && !p->defrag)) {
		defrag_free(p->defrag);
		flow_table_free(p->flows);
		http_parse_cache_free(p->env.parse_cache);
		free(p);
		return NULL;
	}
	return p;
}

void pipeline_undecoded_name(uint32_t kind, char *buf, size_t size)
{
	const char *dlt = NULL;
	size_t n;

	decode_kind_name(kind, buf, size);
	if (kind >> 24 == DECODE_KIND_LINK)
		dlt = pcap_datalink_val_to_name((int)(kind & 0xffffff));
	n = strlen(buf);
	if (dlt && n < size)
		snprintf(buf + n, size - n, " (%s)", dlt);
}

/* Counts a packet the decoder could not look into; names each kind once, when first seen. */
static void count_undecoded(struct pipeline *p, uint32_t kind)
{
	struct pipeline_undecoded *u = p->stats.undecoded_kinds;
	char name[PIPELINE_KIND_NAME];
	int i;

	p->stats.undecoded++;
	for (i = 0; i < PIPELINE_UNDECODED_KINDS && u[i].kind && u[i].kind != kind; i++)
		;
	if (i == PIPELINE_UNDECODED_KINDS)
		return;  /* counted among the others */
	if (!u[i].kind) {
		u[i].kind = kind;
		pipeline_undecoded_name(kind, name, sizeof(name));
		fprintf(stderr,
			"httpeek: cannot look inside %s: its packets are counted, not decoded\n",
			name);
	}
	u[i].packets++;
}

static void decoded(struct pipeline *p, const struct packet *pkt, int ret,
		    const struct segment *seg, const struct fragment *frag);

/* A fragment to the defragmenter; the datagram it completes is decoded from its IP header. */
static void reassemble(struct pipeline *p, const struct packet *pkt, const struct fragment *f)
{
	struct defrag_datagram dg;
	struct decode_from from = { .outer = &dg.outer };
	struct fragment inner;
	struct segment seg;
	struct packet whole;

	if (defrag_fragment(p->defrag, f, pkt->ts_ns, &dg) != 1)
		return;
	whole = (struct packet){ .ts_ns = pkt->ts_ns, .data = dg.data, .caplen = dg.caplen,
				 .wirelen = dg.len, .linktype = DLT_RAW, .dir = pkt->dir };
	decoded(p, &whole, decode_packet_from(&whole, &from, &seg, &inner), &seg, &inner);
	if (p->opt.exp)
		export_end(p->opt.exp, &whole);
	free(dg.data);
}

/* What the decoder made of pkt (ret): a segment to its flow, a fragment, or a count. */
static void decoded(struct pipeline *p, const struct packet *pkt, int ret,
		    const struct segment *seg, const struct fragment *frag)
{
	switch (ret) {
	case DECODE_TCP:
		if (p->opt.exp)  /* ended by the caller, once for all of pkt's subframes */
			export_begin(p->opt.exp, pkt, seg->payload_len);
		flow_segment(p->flows, seg);
		break;
	case DECODE_NOT_TCP:
		p->stats.not_tcp++;
		break;
	case DECODE_FRAGMENT:
		if (p->defrag)
			reassemble(p, pkt, frag);
		else
			p->stats.fragments++;
		break;
	case DECODE_UNSUPPORTED:
		count_undecoded(p, seg->undecoded);
		break;
	default:
		p->stats.malformed++;
		break;
	}
}

void pipeline_packet(struct pipeline *p, const struct packet *pkt)
{
	struct decode_from from = { 0 };
	struct fragment frag;
	struct segment seg;
	int ret;

	if (!p->flows)
		return;
	p->stats.packets++;
	p->stats.bytes += pkt->wirelen;
	p->env.packet_seq++;
	do {  /* an A-MSDU: each of its subframes, further on each time */
		ret = decode_packet_from(pkt, &from, &seg, p->defrag ? &frag : NULL);
		decoded(p, pkt, ret, &seg, &frag);
		from.msdu = seg.msdu_next > from.msdu ? seg.msdu_next : 0;
	} while (from.msdu);
	if (p->opt.exp)
		export_end(p->opt.exp, pkt);
	keep_memory_limit(p);
}

void pipeline_tick(struct pipeline *p, uint64_t now_ns)
{
	if (p->flows)
		flow_expire(p->flows, now_ns);
	if (p->defrag)
		defrag_expire(p->defrag, now_ns);
}

void pipeline_finish(struct pipeline *p)
{
	if (!p->flows)
		return;
	if (p->defrag) {
		defrag_flush(p->defrag);
		p->defrag_final = *defrag_get_stats(p->defrag);
		defrag_free(p->defrag);
		p->defrag = NULL;
	}
	p->flow_final = *flow_table_stats(p->flows);
	flow_table_free(p->flows);
	p->flows = NULL;
	p->flow_final.flows_active = 0;
}

void pipeline_stats(const struct pipeline *p, struct pipeline_stats *ps, struct flow_stats *fs,
		    struct http_stats *hs)
{
	if (ps) {
		*ps = p->stats;
		ps->unknown_owner = p->sessions.unknown_owner;
		ps->unpaired_requests = p->sessions.unpaired_requests;
		ps->unpaired_responses = p->sessions.unpaired_responses;
		ps->pending_dropped = p->sessions.pending_dropped;
		ps->filtered = p->sessions.filtered;
		ps->held_bytes = p->sessions.held_bytes;
		ps->http2 = p->sessions.http2;
		ps->defrag = p->defrag ? *defrag_get_stats(p->defrag) : p->defrag_final;
		ps->h2 = p->sessions.h2;
	}
	if (fs)
		*fs = p->flows ? *flow_table_stats(p->flows) : p->flow_final;
	if (hs)
		*hs = p->http;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	pipeline_finish(p);
	http_parse_cache_free(p->env.parse_cache);
	free(p);
}
