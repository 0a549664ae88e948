/* event.c, event_http.c: exact JSON lines for every event type, header keys, redaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "output/event.h"

/* Expected lines are written with ' for " (no test value holds a quote unless escaped). */
#define OFFLINE_CTX                                                                              \
	"'threadStartTime':0,'processorId':0,'processId':0,'cgroupId':0,'threadId':0,"          \
	"'parentProcessId':0,'hostProcessId':0,'hostThreadId':0,'hostParentProcessId':0,"       \
	"'userId':0,'mountNamespace':0,'pidNamespace':0,'processName':'',"                      \
	"'executable':{'path':''},"                                                              \
	"'hostName':'','containerId':'','container':{},'kubernetes':{},"
#define POLICY(n)                                                                              \
	"'matchedPolicies':[],'argsNum':" n ",'returnValue':0,'syscall':'','stackAddresses':[],"
#define OFFLINE_FLAGS                                                                            \
	"'contextFlags':{'containerStarted':false,'isCompat':false},'threadEntityId':0,"        \
	"'processEntityId':0,'parentEntityId':0,'args':["

struct capture {
	char *data;
	size_t len;
};

static struct http_header req_hdrs[] = {
	{ { "Host", 4 }, { "example.com", 11 } },
	{ { "user-agent", 10 }, { "curl/8.0", 8 } },
	{ { "ACCEPT", 6 }, { "*/*", 3 } },
	{ { "x-forwarded-for", 15 }, { "10.0.0.9", 8 } },
	{ { "X-Forwarded-For", 15 }, { "10.0.0.10", 9 } },
};

static const struct http_message req = {
	.kind = HTTP_REQUEST,
	.ts_ns = 1700000000123456789ull,
	.method = { "GET", 3 },
	.target = { "/search?q=a%20b", 15 },
	.protocol = { "HTTP/1.1", 8 },
	.host = { "example.com", 11 },
	.path = { "/search", 7 },
	.headers = req_hdrs,
	.n_headers = 5,
	.content_length = 0,
};

static struct http_header resp_hdrs[] = {
	{ { "content-type", 12 }, { "text/html; charset=utf-8", 24 } },
	{ { "Set-Cookie", 10 }, { "a=1", 3 } },
	{ { "set-cookie", 10 }, { "b=2", 3 } },
	{ { "Transfer-Encoding", 17 }, { "chunked", 7 } },
};

static const struct http_message resp = {
	.kind = HTTP_RESPONSE,
	.ts_ns = 1700000000223456789ull,
	.protocol = { "HTTP/1.1", 8 },
	.status = { "200 OK", 6 },
	.status_code = 200,
	.headers = resp_hdrs,
	.n_headers = 4,
	.content_length = -1,
	.chunked = true,
};

static const struct owner proc = {
	.sock_cookie = 99,
	.cgroup_id = 5678,
	.thread_start_ns = 1700000000123456789ull,
	.pid = 7, .tid = 8, .ppid = 1,
	.host_pid = 4300, .host_tid = 4321, .host_ppid = 4000,
	.uid = 1000,
	.mnt_ns = 4026531840u, .pid_ns = 4026531836u,
	.comm = "curl",
	.exe = "/usr/bin/curl",
	.hostname = "web-1",
	.container_id = "abcdef012345",
	.container_runtime = "containerd",
	.pod_uid = "1f2e3d4c-0000-4000-8000-123456789abc",
};

static struct msg_context ctx4(enum direction dir, const struct owner *o)
{
	struct msg_context c = {
		.ts_ns = 1700000000123456789ull,
		.family = 4,
		.src = { { 10, 0, 0, 1 }, 43210 },
		.dst = { { 10, 0, 0, 2 }, 80 },
		.dir = dir,
		.packet_len = 120,
		.owner = o,
	};

	return c;
}

static struct event_writer *open_writer(FILE **f, struct capture *c, unsigned types,
					const char *const *redact)
{
	struct event_options opt = { .format = OUTPUT_JSON, .types = types, .redact = redact };
	struct event_writer *w;

	*f = open_memstream(&c->data, &c->len);
	assert_non_null(*f);
	w = event_writer_new(*f, &opt);
	assert_non_null(w);
	return w;
}

