// SPDX-License-Identifier: GPL-2.0
/*
 * pcapng direction walk tests on files built by hand, in both byte orders, fed whole, byte by
 * byte and in odd chunks; then the same files read through capture_open/capture_run (libpcap),
 * from a path and from standard input, with and without a filter.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "capture/capture.h"
#include "capture/pcapng.h"

#define QUEUE_LEN (CAPTURE_PCAPNG_MAX_AHEAD / 16 * 2)
#define NO_FLAGS (-1)

struct img {
	uint8_t *b;
	size_t len, cap;
	bool be;
};

static struct img *img_new(void)
{
	struct img *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->cap = 1 << 21;
	s->b = calloc(1, s->cap);
	assert_non_null(s->b);
	return s;
}

static void img_free(struct img *s)
{
	free(s->b);
	free(s);
}

static void raw(struct img *s, const void *p, size_t n)
{
	assert_true(n <= s->cap - s->len);
	if (n)
		memcpy(s->b + s->len, p, n);
	s->len += n;
}

static void put32(struct img *s, uint32_t v)
{
	v = s->be ? htobe32(v) : htole32(v);
	raw(s, &v, 4);
}

static void put16(struct img *s, uint16_t v)
{
	v = s->be ? htobe16(v) : htole16(v);
	raw(s, &v, 2);
}

static void padded(struct img *s, const void *p, size_t n)
{
	static const uint8_t zero[4];

	raw(s, p, n);
	raw(s, zero, (4 - n % 4) % 4);
}

static size_t begin(struct img *s, uint32_t type)
{
	size_t at = s->len;

	put32(s, type);
	put32(s, 0);  /* the length, filled in by end() */
	return at;
}

static void end(struct img *s, size_t at)
{
	uint32_t total = (uint32_t)(s->len - at + 4);
	uint32_t v = s->be ? htobe32(total) : htole32(total);

	memcpy(s->b + at + 4, &v, 4);
	put32(s, total);
}

static void option(struct img *s, uint16_t code, const void *p, uint16_t n)
{
	put16(s, code);
	put16(s, n);
	padded(s, p, n);
}

static void flags_option(struct img *s, uint32_t flags)
{
	uint32_t v = s->be ? htobe32(flags) : htole32(flags);

	option(s, 2, &v, 4);
}

static void shb(struct img *s, bool be)
{
	size_t at;

	s->be = be;
	at = begin(s, 0x0A0D0D0A);
	put32(s, 0x1A2B3C4D);
	put16(s, 1);
	put16(s, 0);
	put32(s, 0xffffffff);
	put32(s, 0xffffffff);
	option(s, 4, "httpeek-test", 12);  /* shb_userappl */
	option(s, 0, NULL, 0);
	end(s, at);
}

static void idb(struct img *s)
{
	size_t at = begin(s, 1);
	uint8_t tsresol = 9;

	put16(s, 1);  /* LINKTYPE_ETHERNET */
	put16(s, 0);
	put32(s, 262144);
	option(s, 9, &tsresol, 1);
	option(s, 0, NULL, 0);
	end(s, at);
}

/* A 60-byte Ethernet frame: IPv4 and TCP, or ARP when arp. */
static const uint8_t *frame(bool arp)
{
	static uint8_t f[60];

	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	f[13] = arp ? 0x06 : 0x00;
	f[14] = 0x45;
	f[17] = 40;
	f[22] = 64;
	f[23] = 6;  /* TCP */
	f[46] = 0x50;
	return f;
}

/* An EPB (or a PB when pb) of 60 captured bytes; options follow until end(). */
static size_t packet_begin(struct img *s, bool pb, uint32_t extra, bool arp)
{
	size_t at = begin(s, pb ? 2 : 6);

	if (pb) {
		put16(s, 0);
		put16(s, 0);
	} else {
		put32(s, 0);
	}
	put32(s, 0x5e3);
	put32(s, 0x10000000 + extra);
	put32(s, 60);
	put32(s, 60 + extra);
	padded(s, frame(arp), 60);
	return at;
}

