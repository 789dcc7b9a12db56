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

/*
 * Sends n frames; returns wall ns per frame, or a negative errno. A run in
 * which the receiver did not get every frame measures nothing: -EPIPE.
 */
double ingress_send(struct ingress_env *e, __u32 n)
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
	struct timespec t0, t1;
	long long rx0, rx1;
	int err;

	ingress_template_frame(frame);
	rx0 = rx_packets_a(e);
	err = netenv_enter(&e->env, 1);
	if (err)
		return err;
	ctx.ingress_ifindex = if_nametoindex(NETENV_IF_B);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = bpf_prog_test_run_opts(bpf_program__fd(e->gen->progs.xdp_pktgen), &opts);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	netenv_enter(&e->env, -1);
	if (err)
		return -errno;
	rx1 = rx_packets_a(e);
	if (rx0 < 0 || rx1 - rx0 < (long long)n) {
		fprintf(stderr, "customs-bench ingress: the receiver got %lld of %u frames\n",
			rx1 - rx0, n);
		return -EPIPE;
	}
	return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
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
		   "  flags interval\n  auto-merge\n  elements = {");
	for (i = 0; i < n; i++) {
		for (d = 0; d < n_deny && p[i].country != deny[d]; d++)
			;
		if (d == n_deny)
			continue;
		inet_ntop(AF_INET, &p[i].addr, addr, sizeof(addr));
		fprintf(f, "%s%s/%u", cnt++ ? ",\n" : "\n", addr, p[i].len);
	}
	fprintf(f, " }\n }\n chain ingress {\n  type filter hook ingress device %s priority 0;\n"
		   "  ip saddr @deny counter drop\n }\n}\n", NETENV_IF_A);
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
		"Drop-and-count cost per packet at ingress: no filter, nftables and customs,\n"
		"same generator, same veth, same frames. FILE is a geo database (MMDB, CSV\n"
		"or compiled table); sources are drawn from all of its IPv4 prefixes.\n");
}

int bench_ingress(int argc, char **argv)
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
	const char *file = NULL, *deny_s = NULL;
	struct ingress_prefix *p = NULL;
	struct geo_source src = {};
	struct geo_table *t = NULL;
	char msg[512] = "";
	struct ingress_env e;
	double none[16], nft[16], cust[16];
	__u16 deny[32];
	size_t n = 0, elements = 0;
	long packets = 2000000, rounds = 3;
	int n_deny, c, r, json = 0, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			file = optarg;
			break;
		case 'd':
			deny_s = optarg;
			break;
		case 'n':
			packets = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rounds = strtol(optarg, NULL, 10);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			ingress_usage(stdout);
			return 0;
		default:
			ingress_usage(stderr);
			return 2;
		}
	}
	if (!file || !deny_s || packets < 1000 || packets > 100000000 || rounds < 1 ||
	    rounds > 16 || (n_deny = bench_parse_countries(deny_s, deny, 32)) <= 0) {
		ingress_usage(stderr);
		return 2;
	}
	src.db = file;
	err = geo_table_build(&t, &src, msg, sizeof(msg)) ?: ingress_prefixes_of(t, &p, &n);
	if (err) {
		fprintf(stderr, "customs-bench ingress: %s\n", msg[0] ? msg : strerror(-err));
		geo_table_free(t);
		free(p);
		return 1;
	}
	e.n_prefixes = n;
	err = ingress_env_setup(&e) ?: ingress_env_sources(&e, p, n);
	if (err) {
		fprintf(stderr, "customs-bench ingress: set-up failed: %s\n", strerror(-err));
		goto out;
	}
	for (r = 0; r < rounds && !err; r++) {
		none[r] = ingress_send(&e, (__u32)packets);
		err = ingress_nft_load(&e, p, n, deny, n_deny, &elements);
		if (!err) {
			nft[r] = ingress_send(&e, (__u32)packets);
			ingress_nft_unload(&e);
		}
		cust[r] = ingress_customs_round(&e, t, deny, n_deny, (__u32)packets);
		if (none[r] < 0 || nft[r] < 0 || cust[r] < 0)
			err = -EIO;
	}
	if (err) {
		fprintf(stderr, "customs-bench ingress: a round failed: %s\n", strerror(-err));
		goto out;
	}
	if (json)
		printf("{\"packets\": %ld, \"rounds\": %ld, \"prefixes\": %zu, "
		       "\"nft_set_elements\": %zu, \"none_ns\": %.1f, \"nft_ns\": %.1f, "
		       "\"customs_ns\": %.1f}\n", packets, rounds, n, elements,
		       bench_median(none, (int)rounds), bench_median(nft, (int)rounds),
		       bench_median(cust, (int)rounds));
	else
		printf("ns per packet (median of %ld x %ld): none %.1f, nftables %.1f (%zu "
		       "set elements), customs %.1f\n", rounds, packets,
		       bench_median(none, (int)rounds), bench_median(nft, (int)rounds), elements,
		       bench_median(cust, (int)rounds));
out:
	ingress_env_teardown(&e);
	geo_table_free(t);
	free(p);
	return err ? 1 : 0;
}
