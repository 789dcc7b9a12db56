// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-bench geo: our geo tables against the kernel's LPM trie on the
 * same prefixes, in one run, in the kernel. Addresses are drawn at random
 * from the database's own prefixes; the geo probe looks each batch up with
 * bpf_loop under BPF_PROG_RUN, once through geo_lookup_v4/v6 and once
 * through an LPM trie per family, and the per-lookup cost is the run time
 * over the batch size (loop overhead included, reported as loop_ns), and
 * once more chained (each address depending on the answer before: the
 * latency of one lookup, as a packet pays it, not the throughput). Also
 * times compile + load + switch of the full table, a full reload under a
 * storm of kernel lookups (every answer checked against the mirror), an
 * empty XDP program, and the data plane's complete XDP program
 * (xdp_ingress of bpf/dataplane.bpf.c) on frames to a served endpoint
 * whose source addresses are drawn from the database.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "bench_ingress.h"
#include "country.h"
#include "dataplane.h"
#include "geo.h"
#include "geo.skel.h"
#include "bench_xdp.skel.h"
#include "dataplane.skel.h"

struct prefix_set {
	__u32 (*addr)[4];
	__u8 *len;
	__u16 *cc;
	size_t n, cap;
	int lpm_fd;
	long lpm_err;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Collects each prefix and loads it into the family's LPM trie. */
static int collect(int family, const __u32 addr[4], int len, __u16 cc, void *arg)
{
	struct prefix_set *s = arg;
	struct geo_lpm_v6_key k6 = { .prefixlen = (__u32)len };
	struct geo_lpm_v4_key k4 = { .prefixlen = (__u32)len, .addr = addr[0] };

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		void *a = realloc(s->addr, cap * sizeof(*s->addr));
		void *l = a ? realloc(s->len, cap) : NULL;
		void *c = l ? realloc(s->cc, cap * sizeof(*s->cc)) : NULL;

		if (a)
			s->addr = a;
		if (l)
			s->len = l;
		if (!c)
			return -ENOMEM;
		s->cc = c;
		s->cap = cap;
	}
	memcpy(s->addr[s->n], addr, 16);
	s->len[s->n] = (__u8)len;
	s->cc[s->n++] = cc;
	memcpy(k6.addr, addr, 16);
	if (bpf_map_update_elem(s->lpm_fd, family == 4 ? (void *)&k4 : (void *)&k6, &cc, BPF_ANY))
		s->lpm_err = -errno;
	return 0;
}

static __u64 rnd64(void)
{
	return ((__u64)random() << 42) ^ ((__u64)random() << 21) ^ (__u64)random();
}

