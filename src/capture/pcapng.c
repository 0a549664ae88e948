/*
 * pcapng direction walk: follows the byte stream libpcap reads, block by block, with the
 * same length rules libpcap applies, and queues the epb_flags direction of every packet
 * block until libpcap hands the packet over. It keeps only a block's header, fixed part and
 * option headers; packet data and other blocks' bodies are counted past, never copied.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "capture/pcapng.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_PB 2u
#define BT_SPB 3u
#define BT_EPB 6u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_ENDOFOPT 0
#define OPT_EPB_FLAGS 2
#define BLOCK_MIN 12u      /* header and trailer */
#define SHB_MIN 28u        /* plus byte-order magic, version, section length */
#define PKT_FIXED 20u      /* EPB and PB: interface, time stamp, caplen, len */
#define SPB_FIXED 4u       /* original length */
#define QUEUE_LEN (CAPTURE_PCAPNG_MAX_AHEAD / 16 * 2)

enum walk_state {
	W_HEAD,       /* collecting type and length */
	W_FIXED,      /* collecting the fixed part after them */
	W_SKIP,       /* counting bytes past, then on to `after` */
	W_OPT_HEAD,   /* collecting an option's code and length */
	W_OPT_VALUE,  /* collecting the epb_flags word */
	W_TRAILER,    /* collecting the trailing length */
	W_OFF,        /* ignoring everything */
};

struct queued {
	uint32_t caplen;   /* at most this many bytes captured */
	uint32_t wirelen;
	enum direction dir;
};

struct capture_pcapng {
	enum capture_pcapng_status status;
	enum walk_state state, after;
	bool swapped;
	uint8_t acc[8 + PKT_FIXED];
	uint32_t have, need;      /* bytes in acc, bytes wanted there */
	uint32_t type, len;       /* the block being walked */
	uint64_t skip;
	uint32_t optleft;         /* option bytes of a packet block not yet walked */
	struct queued cur;        /* the packet block being walked */
	struct queued queue[QUEUE_LEN];
	uint32_t first, count;
};

static uint32_t rd32(const struct capture_pcapng *w, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return w->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct capture_pcapng *w, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return w->swapped ? __builtin_bswap16(v) : v;
}

static void lose(struct capture_pcapng *w)
{
	w->status = CAPTURE_PCAPNG_LOST;
	w->state = W_OFF;
}

static void collect(struct capture_pcapng *w, enum walk_state state, uint32_t need)
{
	w->state = state;
	w->have = 0;
	w->need = need;
}

static void expect_trailer(struct capture_pcapng *w)
{
	collect(w, W_TRAILER, 4);
}

static void next_option(struct capture_pcapng *w);

/* Counts n bytes past, then goes on to the trailer or the next option. */
static void skip_then(struct capture_pcapng *w, uint64_t n, enum walk_state after)
{
	w->skip = n;
	w->after = after;
	w->state = W_SKIP;
	if (n)
		return;
	if (after == W_OPT_HEAD)
		next_option(w);
	else
		expect_trailer(w);
}

static void next_option(struct capture_pcapng *w)
{
	if (w->optleft < 4) {
		skip_then(w, w->optleft, W_TRAILER);
		w->optleft = 0;
		return;
	}
	collect(w, W_OPT_HEAD, 4);
}

static enum direction flags_dir(uint32_t flags)
{
	switch (flags & 3) {
	case 1:
		return DIR_INGRESS;
	case 2:
		return DIR_EGRESS;
	default:
		return DIR_UNKNOWN;
	}
}

static void option_head_done(struct capture_pcapng *w)
{
	uint16_t code = rd16(w, w->acc), olen = rd16(w, w->acc + 2);
	uint32_t padded = ((uint32_t)olen + 3) & ~3u;
	uint32_t rest;

	w->optleft -= 4;
	if (code == OPT_ENDOFOPT || padded > w->optleft) {
		if (code != OPT_ENDOFOPT)
			w->cur.dir = DIR_UNKNOWN;  /* options run past the block: trust none */
		rest = w->optleft;
		w->optleft = 0;
		skip_then(w, rest, W_TRAILER);
		return;
	}
	w->optleft -= padded;
	if (code == OPT_EPB_FLAGS && olen == 4)
		collect(w, W_OPT_VALUE, 4);
	else
		skip_then(w, padded, W_OPT_HEAD);
}

static void shb_done(struct capture_pcapng *w)
{
	uint32_t bom;

	memcpy(&bom, w->acc + 8, sizeof(bom));
	if (bom != BYTE_ORDER_MAGIC && bom != __builtin_bswap32(BYTE_ORDER_MAGIC)) {
		lose(w);
		return;
	}
	w->swapped = bom != BYTE_ORDER_MAGIC;
	w->len = rd32(w, w->acc + 4);
	if (w->len < SHB_MIN || w->len % 4) {
		lose(w);
		return;
	}
	w->status = CAPTURE_PCAPNG_ON;
	skip_then(w, w->len - BLOCK_MIN - 4, W_TRAILER);
}

