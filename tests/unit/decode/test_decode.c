// SPDX-License-Identifier: GPL-2.0
/*
 * Decoder tests on packets built by hand. A packet is a list of layers, outermost first;
 * build() writes them innermost first so that every length field can be filled in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "decode/decode.h"

#define L_NULL 0
#define L_EN10MB 1
#define L_PPP 9
#define L_PPP_SERIAL 50
#define L_PPP_ETHER 51
#define L_C_HDLC 104
#define L_RAW 12
#define L_RAW_BSDOS 14
#define L_LINKTYPE_RAW 101
#define L_LOOP 108
#define L_SLL 113
#define L_IPV4 228
#define L_IPV6 229
#define L_NFLOG 239
#define L_SLL2 276

static const char HTTP_REQ[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
#define REQ_LEN ((uint32_t)sizeof(HTTP_REQ) - 1)

static const uint8_t IP4_SRC[4] = { 10, 0, 0, 1 };
static const uint8_t IP4_DST[4] = { 10, 0, 0, 2 };
static const uint8_t IP6_SRC[16] = { 0xfd, [15] = 1 };
static const uint8_t IP6_DST[16] = { 0xfd, [15] = 2 };
static const uint8_t OUTER6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t OUTER6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t MAPPED_SRC[16] = { [10] = 0xff, 0xff, 127, 0, 0, 1 };
static const uint8_t MAPPED_DST[16] = { [10] = 0xff, 0xff, 127, 0, 0, 2 };

enum kind {
	K_END, K_REQ, K_TCP, K_BYTES, K_IP4, K_IP6, K_EXT, K_FRAG, K_ETH, K_TAG, K_SLL, K_SLL2,
	K_AF, K_NFLOG, K_POKE, K_ETH3, K_LLC, K_MPLS, K_PPPOE, K_PPP, K_HDLC, K_GRE, K_ERSPAN,
	K_UDP, K_HEAD,
};

struct layer {
	uint8_t kind;
	uint32_t a, b, c;
};

#define REQ { K_REQ, 0, 0, 0 }                          /* TCP 40000 -> 80 carrying HTTP_REQ */
#define REQO(opt) { K_REQ, opt, 0, 0 }               /* the same with opt bytes of TCP options */
#define TCP(opt) { K_TCP, opt, 0, 0 }                /* TCP header with opt bytes of options */
#define BYTES(n) { K_BYTES, n, 0, 0 }                /* n zero bytes */
#define IP4 { K_IP4, 0, 6, 0x4000 }            /* TCP, DF */
#define IP4X(opt, proto, frag) { K_IP4, opt, proto, frag }
#define IP6(nh) { K_IP6, nh, 0, 0 }
#define IP6M(nh, which) { K_IP6, nh, which, 0 }   /* 1: both ends mapped, 2: source only */
#define EXT(type, nh, units) { K_EXT, type, nh, units }
#define FRAG(nh, off, more) { K_FRAG, nh, off, more }
#define ETH(type) { K_ETH, type, 0, 0 }
#define TAG(inner) { K_TAG, inner, 0, 0 }            /* TCI and the inner type */
#define SLL(pkttype, proto) { K_SLL, pkttype, proto, 0 }
#define SLL2(pkttype, proto) { K_SLL2, pkttype, proto, 0 }
#define AF(af, big_endian) { K_AF, af, big_endian, 0 }
#define NFLOG(family, hook, payload) { K_NFLOG, family, hook, payload } /* hook -1: none */
#define POKE(off, val) { K_POKE, off, val, 0 }
#define OIP4(proto) { K_IP4, 0, proto, 1 }        /* outer: 198.51.100.1 -> 198.51.100.2 */
#define OIP6(nh) { K_IP6, nh, 3, 0 }               /* outer: 2001:db8::1 -> 2001:db8::2 */
#define ETH3 { K_ETH3, 0, 0, 0 }                   /* 802.3: a length for a type */
#define LLC(type) { K_LLC, type, 0, 0 }            /* LLC/SNAP, OUI 0 */
#define MPLS(labels) { K_MPLS, labels, 0, 0 }
#define PPPOE { K_PPPOE, 0, 0, 0 }
#define PPP(proto, acf) { K_PPP, proto, acf, 0 }   /* acf: with FF 03 in front */
#define HDLC(type) { K_HDLC, type, 0, 0 }
#define GRE(flags, proto, key) { K_GRE, flags, proto, key }  /* flags: byte 0 << 8 | byte 1 */
#define ERSPAN(ver, o) { K_ERSPAN, ver, o, 0 }
#define UDP(sport, dport) { K_UDP, sport, dport, 0 }
/* n bytes of a tunnel header: v0, v1, v2 the first three, v3 at byte 3 (n <= 12) */
#define HEAD(n, v) { K_HEAD, n, v, 0 }
#define GTPU(n, v) { K_HEAD, n, v, 1 }            /* the same with GTP-U's length */
#define END { K_END, 0, 0, 0 }    /* after building: byte off of the packet */

struct pb {
	uint8_t buf[2048];
	size_t head;
};

static size_t pb_len(const struct pb *p)
{
	return sizeof(p->buf) - p->head;
}

static uint8_t *pb_data(struct pb *p)
{
	return p->buf + p->head;
}

