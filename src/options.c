/* Command-line options: defaults, parsing with range checks, help. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "options.h"

#define HTTPEEK_VERSION "0.2.0"

enum long_only {
	OPT_CGROUP = 256,
	OPT_HEAD_LIMIT,
	OPT_MAX_FIELDS,
	OPT_MAX_FLOWS,
	OPT_FLOW_BUFFER,
	OPT_TOTAL_BUFFER,
	OPT_MEMORY_LIMIT,
	OPT_IDLE_TIMEOUT,
	OPT_RINGBUF,
	OPT_BODY_BYTES,
	OPT_OWNER_WAIT,
	OPT_REDACT,
	OPT_VERSION,
	OPT_STATS,
	OPT_METRICS,
	OPT_METRICS_FILE,
	OPT_METRICS_MAX_SERIES,
	OPT_ROUTE,
	OPT_NO_TLS,
	OPT_TLS_EXPORTED,
};

static const struct option long_options[] = {
	{ "read", required_argument, NULL, 'r' },
	{ "events", required_argument, NULL, 'e' },
	{ "output", required_argument, NULL, 'o' },
	{ "output-file", required_argument, NULL, 'O' },
	{ "pcap-filter", required_argument, NULL, 'F' },
	{ "filter", required_argument, NULL, 'f' },
	{ "write", required_argument, NULL, 'w' },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "head-limit", required_argument, NULL, OPT_HEAD_LIMIT },
	{ "max-fields", required_argument, NULL, OPT_MAX_FIELDS },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "flow-buffer", required_argument, NULL, OPT_FLOW_BUFFER },
	{ "total-buffer", required_argument, NULL, OPT_TOTAL_BUFFER },
	{ "memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "ringbuf", required_argument, NULL, OPT_RINGBUF },
	{ "body-bytes", required_argument, NULL, OPT_BODY_BYTES },
	{ "owner-wait", required_argument, NULL, OPT_OWNER_WAIT },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "metrics-max-series", required_argument, NULL, OPT_METRICS_MAX_SERIES },
	{ "route", required_argument, NULL, OPT_ROUTE },
	{ "no-tls", no_argument, NULL, OPT_NO_TLS },
	{ "tls-exported", no_argument, NULL, OPT_TLS_EXPORTED },
	{ "redact", optional_argument, NULL, OPT_REDACT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

static const char usage_text[] =
"Usage: httpeek [OPTIONS]            trace HTTP/1.x on this host live (root)\n"
"       httpeek -r FILE [OPTIONS]    read a pcap or pcapng capture ('-' for stdin)\n"
"\n"
"Input\n"
"  -r, --read FILE          read a capture file           httpeek -r dump.pcapng\n"
"  -F, --pcap-filter EXPR   libpcap filter, offline       httpeek -r x.pcap -F 'port 8080'\n"
"      --cgroup PATH        trace one cgroup v2 subtree   --cgroup /sys/fs/cgroup/unified/app\n"
"Filters (repeatable, all must match; docs/FILTERS.md)\n"
"  -f, --filter EXPR        keep the events that match    -f method=POST -f 'status>=500'\n"
"                           method=GET  status>=500  host=*.example.com  path=/api/*\n"
"                           header:User-Agent=*curl*  port=8080  src=10.0.0.0/8\n"
"                           dst=fd00::1  direction=ingress|egress  tls=yes|no\n"
"                           grpc_status>0 (gRPC calls that failed)\n"
"                           live only: comm=nginx  pid=1234  uid=33  container=3f2a\n"
"                           cgroup=system.slice/nginx.service\n"
"                           operators: = != (all), < <= > >= (status, grpc_status, port,\n"
"                           pid, uid)\n"
"Output\n"
"  -e, --events LIST        net_packet_http (default), net_packet_http_request,\n"
"                           net_packet_http_response, net_flow_http, all, none\n"
"                           (none: metrics only)          -e net_flow_http\n"
"  -o, --output FORMAT      json (default) or table       -o table\n"
"  -O, --output-file FILE   write events to FILE          -O events.jsonl\n"
"  -w, --write FILE         write the packets of the reported messages to a pcapng file,\n"
"                           each with a comment naming its event   -w matched.pcapng\n"
"      --redact[=LIST]      mask the values of Authorization, Proxy-Authorization,\n"
"                           Cookie, Set-Cookie and the headers in LIST\n"
"                                                         --redact=X-Api-Key,X-Token\n"
"Limits\n"
"      --head-limit BYTES   largest head parsed (65536)   --head-limit 16384\n"
"      --max-fields N       header fields per head (512)  --max-fields 128\n"
"      --max-flows N        flows tracked (65536)         --max-flows 200000\n"
"      --flow-buffer BYTES  out-of-order bytes per flow side (1048576)\n"
"                                                         --flow-buffer 4194304\n"
"      --total-buffer BYTES out-of-order bytes in all (67108864)\n"
"                                                         --total-buffer 268435456\n"
"      --memory-limit BYTES heads in progress, out-of-order bytes, waiting requests and IP\n"
"                           fragments together (134217728); past it the oldest\n"
"                           incomplete datagrams are given up, then the least recently\n"
"                           active flows holding any are ended   --memory-limit 536870912\n"
"      --idle-timeout SEC   forget flows idle this long (300)   --idle-timeout 60\n"
"Live\n"
"      --ringbuf BYTES      ring buffer size, power of two (16777216)\n"
"                                                         --ringbuf 67108864\n"
"      --body-bytes N       body bytes copied after each head (0)   --body-bytes 256\n"
"      --owner-wait MS      how long an event waits for its socket's owner (500)\n"
"                                                         --owner-wait 1000\n"
"      --stats SEC          print counters on stderr every SEC seconds   --stats 10\n"
"Metrics (Prometheus; docs/METRICS.md)\n"
"      --metrics ADDR:PORT  serve request rate, errors and latency per route and workload\n"
"                           at http://ADDR:PORT/metrics   --metrics 127.0.0.1:9464\n"
"      --metrics-file FILE  write the metrics once, at the end   --metrics-file run.prom\n"
"      --route PATTERN      the route of matching paths, before the {id} rules (repeatable)\n"
"                                                         --route '/users/{id}/orders'\n"
"      --metrics-max-series N   series per histogram; past it one overflow series (2000)\n"
"                                                         --metrics-max-series 5000\n"
"      --no-tls             do not read HTTPS from OpenSSL (libssl.so.3) with uprobes\n"
"                                                         httpeek --no-tls\n"
"      --tls-exported       probe SSL_read, SSL_write and their _ex twins themselves, not\n"
"                           the internal function each pair shares (slower; see -v)\n"
"Other\n"
"  -v, --verbose            more diagnostics (twice: libbpf's too)   -vv\n"
"  -h, --help               this help                     httpeek --help\n"
"      --version            print the version             httpeek --version\n";

static void set_defaults(struct options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->events.format = OUTPUT_JSON;
	opt->events.types = EVENT_HTTP;
	opt->pipeline.flow = (struct flow_limits){
		.max_flows = FLOW_DEFAULT_MAX_FLOWS,
		.max_flow_buffer = FLOW_DEFAULT_MAX_FLOW_BUFFER,
		.max_total_buffer = FLOW_DEFAULT_MAX_TOTAL_BUFFER,
		.idle_timeout_ns = FLOW_DEFAULT_IDLE_TIMEOUT_NS,
	};
	opt->pipeline.memory_limit = PIPELINE_DEFAULT_MEMORY_LIMIT;
	opt->pipeline.defrag = (struct defrag_limits){
		.timeout_ns = DEFRAG_DEFAULT_TIMEOUT_NS,
		.max_datagrams = DEFRAG_DEFAULT_MAX_DATAGRAMS,
		.max_fragments = DEFRAG_DEFAULT_MAX_FRAGMENTS,
	};
	opt->pipeline.http = (struct http_limits){
		.max_head = HTTP_DEFAULT_MAX_HEAD,
		.max_fields = HTTP_DEFAULT_MAX_FIELDS,
	};
	opt->live = (struct live_options){
		.ringbuf_bytes = 16u << 20,
		.max_head = HTTP_DEFAULT_MAX_HEAD,
		.owner_wait_ns = 500ull * 1000000ull,
		.tls = true,
	};
	opt->metrics.max_series = METRICS_DEFAULT_MAX_SERIES;
}

/* Parses a decimal number in [min, max]; prints the error itself. */
static int parse_u64(const char *name, const char *text, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
		fprintf(stderr, "httpeek: invalid %s '%s': expected a number from %llu to %llu\n",
			name, text, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	unsigned bits;
} event_names[] = {
	{ "net_packet_http", EVENT_HTTP },
	{ "net_packet_http_request", EVENT_HTTP_REQUEST },
	{ "net_packet_http_response", EVENT_HTTP_RESPONSE },
	{ "net_flow_http", EVENT_FLOW_HTTP },
	{ "all", EVENT_HTTP | EVENT_HTTP_REQUEST | EVENT_HTTP_RESPONSE | EVENT_FLOW_HTTP },
	{ "none", EVENT_NONE },
};

static int parse_events(const char *list, unsigned *types)
{
	char buf[256];
	char *save, *tok;
	size_t i;

	if (strlen(list) >= sizeof(buf)) {
		fprintf(stderr, "httpeek: invalid event list: too long\n");
		return -EINVAL;
	}
	strcpy(buf, list);
	*types = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
			if (!strcmp(tok, event_names[i].name))
				break;
		if (i == sizeof(event_names) / sizeof(event_names[0])) {
			fprintf(stderr, "httpeek: unknown event '%s' (see --help)\n", tok);
			return -EINVAL;
		}
		*types |= event_names[i].bits;
	}
	if (!*types) {
		fprintf(stderr, "httpeek: invalid event list: empty\n");
		return -EINVAL;
	}
	if ((*types & EVENT_NONE) && *types != EVENT_NONE) {
		fprintf(stderr, "httpeek: invalid event list: 'none' goes alone\n");
		return -EINVAL;
	}
	return 0;
}

