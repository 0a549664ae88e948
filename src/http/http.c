// SPDX-License-Identifier: GPL-2.0
/*
 * HTTP/1.x head parser: start line, header fields (with obsolete line folding) and the
 * framing facts of RFC 9112 section 6. Pure: works in the caller's buffers only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "frame/token.h"
#include "http/http.h"

static const char HTTP09[] = "HTTP/0.9";
static const char SLASH[] = "/";

/* What the header fields say about the body. */
struct framing {
	int64_t cl;
	bool cl_seen, cl_bad, te_seen, te_chunked;
	bool host_seen;
	struct http_str host;
};

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* What separates the words of a start line: SP, HT, and a CR that does not end the line. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive: s[0..n) equals the lower-case word w. */
static bool eq_word(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!w[i] || lower(s[i]) != w[i])
			return false;
	return !w[n];
}

static struct http_str str(const char *p, size_t len)
{
	return (struct http_str){ .p = p, .len = (uint32_t)len };
}

static void trim(const char **p, size_t *n)
{
	while (*n && is_ows(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_ows((*p)[*n - 1]))
		(*n)--;
}

/*
 * The version of a request or status line: "HTTP/" in any case, a digit, then digits and dots
 * ("HTTP/1.1", "HTTP/1.", "HTTP/1.10", "HTTP/11"). Servers answer all of these; Zeek reads the
 * first "d.d" and ignores the rest.
 */
static bool looks_like_version(const char *s, size_t n)
{
	if (n < 6 || !eq_word(s, 5, "http/") || !is_digit(s[5]))
		return false;
	for (size_t i = 6; i < n; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			return false;
	return true;
}

static size_t skip_blanks(const char *s, size_t n, size_t i)
{
	while (i < n && is_blank(s[i]))
		i++;
	return i;
}

/* The line without trailing blanks. */
static size_t trim_blanks(const char *s, size_t n)
{
	while (n && is_blank(s[n - 1]))
		n--;
	return n;
}

/* VERSION blanks CODE [blank reason]: three digits, then a blank (a bare CR too) or the end. */
static int parse_status(struct http_message *m, const char *s, size_t n)
{
	size_t i = 0, c;

	while (i < n && !is_blank(s[i]))
		i++;
	if (!looks_like_version(s, i))
		return -EINVAL;
	m->protocol = str(s, i);
	c = skip_blanks(s, n, i);
	if (n - c < 3 || !is_digit(s[c]) || !is_digit(s[c + 1]) || !is_digit(s[c + 2]))
		return -EINVAL;
	if (n - c > 3 && !is_blank(s[c + 3]))
		return -EINVAL;
	m->kind = HTTP_RESPONSE;
	m->status_code = (s[c] - '0') * 100 + (s[c + 1] - '0') * 10 + (s[c + 2] - '0');
	m->status = str(s + c, trim_blanks(s + c, n - c));
	return 0;
}

static bool is_alpha(char c)
{
	return lower(c) >= 'a' && lower(c) <= 'z';
}

/* For an absolute-form target (scheme "://" ...), the offset of its authority; else 0. */
static size_t authority_at(const char *t, size_t n)
{
	size_t i = 1;

	if (!n || !is_alpha(t[0]))
		return 0;
	while (i < n && (is_alpha(t[i]) || is_digit(t[i]) || t[i] == '+' || t[i] == '-' ||
			 t[i] == '.'))
		i++;
	return n - i >= 3 && memcmp(t + i, "://", 3) == 0 ? i + 3 : 0;
}

/* Bytes before the first of the (one to three, not NUL) stop bytes, or n. */
static size_t span_to(const char *t, size_t n, const char *stops)
{
	char a = stops[0], b = stops[1] ? stops[1] : a, c = stops[1] && stops[2] ? stops[2] : b;
	size_t i = 0;

	while (i < n && t[i] != a && t[i] != b && t[i] != c)
		i++;
	return i;
}

/* Sets path, and host when the target names one (absolute form, CONNECT's authority form). */
static void split_target(struct http_message *m, const char *t, size_t n)
{
	size_t a, at, e;

	if (n == 1 && t[0] == '*') {
		m->path = str(t, 1);
	} else if (t[0] == '/') {
		m->path = str(t, span_to(t, n, "?#"));
	} else if ((a = authority_at(t, n))) {
		e = a + span_to(t + a, n - a, "/?#");
		for (at = e; at > a && t[at - 1] != '@'; at--)
			;
		m->host = str(t + at, e - at);
		m->path = str(t + e, span_to(t + e, n - e, "?#"));
		if (!m->path.len)
			m->path = str(SLASH, 1);
	} else if (eq_word(m->method.p, m->method.len, "connect")) {
		m->host = str(t, span_to(t, n, " \t\r"));  /* "h:25 /": the authority is h:25 */
		m->path = str(t, 0);
	} else {
		m->path = str(t, span_to(t, n, "?#"));
	}
}

/* Methods recognised on a request line that carries nothing else ("OPTIONS" alone). */
static bool is_common_method(const char *s, size_t n)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS",
					     "TRACE", "CONNECT", "PATCH" };

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strlen(names[k]) == n && memcmp(s, names[k], n) == 0)
			return true;
	return false;
}