static uint8_t *push(struct pb *p, size_t n)
{
	assert_true(p->head >= n);
	p->head -= n;
	memset(p->buf + p->head, 0, n);
	return p->buf + p->head;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static void push_tcp(struct pb *p, uint32_t opt_len)
{
	uint8_t *h = push(p, 20 + opt_len);

	put16(h, 40000);
	put16(h + 2, 80);
	put32(h + 4, 0x01020304);
	put32(h + 8, 0xa0b0c0d0);
	h[12] = (uint8_t)(((20 + opt_len) / 4) << 4);
	h[13] = TCP_PSH | TCP_ACK;
	put16(h + 14, 65535);
	memset(h + 20, 1, opt_len);  /* NOP */
}

static void push_ip4(struct pb *p, const struct layer *l)
{
	uint32_t total = (uint32_t)pb_len(p) + 20 + l->a;
	uint8_t *h = push(p, 20 + l->a);

	h[0] = (uint8_t)(0x40 | (20 + l->a) / 4);
	put16(h + 2, total);
	put16(h + 6, l->c);
	h[8] = 64;
	h[9] = (uint8_t)l->b;
	memcpy(h + 12, l->c == 1 ? (const uint8_t[4]){ 198, 51, 100, 1 } : IP4_SRC, 4);
	memcpy(h + 16, l->c == 1 ? (const uint8_t[4]){ 198, 51, 100, 2 } : IP4_DST, 4);
	if (l->c == 1)
		put16(h + 6, 0);
	memset(h + 20, 1, l->a);  /* NOP options */
}

static void push_ip6(struct pb *p, const struct layer *l)
{
	uint32_t plen = (uint32_t)pb_len(p);
	uint8_t *h = push(p, 40);

	h[0] = 0x60;
	put16(h + 4, plen);
	h[6] = (uint8_t)l->a;
	h[7] = 64;
	memcpy(h + 8, l->b == 3 ? OUTER6_SRC : l->b ? MAPPED_SRC : IP6_SRC, 16);
	memcpy(h + 24, l->b == 3 ? OUTER6_DST : l->b == 1 ? MAPPED_DST : IP6_DST, 16);
}

/* Hop-by-hop, routing, destination options: (units + 1) * 8 bytes; AH: (units + 2) * 4. */
static void push_ext(struct pb *p, const struct layer *l)
{
	uint32_t len = l->a == 51 ? (l->c + 2) * 4 : (l->c + 1) * 8;
	uint8_t *h = push(p, len);

	h[0] = (uint8_t)l->b;
	h[1] = (uint8_t)l->c;
	if (l->a == 0 || l->a == 60) {
		h[2] = 1;  /* PadN over the rest */
		h[3] = (uint8_t)(len - 4);
	}
}

static void push_frag(struct pb *p, const struct layer *l)
{
	uint8_t *h = push(p, 8);

	h[0] = (uint8_t)l->a;
	put16(h + 2, l->b << 3 | l->c);
	put32(h + 4, 0xdeadbeef);
}

static void push_sll(struct pb *p, const struct layer *l, int v2)
{
	uint8_t *h = push(p, v2 ? 20 : 16);

	if (v2) {
		put16(h, l->b);
		put32(h + 4, 2);  /* ifindex */
		put16(h + 8, 1);  /* ARPHRD_ETHER */
		h[10] = (uint8_t)l->a;
		h[11] = 6;
		memset(h + 12, 2, 6);
		return;
	}
	put16(h, l->a);
	put16(h + 2, 1);
	put16(h + 4, 6);
	memset(h + 6, 2, 6);
	put16(h + 14, l->b);
}

static void push_af(struct pb *p, uint32_t af, int big_endian)
{
	uint8_t *h = push(p, 4);

	put32(h, af);
	if (!big_endian)
		put32(h, __builtin_bswap32(af));
}

static void tlv(uint8_t *out, size_t *len, uint16_t type, const void *v, size_t vlen)
{
	uint16_t tl = (uint16_t)(4 + vlen);

	memcpy(out + *len, &tl, 2);  /* host order, as libpcap hands it over */
	memcpy(out + *len + 2, &type, 2);
	memcpy(out + *len + 4, v, vlen);
	*len += (4 + vlen + 3) & ~(size_t)3;
}

/* nflog header, packet header TLV (hook), prefix, the payload TLV, then a uid TLV. */
static void push_nflog(struct pb *p, const struct layer *l)
{
	uint8_t out[2048] = { (uint8_t)l->a, 0, 0, 1 }, hdr[4] = { 8, 0, (uint8_t)l->b };
	size_t len = 4;

	if ((int)l->b >= 0)
		tlv(out, &len, 1, hdr, 4);
	tlv(out, &len, 10, "eth0", 5);
	if (l->c)
		tlv(out, &len, 9, pb_data(p), pb_len(p));
	tlv(out, &len, 11, "\0\0\0\1", 4);
	p->head = sizeof(p->buf);
	memcpy(push(p, len), out, len);
}

static void push_mpls(struct pb *p, uint32_t labels)
{
	for (uint32_t i = 0; i < labels; i++) {
		uint8_t *h = push(p, 4);

		put32(h, (16 + i) << 12 | (i == 0 ? 0x100 : 0) | 64);
	}
}

/* GRE with the optional fields its flags ask for: checksum, key (l->c), sequence, ack. */
static void push_gre(struct pb *p, const struct layer *l)
{
	uint8_t f = (uint8_t)(l->a >> 8), v = (uint8_t)l->a;
	uint32_t len = 4 + (f & 0x80 ? 4 : 0) + (f & 0x20 ? 4 : 0) + (f & 0x10 ? 4 : 0) +
		       (v & 0x80 ? 4 : 0);
	uint8_t *h = push(p, len);

	h[0] = f;
	h[1] = v;
	put16(h + 2, l->b);
	if (f & 0x20)
		put32(h + 4 + (f & 0x80 ? 4 : 0), l->c);
}

static void push_erspan(struct pb *p, const struct layer *l)
{
	uint8_t *h = push(p, l->a == 1 ? 8 : l->b ? 20 : 12);

	h[0] = (uint8_t)(l->a << 4);
	h[3] = 7;  /* session id */
	if (l->a == 2 && l->b)
		h[11] = 1;
}

static void push_udp(struct pb *p, const struct layer *l)
{
	uint32_t len = (uint32_t)pb_len(p) + 8;
	uint8_t *h = push(p, 8);

	put16(h, l->a);
	put16(h + 2, l->b);
	put16(h + 4, len);
}

static void push_head(struct pb *p, const struct layer *l)
{
	uint8_t *h = push(p, l->a);

	put32(h, l->b);
	if (l->c)  /* GTP-U's length: what follows its first 8 bytes */
		put16(h + 2, (uint32_t)pb_len(p) - 8);
}

static void push_encap(struct pb *p, const struct layer *l)
{
	uint8_t *h;

	switch (l->kind) {
	case K_ETH3:
		h = push(p, 14);
		memset(h, 2, 12);
		put16(h + 12, (uint32_t)pb_len(p) - 14);
		break;
	case K_LLC:
		h = push(p, 8);
		h[0] = h[1] = 0xaa;
		h[2] = 3;
		put16(h + 6, l->a);
		break;
	case K_MPLS:
		push_mpls(p, l->a);
		break;
	case K_PPPOE:
		h = push(p, 6);
		h[0] = 0x11;
		put16(h + 2, 0x1234);
		put16(h + 4, (uint32_t)pb_len(p) - 6);
		break;
	case K_PPP:
		if (l->a < 0x100 && (l->a & 1))
			*push(p, 1) = (uint8_t)l->a;
		else
			put16(push(p, 2), l->a);
		if (l->b)
			put16(push(p, 2), 0xff03);
		break;
	case K_HDLC:
		put16(push(p, 4) + 2, l->a);
		pb_data(p)[0] = 0x0f;
		break;
	case K_GRE:
		push_gre(p, l);
		break;
	case K_ERSPAN:
		push_erspan(p, l);
		break;
	case K_UDP:
		push_udp(p, l);
		break;
	case K_HEAD:
		push_head(p, l);
		break;
	}
}

static void push_layer(struct pb *p, const struct layer *l)
{
	switch (l->kind) {
	case K_REQ:
		memcpy(push(p, REQ_LEN), HTTP_REQ, REQ_LEN);
		push_tcp(p, l->a);
		break;
	case K_TCP:
		push_tcp(p, l->a);
		break;
	case K_BYTES:
		push(p, l->a);
		break;
	case K_IP4:
		push_ip4(p, l);
		break;
	case K_IP6:
		push_ip6(p, l);
		break;
	case K_EXT:
		push_ext(p, l);
		break;
	case K_FRAG:
		push_frag(p, l);
		break;
	case K_ETH:
		memset(push(p, 14), 2, 12);
		put16(pb_data(p) + 12, l->a);
		break;
	case K_TAG:
		put16(push(p, 4), 100);
		put16(pb_data(p) + 2, l->a);
		break;
	case K_SLL:
	case K_SLL2:
		push_sll(p, l, l->kind == K_SLL2);
		break;
	case K_AF:
		push_af(p, l->a, (int)l->b);
		break;
	case K_NFLOG:
		push_nflog(p, l);
		break;
	default:
		push_encap(p, l);
		break;
	}
}

static void build(struct pb *p, const struct layer *l)
{
	int n = 0, i;

	p->head = sizeof(p->buf);
	while (l[n].kind != K_END)
		n++;
	for (i = n - 1; i >= 0; i--)
		push_layer(p, &l[i]);
	for (i = 0; i < n; i++)
		if (l[i].kind == K_POKE)
			pb_data(p)[l[i].a] = (uint8_t)l[i].b;
}

static int decode_len(struct pb *p, int linktype, uint32_t caplen, uint32_t wirelen,
		      struct segment *seg)
{
	struct packet pkt = {
		.ts_ns = 1700000000123456789ull,
		.sock_cookie = 77,
		.data = pb_data(p),
		.caplen = caplen,
		.wirelen = wirelen,
		.linktype = linktype,
	};

	return decode_packet(&pkt, seg);
}

static int decode_pb(struct pb *p, int linktype, struct segment *seg)
{
	return decode_len(p, linktype, (uint32_t)pb_len(p), (uint32_t)pb_len(p), seg);
}

struct pcase {
	int line;
	int linktype;
	int ret;
	uint8_t family;
	enum direction dir;
	struct layer l[14];
};

#define C(lt, ret, fam, dir, ...) { __LINE__, lt, ret, fam, dir, { __VA_ARGS__ } }
#define OK4(lt, ...) C(lt, DECODE_TCP, 4, DIR_UNKNOWN, __VA_ARGS__)
#define OK6(lt, ...) C(lt, DECODE_TCP, 6, DIR_UNKNOWN, __VA_ARGS__)
#define BAD(lt, ...) C(lt, DECODE_MALFORMED, 0, 0, __VA_ARGS__)
#define NOT(lt, ...) C(lt, DECODE_NOT_TCP, 0, 0, __VA_ARGS__)
#define FRG(lt, ...) C(lt, DECODE_FRAGMENT, 0, 0, __VA_ARGS__)
#define UNS(lt, ...) C(lt, DECODE_UNSUPPORTED, 0, 0, __VA_ARGS__)
#define O4 ETH(0x0800), OIP4(17)
#define VXLAN(vni) HEAD(8, 0x08000000), POKE(14 + 20 + 8 + 4, vni)
#define T7 TAG(0x8100), TAG(0x8100), TAG(0x8100), TAG(0x8100), TAG(0x8100), TAG(0x8100), \
	TAG(0x8100)
#define D7 EXT(60, 60, 0), EXT(60, 60, 0), EXT(60, 60, 0), EXT(60, 60, 0), EXT(60, 60, 0), \
	EXT(60, 60, 0), EXT(60, 60, 0)

static const struct pcase cases[] = {
	/* Ethernet, 802.1Q, 802.1ad and the old QinQ type, up to eight tags */
	OK4(L_EN10MB, ETH(0x0800), IP4, REQ),
	OK6(L_EN10MB, ETH(0x86dd), IP6(6), REQ),
	OK4(L_EN10MB, ETH(0x8100), TAG(0x0800), IP4, REQ),
	OK4(L_EN10MB, ETH(0x88a8), TAG(0x0800), IP4, REQ),
	OK4(L_EN10MB, ETH(0x9100), TAG(0x0800), IP4, REQ),
	OK6(L_EN10MB, ETH(0x88a8), TAG(0x8100), TAG(0x86dd), IP6(6), REQ),
	OK4(L_EN10MB, ETH(0x8100), T7, TAG(0x0800), IP4, REQ),
	BAD(L_EN10MB, ETH(0x8100), TAG(0x8100), T7, TAG(0x0800), IP4, REQ),
	NOT(L_EN10MB, ETH(0x0806), BYTES(28)),
	NOT(L_EN10MB, ETH(46), BYTES(46)),  /* 802.3 length and LLC */
	NOT(L_EN10MB, ETH(0x8100), TAG(0x0806), BYTES(28)),
	/* cooked captures: the packet type gives the direction */
	C(L_SLL, DECODE_TCP, 4, DIR_INGRESS, SLL(0, 0x0800), IP4, REQ),
	C(L_SLL, DECODE_TCP, 4, DIR_INGRESS, SLL(1, 0x0800), IP4, REQ),
	C(L_SLL, DECODE_TCP, 4, DIR_INGRESS, SLL(2, 0x0800), IP4, REQ),
	C(L_SLL, DECODE_TCP, 4, DIR_INGRESS, SLL(3, 0x0800), IP4, REQ),
	C(L_SLL, DECODE_TCP, 4, DIR_EGRESS, SLL(4, 0x0800), IP4, REQ),
	C(L_SLL, DECODE_TCP, 4, DIR_UNKNOWN, SLL(5, 0x0800), IP4, REQ),
	C(L_SLL, DECODE_TCP, 6, DIR_EGRESS, SLL(4, 0x8100), TAG(0x86dd), IP6(6), REQ),
	NOT(L_SLL, SLL(0, 0x0806), BYTES(28)),
	C(L_SLL2, DECODE_TCP, 4, DIR_INGRESS, SLL2(0, 0x0800), IP4, REQ),
	C(L_SLL2, DECODE_TCP, 6, DIR_INGRESS, SLL2(1, 0x86dd), IP6(6), REQ),
	C(L_SLL2, DECODE_TCP, 4, DIR_INGRESS, SLL2(2, 0x0800), IP4, REQ),
	C(L_SLL2, DECODE_TCP, 4, DIR_INGRESS, SLL2(3, 0x0800), IP4, REQ),
	C(L_SLL2, DECODE_TCP, 4, DIR_EGRESS, SLL2(4, 0x0800), IP4, REQ),
	C(L_SLL2, DECODE_TCP, 4, DIR_UNKNOWN, SLL2(6, 0x0800), IP4, REQ),
	C(L_SLL2, DECODE_TCP, 4, DIR_EGRESS, SLL2(4, 0x88a8), TAG(0x0800), IP4, REQ),
	/* raw IP under every number it goes by */
	OK4(L_RAW, IP4, REQ),
	OK6(L_RAW, IP6(6), REQ),
	OK4(L_RAW_BSDOS, IP4, REQ),
	OK6(L_RAW_BSDOS, IP6(6), REQ),
	OK4(L_LINKTYPE_RAW, IP4, REQ),
	OK6(L_LINKTYPE_RAW, IP6(6), REQ),
	BAD(L_RAW, IP4, REQ, POKE(0, 0x55)),
	OK4(L_IPV4, IP4, REQ),
	OK6(L_IPV6, IP6(6), REQ),
	BAD(L_IPV4, IP6(6), REQ),
	BAD(L_IPV6, IP4, REQ),
	/* BSD loopback: host order either way, DLT_LOOP network order only */
	OK4(L_NULL, AF(2, 0), IP4, REQ),
	OK4(L_NULL, AF(2, 1), IP4, REQ),
	OK6(L_NULL, AF(24, 0), IP6(6), REQ),
	OK6(L_NULL, AF(28, 0), IP6(6), REQ),
	OK6(L_NULL, AF(30, 0), IP6(6), REQ),
	OK6(L_NULL, AF(24, 1), IP6(6), REQ),
	OK6(L_NULL, AF(28, 1), IP6(6), REQ),
	OK6(L_NULL, AF(30, 1), IP6(6), REQ),
	NOT(L_NULL, AF(7, 0), IP4, REQ),
	OK4(L_LOOP, AF(2, 1), IP4, REQ),
	OK6(L_LOOP, AF(24, 1), IP6(6), REQ),
	OK6(L_LOOP, AF(30, 1), IP6(6), REQ),
	NOT(L_LOOP, AF(2, 0), IP4, REQ),
	/* NFLOG: family in the header, packet in TLV 9, hook LOCAL_IN/LOCAL_OUT */
	C(L_NFLOG, DECODE_TCP, 4, DIR_EGRESS, NFLOG(2, 3, 1), IP4, REQ),
	C(L_NFLOG, DECODE_TCP, 6, DIR_INGRESS, NFLOG(10, 1, 1), IP6(6), REQ),
	C(L_NFLOG, DECODE_TCP, 4, DIR_UNKNOWN, NFLOG(2, 0, 1), IP4, REQ),
	C(L_NFLOG, DECODE_TCP, 4, DIR_UNKNOWN, NFLOG(2, -1, 1), IP4, REQ),
	NOT(L_NFLOG, NFLOG(7, 1, 1), IP4, REQ),
	NOT(L_NFLOG, NFLOG(2, 1, 0), IP4, REQ),
	BAD(L_NFLOG, NFLOG(2, 1, 1), IP4, REQ, POKE(4, 0), POKE(5, 0)),
	/* IPv4 options and broken header lengths */
	OK4(L_RAW, IP4X(4, 6, 0), REQ),
	OK4(L_EN10MB, ETH(0x0800), IP4X(40, 6, 0), REQ),
	BAD(L_RAW, IP4, REQ, POKE(0, 0x44)),
	BAD(L_RAW, IP4, REQ, POKE(2, 0), POKE(3, 19)),
	BAD(L_RAW, IP4, REQ, POKE(2, 0), POKE(3, 30)),
	/* IPv4 fragments: only a whole datagram is decoded; those that cannot hold TCP (not TCP,
	 * UDP or a tunnel) are not counted */
	OK4(L_RAW, IP4X(0, 6, 0), REQ),
	FRG(L_RAW, IP4X(0, 6, 0x2000), REQ),
	FRG(L_RAW, IP4X(0, 6, 0x00b9), BYTES(64)),
	FRG(L_RAW, IP4X(0, 17, 0x20b9), BYTES(64)),
	NOT(L_RAW, IP4X(0, 1, 0x20b9), BYTES(64)),
	/* IPv6 extension headers, alone and chained, with a bound on their number */
	OK6(L_RAW, IP6(0), EXT(0, 6, 2), REQ),
	OK6(L_RAW, IP6(43), EXT(43, 6, 2), REQ),
	OK6(L_RAW, IP6(60), EXT(60, 6, 2), REQ),
	OK6(L_RAW, IP6(51), EXT(51, 6, 2), REQ),
	OK6(L_EN10MB, ETH(0x86dd), IP6(0), EXT(0, 43, 0), EXT(43, 60, 1), EXT(60, 44, 0),
	    FRAG(51, 0, 0), EXT(51, 6, 4), REQ),
	OK6(L_RAW, IP6(60), D7, EXT(60, 6, 0), REQ),
	BAD(L_RAW, IP6(60), EXT(60, 60, 0), D7, EXT(60, 6, 0), REQ),
	BAD(L_RAW, IP6(60), EXT(60, 6, 0), REQ, POKE(41, 200)),
	NOT(L_RAW, IP6(59)),
	UNS(L_RAW, IP6(50), BYTES(40)),
	NOT(L_RAW, IP6(0), EXT(0, 17, 0), BYTES(12)),
	/* IPv6 fragments: atomic ones are whole packets */
	OK6(L_RAW, IP6(44), FRAG(6, 0, 0), REQ),
	FRG(L_RAW, IP6(44), FRAG(6, 0, 1), REQ),
	FRG(L_RAW, IP6(44), FRAG(6, 185, 0), BYTES(64)),
	FRG(L_RAW, IP6(44), FRAG(60, 185, 0), BYTES(64)),
	FRG(L_RAW, IP6(44), FRAG(17, 185, 1), BYTES(64)),
	NOT(L_RAW, IP6(44), FRAG(58, 185, 1), BYTES(64)),
	/* not TCP, and TCP headers that do not fit */
	NOT(L_EN10MB, ETH(0x0800), IP4X(0, 17, 0), BYTES(20)),
	NOT(L_RAW, IP4X(0, 1, 0), BYTES(8)),
	NOT(L_RAW, IP6(58), BYTES(8)),
	OK4(L_RAW, IP4, REQO(12)),
	OK6(L_RAW, IP6(6), REQO(40)),
	BAD(L_RAW, IP4, REQ, POKE(32, 0x40)),
	BAD(L_RAW, IP4, TCP(0), POKE(32, 0x60)),
	BAD(L_RAW, IP4X(0, 6, 0), BYTES(15)),  /* TCP header cut by the IP length */
	/* MPLS, also inside VLAN, and an Ethernet pseudowire with a control word */
	OK4(L_EN10MB, ETH(0x8847), MPLS(1), IP4, REQ),
	OK6(L_EN10MB, ETH(0x8100), TAG(0x8847), MPLS(3), IP6(6), REQ),
	OK4(L_EN10MB, ETH(0x8847), MPLS(2), BYTES(4), ETH(0x0800), IP4, REQ),
	UNS(L_EN10MB, ETH(0x8847), MPLS(1), BYTES(20), POKE(18, 0x50)),
	/* PPPoE sessions, PPP and Cisco HDLC links, 802.3 with LLC/SNAP */
	OK4(L_EN10MB, ETH(0x8864), PPPOE, PPP(0x21, 0), IP4, REQ),
	OK6(L_EN10MB, ETH(0x8100), TAG(0x8864), PPPOE, PPP(0x57, 0), IP6(6), REQ),
	NOT(L_EN10MB, ETH(0x8864), PPPOE, PPP(0xc021, 0), BYTES(10)),
	UNS(L_EN10MB, ETH(0x8864), PPPOE, PPP(0x2d, 0), BYTES(10)),
	OK4(L_PPP, PPP(0x21, 1), IP4, REQ),
	OK4(L_PPP_SERIAL, PPP(0x0021, 1), IP4, REQ),
	OK6(L_PPP_ETHER, PPPOE, PPP(0x0057, 0), IP6(6), REQ),
	OK4(L_C_HDLC, HDLC(0x0800), IP4, REQ),
	OK6(L_C_HDLC, HDLC(0x86dd), IP6(6), REQ),
	NOT(L_C_HDLC, HDLC(0x8035), BYTES(20)),
	OK4(L_EN10MB, ETH3, LLC(0x0800), IP4, REQ),
	OK6(L_EN10MB, ETH3, LLC(0x86dd), IP6(6), REQ),
	UNS(L_EN10MB, ETH(0x88b5), BYTES(46)),
	/* GRE: plain, with a checksum, key and sequence, Ethernet, ERSPAN I to III, PPTP */
	OK4(L_RAW, OIP4(47), GRE(0, 0x0800, 0), IP4, REQ),
	OK4(L_RAW, OIP4(47), GRE(0xb000, 0x0800, 9), IP4, REQ),
	OK6(L_RAW, OIP6(47), GRE(0x2000, 0x86dd, 9), IP6(6), REQ),
	OK4(L_EN10MB, ETH(0x0800), OIP4(47), GRE(0x2000, 0x6558, 5), ETH(0x0800), IP4, REQ),
	OK4(L_RAW, OIP4(47), GRE(0, 0x88be, 0), ETH(0x0800), IP4, REQ),
	OK4(L_RAW, OIP4(47), GRE(0x1000, 0x88be, 0), ERSPAN(1, 0), ETH(0x0800), IP4, REQ),
	OK4(L_RAW, OIP4(47), GRE(0x1000, 0x22eb, 0), ERSPAN(2, 0), ETH(0x0800), IP4, REQ),
	OK4(L_RAW, OIP4(47), GRE(0x1000, 0x22eb, 0), ERSPAN(2, 1), ETH(0x0800), IP4, REQ),
	OK4(L_RAW, OIP4(47), GRE(0x3081, 0x880b, 0), PPP(0x21, 1), IP4, REQ),
	OK4(L_RAW, OIP4(47), GRE(0, 0x8847, 0), MPLS(1), IP4, REQ),
	UNS(L_RAW, OIP4(47), GRE(0, 0x1234, 0), BYTES(20)),
	UNS(L_RAW, OIP4(47), GRE(2, 0x0800, 0), BYTES(20)),
	/* IP in IP, EtherIP, MPLS in IP; ESP cannot be looked into */
	OK4(L_RAW, OIP4(4), IP4, REQ),
	OK6(L_RAW, OIP4(41), IP6(6), REQ),
	OK4(L_RAW, OIP6(4), IP4, REQ),
	OK4(L_RAW, OIP4(97), HEAD(2, 0x30000000), ETH(0x0800), IP4, REQ),
	OK4(L_RAW, OIP4(137), MPLS(1), IP4, REQ),
	UNS(L_RAW, OIP4(50), BYTES(40)),
	/* UDP tunnels: VXLAN, VXLAN-GPE, Geneve, GTP-U, AYIYA, Teredo, L2TP, GRE and MPLS */
	OK4(L_EN10MB, O4, UDP(50000, 4789), VXLAN(42), ETH(0x0800), IP4, REQ),
	OK6(L_EN10MB, O4, UDP(50000, 4789), VXLAN(42), ETH(0x8100), TAG(0x86dd), IP6(6), REQ),
	OK4(L_EN10MB, O4, UDP(50000, 4790), HEAD(8, 0x0c000001), IP4, REQ),
	OK4(L_EN10MB, O4, UDP(50000, 6081), HEAD(8, 0x00006558), ETH(0x0800), IP4, REQ),
	OK6(L_EN10MB, O4, UDP(50000, 6081), HEAD(16, 0x020086dd), IP6(6), REQ),
	UNS(L_EN10MB, O4, UDP(50000, 6081), HEAD(8, 0x00001234), BYTES(20)),
	OK4(L_EN10MB, O4, UDP(2152, 2152), GTPU(8, 0x30ff0000), IP4, REQ),
	OK4(L_EN10MB, O4, UDP(2152, 2152), GTPU(12, 0x34ff0000), POKE(53, 0x85),
	    HEAD(4, 0x01000000), IP4, REQ),
	NOT(L_EN10MB, O4, UDP(2152, 2152), GTPU(8, 0x30010000)),
	OK6(L_EN10MB, O4, UDP(5072, 5072), HEAD(12, 0x20010129), IP6(6), REQ),
	OK6(L_EN10MB, O4, UDP(3544, 40000), IP6(6), REQ),
	OK6(L_EN10MB, O4, UDP(40000, 3544), HEAD(8, 0), IP6(6), REQ),
	OK4(L_EN10MB, O4, UDP(1701, 1701), HEAD(6, 0x00020001), PPP(0x21, 1), IP4, REQ),
	OK4(L_EN10MB, O4, UDP(50000, 4754), GRE(0, 0x0800, 0), IP4, REQ),
	OK4(L_EN10MB, O4, UDP(50000, 6635), MPLS(2), IP4, REQ),
	NOT(L_EN10MB, O4, UDP(50000, 53), BYTES(20)),
};

static void check_tcp(const struct pcase *c, struct pb *p, const struct segment *seg)
{
	static const uint8_t zero[12];

	assert_int_equal(seg->family, c->family);
	if (c->family == 4) {
		assert_memory_equal(seg->src.addr, IP4_SRC, 4);
		assert_memory_equal(seg->dst.addr, IP4_DST, 4);
		assert_memory_equal(seg->src.addr + 4, zero, 12);
		assert_memory_equal(seg->dst.addr + 4, zero, 12);
	} else {
		assert_memory_equal(seg->src.addr, IP6_SRC, 16);
		assert_memory_equal(seg->dst.addr, IP6_DST, 16);
	}
	assert_int_equal(seg->src.port, 40000);
	assert_int_equal(seg->dst.port, 80);
	assert_int_equal(seg->seq, 0x01020304);
	assert_int_equal(seg->ack, 0xa0b0c0d0);
	assert_int_equal(seg->tcp_flags, TCP_PSH | TCP_ACK);
	assert_int_equal(seg->payload_len, REQ_LEN);
	assert_int_equal(seg->seg_len, REQ_LEN);
	assert_true(seg->payload > pb_data(p));
	assert_true(seg->payload + REQ_LEN <= pb_data(p) + pb_len(p));
	assert_memory_equal(seg->payload, HTTP_REQ, REQ_LEN);
	assert_int_equal(seg->ts_ns, 1700000000123456789ull);
	assert_int_equal(seg->sock_cookie, 77);
	assert_int_equal(seg->dir, c->dir);
}

static void test_cases(void **state)
{
	struct segment seg;
	struct pb p;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(&p, cases[i].l);
		ret = decode_pb(&p, cases[i].linktype, &seg);
		if (ret != cases[i].ret)
			fail_msg("case at line %d: got %d, want %d", cases[i].line, ret,
				 cases[i].ret);
		if (ret == DECODE_TCP)
			check_tcp(&cases[i], &p, &seg);
	}
}