/* A random address inside a random prefix of the set. */
static void draw(const struct prefix_set *s, int family, __u32 out[4])
{
	size_t i = rnd64() % s->n;
	int len = s->len[i], w;

	memcpy(out, s->addr[i], 16);
	for (w = 0; w < (family == 4 ? 1 : 4); w++) {
		int lo = w * 32;
		__u32 host = len <= lo ? 0xffffffffu : len >= lo + 32 ? 0 : 0xffffffffu >> (len - lo);

		out[w] |= htonl((__u32)rnd64() & host);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median over ROUNDS runs of repeat passes each: this machine is a small
 * VM shared with other work, and single runs vary by tens of percent.
 */
#define ROUNDS 5

static int time_mode(struct geo_probe *p, enum geo_probe_mode mode, __u32 repeat, double *ns)
{
	double r[ROUNDS];
	__u64 run_ns = 0;
	int err, i;

	err = geo_probe_run(p, GEO_PROBE_SLOTS, mode, 1, NULL);
	for (i = 0; !err && i < ROUNDS; i++) {
		err = geo_probe_run(p, GEO_PROBE_SLOTS, mode, repeat, &run_ns);
		r[i] = (double)run_ns / GEO_PROBE_SLOTS;
	}
	if (err)
		return err;
	qsort(r, ROUNDS, sizeof(r[0]), cmp_double);
	*ns = r[ROUNDS / 2];
	return 0;
}

/* Median over ROUNDS runs of one frame, repeat times each. */
static int time_xdp(int prog_fd, const __u8 *frame, __u32 repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = INGRESS_FRAME_LEN, .repeat = repeat);
	double r[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++) {
		if (bpf_prog_test_run_opts(prog_fd, &opts))
			return -errno;
		r[i] = opts.duration;
	}
	*ns = bench_median(r, ROUNDS);
	return 0;
}

struct family_result {
	double table_ns, lpm_ns, loop_ns;
	double chained_ns;	/* each lookup waiting for the one before */
	size_t mismatches;	/* table vs LPM */
	size_t chain_mismatches;	/* chained vs table: the same addresses */
};

static int bench_family(struct geo_probe *p, const struct prefix_set *s, int family,
			struct family_result *r)
{
	__u16 *table_cc;
	size_t i;
	int err;

	if (!s->n)
		return -ENOENT;
	table_cc = calloc(GEO_PROBE_SLOTS, sizeof(*table_cc));
	if (!table_cc)
		return -ENOMEM;
	for (i = 0; i < GEO_PROBE_SLOTS; i++) {
		draw(s, family, p->slots[i].addr);
		p->slots[i].family = (__u8)family;
	}
	err = time_mode(p, GEO_PROBE_TABLE, 8, &r->table_ns);
	for (i = 0; !err && i < GEO_PROBE_SLOTS; i++)
		table_cc[i] = p->slots[i].cc;
	if (!err)
		err = time_mode(p, GEO_PROBE_LPM, 1, &r->lpm_ns);
	for (i = 0; !err && i < GEO_PROBE_SLOTS; i++)
		r->mismatches += table_cc[i] != p->slots[i].cc;
	if (!err)
		err = time_mode(p, GEO_PROBE_CHAINED, 8, &r->chained_ns);
	for (i = 0; !err && i < GEO_PROBE_SLOTS; i++)
		r->chain_mismatches += table_cc[i] != p->slots[i].cc;
	if (!err)
		err = time_mode(p, GEO_PROBE_NONE, 8, &r->loop_ns);
	free(table_cc);
	return err;
}

/*
 * Uniformly random IPv4 addresses, most of them in large prefixes or
 * unassigned space: the workload the LPM reference figure used.
 */
static int bench_uniform_v4(struct geo_probe *p, double *table_ns, double *lpm_ns)
{
	size_t i;
	int err;

	for (i = 0; i < GEO_PROBE_SLOTS; i++) {
		p->slots[i].addr[0] = (__u32)rnd64();
		p->slots[i].family = 4;
	}
	err = time_mode(p, GEO_PROBE_TABLE, 8, table_ns);
	if (!err)
		err = time_mode(p, GEO_PROBE_LPM, 1, lpm_ns);
	return err;
}

#define XDP_REPEAT	1000000
#define FEED_SLOTS	(sizeof(((struct bench_xdp *)0)->bss->feed_addr) / sizeof(__u32))

struct xdp_result {
	double empty_ns;	/* an empty XDP program */
	double feed_empty_ns;	/* feeder + tail call + empty program */
	double feed_full_ns;	/* feeder + tail call + xdp_ingress */
	double full_ns;		/* empty_ns + (feed_full_ns - feed_empty_ns) */
	double fixed_ns;	/* xdp_ingress on one frame, one source, cache-hot */
	double few_ns;		/* fed from HOT_PREFIXES prefixes only: geo table in cache */
	double unserved_ns;	/* xdp_ingress on a frame to a port no endpoint serves */
	double tc_empty_ns;	/* an empty tc program */
	double tc_egress_ns;	/* tc_unreach_egress on a served response's TCP segment */
};

/* Few enough prefixes that their table blocks stay in the cache. */
#define HOT_PREFIXES	64

static int run_xdp(int prog_fd, const __u8 *frame, __u32 repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = INGRESS_FRAME_LEN, .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	/* The feeder returns XDP_ABORTED only when its tail call failed. */
	if (opts.retval == XDP_ABORTED)
		return -ENOEXEC;
	*ns = opts.duration;
	return 0;
}

/* One feeder run through whatever feed_next[0] holds. */
static int run_fed(struct bench_xdp *bx, int callee_fd, const __u8 *frame, double *ns)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(bx->maps.feed_next), &zero, &callee_fd, BPF_ANY))
		return -errno;
	return run_xdp(bpf_program__fd(bx->progs.bench_feed), frame, XDP_REPEAT, ns);
}

