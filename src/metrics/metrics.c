/* Metrics: each exchange's labels, its series (bounded per histogram) and its observation. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "metrics/internal.h"
#include "http/uri.h"

#define LIT(b, s) json_raw((b), (s), sizeof(s) - 1)
#define OVERFLOW "__overflow__"
#define MIN_SERIES_CAP 16u
#define MIN_INDEX 64u

static const uint64_t bucket_ns[METRICS_BUCKETS] = {
	5000000ull, 10000000ull, 25000000ull, 50000000ull, 75000000ull, 100000000ull,
	250000000ull, 500000000ull, 750000000ull, 1000000000ull, 2500000000ull, 5000000000ull,
	7500000000ull, 10000000000ull,
};

const char *const metrics_bucket_le[METRICS_BUCKETS] = {
	"0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5", "5",
	"7.5", "10",
};

/* Every label of both histograms, in the order they are written. */
static const char *const label_names[] = {
	"http_request_method", "http_response_status_code", "http_route", "server_address",
	"server_port", "process_name", "container_id", "k8s_pod_uid", "rpc_grpc_status_code",
};

struct metrics *metrics_new(const struct metrics_options *opt)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (pthread_mutex_init(&m->lock, NULL)) {
		free(m);
		return NULL;
	}
	m->opt = *opt;
	if (m->opt.max_series < 2)
		m->opt.max_series = METRICS_DEFAULT_MAX_SERIES;
	m->hist[METRICS_SERVER] = (struct metrics_histogram){
		.name = "http_server_request_duration_seconds",
		.help = "Duration of HTTP server requests.",
	};
	m->hist[METRICS_CLIENT] = (struct metrics_histogram){
		.name = "http_client_request_duration_seconds",
		.help = "Duration of HTTP client requests.",
	};
	json_init(&m->key);
	json_init(&m->path);
	return m;
}

void metrics_put_value(struct json_buf *b, const char *s, size_t len)
{
	size_t i, start = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			continue;
		json_raw(b, s + start, i - start);
		start = i + 1;
		if (c == '\\')
			LIT(b, "\\\\");
		else if (c == '"')
			LIT(b, "\\\"");
		else if (c == '\n')
			LIT(b, "\\n");
		else
			LIT(b, "?");
	}
	json_raw(b, s + start, len - start);
}

/* Appends name="value" (after a comma unless it is the first); an empty value is left out. */
static void put_label(struct json_buf *b, unsigned k, const char *v, size_t len)
{
	if (!len)
		return;
	if (b->len)
		LIT(b, ",");
	json_lit(b, label_names[k]);
	LIT(b, "=\"");
	metrics_put_value(b, v, len);
	LIT(b, "\"");
}

/* OpenTelemetry's rule: the methods of RFC 9110 and PATCH as they are, any other as _OTHER. */
static const char *method_label(const struct http_str *m)
{
	static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
					     "OPTIONS", "TRACE", "PATCH" };

	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
		if (strlen(known[k]) == m->len && !memcmp(known[k], m->p, m->len))
			return known[k];
	return "_OTHER";
}

/* The route of the request's path, percent-decoded as the events' uri_path is. */
static size_t route_label(struct metrics *m, const struct http_str *path, char *out)
{
	struct json_buf *d = &m->path;
	uint32_t n;

	json_reset(d);
	json_raw(d, path->p, path->len);
	if (d->failed || uri_path_unescape(d->data, path->len, d->data, &n))
		return route_of(&m->opt.routes, path->p, path->len, out);
	return route_of(&m->opt.routes, d->data, n, out);
}

static void put_owner_labels(struct json_buf *b, const struct owner *o)
{
	if (!o)
		return;
	put_label(b, 5, o->comm, strnlen(o->comm, sizeof(o->comm)));
	put_label(b, 6, o->container_id, strnlen(o->container_id, sizeof(o->container_id)));
	put_label(b, 7, o->pod_uid, strnlen(o->pod_uid, sizeof(o->pod_uid)));
}