static void close_writer(struct event_writer *w, FILE *f)
{
	assert_int_equal(event_writer_flush(w), 0);
	assert_int_equal(event_writer_stats(w)->write_errors, 0);
	event_writer_free(w);
	fclose(f);
}

/* Compares got with exp after turning exp's ' into ". */
static void expect_text(const struct capture *c, const char *exp)
{
	char *e = strdup(exp), *p;

	for (p = e; *p; p++)
		if (*p == '\'')
			*p = '"';
	if (c->len != strlen(e) || memcmp(c->data, e, c->len)) {
		print_error("got      %.*s\nexpected %s\n", (int)c->len, c->data, e);
		free(e);
		fail();
	}
	free(e);
}

static void test_http_request_offline(void **state)
{
	struct msg_context ctx = ctx4(DIR_EGRESS, NULL);
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP, NULL);

	event_message(w, &ctx, &req);
	assert_int_equal(event_writer_stats(w)->events, 1);
	close_writer(w, f);
	expect_text(&c,
		"{\"timestamp\":1700000000123456789,\"threadStartTime\":0,\"processorId\":0,"
		"\"processId\":0,\"cgroupId\":0,\"threadId\":0,\"parentProcessId\":0,"
		"\"hostProcessId\":0,\"hostThreadId\":0,\"hostParentProcessId\":0,\"userId\":0,"
		"\"mountNamespace\":0,\"pidNamespace\":0,\"processName\":\"\",\"executable\":"
		"{\"path\":\"\"},\"hostName\":\"\",\"containerId\":\"\",\"container\":{},"
		"\"kubernetes\":{},\"eventId\":\"2009\",\"eventName\":\"net_packet_http\","
		"\"matchedPolicies\":[],\"argsNum\":6,\"returnValue\":0,\"syscall\":\"\","
		"\"stackAddresses\":[],\"contextFlags\":{\"containerStarted\":false,"
		"\"isCompat\":false},\"threadEntityId\":0,\"processEntityId\":0,"
		"\"parentEntityId\":0,\"args\":[{\"name\":\"src\",\"type\":\"const char*\","
		"\"value\":\"10.0.0.1\"},{\"name\":\"dst\",\"type\":\"const char*\","
		"\"value\":\"10.0.0.2\"},{\"name\":\"src_port\",\"type\":\"uint16\",\"value\":43210},"
		"{\"name\":\"dst_port\",\"type\":\"uint16\",\"value\":80},{\"name\":\"metadata\","
		"\"type\":\"trace.PacketMetadata\",\"value\":{\"direction\":2}},"
		"{\"name\":\"proto_http\",\"type\":\"trace.ProtoHTTP\",\"value\":{"
		"\"direction\":\"request\",\"method\":\"GET\",\"protocol\":\"HTTP/1.1\","
		"\"host\":\"example.com\",\"uri_path\":\"/search\",\"status\":\"\","
		"\"status_code\":0,\"headers\":{\"Host\":[\"example.com\"],"
		"\"User-Agent\":[\"curl/8.0\"],\"Accept\":[\"*/*\"],"
		"\"X-Forwarded-For\":[\"10.0.0.9\",\"10.0.0.10\"]},\"content_length\":0,"
		"\"uri\":\"/search?q=a%20b\"}}]}\n");
	free(c.data);
}

