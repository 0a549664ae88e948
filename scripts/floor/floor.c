/*
 * Loads floor.bpf.o, attaches its programs (the cgroup ones to CGROUP), consumes the rings
 * until SIGINT or SIGTERM, then prints each program's runs and run time (bpf_stats must be
 * on meanwhile): "name runs ns". Not part of httpeek.
 * Usage: floor OBJECT CGROUP
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int drop_record(void *ctx, void *data, size_t size)
{
	return 0;
}

static int fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	return 1;
}

/* One ring per possible CPU in cpu_rings, each added to rb. */
static int add_cpu_rings(struct bpf_object *o, struct ring_buffer *rb)
{
	int outer = bpf_map__fd(bpf_object__find_map_by_name(o, "cpu_rings"));
	int ncpu = libbpf_num_possible_cpus();

	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, 1 << 23, NULL);

		if (fd < 0 || bpf_map_update_elem(outer, &cpu, &fd, 0) ||
		    ring_buffer__add(rb, fd, drop_record, NULL))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *o;
	struct bpf_program *p;
	struct ring_buffer *rb;
	int cg;

	if (argc != 3) {
		fprintf(stderr, "usage: floor OBJECT CGROUP\n");
		return 2;
	}
	o = bpf_object__open_file(argv[1], NULL);
	if (!o)
		return fail("open");
	bpf_map__set_max_entries(bpf_object__find_map_by_name(o, "cpu_rings"),
				 libbpf_num_possible_cpus());
	if (bpf_object__load(o))
		return fail("load");
	cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (cg < 0)
		return fail(argv[2]);
	bpf_object__for_each_program(p, o) {
		int on_cgroup = !strncmp(bpf_program__section_name(p), "cgroup", 6);

		if (!(on_cgroup ? bpf_program__attach_cgroup(p, cg) : bpf_program__attach(p)))
			return fail(bpf_program__name(p));
	}
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(o, "shared_ring")),
			      drop_record, NULL, NULL);
	if (!rb || add_cpu_rings(o, rb))
		return fail("rings");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		ring_buffer__poll(rb, 20);
	bpf_object__for_each_program(p, o) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			return fail("info");
		printf("%s %llu %llu\n", bpf_program__name(p), (unsigned long long)info.run_cnt,
		       (unsigned long long)info.run_time_ns);
	}
	return 0;
}
