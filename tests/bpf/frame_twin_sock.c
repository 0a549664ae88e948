// SPDX-License-Identifier: GPL-2.0
/*
 * The programs on real sockets (frame_twin.c has the whole story): this process moves into a
 * cgroup v2 directory of its own, to which the two cgroup_skb programs are attached, and into
 * a network namespace of its own, with only lo. Each conversation runs over one TCP
 * connection on 127.0.0.1, both ends here, each write sent in pieces of random sizes with
 * TCP_NODELAY; a packet socket on lo keeps every packet. Then the twin gets, per socket, the
 * packets it sent (egress) and received (ingress) in the order they went, with the TCP state
 * stream_start() reads then (a direction is fresh until a byte of it was acknowledged or
 * received), and its records must be the kernel's records of that socket, in order.
 * Covers what a socket keeps between packets: bodies across packets, heads across packets,
 * HEAD and CONNECT queued for their responses, tunnels, chunked framing, FIN.
 * Not covered: retransmissions, reordering and loss (loopback has none), copies made once
 * for both ends of loopback (the programs are not on the root cgroup here, as they are in
 * httpeek), two programs framing one socket at once, a full ring buffer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "frame_twin.h"

#define CORPUS "fuzz/corpus/frame"
#define SNAP 70000

/* One packet as the packet socket saw it (IP header first). */
struct cap {
	uint8_t *b;
	uint32_t len;
};

struct caps {
	struct cap *c;
	size_t n, cap;
};

/* What the twin keeps of one socket end, and the TCP state a packet finds there. */
struct end {
	uint64_t cookie;
	uint16_t port;
	struct twin_sock k;
	uint32_t isn, peer_isn;      /* sequence numbers of its SYN and of the peer's */
	uint32_t sent, received;     /* payload bytes so far */
	uint32_t acked;              /* highest acknowledgment number it received */
	struct kept *out;            /* its records, in order */
	size_t nout, capout;
};

/* The twin's records of one packet, and the packet. */
struct kept {
	struct twin_result r;
	const uint8_t *pkt;
};

static uint64_t rng_state = 88172645463325252ull;
static size_t compared;     /* records found equal */

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? (uint32_t)(rng_state % n) : 0;
}

/* A fuzz_frame input's writes: [3 option bytes] then [side][len:2][bytes]. */
static void parse_input(struct conv *c, uint8_t *data, size_t size)
{
	size_t off = 3;

	c->buf = data;
	while (c->n < 64 && size >= off + 3) {
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];

		off += 3;
		if (len > size - off)
			len = size - off;
		c->w[c->n++] = (struct sim_write){ data[off - 3] & 1, data + off, len };
		off += len;
	}
}

size_t twin_conversations(struct conv **out, size_t generated)
{
	DIR *d = opendir(CORPUS);
	struct dirent *e;
	size_t n = 0, cap = generated + 64;
	struct conv *c = calloc(cap, sizeof(*c));

	if (!c)
		abort();
	while (d && (e = readdir(d)) && n + generated < cap) {
		char path[512];
		FILE *f;
		uint8_t *data = malloc(1 << 16);
		size_t size;

		snprintf(path, sizeof(path), "%s/%s", CORPUS, e->d_name);
		f = e->d_name[0] != '.' ? fopen(path, "rb") : NULL;
		if (!f || !data) {
			free(data);
			continue;
		}
		size = fread(data, 1, 1 << 16, f);
		fclose(f);
		parse_input(&c[n], data, size);
		snprintf(c[n].name, sizeof(c[n].name), "corpus %.48s", e->d_name);
		n++;
	}
	if (d)
		closedir(d);
	for (size_t i = 0; i < generated; i++, n++) {
		c[n].n = sim_conversation(i + 1, c[n].w, 64, &c[n].buf);
		snprintf(c[n].name, sizeof(c[n].name), "conversation %zu", i + 1);
	}
	*out = c;
	return n;
}

void twin_conversations_free(struct conv *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].buf);
	free(c);
}

