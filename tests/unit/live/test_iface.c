/* iface.c: interface names from a /proc tree laid out like the kernel's, and the cache. */
#define _GNU_SOURCE
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "live/iface.h"

#define SEC 1000000000ull

/* As the kernel writes them (6.x): igmp6 per address, igmp per device then its groups. */
static const char igmp6[] =
	"1    lo              ff020000000000000000000000000001     1 0000000C 0\n"
	"2    eth0            ff0200000000000000000001ff461996     1 00000004 0\n"
	"2    eth0            ff020000000000000000000000000001     1 0000000C 0\n"
	"12   veth-long-name1 ff020000000000000000000000000001     1 0000000C 0\n";
static const char igmp[] =
	"Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
	"1\tlo        :     1      V3\n"
	"\t\t\t\t010000E0     1 0:00000000\t\t0\n"
	"7\tipv4only  :     1      V3\n"
	"\t\t\t\t010000E0     1 0:00000000\t\t0\n";

struct tree {
	char root[64];
	uint32_t net_ns;  /* the inode of ROOT/100/ns/net */
	uint32_t other_ns;  /* the inode of ROOT/200/ns/net */
};

static void put_file(const char *root, const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static uint32_t inode_of(const char *root, const char *rel)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(stat(path, &st), 0);
	return (uint32_t)st.st_ino;
}

static int make_tree(void **state)
{
	static const char *const dirs[] = { "100", "100/ns", "100/net", "200", "200/ns" };
	struct tree *t = calloc(1, sizeof(*t));
	char path[256];

	assert_non_null(t);
	strcpy(t->root, "/tmp/httpeek-iface-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->root, dirs[i]);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	put_file(t->root, "100/ns/net", "");
	put_file(t->root, "200/ns/net", "");
	put_file(t->root, "100/net/igmp6", igmp6);
	put_file(t->root, "100/net/igmp", igmp);
	t->net_ns = inode_of(t->root, "100/ns/net");
	t->other_ns = inode_of(t->root, "200/ns/net");
	*state = t;
	return 0;
}

static int remove_tree(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static void expect_name(const char *got, const char *want)
{
	if (!want && got)
		fail_msg("got %s, want none", got);
	if (want && (!got || strcmp(got, want)))
		fail_msg("got %s, want %s", got ? got : "none", want);
}

static void test_other_netns(void **state)
{
	struct tree *t = *state;
	struct iface_names *n = iface_names_new(t->root, 1);

	assert_non_null(n);
	expect_name(iface_name(n, t->net_ns, 100, 2, SEC), "eth0");
	expect_name(iface_name(n, t->net_ns, 100, 12, SEC), "veth-long-name1");
	expect_name(iface_name(n, t->net_ns, 100, 7, SEC), "ipv4only");  /* igmp only */
	expect_name(iface_name(n, t->net_ns, 100, 1, SEC), "lo");
	expect_name(iface_name(n, t->net_ns, 100, 9, SEC), NULL);
	expect_name(iface_name(n, t->net_ns, 100, 0, SEC), NULL);
	iface_names_free(n);
}

/* ifindex 1 is lo everywhere; nothing else is named without a namespace and a process in it. */
static void test_unknown(void **state)
{
	struct tree *t = *state;
	struct iface_names *n = iface_names_new(t->root, 1);

	assert_non_null(n);
	expect_name(iface_name(n, 0, 0, 1, SEC), "lo");
	expect_name(iface_name(n, 0, 100, 2, SEC), NULL);
	expect_name(iface_name(n, t->net_ns, 0, 2, SEC), NULL);
	expect_name(iface_name(n, t->net_ns, 300, 2, SEC), NULL);        /* no such process */
	expect_name(iface_name(n, t->other_ns + 1, 100, 2, SEC), NULL);  /* 100 is elsewhere */
	expect_name(iface_name(n, t->other_ns, 200, 2, SEC), NULL);      /* no net files */
	iface_names_free(n);
}

/* Found names hold for 10 s, missing ones for 1 s. */
static void test_cache(void **state)
{
	struct tree *t = *state;
	struct iface_names *n = iface_names_new(t->root, 1);

	assert_non_null(n);
	expect_name(iface_name(n, t->net_ns, 100, 2, SEC), "eth0");
	expect_name(iface_name(n, t->net_ns, 100, 5, SEC), NULL);
	put_file(t->root, "100/net/igmp6", "2    renamed0        ff020000000000000000000000000001"
					   "     1 0000000C 0\n5    new0            "
					   "ff020000000000000000000000000001     1 0000000C 0\n");
	expect_name(iface_name(n, t->net_ns, 100, 2, 10 * SEC), "eth0");
	expect_name(iface_name(n, t->net_ns, 100, 5, SEC + SEC / 2), NULL);
	expect_name(iface_name(n, t->net_ns, 100, 5, 2 * SEC), "new0");
	expect_name(iface_name(n, t->net_ns, 100, 2, 11 * SEC), "renamed0");
	put_file(t->root, "100/net/igmp6", igmp6);
	iface_names_free(n);
}

/* httpeek's own namespace: the kernel's names. */
static void test_own_netns(void **state)
{
	struct tree *t = *state;
	struct if_nameindex *all = if_nameindex(), *i;
	uint32_t own = iface_own_netns();
	struct iface_names *n = iface_names_new(t->root, own);

	assert_non_null(n);
	assert_non_null(all);
	assert_int_not_equal(own, 0);
	for (i = all; i->if_index; i++)
		expect_name(iface_name(n, own, 0, i->if_index, SEC), i->if_name);
	expect_name(iface_name(n, own, 0, 0x7fffffff, SEC), NULL);
	if_freenameindex(all);
	iface_names_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_other_netns, make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_unknown, make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_cache, make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_own_netns, make_tree, remove_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
