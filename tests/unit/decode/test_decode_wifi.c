// SPDX-License-Identifier: GPL-2.0
/*
 * The decoder on 802.11 frames built by hand (link types 105, 127 and 192, Aruba's GRE): data
 * frames and their variants, what is skipped silently and what is named, radiotap's and PPI's
 * flags, A-MSDU subframes one call each, the BSSID in the zone, every cut; and IP fragments as
 * the defragmenter gets them (struct fragment), a datagram decoded again from its IP header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "decode/decode.h"

#define L_EN10MB 1
#define L_RAW 12
#define L_802_11 105
#define L_RADIOTAP 127
#define L_PPI 192

static const char REQ[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
#define REQ_LEN ((uint32_t)sizeof(REQ) - 1)
#define IP_LEN (20 + 20 + REQ_LEN)

static const uint8_t STA[6] = { 2, 0, 0, 0, 0, 1 }, AP[6] = { 2, 0, 0, 0, 0xa9, 1 };
static const uint8_t AP2[6] = { 2, 0, 0, 0, 0xa9, 2 }, SRV[6] = { 2, 0, 0, 0, 0, 2 };

struct buf {
	uint8_t b[2048];
	uint32_t n;
};

static void put(struct buf *b, const void *p, uint32_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put16be(struct buf *b, uint16_t v)
{
	put8(b, v >> 8);
	put8(b, (uint8_t)v);
}

static void put16le(struct buf *b, uint16_t v)
{
	put8(b, (uint8_t)v);
	put8(b, v >> 8);
}

/* IPv4 10.0.0.1 -> 10.0.0.2, TCP 40000 -> 80 with sequence number seq, carrying REQ. */
static void ip4_req(struct buf *b, uint32_t seq, uint16_t total)
{
	uint8_t ip[20] = { 0x45, 0, total >> 8, total & 0xff, 0, 1, 0x40, 0, 64, 6, 0, 0,
			   10, 0, 0, 1, 10, 0, 0, 2 };
	uint8_t tcp[20] = { 0x9c, 0x40, 0, 80, seq >> 24, seq >> 16 & 0xff, seq >> 8 & 0xff,
			    seq & 0xff, 0, 0, 0, 1, 5 << 4, 0x18, 0xff, 0xff };

	put(b, ip, 20);
	put(b, tcp, 20);
	put(b, REQ, REQ_LEN);
}

static void snap_ip4(struct buf *b, uint32_t seq)
{
	static const uint8_t snap[8] = { 0xaa, 0xaa, 3, 0, 0, 0, 8, 0 };

	put(b, snap, 8);
	ip4_req(b, seq, IP_LEN);
}

/* An 802.11 header: frame control fc0 fc1, three addresses by the DS bits, a fourth. */
static void wlan(struct buf *b, uint8_t fc0, uint8_t fc1, const uint8_t *bssid)
{
	put8(b, fc0);
	put8(b, fc1);
	put16le(b, 0);
	switch (fc1 & 3) {
	case 0:
		put(b, SRV, 6), put(b, STA, 6), put(b, bssid, 6);
		break;
	case 1:
		put(b, bssid, 6), put(b, STA, 6), put(b, SRV, 6);
		break;
	case 2:
		put(b, STA, 6), put(b, bssid, 6), put(b, SRV, 6);
		break;
	default:
		put(b, AP, 6), put(b, AP2, 6), put(b, SRV, 6);
	}
	put16le(b, 0x0010);  /* sequence 1, fragment 0 */
	if ((fc1 & 3) == 3)
		put(b, STA, 6);
}

static int decode(struct buf *b, int linktype, struct segment *seg)
{
	struct packet pkt = { .data = b->b, .caplen = b->n, .wirelen = b->n,
			      .linktype = linktype };

	return decode_packet(&pkt, seg);
}

/* The frame carried the request, whole. */
static void is_req(struct buf *b, int linktype, uint32_t seq)
{
	struct segment seg;

	assert_int_equal(decode(b, linktype, &seg), DECODE_TCP);
	assert_int_equal(seg.seq, seq);
	assert_int_equal(seg.payload_len, REQ_LEN);
	assert_memory_equal(seg.payload, REQ, REQ_LEN);
	assert_int_equal(seg.ip_len, IP_LEN);
}