/* Into a cgroup v2 directory of its own; returns its fd, -1 on failure (its path in dir). */
static int own_cgroup(char *dir, size_t size)
{
	char line[512], mnt[256] = "", procs[600];
	FILE *m = fopen("/proc/mounts", "r");
	int fd;

	while (m && fgets(line, sizeof(line), m))
		if (sscanf(line, "%*s %255s cgroup2", mnt) == 1 && strstr(line, " cgroup2 "))
			break;
	if (m)
		fclose(m);
	if (!mnt[0])
		return -1;
	snprintf(dir, size, "%s/httpeek-twin-%d", mnt, getpid());
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	fd = open(procs, O_WRONLY);
	if (fd < 0 || write(fd, "0\n", 2) != 2) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return open(dir, O_RDONLY | O_DIRECTORY);
}

/* Back into the parent cgroup, and the directory removed. */
static void leave_cgroup(const char *dir)
{
	char procs[600];
	int fd;

	snprintf(procs, sizeof(procs), "%s/../cgroup.procs", dir);
	fd = open(procs, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "0\n", 2) != 2)
			perror("frame_twin: leave the cgroup");
		close(fd);
	}
	rmdir(dir);
}

/* A network namespace of its own with lo up; the packet socket on lo. */
static int own_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int s, p, big = 64 << 20;

	if (unshare(CLONE_NEWNET))
		return -1;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) || ioctl(s, SIOCGIFINDEX, &ifr))
		return -1;
	close(s);
	p = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (p < 0 || bind(p, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(p, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		return -1;
	return p;
}

/* Reads every packet the packet socket has (the looped-back copies, IP header first). */
static void capture(int p, struct caps *c)
{
	static uint8_t b[SNAP];
	struct pollfd pf = { .fd = p, .events = POLLIN };

	while (poll(&pf, 1, 10) > 0) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(p, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if (from.sll_pkttype != PACKET_HOST || n <= ETH_HLEN)
			continue;
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 1024;
			c->c = realloc(c->c, c->cap * sizeof(*c->c));
		}
		c->c[c->n].len = (uint32_t)(n - ETH_HLEN);
		c->c[c->n].b = malloc(c->c[c->n].len);
		memcpy(c->c[c->n].b, b + ETH_HLEN, c->c[c->n].len);
		c->n++;
	}
}

static uint64_t cookie_of(int fd)
{
	uint64_t c = 0;
	socklen_t l = sizeof(c);

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &l);
	return c;
}

/* Reads what fd has until want bytes came (or EOF when want is 0); 0 or -1. */
static int drain(int fd, size_t want)
{
	static char b[1 << 16];
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	size_t got = 0;

	while (!want || got < want) {
		ssize_t n;

		if (poll(&pf, 1, 2000) <= 0)
			return -1;
		n = recv(fd, b, sizeof(b), 0);
		if (n < 0)
			return -1;
		if (n == 0)
			return want ? -1 : 0;
		got += (size_t)n;
	}
	return 0;
}

/* A fresh connection on 127.0.0.1: fds[0] the client, fds[1] the server; 0 or -1. */
static int connect_pair(int *fds, uint16_t *ports)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), cl = socket(AF_INET, SOCK_STREAM, 0), sv;

	fds[0] = cl;
	if (l < 0 || cl < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al) || connect(cl, (struct sockaddr *)&a, al))
		return -1;
	sv = accept(l, NULL, NULL);
	close(l);
	fds[1] = sv;
	if (sv < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);

		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		getsockname(fds[i], (struct sockaddr *)&me, &ml);
		ports[i] = ntohs(me.sin_port);
	}
	return 0;
}

/* One write, in pieces of random sizes, each read at the other end before the next. */
static int write_one(const int *fds, const struct sim_write *w)
{
	for (size_t off = 0; off < w->len;) {
		size_t k = w->len - off, cut = rnd(4) ? 1 + rnd(rnd(2) ? 8 : 1448) : k;

		k = cut < k ? cut : k;
		if (send(fds[w->side], w->bytes + off, k, 0) != (ssize_t)k || drain(fds[!w->side], k))
			return -1;
		off += k;
	}
	return 0;
}

