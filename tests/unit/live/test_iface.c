/* iface.c: names as the kernel said them, per (namespace, index), and the table's eviction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "live/iface.h"

#define NS_A 4026531840u
#define NS_B 4026532500u

static void expect_name(const char *got, const char *want)
{
	if (!want && got)
		fail_msg("got %s, want none", got);
	if (want && (!got || strcmp(got, want)))
		fail_msg("got %s, want %s", got ? got : "none", want);
}

/* A name belongs to its namespace and index; ifindex 1 is lo everywhere, 0 and 0 name nothing. */
static void test_learned(void **state)
{
	struct iface_names *n = iface_names_new();

	assert_non_null(n);
	iface_names_learn(n, NS_A, 2, "eth0");
	iface_names_learn(n, NS_B, 2, "veth-long-name1");
	expect_name(iface_name(n, NS_A, 2), "eth0");
	expect_name(iface_name(n, NS_B, 2), "veth-long-name1");
	expect_name(iface_name(n, NS_A, 3), NULL);
	expect_name(iface_name(n, NS_B + 1, 2), NULL);
	expect_name(iface_name(n, 0, 1), "lo");
	expect_name(iface_name(n, NS_A, 1), "lo");
	expect_name(iface_name(n, 0, 2), NULL);
	expect_name(iface_name(n, NS_A, 0), NULL);
	iface_names_learn(n, 0, 5, "x");
	iface_names_learn(n, NS_A, 0, "y");
	expect_name(iface_name(n, 0, 5), NULL);
	expect_name(iface_name(n, NS_A, 0), NULL);
	iface_names_free(n);
}

/* A renamed interface takes its new name; a name is cut at 15 bytes. */
static void test_renamed_and_long(void **state)
{
	struct iface_names *n = iface_names_new();

	assert_non_null(n);
	iface_names_learn(n, NS_A, 7, "veth1234");
	iface_names_learn(n, NS_A, 7, "eth0");
	expect_name(iface_name(n, NS_A, 7), "eth0");
	iface_names_learn(n, NS_A, 8, "0123456789abcdefXYZ");
	expect_name(iface_name(n, NS_A, 8), "0123456789abcde");
	iface_names_free(n);
}

/*
 * Past its 4096 places the table forgets the names used least recently, never one in use:
 * a name looked up now and then survives thousands of others.
 */
static void test_eviction(void **state)
{
	struct iface_names *n = iface_names_new();
	char name[16];
	int kept = 0;

	assert_non_null(n);
	iface_names_learn(n, NS_A, 2, "busy0");
	for (uint32_t i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "v%u", i);
		iface_names_learn(n, NS_B + i, 3, name);
		if (i % 64 == 0)
			expect_name(iface_name(n, NS_A, 2), "busy0");
	}
	for (uint32_t i = 0; i < 20000; i++)
		kept += iface_name(n, NS_B + i, 3) != NULL;
	if (kept < 3000 || kept > 4096)
		fail_msg("%d of 20000 names kept, want about 4096", kept);
	expect_name(iface_name(n, NS_B + 19999, 3), "v19999");
	iface_names_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learned),
		cmocka_unit_test(test_renamed_and_long),
		cmocka_unit_test(test_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
