/*
 * Interface names of live packets. A packet's ifindex means something only in its socket's
 * network namespace. httpeek's own namespace asks the kernel; for another one, no netlink
 * socket can be opened there without privileges httpeek has dropped, but /proc/PID/net shows
 * the namespace of PID: igmp6 lists every interface that has IPv6 (up or down, lo too) and
 * igmp every interface that is up with IPv4, each with its index and name.
 */
#include <ctype.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "live/iface.h"

#define IFACE_SLOTS 256u
#define IFACE_FOUND_NS (10ull * 1000000000ull)
#define IFACE_MISSING_NS (1ull * 1000000000ull)
#define PROC_PATH_MAX 256

struct iface_slot {
	uint32_t net_ns, ifindex;   /* net_ns 0: empty */
	uint64_t until_ns;          /* the answer is trusted until then */
	bool found;
	char name[IF_NAMESIZE];
};

struct iface_names {
	char proc[PROC_PATH_MAX];
	uint32_t own_netns;
	iface_netns_fn netns;       /* NULL: stat PROC/PID/ns/net */
	void *netns_ctx;
	struct iface_slot slot[IFACE_SLOTS];
};

struct iface_names *iface_names_new(const char *proc, uint32_t own_netns)
{
	struct iface_names *n;

	if (strlen(proc) >= sizeof(n->proc))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	strcpy(n->proc, proc);
	n->own_netns = own_netns;
	return n;
}

void iface_names_set_netns(struct iface_names *n, iface_netns_fn fn, void *ctx)
{
	n->netns = fn;
	n->netns_ctx = ctx;
}

/* The inode of pid's network namespace, 0 when it cannot be known. */
static uint32_t netns_of(const struct iface_names *n, uint32_t pid)
{
	char path[PROC_PATH_MAX + 32];
	struct stat st;
	uint32_t ino;

	if (n->netns)
		return n->netns(n->netns_ctx, pid, &ino) ? 0 : ino;
	snprintf(path, sizeof(path), "%s/%u/ns/net", n->proc, pid);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

uint32_t iface_own_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

static struct iface_slot *slot_of(struct iface_names *n, uint32_t net_ns, uint32_t ifindex)
{
	uint64_t h = ((uint64_t)net_ns << 32 | ifindex) * 0x9e3779b97f4a7c15ull;

	return &n->slot[h >> 56];
}

static void remember(struct iface_names *n, uint32_t net_ns, uint32_t ifindex,
		     const char *name, uint64_t now_ns)
{
	struct iface_slot *s = slot_of(n, net_ns, ifindex);

	s->net_ns = net_ns;
	s->ifindex = ifindex;
	s->found = name != NULL;
	s->until_ns = now_ns + (name ? IFACE_FOUND_NS : IFACE_MISSING_NS);
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
}

/*
 * Remembers every "INDEX NAME" line of one /proc net file (igmp's lines have a ':' after
 * the name; its group lines start with a tab and are skipped); copies the name of ifindex
 * to want. Returns true when ifindex was among them.
 */
static bool read_names(struct iface_names *n, const char *path, uint32_t net_ns,
		       uint32_t ifindex, uint64_t now_ns, char *want)
{
	char line[256], name[IF_NAMESIZE];
	unsigned int idx;
	bool hit = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!isdigit((unsigned char)line[0]) ||
		    sscanf(line, "%u %15[^: \t\n]", &idx, name) != 2 || !idx)
			continue;
		remember(n, net_ns, idx, name, now_ns);
		if (idx == ifindex) {
			memcpy(want, name, sizeof(name));
			hit = true;
		}
	}
	fclose(f);
	return hit;
}

/* The name of ifindex in PID's network namespace into want, when PID is still in net_ns. */
static bool read_netns(struct iface_names *n, uint32_t net_ns, uint32_t pid, uint32_t ifindex,
		       uint64_t now_ns, char *want)
{
	char path[PROC_PATH_MAX + 32];

	if (netns_of(n, pid) != net_ns)
		return false;
	snprintf(path, sizeof(path), "%s/%u/net/igmp6", n->proc, pid);
	if (read_names(n, path, net_ns, ifindex, now_ns, want))
		return true;
	snprintf(path, sizeof(path), "%s/%u/net/igmp", n->proc, pid);
	return read_names(n, path, net_ns, ifindex, now_ns, want);
}

const char *iface_name(struct iface_names *n, uint32_t net_ns, uint32_t pid, uint32_t ifindex,
		       uint64_t now_ns)
{
	char name[IF_NAMESIZE];
	struct iface_slot *s;
	bool found;

	if (ifindex == 1)
		return "lo";
	if (!ifindex || !net_ns)
		return NULL;
	s = slot_of(n, net_ns, ifindex);
	if (s->net_ns == net_ns && s->ifindex == ifindex && now_ns < s->until_ns)
		return s->found ? s->name : NULL;
	if (net_ns == n->own_netns)
		found = if_indextoname(ifindex, name) != NULL;
	else
		found = pid && read_netns(n, net_ns, pid, ifindex, now_ns, name);
	remember(n, net_ns, ifindex, found ? name : NULL, now_ns);
	return s->found ? s->name : NULL;
}

void iface_names_free(struct iface_names *n)
{
	free(n);
}
