/* Capture-file source: pcap and pcapng read with libpcap, packets handed on one by one. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capture.h"

#define CAPTURE_READ_BUFFER (1u << 20)

struct capture {
	pcap_t *pcap;
	FILE *file;
	char *read_buffer;   /* a large stdio buffer: few read() calls */
	const char *path;
	int linktype;
	struct capture_stats stats;
};

static int apply_filter(struct capture *c, const char *filter)
{
	struct bpf_program prog;
	int err = 0;

	if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		fprintf(stderr, "httpeek: failed to compile filter '%s': %s\n", filter,
			pcap_geterr(c->pcap));
		return -EINVAL;
	}
	if (pcap_setfilter(c->pcap, &prog) < 0) {
		fprintf(stderr, "httpeek: failed to set filter '%s': %s\n", filter,
			pcap_geterr(c->pcap));
		err = -EINVAL;
	}
	pcap_freecode(&prog);
	return err;
}

int capture_open(struct capture **out, const char *path, const char *filter)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->path = path;
	c->file = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!c->file) {
		err = -errno;
		fprintf(stderr, "httpeek: failed to open capture %s: %s\n", path, strerror(errno));
		free(c);
		return err;
	}
	c->read_buffer = malloc(CAPTURE_READ_BUFFER);
	if (c->read_buffer)
		setvbuf(c->file, c->read_buffer, _IOFBF, CAPTURE_READ_BUFFER);
	c->pcap = pcap_fopen_offline_with_tstamp_precision(c->file, PCAP_TSTAMP_PRECISION_NANO,
							   errbuf);
	if (!c->pcap) {
		fprintf(stderr, "httpeek: failed to open capture %s: %s\n", path, errbuf);
		if (c->file != stdin)
			fclose(c->file);
		free(c->read_buffer);
		free(c);
		return -EINVAL;
	}
	c->linktype = pcap_datalink(c->pcap);
	if (filter) {
		err = apply_filter(c, filter);
		if (err) {
			capture_close(c);
			return err;
		}
	}
	*out = c;
	return 0;
}

int capture_run(struct capture *c, capture_packet_fn fn, void *ctx, volatile sig_atomic_t *stop)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	struct packet pkt = { .linktype = c->linktype };
	int r;

	while (!*stop) {
		r = pcap_next_ex(c->pcap, &hdr, &data);
		if (r == PCAP_ERROR_BREAK)
			return 0;
		if (r < 0) {
			fprintf(stderr, "httpeek: capture %s cut short after %llu packets: %s\n",
				c->path, (unsigned long long)c->stats.packets,
				pcap_geterr(c->pcap));
			return -EIO;
		}
		if (r == 0)
			continue;
		c->stats.packets++;
		c->stats.bytes_read += hdr->caplen + 16;
		pkt.ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000ull + (uint64_t)hdr->ts.tv_usec;
		pkt.data = data;
		pkt.caplen = hdr->caplen;
		pkt.wirelen = hdr->len < hdr->caplen ? hdr->caplen : hdr->len;
		fn(ctx, &pkt);
	}
	return 0;
}

const struct capture_stats *capture_get_stats(const struct capture *c)
{
	return &c->stats;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	pcap_close(c->pcap);  /* closes the file too */
	free(c->read_buffer);
	free(c);
}
