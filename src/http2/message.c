/* HTTP/2 messages: decoded fields, bounded, and the http_message the events are made of. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "http2/internal.h"
#include "http2/http2.h"

#define FIELD_OVERHEAD 32u   /* RFC 9113 section 6.5.2: per field, on top of its bytes */
#define MIN_FIELDS 16u
#define MIN_TEXT 512u

static const char protocol[] = "HTTP/2.0";

static const struct {
	const char *name;
	uint32_t len;
} pseudo_names[PS_COUNT] = {
	[PS_METHOD] = { ":method", 7 },
	[PS_PATH] = { ":path", 5 },
	[PS_AUTHORITY] = { ":authority", 10 },
	[PS_STATUS] = { ":status", 7 },
	[PS_SCHEME] = { ":scheme", 7 },
};

static void count(struct h2_msg *m, int64_t n)
{
	m->mem += (uint64_t)n;
	*m->held += (uint64_t)n;
}

struct h2_msg *h2_msg_new(uint64_t *held, uint32_t stream)
{
	struct h2_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->held = held;
	m->stream = stream;
	for (int i = 0; i < PS_COUNT; i++)
		m->pseudo[i] = -1;
	count(m, sizeof(*m));
	return m;
}

void h2_msg_free(struct h2_msg *m)
{
	if (!m)
		return;
	*m->held -= m->mem;
	free(m->f);
	free(m->text);
	free(m);
}

/* A new header block begins in m (its list size counts from 0). */
static void h2_msg_block(struct h2_msg *m)
{
	m->list_size = 0;
}

/* Room for one more field and n more text bytes. */
static bool reserve(struct h2_msg *m, size_t n)
{
	uint32_t cap;
	void *p;

	if (m->n == m->fcap) {
		cap = m->fcap ? m->fcap * 2 : MIN_FIELDS;
		p = realloc(m->f, cap * sizeof(*m->f));
		if (!p)
			return false;
		count(m, (int64_t)(cap - m->fcap) * (int64_t)sizeof(*m->f));
		m->f = p;
		m->fcap = cap;
	}
	if (m->len + n > m->tcap || !m->text) {
		cap = m->tcap ? m->tcap : MIN_TEXT;
		while (cap < m->len + n)
			cap *= 2;
		p = realloc(m->text, cap);
		if (!p)
			return false;
		count(m, (int64_t)cap - (int64_t)m->tcap);
		m->text = p;
		m->tcap = cap;
	}
	return true;
}

static void note_pseudo(struct h2_msg *m, const uint8_t *name, size_t len)
{
	for (int i = 0; i < PS_COUNT; i++)
		if (m->pseudo[i] < 0 && len == pseudo_names[i].len &&
		    !memcmp(name, pseudo_names[i].name, len))
			m->pseudo[i] = (int32_t)m->n;
}

bool h2_msg_add(struct h2_msg *m, const struct http_limits *lim, const uint8_t *name,
		size_t name_len, const uint8_t *value, size_t value_len)
{
	struct h2_field *f;

	m->list_size += name_len + value_len + FIELD_OVERHEAD;
	if (m->truncated || m->list_size > lim->max_head || m->n >= lim->max_fields) {
		m->truncated = true;
		return false;
	}
	if (!reserve(m, name_len + value_len)) {
		m->failed = m->truncated = true;
		return false;
	}
	if (name_len && name[0] == ':')
		note_pseudo(m, name, name_len);
	f = &m->f[m->n++];
	f->name = m->len;
	f->name_len = (uint32_t)name_len;
	memcpy(m->text + m->len, name, name_len);
	m->len += (uint32_t)name_len;
	f->value = m->len;
	f->value_len = (uint32_t)value_len;
	memcpy(m->text + m->len, value, value_len);
	m->len += (uint32_t)value_len;
	return true;
}

static bool is_pseudo(const struct h2_msg *m, const struct h2_field *f)
{
	return f->name_len && m->text[f->name] == ':';
}

void h2_msg_append(struct h2_msg *m, const struct h2_msg *t, const struct http_limits *lim)
{
	const struct h2_field *f;

	h2_msg_block(m);
	m->truncated |= t->truncated;
	for (uint32_t i = 0; i < t->n; i++) {
		f = &t->f[i];
		if (!is_pseudo(t, f))
			h2_msg_add(m, lim, (const uint8_t *)t->text + f->name, f->name_len,
				   (const uint8_t *)t->text + f->value, f->value_len);
	}
}

