/* Sessions: two HTTP streams per flow and the queue that pairs requests with responses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include "http2/frame.h"
#include "session/session.h"
#include "session/socks.h"

/*
 * Requests waiting for a response, per flow: each is remembered (its kind frames the
 * response: HEAD, CONNECT), but only the first SESSION_MAX_COPIES keep a copy of their
 * head for net_flow_http and filters; past that an exchange is written without its request.
 */
#define SESSION_MAX_PENDING 65536u
#define SESSION_MAX_COPIES 1024u
#define SESSION_INLINE_PENDING 2u

struct pending_request {
	uint64_t ts_ns;
	struct http_message *copy;  /* kept only when env->keep_requests */
	uint32_t copy_mem;          /* the bytes allocated for it */
	struct export_list *pkts;   /* its packets, exported with the exchange (-w, flows only) */
	uint32_t depth;
	uint8_t is_head, is_connect;
	uint8_t side;               /* the side that sent it: the client */
	uint8_t dir;                /* enum direction */
};

struct session;

/* What -w needs per session. */
struct session_export {
	struct export_list kept[2]; /* packets of heads in progress */
	uint64_t completed_in[2];   /* packet_seq of the last packet that completed a head */
	struct export_scan scan[2]; /* --redact: header values masked in the packets written */
};

/* What an HTTP stream's emit callback gets: the session and the side that sent the bytes. */
struct session_side {
	struct session *session;
	int side;
	enum direction dir;
	uint32_t ip_len, ifindex, net_ns;  /* of the latest packet: the one that completes a head */
	bool spoke;                /* a byte of this side came */
};

struct session {
	struct session_env *env;
	struct flow_info info;
	struct http_stream *stream[2];
	bool ended[2];
	struct session_side sides[2];
	struct session_export *x;   /* -w only */
	struct pending_request *pending;  /* a ring of pending_cap; inline_pending at first */
	uint32_t pending_head, pending_count, pending_cap;
	struct pending_request inline_pending[SESSION_INLINE_PENDING];
	uint32_t requests;
	uint32_t owed;              /* resumed: responses due to requests reported before */
	uint32_t owed_head;         /* bit i: the i-th of those answers a HEAD */
	uint8_t owed_client;        /* the side that sent those requests */
	bool resumed;               /* the connection came back after the memory limit */
	uint32_t copies;            /* pending requests holding a copy */
	struct http_message *spare; /* a freed copy's memory, for the next copy (held); or NULL */
	uint32_t spare_mem;
	bool h2;                    /* found to speak HTTP/2 (counted once) */
	struct h2_conn *h2c;        /* its HTTP/2 reader; NULL: none (or no memory) */
	bool spoke;                 /* a byte came from either side */
	uint64_t held;              /* memory of the copies and of a heap-allocated queue */
	uint64_t last_ts;           /* time of the last head on the flow */
	struct session_proxy *proxy;  /* a CONNECT or SOCKS proxy's connection; NULL else */
};

/* A connection to a proxy: its handshake, and what messages through its tunnel say. */
struct session_proxy {
	struct socks socks;
	int client;                 /* the side that sent the SOCKS greeting */
	bool socks_on;              /* a SOCKS handshake is being read */
	bool through;               /* the tunnel is up: messages from now on came through it */
	bool inner;                 /* the streams carry the tunnelled connection */
	struct http_tunnel tunnel;  /* points into the texts below */
	char proxy[INET6_ADDRSTRLEN + 8];
	char target[SOCKS_TARGET_MAX];
};

struct session *session_new(struct session_env *env, const struct flow_info *info)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (env->report.exp && !(s->x = calloc(1, sizeof(*s->x)))) {
		free(s);
		return NULL;
	}
	s->env = env;
	s->info = *info;
	s->pending = s->inline_pending;
	s->pending_cap = SESSION_INLINE_PENDING;
	for (int i = 0; i < 2; i++)
		s->sides[i] = (struct session_side){ .session = s, .side = i };
	if (info->resumed) {
		s->resumed = true;
		s->requests = info->resume.requests;
		s->owed = info->resume.owed;
		s->owed_head = info->resume.owed_head;
		s->owed_client = info->resume.client_side;
	}
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