/*
 * The complete data plane program, as the agent loads it with the whole
 * table, on frames to its served endpoint. BPF_PROG_RUN repeats one frame,
 * so bench_feed writes a new source address (drawn from the database) into
 * it before tail-calling xdp_ingress; the feeder's own cost is measured the
 * same way with an empty callee, alternating, and taken off.
 */
static void feed_fill(struct bench_xdp *bx, const struct prefix_set *v4, size_t prefixes)
{
	struct prefix_set few = *v4;
	size_t k;

	few.n = prefixes < v4->n ? prefixes : v4->n;
	for (k = 0; k < FEED_SLOTS; k++) {
		__u32 a[4];

		draw(&few, 4, a);
		bx->bss->feed_addr[k] = a[0];
	}
}

/*
 * What every frame a serving interface sends costs at its tcx egress: a
 * TCP segment (ACK|PSH, the common case) from the endpoint to a client,
 * which tc_unreach_egress parses and passes. The IP checksum is left
 * stale: nothing on this path reads it.
 */
static void egress_tcp_frame(__u8 *f, const __u8 *ingress)
{
	memcpy(f, ingress, INGRESS_FRAME_LEN);
	f[14 + 9] = 6;				/* protocol TCP */
	memcpy(f + 26, ingress + 30, 4);	/* from the endpoint */
	memcpy(f + 30, ingress + 26, 4);	/* to the client */
	memset(f + 34, 0, INGRESS_FRAME_LEN - 34);
	f[35] = INGRESS_PORT;			/* source port: the endpoint's */
	f[36] = 0x30;
	f[37] = 0x39;
	f[46] = 5 << 4;				/* 20-byte header */
	f[47] = 0x18;				/* ACK | PSH */
	f[48] = 0xff;				/* window */
}

static int bench_xdp_full(struct geo_table *t, const struct prefix_set *v4,
			  const __u16 *deny, int n_deny, struct xdp_result *r)
{
	__u8 frame[INGRESS_FRAME_LEN];
	double fe[ROUNDS], ff[ROUNDS], fw[ROUNDS];
	struct bench_xdp *bx = NULL;
	struct dp *dp = NULL;
	char pins[96];
	int err, i, full_fd;

	snprintf(pins, sizeof(pins), "/sys/fs/bpf/customs-bench-geo-%d", (int)getpid());
	dp_detach_all(pins);
	ingress_template_frame(frame);
	err = ingress_customs_open(&dp, pins, t, deny, n_deny);
	if (err)
		goto out;
	bx = bench_xdp__open_and_load();
	if (!bx) {
		err = -errno;
		goto out;
	}
	feed_fill(bx, v4, v4->n);
	full_fd = bpf_program__fd(dp_skeleton(dp)->progs.xdp_ingress);
	err = time_xdp(bpf_program__fd(bx->progs.bench_empty), frame, XDP_REPEAT, &r->empty_ns);
	if (err)
		goto out;
	memcpy(frame + 26, &bx->bss->feed_addr[0], 4);
	err = time_xdp(full_fd, frame, XDP_REPEAT, &r->fixed_ns);
	if (!err) {
		__u8 other[INGRESS_FRAME_LEN];

		memcpy(other, frame, sizeof(other));
		other[14 + 20 + 3] ^= 1;	/* UDP destination port, low byte */
		err = time_xdp(full_fd, other, XDP_REPEAT, &r->unserved_ns);
		egress_tcp_frame(other, frame);
		err = err ?: time_xdp(bpf_program__fd(bx->progs.bench_tc_empty), other,
				      XDP_REPEAT, &r->tc_empty_ns) ?:
		      time_xdp(bpf_program__fd(dp_skeleton(dp)->progs.tc_unreach_egress), other,
			       XDP_REPEAT, &r->tc_egress_ns);
	}
	for (i = 0; !err && i < ROUNDS; i++)
		err = run_fed(bx, full_fd, frame, &ff[i]) ?:
		      run_fed(bx, bpf_program__fd(bx->progs.bench_empty_frags), frame, &fe[i]);
	if (err)
		goto out;
	r->feed_full_ns = bench_median(ff, ROUNDS);
	r->feed_empty_ns = bench_median(fe, ROUNDS);
	r->full_ns = r->empty_ns + r->feed_full_ns - r->feed_empty_ns;
	/* Same program and frames, the geo table's working set made tiny. */
	feed_fill(bx, v4, HOT_PREFIXES);
	for (i = 0; !err && i < ROUNDS; i++)
		err = run_fed(bx, full_fd, frame, &fw[i]);
	if (!err)
		r->few_ns = r->empty_ns + bench_median(fw, ROUNDS) - r->feed_empty_ns;
out:
	bench_xdp__destroy(bx);
	dp_close(dp);
	dp_detach_all(pins);
	return err;
}

