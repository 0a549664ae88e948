/* Event filters: parsing -f expressions, matching them on events, the kernel's share. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "report/filter.h"
#include "http/uri.h"
#include "http2/http2.h"

#define CGROUP2_MAGIC 0x63677270
#define PATH_STACK 512

enum value_kind { V_GLOB, V_NUM, V_ADDR, V_DIR, V_PREFIX, V_CGROUP, V_YESNO };

static const struct {
	const char *name;
	enum filter_field field;
	enum value_kind kind;
	uint64_t max;
} fields[] = {
	{ "method", FILTER_METHOD, V_GLOB, 0 },
	{ "status", FILTER_STATUS, V_NUM, 999 },
	{ "host", FILTER_HOST, V_GLOB, 0 },
	{ "path", FILTER_PATH, V_GLOB, 0 },
	{ "header:", FILTER_HEADER, V_GLOB, 0 },
	{ "port", FILTER_PORT, V_NUM, 65535 },
	{ "src", FILTER_SRC, V_ADDR, 0 },
	{ "dst", FILTER_DST, V_ADDR, 0 },
	{ "direction", FILTER_DIRECTION, V_DIR, 0 },
	{ "tls", FILTER_TLS, V_YESNO, 0 },
	{ "grpc_status", FILTER_GRPC_STATUS, V_NUM, 99 },
	{ "comm", FILTER_COMM, V_GLOB, 0 },
	{ "pid", FILTER_PID, V_NUM, UINT32_MAX },
	{ "uid", FILTER_UID, V_NUM, UINT32_MAX },
	{ "container", FILTER_CONTAINER, V_PREFIX, 0 },
	{ "cgroup", FILTER_CGROUP, V_CGROUP, 0 },
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static int bad(const char *expr, const char *why)
{
	fprintf(stderr, "httpeek: invalid filter '%s': %s\n", expr, why);
	return -EINVAL;
}

static int fold_byte(int c, bool fold)
{
	return fold && c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Matches one bracket expression at *pp (just after '['); advances *pp past ']'. */
static bool glob_set(const char **pp, int c, bool fold)
{
	const char *p = *pp;
	bool neg = false, hit = false;
	int lo, hi;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	do {
		if (*p == '\\' && p[1])
			p++;
		lo = fold_byte((unsigned char)*p++, fold);
		hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = fold_byte((unsigned char)*p++, fold);
		}
		if (c >= lo && c <= hi)
			hit = true;
	} while (*p && *p != ']');
	*pp = *p ? p + 1 : p;
	return hit != neg;
}

/* True when pat at p holds a complete bracket expression (else '[' is literal). */
static bool set_closed(const char *p)
{
	p += (*p == '!' || *p == '^');
	if (*p == ']')
		p++;
	for (; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == ']')
			return true;
	}
	return false;
}

bool filter_glob(const char *pat, const char *s, uint32_t len, bool fold)
{
	const char *p = pat, *star = NULL;
	uint32_t i = 0, star_i = 0;

	while (i < len) {
		int c = fold_byte((unsigned char)s[i], fold);

		if (*p == '*') {
			star = ++p;
			star_i = i;
			continue;
		}
		if (*p == '?') {
			p++;
			i++;
			continue;
		}
		if (*p == '[' && set_closed(p + 1)) {
			const char *q = p + 1;

			if (glob_set(&q, c, fold)) {
				p = q;
				i++;
				continue;
			}
		} else if (*p) {
			const char *q = *p == '\\' && p[1] ? p + 1 : p;

			if (fold_byte((unsigned char)*q, fold) == c) {
				p = q + 1;
				i++;
				continue;
			}
		}
		if (!star)
			return false;
		p = star;
		i = ++star_i;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static int parse_num(const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || text[0] == '+' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_addr(struct filter_term *t, const char *text)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	uint64_t prefix;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, t->addr) == 1)
		t->family = 4;
	else if (inet_pton(AF_INET6, buf, t->addr) == 1)
		t->family = 6;
	else
		return -EINVAL;
	prefix = t->family == 4 ? 32 : 128;
	if (slash && parse_num(slash, prefix, &prefix))
		return -EINVAL;
	t->prefix = (uint8_t)prefix;
	return 0;
}

