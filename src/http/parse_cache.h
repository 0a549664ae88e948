/* HTTP stage, internal: http_parse_head through a cache of recently parsed heads (http.h). */
#ifndef HTTPEEK_HTTP_PARSE_CACHE_H
#define HTTPEEK_HTTP_PARSE_CACHE_H

#include "http/http.h"

#define HTTP_CACHE_FIELDS 32u   /* heads parsed with a larger field limit are not cached */
#define HTTP_CACHE_HEAD 2048u   /* nor heads longer than this */

/*
 * http_parse_head(buf, len, msg, hdrs, max_hdrs), same results and same rewriting of buf;
 * a head equal byte for byte to one parsed lately into c with the same max_hdrs is copied
 * from c instead of parsed. c NULL: parsed, always.
 */
int http_parse_cached(struct http_parse_cache *c, char *buf, size_t len,
		      struct http_message *msg, struct http_header *hdrs, uint32_t max_hdrs);

/*
 * A whole head (through its first empty line) that buf[0..lim) starts with, parsed lately
 * without error and left as it was by parsing, with the field limit http_parse_cached had for
 * it under max_fields: msg points into buf, which is only read, *len is the head's length;
 * true. False when the cache knows no such head: nothing done.
 */
bool http_parse_known_head(struct http_parse_cache *c, const char *buf, size_t lim,
			   uint32_t max_fields, size_t *len, struct http_message *msg,
			   struct http_header *hdrs);

#endif
