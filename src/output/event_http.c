/* HTTP objects of the JSON events: trace.ProtoHTTP, ProtoHTTPRequest, ProtoHTTPResponse. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "frame/token.h"
#include "http/uri.h"
#include "output/event_internal.h"

#define LIT EVENT_LIT
#define REF_NONE UINT32_MAX

/* One header field of the message being rendered: its key in w->keys and its group. */
struct event_key_ref {
	uint32_t off, len, hash;
	uint32_t group;  /* index of the first field with the same key */
	uint32_t next;   /* next field of the same group, REF_NONE at the end */
	uint32_t tail;   /* group leaders: the last field of the group */
};

/* Header name bytes as Go's CanonicalMIMEHeaderKey sees them: tchars of four kinds, or not. */
enum { NOT_TCHAR, TCHAR, TCHAR_LOWER, TCHAR_UPPER, TCHAR_DASH };

static uint8_t tchar_class(uint8_t c)
{
	if (!http_is_tchar(c))
		return NOT_TCHAR;
	if (c >= 'a' && c <= 'z')
		return TCHAR_LOWER;
	if (c >= 'A' && c <= 'Z')
		return TCHAR_UPPER;
	return c == '-' ? TCHAR_DASH : TCHAR;
}

/*
 * Appends the JSON key of a header name: canonical (Go's CanonicalMIMEHeaderKey: upper case
 * first and after each '-', lower case elsewhere) when every byte is a tchar, else as sent;
 * always as sent for HTTP/2 (as_sent), whose names are lower case on the wire.
 */
static void put_key(struct json_buf *k, const struct http_str *name, bool as_sent)
{
	size_t start = k->len, i;
	bool upper = true;
	uint8_t cls;
	char *p;

	if (as_sent) {
		json_str(k, name->p, name->len);
		return;
	}
	event_raw(k, "\"", 1);
	event_raw(k, name->p, name->len);
	if (k->failed)
		return;
	p = k->data + start + 1;
	for (i = 0; i < name->len; i++) {
		cls = tchar_class((uint8_t)p[i]);
		if (cls == NOT_TCHAR) {
			k->len = start;
			json_str(k, name->p, name->len);
			return;
		}
		if (upper && cls == TCHAR_LOWER)
			p[i] = (char)(p[i] - 32);
		else if (!upper && cls == TCHAR_UPPER)
			p[i] = (char)(p[i] + 32);
		upper = cls == TCHAR_DASH;
	}
	event_raw(k, "\"", 1);
}

/* A quick hash of a rendered key, eight bytes a step: it only filters the comparisons. */
static uint32_t key_hash(const char *s, size_t len)
{
	uint64_t h = len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h ^ h >> 32);
}

/* Links each field to the first earlier field whose rendered key is the same. */
static void link_ref(struct event_key_ref *r, uint32_t i, const char *keys)
{
	uint32_t j;

	r[i].group = r[i].tail = i;
	r[i].next = REF_NONE;
	for (j = 0; j < i; j++) {
		if (r[j].group != j || r[j].hash != r[i].hash || r[j].len != r[i].len ||
		    memcmp(keys + r[j].off, keys + r[i].off, r[i].len))
			continue;
		r[i].group = j;
		r[r[j].tail].next = i;
		r[j].tail = i;
		return;
	}
}

/* Renders every key into w->keys and groups equal keys; 0 or -ENOMEM. */
static int index_keys(struct event_writer *w, const struct http_message *msg)
{
	struct json_buf *k = &w->keys;
	struct event_key_ref *r;
	uint32_t i;

	if (msg->n_headers > w->refs_cap) {
		r = realloc(w->refs, (size_t)msg->n_headers * sizeof(*r));
		if (!r)
			return -ENOMEM;
		w->refs = r;
		w->refs_cap = msg->n_headers;
	}
	r = w->refs;
	json_reset(k);
	for (i = 0; i < msg->n_headers; i++) {
		r[i].off = (uint32_t)k->len;
		put_key(k, &msg->headers[i].name, msg->stream_id != 0);
		if (k->failed || k->len > UINT32_MAX)
			return -ENOMEM;
		r[i].len = (uint32_t)k->len - r[i].off;
		r[i].hash = key_hash(k->data + r[i].off, r[i].len);
		link_ref(r, i, k->data);
	}
	return 0;
}

