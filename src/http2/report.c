/* HTTP/2: what a connection's streams report: messages, exchanges, the copies they keep. */
#include <stdlib.h>
#include "http2/internal.h"
#include "http2/http2.h"

uint64_t h2_message_cost(const struct http_message *m)
{
	uint64_t n = sizeof(*m) + m->n_headers * sizeof(struct http_header);

	n += m->method.len + m->target.len + m->protocol.len + m->host.len + m->path.len +
	     m->status.len;
	for (uint32_t i = 0; i < m->n_headers; i++)
		n += m->headers[i].name.len + m->headers[i].value.len;
	return n;
}

/* A copy of m counted in c's memory; NULL for want of memory. */
static struct http_message *keep_copy(struct h2_conn *c, const struct http_message *m)
{
	struct http_message *d = http_message_dup(m);

	if (d)
		c->held += h2_message_cost(d);
	return d;
}

static void drop_copy(struct h2_conn *c, struct http_message *m)
{
	if (!m)
		return;
	c->held -= h2_message_cost(m);
	free(m);
}

void h2_stream_free(struct h2_conn *c, struct h2_stream *st)
{
	for (int i = 0; i < 2; i++) {
		h2_msg_free(st->msg[i]);
		if (c->env->exp)
			export_list_clear(c->env->exp, &st->pkts[i]);
	}
	drop_copy(c, st->req);
	drop_copy(c, st->resp);
	h2_streams_remove(&c->streams, st);
}

struct h2_stream *h2_stream_get(struct h2_conn *c, uint32_t id)
{
	struct h2_stream *st = h2_streams_find(&c->streams, id);

	if (!st && !(st = h2_streams_add(&c->streams, id)))
		c->env->stats->streams_dropped++;
	return st;
}

static void write_exchange(struct h2_conn *c, struct h2_stream *st,
			   const struct http_message *resp)
{
	struct h2_exchange x = {
		.request = st->req,
		.response = resp,
		.has_request = st->req_side >= 0,
		.has_response = st->resp_done,
		.client_side = st->req_side < 0 || st->pushed ? !st->resp_side : st->req_side,
		.response_side = st->resp_done ? st->resp_side : -1,
		.depth = st->depth,
		.request_ts = st->req_ts,
		.request_pkts = st->req_side >= 0 ? &st->pkts[st->req_side] : NULL,
		.response_pkts = st->resp_done ? &st->pkts[st->resp_side] : NULL,
	};

	if (resp && resp->status_code == 200 && h2_grpc_status(resp) > 0)
		c->env->stats->grpc_errors++;
	st->exchanged = true;
	c->rep.exchange(c->rep.ctx, &x);
}

/*
 * The request a response of st answers, for the filters: the copy kept, else what the open
 * request holds so far (built into *tmp, its fields in *hdrs), else NULL.
 */
static const struct http_message *request_of(struct h2_stream *st, struct http_message *tmp,
					     struct http_header **hdrs)
{
	if (st->req)
		return st->req;
	if (st->req_side < 0 || !st->msg[st->req_side] ||
	    h2_msg_build(st->msg[st->req_side], false, tmp, hdrs))
		return NULL;
	return tmp;
}

static void report_response(struct h2_conn *c, struct h2_stream *st, int side,
			    const struct http_message *msg, const struct h2_packet *at)
{
	struct http_header *th = NULL;
	struct http_message tmp;
	const struct http_message *req = request_of(st, &tmp, &th);

	c->rep.message(c->rep.ctx, side, msg, at, req, &st->pkts[side]);
	free(th);
	if (msg->status_code / 100 == 1)
		return;  /* interim: the exchange goes on */
	st->resp_done = true;
	if (st->req_done || st->req_side < 0)
		write_exchange(c, st, msg);
	else if (c->env->keep_requests)
		st->resp = keep_copy(c, msg);
}

static void report_request(struct h2_conn *c, struct h2_stream *st, int side,
			   const struct http_message *msg, const struct h2_packet *at)
{
	c->rep.message(c->rep.ctx, side, msg, at, NULL, &st->pkts[side]);
	st->req_done = true;
	st->req_ts = msg->ts_ns;
	if (c->env->keep_requests)
		st->req = keep_copy(c, msg);
	if (st->resp_done && !st->exchanged)
		write_exchange(c, st, st->resp);
}

/* Reports m, which side sent on st (and frees it); ended: its side of the stream ended. */
void h2_report_built(struct h2_conn *c, struct h2_stream *st, int side, struct h2_msg *m,
		     bool ended)
{
	struct http_header *h;
	struct http_message msg;

	if (!h2_msg_build(m, ended, &msg, &h)) {
		c->env->http->messages++;
		if (msg.kind == HTTP_REQUEST)
			report_request(c, st, side, &msg, &m->at);
		else
			report_response(c, st, side, &msg, &m->at);
	}
	free(h);
	h2_msg_free(m);
}

/* Reports the message side is sending on st, if any. */
static void report_msg(struct h2_conn *c, struct h2_stream *st, int side, bool ended)
{
	struct h2_msg *m = st->msg[side];

	st->msg[side] = NULL;
	if (m)
		h2_report_built(c, st, side, m, ended);
}

/* A stream that said all it will say is freed. */
static void maybe_done(struct h2_conn *c, struct h2_stream *st)
{
	if (st->exchanged && !st->msg[0] && !st->msg[1])
		h2_stream_free(c, st);
}

/* The stream ends early (RST_STREAM, the connection's end): what it holds is reported. */
void h2_flush_stream(struct h2_conn *c, struct h2_stream *st)
{
	if (st->req_side >= 0)
		report_msg(c, st, st->req_side, false);
	for (int i = 0; i < 2; i++)
		report_msg(c, st, i, false);
	if (!st->exchanged && (st->req_done || st->resp_done))
		write_exchange(c, st, st->resp);
	h2_stream_free(c, st);
}

void h2_side_ended(struct h2_conn *c, struct h2_stream *st, int side)
{
	report_msg(c, st, side, true);
	maybe_done(c, st);
}
