/* Events as Tracee-shaped JSON lines, and the writer that buffers both output formats. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "output/event_internal.h"
#include "output/outfile.h"

#define LIT EVENT_LIT
#define EVENT_FLUSH_AT (256u * 1024u)  /* each write costs a system call: few, large ones */
#define TRACEE_HASH_SEED 0x18273645u
#define USER_HZ_NS 10000000ull

/* Everything of one event before the owner-dependent context flags. */
#define EVENT_HEAD(id, name, argc)                                                             \
	"\"eventId\":\"" id "\",\"eventName\":\"" name "\",\"matchedPolicies\":[],\"argsNum\":" \
	argc ",\"returnValue\":0,\"syscall\":\"\",\"stackAddresses\":[],"                      \
	"\"contextFlags\":{\"containerStarted\":"

enum event_kind { KIND_HTTP, KIND_REQUEST, KIND_RESPONSE, KIND_FLOW };

static const struct {
	const char *text;
	size_t len;
} event_heads[] = {
#define HEAD(id, name, argc) { EVENT_HEAD(id, name, argc), sizeof(EVENT_HEAD(id, name, argc)) - 1 }
	[KIND_HTTP] = HEAD("2009", "net_packet_http", "6"),
	[KIND_REQUEST] = HEAD("2010", "net_packet_http_request", "2"),
	[KIND_RESPONSE] = HEAD("2011", "net_packet_http_response", "2"),
	[KIND_FLOW] = HEAD("2100", "net_flow_http", "9"),
#undef HEAD
};

/* MurmurHash3 x86_32, the hash Tracee builds its entity ids with. */
static uint32_t murmur3_32(const uint8_t *p, size_t len, uint32_t h)
{
	uint32_t k;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		k = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
		    (uint32_t)p[i + 3] << 24;
		k *= 0xcc9e2d51u;
		k = k << 15 | k >> 17;
		h ^= k * 0x1b873593u;
		h = h << 13 | h >> 19;
		h = h * 5 + 0xe6546b64u;
	}
	for (k = 0; i < len; i++)
		k |= (uint32_t)p[i] << (8 * (i & 3));
	if (len & 3) {
		k *= 0xcc9e2d51u;
		k = k << 15 | k >> 17;
		h ^= k * 0x1b873593u;
	}
	h ^= (uint32_t)len;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ h >> 16;
}