static void test_data_frames(void **state)
{
	static const struct {
		uint8_t fc0, fc1, extra;  /* extra: QoS control (2) and HT control (4) bytes */
	} ok[] = {
		{ 0x08, 0x01, 0 },        /* data, to the DS */
		{ 0x08, 0x02, 0 },        /* data, from the DS */
		{ 0x08, 0x00, 0 },        /* data, ad hoc */
		{ 0x88, 0x01, 2 },        /* QoS data */
		{ 0x88, 0x82, 6 },        /* QoS data with HT control (+HTC, the Order bit) */
		{ 0x88, 0x03, 2 },        /* QoS data, four addresses */
		{ 0x08, 0x0b, 0 },        /* retry and four addresses */
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct buf b = { .n = 0 };
		static const uint8_t zero[6];

		wlan(&b, ok[i].fc0, ok[i].fc1, AP);
		put(&b, zero, ok[i].extra);
		snap_ip4(&b, 100 + (uint32_t)i);
		is_req(&b, L_802_11, 100 + (uint32_t)i);
	}
}

/* Management, control, extension and null frames are not traffic; others are named. */
static void test_not_data(void **state)
{
	static const struct {
		uint8_t fc0, fc1;
		int ret;
		const char *name;
	} cases[] = {
		{ 0x80, 0x00, DECODE_NOT_TCP, NULL },   /* beacon */
		{ 0xd4, 0x00, DECODE_NOT_TCP, NULL },   /* ACK */
		{ 0xb4, 0x00, DECODE_NOT_TCP, NULL },   /* RTS */
		{ 0x0c, 0x00, DECODE_NOT_TCP, NULL },   /* extension (type 3) */
		{ 0x48, 0x01, DECODE_NOT_TCP, NULL },   /* null function */
		{ 0xc8, 0x01, DECODE_NOT_TCP, NULL },   /* QoS null */
		{ 0x08, 0x41, DECODE_UNSUPPORTED, "802.11 protected (encrypted)" },
		{ 0x08, 0x05, DECODE_UNSUPPORTED, "802.11 fragments (not reassembled)" },
		{ 0x09, 0x01, DECODE_UNSUPPORTED, "802.11 protocol version other than 0" },
	};
	struct segment seg;
	char name[80];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = { .n = 0 };

		wlan(&b, cases[i].fc0, cases[i].fc1, AP);
		snap_ip4(&b, 1);
		assert_int_equal(decode(&b, L_802_11, &seg), cases[i].ret);
		if (!cases[i].name)
			continue;
		decode_kind_name(seg.undecoded, name, sizeof(name));
		assert_string_equal(name, cases[i].name);
	}
	/* an ACK is 10 bytes: skipped all the same; a data frame cut in its header is not */
	struct buf ack = { .b = { 0xd4, 0, 0, 0, 2, 0, 0, 0, 0, 1 }, .n = 10 };

	assert_int_equal(decode(&ack, L_802_11, &seg), DECODE_NOT_TCP);
	ack.b[0] = 0x08;
	assert_int_equal(decode(&ack, L_802_11, &seg), DECODE_MALFORMED);
	/* LLC that is not SNAP */
	struct buf stp = { .n = 0 };

	wlan(&stp, 0x08, 0x01, AP);
	put(&stp, "\x42\x42\x03\0\0\0\0\0", 8);
	assert_int_equal(decode(&stp, L_802_11, &seg), DECODE_NOT_TCP);
}

/* radiotap with present words: TSFT (aligned to 8), Flags; an extended bitmap moves them. */
static void radiotap(struct buf *b, uint8_t flags, int ext)
{
	uint32_t start = b->n, present = 0x03 | (ext ? 0x80000000u : 0);

	put8(b, 0);
	put8(b, 0);
	put16le(b, 0);  /* length, set below */
	put16le(b, (uint16_t)present);
	put16le(b, present >> 16);
	if (ext)
		put(b, "\x20\0\0\0", 4);  /* a second word: vendor namespace bits */
	while ((b->n - start) % 8)
		put8(b, 0xee);
	put(b, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);  /* TSFT */
	put8(b, flags);
	put8(b, 0);
	b->b[start + 2] = (uint8_t)(b->n - start);
}