/* A line of a bare method: no target, no version; header fields may follow. */
static int parse_bare_request(struct http_message *m, const char *s, size_t n)
{
	if (!is_common_method(s, n))
		return -EINVAL;
	m->kind = HTTP_REQUEST;
	m->target = str(s + n, 0);
	m->path = str(s + n, 0);
	m->protocol = str(s + n, 0);
	return 0;
}

/* True when every byte of t is a target byte (visible, not DEL) or a blank. */
static bool target_bytes(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)t[i] <= ' ' && !is_blank(t[i])) || t[i] == 0x7f)
			return false;
	return true;
}

/*
 * A request line without a version: the target must be a path or an absolute URI. GET is an
 * HTTP/0.9 request (RFC 1945's Simple-Request: no header section follows); another method of
 * three characters or more is an HTTP/1.x request that lost its version ("POST /HTTP/1.1":
 * fields follow; servers answer it, mostly 400, and Zeek and tshark report it); "T /x" is not
 * a request.
 */
static int versionless(struct http_message *m, const char *t, size_t n)
{
	m->target = str(t, n);
	if (t[0] != '/' && !authority_at(t, n))
		return -EINVAL;
	if (m->method.len == 3 && memcmp(m->method.p, "GET", 3) == 0)
		m->protocol = str(HTTP09, sizeof(HTTP09) - 1);
	else if (m->method.len >= 3)
		m->protocol = str(t + n, 0);
	else
		return -EINVAL;
	return 0;
}

/*
 * METHOD blanks TARGET [blanks VERSION]. A line that ends in a version holds the target in
 * between, blanks and all, as the servers that answer such lines read it ("GET /a b HTTP/1.1"
 * is "/a b"; "CONNECT h:25 / HTTP/1.0" is "h:25 /"); a line of one word after the method is a
 * target alone (versionless()) or a version alone ("OPTIONS HTTP/1.1").
 */
static int parse_request(struct http_message *m, const char *s, size_t n)
{
	size_t i = 0, t, v;

	while (i < n && http_is_tchar((uint8_t)s[i]))
		i++;
	if (!i)
		return -EINVAL;
	m->method = str(s, i);
	if (i == n)
		return parse_bare_request(m, s, i);
	n = trim_blanks(s, n);
	if (i == n || !is_blank(s[i]))
		return -EINVAL;  /* "GET ": a method and nothing after the blank */
	t = skip_blanks(s, n, i);
	for (v = n; v > t && !is_blank(s[v - 1]); v--)
		;
	if (!target_bytes(s + t, n - t))
		return -EINVAL;
	if (v > t && looks_like_version(s + v, n - v)) {
		m->target = str(s + t, trim_blanks(s + t, v - t));
		m->protocol = str(s + v, n - v);
	} else if (v > t) {
		return -EINVAL;  /* words, and no version at the end */
	} else if (looks_like_version(s + t, n - t)) {
		m->target = str(s + t, n - t);
		m->protocol = m->target;  /* "OPTIONS HTTP/1.1": the target is missing */
	} else if (versionless(m, s + t, n - t)) {
		return -EINVAL;
	}
	m->kind = HTTP_REQUEST;
	split_target(m, m->target.p, m->target.len);
	return 0;
}