int h2_msg_kind(const struct h2_msg *m)
{
	if (m->pseudo[PS_STATUS] >= 0)
		return HTTP_RESPONSE;
	return m->pseudo[PS_METHOD] >= 0 ? HTTP_REQUEST : 0;
}

static struct http_str value_of(const struct h2_msg *m, int32_t i)
{
	if (i < 0)
		return (struct http_str){ "", 0 };
	return (struct http_str){ m->text + m->f[i].value, m->f[i].value_len };
}

int h2_msg_status(const struct h2_msg *m)
{
	struct http_str s = value_of(m, m->pseudo[PS_STATUS]);

	if (s.len != 3)
		return 0;
	for (int i = 0; i < 3; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
	return (s.p[0] - '0') * 100 + (s.p[1] - '0') * 10 + (s.p[2] - '0');
}

/* The first regular field named name (lower case, as HTTP/2 sends names), -1: none. */
static int32_t find(const struct h2_msg *m, const char *name)
{
	size_t n = strlen(name);

	for (uint32_t i = 0; i < m->n; i++)
		if (m->f[i].name_len == n && !memcmp(m->text + m->f[i].name, name, n))
			return (int32_t)i;
	return -1;
}

/* content-length when it is 1 to 18 digits, else -1. */
static int64_t length_field(const struct h2_msg *m)
{
	struct http_str v = value_of(m, find(m, "content-length"));
	int64_t n = 0;

	if (!v.len || v.len > 18)
		return -1;
	for (uint32_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (v.p[i] - '0');
	}
	return n;
}

static void build_request(const struct h2_msg *m, struct http_message *out)
{
	struct http_str t;
	uint32_t k = 0;

	out->kind = HTTP_REQUEST;
	out->method = value_of(m, m->pseudo[PS_METHOD]);
	out->host = value_of(m, m->pseudo[PS_AUTHORITY]);
	if (!out->host.len)
		out->host = value_of(m, find(m, "host"));
	t = value_of(m, m->pseudo[PS_PATH]);
	if (m->pseudo[PS_PATH] < 0 && out->method.len == 7 && !memcmp(out->method.p, "CONNECT", 7))
		t = out->host;  /* CONNECT names the authority only, as its HTTP/1.1 form */
	else
		while (k < t.len && t.p[k] != '?' && t.p[k] != '#')
			k++;
	out->target = t;
	out->path = (struct http_str){ t.p, k };
}

int h2_msg_build(const struct h2_msg *m, bool ended, struct http_message *out,
		 struct http_header **hdrs)
{
	uint32_t i, k = 0;

	memset(out, 0, sizeof(*out));
	*hdrs = NULL;
	out->protocol = (struct http_str){ protocol, sizeof(protocol) - 1 };
	out->ts_ns = m->at.ts_ns;
	out->truncated = m->truncated;
	out->stream_id = m->stream;
	if (h2_msg_kind(m) == HTTP_RESPONSE) {
		out->kind = HTTP_RESPONSE;
		out->status = value_of(m, m->pseudo[PS_STATUS]);
		out->status_code = h2_msg_status(m);
	} else {
		build_request(m, out);
	}
	out->content_length = length_field(m);
	if (out->content_length < 0 && ended && !m->data_unknown)
		out->content_length = (int64_t)m->data;
	if (out->kind == HTTP_RESPONSE && out->status_code / 100 == 1)
		out->content_length = 0;
	if (m->n && !(*hdrs = malloc(m->n * sizeof(**hdrs))))
		return -ENOMEM;
	for (i = 0; i < m->n; i++) {
		const struct h2_field *f = &m->f[i];

		if (is_pseudo(m, f))
			continue;
		(*hdrs)[k].name = (struct http_str){ m->text + f->name, f->name_len };
		(*hdrs)[k++].value = (struct http_str){ m->text + f->value, f->value_len };
	}
	out->headers = *hdrs;
	out->n_headers = k;
	return 0;
}

int h2_grpc_status(const struct http_message *m)
{
	int v = 0;

	for (uint32_t i = 0; m && i < m->n_headers; i++) {
		const struct http_str *n = &m->headers[i].name, *s = &m->headers[i].value;

		if (n->len != 11 || memcmp(n->p, "grpc-status", 11) || !s->len || s->len > 9)
			continue;
		for (uint32_t k = 0; k < s->len; k++) {
			if (s->p[k] < '0' || s->p[k] > '9')
				return -1;
			v = v * 10 + (s->p[k] - '0');
		}
		return v;
	}
	return -1;
}
