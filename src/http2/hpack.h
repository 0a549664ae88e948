/*
 * HPACK (RFC 7541) decoding for HTTP/2 header blocks, through libnghttp2's inflater: one
 * decoder per direction of a connection, holding that direction's dynamic table. Blocks may
 * be fed in pieces (HEADERS, then CONTINUATION frames); fields come out one by one. The
 * memory the inflater holds is counted, and its dynamic table is bounded by HPACK_TABLE_MAX
 * whatever the peers announce.
 */
#ifndef HTTPEEK_HTTP2_HPACK_H
#define HTTPEEK_HTTP2_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest dynamic table a decoder keeps (SETTINGS_HEADER_TABLE_SIZE is cut to this). */
#define HPACK_TABLE_MAX (64u * 1024u)

/* One decoded field; name and value are valid during the callback only. */
typedef void (*hpack_field_fn)(void *ctx, const uint8_t *name, size_t name_len,
			       const uint8_t *value, size_t value_len);

struct hpack;

/*
 * A decoder with the default table size (4096). held (kept, not owned; may be NULL) gets the
 * memory the decoder holds added and, when freed, taken away. NULL on allocation failure.
 */
struct hpack *hpack_new(uint64_t *held);

/*
 * The decoding side announced SETTINGS_HEADER_TABLE_SIZE: the encoder may use up to size
 * (cut to HPACK_TABLE_MAX). Only between blocks. Returns 0 or -EINVAL (inside a block).
 */
int hpack_set_table_max(struct hpack *h, uint32_t size);

/*
 * n bytes of the current header block; final: they end it. Emits each complete field.
 * Returns 0, or -EPROTO when the block cannot be decoded (corrupt, a table size past what was
 * announced, out of memory): the decoder's state is then lost for good.
 */
int hpack_feed(struct hpack *h, const uint8_t *p, size_t n, bool final, hpack_field_fn fn,
	       void *ctx);

/* True once a block failed: nothing this decoder decodes can be trusted any more. */
bool hpack_broken(const struct hpack *h);

/* Memory the decoder holds now. */
uint64_t hpack_held(const struct hpack *h);

/* Frees h (NULL accepted) and takes its memory off held. */
void hpack_free(struct hpack *h);

#endif
