/* Sessions: two HTTP streams per flow and the queue that pairs requests with responses. */
#include <stdlib.h>
#include <string.h>
#include "session.h"

#define SESSION_MAX_PENDING 64u

struct pending_request {
	uint64_t ts_ns;
	struct http_message *copy;  /* kept only when net_flow_http is selected */
	uint32_t depth;
	uint8_t is_head, is_connect;
	uint8_t side;               /* the side that sent it: the client */
	enum direction dir;
};

struct session;

/* What an HTTP stream's emit callback gets: the session and the side that sent the bytes. */
struct session_side {
	struct session *session;
	int side;
	enum direction dir;
};

struct session {
	struct session_env *env;
	struct flow_info info;
	struct http_stream *stream[2];
	bool ended[2];
	struct session_side sides[2];
	struct pending_request pending[SESSION_MAX_PENDING];
	uint32_t pending_head, pending_count;
	uint32_t requests;
	uint64_t last_ts;
};

struct session *session_new(struct session_env *env, const struct flow_info *info)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->env = env;
	s->info = *info;
	for (int i = 0; i < 2; i++)
		s->sides[i] = (struct session_side){ .session = s, .side = i };
	return s;
}

static const struct owner *session_owner(struct session *s)
{
	const struct owner *o;

	if (!s->env->owner_lookup)
		return NULL;
	o = s->env->owner_lookup(s->env->owner_ctx, s->info.sock_cookie);
	if (!o)
		s->env->stats->unknown_owner++;
	return o;
}

static bool method_is(const struct http_str *m, const char *name)
{
	size_t n = strlen(name);

	return m->len == n && memcmp(m->p, name, n) == 0;
}

static void pending_push(struct session *s, const struct session_side *from,
			 const struct http_message *msg)
{
	struct pending_request *r;

	s->requests++;
	if (s->pending_count == SESSION_MAX_PENDING) {
		s->env->stats->pending_dropped++;
		return;
	}
	r = &s->pending[(s->pending_head + s->pending_count++) % SESSION_MAX_PENDING];
	*r = (struct pending_request){
		.ts_ns = msg->ts_ns,
		.depth = s->requests,
		.is_head = method_is(&msg->method, "HEAD"),
		.is_connect = method_is(&msg->method, "CONNECT"),
		.side = (uint8_t)from->side,
		.dir = from->dir,
	};
	if (event_wants(s->env->writer, EVENT_FLOW_HTTP))
		r->copy = http_message_dup(msg);
}

/* Takes the oldest waiting request out of the queue into *out; false when none waits. */
static bool pending_pop(struct session *s, struct pending_request *out)
{
	if (!s->pending_count)
		return false;
	*out = s->pending[s->pending_head];
	s->pending_head = (s->pending_head + 1) % SESSION_MAX_PENDING;
	s->pending_count--;
	return true;
}

/* Writes net_flow_http for a request (may be NULL) and its response (may be NULL). */
static void write_exchange(struct session *s, int client_side, const struct pending_request *req,
			   const struct http_message *resp, uint64_t ts_ns, enum direction dir)
{
	struct exchange x = {
		.ts_ns = ts_ns,
		.family = s->info.family,
		.client = s->info.end[client_side],
		.server = s->info.end[!client_side],
		.dir = dir,
		.owner = session_owner(s),
		.request = req ? req->copy : NULL,
		.response = resp,
		.latency_ns = req && resp && resp->ts_ns > req->ts_ns ? resp->ts_ns - req->ts_ns : 0,
		.trans_depth = req ? req->depth : 0,
	};

	if (!req)
		s->env->stats->unpaired_responses++;
	else if (!resp)
		s->env->stats->unpaired_requests++;
	if (event_wants(s->env->writer, EVENT_FLOW_HTTP) && (x.request || x.response))
		event_exchange(s->env->writer, &x);
}

static enum http_next on_response(struct session *s, const struct session_side *from,
				  const struct http_message *msg)
{
	struct pending_request req;
	bool paired;
	enum http_next next = HTTP_NEXT_DEFAULT;
	enum direction req_dir = from->dir == DIR_INGRESS ? DIR_EGRESS
			       : from->dir == DIR_EGRESS ? DIR_INGRESS : DIR_UNKNOWN;

	if (msg->status_code >= 100 && msg->status_code < 200 && msg->status_code != 101)
		return next;  /* interim: the exchange goes on */
	paired = pending_pop(s, &req);
	if (paired && req.is_head)
		next = HTTP_NEXT_NO_BODY;
	if (paired && req.is_connect && msg->status_code >= 200 && msg->status_code < 300)
		next = HTTP_NEXT_TUNNEL;
	if (next == HTTP_NEXT_TUNNEL || msg->status_code == 101) {
		if (s->stream[!from->side])
			http_stream_set_tunnel(s->stream[!from->side]);
	}
	write_exchange(s, paired ? req.side : !from->side, paired ? &req : NULL, msg, msg->ts_ns,
		       paired ? req.dir : req_dir);
	if (paired)
		free(req.copy);
	return next;
}

static enum http_next on_message(void *ctx, const struct http_message *msg)
{
	struct session_side *from = ctx;
	struct session *s = from->session;
	struct msg_context mc = {
		.ts_ns = msg->ts_ns,
		.family = s->info.family,
		.src = s->info.end[from->side],
		.dst = s->info.end[!from->side],
		.dir = from->dir,
		.owner = session_owner(s),
	};

	event_message(s->env->writer, &mc, msg);
	if (msg->kind == HTTP_REQUEST) {
		pending_push(s, from, msg);
		return HTTP_NEXT_DEFAULT;
	}
	return on_response(s, from, msg);
}

void session_data(struct session *s, int side, const uint8_t *bytes, uint32_t len,
		  const struct flow_chunk_meta *meta)
{
	if (!s)
		return;
	if (!s->stream[side]) {
		s->stream[side] = http_stream_new(s->env->http_limits, s->env->http_stats);
		if (!s->stream[side])
			return;
	}
	s->sides[side].dir = meta->dir;
	s->last_ts = meta->ts_ns;
	http_stream_data(s->stream[side], bytes, len, meta->ts_ns, on_message, &s->sides[side]);
}

void session_gap(struct session *s, int side, uint32_t len)
{
	if (s && s->stream[side])
		http_stream_gap(s->stream[side], len);
}

void session_fin(struct session *s, int side)
{
	if (!s || !s->stream[side] || s->ended[side])
		return;
	s->ended[side] = true;
	http_stream_end(s->stream[side], on_message, &s->sides[side]);
}

void session_close(struct session *s)
{
	struct pending_request req;

	if (!s)
		return;
	for (int i = 0; i < 2; i++)
		session_fin(s, i);
	while (pending_pop(s, &req)) {
		write_exchange(s, req.side, &req, NULL, s->last_ts, req.dir);
		free(req.copy);
	}
	for (int i = 0; i < 2; i++)
		if (s->stream[i])
			http_stream_free(s->stream[i]);
	free(s);
}
