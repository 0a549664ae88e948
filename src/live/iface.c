/*
 * Interface names of live packets: a 4-way set-associative table of what the kernel said,
 * sets chosen by a multiplicative hash of (namespace, index), the least recently used way of a
 * set replaced.
 */
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include "live/iface.h"

#define IFACE_SETS 1024u  /* a power of two */
#define IFACE_WAYS 4u
#define LOOPBACK_IFINDEX 1

struct iface_slot {
	uint32_t net_ns, ifindex;  /* net_ns 0: empty */
	uint64_t used;             /* the table's clock at the last use */
	char name[IF_NAMESIZE];
};

struct iface_names {
	uint64_t clock;
	struct iface_slot slot[IFACE_SETS][IFACE_WAYS];
};

struct iface_names *iface_names_new(void)
{
	return calloc(1, sizeof(struct iface_names));
}

static struct iface_slot *set_of(struct iface_names *n, uint32_t net_ns, uint32_t ifindex)
{
	uint64_t h = ((uint64_t)net_ns << 32 | ifindex) * 0x9e3779b97f4a7c15ull;

	return n->slot[h >> 54];  /* 64 - log2(IFACE_SETS) */
}

static struct iface_slot *find(struct iface_slot *set, uint32_t net_ns, uint32_t ifindex)
{
	for (unsigned int i = 0; i < IFACE_WAYS; i++)
		if (set[i].net_ns == net_ns && set[i].ifindex == ifindex)
			return &set[i];
	return NULL;
}

void iface_names_learn(struct iface_names *n, uint32_t net_ns, uint32_t ifindex,
		       const char *name)
{
	struct iface_slot *set, *s;

	if (!net_ns || !ifindex)
		return;
	set = set_of(n, net_ns, ifindex);
	s = find(set, net_ns, ifindex);
	if (!s) {
		s = &set[0];
		for (unsigned int i = 1; i < IFACE_WAYS; i++)
			if (set[i].used < s->used)
				s = &set[i];  /* empty ways have used 0 */
	}
	*s = (struct iface_slot){ .net_ns = net_ns, .ifindex = ifindex, .used = ++n->clock };
	memcpy(s->name, name, strnlen(name, IF_NAMESIZE - 1));
}

const char *iface_name(struct iface_names *n, uint32_t net_ns, uint32_t ifindex)
{
	struct iface_slot *s;

	if (ifindex == LOOPBACK_IFINDEX)
		return "lo";
	if (!net_ns || !ifindex)
		return NULL;
	s = find(set_of(n, net_ns, ifindex), net_ns, ifindex);
	if (!s)
		return NULL;
	s->used = ++n->clock;
	return s->name;
}

void iface_names_free(struct iface_names *n)
{
	free(n);
}
