/* Routes: user patterns first, then id-like path segments become {id}. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "metrics/route.h"

#define ID_MIN_LEN 16        /* long hex and base64-ish ids are at least this long */
#define TOKEN_RUN_MIN 8      /* a base64-ish id has a run this long mixing digits and letters */
#define REST "/{rest}"       /* ends a route cut at ROUTE_MAX_LEN */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static size_t segment_len(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);

	return slash ? (size_t)(slash - s) : n;
}

/* A pattern segment "{name}": name of letters, digits, '_', '-' and '.'. */
static bool is_param(const char *s, size_t n)
{
	if (n < 3 || s[0] != '{' || s[n - 1] != '}')
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_digit(s[i]) && !is_alpha(s[i]) && !strchr("_-.", s[i]))
			return false;
	return true;
}

/* What is wrong with pattern p, or NULL. */
static const char *pattern_problem(const char *p)
{
	size_t len = strlen(p), i, n;

	if (p[0] != '/')
		return "it must start with '/'";
	if (len > ROUTE_MAX_LEN)
		return "longer than 128 bytes";
	for (i = 0; i < len; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return "only printable ASCII without spaces";
	for (i = 1; i <= len; i += n + 1) {
		n = segment_len(p + i, len - i);
		if (n == 1 && p[i] == '*') {
			if (i + n != len)
				return "'*' may only be the last segment";
		} else if (memchr(p + i, '*', n)) {
			return "'*' must be a whole segment";
		} else if ((memchr(p + i, '{', n) || memchr(p + i, '}', n)) && !is_param(p + i, n)) {
			return "a parameter must be a whole segment {name}";
		}
	}
	return NULL;
}

int route_add(struct route_set *rs, const char *pattern)
{
	const char *problem = pattern_problem(pattern);

	if (!problem && rs->n == ROUTE_MAX_PATTERNS)
		problem = "more than 64 patterns";
	if (problem) {
		fprintf(stderr, "httpeek: invalid --route '%s': %s\n", pattern, problem);
		return -EINVAL;
	}
	rs->patterns[rs->n++] = pattern;
	return 0;
}

/* True when pattern p matches path[0..len): segment by segment, {name} any non-empty one. */
static bool pattern_matches(const char *p, const char *path, size_t len)
{
	size_t plen = strlen(p), i = 0, j = 0, pn, sn;

	while (i < plen) {
		if (j >= len || path[j] != '/')
			return false;
		i++;
		j++;
		pn = segment_len(p + i, plen - i);
		if (pn == 1 && p[i] == '*')
			return true;  /* validated: the last segment, the rest of the path */
		sn = segment_len(path + j, len - j);
		if (is_param(p + i, pn) ? sn == 0 : sn != pn || memcmp(p + i, path + j, pn))
			return false;
		i += pn;
		j += sn;
	}
	return j == len;
}

static bool is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !is_hex(s[i]))
			return false;
	return true;
}

static bool is_token_sep(char c)
{
	return c == '-' || c == '_' || c == '+' || c == '=';
}

/* Long enough, base64 or base64url characters only, with a run mixing digits and letters. */
static bool is_token(const char *s, size_t n)
{
	size_t run = 0;
	bool digit = false, alpha = false, mixed = false;

	if (n < ID_MIN_LEN)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || is_token_sep(s[i])) {
			mixed |= run >= TOKEN_RUN_MIN && digit && alpha;
			run = 0;
			digit = alpha = false;
			continue;
		}
		if (!is_digit(s[i]) && !is_alpha(s[i]))
			return false;
		digit |= is_digit(s[i]);
		alpha |= is_alpha(s[i]);
		run++;
	}
	return mixed;
}

/* Numbers, UUIDs, long hex and base64-ish ids. */
static bool is_id(const char *s, size_t n)
{
	size_t digits = 0, hex = 0;

	for (size_t i = 0; i < n; i++) {
		digits += is_digit(s[i]);
		hex += is_hex(s[i]);
	}
	if (n && digits == n)
		return true;
	return is_uuid(s, n) || (n >= ID_MIN_LEN && hex == n) || is_token(s, n);
}

/* The route being written: out[0..len), at most ROUTE_MAX_LEN; fit: where to cut for REST. */
struct route_out {
	char *out;
	size_t len, fit;
	bool full;
};

static void put_byte(struct route_out *r, char c)
{
	if (r->len == ROUTE_MAX_LEN)
		r->full = true;
	else
		r->out[r->len++] = c;
}

static void put_text(struct route_out *r, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (size_t i = 0; i < n && !r->full; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '%') {
			put_byte(r, (char)c);
			continue;
		}
		put_byte(r, '%');
		put_byte(r, hex[c >> 4]);
		put_byte(r, hex[c & 15]);
	}
}

/* The path with id-like segments as {id}; cut after the last whole segment that fits. */
static size_t normalise(const char *path, size_t len, char *out)
{
	struct route_out r = { .out = out };
	size_t i = 0, n;

	if (len && path[0] == '/') {
		put_byte(&r, '/');
		i = 1;
	} else {
		r.fit = SIZE_MAX;  /* no leading '/': nothing to keep when cut */
	}
	for (;;) {
		n = segment_len(path + i, len - i);
		if (is_id(path + i, n))
			put_text(&r, "{id}", 4);
		else
			put_text(&r, path + i, n);
		if (r.full || i + n >= len)
			break;
		if (r.len + sizeof(REST) - 1 <= ROUTE_MAX_LEN)
			r.fit = r.len;
		put_byte(&r, '/');
		i += n + 1;
	}
	if (r.full) {
		r.len = r.fit == SIZE_MAX ? 0 : r.fit;
		memcpy(out + r.len, REST, sizeof(REST) - 1);
		r.len += sizeof(REST) - 1;
	}
	out[r.len] = '\0';
	return r.len;
}

size_t route_of(const struct route_set *rs, const char *path, size_t len, char *out)
{
	size_t n;

	for (unsigned k = 0; rs && k < rs->n; k++) {
		if (pattern_matches(rs->patterns[k], path, len)) {
			n = strlen(rs->patterns[k]);
			memcpy(out, rs->patterns[k], n + 1);
			return n;
		}
	}
	return normalise(path, len, out);
}
