/* JSON output buffer: growth, string escaping, UTF-8 repair, number and terminal formatting. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "output/json.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define JSON_INITIAL_CAP (64u * 1024u)

static const char hex_digits[] = "0123456789abcdef";

/* Bytes json_str copies unchanged: printable ASCII except '"' and '\\'. */
static int json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void json_init(struct json_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
}

void json_free(struct json_buf *b)
{
	free(b->data);
	json_init(b);
}

/* Empties b, keeping its memory, and clears the failed flag. */
void json_reset(struct json_buf *b)
{
	b->len = 0;
	b->failed = 0;
}

/* Makes room for n more bytes; 0, or -1 (failed set) when memory runs out. */
static int json_reserve(struct json_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	if (n <= b->cap - b->len)
		return 0;
	cap = b->cap ? b->cap : JSON_INITIAL_CAP;
	while (n > cap - b->len) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		goto fail;
	b->data = p;
	b->cap = cap;
	return 0;
fail:
	b->failed = 1;
	return -1;
}

void json_raw(struct json_buf *b, const char *s, size_t len)
{
	if (json_reserve(b, len))
		return;
	if (len)
		memcpy(b->data + b->len, s, len);
	b->len += len;
}

void json_lit(struct json_buf *b, const char *s)
{
	json_raw(b, s, strlen(s));
}

/*
 * Length of the UTF-8 sequence at s[0..len) (len >= 1, s[0] >= 0x80): n > 0 when the first
 * n bytes are one valid scalar value, -n when they are a maximal invalid subpart (Unicode's
 * "maximal subpart" rule: an overlong or surrogate lead, a stray continuation byte, or a
 * prefix of a valid sequence cut short), each to be replaced by one U+FFFD.
 */
static int utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	int need, i;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;  /* no overlongs */
		else if (c == 0xed)
			hi = 0x9f;  /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;  /* no overlongs */
		else if (c == 0xf4)
			hi = 0x8f;  /* nothing above U+10FFFF */
	} else {
		return -1;
	}
	if (len < 2 || s[1] < lo || s[1] > hi)
		return -1;
	for (i = 2; i < need; i++)
		if ((size_t)i >= len || (s[i] & 0xc0) != 0x80)
			return -i;
	return need;
}

static char *json_escape_ascii(char *o, unsigned char c)
{
	*o++ = '\\';
	switch (c) {
	case '"': *o++ = '"'; break;
	case '\\': *o++ = '\\'; break;
	case '\n': *o++ = 'n'; break;
	case '\r': *o++ = 'r'; break;
	case '\t': *o++ = 't'; break;
	case '\b': *o++ = 'b'; break;
	case '\f': *o++ = 'f'; break;
	default:
		memcpy(o, "u00", 3);
		o[3] = hex_digits[c >> 4];
		o[4] = hex_digits[c & 15];
		o += 5;
	}
	return o;
}

#define BYTES(c) (0x0101010101010101ull * (c))

/* Nonzero when one of the eight bytes of w is not json_plain (exact for "any", not "which"). */
static uint64_t json_word_special(uint64_t w)
{
	uint64_t t = (w - BYTES(0x20)) & ~w;              /* a byte below 0x20 */

	t |= ((w ^ BYTES('"')) - BYTES(1)) & ~(w ^ BYTES('"'));
	t |= ((w ^ BYTES('\\')) - BYTES(1)) & ~(w ^ BYTES('\\'));
	t |= ((w ^ BYTES(0x7f)) - BYTES(1)) & ~(w ^ BYTES(0x7f));
	return (t | w) & BYTES(0x80);                     /* or any byte from 0x80 up */
}

/* Index of the first byte at or after i that is not json_plain, or len. */
static size_t json_plain_run(const unsigned char *u, size_t i, size_t len)
{
	uint64_t w;

#ifdef __SSE2__
	/* Sixteen bytes a step: as signed bytes, 0x80 and up are below 0x20 too. */
	const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\'), del = _mm_set1_epi8(0x7f);
	__m128i v, bad;
	int mask;

	while (len - i >= 16) {
		v = _mm_loadu_si128((const __m128i *)(u + i));
		bad = _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, quote));
		bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(v, bslash),
						     _mm_cmpeq_epi8(v, del)));
		mask = _mm_movemask_epi8(bad);
		if (mask)
			return i + (size_t)__builtin_ctz((unsigned)mask);
		i += 16;
	}
#endif
	while (len - i >= 8) {
		memcpy(&w, u + i, 8);
		if (json_word_special(w))
			break;
		i += 8;
	}
	while (i < len && json_plain(u[i]))
		i++;
	return i;
}

