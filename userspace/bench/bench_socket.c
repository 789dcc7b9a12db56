// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-bench socket: what the socket-layer programs (cgroup_skb ingress
 * and egress, connect, sendmsg, sock_ops) cost a TCP stream. iperf3 runs
 * between two namespaces over a veth pair, client and server both in a
 * tenant cgroup, alternately without and with the programs attached, in
 * one run; the result is the median throughput of each and their ratio.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "dataplane.h"
#include "log.h"
#include "netenv.h"

struct socket_run {
	struct netenv env;
	struct testcg cg;
	char tenant_cg[512];
	char pin_dir[128];
	char log[128];
	int seconds;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* bits_per_second of end.sum_received in iperf3's JSON, or -1. */
static double iperf_rate(const char *path)
{
	char buf[1 << 16], *p;
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, "\"sum_received\"");
	p = p ? strstr(p, "\"bits_per_second\"") : NULL;
	return p ? strtod(p + strlen("\"bits_per_second\":"), NULL) : -1;
}

static pid_t spawn_in(struct socket_run *r, int side, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    testcg_move(r->tenant_cg, getpid()) || netenv_enter(&r->env, side))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static double one_round(struct socket_run *r)
{
	char secs[16];
	char *server[] = { "iperf3", "-s", "-1", "-B", NETENV_V4_A, NULL };
	char *client[] = { "iperf3", "-c", NETENV_V4_A, "-t", secs, "-J",
			   "--logfile", r->log, NULL };
	pid_t s, c;
	int status;

	snprintf(secs, sizeof(secs), "%d", r->seconds);
	unlink(r->log);
	s = spawn_in(r, 0, server);
	usleep(300000);
	c = spawn_in(r, 1, client);
	waitpid(c, &status, 0);
	kill(s, SIGTERM);
	waitpid(s, NULL, 0);
	return iperf_rate(r->log);
}

static int attach(struct socket_run *r, struct dp **dp)
{
	struct dp_config cfg = { .pin_dir = r->pin_dir, .models = 1 };
	struct tenant_info who = { 1, 1 };
	struct access_row row;
	struct stat st;
	int err;

	memset(&row, VERDICT_ALLOW, sizeof(row));
	err = dp_open(dp, &cfg);
	if (err)
		return err;
	if (stat(r->tenant_cg, &st))
		return -errno;
	return dp_set_access_row(*dp, 1, DIR_INGRESS, &row) ?:
	       dp_set_access_row(*dp, 1, DIR_EGRESS, &row) ?:
	       dp_set_tenant(*dp, st.st_ino, &who) ?:
	       dp_attach_cgroup(*dp, r->cg.path);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: customs-bench socket [--rounds N] [--seconds S] [--json]\n"
		     "iperf3 over a veth pair with and without customs' socket-layer\n"
		     "programs, alternating, N rounds of S seconds each (5, 2).\n");
}

int bench_socket(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct socket_run r = { .seconds = 2 };
	double off[32], on[32], moff, mon;
	int rounds = 5, json = 0, c, i, err = 0;
	struct dp *dp = NULL;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 's':
			r.seconds = atoi(optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (rounds < 1 || rounds > 32 || r.seconds < 1 || r.seconds > 60) {
		fprintf(stderr, "customs-bench socket: --rounds 1..32, --seconds 1..60\n");
		return 2;
	}
	snprintf(r.pin_dir, sizeof(r.pin_dir), "/sys/fs/bpf/customs-bench-%d", (int)getpid());
	snprintf(r.log, sizeof(r.log), "/tmp/customs-bench-iperf-%d.json", (int)getpid());
	dp_detach_all(r.pin_dir);
	if (netenv_setup(&r.env, "bench") || testcg_setup(&r.cg, "bench") ||
	    testcg_mkdir(&r.cg, "tenant", r.tenant_cg, sizeof(r.tenant_cg))) {
		fprintf(stderr, "customs-bench socket: cannot build the namespaces and cgroup\n");
		err = 1;
		goto out;
	}
	for (i = 0; i < rounds && !err; i++) {
		off[i] = one_round(&r);
		err = attach(&r, &dp);
		if (err) {
			fprintf(stderr, "customs-bench socket: attach: %s\n", strerror(-err));
			break;
		}
		on[i] = one_round(&r);
		dp_close(dp);
		dp = NULL;
		dp_detach_all(r.pin_dir);
		if (off[i] <= 0 || on[i] <= 0) {
			fprintf(stderr, "customs-bench socket: iperf3 gave no result (is it installed?)\n");
			err = 1;
		}
	}
	if (err)
		goto out;
	moff = median(off, rounds);
	mon = median(on, rounds);
	if (json)
		printf("{\"rounds\": %d, \"seconds\": %d, \"tcp_gbps_without\": %.3f, "
		       "\"tcp_gbps_with\": %.3f, \"ratio\": %.4f, \"overhead_pct\": %.2f}\n",
		       rounds, r.seconds, moff / 1e9, mon / 1e9, mon / moff,
		       (1 - mon / moff) * 100);
	else
		printf("TCP over veth, median of %d x %d s: without %.2f Gbit/s, with %.2f"
		       " Gbit/s, overhead %.2f%%\n", rounds, r.seconds, moff / 1e9,
		       mon / 1e9, (1 - mon / moff) * 100);
out:
	dp_close(dp);
	dp_detach_all(r.pin_dir);
	unlink(r.log);
	testcg_teardown(&r.cg);
	netenv_teardown(&r.env);
	return err ? 1 : 0;
}