/* Both FINs, each read to its end. */
static int finish(const int *fds)
{
	shutdown(fds[0], SHUT_WR);
	if (drain(fds[1], 0))
		return -1;
	shutdown(fds[1], SHUT_WR);
	return drain(fds[0], 0);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void keep(struct end *e, const struct twin_result *r, const uint8_t *pkt)
{
	if (e->nout == e->capout) {
		e->capout = e->capout ? 2 * e->capout : 64;
		e->out = realloc(e->out, e->capout * sizeof(*e->out));
		if (!e->out)
			abort();
	}
	e->out[e->nout].r = *r;
	e->out[e->nout++].pkt = pkt;
}

/*
 * One captured packet at one end: the TCP state stream_start() reads there (a socket sends
 * a packet after the acknowledgments it received before it; it filters a packet it receives
 * before taking it in), then the twin.
 */
static int at_end(struct end *e, const struct twin_knobs *kn, const uint8_t *ip, uint32_t len,
		  int egress)
{
	uint32_t hl = (ip[0] & 15) * 4 + (ip[(ip[0] & 15) * 4 + 12] >> 4) * 4;
	const uint8_t *tcp = ip + (ip[0] & 15) * 4;
	struct twin_packet p = { .bytes = ip, .hl = hl, .plen = len - hl, .seq = be32(tcp + 4),
				 .tcp_flags = tcp[13], .dir = egress ? REC_DIR_EGRESS : REC_DIR_INGRESS };
	uint32_t snd_una = e->acked ? e->acked : e->isn + 1;
	struct twin_facts f;
	struct twin_result r;

	if (egress)
		f = (struct twin_facts){ .self_fresh = snd_una - e->isn <= 1 && p.seq == snd_una,
					 .self_first = p.seq, .other_fresh = !e->received,
					 .other_first = e->peer_isn + 1 + e->received };
	else
		f = (struct twin_facts){ .self_fresh = !e->received,
					 .self_first = e->peer_isn + 1 + e->received,
					 .other_fresh = !e->sent, .other_first = e->isn + 1 + e->sent };
	if (twin_packet(&e->k, kn, &p, &f, &r))
		return -1;
	if (r.n)
		keep(e, &r, ip);
	return 0;
}

/*
 * The twin on every captured packet of the connection from packet seen on (those before went
 * by before the programs were attached: they only move the TCP state), then each end
 * against the kernel.
 */
static const char *replay(struct caps *c, size_t seen, struct end *ends,
			  const struct twin_knobs *kn, const struct krecs *got, size_t *packets)
{
	static char why[700];

	for (size_t i = 0; i < c->n; i++) {
		const uint8_t *ip = c->c[i].b, *tcp = ip + (ip[0] & 15) * 4;
		int from = (tcp[0] << 8 | tcp[1]) == ends[1].port;
		struct end *s = &ends[from], *r = &ends[!from];
		uint32_t hl = (ip[0] & 15) * 4 + (tcp[12] >> 4) * 4, plen = c->c[i].len - hl;

		if (ip[0] >> 4 != 4 || ip[9] != 6)
			continue;
		if (tcp[13] & 0x02) {  /* SYN: where each side's stream starts */
			s->isn = be32(tcp + 4);
			r->peer_isn = s->isn;
		}
		if (i >= seen && (at_end(s, kn, ip, c->c[i].len, 1) || at_end(r, kn, ip, c->c[i].len, 0)))
			return "more records for one packet than the twin keeps";
		s->sent += plen;
		r->received += plen;
		if (tcp[13] & 0x10)
			r->acked = be32(tcp + 8);
		(*packets)++;
	}
	for (int e = 0; e < 2; e++) {
		struct krecs mine = { 0 };
		size_t at = 0, k = 0;

		for (size_t i = 0; i < got->n; i++)
			if (got->r[i].cookie == ends[e].cookie) {
				if (mine.n == mine.cap) {
					mine.cap = mine.cap ? 2 * mine.cap : 64;
					mine.r = realloc(mine.r, mine.cap * sizeof(*mine.r));
				}
				mine.r[mine.n++] = got->r[i];
			}
		for (k = 0; k < ends[e].nout; k++) {
			const char *w = twin_compare(&ends[e].out[k].r, ends[e].out[k].pkt, &mine,
						     &at);

			if (w) {
				snprintf(why, sizeof(why), "the %s's packet with records #%zu: %s",
					 e ? "server" : "client", k + 1, w);
				free(mine.r);
				return why;
			}
		}
		compared += at;
		if (at != mine.n) {
			snprintf(why, sizeof(why), "the %s: the kernel wrote %zu records, the twin %zu",
				 e ? "server" : "client", mine.n, at);
			free(mine.r);
			return why;
		}
		free(mine.r);
	}
	return NULL;
}

static void caps_free(struct caps *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->c[i].b);
	free(c->c);
	*c = (struct caps){ 0 };
}

