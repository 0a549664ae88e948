/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HTTP's token rules, once for the kernel's framer and user space's parser and writers: what
 * a token character is (RFC 9110 tchar), the longest method either side accepts, and whether
 * a stream's next bytes start a message.
 */
#ifndef HTTPEEK_FRAME_TOKEN_H
#define HTTPEEK_FRAME_TOKEN_H

#ifndef __bpf__
#include <linux/types.h>  /* __u8 .. __u64; BPF programs have them from vmlinux_min.h */
#include <sys/cdefs.h>    /* __always_inline */
#endif

#define HTTP_TOKEN_MAX 32      /* longest method, in the kernel and in user space */
/* Bytes that decide whether a stream's next bytes start a message: up to four line ends, a
 * token of HTTP_TOKEN_MAX bytes and the blank after it. */
#define HTTP_START_PROBE 40

/* RFC 9110 tchar as bits: ALPHA, DIGIT and !#$%&'*+-.^_`|~ (bit c of LO for c < 64, of HI
 * for 64 <= c < 128). */
#define HTTP_TCHAR_LO 0x03ff6cfa00000000ull
#define HTTP_TCHAR_HI 0x57ffffffc7fffffeull

static __always_inline int http_is_tchar(__u8 c)
{
	__u64 w = c < 64 ? HTTP_TCHAR_LO : c < 128 ? HTTP_TCHAR_HI : 0;

	return (w >> (c & 63)) & 1;
}

static __always_inline __u8 http_lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static __always_inline int http_ows(__u8 c)
{
	return c == ' ' || c == '\t';
}

static __always_inline int http_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

/*
 * The n bytes of b (n <= HTTP_START_PROBE) start a message: CR or LF at most 4 times, then
 * a token and SP, or "HTTP/".
 */
static __always_inline int http_starts_message(const __u8 *b, __u32 n)
{
	__u32 i = 0, t = 0, http = 1;

	for (int k = 0; k < HTTP_START_PROBE; k++) {
		__u8 c;

		if ((__u32)k >= n)
			return 0;
		c = b[k];
		if (t == 0 && i < 4 && (c == '\r' || c == '\n')) {
			i++;
			continue;
		}
		if (http && t == 4 && c == '/')
			return 1;
		if (t < 4 && http_lower(c) != (__u8)(0x70747468u >> (t * 8)))
			http = 0;
		if (c == ' ')
			return t > 0;
		if (!http_is_tchar(c) || t >= HTTP_TOKEN_MAX)
			return 0;
		t++;
	}
	return 0;
}

#endif