/*
 * Every cut of every good case, copied to a heap buffer of exactly caplen bytes so that
 * any read past it is caught: an error until the TCP header is whole, then less payload.
 */
static void cut_everywhere(const struct pcase *c)
{
	uint32_t full, cap, off;
	struct segment seg;
	struct pb p;
	uint8_t *copy;
	int ret;

	build(&p, c->l);
	full = (uint32_t)pb_len(&p);
	assert_int_equal(decode_pb(&p, c->linktype, &seg), DECODE_TCP);
	off = (uint32_t)(seg.payload - pb_data(&p));
	copy = malloc(full);
	assert_non_null(copy);
	for (cap = 0; cap <= full; cap++) {
		struct packet pkt = { .data = copy + full - cap, .caplen = cap, .wirelen = full,
				      .linktype = c->linktype };

		memcpy(copy + full - cap, pb_data(&p), cap);
		ret = decode_packet(&pkt, &seg);
		if (ret != (cap < off ? DECODE_MALFORMED : DECODE_TCP))
			fail_msg("case at line %d cut at %u: got %d", c->line, cap, ret);
		if (ret == DECODE_TCP &&
		    (seg.payload != pkt.data + off || seg.seg_len != REQ_LEN ||
		     seg.payload_len != (cap - off < REQ_LEN ? cap - off : REQ_LEN)))
			fail_msg("case at line %d cut at %u: payload %u of %u", c->line, cap,
				 seg.payload_len, seg.seg_len);
	}
	free(copy);
}