/*
 * One conversation on a connection of its own: NULL, or what differs. late: the programs
 * are attached after its first write, as to a connection older than httpeek.
 */
static const char *one(struct loaded *l, int pkt, int cg, const struct conv *c, int late,
		       size_t *packets)
{
	struct bpf_link *links[2] = { NULL, NULL };
	struct end ends[2] = { { 0 } };
	struct caps caps = { 0 };
	const char *why = NULL;
	uint16_t ports[2] = { 0, 0 };
	int fds[2] = { -1, -1 };
	size_t seen = 0, i = 0;

	krecs_clear(&l->got);
	if (connect_pair(fds, ports) || (late && c->n && write_one(fds, &c->w[i++])))
		why = "the conversation failed on its sockets";
	capture(pkt, &caps);
	seen = late ? caps.n : 0;
	links[0] = bpf_program__attach_cgroup(l->skel->progs.httpeek_ingress, cg);
	links[1] = bpf_program__attach_cgroup(l->skel->progs.httpeek_egress, cg);
	if (!why && (!links[0] || !links[1]))
		why = "the programs could not be attached";
	for (; !why && i < c->n; i++)
		if (write_one(fds, &c->w[i]))
			why = "the conversation failed on its sockets";
	if (!why && finish(fds))
		why = "the connection did not end";
	for (int e = 0; e < 2; e++) {
		ends[e].cookie = fds[e] >= 0 ? cookie_of(fds[e]) : 0;
		ends[e].port = ports[e];
		if (fds[e] >= 0)
			close(fds[e]);
	}
	capture(pkt, &caps);
	bpf_link__destroy(links[0]);
	bpf_link__destroy(links[1]);
	ring_buffer__consume(l->rb);
	if (!why)
		why = l->got.bad ? "malformed records"
				 : replay(&caps, seen, ends, &l->knobs, &l->got, packets);
	for (int e = 0; e < 2; e++)
		free(ends[e].out);
	caps_free(&caps);
	return why;
}

void twin_sockets(struct conv *convs, size_t n, const struct twin_knobs *kn)
{
	char dir[512], where[160] = "";
	const char *why = "set-up failed (cgroup v2, network namespace or packet socket)";
	int cg = own_cgroup(dir, sizeof(dir)), pkt = -1;
	size_t packets = 0, done = 0;
	struct loaded l;

	if (cg >= 0 && !twin_load(&l, kn)) {
		pkt = own_netns();
		why = pkt >= 0 ? NULL : why;
		for (size_t i = 0; pkt >= 0 && i < n; i++, done++) {
			why = one(&l, pkt, cg, &convs[i], (int)(i & 1), &packets);
			snprintf(where, sizeof(where), "%s%s: ", convs[i].name,
				 i & 1 ? " (programs attached after its first write)" : "");
			if (why)
				break;
		}
		twin_unload(&l);
	}
	if (cg >= 0) {
		close(cg);
		leave_cgroup(dir);
	}
	if (pkt >= 0)
		close(pkt);
	if (why || !done) {
		printf("not ok - twin: sockets, head limit %u: %s%s\n", kn->max_head, where,
		       why ? why : "no conversation ran");
		twin_failures++;
		return;
	}
	printf("ok - twin: sockets, head limit %u\n", kn->max_head);
	printf("# twin: sockets, head limit %u: %zu conversations (every other one joined after "
	       "its first write), %zu packets, %zu records of both ends equal\n", kn->max_head,
	       done, packets, compared);
	compared = 0;
}