static void test_radiotap(void **state)
{
	struct segment seg;

	for (int ext = 0; ext < 2; ext++) {
		struct buf b = { .n = 0 };

		radiotap(&b, 0, ext);
		wlan(&b, 0x88, 0x01, AP);
		put16le(&b, 0);
		snap_ip4(&b, 7);
		is_req(&b, L_RADIOTAP, 7);
	}
	/* the pad flag: 26 header bytes padded to 28 */
	struct buf pad = { .n = 0 };

	radiotap(&pad, 0x20, 0);
	wlan(&pad, 0x88, 0x01, AP);
	put(&pad, "\0\0\xee\xee", 4);
	snap_ip4(&pad, 8);
	is_req(&pad, L_RADIOTAP, 8);
	/* the FCS at the end: an IP header without a length ends before it */
	struct buf fcs = { .n = 0 };

	radiotap(&fcs, 0x10, 0);
	wlan(&fcs, 0x08, 0x01, AP);
	put(&fcs, "\xaa\xaa\x03\0\0\0\x08\0", 8);
	ip4_req(&fcs, 9, 0);
	put(&fcs, "\xde\xad\xbe\xef", 4);
	assert_int_equal(decode(&fcs, L_RADIOTAP, &seg), DECODE_TCP);
	assert_int_equal(seg.payload_len, REQ_LEN);
	fcs.b[16] = 0x50;  /* FCS and bad FCS: the receiver dropped it */
	assert_int_equal(decode(&fcs, L_RADIOTAP, &seg), DECODE_MALFORMED);
	fcs.b[0] = 1;  /* version 1 */
	assert_int_equal(decode(&fcs, L_RADIOTAP, &seg), DECODE_MALFORMED);
}

static void ppi(struct buf *b, uint32_t dlt, uint16_t flags, uint8_t ppi_flags)
{
	put8(b, 0);
	put8(b, ppi_flags);
	put16le(b, 8 + 4 + 20 + 4 + 3 + (ppi_flags & 1));
	put16le(b, (uint16_t)dlt);
	put16le(b, 0);
	put16le(b, 30000);  /* a field httpeek does not read: 3 bytes, padded when aligned */
	put16le(b, 3);
	put(b, "\x01\x02\x03", 3 + (ppi_flags & 1));
	put16le(b, 2);  /* 802.11-Common */
	put16le(b, 20);
	put(b, "\0\0\0\0\0\0\0\0", 8);
	put16le(b, flags);
	put(b, "\0\0\0\0\0\0\0\0\0\0", 10);
}

static void test_ppi(void **state)
{
	struct segment seg;
	char name[80];

	for (uint8_t aligned = 0; aligned < 2; aligned++) {
		struct buf b = { .n = 0 };

		ppi(&b, L_802_11, 1, aligned);  /* FCS present */
		wlan(&b, 0x88, 0x03, AP);
		put16le(&b, 0);
		put(&b, "\xaa\xaa\x03\0\0\0\x08\0", 8);
		ip4_req(&b, 11, 0);
		put(&b, "\xde\xad\xbe\xef", 4);
		assert_int_equal(decode(&b, L_PPI, &seg), DECODE_TCP);
		assert_int_equal(seg.payload_len, REQ_LEN);
	}
	struct buf eth = { .n = 0 };

	ppi(&eth, L_EN10MB, 0, 0);
	put(&eth, SRV, 6);
	put(&eth, STA, 6);
	put16be(&eth, 0x0800);
	ip4_req(&eth, 12, IP_LEN);
	is_req(&eth, L_PPI, 12);
	eth.b[4] = 9;  /* PPP inside PPI: not looked into, named */
	assert_int_equal(decode(&eth, L_PPI, &seg), DECODE_UNSUPPORTED);
	decode_kind_name(seg.undecoded, name, sizeof(name));
	assert_string_equal(name, "link type 9");
	eth.b[4] = 1;
	eth.b[2] = 7;  /* shorter than its own header */
	assert_int_equal(decode(&eth, L_PPI, &seg), DECODE_MALFORMED);
}

/* An A-MSDU of n subframes carrying requests with sequence numbers 1, 2, 3... */
static void amsdu(struct buf *b, int n)
{
	wlan(b, 0x88, 0x02, AP);
	put16le(b, 0x0080);  /* QoS control: A-MSDU present */
	for (int i = 1; i <= n; i++) {
		uint32_t start = b->n;

		put(b, STA, 6);
		put(b, SRV, 6);
		put16be(b, 8 + IP_LEN);
		snap_ip4(b, (uint32_t)i);
		while (i < n && (b->n - start) % 4)
			put8(b, 0);
	}
}