static void test_truncation(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].ret == DECODE_TCP)
			cut_everywhere(&cases[i]);
}

/* The source's own direction wins over the link's; its interface index is kept. */
static void test_dir_kept(void **state)
{
	static const struct layer sll[] = { SLL(4, 0x0800), IP4, REQ, END };
	static const struct layer nflog[] = { NFLOG(2, 1, 1), IP4, REQ, END };
	struct segment seg;
	struct packet pkt;
	struct pb p;

	build(&p, sll);
	pkt = (struct packet){ .data = pb_data(&p), .caplen = (uint32_t)pb_len(&p),
			       .wirelen = (uint32_t)pb_len(&p), .linktype = L_SLL,
			       .dir = DIR_INGRESS };
	assert_int_equal(decode_packet(&pkt, &seg), DECODE_TCP);
	assert_int_equal(seg.dir, DIR_INGRESS);
	build(&p, nflog);
	pkt = (struct packet){ .data = pb_data(&p), .caplen = (uint32_t)pb_len(&p),
			       .wirelen = (uint32_t)pb_len(&p), .linktype = L_NFLOG,
			       .dir = DIR_EGRESS, .ifindex = 5 };
	assert_int_equal(decode_packet(&pkt, &seg), DECODE_TCP);
	assert_int_equal(seg.dir, DIR_EGRESS);
	assert_int_equal(seg.ifindex, 5);
}