/* The cgroup v2 mount point from /proc/mounts into buf; 0 or -ENOENT. */
static int cgroup2_root(char *buf, size_t size)
{
	FILE *f = fopen("/proc/mounts", "re");
	char dev[256], dir[4096], type[64];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2") && strlen(dir) < size) {
			strcpy(buf, dir);
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

/* cgroup=PATH: absolute, or relative to the cgroup v2 mount; the id is the inode. */
static int parse_cgroup(struct filter_term *t, const char *path)
{
	char full[8192], root[4096];
	struct stat st;
	struct statfs sf;

	if (path[0] == '/' && !stat(path, &st))
		snprintf(full, sizeof(full), "%s", path);
	else if (!cgroup2_root(root, sizeof(root)))
		snprintf(full, sizeof(full), "%s/%s", root, path + (path[0] == '/'));
	else
		return -ENOENT;
	if (stat(full, &st) || !S_ISDIR(st.st_mode))
		return -ENOENT;
	if (statfs(full, &sf) || sf.f_type != CGROUP2_MAGIC)
		return -ENOTDIR;
	t->num = (uint64_t)st.st_ino;
	return 0;
}

/* Splits "name OP value" (spaces around OP allowed); returns the field index or -1. */
static int split(const char *expr, struct filter_term *t, const char **value)
{
	size_t n = strcspn(expr, "=!<>"), k;

	if (!expr[n])
		return -1;
	k = n;
	while (k && expr[k - 1] == ' ')
		k--;
	for (size_t i = 0; i < N_FIELDS; i++) {
		size_t fl = strlen(fields[i].name);

		if (fields[i].field == FILTER_HEADER ? k > fl && !strncasecmp(expr, "header:", fl)
						     : k == fl && !strncmp(expr, fields[i].name, fl)) {
			if (fields[i].field == FILTER_HEADER) {
				if (k - fl >= sizeof(t->name))
					return -1;
				memcpy(t->name, expr + fl, k - fl);
				t->name[k - fl] = '\0';
			}
			*value = expr + n;
			return (int)i;
		}
	}
	return -1;
}

static const char *parse_op(const char *p, enum filter_op *op)
{
	static const struct {
		const char *text;
		enum filter_op op;
	} ops[] = {
		{ ">=", FILTER_GE }, { "<=", FILTER_LE }, { "!=", FILTER_NE },
		{ "==", FILTER_EQ }, { "=", FILTER_EQ }, { "<", FILTER_LT }, { ">", FILTER_GT },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].text);

		if (!strncmp(p, ops[i].text, n)) {
			*op = ops[i].op;
			p += n;
			while (*p == ' ')
				p++;
			return p;
		}
	}
	return NULL;
}

static int parse_value(struct filter_term *t, enum value_kind kind, uint64_t max, const char *v,
		       const char *expr)
{
	if (kind != V_NUM && t->op != FILTER_EQ && t->op != FILTER_NE)
		return bad(expr, "only = and != compare this field");
	if (strlen(v) >= sizeof(t->text))
		return bad(expr, "value too long");
	switch (kind) {
	case V_NUM:
		return parse_num(v, max, &t->num) ? bad(expr, "expected a number") : 0;
	case V_ADDR:
		return parse_addr(t, v) ? bad(expr, "expected an address or CIDR") : 0;
	case V_DIR:
		if (strcmp(v, "ingress") && strcmp(v, "egress"))
			return bad(expr, "expected ingress or egress");
		t->num = v[0] == 'i' ? DIR_INGRESS : DIR_EGRESS;
		return 0;
	case V_YESNO:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return bad(expr, "expected yes or no");
		t->num = v[0] == 'y';
		return 0;
	case V_CGROUP:
		return parse_cgroup(t, v) ? bad(expr, "not a cgroup v2 directory") : 0;
	case V_PREFIX:
		if (!v[0])
			return bad(expr, "empty container id prefix");
		/* fall through */
	case V_GLOB:
		strcpy(t->text, v);
		return 0;
	}
	return 0;
}

int filter_add(struct filter_set *f, const char *expr)
{
	struct filter_term *t;
	const char *value;
	int i;

	if (f->n == FILTER_MAX_TERMS)
		return bad(expr, "too many filters");
	t = &f->terms[f->n];
	memset(t, 0, sizeof(*t));
	t->expr = expr;
	i = split(expr, t, &value);
	if (i < 0)
		return bad(expr, "expected FIELD=VALUE with FIELD one of method, status, host, path, "
				 "header:NAME, port, src, dst, direction, tls, grpc_status, comm, pid, "
				 "uid, container, cgroup");
	t->field = fields[i].field;
	value = parse_op(value, &t->op);
	if (!value)
		return bad(expr, "expected an operator (=, !=, <, <=, >, >=)");
	if (parse_value(t, fields[i].kind, fields[i].max, value, expr))
		return -EINVAL;
	f->n++;
	return 0;
}

const struct filter_term *filter_live_term(const struct filter_set *f)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->terms[i].field >= FILTER_COMM)
			return &f->terms[i];
	return NULL;
}

bool filter_wants_tls(const struct filter_set *f)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->terms[i].field == FILTER_TLS && (f->terms[i].num == 1) == (f->terms[i].op ==
										  FILTER_NE))
			return false;
	return true;
}

bool filter_needs_request(const struct filter_set *f)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->terms[i].field == FILTER_METHOD || f->terms[i].field == FILTER_HOST ||
		    f->terms[i].field == FILTER_PATH || f->terms[i].field == FILTER_HEADER)
			return true;
	return false;
}

static bool compare(enum filter_op op, uint64_t a, uint64_t b)
{
	switch (op) {
	case FILTER_EQ:
		return a == b;
	case FILTER_NE:
		return a != b;
	case FILTER_LT:
		return a < b;
	case FILTER_LE:
		return a <= b;
	case FILTER_GT:
		return a > b;
	case FILTER_GE:
		return a >= b;
	}
	return false;
}