/* Kernel lookups checked against the mirror, run until told to stop. */
struct storm {
	struct geo_probe *p;
	const __u16 *want;
	volatile int stop;
	size_t lookups, wrong;
	int err;
};

static void *storm_run(void *arg)
{
	struct storm *s = arg;
	size_t i;

	do {
		s->err = geo_probe_run(s->p, GEO_PROBE_SLOTS, GEO_PROBE_TABLE, 1, NULL);
		for (i = 0; !s->err && i < GEO_PROBE_SLOTS; i++)
			s->wrong += s->p->slots[i].cc != s->want[i];
		s->lookups += GEO_PROBE_SLOTS;
	} while (!s->err && !s->stop);
	return NULL;
}

struct reload_result {
	double build_ms, install_ms;
	size_t lookups, wrong;
};

/*
 * A full reload as the agent does it (compile the database again, install
 * beside the live table, switch) while another thread looks addresses of
 * both families up in the kernel; every answer must equal the mirror's.
 */
static int bench_reload(struct geo_probe *p, const struct geo_source *src,
			const struct prefix_set *v4, const struct prefix_set *v6,
			struct geo_table *t, struct reload_result *r)
{
	struct storm s = { .p = p };
	struct geo_maps maps = geo_probe_maps(p);
	struct geo_table *t2 = NULL;
	__u16 *want = calloc(GEO_PROBE_SLOTS, sizeof(*want));
	char msg[512] = "";
	pthread_t th;
	double t0;
	size_t i;
	int err;

	if (!want)
		return -ENOMEM;
	for (i = 0; i < GEO_PROBE_SLOTS; i++) {
		struct geo_probe_slot *sl = &p->slots[i];

		sl->family = i % 2 ? 6 : 4;
		draw(sl->family == 4 ? v4 : v6, sl->family, sl->addr);
		want[i] = sl->family == 4 ? geo_table_lookup_v4(t, sl->addr[0])
					  : geo_table_lookup_v6(t, sl->addr);
	}
	s.want = want;
	err = pthread_create(&th, NULL, storm_run, &s);
	if (err) {
		free(want);
		return -err;
	}
	t0 = now_s();
	err = geo_table_build(&t2, src, msg, sizeof(msg));
	r->build_ms = (now_s() - t0) * 1e3;
	t0 = now_s();
	if (!err)
		err = geo_kernel_install(&maps, t2);
	r->install_ms = (now_s() - t0) * 1e3;
	s.stop = 1;
	pthread_join(th, NULL);
	r->lookups = s.lookups;
	r->wrong = s.wrong;
	geo_table_free(t2);
	free(want);
	return err ?: s.err;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: customs-bench geo --db FILE [--deny CC,...] [--json]\n"
		     "Times geo_lookup_v4/v6 against a kernel LPM trie holding the same\n"
		     "prefixes (BPF_PROG_RUN + bpf_loop, random addresses from the\n"
		     "database's prefixes), a full reload under kernel lookups, an empty\n"
		     "XDP program and the data plane's xdp_ingress (the --deny countries\n"
		     "denied, every other one allowed), an empty tc program and the data\n"
		     "plane's tc_unreach_egress on a served TCP segment.\n");
}

struct geo_results {
	struct family_result r4, r6;
	struct xdp_result x;
	struct reload_result reload;
	struct geo_table_info info;
	double build_s, install_s, u_table, u_lpm;
};

