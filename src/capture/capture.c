/*
 * Capture-file source: pcap and pcapng read with libpcap, packets handed on one by one.
 * libpcap reads through a stdio stream of our own that passes every byte it reads to the
 * pcapng direction walk (pcapng.c) on the way: one read of the file, standard input
 * included, and the walk sees each block before libpcap returns its packet.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "capture/capture.h"
#include "capture/pcapng.h"

#define CAPTURE_READ_CHUNK CAPTURE_PCAPNG_MAX_AHEAD
#define CAPTURE_STOP_DRAIN (4u << 20)  /* bytes still read from a pipe after a stop, at most */

struct capture {
	pcap_t *pcap;
	int fd;
	bool own_fd;         /* not standard input: closed with the stream */
	bool pipe;           /* a pipe or socket: what it already holds is read after a stop */
	bool stopping;       /* stopped: reads take only what the pipe holds, never wait */
	uint64_t drain_end;  /* bytes_read where the reads after a stop end */
	volatile sig_atomic_t *stop;
	char *read_buffer;   /* the stream's buffer: one read() per chunk */
	const char *path;
	int linktype;
	bool filtered;
	struct bpf_program prog;
	struct capture_pcapng *walk;
	struct capture_stats stats;
};

/* Reads the next chunk for libpcap and lets the direction walk see it first. */
static ssize_t tee_read(void *cookie, char *buf, size_t size)
{
	struct capture *c = cookie;
	struct pollfd ready = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		if (c->stopping && (poll(&ready, 1, 0) != 1 || !(ready.revents & POLLIN)))
			return 0;  /* nothing more was given before the stop: the end */
		n = read(c->fd, buf, size < CAPTURE_READ_CHUNK ? size : CAPTURE_READ_CHUNK);
		if (n >= 0 || errno != EINTR || !c->pipe || !c->stop || !*c->stop)
			break;
		c->stopping = true;  /* the stop came while the read waited */
	}

	if (n > 0)
		capture_pcapng_feed(c->walk, (const uint8_t *)buf, (size_t)n);
	return n;
}

static int tee_close(void *cookie)
{
	struct capture *c = cookie;

	if (c->own_fd)
		close(c->fd);
	c->fd = -1;
	return 0;
}

/* A read-only stream over c->fd for libpcap; NULL with errno set. */
static FILE *open_tee(struct capture *c)
{
	cookie_io_functions_t io = { .read = tee_read, .close = tee_close };
	FILE *f = fopencookie(c, "r", io);

	if (!f)
		return NULL;
	c->read_buffer = malloc(CAPTURE_READ_CHUNK);
	if (c->read_buffer)
		setvbuf(f, c->read_buffer, _IOFBF, CAPTURE_READ_CHUNK);
	return f;
}

/*
 * The filter runs in capture_run (pcap_offline_filter), not inside libpcap: every packet
 * must come out of pcap_next_ex to keep the direction walk in step.
 */
static int apply_filter(struct capture *c, const char *filter)
{
	if (pcap_compile(c->pcap, &c->prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		fprintf(stderr, "httpeek: failed to compile filter '%s': %s\n", filter,
			pcap_geterr(c->pcap));
		return -EINVAL;
	}
	c->filtered = true;
	return 0;
}

static void discard(struct capture *c, FILE *stream)
{
	if (stream)
		fclose(stream);  /* closes the file too */
	else if (c->own_fd && c->fd >= 0)
		close(c->fd);
	free(c->read_buffer);
	capture_pcapng_free(c->walk);
	free(c);
}

int capture_open(struct capture **out, const char *path, const char *filter)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c = calloc(1, sizeof(*c));
	FILE *stream = NULL;
	struct stat st;
	int err;

	if (!c)
		return -ENOMEM;
	c->path = path;
	c->fd = -1;
	c->walk = capture_pcapng_new();
	if (!c->walk) {
		err = -ENOMEM;
		goto cleanup;
	}
	c->own_fd = strcmp(path, "-") != 0;
	c->fd = c->own_fd ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	stream = c->fd < 0 ? NULL : open_tee(c);
	if (stream && fstat(c->fd, &st) == 0)
		c->pipe = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
	if (!stream) {
		err = -errno;
		fprintf(stderr, "httpeek: failed to open capture %s: %s\n", path, strerror(errno));
		goto cleanup;
	}
	c->pcap = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_NANO,
							   errbuf);
	if (!c->pcap) {
		fprintf(stderr, "httpeek: failed to open capture %s: %s\n", path, errbuf);
		err = -EINVAL;
		goto cleanup;
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
cleanup:
	discard(c, stream);
	return err;
}

/*
 * A stop (SIGINT, SIGTERM) ends a file at once; from a pipe, the packets it was given before
 * the stop are still read (what the stream buffered and what the pipe holds), nothing waited for.
 */
static bool stop_now(struct capture *c)
{
	if (!c->pipe)
		return true;
	if (!c->drain_end)
		c->drain_end = c->stats.bytes_read + CAPTURE_STOP_DRAIN;
	c->stopping = true;
	return c->stats.bytes_read >= c->drain_end;
}

int capture_run(struct capture *c, packet_fn fn, void *ctx, volatile sig_atomic_t *stop)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	struct packet pkt = { .linktype = c->linktype };
	int r;

	c->stop = stop;
	while (!*stop || !stop_now(c)) {
		r = pcap_next_ex(c->pcap, &hdr, &data);
		if (r == PCAP_ERROR_BREAK || (r < 0 && *stop))
			return 0;  /* the end, or a read the stop signal interrupted */
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
		pkt.dir = capture_pcapng_take(c->walk, hdr->caplen, hdr->len);
		if (c->filtered && !pcap_offline_filter(&c->prog, hdr, data))
			continue;
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
	pcap_close(c->pcap);  /* closes the stream and the file */
	if (c->filtered)
		pcap_freecode(&c->prog);
	free(c->read_buffer);
	capture_pcapng_free(c->walk);
	free(c);
}
