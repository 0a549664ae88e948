/*
 * The defragmenter on hand-made fragments: every order of a datagram's fragments gives the
 * same datagram; overlaps follow the lowest-offset policy (the four cases tshark was seen to
 * resolve that way) and are counted; duplicates, tiny first fragments, cut fragments, the
 * time-out, the limits and shedding; IPv6 headers; memory held goes back to zero.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "defrag/defrag.h"

#define SEC 1000000000ull
#define DATA_LEN 200

static uint8_t ip4_hdr[20] = { 0x45, 0, 0, 0, 0x12, 0x34, 0x20, 0, 64, 6, 0, 0,
			       10, 0, 0, 1, 10, 0, 0, 2 };
static uint8_t data[DATA_LEN];   /* the datagram's data: byte i is i * 7 + 3 */

static const struct defrag_limits lim = {
	.timeout_ns = 30 * SEC, .max_datagrams = 64, .max_fragments = 64,
};

static void fill(void)
{
	for (int i = 0; i < DATA_LEN; i++)
		data[i] = (uint8_t)(i * 7 + 3);
}

/* A fragment of the IPv4 datagram 10.0.0.1 -> 10.0.0.2 id 0x1234: bytes [off, off + len). */
static struct fragment frag4(uint32_t off, uint32_t len, const uint8_t *bytes, uint16_t id)
{
	struct fragment f = {
		.hdr = ip4_hdr, .hdr_len = 20, .data = bytes + off, .len = len, .wire_len = len,
		.offset = off, .id = id, .family = 4, .proto = 6,
		.more = off + len < DATA_LEN, .src = { 10, 0, 0, 1 }, .dst = { 10, 0, 0, 2 },
		.outer = { .layers = 1 },
	};

	return f;
}

/* Feeds f; returns what defrag_fragment returned, the datagram freed after a check. */
static int feed(struct defrag *d, struct fragment f, uint64_t now, const uint8_t *want)
{
	struct defrag_datagram dg;
	int ret = defrag_fragment(d, &f, now, &dg);

	if (ret == 1) {
		assert_int_equal(dg.len, 20 + DATA_LEN);
		assert_int_equal(dg.caplen, 20 + DATA_LEN);
		assert_int_equal(dg.data[2] << 8 | dg.data[3], 20 + DATA_LEN);
		assert_int_equal(dg.data[6] & 0x3f, 0);  /* no MF, no offset */
		assert_int_equal(dg.data[7], 0);
		assert_memory_equal(dg.data + 12, ip4_hdr + 12, 8);
		if (want)
			assert_memory_equal(dg.data + 20, want, DATA_LEN);
		free(dg.data);
	}
	return ret;
}

/* The datagram in 5 fragments (48, 48, 48, 48, 8 bytes), in every one of the 120 orders. */
static void test_every_order(void **state)
{
	static const uint32_t off[5] = { 0, 48, 96, 144, 192 };
	int perm[5] = { 0, 1, 2, 3, 4 }, c[5] = { 0 }, i = 0, done = 0;
	struct defrag *d = defrag_new(&lim);

	fill();
	assert_non_null(d);
	for (;;) {  /* Heap's algorithm: each permutation once */
		for (int k = 0; k < 5; k++) {
			uint32_t o = off[perm[k]], n = o == 192 ? 8 : 48;
			int ret = feed(d, frag4(o, n, data, 7), SEC, data);

			assert_int_equal(ret, k == 4);
		}
		done++;
		assert_int_equal(defrag_held(d), 0);
		while (i < 5 && c[i] >= i)
			c[i++] = 0;
		if (i == 5)
			break;
		int j = i % 2 ? c[i] : 0, t = perm[j];

		perm[j] = perm[i];
		perm[i] = t;
		c[i]++;
		i = 0;
	}
	assert_int_equal(done, 120);
	assert_int_equal(defrag_get_stats(d)->reassembled, 120);
	assert_int_equal(defrag_get_stats(d)->overlaps, 0);
	defrag_free(d);
}

/*
 * The overlaps tshark was seen to resolve (a request split so that the target's bytes come
 * twice): same offset, first kept; a later fragment starting lower wins over the bytes it
 * covers, also partly; one starting higher loses them.
 */