static void epb(struct img *s, uint32_t extra, int flags)
{
	size_t at = packet_begin(s, false, extra, false);

	if (flags != NO_FLAGS)
		flags_option(s, (uint32_t)flags);
	end(s, at);
}

static void spb(struct img *s, uint32_t extra)
{
	size_t at = begin(s, 3);

	put32(s, 60 + extra);
	padded(s, frame(false), 60);
	end(s, at);
}

static void other_block(struct img *s, uint32_t type, size_t body)
{
	size_t at = begin(s, type);
	uint8_t junk[64];

	memset(junk, 0xa5, sizeof(junk));
	padded(s, junk, body);
	end(s, at);
}

/* Feeds the image in pieces of step bytes (0: whole). */
static struct capture_pcapng *walk(const struct img *s, size_t step)
{
	struct capture_pcapng *w = capture_pcapng_new();
	size_t off, n;

	assert_non_null(w);
	if (!step)
		step = s->len;
	for (off = 0; off < s->len; off += n) {
		n = s->len - off < step ? s->len - off : step;
		capture_pcapng_feed(w, s->b + off, n);
	}
	return w;
}

static const size_t STEPS[] = { 0, 1, 2, 3, 5, 7, 13, 64 };

/* Every step size must give the directions want[] for packets of wirelen 60 + i. */
static void expect_dirs(const struct img *s, const enum direction *want, size_t n,
			enum capture_pcapng_status status)
{
	struct capture_pcapng *w;
	size_t i, k;

	for (k = 0; k < sizeof(STEPS) / sizeof(STEPS[0]); k++) {
		w = walk(s, STEPS[k]);
		for (i = 0; i < n; i++)
			assert_int_equal(capture_pcapng_take(w, 60, 60 + (uint32_t)i), want[i]);
		assert_int_equal(capture_pcapng_status(w), status);
		capture_pcapng_free(w);
	}
}

static void one_section(struct img *s, bool be)
{
	size_t at;

	shb(s, be);
	idb(s);
	epb(s, 0, 1);
	epb(s, 1, 2);
	epb(s, 2, NO_FLAGS);
	epb(s, 3, 0);
	epb(s, 4, 3);
	epb(s, 5, 0x00010002);  /* other bits set: still outbound */
	at = packet_begin(s, false, 6, false);
	option(s, 1, "a comment of odd length", 23);
	flags_option(s, 1);
	option(s, 0, NULL, 0);
	end(s, at);
}

static const enum direction ONE_SECTION[] = {
	DIR_INGRESS, DIR_EGRESS, DIR_UNKNOWN, DIR_UNKNOWN, DIR_UNKNOWN, DIR_EGRESS, DIR_INGRESS,
};

static void test_flags_little_endian(void **state)
{
	struct img *s = img_new();

	one_section(s, false);
	expect_dirs(s, ONE_SECTION, 7, CAPTURE_PCAPNG_ON);
	img_free(s);
}

static void test_flags_big_endian(void **state)
{
	struct img *s = img_new();

	one_section(s, true);
	expect_dirs(s, ONE_SECTION, 7, CAPTURE_PCAPNG_ON);
	img_free(s);
}

static void test_spb_pb_and_other_blocks(void **state)
{
	static const enum direction want[] = { DIR_UNKNOWN, DIR_EGRESS, DIR_INGRESS, DIR_UNKNOWN };
	struct img *s = img_new();
	size_t at;

	shb(s, false);
	other_block(s, 0x0BAD, 10);      /* custom block before the IDB */
	idb(s);
	spb(s, 0);
	other_block(s, 4, 0);            /* name resolution, empty */
	at = packet_begin(s, true, 1, false);
	flags_option(s, 2);              /* pack_flags */
	end(s, at);
	other_block(s, 5, 24);           /* interface statistics */
	other_block(s, 0x0000000A, 33);  /* decryption secrets */
	epb(s, 2, 1);
	spb(s, 3);
	expect_dirs(s, want, 4, CAPTURE_PCAPNG_ON);
	img_free(s);
}