/* A bare ACK padded to the 60-byte Ethernet minimum: the padding is not payload, nor IP. */
static void test_ether_padding(void **state)
{
	static const struct layer l[] = { ETH(0x0800), IP4, TCP(0), BYTES(6), END };
	struct segment seg;
	struct pb p;

	build(&p, l);
	put16(pb_data(&p) + 14 + 2, 40);
	assert_int_equal(pb_len(&p), 60);
	assert_int_equal(decode_pb(&p, L_EN10MB, &seg), DECODE_TCP);
	assert_int_equal(seg.payload_len, 0);
	assert_int_equal(seg.seg_len, 0);
	assert_int_equal(seg.ip_len, 40);
}

/* Segmentation offload: IP length 0, so the capture or the wire length tells (ip_len too). */
static void test_tso(void **state)
{
	static const struct layer v4[] = { ETH(0x0800), IP4, REQ, POKE(16, 0), POKE(17, 0),
					   END };
	static const struct layer v6[] = { IP6(0), EXT(0, 6, 0), REQ, POKE(4, 0), POKE(5, 0),
					   POKE(42, 0xc2), POKE(43, 4), POKE(46, 1), END };
	struct segment seg;
	struct pb p;
	uint32_t len;

	build(&p, v4);
	len = (uint32_t)pb_len(&p);
	assert_int_equal(decode_len(&p, L_EN10MB, len, len, &seg), DECODE_TCP);
	assert_int_equal(seg.payload_len, REQ_LEN);
	assert_int_equal(seg.seg_len, REQ_LEN);
	assert_int_equal(seg.ip_len, len - 14);
	assert_int_equal(decode_len(&p, L_EN10MB, len - 5, 64000, &seg), DECODE_TCP);
	assert_int_equal(seg.payload_len, REQ_LEN - 5);
	assert_int_equal(seg.seg_len, 64000 - 54);
	assert_int_equal(seg.ip_len, 64000 - 14);
	/* IPv6 payload length 0 with a hop-by-hop jumbo option */
	build(&p, v6);
	len = (uint32_t)pb_len(&p);
	assert_int_equal(decode_len(&p, L_RAW, len, len, &seg), DECODE_TCP);
	assert_int_equal(seg.payload_len, REQ_LEN);
	assert_int_equal(seg.seg_len, REQ_LEN);
	assert_memory_equal(seg.payload, HTTP_REQ, REQ_LEN);
	assert_int_equal(decode_len(&p, L_RAW, len, len + 70000, &seg), DECODE_TCP);
	assert_int_equal(seg.seg_len, REQ_LEN + 70000);
	assert_int_equal(seg.ip_len, len + 70000);
}

