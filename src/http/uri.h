/* Request targets: the percent-decoding of a path. Pure: no allocation, no I/O. */
#ifndef HTTPEEK_URI_H
#define HTTPEEK_URI_H

#include <stdint.h>

/*
 * Decodes the path p[0..len) as Go's url.URL.Path holds it (net/url, "path" mode): each
 * %XX becomes the byte XX (%2F too), every other byte, '+' included, stays. Writes the
 * result to out (room for len bytes; out may be p) and its length to *out_len. Returns 0,
 * or -EINVAL when a '%' is not followed by two hex digits (out is then unspecified).
 */
int uri_path_unescape(const char *p, uint32_t len, char *out, uint32_t *out_len);

#endif
