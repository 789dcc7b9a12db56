// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-bench agent: how the agent's per-interval counter work grows with
 * the number of counter buckets (distinct tenant x model x country x
 * direction x layer x verdict keys in one interval). For each size the data
 * plane is loaded with its counter buffers sized to fit, the active buffer
 * is filled from userspace with that many keys on every CPU, and the
 * agent's own cycle runs on it: counters_interval() (flip, read with per-CPU
 * sums, add to the running totals, save them durably, clear). A second
 * pass times the steps one by one (flip, read, aggregate, save, clear). The
 * memory the cycle needs is the growth of this process's peak RSS.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "counters.h"
#include "dataplane.h"
#include "dataplane.skel.h"
#include "totals.h"

#define MAX_SIZES	8
#define FILL_BATCH	8192

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* VmHWM or VmRSS of this process, kB. */
static long status_kb(const char *field)
{
	char line[256];
	long kb = -1;
	size_t len = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb;
}

static void make_key(struct meter_key *k, size_t i)
{
	memset(k, 0, sizeof(*k));
	k->tenant = (__u32)(i / 4096) + 1;
	k->model = (__u32)(i / 16 % 256) + 1;
	k->country = (__u16)(i % 16 * 37 % 676) + 1;
	k->direction = (__u8)(i / 1048576 % 2);
}

/* n distinct keys into the buffer the kernel is writing, 1 packet per CPU each. */
static int fill_active(struct dp *dp, size_t n, int ncpu)
{
	struct meter_value *vals;
	struct meter_key *keys;
	size_t i, j;
	int err = 0;

	keys = calloc(FILL_BATCH, sizeof(*keys));
	vals = calloc((size_t)FILL_BATCH * (size_t)ncpu, sizeof(*vals));
	for (i = 0; keys && vals && i < n && !err; i += FILL_BATCH) {
		size_t cnt = n - i < FILL_BATCH ? n - i : FILL_BATCH;

		for (j = 0; j < cnt; j++) {
			int c;

			make_key(&keys[j], i + j);
			for (c = 0; c < ncpu; c++)
				vals[j * (size_t)ncpu + (size_t)c] = (struct meter_value){ 1, 100 };
		}
		err = dp_meter_inject(dp, keys, vals, cnt);
	}
	if (!keys || !vals)
		err = -ENOMEM;
	free(keys);
	free(vals);
	return err;
}

struct agent_point {
	size_t buckets, read;
	double interval_ms;		/* counters_interval(), median */
	double interval_min, interval_max;
	double flip_ms, read_ms, aggregate_ms, save_ms, clear_ms;
	long hwm_growth_kb;
	long long kernel_bytes;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The same steps as counters_interval(), timed one by one. */
static int time_steps(struct counters *c, struct agent_point *pt)
{
	struct meter_record *r = NULL;
	size_t n = 0, i;
	double t0;
	int err;

	t0 = now_ms();
	err = dp_meter_flip(c->dp);
	pt->flip_ms = now_ms() - t0;
	t0 = now_ms();
	if (!err)
		err = dp_meter_read(c->dp, &r, &n);
	pt->read_ms = now_ms() - t0;
	t0 = now_ms();
	for (i = 0; !err && i < n; i++)
		err = totals_add(&c->totals, &r[i].key, &r[i].value);
	pt->aggregate_ms = now_ms() - t0;
	t0 = now_ms();
	if (!err)
		err = totals_save(&c->totals, c->path);
	pt->save_ms = now_ms() - t0;
	t0 = now_ms();
	if (!err)
		err = dp_meter_clear(c->dp);
	pt->clear_ms = now_ms() - t0;
	free(r);
	return err;
}

static int bench_point(size_t buckets, int rounds, const char *dir, struct agent_point *pt)
{
	struct dp_config cfg = { .models = 1, .meter_entries = (__u32)(buckets + 1024) };
	char pins[96], path[256];
	struct meter_record *r = NULL;
	struct counters c = {};
	double ms[16];
	struct dp *dp = NULL;
	int ncpu = libbpf_num_possible_cpus(), i, err;
	long hwm0;
	size_t n = 0;

	snprintf(pins, sizeof(pins), "/sys/fs/bpf/customs-bench-agent-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/customs-bench-totals-%d", dir, (int)getpid());
	dp_detach_all(pins);
	unlink(path);
	cfg.pin_dir = pins;
	pt->buckets = buckets;
	err = dp_open(&dp, &cfg);
	if (!err)
		err = counters_open(&c, dp, path, &r, &n);
	free(r);
	if (err)
		goto out;
	pt->kernel_bytes = 0;
	hwm0 = status_kb("VmHWM");
	for (i = 0; i < rounds && !err; i++) {
		double t0;

		r = NULL;
		err = fill_active(dp, buckets, ncpu);
		t0 = now_ms();
		if (!err)
			err = counters_interval(&c, &r, &pt->read);
		ms[i] = now_ms() - t0;
		free(r);
	}
	if (!err)
		err = fill_active(dp, buckets, ncpu) ?: time_steps(&c, pt);
	if (err)
		goto out;
	pt->hwm_growth_kb = status_kb("VmHWM") - hwm0;
	qsort(ms, (size_t)rounds, sizeof(ms[0]), cmp_double);
	pt->interval_ms = ms[rounds / 2];
	pt->interval_min = ms[0];
	pt->interval_max = ms[rounds - 1];
out:
	if (c.dp)
		counters_close(&c);
	dp_close(dp);
	dp_detach_all(pins);
	unlink(path);
	return err;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: customs-bench agent [--buckets N[,N...]] [--rounds R] [--dir DIR] "
		     "[--json]\n"
		     "Times the agent's interval counter cycle (flip, read, aggregate into the\n"
		     "totals, durable save, clear) on N counter buckets (default\n"
		     "1000,10000,100000,1000000), R rounds each (5); totals file in DIR (/tmp).\n");
}