/* A live response at the receiver inside a container: every owner field in its key. */
static void test_http_response_live(void **state)
{
	struct msg_context ctx = ctx4(DIR_INGRESS, &proc);
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP, NULL);

	ctx.src.port = 80;
	ctx.dst.port = 43210;
	ctx.src.addr[3] = 2;
	ctx.dst.addr[3] = 1;
	event_message(w, &ctx, &resp);
	close_writer(w, f);
	expect_text(&c,
		"{'timestamp':1700000000123456789,'threadStartTime':1700000000123456789,"
		"'processorId':0,'processId':7,'cgroupId':5678,'threadId':8,'parentProcessId':1,"
		"'hostProcessId':4300,'hostThreadId':4321,'hostParentProcessId':4000,'userId':1000,"
		"'mountNamespace':4026531840,'pidNamespace':4026531836,'processName':'curl',"
		"'executable':{'path':'/usr/bin/curl'},'hostName':'web-1',"
		"'containerId':'abcdef012345',"
		"'container':{'id':'abcdef012345','runtime':'containerd'},"
		"'kubernetes':{'podUID':'1f2e3d4c-0000-4000-8000-123456789abc'},"
		"'eventId':'2009','eventName':'net_packet_http'," POLICY("6")
		"'contextFlags':{'containerStarted':true,'isCompat':false},"
		"'threadEntityId':1357600464,'processEntityId':734771887,"
		"'parentEntityId':2161278051,"
		"'args':[{'name':'src','type':'const char*','value':'10.0.0.2'},"
		"{'name':'dst','type':'const char*','value':'10.0.0.1'},"
		"{'name':'src_port','type':'uint16','value':80},"
		"{'name':'dst_port','type':'uint16','value':43210},"
		"{'name':'metadata','type':'trace.PacketMetadata','value':{'direction':1}},"
		"{'name':'proto_http','type':'trace.ProtoHTTP','value':{'direction':'response',"
		"'method':'','protocol':'HTTP/1.1','host':'','uri_path':'','status':'200 OK',"
		"'status_code':200,'headers':{'Content-Type':['text/html; charset=utf-8'],"
		"'Set-Cookie':['a=1','b=2'],'Transfer-Encoding':['chunked']},"
		"'content_length':-1}}]}\n");
	free(c.data);
}

/* An owner outside any container: empty container and kubernetes objects. */
static void test_owner_on_host(void **state)
{
	struct owner o = proc;
	struct msg_context ctx = ctx4(DIR_EGRESS, &o);
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP, NULL);

	o.container_id[0] = 0;
	o.pod_uid[0] = 0;
	memcpy(o.comm, "0123456789abcdef", 16);  /* no NUL: the array bounds the name */
	event_message(w, &ctx, &req);
	close_writer(w, f);
	assert_non_null(strstr(c.data, "\"processName\":\"0123456789abcdef\",\"executable\""));
	assert_non_null(strstr(c.data, "\"containerId\":\"\",\"container\":{},\"kubernetes\":{},"));
	assert_non_null(strstr(c.data, "{\"containerStarted\":false,\"isCompat\":false}"));
	free(c.data);
}

static void test_request_event(void **state)
{
	struct msg_context ctx = ctx4(DIR_EGRESS, NULL);
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP_REQUEST, NULL);

	event_message(w, &ctx, &req);
	event_message(w, &ctx, &resp);  /* not selected */
	assert_int_equal(event_writer_stats(w)->events, 1);
	close_writer(w, f);
	expect_text(&c,
		"{'timestamp':1700000000123456789," OFFLINE_CTX
		"'eventId':'2010','eventName':'net_packet_http_request'," POLICY("2") OFFLINE_FLAGS
		"{'name':'metadata','type':'trace.PktMeta','value':{'src_ip':'10.0.0.1',"
		"'dst_ip':'10.0.0.2','src_port':43210,'dst_port':80,'protocol':6,'packet_len':120,"
		"'iface':'any'}},{'name':'http_request','type':'trace.ProtoHTTPRequest','value':{"
		"'method':'GET','protocol':'HTTP/1.1','host':'example.com','uri_path':'/search',"
		"'headers':{'Host':['example.com'],'User-Agent':['curl/8.0'],'Accept':['*/*'],"
		"'X-Forwarded-For':['10.0.0.9','10.0.0.10']},'content_length':0,"
		"'uri':'/search?q=a%20b'}}]}\n");
	free(c.data);
}

