/* Redaction (--redact): the header names whose values events and exported packets mask. */
#ifndef HTTPEEK_REDACT_H
#define HTTPEEK_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redact_list {
	const char *const *names;  /* NULL-terminated; not owned, must outlive the list */
	size_t *len;               /* strlen of each name */
	uint64_t first[4];         /* bitmap: the lower-cased first bytes of the names */
};

/* Indexes names (NULL: none). Returns 0 or -ENOMEM. */
int redact_init(struct redact_list *r, const char *const *names);

/* True when name[0..len) is on the list, ASCII case-insensitive. */
bool redact_has(const struct redact_list *r, const char *name, size_t len);

/* True when the list names anything. */
bool redact_any(const struct redact_list *r);

/* Frees what redact_init() allocated; r may be zeroed. */
void redact_release(struct redact_list *r);

#endif
