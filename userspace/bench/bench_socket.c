// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-bench socket: what the socket-layer programs (cgroup_skb ingress
 * and egress, connect, sendmsg, sock_ops) cost a TCP stream. iperf3 runs
 * between two namespaces over a veth pair, client and server both in a
 * tenant cgroup, alternately without and with the programs attached, in
 * one run; the result is the median throughput of each and their ratio.
 * Latency is a TCP ping-pong of our own over the same pair and cgroup:
 * PINGS round trips of a 64-byte message on one connection (TCP_NODELAY),
 * median and 99th percentile round-trip time, also alternating.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
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

#define PINGS		20000
#define PING_BYTES	64
#define PING_PORT	5399
#define PING_SECONDS	20	/* a ping-pong that takes longer gives up */

static double mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int full_io(int fd, char *buf, size_t len, bool out)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = out ? write(fd, buf + done, len - done) : read(fd, buf + done, len - done);

		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* The echo side: one connection, PINGS messages back. */
static int ping_server(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PING_PORT) };
	char buf[PING_BYTES];
	int ls, fd, one = 1, i;

	inet_pton(AF_INET, NETENV_V4_A, &a.sin_addr);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1))
		return 1;
	alarm(PING_SECONDS);
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		return 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (i = 0; i < PINGS; i++)
		if (full_io(fd, buf, sizeof(buf), false) || full_io(fd, buf, sizeof(buf), true))
			return 1;
	return 0;
}

/* The timing side: round-trip times in us, sorted, written to out_fd. */
static int ping_client(int out_fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PING_PORT) };
	static double rtt[PINGS];
	char buf[PING_BYTES] = "customs";
	int fd, one = 1, i, tries;

	inet_pton(AF_INET, NETENV_V4_A, &a.sin_addr);
	alarm(PING_SECONDS);
	for (tries = 0; tries < 50; tries++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return 1;
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			break;
		close(fd);
		fd = -1;
		usleep(20000);
	}
	if (fd < 0)
		return 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (i = 0; i < PINGS; i++) {
		double t0 = mono_us();

		if (full_io(fd, buf, sizeof(buf), true) || full_io(fd, buf, sizeof(buf), false))
			return 1;
		rtt[i] = mono_us() - t0;
	}
	qsort(rtt, PINGS, sizeof(rtt[0]), cmp_double);
	return full_io(out_fd, (char *)rtt, sizeof(rtt), true) ? 1 : 0;
}

static pid_t fork_in(struct socket_run *r, int side, int (*fn)(int), int arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (testcg_move(r->tenant_cg, getpid()) || netenv_enter(&r->env, side))
			_exit(126);
		_exit(fn(arg));
	}
	return pid;
}

static int ping_server_fn(int unused)
{
	(void)unused;
	return ping_server();
}

/* One ping-pong; median and p99 round trip in us, or -1. */
static int ping_round(struct socket_run *r, double *p50, double *p99)
{
	static double rtt[PINGS];
	int fds[2], st_s = 1, st_c = 1;
	pid_t s, c;
	int got;

	if (pipe(fds))
		return -errno;
	s = fork_in(r, 0, ping_server_fn, 0);
	c = fork_in(r, 1, ping_client, fds[1]);
	close(fds[1]);
	got = full_io(fds[0], (char *)rtt, sizeof(rtt), false);
	close(fds[0]);
	waitpid(c, &st_c, 0);
	if (got)
		kill(s, SIGTERM);
	waitpid(s, &st_s, 0);
	if (got || st_c || st_s)
		return -EIO;
	*p50 = rtt[PINGS / 2];
	*p99 = rtt[PINGS * 99 / 100];
	return 0;
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
		     "programs, alternating, N rounds of S seconds each (5, 2), and a\n"
		     "TCP ping-pong of 64-byte messages for round-trip latency.\n");
}

struct socket_samples {
	double gbps[32], p50[32], p99[32];
};

/* median, min, max of v (sorted in place) */
static void spread(double *v, int n, double out[3])
{
	out[0] = median(v, n);
	out[1] = v[0];
	out[2] = v[n - 1];
}