static void test_amsdu(void **state)
{
	struct buf b = { .n = 0 };
	struct decode_from from = { 0 };
	struct packet pkt = { .data = b.b, .linktype = L_802_11 };
	struct segment seg;
	int i;

	amsdu(&b, 3);
	pkt.caplen = pkt.wirelen = b.n;
	for (i = 1;; i++) {
		assert_int_equal(decode_packet_from(&pkt, &from, &seg, NULL), DECODE_TCP);
		assert_int_equal(seg.seq, (uint32_t)i);
		assert_int_equal(seg.payload_len, REQ_LEN);
		if (!seg.msdu_next)
			break;
		assert_true(seg.msdu_next > from.msdu && seg.msdu_next % 4 == 26 % 4);
		from.msdu = seg.msdu_next;
	}
	assert_int_equal(i, 3);
	from.msdu = 4;  /* inside the 802.11 header */
	assert_int_equal(decode_packet_from(&pkt, &from, &seg, NULL), DECODE_MALFORMED);
	from.msdu = 0;
	b.b[26 + 12] = 0x7f;  /* the first subframe's length past the frame: the frame is bad */
	assert_int_equal(decode_packet_from(&pkt, &from, &seg, NULL), DECODE_MALFORMED);
}

/* Type fields below 0x0600 off the wire never name what only the decoder sets (an A-MSDU
 * subframe, an 802.11 frame, GRE): a Cisco HDLC frame of type 7 is not an A-MSDU (fuzz_decode
 * found it, the pipeline looping on its "next" subframe); in a VLAN tag it is 802.3's length. */
static void test_wire_types(void **state)
{
	struct buf hdlc = { .n = 0 }, vlan = { .n = 0 };
	struct segment seg;

	for (uint16_t t = 4; t <= 7; t++) {
		hdlc.n = 0;
		put(&hdlc, "\x0f\0", 2);
		put16be(&hdlc, t);
		amsdu(&hdlc, 2);
		assert_int_equal(decode(&hdlc, 104, &seg), DECODE_NOT_TCP);
		assert_int_equal(seg.msdu_next, 0);
	}
	put(&vlan, SRV, 6);
	put(&vlan, STA, 6);
	put16be(&vlan, 0x8100);
	put16be(&vlan, 10);
	put16be(&vlan, 8 + IP_LEN);
	snap_ip4(&vlan, 31);
	is_req(&vlan, L_EN10MB, 31);
}

/* Aruba's GRE protocol types 0x8200 to 0x8350 (step 0x10) carry 802.11 frames. */
static void test_aruba(void **state)
{
	static const uint16_t ok[] = { 0x8200, 0x8210, 0x8350 }, no[] = { 0x8201, 0x8360 };
	uint8_t ip[20] = { 0x45, 0, 0, 0, 0, 1, 0, 0, 64, 47, 0, 0, 192, 0, 2, 31,
			   192, 0, 2, 30 };
	struct segment seg;

	for (size_t i = 0; i < 5; i++) {
		struct buf b = { .n = 0 };
		uint16_t proto = i < 3 ? ok[i] : no[i - 3];

		put(&b, ip, 20);
		put16be(&b, 0);
		put16be(&b, proto);
		wlan(&b, 0x88, 0x01, AP);
		put16le(&b, 0);
		snap_ip4(&b, 21);
		b.b[2] = (uint8_t)(b.n >> 8);
		b.b[3] = (uint8_t)b.n;
		if (i < 3)
			is_req(&b, L_RAW, 21);
		else
			assert_int_equal(decode(&b, L_RAW, &seg), DECODE_UNSUPPORTED);
	}
}

/* Both directions through one access point share a zone; another BSSID is another zone;
 * between two access points (four addresses) there is none. */