static void test_response_event(void **state)
{
	struct msg_context ctx = ctx4(DIR_UNKNOWN, NULL);
	struct http_message m = resp;
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP_RESPONSE, NULL);

	m.n_headers = 1;
	m.truncated = true;
	m.status = (struct http_str){ "404 Not Found", 13 };
	m.status_code = 404;
	m.content_length = 9;
	event_message(w, &ctx, &req);  /* not selected */
	event_message(w, &ctx, &m);
	close_writer(w, f);
	expect_text(&c,
		"{'timestamp':1700000000123456789," OFFLINE_CTX
		"'eventId':'2011','eventName':'net_packet_http_response'," POLICY("2") OFFLINE_FLAGS
		"{'name':'metadata','type':'trace.PktMeta','value':{'src_ip':'10.0.0.1',"
		"'dst_ip':'10.0.0.2','src_port':43210,'dst_port':80,'protocol':6,'packet_len':120,"
		"'iface':'any'}},{'name':'http_response','type':'trace.ProtoHTTPResponse','value':{"
		"'status':'404 Not Found','status_code':404,'protocol':'HTTP/1.1',"
		"'headers':{'Content-Type':['text/html; charset=utf-8']},'content_length':9,"
		"'truncated':true}}]}\n");
	free(c.data);
}

/* The interface callback's answer; its calls and the namespace it was given. */
static int iface_calls;
static uint32_t iface_net_ns;

static const char *iface_stub(void *ctx, uint32_t net_ns, uint32_t ifindex)
{
	iface_calls++;
	iface_net_ns = net_ns;
	return ifindex == 3 ? ctx : NULL;
}

/* PktMeta iface: the callback's name, else "any"; no call for ifindex 0 (offline). */
static void test_pkt_meta_iface(void **state)
{
	static const uint32_t ifindex[] = { 3, 4, 0 };
	static const char *const want[] = { "'iface':'eth0'", "'iface':'any'", "'iface':'any'" };
	static const int calls[] = { 1, 2, 2 };
	struct msg_context ctx = ctx4(DIR_INGRESS, &proc);
	struct event_options opt = { .types = EVENT_HTTP_REQUEST, .iface_name = iface_stub,
				     .iface_ctx = "eth0" };
	struct capture c;
	FILE *f;
	struct event_writer *w;
	char exp[64], *p;

	iface_calls = 0;
	ctx.net_ns = 4026531840u;
	for (int i = 0; i < 3; i++) {
		f = open_memstream(&c.data, &c.len);
		w = event_writer_new(f, &opt);
		assert_non_null(w);
		ctx.ifindex = ifindex[i];
		event_message(w, &ctx, &req);
		close_writer(w, f);
		snprintf(exp, sizeof(exp), "%s", want[i]);
		for (p = exp; *p; p++)
			*p = *p == '\'' ? '"' : *p;
		if (!strstr(c.data, exp))
			fail_msg("ifindex %u: no %s in %s", ifindex[i], exp, c.data);
		assert_int_equal(iface_calls, calls[i]);
		assert_int_equal(iface_net_ns, ctx.net_ns);
		free(c.data);
	}
}

/* metadata.direction: Tracee's PacketDirection numbers in 2009 and 2100. */
static void test_direction_numbers(void **state)
{
	static const enum direction dirs[] = { DIR_UNKNOWN, DIR_INGRESS, DIR_EGRESS };
	struct exchange x = { .family = 4, .request = &req, .trans_depth = 1 };
	struct capture c;
	FILE *f;
	struct event_writer *w;
	char exp[64];

	for (int i = 0; i < 3; i++) {
		struct msg_context ctx = ctx4(dirs[i], NULL);

		w = open_writer(&f, &c, EVENT_HTTP | EVENT_FLOW_HTTP, NULL);
		x.dir = dirs[i];
		event_message(w, &ctx, &req);
		event_exchange(w, &x);
		close_writer(w, f);
		snprintf(exp, sizeof(exp), "\"trace.PacketMetadata\",\"value\":{\"direction\":%d}", i);
		assert_non_null(strstr(c.data, exp));
		assert_non_null(strstr(strstr(c.data, exp) + 1, exp));  /* the exchange too */
		free(c.data);
	}
}