/* Adds n (may be negative) to the memory s holds, and to that of every session. */
static void hold(struct session *s, int64_t n)
{
	s->held += (uint64_t)n;
	s->env->stats->held_bytes += (uint64_t)n;
}

/* What a copy of m (http_message_dup) costs, give or take its line ends. */
static int64_t copy_cost(const struct http_message *m)
{
	return (int64_t)(sizeof(*m) + m->n_headers * sizeof(struct http_header) + report_head_size(m));
}

static int64_t ring_cost(const struct session *s)
{
	return s->pending == s->inline_pending ? 0
					       : (int64_t)(s->pending_cap * sizeof(*s->pending));
}

/* Doubles the pending ring up to SESSION_MAX_PENDING; false when it cannot grow. */
static bool pending_grow(struct session *s)
{
	uint32_t cap = s->pending_cap * 2;
	struct pending_request *ring;

	if (cap > SESSION_MAX_PENDING || !(ring = malloc(cap * sizeof(*ring))))
		return false;
	for (uint32_t i = 0; i < s->pending_count; i++)
		ring[i] = s->pending[(s->pending_head + i) % s->pending_cap];
	hold(s, -ring_cost(s));
	if (s->pending != s->inline_pending)
		free(s->pending);
	s->pending = ring;
	s->pending_cap = cap;
	s->pending_head = 0;
	hold(s, ring_cost(s));
	return true;
}

#define COPY_GRAIN 512  /* copies are allocated in multiples of this: the next one fits */

/* A copy of msg for the queue, in the last freed copy's memory when it fits; NULL: none. */
static struct http_message *copy_request(struct session *s, const struct http_message *msg,
					 uint32_t *mem_size)
{
	size_t size = http_message_copy_size(msg);
	void *mem = s->spare;

	if (mem && s->spare_mem >= size) {
		*mem_size = s->spare_mem;
		hold(s, -(int64_t)s->spare_mem);
		s->spare = NULL;
		return http_message_copy(mem, msg);
	}
	size = (size + COPY_GRAIN - 1) / COPY_GRAIN * COPY_GRAIN;
	if (size > UINT32_MAX || !(mem = malloc(size)))
		return NULL;
	*mem_size = (uint32_t)size;
	return http_message_copy(mem, msg);
}

static void pending_push(struct session *s, const struct session_side *from,
			 const struct http_message *msg)
{
	struct pending_request *r;

	s->requests++;
	if (s->pending_count == s->pending_cap && !pending_grow(s)) {
		s->env->stats->pending_dropped++;
		if (s->x)
			export_list_clear(s->env->report.exp, &s->x->kept[from->side]);
		return;
	}
	r = &s->pending[(s->pending_head + s->pending_count++) % s->pending_cap];
	*r = (struct pending_request){
		.ts_ns = msg->ts_ns,
		.depth = s->requests,
		.is_head = method_is(&msg->method, "HEAD"),
		.is_connect = method_is(&msg->method, "CONNECT"),
		.side = (uint8_t)from->side,
		.dir = (uint8_t)from->dir,
	};
	if (s->env->keep_requests)
		r->copy = s->copies < SESSION_MAX_COPIES ? copy_request(s, msg, &r->copy_mem) : NULL;
	s->copies += r->copy != NULL;
	if (r->copy)
		hold(s, copy_cost(r->copy));
	if (report_exports_exchanges(&s->env->report)) {
		r->pkts = calloc(1, sizeof(*r->pkts));
		if (r->pkts)
			export_take(s->env->report.exp, &s->x->kept[from->side],
				    report_head_size(msg), r->pkts);
		else
			export_list_clear(s->env->report.exp, &s->x->kept[from->side]);
	}
}

/* Takes the oldest waiting request out of the queue into *out; false when none waits. */
static bool pending_pop(struct session *s, struct pending_request *out)
{
	if (!s->pending_count)
		return false;
	*out = s->pending[s->pending_head];
	s->pending_head = (s->pending_head + 1) % s->pending_cap;
	s->pending_count--;
	return true;
}

static void pending_free(struct session *s, struct pending_request *r)
{
	s->copies -= r->copy != NULL;
	if (r->copy)
		hold(s, -copy_cost(r->copy));
	if (r->copy && !s->spare) {
		s->spare = r->copy;
		s->spare_mem = r->copy_mem;
		hold(s, s->spare_mem);
	} else {
		free(r->copy);
	}
	if (r->pkts)
		export_list_clear(s->env->report.exp, r->pkts);
	free(r->pkts);
}