static void put_hstr(struct json_buf *b, const struct http_str *s)
{
	json_str(b, s->p, s->len);
}

static void put_value(struct event_writer *w, const struct http_header *h)
{
	if (redact_has(&w->redact, h->name.p, h->name.len))
		LIT(&w->buf, "\"REDACTED\"");
	else
		put_hstr(&w->buf, &h->value);
}

/* {"Canonical-Name":["value",...],...}: keys unique, in order of first arrival. */
static void put_headers(struct event_writer *w, const struct http_message *msg)
{
	struct json_buf *b = &w->buf;
	uint32_t i, j;

	if (index_keys(w, msg)) {
		b->failed = 1;
		return;
	}
	LIT(b, "{");
	for (i = 0; i < msg->n_headers; i++) {
		if (w->refs[i].group != i)
			continue;
		if (i)
			LIT(b, ",");
		event_raw(b, w->keys.data + w->refs[i].off, w->refs[i].len);
		LIT(b, ":[");
		for (j = i; j != REF_NONE; j = w->refs[j].next) {
			if (j != i)
				LIT(b, ",");
			put_value(w, &msg->headers[j]);
		}
		LIT(b, "]");
	}
	LIT(b, "}");
}

static void put_host(struct event_writer *w, const struct http_message *msg)
{
	if (w->redact_host && msg->host.len)
		LIT(&w->buf, "\"REDACTED\"");
	else
		put_hstr(&w->buf, &msg->host);
}

/* uri_path as Go's url.URL.Path gives it: percent-decoded, or as sent when an escape is bad. */
static void put_path(struct event_writer *w, const struct http_message *msg)
{
	const struct http_str *p = &msg->path;
	struct json_buf *s = &w->path;
	uint32_t n;

	if (!p->len || !memchr(p->p, '%', p->len)) {
		put_hstr(&w->buf, p);
		return;
	}
	json_reset(s);
	event_raw(s, p->p, p->len);
	if (s->failed) {
		w->buf.failed = 1;
		return;
	}
	if (uri_path_unescape(s->data, p->len, s->data, &n))
		put_hstr(&w->buf, p);
	else
		json_str(&w->buf, s->data, n);
}

bool event_target_has_host(const struct http_str *t)
{
	return t->len && t->p[0] != '/' && !(t->len == 1 && t->p[0] == '*');
}

/* The raw target; one naming the authority (absolute or authority form) hides with Host. */
static void put_uri(struct event_writer *w, const struct http_message *msg)
{
	const struct http_str *t = &msg->target;

	if (w->redact_host && event_target_has_host(t))
		LIT(&w->buf, "\"REDACTED\"");
	else
		put_hstr(&w->buf, t);
}

/* Headers, content_length and the extra keys every HTTP object ends with. */
static void put_http_tail(struct event_writer *w, const struct http_message *msg)
{
	struct json_buf *b = &w->buf;

	LIT(b, ",\"headers\":");
	put_headers(w, msg);
	LIT(b, ",\"content_length\":");
	json_i64(b, msg->content_length);
	if (msg->kind == HTTP_REQUEST) {
		LIT(b, ",\"uri\":");
		put_uri(w, msg);
	}
	if (msg->truncated)
		LIT(b, ",\"truncated\":true");
	if (msg->stream_id) {
		LIT(b, ",\"stream_id\":");
		json_i64(b, msg->stream_id);
	}
	if (msg->tunnel.via.len) {
		LIT(b, ",\"tunnel\":{\"via\":");
		put_hstr(b, &msg->tunnel.via);
		LIT(b, ",\"proxy\":");
		put_hstr(b, &msg->tunnel.proxy);
		LIT(b, ",\"target\":");
		put_hstr(b, &msg->tunnel.target);
		LIT(b, "}");
	}
	LIT(b, "}");
}

