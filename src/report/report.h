/*
 * Reporting: what the sessions found, through the filters (-f), to the event writer and
 * the packet export (-w). One message or one exchange at a time; no state of its own.
 */
#ifndef HTTPEEK_REPORT_H
#define HTTPEEK_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "output/event.h"
#include "output/export.h"
#include "report/filter.h"
#include "http/http.h"
#include "metrics/metrics.h"

#define REPORT_MESSAGE_EVENTS (EVENT_HTTP | EVENT_HTTP_REQUEST | EVENT_HTTP_RESPONSE)

/* Where reports go; owned by the pipeline, none of it by the report. */
struct report {
	struct event_writer *writer;
	const struct filter_set *filter;  /* NULL: every event */
	struct export *exp;               /* NULL: no packet export */
	struct metrics *metrics;          /* NULL: no metrics */
	uint64_t *filtered;               /* counts the messages and exchanges left out */
};

/* True when packets are exported with their exchange: -w without message events. */
bool report_exports_exchanges(const struct report *r);

/* The size of m's head as sent, up to line-ending differences. */
uint32_t report_head_size(const struct http_message *m);

/*
 * Writes the message events of msg when they pass the filters (request: the request a
 * response answers, for the filters; NULL if unknown), then, when messages are exported,
 * exports the packets of its head held in kept with a comment naming the events, or drops
 * them. kept may be NULL when r->exp is.
 */
void report_message(const struct report *r, const struct msg_context *mc,
		    const struct http_message *msg, const struct http_message *request,
		    struct export_list *kept);

/*
 * Writes net_flow_http for x when it is wanted, has a request or a response and passes the
 * filters; then, when exchanges are exported, writes the request's packets (req_pkts, may
 * be NULL) and the response's head packets held in resp_kept (NULL: no response), or,
 * when x is not reported, drops resp_kept. Counts x in the metrics (r->metrics) when it has
 * both and passes the filters.
 */
void report_exchange(const struct report *r, const struct exchange *x,
		     struct export_list *req_pkts, struct export_list *resp_kept);

#endif
