/* A growable output buffer with JSON primitives. Pure: no I/O. */
#ifndef HTTPEEK_JSON_H
#define HTTPEEK_JSON_H

#include <stddef.h>
#include <stdint.h>

struct json_buf {
	char *data;
	size_t len, cap;
	int failed;   /* an allocation failed: contents are incomplete */
};

void json_init(struct json_buf *b);
void json_free(struct json_buf *b);
void json_reset(struct json_buf *b);

/* Appends raw bytes, no escaping. */
void json_raw(struct json_buf *b, const char *s, size_t len);
/* Appends a NUL-terminated literal, no escaping. */
void json_lit(struct json_buf *b, const char *s);
/* Appends "..." with every byte escaped as JSON needs; invalid UTF-8 becomes U+FFFD. */
void json_str(struct json_buf *b, const char *s, size_t len);
void json_u64(struct json_buf *b, uint64_t v);

/*
 * Appends the text of an IP address: family 4 uses addr[0..4), 6 addr[0..16) (an
 * IPv4-mapped address is shown as IPv4); any other family appends nothing.
 */
void json_ip(struct json_buf *b, uint8_t family, const uint8_t *addr);
void json_i64(struct json_buf *b, int64_t v);

/*
 * Appends s for a terminal: printable ASCII as is, valid UTF-8 printables as is, every
 * control byte, DEL, escape sequence start and invalid byte as \xHH.
 */
void json_term_safe(struct json_buf *b, const char *s, size_t len);

#endif