/* uri_path is percent-decoded as Go's url.URL.Path; bad escapes keep it as sent; uri is raw. */
static void test_uri_path_decoded(void **state)
{
	static const struct {
		const char *target, *path, *want;
	} cases[] = {
		{ "/a%20b/c+d%2Fe?x=%20", "/a%20b/c+d%2Fe", "'uri_path':'/a b/c+d/e'" },
		{ "/caf%C3%A9", "/caf%C3%A9", "'uri_path':'/caf\xc3\xa9'" },
		{ "/nul%00", "/nul%00", "'uri_path':'/nul\\u0000'" },
		{ "/bad%zz%20", "/bad%zz%20", "'uri_path':'/bad%zz%20'" },
		{ "/cut%2", "/cut%2", "'uri_path':'/cut%2'" },
	};
	struct msg_context ctx = ctx4(DIR_EGRESS, NULL);
	struct http_message m = req;
	struct capture c;
	FILE *f;
	struct event_writer *w;
	char exp[96], *p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m.target = (struct http_str){ cases[i].target, (uint32_t)strlen(cases[i].target) };
		m.path = (struct http_str){ cases[i].path, (uint32_t)strlen(cases[i].path) };
		w = open_writer(&f, &c, EVENT_HTTP | EVENT_HTTP_REQUEST, NULL);
		event_message(w, &ctx, &m);
		close_writer(w, f);
		snprintf(exp, sizeof(exp), "%s", cases[i].want);
		for (p = exp; *p; p++)
			*p = *p == '\'' ? '"' : *p;
		if (!strstr(c.data, exp) || !strstr(strstr(c.data, exp) + 1, exp))
			fail_msg("%s: want %s twice in %s", cases[i].target, exp, c.data);
		snprintf(exp, sizeof(exp), "\"uri\":\"%s\"", cases[i].target);
		assert_non_null(strstr(c.data, exp));
		free(c.data);
	}
}

static void test_flow_event(void **state)
{
	struct exchange x = {
		.ts_ns = 1700000000223456789ull,
		.family = 6,
		.client = { { 0xfd, 0, [15] = 1 }, 50000 },
		.server = { { 0xfd, 0, [15] = 2 }, 8080 },
		.dir = DIR_EGRESS,
		.request = &req,
		.response = &resp,
		.latency_ns = 100000000,
		.trans_depth = 1,
	};
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_FLOW_HTTP, NULL);

	event_exchange(w, &x);
	x.response = NULL;
	x.latency_ns = 0;
	x.trans_depth = 2;
	event_exchange(w, &x);
	x.request = NULL;
	event_exchange(w, &x);  /* neither message: nothing */
	close_writer(w, f);
	expect_text(&c,
		"{'timestamp':1700000000223456789," OFFLINE_CTX
		"'eventId':'2100','eventName':'net_flow_http'," POLICY("9") OFFLINE_FLAGS
		"{'name':'client_ip','type':'const char*','value':'fd00::1'},"
		"{'name':'client_port','type':'uint16','value':50000},"
		"{'name':'server_ip','type':'const char*','value':'fd00::2'},"
		"{'name':'server_port','type':'uint16','value':8080},"
		"{'name':'metadata','type':'trace.PacketMetadata','value':{'direction':2}},"
		"{'name':'request','type':'trace.ProtoHTTPRequest','value':{'method':'GET',"
		"'protocol':'HTTP/1.1','host':'example.com','uri_path':'/search','headers':{"
		"'Host':['example.com'],'User-Agent':['curl/8.0'],'Accept':['*/*'],"
		"'X-Forwarded-For':['10.0.0.9','10.0.0.10']},'content_length':0,"
		"'uri':'/search?q=a%20b'}},"
		"{'name':'response','type':'trace.ProtoHTTPResponse','value':{'status':'200 OK',"
		"'status_code':200,'protocol':'HTTP/1.1','headers':{"
		"'Content-Type':['text/html; charset=utf-8'],'Set-Cookie':['a=1','b=2'],"
		"'Transfer-Encoding':['chunked']},'content_length':-1}},"
		"{'name':'latency_ns','type':'uint64','value':100000000},"
		"{'name':'trans_depth','type':'uint32','value':1}]}\n"
		"{'timestamp':1700000000223456789," OFFLINE_CTX
		"'eventId':'2100','eventName':'net_flow_http'," POLICY("9") OFFLINE_FLAGS
		"{'name':'client_ip','type':'const char*','value':'fd00::1'},"
		"{'name':'client_port','type':'uint16','value':50000},"
		"{'name':'server_ip','type':'const char*','value':'fd00::2'},"
		"{'name':'server_port','type':'uint16','value':8080},"
		"{'name':'metadata','type':'trace.PacketMetadata','value':{'direction':2}},"
		"{'name':'request','type':'trace.ProtoHTTPRequest','value':{'method':'GET',"
		"'protocol':'HTTP/1.1','host':'example.com','uri_path':'/search','headers':{"
		"'Host':['example.com'],'User-Agent':['curl/8.0'],'Accept':['*/*'],"
		"'X-Forwarded-For':['10.0.0.9','10.0.0.10']},'content_length':0,"
		"'uri':'/search?q=a%20b'}},"
		"{'name':'response','type':'trace.ProtoHTTPResponse','value':null},"
		"{'name':'latency_ns','type':'uint64','value':0},"
		"{'name':'trans_depth','type':'uint32','value':2}]}\n");
	free(c.data);
}