static void test_sections(void **state)
{
	static const enum direction want[] = {
		DIR_INGRESS, DIR_EGRESS, DIR_EGRESS, DIR_INGRESS, DIR_INGRESS, DIR_UNKNOWN,
	};
	struct img *s = img_new();

	shb(s, false);
	idb(s);
	epb(s, 0, 1);
	epb(s, 1, 2);
	shb(s, true);
	idb(s);
	epb(s, 2, 2);
	epb(s, 3, 1);
	shb(s, false);
	idb(s);
	epb(s, 4, 1);
	epb(s, 5, NO_FLAGS);
	expect_dirs(s, want, 6, CAPTURE_PCAPNG_ON);
	img_free(s);
}

static void test_odd_options(void **state)
{
	static const enum direction want[] = {
		DIR_UNKNOWN, DIR_UNKNOWN, DIR_INGRESS, DIR_UNKNOWN, DIR_EGRESS,
	};
	struct img *s = img_new();
	uint16_t two = 1;
	size_t at;

	shb(s, false);
	idb(s);
	at = packet_begin(s, false, 0, false);  /* flags of the wrong length: ignored */
	option(s, 2, &two, 2);
	end(s, at);
	at = packet_begin(s, false, 1, false);  /* flags after the end of options: ignored */
	option(s, 0, NULL, 0);
	flags_option(s, 1);
	end(s, at);
	at = packet_begin(s, false, 2, false);  /* a custom option of odd length after them */
	flags_option(s, 1);
	option(s, 0x8001, "\x01\x02\x03\x04\x05", 5);
	end(s, at);
	at = packet_begin(s, false, 3, false);  /* an option running past the block */
	flags_option(s, 2);
	put16(s, 1);
	put16(s, 200);
	raw(s, "abcd", 4);
	end(s, at);
	epb(s, 4, 2);                           /* still in step after it */
	expect_dirs(s, want, 5, CAPTURE_PCAPNG_ON);
	img_free(s);
}

static void test_not_pcapng(void **state)
{
	static const uint8_t pcap_head[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4 };
	struct capture_pcapng *w = capture_pcapng_new();
	struct img *s = img_new();

	assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_START);
	capture_pcapng_feed(w, pcap_head, sizeof(pcap_head));
	assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_NOT_PCAPNG);
	assert_int_equal(capture_pcapng_take(w, 60, 60), DIR_UNKNOWN);
	capture_pcapng_free(w);
	/* a packet block first is not pcapng either */
	idb(s);
	epb(s, 0, 1);
	w = walk(s, 1);
	assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_NOT_PCAPNG);
	assert_int_equal(capture_pcapng_take(w, 60, 60), DIR_UNKNOWN);
	capture_pcapng_free(w);
	img_free(s);
}

/* Two good packets, then garbage at offset bad (a length field to overwrite with v). */
static void expect_lost_after_two(struct img *s, size_t bad, uint32_t v)
{
	static const enum direction want[] = { DIR_INGRESS, DIR_EGRESS, DIR_UNKNOWN, DIR_UNKNOWN };
	uint32_t le = s->be ? htobe32(v) : htole32(v);
	struct capture_pcapng *w;

	memcpy(s->b + bad, &le, 4);
	w = walk(s, 0);
	assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_LOST);  /* before any take */
	capture_pcapng_free(w);
	expect_dirs(s, want, 4, CAPTURE_PCAPNG_LOST);
}

static size_t two_then_third(struct img *s)
{
	size_t at;

	shb(s, false);
	idb(s);
	epb(s, 0, 1);
	epb(s, 1, 2);
	at = s->len;
	epb(s, 2, 1);
	epb(s, 3, 2);
	return at;
}

