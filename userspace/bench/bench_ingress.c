// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-bench ingress: the per-packet cost of dropping and counting by
 * source country at ingress, contender by contender, with the same frames
 * from the same generator over the same veth pair, in one run:
 *
 *   none     nothing on the receiving interface
 *   nft      an nftables netdev ingress chain dropping a set of the denied
 *            countries' prefixes (interval set), with a counter
 *   customs  customs' complete XDP program with the full geo table, the
 *            destination a served endpoint, the countries denied
 *
 * The generator (bpf/pktgen.bpf.c) runs in XDP live-frames mode in the
 * sending namespace and transmits 60-byte UDP frames whose source address
 * is drawn at random from the prefixes of every country, so lookups are
 * spread as real traffic spreads them. Cost is whole-path wall time per
 * packet (generator, veth, receiver), median of the rounds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <sys/resource.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "bench_ingress.h"
#include "bench_kmem.h"
#include "bench_xdp.skel.h"
#include "geo.h"
#include "country.h"
#include "log.h"
#include "netenv.h"
#include "pktgen.skel.h"

struct source_prefix {
	__u32 addr;
	__u32 host_mask;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct prefix_list {
	struct ingress_prefix *v;
	size_t n, cap;
};

static int collect_prefix(int family, const __u32 addr[4], int len, __u16 cc, void *arg)
{
	struct prefix_list *l = arg;

	(void)family;
	if (l->n == l->cap) {
		void *p = realloc(l->v, (l->cap = l->cap ? l->cap * 2 : 4096) * sizeof(*l->v));

		if (!p)
			return -ENOMEM;
		l->v = p;
	}
	l->v[l->n].addr = addr[0];
	l->v[l->n].len = (__u8)len;
	l->v[l->n].country = cc;
	l->n++;
	return 0;
}

int ingress_prefixes_of(struct geo_table *t, struct ingress_prefix **out, size_t *n)
{
	struct prefix_list l = {};
	int err;

	err = geo_table_foreach_prefix(t, 4, collect_prefix, &l);
	if (err) {
		free(l.v);
		return err;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

void ingress_template_frame(__u8 *f)
{
	static const __u8 head[] = {
		0x02, 0, 0, 0, 0, 0x0a, 0x02, 0, 0, 0, 0, 0x0b, 0x08, 0x00,
		0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0, 0, 0, 0, 0,
		198, 18, 0, 1,
		0x30, 0x39, 0x00, INGRESS_PORT, 0, 26, 0, 0,
	};
	__u32 sum = 0;
	int i;

	memset(f, 0, INGRESS_FRAME_LEN);
	memcpy(f, head, sizeof(head));
	for (i = 14; i < 34; i += 2)
		sum += (__u32)(f[i] << 8 | f[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[24] = (__u8)(~sum >> 8);
	f[25] = (__u8)~sum;
}

int ingress_env_setup(struct ingress_env *e)
{
	char *mac_a[] = { "ip", "link", "set", NETENV_IF_A, "address", "02:00:00:00:00:0a",
			  NULL };
	/*
	 * A veth takes frames sent with XDP_TX only when its peer runs NAPI:
	 * with GRO on it does, with or without an XDP program of its own, so
	 * the filterless and nftables contenders receive every frame too.
	 */
	char *gro_a[] = { "ethtool", "-K", NETENV_IF_A, "gro", "on", NULL };

	e->gen = NULL;
	if (netenv_setup(&e->env, "ingress") || netenv_exec(&e->env, 0, mac_a) ||
	    netenv_exec(&e->env, 0, gro_a))
		return -EIO;
	e->gen = pktgen__open();
	if (!e->gen)
		return -errno;
	e->gen->rodata->n_sources = (__u32)e->n_prefixes;
	if (bpf_map__set_max_entries(e->gen->maps.sources,
				     e->n_prefixes ? (__u32)e->n_prefixes : 1) ||
	    pktgen__load(e->gen))
		return -EINVAL;
	return 0;
}

int ingress_env_sources(struct ingress_env *e, const struct ingress_prefix *p, size_t n)
{
	size_t i;
	__u32 k;

	for (i = 0; i < n; i++) {
		struct source_prefix s = {
			.addr = p[i].addr,
			.host_mask = p[i].len == 32 ? 0 : (0xffffffffu >> p[i].len),
		};

		k = (__u32)i;
		if (bpf_map__update_elem(e->gen->maps.sources, &k, sizeof(k), &s, sizeof(s), 0))
			return -errno;
	}
	return 0;
}

void ingress_env_teardown(struct ingress_env *e)
{
	pktgen__destroy(e->gen);
	e->gen = NULL;
	netenv_teardown(&e->env);
}

/* Frames cs-a has received: /proc/self/net follows our namespace. */
static long long rx_packets_a(struct ingress_env *e)
{
	unsigned long long b, p;
	char line[512], name[64];
	long long rx = -1;
	FILE *f;

	if (netenv_enter(&e->env, 0))
		return -1;
	f = fopen("/proc/self/net/dev", "r");
	netenv_enter(&e->env, -1);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %63[^:]: %llu %llu", name, &b, &p) == 3 &&
		    !strcmp(name, NETENV_IF_A))
			rx = (long long)p;
	fclose(f);
	return rx;
}

/* CPU time of this process, ns. */
static double cpu_self_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

/* Busy time of all CPUs from /proc/stat (everything but idle and iowait), ns. */
static double cpu_all_ns(void)
{
	unsigned long long v[10] = {};
	double busy = 0;
	FILE *f = fopen("/proc/stat", "r");
	int i;

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[0] = v[1] = v[2] = v[5] = v[6] = v[7] = 0;
	fclose(f);
	for (i = 0; i < 8; i++)
		if (i != 3 && i != 4)
			busy += (double)v[i];
	return busy * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

int ingress_send(struct ingress_env *e, __u32 n, struct ingress_sample *s)
{
	__u8 frame[INGRESS_FRAME_LEN];
	struct xdp_md ctx = { .data_end = INGRESS_FRAME_LEN };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = INGRESS_FRAME_LEN,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = n,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		.batch_size = 64,
	);
	double self0, all0, self1, all1;
	struct timespec t0, t1;
	long long rx0, rx1;
	int err;

	ingress_template_frame(frame);
	rx0 = rx_packets_a(e);
	err = netenv_enter(&e->env, 1);
	if (err)
		return err;
	ctx.ingress_ifindex = if_nametoindex(NETENV_IF_B);
	self0 = cpu_self_ns();
	all0 = cpu_all_ns();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = bpf_prog_test_run_opts(bpf_program__fd(e->gen->progs.xdp_pktgen), &opts);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	self1 = cpu_self_ns();
	all1 = cpu_all_ns();
	netenv_enter(&e->env, -1);
	if (err)
		return -errno;
	rx1 = rx_packets_a(e);
	s->wall_ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
	s->cpu_self_ns = (self1 - self0) / n;
	s->cpu_all_ns = (all1 - all0) / n;
	if (rx0 < 0 || rx1 - rx0 < (long long)n) {
		fprintf(stderr, "customs-bench ingress: the receiver got %lld of %u frames\n",
			rx1 - rx0, n);
		return -EPIPE;
	}
	return 0;
}

/* nftables: an interval set of the denied countries' prefixes, dropped. */
int ingress_nft_load(struct ingress_env *e, const struct ingress_prefix *p, size_t n,
		     const __u16 *deny, int n_deny, size_t *elements)
{
	char path[64], *argv[] = { "nft", "-f", path, NULL };
	char addr[INET_ADDRSTRLEN];
	size_t i, cnt = 0;
	FILE *f;
	int d, rc;

	snprintf(path, sizeof(path), "/tmp/customs-bench-nft-%d.nft", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "table netdev customs_bench {\n set deny {\n  type ipv4_addr\n"
		   "  flags interval\n  auto-merge\n");
	for (i = 0; i < n; i++) {
		for (d = 0; d < n_deny && p[i].country != deny[d]; d++)
			;
		if (d == n_deny)
			continue;	/* with no deny list: an empty set */
		inet_ntop(AF_INET, &p[i].addr, addr, sizeof(addr));
		fprintf(f, "%s%s/%u", cnt++ ? ",\n" : "  elements = {\n", addr, p[i].len);
	}
	fprintf(f, "%s }\n chain ingress {\n  type filter hook ingress device %s priority 0;\n"
		   "  ip saddr @deny counter drop\n }\n}\n", cnt ? " }\n" : "", NETENV_IF_A);
	fclose(f);
	rc = netenv_exec(&e->env, 0, argv);
	unlink(path);
	*elements = cnt;
	return rc ? -EINVAL : 0;
}

void ingress_nft_unload(struct ingress_env *e)
{
	char *argv[] = { "nft", "delete", "table", "netdev", "customs_bench", NULL };

	netenv_exec(&e->env, 0, argv);
}

int bench_parse_countries(const char *s, __u16 *out, int max)
{
	int n = 0;

	while (*s && n < max) {
		__u16 idx;
		char cc[3] = { s[0], s[0] ? s[1] : 0, 0 };

		if (country_parse(cc, &idx))
			return -EINVAL;
		out[n++] = idx;
		s += 2;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	return n;
}

static void ingress_usage(FILE *out)
{
	fprintf(out,
		"Usage: customs-bench ingress --db FILE --deny CC[,CC...]\n"
		"                             [--packets N] [--rounds R] [--json]\n"
		"Drop-and-count cost per packet at ingress, same generator, same veth, same\n"
		"frames: no filter, nftables (interval set of the denied countries' prefixes),\n"
		"an empty XDP program, XDP with a kernel LPM trie of every prefix and a\n"
		"per-country counter, and customs. FILE is a geo database (MMDB, CSV or\n"
		"compiled table); sources are drawn from all of its IPv4 prefixes.\n");
}

enum contender { C_NONE, C_NFT, C_XDP_EMPTY, C_XDP_LPM, C_CUSTOMS, C_MAX };
static const char *const contender_name[C_MAX] = {
	"none", "nft", "xdp_empty", "xdp_lpm", "customs",
};

#define MAX_ROUNDS 16

struct ingress_run {
	struct ingress_env e;
	const struct ingress_prefix *p;
	size_t n, nft_elements;
	struct geo_table *t;
	struct bench_xdp *bx;
	const __u16 *deny;
	int n_deny;
	__u32 packets;
	struct ingress_sample s[C_MAX][MAX_ROUNDS];
	long long bytes[C_MAX];
	int short_rounds[C_MAX];
};

static int run_contender(struct ingress_run *r, enum contender c, struct ingress_sample *s)
{
	int err;

	switch (c) {
	case C_NONE:
		return ingress_send(&r->e, r->packets, s);
	case C_NFT:
		err = ingress_nft_load(&r->e, r->p, r->n, r->deny, r->n_deny, &r->nft_elements);
		if (!err)
			err = ingress_send(&r->e, r->packets, s);
		ingress_nft_unload(&r->e);
		return err;
	case C_XDP_EMPTY:
		return ingress_xdp_round(&r->e, r->bx->progs.bench_empty, r->packets, s);
	case C_XDP_LPM:
		return ingress_xdp_round(&r->e, r->bx->progs.bench_lpm, r->packets, s);
	default:
		return ingress_customs_round(&r->e, r->t, r->deny, r->n_deny, r->packets, s,
					     &r->bytes[C_CUSTOMS]);
	}
}

#define SEND_TRIES 3

/*
 * A round in which the receiver missed frames (the veth ring overflowed
 * while the machine's other work held the receiving softirq back) is run
 * again; after SEND_TRIES its figure is kept and the round counted as
 * short, so a busy machine gives a noted figure, not a failed benchmark.
 */
static int run_contender_retry(struct ingress_run *r, enum contender c,
			       struct ingress_sample *s)
{
	int err = -EPIPE, t;

	for (t = 0; t < SEND_TRIES && err == -EPIPE; t++)
		err = run_contender(r, c, s);
	if (err == -EPIPE) {
		r->short_rounds[c]++;
		err = 0;
	}
	return err;
}

/* nftables' kernel memory: the full set's table minus the same table with an empty set. */
static long long nft_bytes(struct ingress_run *r)
{
	struct memcg cg[2];
	long long kmem[2] = { -ENOENT, -ENOENT };
	size_t elements;
	int i, err;

	for (i = 0; i < 2; i++) {
		err = memcg_setup(&cg[i], i ? "nft-full" : "nft-empty");
		if (!err)
			err = memcg_enter(&cg[i]);
		if (!err) {
			err = ingress_nft_load(&r->e, r->p, r->n, r->deny, i ? r->n_deny : 0,
					       &elements);
			memcg_leave(&cg[i]);
		}
		if (!err)
			kmem[i] = memcg_kmem(&cg[i]);
		ingress_nft_unload(&r->e);
		memcg_teardown(&cg[i]);
		if (err)
			return err;
	}
	return kmem[0] < 0 ? kmem[0] : kmem[1] < 0 ? kmem[1] : kmem[1] - kmem[0];
}

static void stat3(struct ingress_sample *s, int n, size_t field, double out[3])
{
	double v[MAX_ROUNDS];
	int i;

	for (i = 0; i < n; i++)
		v[i] = *(double *)((char *)&s[i] + field);
	out[0] = bench_median(v, n);	/* sorts v */
	out[1] = v[0];
	out[2] = v[n - 1];
}

static void print_ingress(struct ingress_run *r, const char *deny_s, int rounds, bool json)
{
	double w[C_MAX][3], cs[C_MAX][3], ca[C_MAX][3];
	int c, cheapest = C_XDP_EMPTY;

	for (c = 0; c < C_MAX; c++) {
		stat3(r->s[c], rounds, offsetof(struct ingress_sample, wall_ns), w[c]);
		stat3(r->s[c], rounds, offsetof(struct ingress_sample, cpu_self_ns), cs[c]);
		stat3(r->s[c], rounds, offsetof(struct ingress_sample, cpu_all_ns), ca[c]);
	}
	/* Filters only: "none" filters nothing and empty XDP neither. */
	for (c = C_NFT; c < C_MAX; c++)
		if (c != C_XDP_EMPTY && (cheapest == C_XDP_EMPTY || w[c][0] < w[cheapest][0]))
			cheapest = c;
	if (!json) {
		printf("ns per packet, median (min..max) of %d x %u, deny %s:\n", rounds,
		       r->packets, deny_s);
		for (c = 0; c < C_MAX; c++)
			printf("  %-10s wall %7.1f (%.1f..%.1f)  cpu %7.1f  %6.2f Mpps  kernel "
			       "memory %lld bytes\n", contender_name[c], w[c][0], w[c][1],
			       w[c][2], cs[c][0], 1e3 / w[c][0], r->bytes[c]);
		printf("customs over empty XDP: %.1f ns; cheapest filter: %s\n",
		       w[C_CUSTOMS][0] - w[C_XDP_EMPTY][0], contender_name[cheapest]);
		return;
	}
	printf("{\"subject\":\"ingress\",\"packets\":%u,\"rounds\":%d,\"deny\":\"%s\","
	       "\"prefixes\":%zu,\"nft_set_elements\":%zu,\"contenders\":{", r->packets, rounds,
	       deny_s, r->n, r->nft_elements);
	for (c = 0; c < C_MAX; c++)
		printf("%s\"%s\":{\"wall_ns\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
		       "\"cpu_self_ns\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
		       "\"cpu_all_ns\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
		       "\"mpps\":%.3f,\"kernel_bytes\":%lld,\"short_rounds\":%d}", c ? "," : "",
		       contender_name[c], w[c][0], w[c][1], w[c][2], cs[c][0], cs[c][1],
		       cs[c][2], ca[c][0], ca[c][1], ca[c][2], 1e3 / w[c][0], r->bytes[c],
		       r->short_rounds[c]);
	printf("},\"none_ns\":%.1f,\"nft_ns\":%.1f,\"xdp_empty_ns\":%.1f,\"xdp_lpm_ns\":%.1f,"
	       "\"customs_ns\":%.1f,\"customs_over_empty_ns\":%.1f,\"cheapest_filter\":\"%s\"}\n",
	       w[C_NONE][0], w[C_NFT][0], w[C_XDP_EMPTY][0], w[C_XDP_LPM][0],
	       w[C_CUSTOMS][0], w[C_CUSTOMS][0] - w[C_XDP_EMPTY][0], contender_name[cheapest]);
}

static int parse_ingress(int argc, char **argv, const char **file, const char **deny_s,
			 long *packets, long *rounds, bool *json)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'p' },
		{ "deny", required_argument, NULL, 'd' },
		{ "packets", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			*file = optarg;
			break;
		case 'd':
			*deny_s = optarg;
			break;
		case 'n':
			*packets = strtol(optarg, NULL, 10);
			break;
		case 'r':
			*rounds = strtol(optarg, NULL, 10);
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			ingress_usage(stdout);
			return 1;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

int bench_ingress(int argc, char **argv)
{
	static struct ingress_run r;
	const char *file = NULL, *deny_s = NULL;
	struct ingress_prefix *p = NULL;
	struct geo_source src = {};
	char msg[512] = "";
	__u16 deny[32];
	long packets = 2000000, rounds = 3;
	bool json = false;
	int n_deny = 0, c, i, err;

	err = parse_ingress(argc, argv, &file, &deny_s, &packets, &rounds, &json);
	if (err > 0)
		return 0;
	if (err || !file || !deny_s || packets < 1000 || packets > 100000000 || rounds < 1 ||
	    rounds > MAX_ROUNDS || (n_deny = bench_parse_countries(deny_s, deny, 32)) <= 0) {
		ingress_usage(stderr);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	src.db = file;
	err = geo_table_build(&r.t, &src, msg, sizeof(msg)) ?: ingress_prefixes_of(r.t, &p, &r.n);
	if (err) {
		fprintf(stderr, "customs-bench ingress: %s\n", msg[0] ? msg : strerror(-err));
		geo_table_free(r.t);
		free(p);
		return 1;
	}
	r.p = p;
	r.deny = deny;
	r.n_deny = n_deny;
	r.packets = (__u32)packets;
	r.e.n_prefixes = r.n;
	err = ingress_env_setup(&r.e) ?: ingress_env_sources(&r.e, p, r.n);
	if (!err) {
		r.bx = ingress_xdp_load(p, r.n, deny, n_deny);
		err = r.bx ? 0 : -errno;
	}
	if (err) {
		fprintf(stderr, "customs-bench ingress: set-up failed: %s\n", strerror(-err));
		goto out;
	}
	r.bytes[C_XDP_EMPTY] = 0;
	r.bytes[C_XDP_LPM] = kmem_object_bytes(r.bx->obj);
	r.bytes[C_NFT] = nft_bytes(&r);
	/* Each round starts with the next contender, so none always goes first. */
	for (i = 0; i < rounds && !err; i++)
		for (c = 0; c < C_MAX && !err; c++) {
			enum contender k = (enum contender)((i + c) % C_MAX);

			err = run_contender_retry(&r, k, &r.s[k][i]);
			if (err)
				fprintf(stderr, "customs-bench ingress: round %d, %s: %s\n", i + 1,
					contender_name[k], strerror(-err));
		}
	if (!err)
		print_ingress(&r, deny_s, (int)rounds, json);
out:
	bench_xdp__destroy(r.bx);
	ingress_env_teardown(&r.e);
	geo_table_free(r.t);
	free(p);
	return err ? 1 : 0;
}