static int measure_side(struct socket_run *r, struct socket_samples *x, int i)
{
	x->gbps[i] = one_round(r) / 1e9;
	if (x->gbps[i] <= 0) {
		fprintf(stderr, "customs-bench socket: iperf3 gave no result (is it installed?)\n");
		return -EIO;
	}
	return ping_round(r, &x->p50[i], &x->p99[i]);
}

static void print_socket(struct socket_samples *x, int rounds, int seconds, bool json)
{
	double g[2][3], l[2][3], t[2][3];
	int k;

	for (k = 0; k < 2; k++) {
		spread(x[k].gbps, rounds, g[k]);
		spread(x[k].p50, rounds, l[k]);
		spread(x[k].p99, rounds, t[k]);
	}
	if (!json) {
		printf("TCP over veth, median (min..max) of %d rounds:\n"
		       "  throughput (%d s iperf3): without %.2f (%.2f..%.2f) Gbit/s, with %.2f "
		       "(%.2f..%.2f) Gbit/s, overhead %.2f%%\n"
		       "  round trip (%d x %d B ping-pong): without p50 %.1f us p99 %.1f us, "
		       "with p50 %.1f us p99 %.1f us (+%.1f us)\n", rounds, seconds,
		       g[0][0], g[0][1], g[0][2], g[1][0], g[1][1], g[1][2],
		       (1 - g[1][0] / g[0][0]) * 100, PINGS, PING_BYTES, l[0][0], t[0][0],
		       l[1][0], t[1][0], l[1][0] - l[0][0]);
		return;
	}
	printf("{\"subject\":\"socket\",\"rounds\":%d,\"seconds\":%d,\"pings\":%d,"
	       "\"ping_bytes\":%d,\"tcp_gbps_without\":%.3f,\"tcp_gbps_with\":%.3f,"
	       "\"tcp_gbps_without_min\":%.3f,\"tcp_gbps_without_max\":%.3f,"
	       "\"tcp_gbps_with_min\":%.3f,\"tcp_gbps_with_max\":%.3f,"
	       "\"ratio\":%.4f,\"overhead_pct\":%.2f,"
	       "\"rtt_p50_us_without\":%.2f,\"rtt_p50_us_with\":%.2f,"
	       "\"rtt_p50_us_without_min\":%.2f,\"rtt_p50_us_without_max\":%.2f,"
	       "\"rtt_p50_us_with_min\":%.2f,\"rtt_p50_us_with_max\":%.2f,"
	       "\"rtt_p99_us_without\":%.2f,\"rtt_p99_us_with\":%.2f,"
	       "\"rtt_added_us\":%.2f}\n", rounds, seconds, PINGS, PING_BYTES,
	       g[0][0], g[1][0], g[0][1], g[0][2], g[1][1], g[1][2], g[1][0] / g[0][0],
	       (1 - g[1][0] / g[0][0]) * 100, l[0][0], l[1][0], l[0][1], l[0][2], l[1][1],
	       l[1][2], t[0][0], t[1][0], l[1][0] - l[0][0]);
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
	static struct socket_samples x[2];	/* without, with */
	int rounds = 5, c, i, err = 0;
	bool json = false;
	struct dp *dp = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 's':
			r.seconds = atoi(optarg);
			break;
		case 'j':
			json = true;
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
		err = measure_side(&r, &x[0], i);
		if (!err)
			err = attach(&r, &dp);
		if (!err)
			err = measure_side(&r, &x[1], i);
		dp_close(dp);
		dp = NULL;
		dp_detach_all(r.pin_dir);
		if (err)
			fprintf(stderr, "customs-bench socket: round %d: %s\n", i + 1, strerror(-err));
	}
	if (!err)
		print_socket(x, rounds, r.seconds, json);
out:
	dp_close(dp);
	dp_detach_all(r.pin_dir);
	unlink(r.log);
	testcg_teardown(&r.cg);
	netenv_teardown(&r.env);
	return err ? 1 : 0;
}