static void test_bogus_lengths(void **state)
{
	/* too short, not a multiple of 4, longer than the block (the trailer disagrees) */
	static const uint32_t bad_total[] = { 13, 8, 0, 30, 104 };
	struct img *s;
	size_t at, i;

	for (i = 0; i < sizeof(bad_total) / sizeof(bad_total[0]); i++) {
		s = img_new();
		at = two_then_third(s);
		expect_lost_after_two(s, at + 4, bad_total[i]);
		img_free(s);
	}
	s = img_new();                      /* caplen past the block */
	at = two_then_third(s);
	expect_lost_after_two(s, at + 20, 61 + 64);
	img_free(s);
	s = img_new();                      /* a second SHB with a bad byte-order magic */
	at = two_then_third(s);
	s->len = at;
	shb(s, false);
	epb(s, 2, 1);
	expect_lost_after_two(s, at + 8, 0x12345678);
	memcpy(s->b + at + 8, "\x4d\x3c\x2b\x1a", 4);  /* back, then lengths too short or odd */
	for (i = 0; i < sizeof(bad_total) / sizeof(bad_total[0]); i++)
		expect_lost_after_two(s, at + 4, bad_total[i]);
	expect_lost_after_two(s, at + 4, 24);
	img_free(s);
}

/* The file ends inside the fourth block (100 bytes): three packets keep their direction. */
static void test_truncated(void **state)
{
	struct img *s = img_new();
	struct capture_pcapng *w;
	struct img t;

	two_then_third(s);
	t = *s;
	for (t.len = s->len - 100; t.len < s->len; t.len++) {
		w = walk(&t, 7);
		assert_int_equal(capture_pcapng_take(w, 60, 60), DIR_INGRESS);
		assert_int_equal(capture_pcapng_take(w, 60, 61), DIR_EGRESS);
		assert_int_equal(capture_pcapng_take(w, 60, 62), DIR_INGRESS);
		assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_ON);
		assert_int_equal(capture_pcapng_take(w, 60, 63), DIR_UNKNOWN);
		assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_LOST);
		capture_pcapng_free(w);
	}
	img_free(s);
}

static void test_mismatch_and_overflow(void **state)
{
	struct img *s = img_new();
	struct capture_pcapng *w;
	size_t i;

	two_then_third(s);
	w = walk(s, 0);
	assert_int_equal(capture_pcapng_take(w, 60, 60), DIR_INGRESS);
	assert_int_equal(capture_pcapng_take(w, 60, 99), DIR_UNKNOWN);  /* not block 2 */
	assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_LOST);
	assert_int_equal(capture_pcapng_take(w, 60, 62), DIR_UNKNOWN);  /* lost for good */
	capture_pcapng_free(w);
	w = walk(s, 0);
	assert_int_equal(capture_pcapng_take(w, 61, 60), DIR_UNKNOWN);  /* more than captured */
	capture_pcapng_free(w);
	w = walk(s, 0);
	for (i = 0; i < 4; i++)
		capture_pcapng_take(w, 60, 60 + (uint32_t)i);
	assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_ON);
	assert_int_equal(capture_pcapng_take(w, 60, 64), DIR_UNKNOWN);  /* a packet never seen */
	assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_LOST);
	capture_pcapng_free(w);
	s->len = 0;
	shb(s, false);
	idb(s);
	for (i = 0; i <= QUEUE_LEN; i++)
		other_block(s, 3, 4);  /* 16-byte SPBs nobody takes */
	w = walk(s, 0);
	assert_int_equal(capture_pcapng_status(w), CAPTURE_PCAPNG_LOST);
	capture_pcapng_free(w);
	img_free(s);
}

struct seen {
	size_t n;
	enum direction dir[16];
	uint32_t wirelen[16];
};

static void on_packet(void *ctx, const struct packet *pkt)
{
	struct seen *seen = ctx;

	assert_true(seen->n < 16);
	seen->dir[seen->n] = pkt->dir;
	seen->wirelen[seen->n++] = pkt->wirelen;
}