/* The labels of exchange x into m->key. */
static void exchange_labels(struct metrics *m, const struct exchange *x)
{
	const char *method = method_label(&x->request->method);
	struct json_buf *b = &m->key;
	char text[INET6_ADDRSTRLEN], route[ROUTE_MAX_LEN + 1];
	size_t n;
	int grpc;

	json_reset(b);
	put_label(b, 0, method, strlen(method));
	n = (size_t)snprintf(text, sizeof(text), "%d", x->response->status_code);
	put_label(b, 1, text, n);
	n = route_label(m, &x->request->path, route);
	put_label(b, 2, route, n);
	if (inet_ntop(x->family == 6 ? AF_INET6 : AF_INET, x->server.addr, text, sizeof(text)))
		put_label(b, 3, text, strlen(text));
	n = (size_t)snprintf(text, sizeof(text), "%u", x->server.port);
	put_label(b, 4, text, n);
	put_owner_labels(b, x->owner);
	grpc = h2_grpc_status(x->response);
	if (grpc >= 0) {
		n = (size_t)snprintf(text, sizeof(text), "%d", grpc);
		put_label(b, 8, text, n);  /* OpenTelemetry's rpc.grpc.status_code */
	}
}

/* FNV-1a: label sets are short, and the table only needs a spread. */
static uint32_t labels_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* Rebuilds the index with room for twice the series; false for want of memory. */
static bool index_grow(struct metrics_histogram *h)
{
	uint32_t size = h->index_size ? h->index_size * 2 : MIN_INDEX, mask = size - 1, i, k;
	uint32_t *index = calloc(size, sizeof(*index));

	if (!index)
		return false;
	for (k = 0; k < h->n; k++) {
		if (k + 1 == h->overflow)
			continue;
		for (i = h->series[k].hash & mask; index[i]; i = (i + 1) & mask)
			;
		index[i] = k + 1;
	}
	free(h->index);
	h->index = index;
	h->index_size = size;
	return true;
}

/* A new series with labels key[0..len); its number, or -1 for want of memory. */
static int64_t series_add(struct metrics_histogram *h, const char *key, size_t len, uint32_t hash)
{
	struct metrics_series *s;
	uint32_t cap = h->cap ? h->cap * 2 : MIN_SERIES_CAP;

	if (h->n == h->cap) {
		s = realloc(h->series, (size_t)cap * sizeof(*s));
		if (!s)
			return -1;
		h->series = s;
		h->cap = cap;
	}
	s = &h->series[h->n];
	memset(s, 0, sizeof(*s));
	s->labels = malloc(len + 1);
	if (!s->labels)
		return -1;
	memcpy(s->labels, key, len);
	s->labels[len] = '\0';
	s->len = (uint32_t)len;
	s->hash = hash;
	return h->n++;
}

/* The overflow series: every label __overflow__. */
static struct metrics_series *overflow_series(struct metrics *m, struct metrics_histogram *h)
{
	struct json_buf *b = &m->key;
	int64_t k;

	if (!h->overflow) {
		json_reset(b);
		for (unsigned i = 0; i < sizeof(label_names) / sizeof(label_names[0]); i++)
			put_label(b, i, OVERFLOW, sizeof(OVERFLOW) - 1);
		k = b->failed ? -1 : series_add(h, b->data, b->len, 0);
		if (k < 0)
			return NULL;
		h->overflow = (uint32_t)k + 1;
	}
	h->overflowed++;
	return &h->series[h->overflow - 1];
}

/* The series of the labels in m->key: found, added while under the cap, else the overflow. */
static struct metrics_series *series_of(struct metrics *m, struct metrics_histogram *h)
{
	const char *key = m->key.data;
	size_t len = m->key.len;
	uint32_t hash = labels_hash(key, len), mask = h->index_size - 1, i, real;
	struct metrics_series *s;
	int64_t k;

	for (i = hash & mask; h->index_size && h->index[i]; i = (i + 1) & mask) {
		s = &h->series[h->index[i] - 1];
		if (s->hash == hash && s->len == len && !memcmp(s->labels, key, len))
			return s;
	}
	real = h->n - (h->overflow != 0);
	if (m->key.failed || real + 1 >= m->opt.max_series)
		return overflow_series(m, h);
	if ((real + 1) * 2 > h->index_size && !index_grow(h))
		return overflow_series(m, h);
	k = series_add(h, key, len, hash);
	if (k < 0)
		return overflow_series(m, h);
	mask = h->index_size - 1;
	for (i = hash & mask; h->index[i]; i = (i + 1) & mask)
		;
	h->index[i] = (uint32_t)k + 1;
	return &h->series[k];
}