static const char *const default_redact[] = {
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
};

/* Turns redaction on: the credential headers, then the names in list (may be NULL). */
static int parse_redact(struct options *opt, char *list)
{
	size_t n = 0;
	char *save, *tok;

	while (opt->redact[n])
		n++;
	if (!n)
		for (size_t i = 0; i < sizeof(default_redact) / sizeof(default_redact[0]); i++)
			opt->redact[n++] = default_redact[i];
	for (tok = list ? strtok_r(list, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == OPTIONS_MAX_REDACT) {
			fprintf(stderr, "httpeek: invalid --redact: more than %d names\n",
				OPTIONS_MAX_REDACT);
			return -EINVAL;
		}
		opt->redact[n++] = tok;
	}
	opt->redact[n] = NULL;
	opt->events.redact = opt->redact;
	return 0;
}

static int parse_format(const char *text, enum output_format *out)
{
	if (!strcmp(text, "json"))
		*out = OUTPUT_JSON;
	else if (!strcmp(text, "table"))
		*out = OUTPUT_TABLE;
	else {
		fprintf(stderr, "httpeek: unknown output format '%s' (json or table)\n", text);
		return -EINVAL;
	}
	return 0;
}

/* Handles one long-only option with a numeric value. */
static int parse_limit(struct options *opt, int c, const char *arg)
{
	uint64_t v = 0;
	int err = 0;

	switch (c) {
	case OPT_HEAD_LIMIT:
		err = parse_u64("--head-limit", arg, 256, 16u << 20, &v);
		opt->pipeline.http.max_head = (uint32_t)v;
		opt->live.max_head = (uint32_t)v;
		break;
	case OPT_MAX_FIELDS:
		err = parse_u64("--max-fields", arg, 1, 100000, &v);
		opt->pipeline.http.max_fields = (uint32_t)v;
		break;
	case OPT_MAX_FLOWS:
		err = parse_u64("--max-flows", arg, 1, 100000000, &v);
		opt->pipeline.flow.max_flows = (uint32_t)v;
		break;
	case OPT_FLOW_BUFFER:
		err = parse_u64("--flow-buffer", arg, 0, 1u << 30, &v);
		opt->pipeline.flow.max_flow_buffer = (uint32_t)v;
		break;
	case OPT_TOTAL_BUFFER:
		err = parse_u64("--total-buffer", arg, 0, 1ull << 40, &v);
		opt->pipeline.flow.max_total_buffer = v;
		break;
	case OPT_MEMORY_LIMIT:
		err = parse_u64("--memory-limit", arg, 1u << 20, 1ull << 40, &v);
		opt->pipeline.memory_limit = v;
		break;
	case OPT_IDLE_TIMEOUT:
		err = parse_u64("--idle-timeout", arg, 1, 86400 * 365, &v);
		opt->pipeline.flow.idle_timeout_ns = v * 1000000000ull;
		break;
	case OPT_RINGBUF:
		err = parse_u64("--ringbuf", arg, 4096, 1u << 30, &v);
		if (!err && (v & (v - 1))) {
			fprintf(stderr, "httpeek: invalid --ringbuf '%s': not a power of two\n", arg);
			err = -EINVAL;
		}
		opt->live.ringbuf_bytes = (uint32_t)v;
		break;
	case OPT_BODY_BYTES:
		err = parse_u64("--body-bytes", arg, 0, 65536, &v);
		opt->live.body_bytes = (uint32_t)v;
		break;
	case OPT_OWNER_WAIT:
		err = parse_u64("--owner-wait", arg, 0, 60000, &v);
		opt->live.owner_wait_ns = v * 1000000ull;
		break;
	case OPT_STATS:
		err = parse_u64("--stats", arg, 1, 86400, &v);
		opt->stats_interval_ns = v * 1000000000ull;
		break;
	case OPT_METRICS_MAX_SERIES:
		err = parse_u64("--metrics-max-series", arg, 2, 1000000, &v);
		opt->metrics.max_series = (uint32_t)v;
		break;
	}
	return err;
}