/* Several types selected: one line each, in type order; the default set is net_packet_http. */
static void test_type_selection(void **state)
{
	struct msg_context ctx = ctx4(DIR_EGRESS, NULL);
	struct exchange x = { .family = 4, .request = &req };
	const char *e2009, *e2010, *e2011, *resp2009;
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP | EVENT_HTTP_REQUEST |
					     EVENT_HTTP_RESPONSE, NULL);

	assert_false(event_wants(w, EVENT_FLOW_HTTP));
	event_message(w, &ctx, &req);
	event_message(w, &ctx, &resp);
	event_exchange(w, &x);
	assert_int_equal(event_writer_stats(w)->events, 4);
	close_writer(w, f);
	e2009 = strstr(c.data, "\"eventId\":\"2009\"");
	e2010 = strstr(c.data, "\"eventId\":\"2010\"");
	resp2009 = strstr(c.data, "\"direction\":\"response\"");
	e2011 = strstr(c.data, "\"eventId\":\"2011\"");
	assert_non_null(e2009);
	assert_non_null(e2011);
	assert_true(e2009 < e2010 && e2010 < resp2009 && resp2009 < e2011);
	assert_null(strstr(c.data, "\"eventId\":\"2100\""));
	free(c.data);

	w = event_writer_new(stdout, NULL);
	assert_true(event_wants(w, EVENT_HTTP));
	assert_false(event_wants(w, EVENT_HTTP_REQUEST));
	event_writer_free(w);
}

/* Renders the headers object of a request holding hdrs and compares it. */
static void expect_headers(struct http_header *hdrs, uint32_t n, const char *const *redact,
			   const char *exp)
{
	struct msg_context ctx = ctx4(DIR_EGRESS, NULL);
	struct http_message m = req;
	const char *start, *end;
	struct capture c, part;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP_REQUEST, redact);

	m.headers = hdrs;
	m.n_headers = n;
	event_message(w, &ctx, &m);
	close_writer(w, f);
	start = strstr(c.data, "\"headers\":");
	end = strstr(c.data, ",\"content_length\":");
	assert_non_null(start);
	assert_non_null(end);
	part.data = (char *)start + 10;
	part.len = (size_t)(end - start) - 10;
	expect_text(&part, exp);
	free(c.data);
}

#define H(n, v) { { n, sizeof(n) - 1 }, { v, sizeof(v) - 1 } }