static bool prefix_match(const struct filter_term *t, uint8_t family, const struct endpoint *e)
{
	unsigned bits = t->prefix, bytes = bits / 8;

	if (family != t->family || memcmp(e->addr, t->addr, bytes))
		return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff00u >> (bits % 8));

		return (e->addr[bytes] & mask) == (t->addr[bytes] & mask);
	}
	return true;
}

static bool header_match(const struct filter_term *t, const struct http_message *m)
{
	size_t n = strlen(t->name);

	for (uint32_t i = 0; m && i < m->n_headers; i++) {
		const struct http_header *h = &m->headers[i];

		if (h->name.len == n && !strncasecmp(h->name.p, t->name, n) &&
		    filter_glob(t->text, h->value.p, h->value.len, false))
			return true;
	}
	return false;
}

/* Matches the path as events show uri_path: percent-decoded, as sent when an escape is bad. */
static bool path_match(const struct filter_term *t, const struct http_str *p)
{
	char stack[PATH_STACK], *buf = stack;
	uint32_t n;
	bool hit;

	if (!p->len || !memchr(p->p, '%', p->len))
		return filter_glob(t->text, p->p, p->len, false);
	if (p->len > sizeof(stack))
		buf = malloc(p->len);
	if (buf && !uri_path_unescape(p->p, p->len, buf, &n))
		hit = filter_glob(t->text, buf, n, false);
	else
		hit = filter_glob(t->text, p->p, p->len, false);
	if (buf != stack)
		free(buf);
	return hit;
}

/* The term as if its operator were =; NE is applied by the caller. */
static bool match_eq(const struct filter_term *t, const struct filter_subject *s)
{
	const struct http_message *rq = s->request;
	const struct owner *o = s->owner;

	switch (t->field) {
	case FILTER_METHOD:
		return filter_glob(t->text, rq->method.p, rq->method.len, false);
	case FILTER_HOST:
		return filter_glob(t->text, rq->host.p, rq->host.len, true);
	case FILTER_PATH:
		return path_match(t, &rq->path);
	case FILTER_HEADER:
		return header_match(t, rq) || header_match(t, s->response);
	case FILTER_SRC:
		return prefix_match(t, s->family, s->src);
	case FILTER_DST:
		return prefix_match(t, s->family, s->dst);
	case FILTER_DIRECTION:
		return s->dir == (enum direction)t->num;
	case FILTER_TLS:
		return s->tls == (bool)t->num;
	case FILTER_COMM:
		return filter_glob(t->text, o->comm, (uint32_t)strnlen(o->comm, sizeof(o->comm)),
				   false);
	case FILTER_CONTAINER:
		return !strncasecmp(o->container_id, t->text, strlen(t->text));
	case FILTER_CGROUP:
		return o->cgroup_id == t->num;
	default:
		return false;
	}
}

static bool match_term(const struct filter_term *t, const struct filter_subject *s)
{
	switch (t->field) {
	case FILTER_STATUS:
		return s->response && compare(t->op, (uint64_t)s->response->status_code, t->num);
	case FILTER_GRPC_STATUS:
		return h2_grpc_status(s->response) >= 0 &&
		       compare(t->op, (uint64_t)h2_grpc_status(s->response), t->num);
	case FILTER_PORT:
		if (t->op == FILTER_NE)
			return s->src->port != t->num && s->dst->port != t->num;
		return compare(t->op, s->src->port, t->num) || compare(t->op, s->dst->port, t->num);
	case FILTER_PID:
		return s->owner && compare(t->op, s->owner->host_pid, t->num);
	case FILTER_UID:
		return s->owner && compare(t->op, s->owner->uid, t->num);
	case FILTER_METHOD:
	case FILTER_HOST:
	case FILTER_PATH:
		if (!s->request)
			return false;
		break;
	case FILTER_COMM:
	case FILTER_CONTAINER:
	case FILTER_CGROUP:
		if (!s->owner)
			return false;
		break;
	default:
		break;
	}
	return match_eq(t, s) != (t->op == FILTER_NE);
}

bool filter_match(const struct filter_set *f, const struct filter_subject *s)
{
	for (unsigned i = 0; f && i < f->n; i++)
		if (!match_term(&f->terms[i], s))
			return false;
	return true;
}

void filter_kernel(const struct filter_set *f, bool exchanges, struct kernel_filter *k)
{
	for (unsigned i = 0; i < f->n; i++) {
		const struct filter_term *t = &f->terms[i];

		if (t->op != FILTER_EQ)
			continue;
		if (t->field == FILTER_PORT && !k->port && t->num) {
			k->port = (uint16_t)t->num;
		} else if (t->field == FILTER_SRC && !exchanges && !k->src_family) {
			k->src_family = t->family;
			k->src_prefix = t->prefix;
			memcpy(k->src_addr, t->addr, sizeof(k->src_addr));
		} else if (t->field == FILTER_DST && !exchanges && !k->dst_family) {
			k->dst_family = t->family;
			k->dst_prefix = t->prefix;
			memcpy(k->dst_addr, t->addr, sizeof(k->dst_addr));
		}
	}
}