/* The next line of buf from *pos, without its CRLF or LF; false at the end. */
static bool next_line(const char *buf, size_t len, size_t *pos, const char **l, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*l = buf + *pos;
	nl = memchr(*l, '\n', len - *pos);
	*n = nl ? (size_t)(nl - *l) : len - *pos;
	*pos += *n + (nl != NULL);
	if (*n && (*l)[*n - 1] == '\r')
		(*n)--;
	return true;
}

/* Content-Length: a list of equal decimal values; anything else makes it invalid. */
static void content_length(struct framing *f, const char *v, size_t n)
{
	size_t i = 0, e, k, len;
	const char *p;
	int64_t x;

	do {
		e = i + span_to(v + i, n - i, ",");
		p = v + i;
		len = e - i;
		trim(&p, &len);
		x = 0;
		if (!len)
			f->cl_bad = true;
		for (k = 0; k < len && !f->cl_bad; k++) {
			if (!is_digit(p[k]) || x > (INT64_MAX - (p[k] - '0')) / 10)
				f->cl_bad = true;
			else
				x = x * 10 + (p[k] - '0');
		}
		if (f->cl_seen && x != f->cl)
			f->cl_bad = true;
		f->cl_seen = true;
		f->cl = x;
		i = e + 1;
	} while (e < n);
}

/* Transfer-Encoding: remembers whether the last coding named so far is chunked. */
static void transfer_encoding(struct framing *f, const char *v, size_t n)
{
	size_t i = 0, e, len;
	const char *p;

	do {
		e = i + span_to(v + i, n - i, ",");
		p = v + i;
		len = span_to(p, e - i, ";");
		trim(&p, &len);
		if (len) {
			f->te_seen = true;
			f->te_chunked = eq_word(p, len, "chunked");
		}
		i = e + 1;
	} while (e < n);
}

/* A field whose value is final: note framing and Host, keep it if there is room. */
static void add_field(struct http_message *m, struct framing *f, const struct http_header *h,
		      uint32_t max_hdrs)
{
	const char *name = h->name.p;
	size_t nl = h->name.len;

	if (nl == 14 && eq_word(name, nl, "content-length"))
		content_length(f, h->value.p, h->value.len);
	else if (nl == 17 && eq_word(name, nl, "transfer-encoding"))
		transfer_encoding(f, h->value.p, h->value.len);
	else if (nl == 4 && !f->host_seen && eq_word(name, nl, "host")) {
		f->host_seen = true;
		f->host = h->value;
	}
	if (m->n_headers < max_hdrs)
		m->headers[m->n_headers++] = *h;
	else
		m->truncated = true;
}

/* Appends folded line l (starting with whitespace) to h's value, in place. */
static void fold(struct http_header *h, const char *l, size_t n)
{
	char *w = (char *)h->value.p + h->value.len;

	trim(&l, &n);
	if (!n)
		return;
	if (h->value.len)
		*w++ = ' ';
	memmove(w, l, n);
	h->value.len = (uint32_t)(w + n - h->value.p);
}

/* "name: value"; false when the line is not a well-formed field. */
static bool split_field(char *l, size_t n, struct http_header *h)
{
	char *colon = memchr(l, ':', n);
	const char *v;
	size_t i, vn;

	if (!colon || colon == l)
		return false;
	for (i = 0; l + i < colon; i++)
		if ((unsigned char)l[i] <= ' ' || l[i] == 0x7f)
			return false;
	v = colon + 1;
	vn = n - (size_t)(v - l);
	trim(&v, &vn);
	h->name = str(l, (size_t)(colon - l));
	h->value = str(v, vn);
	return true;
}