/* Snapped capture: payload_len is what is present, seg_len what the IP header says. */
static void test_snapped(void **state)
{
	static const struct layer v6[] = { SLL(0, 0x86dd), IP6(6), TCP(12), BYTES(1400),
					   END };
	static const struct layer v4[] = { ETH(0x0800), IP4X(8, 6, 0), TCP(0), BYTES(1000),
					   END };
	struct segment seg;
	struct pb p;
	uint32_t len;

	build(&p, v6);
	len = (uint32_t)pb_len(&p);
	assert_int_equal(decode_len(&p, L_SLL, 96, len, &seg), DECODE_TCP);
	assert_int_equal(seg.payload_len, 96 - 16 - 40 - 32);
	assert_int_equal(seg.seg_len, 1400);
	/* a wire length that disagrees does not override the IP header */
	assert_int_equal(decode_len(&p, L_SLL, 96, 96, &seg), DECODE_TCP);
	assert_int_equal(seg.seg_len, 1400);
	assert_int_equal(decode_len(&p, L_SLL, 96, len + 100, &seg), DECODE_TCP);
	assert_int_equal(seg.seg_len, 1400);
	assert_int_equal(seg.ip_len, 40 + 32 + 1400);  /* the IP header's, not the link's */
	build(&p, v4);
	assert_int_equal(decode_len(&p, L_EN10MB, 62, 62, &seg), DECODE_TCP);
	assert_int_equal(seg.payload_len, 0);
	assert_int_equal(seg.seg_len, 1000);
	assert_int_equal(seg.ip_len, 28 + 20 + 1000);
	assert_int_equal(decode_len(&p, L_EN10MB, 61, 1062, &seg), DECODE_MALFORMED);
}

