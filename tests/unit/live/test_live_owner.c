/*
 * Unit tests of the live stage's pure parts: the cgroup parser, the owner hold queue and the
 * owner table.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "live/hold.h"
#include "live/owner_proc.h"
#include "live/owner_table.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "1b2c3d4e-0000-4111-8222-333344445555"

static void parse(const char *text, struct owner *o)
{
	memset(o, 0x55, sizeof(*o));
	owner_parse_cgroup(text, strlen(text), o);
}

static void test_cgroup_docker(void **state)
{
	struct owner o;

	parse("0::/system.slice/docker-" ID64 ".scope\n", &o);
	assert_string_equal(o.container_id, ID64);
	assert_string_equal(o.container_runtime, "docker");
	assert_string_equal(o.pod_uid, "");
	parse("12:memory:/docker/" ID64 "\n0::/\n", &o);
	assert_string_equal(o.container_id, ID64);
	assert_string_equal(o.container_runtime, "docker");
}

static void test_cgroup_runtimes(void **state)
{
	struct owner o;

	parse("0::/system.slice/crio-" ID64 ".scope", &o);
	assert_string_equal(o.container_runtime, "crio");
	parse("0::/machine.slice/libpod-" ID64 ".scope/container", &o);
	assert_string_equal(o.container_runtime, "podman");
	assert_string_equal(o.container_id, ID64);
}

static void test_cgroup_kubernetes(void **state)
{
	struct owner o;

	parse("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	      "1b2c3d4e_0000_4111_8222_333344445555.slice/cri-containerd-" ID64 ".scope\n", &o);
	assert_string_equal(o.container_id, ID64);
	assert_string_equal(o.container_runtime, "containerd");
	assert_string_equal(o.pod_uid, UID);
	parse("11:pids:/kubepods/besteffort/pod" UID "/" ID64 "\n", &o);
	assert_string_equal(o.container_id, ID64);
	assert_string_equal(o.container_runtime, "");
	assert_string_equal(o.pod_uid, UID);
}

static void test_cgroup_none(void **state)
{
	struct owner o;

	parse("0::/user.slice/user-0.slice/session-1.scope\n", &o);
	assert_string_equal(o.container_id, "");
	assert_string_equal(o.container_runtime, "");
	assert_string_equal(o.pod_uid, "");
	/* Too short, not hex, cut off: nothing. */
	parse("0::/docker-0123.scope\n0::/docker-" ID64 "x.scope\n1:x", &o);
	assert_string_equal(o.container_id, "");
	parse("", &o);
	assert_string_equal(o.container_id, "");
	parse("0::/system.slice/docker-" ID64 ".sco", &o);
	assert_string_equal(o.container_id, "");
}

struct seen {
	uint64_t cookies[16];
	uint8_t first[16];
	int n;
};

static void collect(void *ctx, const struct packet *pkt)
{
	struct seen *s = ctx;

	s->cookies[s->n] = pkt->sock_cookie;
	s->first[s->n++] = pkt->data[0];
}

static void push(struct live_hold *h, uint64_t cookie, uint8_t byte, uint64_t now)
{
	uint8_t data[100] = { byte };
	struct packet p = { .sock_cookie = cookie, .data = data, .caplen = sizeof(data),
			    .wirelen = 1000 };

	assert_int_equal(live_hold_push(h, &p, now), 0);
}

static void test_hold_order(void **state)
{
	struct live_hold *h = live_hold_new(1 << 20);
	struct seen s = { 0 };

	push(h, 1, 'a', 10);
	push(h, 2, 'x', 11);
	push(h, 1, 'b', 12);
	push(h, 1, 'c', 13);
	assert_true(live_hold_has(h, 1));
	assert_false(live_hold_has(h, 3));
	assert_int_equal(live_hold_bytes(h), 400);
	assert_int_equal(live_hold_release(h, 1, collect, &s), 3);
	assert_int_equal(s.n, 3);
	assert_memory_equal(s.first, "abc", 3);
	assert_false(live_hold_has(h, 1));
	assert_int_equal(live_hold_oldest(h), 11);
	assert_int_equal(live_hold_release(h, 1, collect, &s), 0);
	assert_int_equal(live_hold_expire(h, 11, collect, &s), 0);
	assert_int_equal(live_hold_expire(h, 12, collect, &s), 1);
	assert_int_equal(s.first[3], 'x');
	assert_int_equal(live_hold_oldest(h), 0);
	assert_int_equal(live_hold_bytes(h), 0);
	live_hold_free(h);
}

static void test_hold_limits(void **state)
{
	struct live_hold *h = live_hold_new(250);
	struct seen s = { 0 };

	push(h, 7, 'a', 1);
	push(h, 8, 'b', 2);
	push(h, 7, 'c', 3);
	/* 300 bytes held, 250 allowed: the oldest goes first, then the rest on flush. */
	assert_int_equal(live_hold_expire(h, 0, collect, &s), 1);
	assert_int_equal(s.first[0], 'a');
	assert_true(live_hold_has(h, 7));
	assert_int_equal(live_hold_expire(h, UINT64_MAX, collect, &s), 2);
	assert_memory_equal(s.first, "abc", 3);
	assert_false(live_hold_has(h, 7));
	assert_false(live_hold_has(h, 8));
	push(h, 9, 'z', 5);
	live_hold_free(h);  /* frees what it still holds */
}

