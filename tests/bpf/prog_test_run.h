/* Shared by prog_test_run.c (the harness) and prog_test_cases.c (the canned packets). */
#ifndef HTTPEEK_PROG_TEST_RUN_H
#define HTTPEEK_PROG_TEST_RUN_H

#include <stddef.h>
#include "httpeek.skel.h"

#define ETH_LEN 14
#define PKT_MAX 3600  /* BPF_PROG_TEST_RUN takes up to a page minus skb overhead */
#define ANY (-1)

struct pkt {
	unsigned char b[PKT_MAX];
	size_t len;
};

/* What the ring buffer returned since the last drain. */
struct seen {
	int records;
	long cap_len;   /* of the last packet record */
	long wire_len;
	long off;       /* its payload_off, payload_span and flags */
	long span;
	int flags;
	int bad;        /* records that are not well-formed packet records */
};

struct knobs {
	unsigned max_head;  /* 0: 65536 */
	unsigned body_bytes;
	unsigned long long wakeup_bytes;
	struct {
		unsigned short port;
		unsigned char src_family, src_prefix, dst_family, dst_prefix;
		const char *src, *dst;
	} f;
};

struct loaded {
	struct httpeek_bpf *skel;
	struct ring_buffer *rb;
};

#define GET "GET /index.html HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\n"
#define RESP "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
#define POST(p, b) "POST " p " HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\n" b
#define S(x) x, sizeof(x) - 1

extern int failures;
extern int quiet;  /* no "ok" line per packet */

void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void build(struct pkt *p, int ver, const char *src, const char *dst, unsigned sport,
	   unsigned dport, int proto, int doff, int tcp_flags, const char *payload, size_t plen);
void tcp4(struct pkt *p, const char *payload, size_t plen);
void tcp6(struct pkt *p, const char *payload, size_t plen);
int load(struct loaded *l, const struct knobs *k, int log);
void unload(struct loaded *l);
int run_one(const char *name, struct bpf_program *prog, const struct pkt *p, int repeat,
	    __u32 *ns);
void expect(struct loaded *l, const char *name, const struct pkt *p, int want, long cap);
void expect_last(struct loaded *l, const char *name, const struct pkt *p, int want, long cap,
		 long off, long span, int flags);

void http_cases(struct loaded *l);
void ignored_cases(struct loaded *l);
void knob_cases(struct loaded *l);
void filter_cases(void);
void costs(void);

#endif