static void test_mapped(void **state)
{
	static const struct layer both[] = { IP6M(6, 1), REQ, END };
	static const struct layer one[] = { IP6M(6, 2), REQ, END };
	struct segment seg;
	struct pb p;

	build(&p, both);
	assert_int_equal(decode_pb(&p, L_RAW, &seg), DECODE_TCP);
	assert_int_equal(seg.family, 4);
	assert_memory_equal(seg.src.addr, ((uint8_t[16]){ 127, 0, 0, 1 }), 16);
	assert_memory_equal(seg.dst.addr, ((uint8_t[16]){ 127, 0, 0, 2 }), 16);
	assert_int_equal(seg.payload_len, REQ_LEN);
	/* only one end mapped is not an IPv4 connection: left as IPv6 */
	build(&p, one);
	assert_int_equal(decode_pb(&p, L_RAW, &seg), DECODE_TCP);
	assert_int_equal(seg.family, 6);
	assert_memory_equal(seg.src.addr, MAPPED_SRC, 16);
	assert_memory_equal(seg.dst.addr, IP6_DST, 16);
}

static void test_tcp_header(void **state)
{
	static const struct layer l[] = { IP4, REQ, POKE(33, 0xc7), END };
	struct segment seg;
	struct pb p;

	build(&p, l);
	assert_int_equal(decode_pb(&p, L_RAW, &seg), DECODE_TCP);
	assert_int_equal(seg.tcp_flags, TCP_SYN | TCP_FIN | TCP_RST | 0xc0);
	pb_data(&p)[32] = 0x90;  /* 36 bytes: the first 16 request bytes become options */
	assert_int_equal(decode_pb(&p, L_RAW, &seg), DECODE_TCP);
	assert_int_equal(seg.payload_len, REQ_LEN - 16);
	assert_int_equal(seg.seg_len, REQ_LEN - 16);
	assert_ptr_equal(seg.payload, pb_data(&p) + 56);
	pb_data(&p)[32] = 0xf0;  /* 60 bytes: past the end */
	assert_int_equal(decode_pb(&p, L_RAW, &seg), DECODE_MALFORMED);
}