/* Worst case: every byte becomes \u00XX (6 bytes); U+FFFD takes 3 for at least 1. */
void json_str(struct json_buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run;
	char *o;
	int n;

	if (len > (SIZE_MAX - 2) / 6)
		b->failed = 1;
	if (json_reserve(b, len * 6 + 2))
		return;
	o = b->data + b->len;
	*o++ = '"';
	while (i < len) {
		run = i;
		i = json_plain_run(u, i, len);
		memcpy(o, u + run, i - run);
		o += i - run;
		if (i == len)
			break;
		if (u[i] < 0x80) {
			o = json_escape_ascii(o, u[i++]);
			continue;
		}
		n = utf8_seq(u + i, len - i);
		if (n > 0) {
			memcpy(o, u + i, (size_t)n);
			o += n;
			i += (size_t)n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i += (size_t)-n;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
}

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Decimal digits of v (v >= 10). */
static unsigned json_digits(uint64_t v)
{
	unsigned n = 2;

	while (v >= 100) {
		if (v < 1000)
			return n + 1;
		if (v < 10000)
			return n + 2;
		v /= 10000;
		n += 4;
	}
	return v >= 10 ? n : n - 1;
}

void json_u64(struct json_buf *b, uint64_t v)
{
	char *p;
	unsigned n;

	if (json_reserve(b, 20))
		return;
	if (v < 10) {
		b->data[b->len++] = (char)('0' + v);
		return;
	}
	n = json_digits(v);
	p = b->data + b->len + n;
	b->len += n;
	while (v >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + (v % 100) * 2, 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(p - 2, digit_pairs + v * 2, 2);
	else
		p[-1] = (char)('0' + v);
}

void json_i64(struct json_buf *b, int64_t v)
{
	if (v < 0) {
		json_raw(b, "-", 1);
		json_u64(b, 0 - (uint64_t)v);
		return;
	}
	json_u64(b, (uint64_t)v);
}

/*
 * True for a valid sequence a terminal must not interpret: C1 controls (U+0080..U+009F),
 * U+2028/U+2029 and the bidirectional controls that can reorder what is shown (U+061C,
 * U+200E/F, U+202A..U+202E, U+2066..U+2069).
 */
static int term_unsafe_seq(const unsigned char *s, int n)
{
	if (n == 2)
		return (s[0] == 0xc2 && s[1] <= 0x9f) || (s[0] == 0xd8 && s[1] == 0x9c);
	if (n != 3 || s[0] != 0xe2)
		return 0;
	if (s[1] == 0x80)
		return s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xa8 && s[2] <= 0xae);
	return s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9;
}

static char *term_hex(char *o, unsigned char c)
{
	o[0] = '\\';
	o[1] = 'x';
	o[2] = hex_digits[c >> 4];
	o[3] = hex_digits[c & 15];
	return o + 4;
}

/* Worst case: every byte becomes \xHH (4 bytes). */
void json_term_safe(struct json_buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	char *o;
	int n, k;

	if (len > SIZE_MAX / 4)
		b->failed = 1;
	if (json_reserve(b, len * 4))
		return;
	o = b->data + b->len;
	while (i < len) {
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			*o++ = (char)u[i++];
			continue;
		}
		n = u[i] < 0x80 ? -1 : utf8_seq(u + i, len - i);
		if (n > 0 && !term_unsafe_seq(u + i, n)) {
			memcpy(o, u + i, (size_t)n);
			o += n;
			i += (size_t)n;
			continue;
		}
		for (k = n > 0 ? n : -n; k > 0; k--)
			o = term_hex(o, u[i++]);
	}
	b->len = (size_t)(o - b->data);
}

/* Decimal text of each byte value, NUL-padded to four bytes. */
static const char byte_text[256][4] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
	"17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
	"32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46",
	"47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61",
	"62", "63", "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76",
	"77", "78", "79", "80", "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91",
	"92", "93", "94", "95", "96", "97", "98", "99", "100", "101", "102", "103", "104", "105",
	"106", "107", "108", "109", "110", "111", "112", "113", "114", "115", "116", "117", "118",
	"119", "120", "121", "122", "123", "124", "125", "126", "127", "128", "129", "130", "131",
	"132", "133", "134", "135", "136", "137", "138", "139", "140", "141", "142", "143", "144",
	"145", "146", "147", "148", "149", "150", "151", "152", "153", "154", "155", "156", "157",
	"158", "159", "160", "161", "162", "163", "164", "165", "166", "167", "168", "169", "170",
	"171", "172", "173", "174", "175", "176", "177", "178", "179", "180", "181", "182", "183",
	"184", "185", "186", "187", "188", "189", "190", "191", "192", "193", "194", "195", "196",
	"197", "198", "199", "200", "201", "202", "203", "204", "205", "206", "207", "208", "209",
	"210", "211", "212", "213", "214", "215", "216", "217", "218", "219", "220", "221", "222",
	"223", "224", "225", "226", "227", "228", "229", "230", "231", "232", "233", "234", "235",
	"236", "237", "238", "239", "240", "241", "242", "243", "244", "245", "246", "247", "248",
	"249", "250", "251", "252", "253", "254", "255",
};

static void put_ipv4(struct json_buf *b, const uint8_t *a)
{
	char text[16];
	size_t n = 0;
	int i;

	for (i = 0; i < 4; i++) {
		memcpy(text + n, byte_text[a[i]], 4);
		n += a[i] >= 100 ? 3 : a[i] >= 10 ? 2 : 1;
		text[n++] = '.';
	}
	json_raw(b, text, n - 1);
}

void json_ip(struct json_buf *b, uint8_t family, const uint8_t *addr)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	char text[INET6_ADDRSTRLEN];

	if (family == 4)
		put_ipv4(b, addr);
	else if (family == 6 && !memcmp(addr, mapped, sizeof(mapped)))
		put_ipv4(b, addr + 12);
	else if (family == 6 && inet_ntop(AF_INET6, addr, text, sizeof(text)))
		json_lit(b, text);
}