/* Reads the image with libpcap from a file (or standard input); returns capture_run's result. */
static int read_capture(const struct img *s, bool from_stdin, const char *filter,
			struct seen *seen)
{
	char path[] = "/tmp/test_capture_pcapng.XXXXXX";
	volatile sig_atomic_t stop = 0;
	int fd = mkstemp(path), saved = -1, err;
	struct capture *c;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s->b, s->len), (ssize_t)s->len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (from_stdin) {
		saved = dup(STDIN_FILENO);
		assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	}
	memset(seen, 0, sizeof(*seen));
	assert_int_equal(capture_open(&c, from_stdin ? "-" : path, filter), 0);
	err = capture_run(c, on_packet, seen, &stop);
	capture_close(c);
	if (from_stdin) {
		assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
		close(saved);
	}
	close(fd);
	unlink(path);
	return err;
}

static void test_capture_reads_flags(void **state)
{
	struct img *s = img_new();
	struct seen seen;
	size_t i;
	int be, in;

	for (be = 0; be < 2; be++) {
		for (in = 0; in < 2; in++) {
			s->len = 0;
			one_section(s, be);
			assert_int_equal(read_capture(s, in, NULL, &seen), 0);
			assert_int_equal(seen.n, 7);
			for (i = 0; i < seen.n; i++) {
				assert_int_equal(seen.dir[i], ONE_SECTION[i]);
				assert_int_equal(seen.wirelen[i], 60 + i);
			}
		}
	}
	img_free(s);
}

static void test_capture_filter_keeps_step(void **state)
{
	struct img *s = img_new();
	struct seen seen;
	size_t at;

	shb(s, false);
	idb(s);
	epb(s, 0, 1);
	at = packet_begin(s, false, 1, true);
	flags_option(s, 2);
	end(s, at);
	epb(s, 2, 2);
	at = packet_begin(s, false, 3, true);
	flags_option(s, 1);
	end(s, at);
	epb(s, 4, 1);
	assert_int_equal(read_capture(s, false, "tcp", &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.dir[0], DIR_INGRESS);
	assert_int_equal(seen.dir[1], DIR_EGRESS);
	assert_int_equal(seen.dir[2], DIR_INGRESS);
	assert_int_equal(seen.wirelen[0], 60);
	assert_int_equal(seen.wirelen[1], 62);
	assert_int_equal(seen.wirelen[2], 64);
	img_free(s);
}

static void test_capture_corrupt_tail(void **state)
{
	struct img *s = img_new();
	struct seen seen;
	size_t at = two_then_third(s);

	s->b[at + 4] = 13;  /* not a multiple of 4: libpcap stops there */
	assert_int_equal(read_capture(s, false, NULL, &seen), -EIO);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.dir[0], DIR_INGRESS);
	assert_int_equal(seen.dir[1], DIR_EGRESS);
	img_free(s);
}

static void test_capture_pcap_has_no_direction(void **state)
{
	struct img *s = img_new();
	struct seen seen;

	put32(s, 0xa1b2c3d4);
	put16(s, 2);
	put16(s, 4);
	put32(s, 0);
	put32(s, 0);
	put32(s, 262144);
	put32(s, 1);
	put32(s, 1700000000);
	put32(s, 0);
	put32(s, 60);
	put32(s, 60);
	raw(s, frame(false), 60);
	assert_int_equal(read_capture(s, true, NULL, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.dir[0], DIR_UNKNOWN);
	img_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_little_endian),
		cmocka_unit_test(test_flags_big_endian),
		cmocka_unit_test(test_spb_pb_and_other_blocks),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_odd_options),
		cmocka_unit_test(test_not_pcapng),
		cmocka_unit_test(test_bogus_lengths),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_mismatch_and_overflow),
		cmocka_unit_test(test_capture_reads_flags),
		cmocka_unit_test(test_capture_filter_keeps_step),
		cmocka_unit_test(test_capture_corrupt_tail),
		cmocka_unit_test(test_capture_pcap_has_no_direction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