static void test_links_supported(void **state)
{
	static const int yes[] = { 0, 1, 9, 12, 14, 50, 51, 101, 104, 105, 108, 113, 127, 192, 228,
				   229, 239, 276 };
	static const int no[] = { -1, 2, 6, 10, 147, 220, 1000 };
	static const struct layer l[] = { IP4, REQ, END };
	struct segment seg;
	struct pb p;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(decode_link_supported(yes[i]));
	build(&p, l);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_false(decode_link_supported(no[i]));
		assert_int_equal(decode_pb(&p, no[i], &seg), DECODE_UNSUPPORTED);
		assert_int_equal(seg.undecoded, DECODE_KIND_LINK << 24 | (no[i] & 0xffffff));
	}
}

/* What the decoder could not look into is named by kind, and said so. */
static void test_undecoded_kinds(void **state)
{
	static const struct {
		struct layer l[8];
		int linktype;
		const char *name;
	} cases[] = {
		{ { IP4, REQ, END }, 10, "link type 10" },
		{ { ETH(0x88b5), BYTES(46), END }, L_EN10MB, "ethertype 0x88b5" },
		{ { OIP4(50), BYTES(40), END }, L_RAW, "IP protocol 50 (ESP, encrypted)" },
		{ { OIP4(47), GRE(0, 0x1234, 0), BYTES(20), END }, L_RAW, "GRE protocol 0x1234" },
		{ { OIP4(47), GRE(0x4000, 0x0800, 0), BYTES(20), END }, L_RAW,
		  "GRE with source routing" },
		{ { ETH(0x8864), PPPOE, PPP(0xfd, 0), BYTES(8), END }, L_EN10MB,
		  "PPP protocol 0x00fd (compressed)" },
		{ { O4, UDP(1, 6081), HEAD(8, 0x00001234), BYTES(20), END }, L_EN10MB,
		  "Geneve payload type 0x1234" },
	};
	char name[80];
	struct segment seg;
	struct pb p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(&p, cases[i].l);
		assert_int_equal(decode_pb(&p, cases[i].linktype, &seg), DECODE_UNSUPPORTED);
		decode_kind_name(seg.undecoded, name, sizeof(name));
		assert_string_equal(name, cases[i].name);
	}
}

/* Equal inner packets in different VLANs, VNIs or GRE keys are in different zones. */
static void test_zones(void **state)
{
	static const struct layer plain[] = { ETH(0x0800), IP4, REQ, END };
	static const struct layer vlan[] = { ETH(0x8100), TAG(0x0800), IP4, REQ, END };
	static const struct layer vx[] = { O4, UDP(5, 4789), VXLAN(1), ETH(0x0800), IP4, REQ,
					   END };
	static const struct layer gre[] = { OIP4(47), GRE(0x2000, 0x0800, 1), IP4, REQ, END };
	struct segment seg;
	struct pb p;
	uint64_t a, b;

	build(&p, plain);
	assert_int_equal(decode_pb(&p, L_EN10MB, &seg), DECODE_TCP);
	assert_int_equal(seg.zone, 0);
	build(&p, vlan);
	assert_int_equal(decode_pb(&p, L_EN10MB, &seg), DECODE_TCP);
	a = seg.zone;
	pb_data(&p)[15] = 101;  /* VLAN 101 */
	assert_int_equal(decode_pb(&p, L_EN10MB, &seg), DECODE_TCP);
	assert_true(a && seg.zone && seg.zone != a);
	pb_data(&p)[14] = 0xe0;  /* the priority bits are not part of the id */
	b = seg.zone;
	assert_int_equal(decode_pb(&p, L_EN10MB, &seg), DECODE_TCP);
	assert_int_equal(seg.zone, b);
	build(&p, vx);
	assert_int_equal(decode_pb(&p, L_EN10MB, &seg), DECODE_TCP);
	a = seg.zone;
	pb_data(&p)[46] = 2;
	assert_int_equal(decode_pb(&p, L_EN10MB, &seg), DECODE_TCP);
	assert_true(a && seg.zone != a);
	assert_memory_equal(seg.src.addr, IP4_SRC, 4);
	build(&p, gre);
	assert_int_equal(decode_pb(&p, L_RAW, &seg), DECODE_TCP);
	a = seg.zone;
	pb_data(&p)[27] = 2;
	assert_int_equal(decode_pb(&p, L_RAW, &seg), DECODE_TCP);
	assert_true(a && seg.zone != a);
	assert_int_equal(seg.ip_len, 20 + 20 + REQ_LEN);  /* the inner packet's */
}

static void test_empty(void **state)
{
	static const int links[] = { 0, 1, 12, 108, 113, 228, 229, 239, 276 };
	struct packet pkt = { 0 };
	struct segment seg;
	size_t i;

	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		pkt.linktype = links[i];
		assert_int_equal(decode_packet(&pkt, &seg), DECODE_MALFORMED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_dir_kept),
		cmocka_unit_test(test_ether_padding),
		cmocka_unit_test(test_tso),
		cmocka_unit_test(test_snapped),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_tcp_header),
		cmocka_unit_test(test_links_supported),
		cmocka_unit_test(test_undecoded_kinds),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