static void test_bssid_zone(void **state)
{
	struct buf up = { .n = 0 }, down = { .n = 0 }, other = { .n = 0 }, wds = { .n = 0 };
	struct segment a, b, c, d;

	wlan(&up, 0x08, 0x01, AP);
	snap_ip4(&up, 1);
	wlan(&down, 0x08, 0x02, AP);
	snap_ip4(&down, 1);
	wlan(&other, 0x08, 0x01, AP2);
	snap_ip4(&other, 1);
	wlan(&wds, 0x08, 0x03, AP);
	snap_ip4(&wds, 1);
	assert_int_equal(decode(&up, L_802_11, &a), DECODE_TCP);
	assert_int_equal(decode(&down, L_802_11, &b), DECODE_TCP);
	assert_int_equal(decode(&other, L_802_11, &c), DECODE_TCP);
	assert_int_equal(decode(&wds, L_802_11, &d), DECODE_TCP);
	assert_true(a.zone != 0 && a.zone == b.zone);
	assert_true(c.zone != 0 && c.zone != a.zone);
	assert_int_equal(d.zone, 0);
}

/* Every cut of one frame of each kind, in a heap buffer of exactly caplen bytes: an error
 * until the TCP header is whole, then less payload, never a read past the end. */
static void test_cuts(void **state)
{
	struct buf f[4] = { 0 };
	int links[4] = { L_802_11, L_RADIOTAP, L_PPI, L_802_11 };

	wlan(&f[0], 0x88, 0x81, AP);
	put(&f[0], "\0\0\0\0\0\0", 6);
	snap_ip4(&f[0], 1);
	radiotap(&f[1], 0x30, 1);
	wlan(&f[1], 0x88, 0x01, AP);
	put(&f[1], "\0\0\0\0", 4);
	snap_ip4(&f[1], 1);
	put(&f[1], "\xde\xad\xbe\xef", 4);
	ppi(&f[2], L_802_11, 0, 1);
	wlan(&f[2], 0x08, 0x03, AP);
	snap_ip4(&f[2], 1);
	amsdu(&f[3], 2);
	for (int k = 0; k < 4; k++) {
		struct segment seg;
		uint32_t full = f[k].n, off, cap;

		assert_int_equal(decode(&f[k], links[k], &seg), DECODE_TCP);
		off = (uint32_t)(seg.payload - f[k].b);
		for (cap = 0; cap <= full; cap++) {
			uint8_t *copy = malloc(cap ? cap : 1);
			struct packet pkt = { .data = copy, .caplen = cap, .wirelen = full,
					      .linktype = links[k] };
			int ret;

			memcpy(copy, f[k].b, cap);
			ret = decode_packet(&pkt, &seg);
			if (cap >= off)
				assert_int_equal(ret, DECODE_TCP);
			else
				assert_true(ret == DECODE_MALFORMED || ret == DECODE_NOT_TCP);
			free(copy);
		}
	}
}