static int parse_sizes(const char *s, size_t *out)
{
	int n = 0;
	char *end;

	while (*s && n < MAX_SIZES) {
		unsigned long long v = strtoull(s, &end, 10);

		if (end == s || v < 1 || v > 4000000)
			return -EINVAL;
		out[n++] = (size_t)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -EINVAL;
	}
	return n;
}

static void print_points(const struct agent_point *p, int n, int rounds, bool json)
{
	int i;

	if (json)
		printf("{\"subject\":\"agent\",\"rounds\":%d,\"points\":[", rounds);
	for (i = 0; i < n; i++) {
		if (json)
			printf("%s{\"buckets\":%zu,\"read\":%zu,\"interval_ms\":%.2f,"
			       "\"interval_ms_min\":%.2f,\"interval_ms_max\":%.2f,"
			       "\"flip_ms\":%.2f,\"read_ms\":%.2f,\"aggregate_ms\":%.2f,"
			       "\"save_ms\":%.2f,\"clear_ms\":%.2f,\"rss_growth_kb\":%ld}",
			       i ? "," : "", p[i].buckets, p[i].read, p[i].interval_ms,
			       p[i].interval_min, p[i].interval_max, p[i].flip_ms, p[i].read_ms,
			       p[i].aggregate_ms, p[i].save_ms, p[i].clear_ms, p[i].hwm_growth_kb);
		else
			printf("%8zu buckets: interval %8.2f ms (%.2f..%.2f) = flip %.2f + read "
			       "%.2f + aggregate %.2f + save %.2f + clear %.2f; peak RSS +%ld kB\n",
			       p[i].buckets, p[i].interval_ms, p[i].interval_min,
			       p[i].interval_max, p[i].flip_ms, p[i].read_ms, p[i].aggregate_ms,
			       p[i].save_ms, p[i].clear_ms, p[i].hwm_growth_kb);
	}
	if (json)
		printf("]}\n");
}

int bench_agent(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "buckets", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t sizes[MAX_SIZES] = { 1000, 10000, 100000, 1000000 };
	struct agent_point pts[MAX_SIZES] = {};
	const char *dir = "/tmp";
	int n = 4, rounds = 5, c, i, err = 0;
	bool json = false;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			n = parse_sizes(optarg, sizes);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
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
	if (n <= 0 || rounds < 1 || rounds > 16 || optind != argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < n && !err; i++) {
		err = bench_point(sizes[i], rounds, dir, &pts[i]);
		if (err)
			fprintf(stderr, "customs-bench agent: %zu buckets: %s\n", sizes[i],
				strerror(-err));
	}
	if (!err)
		print_points(pts, n, rounds, json);
	return err ? 1 : 0;
}