/*
 * Writes net_flow_http for a request (may be NULL) and its response (may be NULL, then
 * resp_pkts is NULL too) and counts it in the metrics when it passes the filters.
 */
static void write_exchange(struct session *s, int client_side, struct pending_request *req,
			   const struct http_message *resp, struct export_list *resp_pkts,
			   uint64_t ts_ns, enum direction dir)
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
		.tls = s->info.tls,
	};

	if (!req)
		s->env->stats->unpaired_responses++;
	else if (!resp)
		s->env->stats->unpaired_requests++;
	report_exchange(&s->env->report, &x, req ? req->pkts : NULL, resp_pkts);
}

/* The direction other than side is a tunnel too, even before its first byte. */
static void tunnel_other(struct session *s, int side)
{
	if (!s->stream[!side])
		s->stream[!side] = http_stream_new(s->env->http_limits, s->env->http_stats,
						   s->env->parse_cache);
	if (s->stream[!side])
		http_stream_set_tunnel(s->stream[!side]);
}

static struct session_proxy *proxy_of(struct session *s)
{
	if (!s->proxy)
		s->proxy = calloc(1, sizeof(*s->proxy));
	return s->proxy;
}

/* The tunnel is up: via, the proxy (side proxy_side's end) and the target the client named. */
static void tunnel_up(struct session *s, int proxy_side, const char *via, const char *target,
		      size_t target_len)
{
	struct session_proxy *p = proxy_of(s);
	const struct endpoint *e = &s->info.end[proxy_side];
	char ip[INET6_ADDRSTRLEN] = "";

	if (!p)
		return;
	inet_ntop(s->info.family == 4 ? AF_INET : AF_INET6, e->addr, ip, sizeof(ip));
	snprintf(p->proxy, sizeof(p->proxy), s->info.family == 4 ? "%s:%u" : "[%s]:%u", ip,
		 e->port);
	if (target_len >= sizeof(p->target))
		target_len = sizeof(p->target) - 1;
	memcpy(p->target, target, target_len);
	p->target[target_len] = '\0';
	p->tunnel.via = (struct http_str){ via, (uint32_t)strlen(via) };
	p->tunnel.proxy = (struct http_str){ p->proxy, (uint32_t)strlen(p->proxy) };
	p->tunnel.target = (struct http_str){ p->target, (uint32_t)target_len };
	p->through = true;
}

/* The context of a message side sent, at ts_ns, for its events. */
static void side_context(struct session *s, const struct session_side *from, uint64_t ts_ns,
			 struct msg_context *mc)
{
	*mc = (struct msg_context){
		.ts_ns = ts_ns,
		.family = s->info.family,
		.src = s->info.end[from->side],
		.dst = s->info.end[!from->side],
		.dir = from->dir,
		.packet_len = from->ip_len,
		.ifindex = from->ifindex,
		.net_ns = from->net_ns,
		.owner = session_owner(s),
		.tls = s->info.tls,
	};
}

static void h2_message(void *ctx, int side, const struct http_message *msg,
		       const struct h2_packet *at, const struct http_message *request,
		       struct export_list *pkts)
{
	struct session *s = ctx;
	struct msg_context mc;

	side_context(s, &s->sides[side], msg->ts_ns, &mc);
	mc.packet_len = at->ip_len;
	mc.ifindex = at->ifindex;
	s->last_ts = msg->ts_ns;
	report_message(&s->env->report, &mc, msg, msg->kind == HTTP_REQUEST ? msg : request, pkts);
}

static void h2_exchange(void *ctx, const struct h2_exchange *x)
{
	struct session *s = ctx;
	int c = x->client_side;
	struct pending_request req = {
		.ts_ns = x->request_ts,
		.copy = (struct http_message *)x->request,
		.pkts = x->request_pkts,
		.depth = x->depth,
		.side = (uint8_t)c,
		.dir = (uint8_t)s->sides[c].dir,
	};

	write_exchange(s, c, x->has_request ? &req : NULL, x->response,
		       x->response_pkts,
		       x->response ? x->response->ts_ns : s->last_ts, s->sides[c].dir);
}

