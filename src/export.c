/* Packet export: a pcapng writer and the packet copies kept for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "export.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_TSRESOL 9
#define OPT_EPB_FLAGS 2
#define LINKTYPE_RAW 101
#define MAX_LINKTYPES 16
#define MAX_CUR_COMMENTS 4096u
#define RECENT 64u  /* packets remembered as written, so that none is written twice */

struct export_pkt {
	struct export_pkt *next;
	uint64_t ts_ns, seq;
	uint32_t caplen, wirelen, payload;
	int linktype;
	enum direction dir;
	uint8_t data[];
};

struct export {
	FILE *f;
	int linktypes[MAX_LINKTYPES];
	unsigned n_linktypes;
	const struct packet *cur;
	uint64_t seq;                          /* number of the current packet */
	uint64_t recent[RECENT];
	unsigned recent_next;
	uint32_t cur_payload;
	char cur_comments[MAX_CUR_COMMENTS];   /* NUL-separated */
	size_t cur_len;
	unsigned cur_n;
	uint64_t kept_bytes;
	struct export_stats st;
};

static uint32_t pad4(size_t n)
{
	return (uint32_t)((n + 3) & ~(size_t)3);
}

static void put(struct export *e, const void *p, size_t n)
{
	static const uint8_t zero[4];

	if (n && fwrite(p, 1, n, e->f) != n)
		e->st.write_errors++;
	if (pad4(n) != n && fwrite(zero, 1, pad4(n) - n, e->f) != pad4(n) - n)
		e->st.write_errors++;
}

static void put_u32(struct export *e, uint32_t v)
{
	put(e, &v, 4);
}

/* One option: code, length, value padded to 4 bytes. */
static void put_opt(struct export *e, uint16_t code, const void *v, size_t len)
{
	uint16_t h[2] = { code, (uint16_t)len };

	put(e, h, 4);
	put(e, v, len);
}

static size_t opt_size(size_t len)
{
	return 4 + pad4(len);
}

static void write_shb(struct export *e)
{
	static const char app[] = "httpeek";
	uint32_t len = 28 + (uint32_t)opt_size(sizeof(app) - 1) + 4;
	uint16_t version[2] = { 1, 0 };
	int64_t section_len = -1;

	put_u32(e, BT_SHB);
	put_u32(e, len);
	put_u32(e, BYTE_ORDER_MAGIC);
	put(e, version, 4);
	put(e, &section_len, 8);
	put_opt(e, OPT_SHB_USERAPPL, app, sizeof(app) - 1);
	put_opt(e, OPT_END, NULL, 0);
	put_u32(e, len);
}

/* DLT_ values libpcap hands out differ from the LINKTYPE_ values files hold for raw IP. */
static int file_linktype(int dlt)
{
	return dlt == 12 || dlt == 14 ? LINKTYPE_RAW : dlt;
}

/* The interface id of linktype, writing its Interface Description Block the first time. */
static int interface_of(struct export *e, int linktype)
{
	uint8_t tsresol = 9;
	uint16_t lt[2] = { (uint16_t)file_linktype(linktype), 0 };
	uint32_t len = 20 + (uint32_t)opt_size(1) + 4;
	unsigned i;

	for (i = 0; i < e->n_linktypes; i++)
		if (e->linktypes[i] == linktype)
			return (int)i;
	if (i == MAX_LINKTYPES)
		return -1;
	put_u32(e, BT_IDB);
	put_u32(e, len);
	put(e, lt, 4);
	put_u32(e, 0);  /* snaplen: no limit */
	put_opt(e, OPT_IF_TSRESOL, &tsresol, 1);
	put_opt(e, OPT_END, NULL, 0);
	put_u32(e, len);
	e->linktypes[e->n_linktypes++] = linktype;
	return (int)i;
}

/* One Enhanced Packet Block with n NUL-separated comments from comments. */
static void write_epb(struct export *e, const struct export_pkt *p, const uint8_t *data,
		      const char *comments, unsigned n)
{
	int ifid = interface_of(e, p->linktype);
	uint32_t flags = p->dir == DIR_INGRESS ? 1 : p->dir == DIR_EGRESS ? 2 : 0;
	uint32_t len = 32 + pad4(p->caplen) + (uint32_t)opt_size(4) + 4;
	const char *c = comments;

	for (unsigned i = 0; i < RECENT; i++)
		if (e->recent[i] == p->seq)
			return;
	if (ifid < 0) {
		e->st.write_errors++;
		return;
	}
	e->recent[e->recent_next++ % RECENT] = p->seq;
	for (unsigned i = 0; i < n; i++, c += strlen(c) + 1)
		len += (uint32_t)opt_size(strlen(c));
	put_u32(e, BT_EPB);
	put_u32(e, len);
	put_u32(e, (uint32_t)ifid);
	put_u32(e, (uint32_t)(p->ts_ns >> 32));
	put_u32(e, (uint32_t)p->ts_ns);
	put_u32(e, p->caplen);
	put_u32(e, p->wirelen);
	put(e, data, p->caplen);
	for (c = comments; n; n--, c += strlen(c) + 1)
		put_opt(e, OPT_COMMENT, c, strlen(c));
	put_opt(e, OPT_EPB_FLAGS, &flags, 4);
	put_opt(e, OPT_END, NULL, 0);
	put_u32(e, len);
	e->st.packets++;
}