static int parse_one(struct options *opt, int c, char *arg)
{
	switch (c) {
	case 'r':
		opt->read_path = arg;
		return 0;
	case 'e':
		return parse_events(arg, &opt->events.types);
	case 'o':
		return parse_format(arg, &opt->events.format);
	case 'O':
		opt->output_path = arg;
		return 0;
	case 'F':
		opt->pcap_filter = arg;
		return 0;
	case 'f':
		return filter_add(&opt->filter, arg);
	case 'w':
		opt->write_path = arg;
		return 0;
	case OPT_CGROUP:
		opt->live.cgroup_path = arg;
		return 0;
	case OPT_NO_TLS:
		opt->live.tls = false;
		return 0;
	case OPT_TLS_EXPORTED:
		opt->live.tls_exported = true;
		return 0;
	case OPT_REDACT:
		return parse_redact(opt, arg);
	case OPT_METRICS:
		opt->metrics.listen = arg;
		return 0;
	case OPT_METRICS_FILE:
		opt->metrics.file = arg;
		return 0;
	case OPT_ROUTE:
		return route_add(&opt->metrics.routes, arg);
	case 'v':
		opt->verbose++;
		opt->live.verbose = opt->verbose;
		return 0;
	default:
		return parse_limit(opt, c, arg);
	}
}