/*
 * The connection speaks HTTP/2 from here on (side found it; client sends the requests):
 * counted once; HTTP/1.x parsing stops and the HTTP/2 reader takes the bytes.
 */
static void session_h2(struct session *s, int side, enum h2_start how, int client)
{
	const struct h2_report rep = { h2_message, h2_exchange, s };

	if (!s->h2)
		s->env->stats->http2++;
	s->h2 = true;
	tunnel_other(s, side);
	for (int i = 0; s->x && i < 2; i++)
		export_list_clear(s->env->report.exp, &s->x->kept[i]);  /* HTTP/1.x heads only */
	if (!s->h2c)
		s->h2c = h2_conn_new(&s->env->h2, &rep, how, client);
}

/* A 101 to "Upgrade: h2c": HTTP/2 follows, and the request that asked for it is stream 1's. */
static void upgrade_h2c(struct session *s, const struct session_side *from)
{
	struct pending_request req;
	bool paired = pending_pop(s, &req);

	session_h2(s, from->side, H2_START_UPGRADE, paired ? req.side : !from->side);
	if (!paired)
		return;
	if (s->h2c) {
		if (req.copy) {
			hold(s, -copy_cost(req.copy));
			s->copies--;
		}
		h2_conn_upgraded(s->h2c, req.copy, req.depth, req.pkts);
		req.copy = NULL;
	}
	pending_free(s, &req);
}

/*
 * A 2xx answered CONNECT: both directions carry the tunnelled connection, parsed when it is
 * HTTP/1 (an http:// request through the proxy), opaque otherwise (TLS).
 */
static void connect_up(struct session *s, int proxy_side)
{
	struct session_proxy *p = s->proxy;

	if (!s->stream[!proxy_side])
		s->stream[!proxy_side] = http_stream_new(s->env->http_limits, s->env->http_stats,
							 s->env->parse_cache);
	if (s->stream[!proxy_side])
		http_stream_set_inner(s->stream[!proxy_side]);
	if (p)
		p->inner = true;
	if (p && p->target[0])
		tunnel_up(s, proxy_side, "connect", p->target, strlen(p->target));
}

/* True for a 101 that switches to HTTP/2 over cleartext ("Upgrade: h2c"). */
static bool upgrades_to_h2c(const struct http_message *msg)
{
	for (uint32_t i = 0; i < msg->n_headers; i++) {
		const struct http_str *n = &msg->headers[i].name, *v = &msg->headers[i].value;

		if (n->len == 7 && !strncasecmp(n->p, "upgrade", 7) && v->len >= 3 &&
		    !strncasecmp(v->p, "h2c", 3))
			return true;
	}
	return false;
}

static enum http_next on_response(struct session *s, const struct session_side *from,
				  const struct http_message *msg)
{
	struct pending_request req;
	bool paired;
	enum http_next next = HTTP_NEXT_DEFAULT;
	enum direction req_dir = from->dir == DIR_INGRESS ? DIR_EGRESS
			       : from->dir == DIR_EGRESS ? DIR_INGRESS : DIR_UNKNOWN;

	if (msg->status_code == 101 && upgrades_to_h2c(msg)) {
		upgrade_h2c(s, from);
		return HTTP_NEXT_TUNNEL;
	}
	if (msg->status_code >= 100 && msg->status_code < 200 && msg->status_code != 101) {
		if (report_exports_exchanges(&s->env->report))
			export_list_clear(s->env->report.exp, &s->x->kept[from->side]);
		return next;  /* interim: the exchange goes on */
	}
	if (s->owed && from->side != s->owed_client) {
		/* It answers a request reported before the memory limit ended the flow. */
		next = s->owed_head & 1 ? HTTP_NEXT_NO_BODY : HTTP_NEXT_DEFAULT;
		s->owed--;
		s->owed_head >>= 1;
		write_exchange(s, !from->side, NULL, msg, s->x ? &s->x->kept[from->side] : NULL,
			       msg->ts_ns, req_dir);
		return next;
	}
	paired = pending_pop(s, &req);
	if (paired && req.is_head)
		next = HTTP_NEXT_NO_BODY;
	if (paired && req.is_connect && msg->status_code >= 200 && msg->status_code < 300)
		next = s->env->http_limits->opaque_tunnels ? HTTP_NEXT_TUNNEL : HTTP_NEXT_INNER;
	if (next == HTTP_NEXT_TUNNEL || msg->status_code == 101)
		tunnel_other(s, from->side);
	if (next == HTTP_NEXT_INNER)
		connect_up(s, from->side);
	write_exchange(s, paired ? req.side : !from->side, paired ? &req : NULL, msg,
		       s->x ? &s->x->kept[from->side] : NULL, msg->ts_ns, paired ? req.dir : req_dir);
	if (paired)
		pending_free(s, &req);
	return next;
}

