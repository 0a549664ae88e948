/* Where the metrics go: endpoint and file, opened early, written and closed late. */
#include <errno.h>
#include <string.h>
#include "metrics/out.h"

int metrics_out_open(struct metrics_out *mo, const struct metrics_options *opt)
{
	if (!opt->listen && !opt->file)
		return 0;
	mo->path = opt->file;
	mo->m = metrics_new(opt);
	if (!mo->m) {
		fprintf(stderr, "httpeek: failed to set up: out of memory\n");
		return -ENOMEM;
	}
	if (opt->listen && metrics_server_open(&mo->srv, opt->listen, mo->m))
		return -EINVAL;
	if (opt->file && !(mo->file = fopen(opt->file, "w"))) {
		fprintf(stderr, "httpeek: failed to open %s: %s\n", opt->file, strerror(errno));
		return -errno;
	}
	if (mo->srv)
		fprintf(stderr, "httpeek: metrics at http://%s/metrics\n",
			metrics_server_address(mo->srv));
	return 0;
}

int metrics_out_write_file(struct metrics_out *mo)
{
	int err = 0;

	if (!mo->file)
		return 0;
	if (metrics_write(mo->m, mo->file) | fclose(mo->file)) {
		fprintf(stderr, "httpeek: failed to write %s: %s\n", mo->path, strerror(EIO));
		err = -EIO;
	}
	mo->file = NULL;
	return err;
}

void metrics_out_serve_until(const struct metrics_out *mo, volatile sig_atomic_t *stop)
{
	sigset_t block, old;

	if (!mo->srv || *stop)
		return;
	fprintf(stderr, "httpeek: capture read; its metrics are at http://%s/metrics until "
			"interrupted\n", metrics_server_address(mo->srv));
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!*stop)
		sigsuspend(&old);  /* no signal slips in between the test and the wait */
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void metrics_out_close(struct metrics_out *mo)
{
	if (mo->file)
		fclose(mo->file);
	metrics_server_close(mo->srv);  /* its thread reads the metrics: first */
	metrics_free(mo->m);
	memset(mo, 0, sizeof(*mo));
}