static void test_canonical_names(void **state)
{
	struct http_header h[] = {
		H("content-type", "1"), H("X-CUSTOM-header", "2"), H("www-authenticate", "3"),
		H("a--b", "4"), H("-x", "5"), H("x_y", "6"), H("1abc", "7"),
		H("CONTENT-LENGTH", "8"),
		H("Foo Bar", "9"), H("foo bar", "10"), H("x-custom-HEADER", "11"), H("", "12"),
		H("Content-Type", "13"), H("dnt", "14"), H("x-\xc3\xa9", "15"),
		H("~!#$%&*+.^`|", "16"),
	};

	expect_headers(h, sizeof(h) / sizeof(h[0]), NULL,
		"{'Content-Type':['1','13'],'X-Custom-Header':['2','11'],'Www-Authenticate':['3'],"
		"'A--B':['4'],'-X':['5'],'X_y':['6'],'1abc':['7'],'Content-Length':['8'],"
		"'Foo Bar':['9'],'foo bar':['10'],'':['12'],'Dnt':['14'],'x-\xc3\xa9':['15'],"
		"'~!#$%&*+.^`|':['16']}");
	expect_headers(h, 0, NULL, "{}");
}

/* Names that differ only in bytes JSON output replaces still make one key. */
static void test_keys_stay_unique(void **state)
{
	struct http_header h[] = {
		H("x\x01y", "a"), H("bad\xff", "b"), H("bad\xfe", "c"), H("bad\xef\xbf\xbd", "d"),
		H("X\x01Y", "e"), H("x\x01y", "f"),
	};

	expect_headers(h, sizeof(h) / sizeof(h[0]), NULL,
		"{'x\\u0001y':['a','f'],'bad\xef\xbf\xbd':['b','c','d'],'X\\u0001Y':['e']}");
}

/* 512 fields over 3 names interleaved, then 512 distinct names: order and grouping hold. */
static void test_many_fields(void **state)
{
	static const char *const names[] = { "a", "B", "A" };
	static char text[512][8];
	static struct http_header h[512];
	struct msg_context ctx = ctx4(DIR_EGRESS, NULL);
	struct http_message m = req;
	struct capture c;
	char *p;
	FILE *f;
	int i, n;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP_REQUEST, NULL);

	for (i = 0; i < 512; i++) {
		n = snprintf(text[i], sizeof(text[i]), "%d", i);
		h[i].name = (struct http_str){ names[i % 3], 1 };
		h[i].value = (struct http_str){ text[i], (uint32_t)n };
	}
	m.headers = h;
	m.n_headers = 512;
	event_message(w, &ctx, &m);
	for (i = 0; i < 512; i++)
		h[i].name = (struct http_str){ text[i], (uint32_t)strlen(text[i]) };
	event_message(w, &ctx, &m);
	close_writer(w, f);
	p = strstr(c.data, "\"headers\":{\"A\":[\"0\",\"2\",\"3\",\"5\",\"6\",");
	assert_non_null(p);
	assert_non_null(strstr(p, "\"507\",\"509\",\"510\"],\"B\":[\"1\",\"4\",\"7\","));
	assert_non_null(strstr(p, "\"505\",\"508\",\"511\"]},\"content_length\""));
	p = strstr(p + 1, "\"headers\":{\"0\":[\"0\"],\"1\":[\"1\"],");
	assert_non_null(p);
	assert_non_null(strstr(p, ",\"511\":[\"511\"]},\"content_length\""));
	free(c.data);
}

static void test_redaction(void **state)
{
	static const char *const redact[] = { "authorization", "COOKIE", NULL };
	struct http_header h[] = {
		H("Authorization", "Bearer secret"), H("Cookie", "sid=1"), H("cookie", "sid=2"),
		H("Cookies", "kept"), H("Accept", "*/*"),
	};

	expect_headers(h, sizeof(h) / sizeof(h[0]), redact,
		"{'Authorization':['REDACTED'],'Cookie':['REDACTED','REDACTED'],"
		"'Cookies':['kept'],'Accept':['*/*']}");
}