static void print_results(const struct geo_results *g, const char *db, bool json)
{
	const struct family_result *r4 = &g->r4, *r6 = &g->r6;
	const struct xdp_result *x = &g->x;

	if (json) {
		printf("{\"db\":\"%s\",\"v4_table_ns\":%.1f,\"v4_lpm_ns\":%.1f,"
		       "\"v6_table_ns\":%.1f,\"v6_lpm_ns\":%.1f,"
		       "\"xdp_empty_ns\":%.1f,\"xdp_full_ns\":%.1f,"
		       "\"xdp_full_prog\":\"xdp_ingress (bpf/dataplane.bpf.c): full table, "
		       "frames to a served endpoint, random sources from the database\","
		       "\"xdp_feed_empty_ns\":%.1f,\"xdp_feed_full_ns\":%.1f,"
		       "\"xdp_full_fixed_src_ns\":%.1f,\"xdp_full_64_prefixes_ns\":%.1f,"
		       "\"xdp_unserved_ns\":%.1f,\"tc_empty_ns\":%.1f,\"tc_egress_ns\":%.1f,"
		       "\"loop_ns\":%.1f,\"v4_speedup\":%.1f,\"v6_speedup\":%.1f,"
		       "\"v4_uniform_table_ns\":%.1f,\"v4_uniform_lpm_ns\":%.1f,"
		       "\"v4_chained_ns\":%.1f,\"v6_chained_ns\":%.1f,"
		       "\"v4_prefixes\":%llu,\"v6_prefixes\":%llu,\"lookups_per_run\":%d,"
		       "\"lpm_mismatches\":%zu,\"chained_mismatches\":%zu,\"kernel_bytes\":%llu,\"used_bytes\":%llu,"
		       "\"build_ms\":%.0f,\"install_ms\":%.0f,\"compile_load_switch_ms\":%.0f,"
		       "\"reload_build_ms\":%.0f,\"reload_install_ms\":%.0f,\"reload_ms\":%.0f,"
		       "\"reload_lookups\":%zu,\"reload_wrong_answers\":%zu}\n",
		       db, r4->table_ns, r4->lpm_ns, r6->table_ns, r6->lpm_ns, x->empty_ns,
		       x->full_ns, x->feed_empty_ns, x->feed_full_ns, x->fixed_ns,
		       x->few_ns, x->unserved_ns, x->tc_empty_ns, x->tc_egress_ns, r4->loop_ns,
		       r4->lpm_ns / r4->table_ns,
		       r6->lpm_ns / r6->table_ns,
		       g->u_table, g->u_lpm, r4->chained_ns, r6->chained_ns,
		       (unsigned long long)g->info.v4_prefixes,
		       (unsigned long long)g->info.v6_prefixes, GEO_PROBE_SLOTS,
		       r4->mismatches + r6->mismatches, r4->chain_mismatches + r6->chain_mismatches,
		       (unsigned long long)g->info.kernel_bytes,
		       (unsigned long long)g->info.used_bytes, g->build_s * 1e3,
		       g->install_s * 1e3, (g->build_s + g->install_s) * 1e3,
		       g->reload.build_ms, g->reload.install_ms,
		       g->reload.build_ms + g->reload.install_ms, g->reload.lookups,
		       g->reload.wrong);
		return;
	}
	printf("IPv4  table %6.1f ns  LPM %6.1f ns  (%.1fx)\n", r4->table_ns, r4->lpm_ns,
	       r4->lpm_ns / r4->table_ns);
	printf("IPv6  table %6.1f ns  LPM %6.1f ns  (%.1fx)\n", r6->table_ns, r6->lpm_ns,
	       r6->lpm_ns / r6->table_ns);
	printf("IPv4 uniform  table %6.1f ns  LPM %6.1f ns  (%.1fx)\n", g->u_table, g->u_lpm,
	       g->u_lpm / g->u_table);
	printf("chained (each lookup waits for the answer before)  IPv4 %6.1f ns  IPv6 %6.1f ns\n",
	       r4->chained_ns, r6->chained_ns);
	printf("loop overhead %.1f ns per lookup\n", r4->loop_ns);
	printf("XDP empty %.1f ns; xdp_ingress %.1f ns (fed: %.1f - %.1f; sources from %d "
	       "prefixes: %.1f; one source: %.1f; to a port not served: %.1f)\n", x->empty_ns,
	       x->full_ns, x->feed_full_ns, x->feed_empty_ns, HOT_PREFIXES, x->few_ns,
	       x->fixed_ns, x->unserved_ns);
	printf("tc empty %.1f ns; tc_unreach_egress on a served TCP segment %.1f ns\n",
	       x->tc_empty_ns, x->tc_egress_ns);
	printf("compile %.0f ms + load and switch %.0f ms; kernel memory %.1f MiB; "
	       "LPM disagreements %zu, chained vs table %zu\n", g->build_s * 1e3,
	       g->install_s * 1e3, (double)g->info.kernel_bytes / (1 << 20),
	       r4->mismatches + r6->mismatches, r4->chain_mismatches + r6->chain_mismatches);
	printf("reload under lookups: %.0f ms (compile %.0f + install %.0f), %zu of %zu "
	       "answers wrong\n", g->reload.build_ms + g->reload.install_ms,
	       g->reload.build_ms, g->reload.install_ms, g->reload.wrong, g->reload.lookups);
}