/* An IPv4 fragment in a VLAN, described for the defragmenter. */
static void test_fragment_ip4(void **state)
{
	struct buf b = { .n = 0 };
	struct packet pkt = { .data = b.b, .linktype = L_EN10MB, .dir = DIR_UNKNOWN };
	struct fragment f;
	struct segment seg, whole;

	put(&b, SRV, 6);
	put(&b, STA, 6);
	put16be(&b, 0x8100);
	put16be(&b, 10);
	put16be(&b, 0x0800);
	ip4_req(&b, 5, IP_LEN);
	b.b[18 + 6] = 0x20 | 0x01;  /* MF, offset 1 (8 bytes) */
	b.b[18 + 7] = 0x00;
	b.b[18 + 4] = 0xbe;
	pkt.caplen = b.n;
	pkt.wirelen = b.n + 10;  /* the capture cut it: 10 bytes were not kept */
	b.b[18 + 3] += 10;
	assert_int_equal(decode_packet_from(&pkt, NULL, &seg, &f), DECODE_FRAGMENT);
	assert_ptr_equal(f.hdr, b.b + 18);
	assert_int_equal(f.hdr_len, 20);
	assert_ptr_equal(f.data, b.b + 38);
	assert_int_equal(f.len, 20 + REQ_LEN);
	assert_int_equal(f.wire_len, 30 + REQ_LEN);
	assert_int_equal(f.offset, 0x100 * 8);
	assert_true(f.more);
	assert_int_equal(f.id, 0xbe01);
	assert_int_equal(f.family, 4);
	assert_int_equal(f.proto, 6);
	assert_memory_equal(f.src, "\x0a\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_true(f.outer.zone != 0);
	assert_int_equal(f.outer.layers, 3);  /* Ethernet, the VLAN tag, IPv4 */
	/* its datagram, as the defragmenter gives it back, decodes in the VLAN's zone */
	struct buf dg = { .n = 0 };

	ip4_req(&dg, 5, IP_LEN);
	struct packet dpkt = { .data = dg.b, .caplen = dg.n, .wirelen = dg.n };
	struct decode_from from = { .outer = &f.outer };

	assert_int_equal(decode_packet_from(&dpkt, &from, &whole, &f), DECODE_TCP);
	assert_int_equal(whole.zone, f.outer.zone);
	assert_int_equal(whole.ip_len, IP_LEN);
	/* the bound on nested headers holds across reassembly: IP in IP at the 16th layer */
	struct buf deep = { .n = 0 };
	uint8_t ipip[20] = { 0x45, 0, 0, 20 + IP_LEN, 0, 2, 0, 0, 64, 4, 0, 0, 1, 1, 1, 1,
			     2, 2, 2, 2 };

	put(&deep, ipip, 20);
	ip4_req(&deep, 5, IP_LEN);
	dpkt = (struct packet){ .data = deep.b, .caplen = deep.n, .wirelen = deep.n };
	assert_int_equal(decode_packet_from(&dpkt, &from, &whole, NULL), DECODE_TCP);
	f.outer.layers = 16;
	assert_int_equal(decode_packet_from(&dpkt, &from, &whole, NULL), DECODE_UNSUPPORTED);
	/* without the length, a fragment's size is unknown */
	b.b[18 + 2] = b.b[18 + 3] = 0;
	assert_int_equal(decode_packet_from(&pkt, NULL, &seg, &f), DECODE_MALFORMED);
}

/* An IPv6 fragment after a hop-by-hop header: the header kept reaches the fragment header. */
static void test_fragment_ip6(void **state)
{
	struct buf b = { .n = 0 };
	uint8_t ip6[40] = { 0x60, 0, 0, 0, 0, 8 + 8 + 24, 0, 64, 0xfd, [23] = 1, 0xfd, [39] = 2 };
	struct packet pkt = { .data = b.b, .linktype = L_RAW };
	struct fragment f;
	struct segment seg;

	put(&b, ip6, 40);
	put(&b, "\x2c\0\x01\x04\0\0\0\0", 8);     /* hop-by-hop, then the fragment header */
	put(&b, "\x06\0\x00\x09\x12\x34\x56\x78", 8);  /* TCP, offset 8, M, id */
	put(&b, "abcdefghijklmnopqrstuvwx", 24);
	pkt.caplen = pkt.wirelen = b.n;
	assert_int_equal(decode_packet_from(&pkt, NULL, &seg, &f), DECODE_FRAGMENT);
	assert_int_equal(f.hdr_len, 48);
	assert_int_equal(f.nh_at, 40);
	assert_int_equal(f.offset, 8);
	assert_true(f.more);
	assert_int_equal(f.id, 0x12345678);
	assert_int_equal(f.proto, 6);
	assert_int_equal(f.family, 6);
	assert_int_equal(f.len, 24);
	assert_memory_equal(f.data, "abcd", 4);
	/* right after the fixed header: the byte to patch is the fixed header's */
	b.n = 0;
	ip6[6] = 44;
	ip6[5] = 8 + 24;
	put(&b, ip6, 40);
	put(&b, "\x11\0\x00\x01\0\0\0\x07", 8);  /* UDP, offset 0, M */
	put(&b, "abcdefghijklmnopqrstuvwx", 24);
	pkt.caplen = pkt.wirelen = b.n;
	assert_int_equal(decode_packet_from(&pkt, NULL, &seg, &f), DECODE_FRAGMENT);
	assert_int_equal(f.hdr_len, 40);
	assert_int_equal(f.nh_at, 6);
	assert_int_equal(f.proto, 17);
	assert_int_equal(f.offset, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_frames),
		cmocka_unit_test(test_not_data),
		cmocka_unit_test(test_radiotap),
		cmocka_unit_test(test_ppi),
		cmocka_unit_test(test_amsdu),
		cmocka_unit_test(test_wire_types),
		cmocka_unit_test(test_aruba),
		cmocka_unit_test(test_bssid_zone),
		cmocka_unit_test(test_cuts),
		cmocka_unit_test(test_fragment_ip4),
		cmocka_unit_test(test_fragment_ip6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