static void parse_fields(struct http_message *m, struct framing *f, char *buf, size_t len,
			 size_t pos, uint32_t max_hdrs)
{
	struct http_header cur;
	bool have = false;
	const char *l;
	size_t n;

	while (next_line(buf, len, &pos, &l, &n) && n) {
		if (is_ows(l[0])) {
			if (have)
				fold(&cur, l, n);
			continue;
		}
		if (have)
			add_field(m, f, &cur, max_hdrs);
		have = split_field((char *)l, n, &cur);
	}
	if (have)
		add_field(m, f, &cur, max_hdrs);
}

static void set_length(struct http_message *m, const struct framing *f)
{
	bool valid = f->cl_seen && !f->cl_bad;
	int c = m->status_code;

	if (f->te_seen) {
		m->chunked = f->te_chunked;
		m->content_length = -1;
	} else if (valid) {
		m->content_length = f->cl;
	} else if (m->kind == HTTP_REQUEST) {
		m->content_length = f->cl_seen ? -1 : 0;
	} else {
		m->content_length = (c / 100 == 1 || c == 204 || c == 304) ? 0 : -1;
	}
}

int http_parse_head(char *buf, size_t len, struct http_message *msg, struct http_header *hdrs,
		    uint32_t max_hdrs)
{
	struct framing f = { 0 };
	const char *l;
	size_t pos = 0, n;
	int err;

	memset(msg, 0, sizeof(*msg));
	msg->headers = hdrs;
	msg->head = str(buf, len);
	if (!next_line(buf, len, &pos, &l, &n))
		return -EINVAL;
	if (n >= 5 && eq_word(l, 5, "http/"))
		err = parse_status(msg, l, n);
	else
		err = parse_request(msg, l, n);
	if (err)
		return err;
	/* HTTP/0.9 has no header section. */
	if (msg->protocol.p != HTTP09)
		parse_fields(msg, &f, buf, len, pos, max_hdrs);
	if (f.host_seen && !msg->host.p)
		msg->host = f.host;
	if (!msg->host.p)
		msg->host = str(buf, 0);
	set_length(msg, &f);
	return 0;
}

/* A non-empty prefix of a version: "H", "HTT", "HTTP/", "HTTP/1." (any case). */
static bool version_prefix(const char *s, size_t n)
{
	static const char http[] = "http/";

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (i < 5 ? lower(s[i]) != http[i] : !is_digit(s[i]) && (i == 5 || s[i] != '.'))
			return false;
	return true;
}

/*
 * A request line cut short, the stream being in step: METHOD, a target (from '/', an absolute
 * URI, '*', or CONNECT's authority) and as much of a version as came ("HTT"), or none yet.
 */
static int cut_request(struct http_message *m, const char *s, size_t n)
{
	size_t i = 0, t, v;

	memset(m, 0, sizeof(*m));
	n = trim_blanks(s, n);
	while (i < n && http_is_tchar((uint8_t)s[i]))
		i++;
	if (!i || i == n || !is_blank(s[i]))
		return -EINVAL;
	m->method = str(s, i);
	t = skip_blanks(s, n, i);
	if (!target_bytes(s + t, n - t))
		return -EINVAL;
	for (v = n; v > t && !is_blank(s[v - 1]); v--)
		;
	if (v > t && version_prefix(s + v, n - v)) {
		m->target = str(s + t, trim_blanks(s + t, v - t));
		m->protocol = str(s + v, n - v);
	} else if (v == t) {
		m->target = str(s + t, n - t);
		m->protocol = str(s + n, 0);
	} else {
		return -EINVAL;
	}
	if (m->target.p[0] != '/' && !authority_at(m->target.p, m->target.len) &&
	    !(m->target.len == 1 && m->target.p[0] == '*') &&
	    !eq_word(m->method.p, m->method.len, "connect"))
		return -EINVAL;
	m->kind = HTTP_REQUEST;
	split_target(m, m->target.p, m->target.len);
	return 0;
}