static void packet_fixed_done(struct capture_pcapng *w)
{
	uint32_t body = w->len - BLOCK_MIN - PKT_FIXED;
	uint64_t padded;

	w->cur.caplen = rd32(w, w->acc + 20);
	w->cur.wirelen = rd32(w, w->acc + 24);
	w->cur.dir = DIR_UNKNOWN;
	padded = ((uint64_t)w->cur.caplen + 3) & ~(uint64_t)3;
	if (padded > body) {
		lose(w);
		return;
	}
	w->optleft = body - (uint32_t)padded;
	skip_then(w, padded, W_OPT_HEAD);
}

static void fixed_done(struct capture_pcapng *w)
{
	uint32_t body;

	switch (w->type) {
	case BT_SHB:
		shb_done(w);
		break;
	case BT_EPB:
	case BT_PB:
		packet_fixed_done(w);
		break;
	case BT_SPB:
		body = w->len - BLOCK_MIN - SPB_FIXED;
		w->cur.wirelen = rd32(w, w->acc + 8);
		w->cur.caplen = w->cur.wirelen < body ? w->cur.wirelen : body;
		w->cur.dir = DIR_UNKNOWN;
		skip_then(w, body, W_TRAILER);
		break;
	default:
		skip_then(w, w->len - BLOCK_MIN, W_TRAILER);
		break;
	}
}

static uint32_t fixed_size(uint32_t type)
{
	switch (type) {
	case BT_SHB:
		return 4;  /* the byte-order magic: the length cannot be read before it */
	case BT_EPB:
	case BT_PB:
		return PKT_FIXED;
	case BT_SPB:
		return SPB_FIXED;
	default:
		return 0;
	}
}

static void head_done(struct capture_pcapng *w)
{
	uint32_t fixed;

	w->type = rd32(w, w->acc);
	if (w->status == CAPTURE_PCAPNG_START && w->type != BT_SHB) {
		w->status = CAPTURE_PCAPNG_NOT_PCAPNG;
		w->state = W_OFF;
		return;
	}
	fixed = fixed_size(w->type);
	if (w->type != BT_SHB) {
		w->len = rd32(w, w->acc + 4);
		if (w->len < BLOCK_MIN + fixed || w->len % 4) {
			lose(w);
			return;
		}
	}
	w->state = W_FIXED;
	w->need = 8 + fixed;
	if (!fixed)
		fixed_done(w);
}

static void push(struct capture_pcapng *w)
{
	if (w->count == QUEUE_LEN) {
		lose(w);
		return;
	}
	w->queue[(w->first + w->count) % QUEUE_LEN] = w->cur;
	w->count++;
}

static void trailer_done(struct capture_pcapng *w)
{
	if (rd32(w, w->acc) != w->len) {
		lose(w);
		return;
	}
	if (w->type == BT_EPB || w->type == BT_PB || w->type == BT_SPB)
		push(w);
	if (w->state != W_OFF)
		collect(w, W_HEAD, 8);
}

static void collected(struct capture_pcapng *w)
{
	switch (w->state) {
	case W_HEAD:
		head_done(w);
		break;
	case W_FIXED:
		fixed_done(w);
		break;
	case W_OPT_HEAD:
		option_head_done(w);
		break;
	case W_OPT_VALUE:
		w->cur.dir = flags_dir(rd32(w, w->acc));
		next_option(w);
		break;
	default:
		trailer_done(w);
		break;
	}
}

void capture_pcapng_feed(struct capture_pcapng *w, const uint8_t *buf, size_t len)
{
	size_t n;

	while (len && w->state != W_OFF) {
		if (w->state == W_SKIP) {
			n = w->skip < len ? (size_t)w->skip : len;
			w->skip -= n;
			if (!w->skip)
				skip_then(w, 0, w->after);
		} else {
			n = w->need - w->have < len ? w->need - w->have : len;
			memcpy(w->acc + w->have, buf, n);
			w->have += n;
			if (w->have == w->need)
				collected(w);
		}
		buf += n;
		len -= n;
	}
}

enum direction capture_pcapng_take(struct capture_pcapng *w, uint32_t caplen, uint32_t wirelen)
{
	struct queued q;

	if (!w->count) {
		if (w->status == CAPTURE_PCAPNG_ON)
			lose(w);
		return DIR_UNKNOWN;
	}
	q = w->queue[w->first];
	w->first = (w->first + 1) % QUEUE_LEN;
	w->count--;
	if (q.wirelen != wirelen || caplen > q.caplen) {
		w->count = 0;
		lose(w);
		return DIR_UNKNOWN;
	}
	return q.dir;
}

enum capture_pcapng_status capture_pcapng_status(const struct capture_pcapng *w)
{
	return w->status;
}

struct capture_pcapng *capture_pcapng_new(void)
{
	struct capture_pcapng *w = calloc(1, sizeof(*w));

	if (w)
		collect(w, W_HEAD, 8);
	return w;
}

void capture_pcapng_free(struct capture_pcapng *w)
{
	free(w);
}