int bench_geo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "deny", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct prefix_set v4 = { .lpm_fd = -1 }, v6 = { .lpm_fd = -1 };
	struct geo_results g = {};
	struct geo_probe probe = {};
	struct geo_table *t = NULL;
	struct geo_source src = {};
	struct geo_maps maps;
	__u16 deny[32];
	double t0;
	char err[512] = "";
	bool json = false;
	int c, rc = 1, e, n_deny = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			src.db = optarg;
			break;
		case 'D':
			n_deny = bench_parse_countries(optarg, deny, 32);
			if (n_deny < 0) {
				usage(stderr);
				return 2;
			}
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
	if (!src.db) {
		usage(stderr);
		return 2;
	}
	t0 = now_s();
	if (geo_table_build(&t, &src, err, sizeof(err)) || geo_table_info(t, &g.info)) {
		fprintf(stderr, "%s\n", err[0] ? err : "customs-bench geo: cannot build the table");
		goto cleanup;
	}
	g.build_s = now_s() - t0;
	e = geo_probe_open(&probe, (__u32)(g.info.v4_prefixes + 1),
			   (__u32)(g.info.v6_prefixes + 1));
	if (e) {
		fprintf(stderr, "customs-bench geo: cannot load the geo probe: %s\n", strerror(-e));
		goto cleanup;
	}
	maps = geo_probe_maps(&probe);
	t0 = now_s();
	e = geo_kernel_install(&maps, t);
	g.install_s = now_s() - t0;
	if (e) {
		fprintf(stderr, "customs-bench geo: install failed: %s\n", strerror(-e));
		goto cleanup;
	}
	v4.lpm_fd = bpf_map__fd(probe.skel->maps.geo_lpm_v4);
	v6.lpm_fd = bpf_map__fd(probe.skel->maps.geo_lpm_v6);
	if (geo_table_foreach_prefix(t, 4, collect, &v4) ||
	    geo_table_foreach_prefix(t, 6, collect, &v6) || v4.lpm_err || v6.lpm_err) {
		fprintf(stderr, "customs-bench geo: cannot fill the LPM tries: %s\n",
			strerror(v4.lpm_err ? (int)-v4.lpm_err : v6.lpm_err ? (int)-v6.lpm_err : ENOMEM));
		goto cleanup;
	}
	srandom(20260617);
	e = bench_family(&probe, &v4, 4, &g.r4) ?: bench_family(&probe, &v6, 6, &g.r6) ?:
	    bench_uniform_v4(&probe, &g.u_table, &g.u_lpm);
	if (e) {
		fprintf(stderr, "customs-bench geo: BPF_PROG_RUN failed: %s\n", strerror(-e));
		goto cleanup;
	}
	e = bench_xdp_full(t, &v4, deny, n_deny, &g.x);
	if (e) {
		fprintf(stderr, "customs-bench geo: timing xdp_ingress: %s\n", strerror(-e));
		goto cleanup;
	}
	e = bench_reload(&probe, &src, &v4, &v6, t, &g.reload);
	if (e) {
		fprintf(stderr, "customs-bench geo: reload under lookups: %s\n", strerror(-e));
		goto cleanup;
	}
	print_results(&g, src.db, json);
	rc = g.r4.mismatches + g.r6.mismatches + g.r4.chain_mismatches + g.r6.chain_mismatches +
	     g.reload.wrong ? 1 : 0;
cleanup:
	free(v4.addr);
	free(v4.len);
	free(v4.cc);
	free(v6.addr);
	free(v6.len);
	free(v6.cc);
	if (probe.skel)
		geo_probe_close(&probe);
	geo_table_free(t);
	return rc;
}