int http_parse_cut_start(const char *buf, size_t len, struct http_message *msg)
{
	int err;

	memset(msg, 0, sizeof(*msg));
	if (len >= 5 && eq_word(buf, 5, "http/"))
		err = parse_status(msg, buf, len);
	else if ((err = parse_request(msg, buf, len)) || msg->protocol.p == HTTP09)
		err = cut_request(msg, buf, len);  /* a version may have followed */
	if (err)
		return err;
	if (!msg->host.p)
		msg->host = str(buf, 0);
	msg->content_length = msg->kind == HTTP_REQUEST ? 0 : -1;
	msg->truncated = true;
	return 0;
}

bool http_looks_like_start(const uint8_t *buf, size_t len)
{
	static const char http[] = "http/";
	size_t i;

	for (i = 0; i < len && i < 5; i++)
		if (lower((char)buf[i]) != http[i])
			break;
	if (i == 5 || i == len)
		return true;
	for (i = 0; i < len && i <= HTTP_TOKEN_MAX && http_is_tchar(buf[i]); i++)
		;
	if (i == len)
		return i <= HTTP_TOKEN_MAX;
	if (buf[i] == '\r' || buf[i] == '\n')
		return is_common_method((const char *)buf, i);
	return i > 0 && i <= HTTP_TOKEN_MAX && buf[i] == ' ';
}

static size_t str_size(const struct http_str *s)
{
	return s->len;
}

static char *copy_str(struct http_str *d, const struct http_str *s, char *w)
{
	if (s->len)
		memcpy(w, s->p, s->len);
	d->p = w;
	d->len = s->len;
	return w + s->len;
}

size_t http_message_copy_size(const struct http_message *msg)
{
	size_t size = sizeof(*msg) + (size_t)msg->n_headers * sizeof(struct http_header);

	size += str_size(&msg->method) + str_size(&msg->target) + str_size(&msg->protocol) +
		str_size(&msg->host) + str_size(&msg->path) + str_size(&msg->status) +
		str_size(&msg->tunnel.via) + str_size(&msg->tunnel.proxy) +
		str_size(&msg->tunnel.target);
	for (uint32_t i = 0; i < msg->n_headers; i++)
		size += str_size(&msg->headers[i].name) + str_size(&msg->headers[i].value);
	return size;
}

struct http_message *http_message_copy(void *mem, const struct http_message *msg)
{
	struct http_message *d = mem;
	uint32_t i;
	char *w;

	*d = *msg;
	d->head = (struct http_str){ NULL, 0 };  /* the copy's strings are not in it */
	d->headers = (struct http_header *)(d + 1);
	w = (char *)(d->headers + msg->n_headers);
	w = copy_str(&d->method, &msg->method, w);
	w = copy_str(&d->target, &msg->target, w);
	w = copy_str(&d->protocol, &msg->protocol, w);
	w = copy_str(&d->host, &msg->host, w);
	w = copy_str(&d->path, &msg->path, w);
	w = copy_str(&d->status, &msg->status, w);
	w = copy_str(&d->tunnel.via, &msg->tunnel.via, w);
	w = copy_str(&d->tunnel.proxy, &msg->tunnel.proxy, w);
	w = copy_str(&d->tunnel.target, &msg->tunnel.target, w);
	for (i = 0; i < msg->n_headers; i++) {
		w = copy_str(&d->headers[i].name, &msg->headers[i].name, w);
		w = copy_str(&d->headers[i].value, &msg->headers[i].value, w);
	}
	return d;
}

struct http_message *http_message_dup(const struct http_message *msg)
{
	void *mem = malloc(http_message_copy_size(msg));

	return mem ? http_message_copy(mem, msg) : NULL;
}