static void test_overlap_policy(void **state)
{
	uint8_t alt[DATA_LEN], want[DATA_LEN];
	struct defrag *d = defrag_new(&lim);

	fill();
	memset(alt, 0xee, sizeof(alt));
	/* same offset twice: the first stays */
	assert_int_equal(feed(d, frag4(0, 24, data, 1), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(24, 8, data, 1), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(24, 8, alt, 1), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(32, DATA_LEN - 32, data, 1), SEC, data), 1);
	/* a later one starting lower covers [24, 32) whole: it wins; [16, 24) stays the
	 * first's, which starts lower still */
	memcpy(want, data, DATA_LEN);
	memcpy(want + 24, alt + 24, 16);
	assert_int_equal(feed(d, frag4(0, 24, data, 2), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(24, 8, data, 2), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(16, 24, alt, 2), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(32, DATA_LEN - 32, data, 2), SEC, want), 1);
	/* starting inside a held fragment: the held bytes stay, the rest is the new one's */
	memcpy(want, data, DATA_LEN);
	memcpy(want + 40, alt + 40, 8);
	assert_int_equal(feed(d, frag4(0, 24, data, 3), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(24, 16, data, 3), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(32, 16, alt, 3), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(40, DATA_LEN - 40, data, 3), SEC, want), 1);
	/* a later one starting lower covers part of a held one: that part is the new one's */
	memcpy(want, data, DATA_LEN);
	memcpy(want + 16, alt + 16, 16);
	assert_int_equal(feed(d, frag4(0, 16, data, 4), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(24, 16, data, 4), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(16, 16, alt, 4), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(40, DATA_LEN - 40, data, 4), SEC, want), 1);
	assert_int_equal(defrag_get_stats(d)->overlaps, 6);
	assert_int_equal(defrag_get_stats(d)->overlap_conflicts, 6);
	assert_int_equal(defrag_get_stats(d)->tiny, 1);  /* the 16-byte first fragment */
	assert_int_equal(defrag_held(d), 0);
	defrag_free(d);
}

/* Duplicates with equal bytes are overlaps without conflict; other datagrams stay apart. */
static void test_duplicates_and_keys(void **state)
{
	struct defrag *d = defrag_new(&lim);
	struct fragment f;

	fill();
	assert_int_equal(feed(d, frag4(0, 96, data, 9), SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(0, 96, data, 9), SEC, NULL), 0);
	f = frag4(96, 104, data, 9);
	f.src[3] = 3;  /* another source: another datagram */
	assert_int_equal(feed(d, f, SEC, NULL), 0);
	f = frag4(96, 104, data, 9);
	f.outer.zone = 5;  /* another VLAN or tunnel: another datagram */
	assert_int_equal(feed(d, f, SEC, NULL), 0);
	f = frag4(96, 104, data, 9);
	f.proto = 17;  /* another IPv4 protocol: another datagram */
	assert_int_equal(feed(d, f, SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(96, 104, data, 9), SEC, data), 1);
	assert_int_equal(defrag_get_stats(d)->overlaps, 1);
	assert_int_equal(defrag_get_stats(d)->overlap_conflicts, 0);
	assert_int_equal(defrag_get_stats(d)->held_datagrams, 3);
	defrag_flush(d);
	assert_int_equal(defrag_get_stats(d)->incomplete[DEFRAG_END], 3);
	assert_int_equal(defrag_get_stats(d)->incomplete_fragments, 3);
	assert_int_equal(defrag_held(d), 0);
	defrag_free(d);
}

/* A fragment the capture cut short: the datagram is whole, its bytes end where that one's do. */
static void test_cut_fragment(void **state)
{
	struct defrag *d = defrag_new(&lim);
	struct defrag_datagram dg;
	struct fragment f;

	fill();
	f = frag4(0, 96, data, 4);
	f.len = 40;  /* 56 bytes not captured */
	assert_int_equal(defrag_fragment(d, &f, SEC, &dg), 0);
	f = frag4(96, 104, data, 4);
	assert_int_equal(defrag_fragment(d, &f, SEC, &dg), 1);
	assert_int_equal(dg.len, 220);
	assert_int_equal(dg.caplen, 60);
	assert_memory_equal(dg.data + 20, data, 40);
	free(dg.data);
	defrag_free(d);
}

/* Datagrams time out from their first fragment; memory is shed oldest first. */
static void test_timeout_and_shed(void **state)
{
	struct defrag *d = defrag_new(&lim);
	uint64_t one;

	fill();
	assert_int_equal(feed(d, frag4(0, 96, data, 1), 1 * SEC, NULL), 0);
	one = defrag_held(d);
	assert_true(one > 96);
	assert_int_equal(feed(d, frag4(0, 96, data, 2), 20 * SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(0, 96, data, 3), 25 * SEC, NULL), 0);
	assert_int_equal(feed(d, frag4(96, 104, data, 1), 32 * SEC, NULL), 0);  /* too late */
	assert_int_equal(defrag_get_stats(d)->incomplete[DEFRAG_TIMEOUT], 1);
	assert_int_equal(defrag_get_stats(d)->held_datagrams, 3);  /* 1's last started anew */
	assert_true(defrag_shed(d, 1) >= one);
	assert_int_equal(defrag_get_stats(d)->incomplete[DEFRAG_MEMORY], 1);
	assert_int_equal(feed(d, frag4(96, 104, data, 3), 33 * SEC, data), 1);  /* 3 is whole */
	defrag_expire(d, 100 * SEC);
	assert_int_equal(defrag_get_stats(d)->incomplete[DEFRAG_TIMEOUT], 2);
	assert_int_equal(defrag_held(d), 0);
	defrag_free(d);
}