static void observe(struct metrics_series *s, uint64_t ns)
{
	unsigned k = 0;

	while (k < METRICS_BUCKETS && ns > bucket_ns[k])
		k++;
	if (k < METRICS_BUCKETS)
		s->buckets[k]++;
	s->count++;
	s->sum_ns += ns;
}

/* Appends len bytes of p to raw (*n so far) after their length; false when they do not fit. */
static bool raw_put(char *raw, size_t *n, const void *p, size_t len)
{
	uint16_t l = (uint16_t)len;

	if (len > UINT16_MAX || *n + sizeof(l) + len > METRICS_MEMO_RAW)
		return false;
	memcpy(raw + *n, &l, sizeof(l));
	memcpy(raw + *n + sizeof(l), p, len);
	*n += sizeof(l) + len;
	return true;
}

/*
 * Everything exchange_labels() reads of x, and the histogram, into raw: two exchanges with
 * the same raw key have the same labels. Its length, or 0 when it does not fit.
 */
static size_t raw_key(const struct exchange *x, unsigned hist, char *raw)
{
	const struct owner *o = x->owner;
	uint8_t fixed[22] = { (uint8_t)hist, x->family };
	uint16_t status = (uint16_t)x->response->status_code, port = x->server.port;
	size_t n = 0;
	bool ok;

	if (x->response->status_code < 0 || x->response->status_code > UINT16_MAX)
		return 0;
	memcpy(fixed + 2, &status, 2);
	memcpy(fixed + 4, &port, 2);
	memcpy(fixed + 6, x->server.addr, 16);
	ok = raw_put(raw, &n, fixed, sizeof(fixed)) &&
	     raw_put(raw, &n, x->request->method.p, x->request->method.len) &&
	     raw_put(raw, &n, x->request->path.p, x->request->path.len);
	if (ok && o)
		ok = raw_put(raw, &n, o->comm, strnlen(o->comm, sizeof(o->comm))) &&
		     raw_put(raw, &n, o->container_id,
			     strnlen(o->container_id, sizeof(o->container_id))) &&
		     raw_put(raw, &n, o->pod_uid, strnlen(o->pod_uid, sizeof(o->pod_uid)));
	return ok ? n : 0;
}

/* The memo entry holding raw[0..len), or NULL. */
static const struct metrics_memo *memo_find(const struct metrics *m, const char *raw, size_t len)
{
	for (unsigned i = 0; i < METRICS_MEMO; i++)
		if (m->memo[i].len == len && !memcmp(m->memo[i].raw, raw, len))
			return &m->memo[i];
	return NULL;
}

void metrics_exchange(struct metrics *m, const struct exchange *x)
{
	unsigned which = m->opt.live && x->dir == DIR_EGRESS ? METRICS_CLIENT : METRICS_SERVER;
	struct metrics_histogram *h = &m->hist[which];
	const struct metrics_memo *hit;
	struct metrics_memo *e;
	char raw[METRICS_MEMO_RAW];
	struct metrics_series *s;
	size_t len;

	if (!x->request || !x->response)
		return;
	len = raw_key(x, which, raw);
	hit = len ? memo_find(m, raw, len) : NULL;
	if (hit) {
		/* A series, once made, keeps its number; only its counts change, under the lock. */
		pthread_mutex_lock(&m->lock);
		observe(&h->series[hit->series], x->latency_ns);
		pthread_mutex_unlock(&m->lock);
		return;
	}
	exchange_labels(m, x);  /* m->key is this thread's alone: no lock needed */
	pthread_mutex_lock(&m->lock);
	s = series_of(m, h);
	if (s)
		observe(s, x->latency_ns);  /* NULL: no memory even for the overflow series */
	/* The overflow series counts each observation in h->overflowed too: never memoised. */
	if (s && len && !(h->overflow && s == &h->series[h->overflow - 1])) {
		e = &m->memo[m->memo_next++ % METRICS_MEMO];
		e->len = (uint32_t)len;
		e->series = (uint32_t)(s - h->series);
		memcpy(e->raw, raw, len);
	}
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_self(struct metrics *m, const struct metrics_self *s)
{
	pthread_mutex_lock(&m->lock);
	m->self = *s;
	pthread_mutex_unlock(&m->lock);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < METRICS_HISTOGRAMS; i++) {
		for (uint32_t k = 0; k < m->hist[i].n; k++)
			free(m->hist[i].series[k].labels);
		free(m->hist[i].series);
		free(m->hist[i].index);
	}
	json_free(&m->key);
	json_free(&m->path);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