int export_open(struct export **out, const char *path)
{
	struct export *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return -ENOMEM;
	e->f = fopen(path, "wb");
	if (!e->f) {
		err = -errno;
		fprintf(stderr, "httpeek: failed to create %s: %s\n", path, strerror(errno));
		free(e);
		return err;
	}
	write_shb(e);
	*out = e;
	return 0;
}

void export_begin(struct export *e, const struct packet *pkt, uint32_t payload_len)
{
	e->cur = pkt;
	e->seq++;
	e->cur_payload = payload_len;
	e->cur_len = 0;
	e->cur_n = 0;
}

static void cur_header(const struct export *e, struct export_pkt *h)
{
	*h = (struct export_pkt){
		.ts_ns = e->cur->ts_ns,
		.seq = e->seq,
		.caplen = e->cur->caplen,
		.wirelen = e->cur->wirelen < e->cur->caplen ? e->cur->caplen : e->cur->wirelen,
		.payload = e->cur_payload,
		.linktype = e->cur->linktype,
		.dir = e->cur->dir,
	};
}

void export_end(struct export *e)
{
	struct export_pkt h;

	if (e->cur && e->cur_n) {
		cur_header(e, &h);
		write_epb(e, &h, e->cur->data, e->cur_comments, e->cur_n);
	}
	e->cur = NULL;
}

static void pop_front(struct export *e, struct export_list *l)
{
	struct export_pkt *p = l->head;

	l->head = p->next;
	if (!l->head)
		l->tail = NULL;
	l->payload -= p->payload;
	l->bytes -= sizeof(*p) + p->caplen;
	e->kept_bytes -= sizeof(*p) + p->caplen;
	free(p);
}

static void push_back(struct export_list *l, struct export_pkt *p)
{
	p->next = NULL;
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	l->payload += p->payload;
	l->bytes += sizeof(*p) + p->caplen;
}

static struct export_pkt *copy_current(struct export *e)
{
	struct export_pkt *p;

	if (!e->cur || e->kept_bytes + sizeof(*p) + e->cur->caplen > EXPORT_MAX_KEPT_BYTES) {
		e->st.kept_dropped += e->cur != NULL;
		return NULL;
	}
	p = malloc(sizeof(*p) + e->cur->caplen);
	if (!p) {
		e->st.kept_dropped++;
		return NULL;
	}
	cur_header(e, p);
	memcpy(p->data, e->cur->data, e->cur->caplen);
	e->kept_bytes += sizeof(*p) + p->caplen;
	return p;
}

void export_keep(struct export *e, struct export_list *l, uint32_t max_payload)
{
	struct export_pkt *p = copy_current(e);

	if (!p)
		return;
	push_back(l, p);
	if (l->payload > max_payload)
		export_list_clear(e, l);
}

/* Drops the oldest packets of l not needed to cover head_len bytes with the current one. */
static void trim_to_head(struct export *e, struct export_list *l, uint32_t head_len)
{
	uint64_t cur = e->cur ? e->cur_payload : 0;

	while (l->head && l->payload - l->head->payload + cur >= head_len)
		pop_front(e, l);
}

void export_take(struct export *e, struct export_list *l, uint32_t head_len,
		 struct export_list *to)
{
	struct export_pkt *p;

	trim_to_head(e, l, head_len);
	while ((p = l->head)) {
		l->head = p->next;
		push_back(to, p);
	}
	*l = (struct export_list){ 0 };
	p = copy_current(e);
	if (p)
		push_back(to, p);
}

void export_write_list(struct export *e, struct export_list *l, const char *comment)
{
	for (struct export_pkt *p = l->head; p; p = p->next) {
		write_epb(e, p, p->data, comment, 1);
		e->st.comments++;
	}
	export_list_clear(e, l);
}

void export_message(struct export *e, struct export_list *l, uint32_t head_len,
		    const char *comment)
{
	size_t n = strlen(comment) + 1;

	trim_to_head(e, l, head_len);
	export_write_list(e, l, comment);
	if (!e->cur || e->cur_len + n > sizeof(e->cur_comments))
		return;
	memcpy(e->cur_comments + e->cur_len, comment, n);
	e->cur_len += n;
	e->cur_n++;
	e->st.comments++;
}

void export_list_clear(struct export *e, struct export_list *l)
{
	while (l->head)
		pop_front(e, l);
	*l = (struct export_list){ 0 };
}

const struct export_stats *export_get_stats(const struct export *e)
{
	return &e->st;
}

int export_close(struct export *e)
{
	int err;

	if (!e)
		return 0;
	if (fflush(e->f))
		e->st.write_errors++;
	if (fclose(e->f))
		e->st.write_errors++;
	err = e->st.write_errors ? -EIO : 0;
	free(e);
	return err;
}