/* Redacting Host hides the host field, the header and an absolute-form target. */
static void test_redact_host(void **state)
{
	static const char *const redact[] = { "Host", NULL };
	struct http_header h[] = { H("host", "secret.example"), H("Accept", "*/*") };
	struct msg_context ctx = ctx4(DIR_EGRESS, NULL);
	struct http_message m = req;
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP, redact);

	m.headers = h;
	m.n_headers = 2;
	m.target = (struct http_str){ "http://secret.example/x?y", 25 };
	m.host = (struct http_str){ "secret.example", 14 };
	event_message(w, &ctx, &m);
	m.target = (struct http_str){ "/x?y", 4 };
	event_message(w, &ctx, &m);
	close_writer(w, f);
	assert_null(strstr(c.data, "secret"));
	assert_non_null(strstr(c.data, "\"host\":\"REDACTED\",\"uri_path\":\"/search\""));
	assert_non_null(strstr(c.data, "\"Host\":[\"REDACTED\"],\"Accept\":[\"*/*\"]"));
	assert_non_null(strstr(c.data, "\"uri\":\"REDACTED\"}"));
	assert_non_null(strstr(c.data, "\"uri\":\"/x?y\"}"));
	free(c.data);
}

/* Bytes from the wire in every string field stay valid JSON. */
static void test_wire_bytes_escaped(void **state)
{
	struct http_header h[] = { H("X-Evil", "a\"b\\c\r\n\x1b[2J\xff\xc3") };
	struct msg_context ctx = ctx4(DIR_EGRESS, NULL);
	struct http_message m = req;
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP, NULL);

	m.headers = h;
	m.n_headers = 1;
	m.method = (struct http_str){ "G\"T", 3 };
	m.path = (struct http_str){ "/\x7f\x00", 3 };
	m.host = (struct http_str){ NULL, 0 };
	event_message(w, &ctx, &m);
	close_writer(w, f);
	assert_non_null(strstr(c.data, "\"method\":\"G\\\"T\",\"protocol\":\"HTTP/1.1\","
				       "\"host\":\"\",\"uri_path\":\"/\\u007f\\u0000\""));
	assert_non_null(strstr(c.data, "{\"X-Evil\":[\"a\\\"b\\\\c\\r\\n\\u001b[2J"
				       "\xef\xbf\xbd\xef\xbf\xbd\"]}"));
	free(c.data);
}

static void test_addresses(void **state)
{
	struct msg_context ctx = ctx4(DIR_EGRESS, NULL);
	struct capture c;
	FILE *f;
	struct event_writer *w = open_writer(&f, &c, EVENT_HTTP_REQUEST, NULL);
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };

	ctx.family = 6;
	memcpy(ctx.src.addr, v6, 16);
	memcpy(ctx.dst.addr, mapped, 16);
	event_message(w, &ctx, &req);
	ctx.family = 4;
	memcpy(ctx.src.addr, (uint8_t[4]){ 255, 255, 255, 255 }, 4);
	memset(ctx.dst.addr, 0, 16);
	event_message(w, &ctx, &req);
	close_writer(w, f);
	assert_non_null(strstr(c.data, "{\"src_ip\":\"2001:db8::1\",\"dst_ip\":\"192.0.2.1\","));
	assert_non_null(strstr(c.data, "{\"src_ip\":\"255.255.255.255\",\"dst_ip\":\"0.0.0.0\","));
	free(c.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_request_offline),
		cmocka_unit_test(test_http_response_live),
		cmocka_unit_test(test_owner_on_host),
		cmocka_unit_test(test_request_event),
		cmocka_unit_test(test_response_event),
		cmocka_unit_test(test_flow_event),
		cmocka_unit_test(test_pkt_meta_iface),
		cmocka_unit_test(test_direction_numbers),
		cmocka_unit_test(test_uri_path_decoded),
		cmocka_unit_test(test_type_selection),
		cmocka_unit_test(test_canonical_names),
		cmocka_unit_test(test_keys_stay_unique),
		cmocka_unit_test(test_many_fields),
		cmocka_unit_test(test_redaction),
		cmocka_unit_test(test_redact_host),
		cmocka_unit_test(test_wire_bytes_escaped),
		cmocka_unit_test(test_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