static enum http_next on_message(void *ctx, const struct http_message *msg)
{
	struct session_side *from = ctx;
	struct session *s = from->session;
	const struct http_message *req;
	struct msg_context mc;
	struct http_message through;

	side_context(s, from, msg->ts_ns, &mc);
	if (s->x)
		s->x->completed_in[from->side] = s->env->packet_seq;
	s->last_ts = msg->ts_ns;
	if (s->proxy && s->proxy->through) {
		through = *msg;
		through.tunnel = s->proxy->tunnel;
		msg = &through;
	}
	req = msg->kind == HTTP_REQUEST ? msg : NULL;
	if (!req && s->pending_count)
		req = s->pending[s->pending_head].copy;
	report_message(&s->env->report, &mc, msg, req, s->x ? &s->x->kept[from->side] : NULL);
	if (msg->kind == HTTP_REQUEST) {
		if (method_is(&msg->method, "CONNECT") && !(s->proxy && s->proxy->through) &&
		    proxy_of(s))
			snprintf(s->proxy->target, sizeof(s->proxy->target), "%.*s",
				 (int)msg->host.len, msg->host.p);
		pending_push(s, from, msg);
		return HTTP_NEXT_DEFAULT;
	}
	return on_response(s, from, msg);
}

/* Keeps a copy of the current packet when it may hold part of a head still in progress. */
static void keep_packet(struct session *s, int side, const uint8_t *bytes, uint32_t len)
{
	struct export_list *l = &s->x->kept[side];

	if (s->x->completed_in[side] == s->env->packet_seq)
		return;
	if (l->head || http_looks_like_start(bytes, len))
		export_keep(s->env->report.exp, l, s->env->http_limits->max_head);
}

/*
 * Skips side's SOCKS handshake bytes at the start of bytes; returns how many. After the
 * client's request, messages came through the tunnel; after each side's handshake, its
 * stream carries the tunnelled connection. Bytes that are not SOCKS end the skipping.
 */
static size_t skip_socks(struct session *s, int side, const uint8_t *bytes, uint32_t len)
{
	struct session_proxy *p = s->proxy;
	int ss = side == p->client ? 0 : 1;
	const struct socks_side *d = &p->socks.side[ss];
	size_t used;

	if (d->state != SOCKS_RUNNING)
		return 0;
	used = socks_skip(&p->socks, ss, bytes, len);
	if (d->state == SOCKS_FAILED) {
		p->socks_on = false;
	} else if (d->state == SOCKS_DONE) {
		http_stream_set_inner(s->stream[side]);
		p->inner = true;
		if (ss == 0)
			tunnel_up(s, !side, socks_name(&p->socks), p->socks.target,
				  strlen(p->socks.target));
	}
	return used;
}

