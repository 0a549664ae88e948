/*
 * Routes: request paths reduced to a bounded set of templates, the http_route label of the
 * metrics. Pure: no allocation, no I/O. docs/METRICS.md gives the rules.
 */
#ifndef HTTPEEK_ROUTE_H
#define HTTPEEK_ROUTE_H

#include <stddef.h>

#define ROUTE_MAX_PATTERNS 64
#define ROUTE_MAX_LEN 128          /* bytes of a route, patterns included */

struct route_set {
	const char *patterns[ROUTE_MAX_PATTERNS];  /* --route, in order given (kept, not copied) */
	unsigned n;
};

/*
 * Checks a --route pattern ("/users/{id}/orders"; "*" as the last segment takes the rest) and
 * appends it to rs. Returns 0, or -EINVAL after printing a one-line error naming the pattern on stderr.
 */
int route_add(struct route_set *rs, const char *pattern);

/*
 * Writes the route of the percent-decoded path[0..len) to out (ROUTE_MAX_LEN + 1 bytes,
 * NUL-terminated): the first pattern of rs that matches, else the path with id-like segments
 * replaced by {id}, cut to ROUTE_MAX_LEN. Only printable ASCII and spaces are written; other
 * bytes (and '%') as %XX.
 * Returns the route's length.
 */
size_t route_of(const struct route_set *rs, const char *path, size_t len, char *out);

#endif