static void put_proto_http(struct event_writer *w, const struct http_message *msg)
{
	struct json_buf *b = &w->buf;
	bool req = msg->kind == HTTP_REQUEST;

	LIT(b, "{\"direction\":");
	if (req) {
		LIT(b, "\"request\",\"method\":");
		put_hstr(b, &msg->method);
	} else {
		LIT(b, "\"response\",\"method\":\"\"");
	}
	LIT(b, ",\"protocol\":");
	put_hstr(b, &msg->protocol);
	if (req) {
		LIT(b, ",\"host\":");
		put_host(w, msg);
		LIT(b, ",\"uri_path\":");
		put_path(w, msg);
		LIT(b, ",\"status\":\"\",\"status_code\":0");
	} else {
		LIT(b, ",\"host\":\"\",\"uri_path\":\"\",\"status\":");
		put_hstr(b, &msg->status);
		LIT(b, ",\"status_code\":");
		json_i64(b, msg->status_code);
	}
	put_http_tail(w, msg);
}

static void sig_str(struct json_buf *k, const struct http_str *s)
{
	event_raw(k, (const char *)&s->len, sizeof(s->len));
	event_raw(k, s->p, s->len);
}

/* Strings placed in a head on the stack; a message with more takes the other form. */
#define SIG_PLACES 64

/* Where s lies in a head at h of hlen bytes, as offset and length; false when elsewhere. */
static inline bool sig_place(uint32_t *place, const struct http_str *s, uintptr_t h,
			     uint32_t hlen)
{
	uintptr_t off = (uintptr_t)s->p - h;  /* wraps when s is before the head */

	if (s->len && (off > hlen || s->len > hlen - off))
		return false;
	place[0] = s->len ? (uint32_t)off : 0;
	place[1] = s->len;
	return true;
}

/*
 * The places of msg's strings in its head, then the head's bytes: two copies instead of two
 * per string. False when a string lies outside the head (a tunnel's, a static text).
 */
static bool sig_head(struct json_buf *k, const struct http_message *msg)
{
	const struct http_str *strs[] = {
		&msg->method, &msg->target, &msg->protocol, &msg->host, &msg->path, &msg->status,
		&msg->tunnel.via, &msg->tunnel.proxy, &msg->tunnel.target,
	};
	const uint32_t n_strs = sizeof(strs) / sizeof(strs[0]);
	uintptr_t h = (uintptr_t)msg->head.p;
	uint32_t hlen = msg->head.len, place[2 * SIG_PLACES], i;
	bool ok = true;

	if (msg->n_headers > (SIG_PLACES - n_strs) / 2)
		return false;
	for (i = 0; i < n_strs; i++)
		ok &= sig_place(place + 2 * i, strs[i], h, hlen);
	for (i = 0; i < msg->n_headers; i++) {
		ok &= sig_place(place + 2 * (n_strs + 2 * i), &msg->headers[i].name, h, hlen);
		ok &= sig_place(place + 2 * (n_strs + 2 * i + 1), &msg->headers[i].value, h, hlen);
	}
	if (!ok)
		return false;
	event_raw(k, (const char *)place, 2 * sizeof(*place) * (n_strs + 2 * msg->n_headers));
	event_raw(k, msg->head.p, hlen);
	return true;
}

/* Every string of msg, length and bytes. */
static void sig_strings(struct json_buf *k, const struct http_message *msg)
{
	uint32_t i;

	sig_str(k, &msg->method);
	sig_str(k, &msg->target);
	sig_str(k, &msg->protocol);
	sig_str(k, &msg->host);
	sig_str(k, &msg->path);
	sig_str(k, &msg->status);
	sig_str(k, &msg->tunnel.via);
	sig_str(k, &msg->tunnel.proxy);
	sig_str(k, &msg->tunnel.target);
	for (i = 0; i < msg->n_headers; i++) {
		sig_str(k, &msg->headers[i].name);
		sig_str(k, &msg->headers[i].value);
	}
}