/* The limits: datagrams at once, pieces per datagram, 65535 bytes, one end. */
static void test_limits(void **state)
{
	struct defrag_limits small = { .timeout_ns = 30 * SEC, .max_datagrams = 2,
				       .max_fragments = 4 };
	struct defrag *d = defrag_new(&small);
	const struct defrag_stats *st = defrag_get_stats(d);
	static uint8_t big[65536];
	struct fragment f;

	fill();
	for (uint16_t id = 1; id <= 3; id++)
		assert_int_equal(feed(d, frag4(0, 8, data, id), SEC, NULL), 0);
	assert_int_equal(st->incomplete[DEFRAG_TOO_MANY], 1);
	for (uint32_t off = 16; off <= 64; off += 16)  /* pieces 2 to 5 of datagram 3 */
		feed(d, frag4(off, 8, data, 3), SEC, NULL);
	assert_int_equal(st->incomplete[DEFRAG_TOO_MANY], 2);
	f = frag4(65528, 8, big, 4);  /* ends at 65536: past what a datagram can hold */
	f.more = false;
	assert_int_equal(feed(d, f, SEC, NULL), 0);
	assert_int_equal(st->incomplete[DEFRAG_INVALID], 1);
	f = frag4(65512, 8, big, 5);  /* whole data of 65520 bytes: with the header, too long */
	f.more = false;
	assert_int_equal(feed(d, f, SEC, NULL), 0);
	f = frag4(0, 32760, big, 5);
	f.more = true;
	assert_int_equal(feed(d, f, SEC, NULL), 0);
	f = frag4(32760, 32752, big, 5);
	f.more = true;
	assert_int_equal(feed(d, f, SEC, NULL), 0);
	assert_int_equal(st->incomplete[DEFRAG_INVALID], 2);
	f = frag4(96, 104, data, 6);  /* two last fragments that disagree on the end */
	assert_int_equal(feed(d, f, SEC, NULL), 0);
	f = frag4(96, 8, data, 6);
	f.more = false;
	assert_int_equal(feed(d, f, SEC, NULL), 0);
	assert_int_equal(st->incomplete[DEFRAG_INVALID], 3);
	defrag_flush(d);
	assert_int_equal(defrag_held(d), 0);
	defrag_free(d);
}

/* IPv6: the header through the extension headers before the fragment header is kept, its
 * last next header set to the fragment header's, the payload length to the datagram's. */
static void test_ipv6(void **state)
{
	uint8_t hdr[48] = { 0x60, 0, 0, 0, 0, 0, 0 /* hop-by-hop */, 64 };
	struct defrag *d = defrag_new(&lim);
	struct defrag_datagram dg;
	struct fragment f = {
		.hdr = hdr, .hdr_len = 48, .nh_at = 40, .family = 6, .proto = 6, .id = 0xabcdef,
		.src = { 0xfd, [15] = 1 }, .dst = { 0xfd, [15] = 2 },
	};

	fill();
	hdr[40] = 44;  /* hop-by-hop: the fragment header follows */
	f.data = data + 104;
	f.offset = 104;
	f.len = f.wire_len = 96;
	assert_int_equal(defrag_fragment(d, &f, SEC, &dg), 0);
	f.data = data;
	f.offset = 0;
	f.len = f.wire_len = 104;
	f.more = true;
	assert_int_equal(defrag_fragment(d, &f, SEC, &dg), 1);
	assert_int_equal(dg.len, 48 + DATA_LEN);
	assert_int_equal(dg.data[4] << 8 | dg.data[5], 8 + DATA_LEN);
	assert_int_equal(dg.data[40], 6);
	assert_memory_equal(dg.data + 48, data, DATA_LEN);
	free(dg.data);
	f.nh_at = 48;  /* not inside the header: invalid */
	assert_int_equal(defrag_fragment(d, &f, SEC, &dg), 0);
	assert_int_equal(defrag_get_stats(d)->incomplete[DEFRAG_INVALID], 1);
	defrag_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_order),
		cmocka_unit_test(test_overlap_policy),
		cmocka_unit_test(test_duplicates_and_keys),
		cmocka_unit_test(test_cut_fragment),
		cmocka_unit_test(test_timeout_and_shed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