static bool metrics_on(const struct options *opt)
{
	return opt->metrics.listen || opt->metrics.file;
}

/* Metrics options that mean nothing without --metrics or --metrics-file. */
static int check_metrics(struct options *opt)
{
	const char *orphan = NULL;

	if (opt->events.types == EVENT_NONE)
		orphan = "-e none";
	else if (opt->metrics.routes.n)
		orphan = "--route";
	else if (opt->metrics.max_series != METRICS_DEFAULT_MAX_SERIES)
		orphan = "--metrics-max-series";
	if (orphan && !metrics_on(opt)) {
		fprintf(stderr, "httpeek: %s needs --metrics or --metrics-file\n", orphan);
		return -EINVAL;
	}
	opt->metrics.live = !opt->read_path;
	return 0;
}

/* Options that only one mode understands; pushes the kernel's share of the filters. */
static int check_mode(struct options *opt)
{
	const struct filter_term *t = filter_live_term(&opt->filter);

	if (opt->pcap_filter && !opt->read_path) {
		fprintf(stderr, "httpeek: -F applies to capture files (-r) only\n");
		return -EINVAL;
	}
	if (t && opt->read_path) {
		fprintf(stderr, "httpeek: filter '%s' needs live mode (a capture has no processes)\n",
			t->expr);
		return -EINVAL;
	}
	if (opt->stats_interval_ns && opt->read_path) {
		fprintf(stderr, "httpeek: --stats applies to live mode only\n");
		return -EINVAL;
	}
	if (check_metrics(opt))
		return -EINVAL;
	filter_kernel(&opt->filter, (opt->events.types & EVENT_FLOW_HTTP) || metrics_on(opt),
		      &opt->live.filter);
	if (!filter_wants_tls(&opt->filter))
		opt->live.tls = false;  /* no TLS program is loaded then */
	return 0;
}

int options_parse(struct options *opt, int argc, char **argv)
{
	int c, err;

	set_defaults(opt);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:e:o:O:F:f:w:vh", long_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (c == OPT_VERSION) {
			printf("httpeek %s\n", HTTPEEK_VERSION);
			return 1;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "httpeek: %s option '%s' (see --help)\n",
				c == ':' ? "missing value for" : "unknown", argv[optind - 1]);
			return -EINVAL;
		}
		err = parse_one(opt, c, optarg);
		if (err)
			return err;
	}
	if (optind < argc) {
		fprintf(stderr, "httpeek: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	return check_mode(opt);
}