/* Everything the rendering of msg depends on, as bytes (the writer's options are fixed). */
static void msg_signature(struct json_buf *k, const struct http_message *msg)
{
	struct {
		int64_t content_length;
		int32_t status_code;
		uint32_t n_headers;
		uint32_t stream_id;
		uint8_t kind, truncated, in_head;
	} fixed;

	memset(&fixed, 0, sizeof(fixed));
	fixed.content_length = msg->content_length;
	fixed.status_code = msg->status_code;
	fixed.n_headers = msg->n_headers;
	fixed.stream_id = msg->stream_id;
	fixed.kind = (uint8_t)msg->kind;
	fixed.truncated = msg->truncated;
	fixed.in_head = msg->head.len != 0;
	if (msg->parse_id) {
		/* The parse stands for its strings; only what is set after it is added. */
		const struct http_tunnel *t = &msg->tunnel;
		struct {
			__typeof__(fixed) fixed;
			uint64_t parse_id;
			uint32_t via, proxy, target;
		} by_parse;

		memset(&by_parse, 0, sizeof(by_parse));
		memcpy(&by_parse.fixed, &fixed, sizeof(fixed));
		by_parse.fixed.in_head = 2;
		by_parse.parse_id = msg->parse_id;
		by_parse.via = t->via.len;
		by_parse.proxy = t->proxy.len;
		by_parse.target = t->target.len;
		json_reset(k);
		event_raw(k, (const char *)&by_parse, sizeof(by_parse));
		if (t->via.len || t->proxy.len || t->target.len) {
			event_raw(k, t->via.p, t->via.len);
			event_raw(k, t->proxy.p, t->proxy.len);
			event_raw(k, t->target.p, t->target.len);
		}
		return;
	}
	json_reset(k);
	event_raw(k, (const char *)&fixed, sizeof(fixed));
	if (fixed.in_head && sig_head(k, msg))
		return;
	/* the other form, marked as such */
	fixed.in_head = 0;
	json_reset(k);
	event_raw(k, (const char *)&fixed, sizeof(fixed));
	sig_strings(k, msg);
}

/* The cached rendering of a message with signature k, or NULL. */
static const struct event_msg_text *find_msg(const struct event_writer *w,
					     const struct json_buf *k, uint64_t parse_id)
{
	const struct event_msg_text *c;
	uint32_t i;

	for (i = 0; i < EVENT_MSG_CACHE; i++) {
		c = &w->msgs[i];
		if (c->valid && c->parse_id == parse_id && c->sig.len == k->len &&
		    !memcmp(c->sig.data, k->data, k->len))
			return c;
	}
	return NULL;
}

/* Keeps the rendering in w->buf from mark on for messages with the signature in w->sig. */
static void keep_msg(struct event_writer *w, size_t mark, uint64_t parse_id)
{
	struct event_msg_text *c = &w->msgs[w->msgs_next++ % EVENT_MSG_CACHE];

	c->parse_id = parse_id;
	json_reset(&c->sig);
	json_reset(&c->text);
	event_raw(&c->sig, w->sig.data, w->sig.len);
	event_raw(&c->text, w->buf.data + mark, w->buf.len - mark);
	c->valid = !c->sig.failed && !c->text.failed;
}

void event_put_proto_http(struct event_writer *w, const struct http_message *msg)
{
	const struct event_msg_text *c;
	size_t mark = w->buf.len;

	if (msg->stream_id) {
		put_proto_http(w, msg);  /* HTTP/2: each message is on a stream of its own */
		return;
	}
	msg_signature(&w->sig, msg);
	if (w->sig.failed) {
		put_proto_http(w, msg);
		return;
	}
	c = find_msg(w, &w->sig, msg->parse_id);
	if (c) {
		event_raw(&w->buf, c->text.data, c->text.len);
		return;
	}
	put_proto_http(w, msg);
	if (!w->buf.failed)
		keep_msg(w, mark, msg->parse_id);
}

void event_http_free(struct event_writer *w)
{
	for (uint32_t i = 0; i < EVENT_MSG_CACHE; i++) {
		json_free(&w->msgs[i].sig);
		json_free(&w->msgs[i].text);
	}
	json_free(&w->sig);
	json_free(&w->path);
}

void event_put_request(struct event_writer *w, const struct http_message *msg)
{
	struct json_buf *b = &w->buf;

	LIT(b, "{\"method\":");
	put_hstr(b, &msg->method);
	LIT(b, ",\"protocol\":");
	put_hstr(b, &msg->protocol);
	LIT(b, ",\"host\":");
	put_host(w, msg);
	LIT(b, ",\"uri_path\":");
	put_path(w, msg);
	put_http_tail(w, msg);
}

void event_put_response(struct event_writer *w, const struct http_message *msg)
{
	struct json_buf *b = &w->buf;

	LIT(b, "{\"status\":");
	put_hstr(b, &msg->status);
	LIT(b, ",\"status_code\":");
	json_i64(b, msg->status_code);
	LIT(b, ",\"protocol\":");
	put_hstr(b, &msg->protocol);
	put_http_tail(w, msg);
}
