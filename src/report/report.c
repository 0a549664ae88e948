/* Reporting: filters, then the event writer, then the packet export (-w). */
#include <stdio.h>
#include <string.h>
#include "report/report.h"

#define COMMENT_MAX 512u

uint32_t report_head_size(const struct http_message *m)
{
	uint64_t n = 2;

	if (m->kind == HTTP_REQUEST)
		n += m->method.len + 1 + m->target.len + 1 + m->protocol.len + 2;
	else
		n += m->protocol.len + 1 + m->status.len + 2;
	for (uint32_t i = 0; i < m->n_headers; i++)
		n += m->headers[i].name.len + 2 + m->headers[i].value.len + 2;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Appends at most 200 bytes of str to buf, printable ASCII only (pcapng comments are UTF-8). */
static void put_str(char *buf, size_t size, const struct http_str *str)
{
	size_t n = strlen(buf);

	for (uint32_t i = 0; i < str->len && i < 200 && n + 1 < size; i++) {
		unsigned char c = (unsigned char)str->p[i];

		buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[n] = '\0';
}

static void put_text(char *buf, size_t size, const char *text)
{
	struct http_str str = { text, (uint32_t)strlen(text) };

	put_str(buf, size, &str);
}

/* "METHOD /path" for a request, the status line's code and reason for a response. */
static void put_summary(char *buf, size_t size, const struct http_message *m)
{
	if (m->kind == HTTP_REQUEST) {
		put_str(buf, size, &m->method);
		put_text(buf, size, " ");
		put_str(buf, size, m->path.len ? &m->path : &m->target);
	} else {
		put_str(buf, size, &m->status);
	}
}

static void put_owner(char *buf, size_t size, const struct owner *o)
{
	char num[48];

	if (!o)
		return;
	put_text(buf, size, " comm=");
	put_text(buf, size, o->comm[0] ? o->comm : "?");
	snprintf(num, sizeof(num), " pid=%u", o->host_pid);
	put_text(buf, size, num);
	if (o->container_id[0]) {
		put_text(buf, size, " container=");
		put_text(buf, size, o->container_id);
	}
}

/* The comment of a message's packets: the selected event names it yields, what it says. */
static void message_comment(const struct report *r, const struct http_message *m,
			    const struct owner *o, char *buf, size_t size)
{
	unsigned own = m->kind == HTTP_REQUEST ? EVENT_HTTP_REQUEST : EVENT_HTTP_RESPONSE;

	buf[0] = '\0';
	if (event_wants(r->writer, EVENT_HTTP))
		put_text(buf, size, "net_packet_http ");
	if (event_wants(r->writer, own))
		put_text(buf, size, own == EVENT_HTTP_REQUEST ? "net_packet_http_request "
							      : "net_packet_http_response ");
	put_summary(buf, size, m);
	put_owner(buf, size, o);
}

static void exchange_comment(const struct exchange *x, char *buf, size_t size)
{
	snprintf(buf, size, "net_flow_http ");
	if (x->request)
		put_summary(buf, size, x->request);
	else
		put_text(buf, size, "(no request)");
	put_text(buf, size, " -> ");
	if (x->response)
		put_summary(buf, size, x->response);
	else
		put_text(buf, size, "(no response)");
	put_owner(buf, size, x->owner);
}

bool report_exports_exchanges(const struct report *r)
{
	return r->exp && !event_wants(r->writer, REPORT_MESSAGE_EVENTS);
}

void report_message(const struct report *r, const struct msg_context *mc,
		    const struct http_message *msg, const struct http_message *request,
		    struct export_list *kept)
{
	struct filter_subject fs = {
		.family = mc->family, .src = &mc->src, .dst = &mc->dst, .dir = mc->dir,
		.request = request, .response = msg->kind == HTTP_RESPONSE ? msg : NULL,
		.owner = mc->owner, .tls = mc->tls,
	};
	char comment[COMMENT_MAX];
	bool report = event_wants(r->writer, REPORT_MESSAGE_EVENTS);

	if (report && !filter_match(r->filter, &fs)) {
		(*r->filtered)++;
		report = false;
	}
	if (report)
		event_message(r->writer, mc, msg);
	if (!r->exp || !event_wants(r->writer, REPORT_MESSAGE_EVENTS))
		return;
	message_comment(r, msg, mc->owner, comment, sizeof(comment));
	if (report && strncmp(comment, "net_", 4) == 0 && msg->stream_id)
		export_write_list(r->exp, kept, comment);  /* HTTP/2: its stream's header frames */
	else if (report && strncmp(comment, "net_", 4) == 0)
		export_message(r->exp, kept, report_head_size(msg), comment);
	else
		export_list_clear(r->exp, kept);
}

void report_exchange(const struct report *r, const struct exchange *x,
		     struct export_list *req_pkts, struct export_list *resp_kept)
{
	struct filter_subject fs = {
		.family = x->family, .src = &x->client, .dst = &x->server, .dir = x->dir,
		.request = x->request, .response = x->response, .owner = x->owner, .tls = x->tls,
	};
	bool report = event_wants(r->writer, EVENT_FLOW_HTTP) && (x->request || x->response);
	bool count = r->metrics && x->request && x->response;
	char comment[COMMENT_MAX];

	if ((report || count) && !filter_match(r->filter, &fs)) {
		(*r->filtered)++;
		report = count = false;
	}
	if (report)
		event_exchange(r->writer, x);
	if (count)
		metrics_exchange(r->metrics, x);
	if (!report_exports_exchanges(r))
		return;
	if (!report) {
		if (resp_kept)
			export_list_clear(r->exp, resp_kept);
		return;
	}
	exchange_comment(x, comment, sizeof(comment));
	if (req_pkts)
		export_write_list(r->exp, req_pkts, comment);
	if (resp_kept && (!x->response || x->response->stream_id))
		export_write_list(r->exp, resp_kept, comment);
	else if (resp_kept)
		export_message(r->exp, resp_kept, report_head_size(x->response), comment);
}