/* Tracee's HashTaskID: murmur3 of the big-endian id and start time cut to USER_HZ ticks. */
static uint32_t task_entity_id(uint32_t id, uint64_t start_ns)
{
	uint8_t key[12];
	int i;

	start_ns -= start_ns % USER_HZ_NS;
	for (i = 0; i < 4; i++)
		key[i] = (uint8_t)(id >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		key[4 + i] = (uint8_t)(start_ns >> (56 - 8 * i));
	return murmur3_32(key, sizeof(key), TRACEE_HASH_SEED);
}

static void put_cstr(struct json_buf *b, const char *s, size_t max)
{
	json_str(b, s, strnlen(s, max));
}

#define PUT_CSTR(b, field) put_cstr((b), (field), sizeof(field))

/* The owner's fields from threadStartTime through kubernetes. */
static void put_owner(struct json_buf *b, const struct owner *o)
{
	LIT(b, ",\"threadStartTime\":");
	json_u64(b, o->thread_start_ns);
	LIT(b, ",\"processorId\":0,\"processId\":");
	json_u64(b, o->pid);
	LIT(b, ",\"cgroupId\":");
	json_u64(b, o->cgroup_id);
	LIT(b, ",\"threadId\":");
	json_u64(b, o->tid);
	LIT(b, ",\"parentProcessId\":");
	json_u64(b, o->ppid);
	LIT(b, ",\"hostProcessId\":");
	json_u64(b, o->host_pid);
	LIT(b, ",\"hostThreadId\":");
	json_u64(b, o->host_tid);
	LIT(b, ",\"hostParentProcessId\":");
	json_u64(b, o->host_ppid);
	LIT(b, ",\"userId\":");
	json_u64(b, o->uid);
	LIT(b, ",\"mountNamespace\":");
	json_u64(b, o->mnt_ns);
	LIT(b, ",\"pidNamespace\":");
	json_u64(b, o->pid_ns);
	LIT(b, ",\"processName\":");
	PUT_CSTR(b, o->comm);
	LIT(b, ",\"executable\":{\"path\":");
	PUT_CSTR(b, o->exe);
	LIT(b, "},\"hostName\":");
	PUT_CSTR(b, o->hostname);
	LIT(b, ",\"containerId\":");
	PUT_CSTR(b, o->container_id);
	LIT(b, ",\"container\":{");
	if (o->container_id[0]) {
		LIT(b, "\"id\":");
		PUT_CSTR(b, o->container_id);
		if (o->container_runtime[0]) {
			LIT(b, ",\"runtime\":");
			PUT_CSTR(b, o->container_runtime);
		}
	}
	LIT(b, "},\"kubernetes\":{");
	if (o->pod_uid[0]) {
		LIT(b, "\"podUID\":");
		PUT_CSTR(b, o->pod_uid);
	}
	LIT(b, "},");
}

/* True when a and b have the same content: by the owner table's id when both have one. */
static bool same_owner(const struct owner *a, const struct owner *b)
{
	if (a->content_id && b->content_id)
		return a->content_id == b->content_id;
	return a->host_tid == b->host_tid && a->thread_start_ns == b->thread_start_ns &&
	       owner_same_content(a, b);
}

/* What follows the event head for owner o: containerStarted through "args":[. */
static void put_owner_ids(struct json_buf *b, const struct owner *o)
{
	if (o->container_id[0])
		LIT(b, "true");
	else
		LIT(b, "false");
	LIT(b, ",\"isCompat\":false},\"threadEntityId\":");
	json_u64(b, task_entity_id(o->host_tid, o->thread_start_ns));
	LIT(b, ",\"processEntityId\":");
	json_u64(b, task_entity_id(o->host_pid, o->thread_start_ns));
	LIT(b, ",\"parentEntityId\":");
	json_u64(b, task_entity_id(o->host_ppid, 0));
	LIT(b, ",\"args\":[");
}

/* The rendered owner-dependent parts for o, from the cache or rendered now; NULL: no memory. */
static const struct event_owner_text *owner_text(struct event_writer *w, const struct owner *o)
{
	struct event_owner_text *c;
	uint32_t i;

	for (i = 0; i < EVENT_OWNER_CACHE; i++) {
		c = &w->owners[i];
		if (c->valid && same_owner(&c->key, o))
			return c;
	}
	c = &w->owners[w->owners_next++ % EVENT_OWNER_CACHE];
	json_reset(&c->before);
	json_reset(&c->after);
	put_owner(&c->before, o);
	put_owner_ids(&c->after, o);
	c->valid = !c->before.failed && !c->after.failed;
	if (!c->valid)
		return NULL;
	memcpy(&c->key, o, sizeof(*o));
	return c;
}

/* ts in decimal; the digits of its second are kept for the next events of the same second. */
static void put_timestamp(struct event_writer *w, uint64_t ts)
{
	uint64_t sec = ts / 1000000000u, v;
	uint32_t ns = (uint32_t)(ts % 1000000000u);
	char text[20];
	int i, n;

	if (!sec) {
		json_u64(&w->buf, ts);
		return;
	}
	if (sec != w->ts_sec || !w->ts_len) {
		for (n = 0, v = sec; v; v /= 10)
			text[n++] = (char)('0' + v % 10);
		for (i = 0; i < n; i++)
			w->ts_text[i] = text[n - 1 - i];
		w->ts_len = (uint8_t)n;
		w->ts_sec = sec;
	}
	for (i = 8; i > 0; i -= 2, ns /= 100) {
		text[i] = (char)('0' + ns % 10);
		text[i - 1] = (char)('0' + ns / 10 % 10);
	}
	text[0] = (char)('0' + ns);
	event_raw(&w->buf, w->ts_text, w->ts_len);
	event_raw(&w->buf, text, 9);
}

/* Everything before the first argument. */
static void put_event_start(struct event_writer *w, uint64_t ts_ns, const struct owner *o,
			    enum event_kind kind)
{
	const struct event_owner_text *t = o ? owner_text(w, o) : NULL;
	struct json_buf *b = &w->buf;

	if (o && !t) {
		b->failed = 1;
		return;
	}
	LIT(b, "{\"timestamp\":");
	put_timestamp(w, ts_ns);
	if (t)
		event_raw(b, t->before.data, t->before.len);
	else
		LIT(b, ",\"threadStartTime\":0,\"processorId\":0,\"processId\":0,"
		       "\"cgroupId\":0,\"threadId\":0,\"parentProcessId\":0,"
		       "\"hostProcessId\":0,\"hostThreadId\":0,\"hostParentProcessId\":0,"
		       "\"userId\":0,\"mountNamespace\":0,\"pidNamespace\":0,\"processName\":\"\","
		       "\"executable\":{\"path\":\"\"},\"hostName\":\"\",\"containerId\":\"\","
		       "\"container\":{},\"kubernetes\":{},");
	event_raw(b, event_heads[kind].text, event_heads[kind].len);
	if (t)
		event_raw(b, t->after.data, t->after.len);
	else
		LIT(b, "false,\"isCompat\":false},\"threadEntityId\":0,\"processEntityId\":0,"
		       "\"parentEntityId\":0,\"args\":[");
}

/*
 * trace.PacketMetadata: Tracee's PacketDirection numbers (1 ingress, 2 egress, 0 unknown),
 * and "tls":true for what was read from TLS library calls (an extra key Tracee ignores).
 */
static void put_direction(struct json_buf *b, enum direction dir, bool tls)
{
	if (dir == DIR_INGRESS)
		LIT(b, "{\"direction\":1");
	else if (dir == DIR_EGRESS)
		LIT(b, "{\"direction\":2");
	else
		LIT(b, "{\"direction\":0");
	if (tls)
		LIT(b, ",\"tls\":true");
	LIT(b, "}");
}

/* The interface's name as the socket's network namespace knows it, else Tracee's "any". */
static const char *iface_name(const struct event_writer *w, const struct msg_context *ctx)
{
	const char *name = NULL;

	if (ctx->ifindex && w->opt.iface_name)
		name = w->opt.iface_name(w->opt.iface_ctx, ctx->net_ns, ctx->ifindex);
	return name ? name : "any";
}

/* trace.PktMeta */
static void put_pkt_meta(struct event_writer *w, const struct msg_context *ctx)
{
	struct json_buf *b = &w->buf;
	const char *iface = iface_name(w, ctx);

	LIT(b, "{\"name\":\"metadata\",\"type\":\"trace.PktMeta\",\"value\":{\"src_ip\":\"");
	json_ip(b, ctx->family, ctx->src.addr);
	LIT(b, "\",\"dst_ip\":\"");
	json_ip(b, ctx->family, ctx->dst.addr);
	LIT(b, "\",\"src_port\":");
	json_u64(b, ctx->src.port);
	LIT(b, ",\"dst_port\":");
	json_u64(b, ctx->dst.port);
	LIT(b, ",\"protocol\":6,\"packet_len\":");
	json_u64(b, ctx->packet_len);
	LIT(b, ",\"iface\":");
	json_str(b, iface, strlen(iface));
	if (ctx->tls)
		LIT(b, ",\"tls\":true");
	LIT(b, "}}");
}

static int event_drain(struct event_writer *w);

/* A line that ran out of memory is taken back and counted as a write error. */
static void commit_line(struct event_writer *w, size_t mark)
{
	if (w->buf.failed) {
		w->buf.len = mark;
		w->buf.failed = 0;
		w->stats.events++;
		w->stats.not_written++;
		return;
	}
	w->stats.events++;
	if (w->buf.len >= EVENT_FLUSH_AT)
		event_drain(w);
}

/* A port in decimal, digit by digit (json_u64 without its general cases). */
static void put_port(struct json_buf *b, uint16_t port)
{
	char text[5];
	int i = 5;

	do {
		text[--i] = (char)('0' + port % 10);
		port /= 10;
	} while (port);
	event_raw(b, text + i, (size_t)(5 - i));
}

/* The src and dst arguments, through the key of src_port's value. */
static void put_addrs(struct event_writer *w, const struct msg_context *ctx)
{
	struct json_buf *b = &w->buf;
	struct event_addr_text *c;
	size_t mark = b->len;
	uint32_t i;

	for (i = 0; i < EVENT_ADDR_CACHE; i++) {
		c = &w->addrs[i];
		if (c->len && c->family == ctx->family && !memcmp(c->src, ctx->src.addr, 16) &&
		    !memcmp(c->dst, ctx->dst.addr, 16)) {
			event_raw(b, c->text, c->len);
			return;
		}
	}
	LIT(b, "{\"name\":\"src\",\"type\":\"const char*\",\"value\":\"");
	json_ip(b, ctx->family, ctx->src.addr);
	LIT(b, "\"},{\"name\":\"dst\",\"type\":\"const char*\",\"value\":\"");
	json_ip(b, ctx->family, ctx->dst.addr);
	LIT(b, "\"},{\"name\":\"src_port\",\"type\":\"uint16\",\"value\":");
	if (b->failed || b->len - mark > EVENT_ADDR_TEXT)
		return;
	c = &w->addrs[w->addrs_next++ % EVENT_ADDR_CACHE];
	c->family = ctx->family;
	memcpy(c->src, ctx->src.addr, 16);
	memcpy(c->dst, ctx->dst.addr, 16);
	c->len = (uint16_t)(b->len - mark);
	memcpy(c->text, b->data + mark, c->len);
}

static void json_message(struct event_writer *w, const struct msg_context *ctx,
			 const struct http_message *msg, enum event_kind kind)
{
	struct json_buf *b = &w->buf;
	size_t mark = b->len;

	put_event_start(w, ctx->ts_ns, ctx->owner, kind);
	if (kind == KIND_HTTP) {
		put_addrs(w, ctx);
		put_port(b, ctx->src.port);
		LIT(b, "},{\"name\":\"dst_port\",\"type\":\"uint16\",\"value\":");
		put_port(b, ctx->dst.port);
		LIT(b, "},{\"name\":\"metadata\",\"type\":\"trace.PacketMetadata\",\"value\":");
		put_direction(b, ctx->dir, ctx->tls);
		LIT(b, "},{\"name\":\"proto_http\",\"type\":\"trace.ProtoHTTP\",\"value\":");
		event_put_proto_http(w, msg);
	} else if (kind == KIND_REQUEST) {
		put_pkt_meta(w, ctx);
		LIT(b, ",{\"name\":\"http_request\","
		       "\"type\":\"trace.ProtoHTTPRequest\",\"value\":");
		event_put_request(w, msg);
	} else {
		put_pkt_meta(w, ctx);
		LIT(b, ",{\"name\":\"http_response\","
		       "\"type\":\"trace.ProtoHTTPResponse\",\"value\":");
		event_put_response(w, msg);
	}
	LIT(b, "}]}\n");
	commit_line(w, mark);
}

static void json_exchange(struct event_writer *w, const struct exchange *x)
{
	struct json_buf *b = &w->buf;
	size_t mark = b->len;

	put_event_start(w, x->ts_ns, x->owner, KIND_FLOW);
	LIT(b, "{\"name\":\"client_ip\",\"type\":\"const char*\",\"value\":\"");
	json_ip(b, x->family, x->client.addr);
	LIT(b, "\"},{\"name\":\"client_port\",\"type\":\"uint16\",\"value\":");
	json_u64(b, x->client.port);
	LIT(b, "},{\"name\":\"server_ip\",\"type\":\"const char*\",\"value\":\"");
	json_ip(b, x->family, x->server.addr);
	LIT(b, "\"},{\"name\":\"server_port\",\"type\":\"uint16\",\"value\":");
	json_u64(b, x->server.port);
	LIT(b, "},{\"name\":\"metadata\",\"type\":\"trace.PacketMetadata\",\"value\":");
	put_direction(b, x->dir, x->tls);
	LIT(b, "},{\"name\":\"request\",\"type\":\"trace.ProtoHTTPRequest\",\"value\":");
	if (x->request)
		event_put_request(w, x->request);
	else
		LIT(b, "null");
	LIT(b, "},{\"name\":\"response\",\"type\":\"trace.ProtoHTTPResponse\",\"value\":");
	if (x->response)
		event_put_response(w, x->response);
	else
		LIT(b, "null");
	LIT(b, "},{\"name\":\"latency_ns\",\"type\":\"uint64\",\"value\":");
	json_u64(b, x->latency_ns);
	LIT(b, "},{\"name\":\"trans_depth\",\"type\":\"uint32\",\"value\":");
	json_u64(b, x->trans_depth);
	LIT(b, "}]}\n");
	commit_line(w, mark);
}

/* opt NULL, or types 0, selects the default: net_packet_http as JSON. */
struct event_writer *event_writer_new(FILE *out, const struct event_options *opt)
{
	struct event_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = out;
	if (opt)
		w->opt = *opt;
	if (!w->opt.types)
		w->opt.types = EVENT_HTTP;
	if (redact_init(&w->redact, w->opt.redact)) {
		free(w);
		return NULL;
	}
	w->redact_host = redact_has(&w->redact, "host", 4);
	w->clock_sec = -1;
	json_init(&w->buf);
	json_init(&w->keys);
	json_init(&w->path);
	return w;
}

bool event_wants(const struct event_writer *w, enum event_type type)
{
	return w->opt.types & type;
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t lines = 0;
	const char *q;

	while (n && (q = memchr(p, '\n', n))) {
		lines++;
		n -= (size_t)(q - p) + 1;
		p = q + 1;
	}
	return lines;
}

/* After a short write of p[0..done): cuts a regular file back to its last whole line. */
static void cut_partial_line(struct event_writer *w, int fd, const char *p, size_t done)
{
	size_t whole = done;
	off_t end;

	while (whole && p[whole - 1] != '\n')
		whole--;
	if (whole == done)
		return;
	end = lseek(fd, 0, SEEK_CUR);
	if (end >= (off_t)(done - whole) && !ftruncate(fd, end - (off_t)(done - whole)) &&
	    lseek(fd, end - (off_t)(done - whole), SEEK_SET) >= 0)
		return;
	w->cut_line = true;
}

/* Writes len buffered bytes; on failure counts and reports it. 0 or -EIO. */
static int write_out(struct event_writer *w, const char *p, size_t len)
{
	int fd = fileno(w->out), err = 0;
	size_t done;

	if (fd < 0) {
		/* A stream without a descriptor (open_memstream, in tests). */
		done = fwrite(p, 1, len, w->out);
		if (done == len && fflush(w->out))
			done = 0;
		err = done == len ? 0 : errno ? errno : EIO;
	} else {
		if (w->cut_line && outfile_write(fd, "\n", 1, &err) == 1)
			w->cut_line = false;
		done = err ? 0 : outfile_write(fd, p, len, &err);
		if (err)
			cut_partial_line(w, fd, p, done);
	}
	if (!err)
		return 0;
	w->stats.write_errors++;
	w->stats.not_written += count_lines(p + done, len - done);
	if (!w->stats.first_error) {
		w->stats.first_error = err;
		if (w->opt.write_failed)
			w->opt.write_failed(w->opt.write_failed_ctx, err);
	}
	return -EIO;
}

/* Writes out the buffered lines; 0 or -EIO. */
static int event_drain(struct event_writer *w)
{
	int err;

	if (!w->buf.len)
		return 0;
	err = write_out(w, w->buf.data, w->buf.len);
	json_reset(&w->buf);
	return err;
}

/* Table output writes one line per message whichever message event types are selected. */
void event_message(struct event_writer *w, const struct msg_context *ctx,
		   const struct http_message *msg)
{
	bool req = msg->kind == HTTP_REQUEST;
	bool own = event_wants(w, req ? EVENT_HTTP_REQUEST : EVENT_HTTP_RESPONSE);

	if (w->opt.format == OUTPUT_TABLE) {
		size_t mark = w->buf.len;

		if (own || event_wants(w, EVENT_HTTP)) {
			event_table_message(w, ctx, msg);
			commit_line(w, mark);
		}
		return;
	}
	if (event_wants(w, EVENT_HTTP))
		json_message(w, ctx, msg, KIND_HTTP);
	if (own)
		json_message(w, ctx, msg, req ? KIND_REQUEST : KIND_RESPONSE);
}

void event_exchange(struct event_writer *w, const struct exchange *x)
{
	size_t mark = w->buf.len;

	if (!event_wants(w, EVENT_FLOW_HTTP) || (!x->request && !x->response))
		return;
	if (w->opt.format == OUTPUT_TABLE) {
		event_table_exchange(w, x);
		commit_line(w, mark);
	} else {
		json_exchange(w, x);
	}
}

int event_writer_flush(struct event_writer *w)
{
	return event_drain(w);
}

const struct event_stats *event_writer_stats(const struct event_writer *w)
{
	return &w->stats;
}

void event_writer_free(struct event_writer *w)
{
	if (!w)
		return;
	event_writer_flush(w);
	json_free(&w->buf);
	json_free(&w->keys);
	event_http_free(w);
	for (uint32_t i = 0; i < EVENT_OWNER_CACHE; i++) {
		json_free(&w->owners[i].before);
		json_free(&w->owners[i].after);
	}
	free(w->refs);
	redact_release(&w->redact);
	free(w);
}
