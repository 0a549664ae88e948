/* Packet export: a pcapng writer and the packet copies kept for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "output/export.h"
#include "output/json.h"
#include "output/outfile.h"
#include "output/redact.h"

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
#define OUT_FLUSH_AT (256u * 1024u)  /* blocks are written in batches of about this size */
#define MASK_BYTE '*'

struct export_pkt {
	struct export_pkt *next;
	uint64_t ts_ns, seq;
	uint32_t caplen, wirelen, payload;
	int linktype;
	enum direction dir;
	uint8_t data[];
};

struct export {
	int fd;
	struct json_buf out;                   /* whole blocks not yet written */
	uint64_t out_packets;                  /* Enhanced Packet Blocks among them */
	uint64_t file_bytes;                   /* bytes in the file */
	bool out_failed;                       /* a partial block could not be cut off */
	unsigned idbs_in_file;
	int linktypes[MAX_LINKTYPES];
	unsigned n_linktypes;
	struct redact_list redact;             /* header names whose values are masked */
	export_failed_fn failed;
	void *failed_ctx;
	const struct packet *cur;
	uint8_t *cur_copy;                     /* the current packet, masked; NULL: unmasked */
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

/* Appends p[0..n) and its padding to 4 bytes (a lack of memory sets out.failed). */
static void put(struct export *e, const void *p, size_t n)
{
	static const char zero[4];

	json_raw(&e->out, p, n);
	json_raw(&e->out, zero, pad4(n) - n);
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

static uint32_t read_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/*
 * After a short write of done bytes: keeps the whole blocks that made it (cutting a partial
 * one off the file), counts the packets that did not, and forgets the interfaces whose
 * description did not, so that they are described again before their next packet.
 */
static void keep_whole_blocks(struct export *e, size_t done)
{
	const uint8_t *b = (const uint8_t *)e->out.data;
	size_t at = 0, len;
	uint64_t packets = 0;
	unsigned idbs = 0;

	while (e->out.len - at >= 8 && (len = read_u32(b + at + 4)) <= done - at) {
		packets += read_u32(b + at) == BT_EPB;
		idbs += read_u32(b + at) == BT_IDB;
		at += len;
	}
	if (done > at && ftruncate(e->fd, (off_t)(e->file_bytes + at)))
		e->out_failed = true;
	else if (done > at)
		lseek(e->fd, (off_t)(e->file_bytes + at), SEEK_SET);
	e->file_bytes += at;
	e->st.packets += packets;
	e->st.not_written += e->out_packets - packets;
	e->idbs_in_file += idbs;
	e->n_linktypes = e->idbs_in_file;
}

/* Writes the buffered blocks. A failure is counted and, the first time, reported. */
static void out_flush(struct export *e)
{
	size_t done = 0;
	int err = EIO;

	if (!e->out.len)
		return;
	if (!e->out_failed)
		done = outfile_write(e->fd, e->out.data, e->out.len, &err);
	if (done == e->out.len) {
		e->file_bytes += done;
		e->st.packets += e->out_packets;
		e->idbs_in_file = e->n_linktypes;
	} else {
		e->st.write_errors++;
		keep_whole_blocks(e, done);
		if (!e->st.first_error && e->failed)
			e->failed(e->failed_ctx, err);
		if (!e->st.first_error)
			e->st.first_error = err;
	}
	e->out.len = 0;
	e->out_packets = 0;
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

/* Where the next block starts in the output, after the section header if the file has none. */
static size_t begin_block(struct export *e)
{
	if (!e->file_bytes && !e->out.len)
		write_shb(e);
	return e->out.len;
}

/* Keeps the block begun at mark; false, and the block taken back, when memory ran out. */
static bool end_block(struct export *e, size_t mark)
{
	if (!e->out.failed)
		return true;
	e->out.len = mark;
	e->out.failed = 0;
	return false;
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
	size_t mark;

	for (i = 0; i < e->n_linktypes; i++)
		if (e->linktypes[i] == linktype)
			return (int)i;
	if (i == MAX_LINKTYPES)
		return -1;
	mark = begin_block(e);
	put_u32(e, BT_IDB);
	put_u32(e, len);
	put(e, lt, 4);
	put_u32(e, 0);  /* snaplen: no limit */
	put_opt(e, OPT_IF_TSRESOL, &tsresol, 1);
	put_opt(e, OPT_END, NULL, 0);
	put_u32(e, len);
	if (!end_block(e, mark))
		return -1;
	e->linktypes[e->n_linktypes++] = linktype;
	return (int)i;
}

static bool written_recently(const struct export *e, uint64_t seq)
{
	for (unsigned i = 0; i < RECENT; i++)
		if (e->recent[i] == seq)
			return true;
	return false;
}

/* One Enhanced Packet Block with n NUL-separated comments from comments. */
static void write_epb(struct export *e, const struct export_pkt *p, const uint8_t *data,
		      const char *comments, unsigned n)
{
	uint32_t flags = p->dir == DIR_INGRESS ? 1 : p->dir == DIR_EGRESS ? 2 : 0;
	uint32_t len = 32 + pad4(p->caplen) + (uint32_t)opt_size(4) + 4;
	const char *c = comments;
	size_t mark;
	int ifid;

	if (written_recently(e, p->seq))
		return;
	for (unsigned i = 0; i < n; i++, c += strlen(c) + 1)
		len += (uint32_t)opt_size(strlen(c));
	ifid = interface_of(e, p->linktype);
	mark = begin_block(e);
	if (ifid < 0) {
		e->st.not_written++;
		return;
	}
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
	if (!end_block(e, mark)) {
		e->st.not_written++;
		return;
	}
	e->recent[e->recent_next++ % RECENT] = p->seq;
	e->out_packets++;
	if (e->out.len >= OUT_FLUSH_AT)
		out_flush(e);
}

struct export *export_new(int fd, const struct export_options *opt)
{
	struct export *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->fd = fd;
	if (redact_init(&e->redact, opt ? opt->redact : NULL)) {
		free(e);
		return NULL;
	}
	if (opt) {
		e->failed = opt->write_failed;
		e->failed_ctx = opt->write_failed_ctx;
	}
	json_init(&e->out);
	begin_block(e);
	out_flush(e);
	return e;
}

void export_begin(struct export *e, const struct packet *pkt, uint32_t payload_len)
{
	e->cur_payload = payload_len;
	if (e->cur == pkt)
		return;
	if (e->cur)
		export_end(e, e->cur);
	e->cur = pkt;
	e->seq++;
	e->cur_len = 0;
	e->cur_n = 0;
}

/* The current packet's bytes: its masked copy when header values were masked in it. */
static const uint8_t *cur_data(const struct export *e)
{
	return e->cur_copy ? e->cur_copy : e->cur->data;
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

void export_end(struct export *e, const struct packet *pkt)
{
	struct export_pkt h;

	if (!e->cur || e->cur != pkt)
		return;
	if (e->cur_n) {
		cur_header(e, &h);
		write_epb(e, &h, cur_data(e), e->cur_comments, e->cur_n);
	}
	e->cur = NULL;
	free(e->cur_copy);
	e->cur_copy = NULL;
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
	memcpy(p->data, cur_data(e), e->cur->caplen);
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

enum scan_state { SCAN_LINE, SCAN_NAME, SCAN_VALUE, SCAN_REST, SCAN_AFTER_VALUE };

/* Moves sc past byte c; true when c is part of a value to mask. */
static bool scan_byte(const struct export *e, struct export_scan *sc, uint8_t c)
{
	switch (sc->state) {
	case SCAN_NAME:
		if (c == ':')
			sc->state = redact_has(&e->redact, sc->name, sc->name_len) ? SCAN_VALUE : SCAN_REST;
		else if (c == '\n')
			sc->state = SCAN_LINE;
		else if (sc->name_len < sizeof(sc->name))
			sc->name[sc->name_len++] = (char)c;
		else
			sc->state = SCAN_REST;
		return false;
	case SCAN_VALUE:
		if (c == '\n')
			sc->state = SCAN_AFTER_VALUE;
		return c != '\r' && c != '\n' && c != ' ' && c != '\t';
	case SCAN_REST:
		if (c == '\n')
			sc->state = SCAN_LINE;
		return false;
	default:
		/* A line that starts with white space continues the field before it. */
		if (sc->state == SCAN_AFTER_VALUE && (c == ' ' || c == '\t'))
			sc->state = SCAN_VALUE;
		else if (c == '\n')
			sc->state = SCAN_LINE;
		else if (c != '\r') {
			sc->state = SCAN_NAME;
			sc->name[0] = (char)c;
			sc->name_len = 1;
		}
		return false;
	}
}

/* Masks byte at of the current packet, in a copy made at the first masked byte. */
static void mask_current(struct export *e, size_t at)
{
	if (!e->cur_copy) {
		e->cur_copy = malloc(e->cur->caplen);
		if (!e->cur_copy)
			return;
		memcpy(e->cur_copy, e->cur->data, e->cur->caplen);
	}
	e->cur_copy[at] = MASK_BYTE;
}

void export_redact(struct export *e, struct export_scan *sc, const uint8_t *bytes, uint32_t len)
{
	uintptr_t start = e->cur ? (uintptr_t)e->cur->data : 0, at = (uintptr_t)bytes - start;
	bool in_cur = start && (uintptr_t)bytes >= start && len <= e->cur->caplen &&
		      at <= e->cur->caplen - len;

	if (!redact_any(&e->redact))
		return;
	for (uint32_t i = 0; i < len; i++)
		if (scan_byte(e, sc, bytes[i]) && in_cur)
			mask_current(e, at + i);
	/* Bytes of an older packet (reassembled late) were never kept: nothing to mask. */
}

void export_redact_gap(struct export_scan *sc)
{
	*sc = (struct export_scan){ 0 };
}

const struct export_stats *export_get_stats(const struct export *e)
{
	return &e->st;
}

int export_finish(struct export *e)
{
	if (!e || e->fd < 0)
		return 0;
	out_flush(e);
	if (close(e->fd) && !e->st.write_errors) {
		e->st.write_errors++;
		if (e->failed)
			e->failed(e->failed_ctx, errno);
	}
	e->fd = -1;
	return e->st.write_errors ? -EIO : 0;
}

void export_free(struct export *e)
{
	if (!e)
		return;
	export_finish(e);
	json_free(&e->out);
	redact_release(&e->redact);
	free(e->cur_copy);
	free(e);
}