void session_data(struct session *s, int side, const uint8_t *bytes, uint32_t len,
		  const struct flow_chunk_meta *meta)
{
	const struct h2_packet pk = { meta->ts_ns, meta->ip_len, meta->ifindex };
	size_t used;
	int version;
	bool preface;

	if (!s)
		return;
	if (!s->stream[side]) {
		s->stream[side] = http_stream_new(s->env->http_limits, s->env->http_stats,
						  s->env->parse_cache);
		if (!s->stream[side])
			return;
		if (s->resumed)
			http_stream_resume(s->stream[side]);
	}
	s->sides[side].dir = meta->dir;
	if (meta->boundary)
		http_stream_boundary(s->stream[side]);
	if (meta->boundary && s->h2c)
		h2_conn_boundary(s->h2c, side);
	s->sides[side].ip_len = meta->ip_len;
	s->sides[side].ifindex = meta->ifindex;
	s->sides[side].net_ns = meta->net_ns;
	if (s->x)
		export_redact(s->env->report.exp, &s->x->scan[side], bytes, len);
	if (!s->h2 && !s->sides[side].spoke && len > H2_FRAME_HEADER && bytes[3] != H2_SETTINGS &&
	    h2_conn_looks_joined(bytes, len))
		session_h2(s, side, H2_START_JOINED, !side);  /* frames in mid-connection */
	s->sides[side].spoke = true;
	if (s->h2c) {
		h2_conn_data(s->h2c, side, bytes, len, &pk, true);
		return;
	}
	if (!s->spoke && !s->env->http_limits->opaque_tunnels &&
	    (version = socks_version(bytes, len)) && proxy_of(s)) {
		socks_init(&s->proxy->socks, version);
		s->proxy->socks_on = true;
		s->proxy->client = side;
	}
	s->spoke = true;
	if (s->proxy && s->proxy->socks_on) {
		used = skip_socks(s, side, bytes, len);
		bytes += used;
		len -= used;
		if (!len)
			return;
	}
	used = http_stream_data(s->stream[side], bytes, len, meta->ts_ns, on_message,
				&s->sides[side]);
	if (!s->h2 && http_stream_is_h2(s->stream[side])) {
		preface = http_stream_h2_preface(s->stream[side]);
		session_h2(s, side, preface ? H2_START_PREFACE : H2_START_SETTINGS,
			   preface ? side : !side);
	}
	if (s->h2c)
		h2_conn_data(s->h2c, side, bytes + used, len - used, &pk, !used);
	else if (s->proxy && s->proxy->inner && http_stream_is_tunnel(s->stream[side]))
		tunnel_other(s, side);  /* TLS in the tunnel: both directions opaque */
	if (s->x && !s->h2)
		keep_packet(s, side, bytes, len);
}

void session_gap(struct session *s, int side, uint32_t len)
{
	if (s && s->x)
		export_redact_gap(&s->x->scan[side]);
	if (s)
		s->spoke = true;
	if (s && s->proxy)
		s->proxy->socks_on = false;  /* a handshake with a hole is not followed */
	if (s && s->h2c)
		h2_conn_gap(s->h2c, side, len);
	else if (s && s->stream[side])
		http_stream_gap(s->stream[side], len, on_message, &s->sides[side]);
}

void session_fin(struct session *s, int side)
{
	if (!s || !s->stream[side] || s->ended[side])
		return;
	s->ended[side] = true;
	http_stream_end(s->stream[side], on_message, &s->sides[side]);
}

/* What a resumed connection needs: the numbering, and the responses now owed. */
static void keep_for_resume(struct session *s, const struct pending_request *req,
			    struct flow_resume *keep)
{
	if (!keep->owed && !s->owed)
		keep->client_side = req->side;
	if (keep->owed + s->owed < 32)
		keep->owed_head |= (uint32_t)req->is_head << (keep->owed + s->owed);
	keep->owed++;
}

void session_close(struct session *s, struct flow_resume *keep)
{
	struct pending_request req;

	if (!s)
		return;
	for (int i = 0; i < 2; i++)
		session_fin(s, i);
	h2_conn_free(s->h2c);
	s->h2c = NULL;
	while (pending_pop(s, &req)) {
		if (keep)
			keep_for_resume(s, &req, keep);
		write_exchange(s, req.side, &req, NULL, NULL, s->last_ts, req.dir);
		pending_free(s, &req);
	}
	if (keep) {
		keep->requests = s->requests;
		if (s->owed && !keep->owed)
			keep->client_side = s->owed_client;
		keep->owed_head = s->owed_head | keep->owed_head;
		keep->owed += s->owed;
	}
	for (int i = 0; i < 2; i++) {
		if (s->stream[i])
			http_stream_free(s->stream[i]);
		if (s->x)
			export_list_clear(s->env->report.exp, &s->x->kept[i]);
	}
	hold(s, -ring_cost(s));
	if (s->pending != s->inline_pending)
		free(s->pending);
	if (s->spare)
		hold(s, -(int64_t)s->spare_mem);
	free(s->spare);
	free(s->proxy);
	free(s->x);
	free(s);
}

uint64_t session_held(const struct session *s)
{
	uint64_t n = s ? s->held + h2_conn_held(s->h2c) : 0;

	for (int i = 0; s && i < 2; i++)
		n += s->stream[i] ? http_stream_held(s->stream[i]) : 0;
	return n;
}