/* An owner record of a process that does not exist (/proc has nothing to add). */
static void own(struct owner_table *t, uint64_t cookie, uint32_t tid)
{
	struct rec_owner r = { .h = { .sock_cookie = cookie, .type = REC_OWNER },
			       .host_pid = 0x7ffffff0, .host_tid = tid };

	owner_table_update(t, &r, 0);
}

static uint32_t tid_of(struct owner_table *t, uint64_t cookie)
{
	const struct owner *o = owner_table_lookup(t, cookie);

	return o ? o->host_tid : 0;
}

static void test_owner_table(void **state)
{
	struct owner_table *t = owner_table_new(3, -1);

	own(t, 11, 1);
	own(t, 12, 2);
	assert_int_equal(tid_of(t, 11), 1);
	assert_int_equal(tid_of(t, 11), 1);  /* again: the last-found hint */
	assert_int_equal(tid_of(t, 12), 2);
	assert_int_equal(tid_of(t, 13), 0);
	own(t, 11, 5);  /* a new owner replaces the old in place */
	assert_int_equal(tid_of(t, 11), 5);
	assert_int_equal(owner_table_count(t), 2);
	/* Gone sockets are kept for the grace period, then retired. */
	owner_table_gone(t, 11, 1000);
	owner_table_expire(t, 1000 + OWNER_GONE_GRACE_NS - 1);
	assert_int_equal(tid_of(t, 11), 5);
	owner_table_expire(t, 1000 + OWNER_GONE_GRACE_NS);
	assert_int_equal(tid_of(t, 11), 0);
	assert_int_equal(owner_table_count(t), 1);
	/* The retired slot is reused: the hint must not answer for the old cookie. */
	assert_int_equal(tid_of(t, 12), 2);
	own(t, 14, 4);
	own(t, 15, 6);
	assert_int_equal(owner_table_count(t), 3);
	assert_int_equal(tid_of(t, 15), 6);
	/* Full: the least recently updated (12) makes room. */
	own(t, 16, 7);
	assert_int_equal(tid_of(t, 12), 0);
	assert_int_equal(tid_of(t, 16), 7);
	assert_int_equal(tid_of(t, 14), 4);
	assert_int_equal(tid_of(t, 15), 6);
	owner_table_free(t);
}

static uint64_t id_of(struct owner_table *t, uint64_t cookie)
{
	return owner_table_lookup(t, cookie)->content_id;
}

/* Owners with equal contents share an id (events render them once); a new content, a new id. */
static void test_owner_content_ids(void **state)
{
	struct owner_table *t = owner_table_new(4, -1);
	uint64_t one, two;

	own(t, 21, 1);
	own(t, 22, 1);  /* another socket of the same thread */
	own(t, 23, 2);
	one = id_of(t, 21);
	two = id_of(t, 23);
	assert_true(one != 0 && two != 0);
	assert_true(id_of(t, 22) == one);
	assert_true(two != one);
	own(t, 21, 2);  /* 21 now has 23's owner */
	assert_true(id_of(t, 21) == two);
	own(t, 23, 3);  /* a thread not seen before */
	assert_true(id_of(t, 23) != one && id_of(t, 23) != two);
	assert_true(id_of(t, 21) == two && id_of(t, 22) == one);
	owner_table_free(t);
}

/* The /proc helper's protocol: one pid in, one answer out; anything else is refused. */
static void test_proc_helper(void **state)
{
	struct owner_proc_answer a, want;
	uint64_t two[2] = { 1, 2 };
	int sv[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		owner_proc_serve(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	owner_proc_answer((uint32_t)getpid(), &want);
	assert_int_equal(owner_proc_ask(sv[0], (uint32_t)getpid(), &a), 0);
	assert_int_equal(a.exe_err, 0);
	assert_string_equal(a.exe, want.exe);
	assert_true(a.exe[0] == '/');
	assert_int_equal(owner_proc_ask(sv[0], 0, &a), 0);
	assert_int_equal(a.exe_err, EINVAL);
	assert_int_equal(owner_proc_ask(sv[0], 4194305, &a), 0);
	assert_int_equal(a.exe_err, EINVAL);
	/* A request of another size gets EINVAL, and the helper goes on. */
	assert_int_equal(send(sv[0], two, sizeof(two), 0), sizeof(two));
	assert_int_equal(recv(sv[0], &a, sizeof(a), 0), sizeof(a));
	assert_int_equal(a.exe_err, EINVAL);
	assert_int_equal(owner_proc_ask(sv[0], (uint32_t)getpid(), &a), 0);
	assert_string_equal(a.exe, want.exe);
	close(sv[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* No helper: asking fails cleanly. */
	assert_int_equal(owner_proc_ask(-1, 1, &a), -EIO);
	assert_int_equal(a.exe_err, EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_docker),
		cmocka_unit_test(test_cgroup_runtimes),
		cmocka_unit_test(test_cgroup_kubernetes),
		cmocka_unit_test(test_cgroup_none),
		cmocka_unit_test(test_hold_order),
		cmocka_unit_test(test_hold_limits),
		cmocka_unit_test(test_owner_table),
		cmocka_unit_test(test_owner_content_ids),
		cmocka_unit_test(test_proc_helper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
