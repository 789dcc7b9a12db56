// SPDX-License-Identifier: BSD-2-Clause
/*
 * The geo lookup in the kernel, through the geo probe and BPF_PROG_RUN:
 * kernel == userspace mirror == libmaxminddb on the real databases (full
 * and IPv4-only; the benchmark's chained mode answers the same), IPv4
 * search trees of every depth, ZZ before any table is loaded, reloads of
 * the full database under a storm of concurrent lookups with no wrong
 * answer, the old table map freed after a switch, installs through a map
 * reused from a bpffs pin, and a failed build that leaves the live table
 * alone.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "country.h"
#include "geo.h"
#include "geodiff.h"
#include "geo.skel.h"

#define FULL_DB	"data/geo/geo-whois-asn-country.mmdb"
#define V4_DB	"data/geo/geo-whois-asn-country-ipv4.mmdb"

static __u16 kernel_cc(struct geo_probe *p, const char *ip)
{
	__u32 addr[4];
	__u8 fam;
	__u16 cc = 0xffff;

	ASSERT_OK(geo_parse_ip(ip, addr, &fam), ip);
	ASSERT_OK(geo_probe_lookup(p, (const __u32 (*)[4])&addr, &fam, 1, &cc), "probe lookup");
	return cc;
}

static void differential(const char *path, size_t n)
{
	struct geo_source src = { .db = path };
	struct geo_probe probe = {};
	struct geo_table *t = NULL;
	struct geo_maps maps;
	__u32 (*addr)[4];
	__u8 *family;
	__u16 *kcc;
	char err[256] = "";
	size_t i, got, bad = 0;
	MMDB_s db;

	test_need_bpf();
	test_need(access(path, R_OK) == 0, path);
	ASSERT_EQ(MMDB_open(path, MMDB_MODE_MMAP, &db), MMDB_SUCCESS, "MMDB_open");
	ASSERT_OK(geo_table_build(&t, &src, err, sizeof(err)), err);
	ASSERT_OK(geo_probe_open(&probe, 0, 0), "probe open");
	maps = geo_probe_maps(&probe);
	ASSERT_OK(geo_kernel_install(&maps, t), "install");
	addr = calloc(n, sizeof(*addr));
	family = calloc(n, 1);
	kcc = calloc(n, sizeof(*kcc));
	ASSERT_TRUE(addr && family && kcc, "alloc");
	got = geodiff_addresses(t, addr, family, n, 777);
	ASSERT_TRUE(got >= 100000, "at least 100k addresses");
	ASSERT_OK(geo_probe_lookup(&probe, (const __u32 (*)[4])addr, family, got, kcc),
		  "kernel lookups");
	for (i = 0; i < got; i++) {
		__u16 want = geodiff_mmdb_cc(&db, addr[i], family[i]);
		__u16 mirror = family[i] == 4 ? geo_table_lookup_v4(t, addr[i][0]) :
						geo_table_lookup_v6(t, addr[i]);

		if ((kcc[i] != want || mirror != want) && bad++ < 5)
			print_message("%s: kernel %u, mirror %u, libmaxminddb %u\n",
				      geodiff_str(addr[i], family[i]), kcc[i], mirror, want);
	}
	ASSERT_EQ(bad, 0, "kernel == mirror == libmaxminddb");
	/* The benchmark's chained mode (one batch: got < GEO_PROBE_SLOTS) answers as the table. */
	for (i = 0; i < got; i++)
		probe.slots[i].cc = 0xffff;
	ASSERT_OK(geo_probe_run(&probe, (__u32)got, GEO_PROBE_CHAINED, 1, NULL), "chained run");
	for (i = 0, bad = 0; i < got; i++)
		bad += probe.slots[i].cc != kcc[i];
	ASSERT_EQ(bad, 0, "chained == table");
	free(addr);
	free(family);
	free(kcc);
	geo_probe_close(&probe);
	geo_table_free(t);
	MMDB_close(&db);
}

static void kernel_matches_mirror_and_libmaxminddb_full(void **state)
{
	(void)state;
	differential(FULL_DB, 120000);
}

static void kernel_matches_mirror_and_libmaxminddb_ipv4_only(void **state)
{
	(void)state;
	differential(V4_DB, 120000);
}

static void no_table_answers_zz(void **state)
{
	struct geo_probe probe = {};
	struct geo_table *t = NULL;
	struct geo_maps maps;
	unsigned char h[SHA256_LEN];

	(void)state;
	test_need_bpf();
	ASSERT_OK(geo_probe_open(&probe, 0, 0), "probe open");
	maps = geo_probe_maps(&probe);
	ASSERT_EQ(kernel_cc(&probe, "192.0.2.1"), COUNTRY_ZZ, "v4 before load");
	ASSERT_EQ(kernel_cc(&probe, "2001:db8::1"), COUNTRY_ZZ, "v6 before load");
	ASSERT_EQ(geo_kernel_live_hash(&maps, h), -ENOENT, "no live table");
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_table_add_override(t, "192.0.2.0/24", "DE"), "override v4");
	ASSERT_OK(geo_table_add_override(t, "2001:db8::/32", "US"), "override v6");
	ASSERT_OK(geo_table_add_override(t, "198.18.0.0/15", "NL"), "override bench range");
	ASSERT_OK(geo_kernel_install(&maps, t), "install");
	ASSERT_EQ(kernel_cc(&probe, "192.0.2.1"), country_index('D', 'E'), "v4 after load");
	ASSERT_EQ(kernel_cc(&probe, "198.19.1.1"), country_index('N', 'L'), "v4 /15");
	ASSERT_EQ(kernel_cc(&probe, "::ffff:192.0.2.1"), country_index('D', 'E'), "v4-mapped");
	ASSERT_EQ(kernel_cc(&probe, "2001:db8::1"), country_index('U', 'S'), "v6 after load");
	ASSERT_EQ(kernel_cc(&probe, "2001:db9::1"), COUNTRY_ZZ, "v6 outside");
	ASSERT_OK(geo_kernel_live_hash(&maps, h), "live hash");
	ASSERT_TRUE(!memcmp(h, geo_table_hash(t), SHA256_LEN), "live hash is the table's");
	geo_probe_close(&probe);
	geo_table_free(t);
}

static void kernel_matches_mirror_at_the_edges(void **state)
{
	static const char *const overrides[][2] = {
		{ "0.0.0.0/0", "BR" }, { "0.0.0.0/32", "UY" }, { "255.255.255.255", "AR" },
		{ "10.0.0.0/24", "NO" }, { "10.0.0.128/25", "SE" }, { "10.0.0.77", "FI" },
		{ "::/0", "CL" }, { "8000::/1", "EC" }, { "8000::1/128", "BO" },
		{ "2001:db8::/32", "US" }, { "2001:db8::/64", "MX" }, { "2001:db8::8000:0:0:0/65", "CA" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "PE" },
	};
	static const char *const ips[] = {
		"0.0.0.0", "0.0.0.1", "9.255.255.255", "10.0.0.0", "10.0.0.76", "10.0.0.77",
		"10.0.0.78", "10.0.0.127", "10.0.0.128", "10.0.0.255", "10.0.1.0",
		"255.255.255.254", "255.255.255.255", "::", "::1", "::ffff:10.0.0.77",
		"::ffff:255.255.255.255", "1::", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"8000::", "8000::1", "8000::2", "2001:db8::", "2001:db8::7fff:ffff:ffff:ffff",
		"2001:db8::8000:0:0:0", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::",
		"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	};
	struct geo_probe probe = {};
	struct geo_table *t = NULL;
	struct geo_maps maps;
	size_t i;

	(void)state;
	test_need_bpf();
	ASSERT_OK(geo_table_new(&t), "new");
	for (i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++)
		ASSERT_OK(geo_table_add_override(t, overrides[i][0], overrides[i][1]), overrides[i][0]);
	ASSERT_OK(geo_probe_open(&probe, 0, 0), "probe");
	maps = geo_probe_maps(&probe);
	ASSERT_OK(geo_kernel_install(&maps, t), "install");
	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		__u16 mirror = 0xffff;

		ASSERT_OK(geo_table_lookup_str(t, ips[i], &mirror), ips[i]);
		ASSERT_EQ(kernel_cc(&probe, ips[i]), mirror, ips[i]);
	}
	ASSERT_EQ(kernel_cc(&probe, "10.0.0.77"), country_index('F', 'I'), "host in a split /24");
	ASSERT_EQ(kernel_cc(&probe, "2001:db8::8000:0:0:1"), country_index('C', 'A'), "/65");
	ASSERT_EQ(kernel_cc(&probe, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
		  country_index('P', 'E'), "last IPv6 address");
	geo_probe_close(&probe);
	geo_table_free(t);
}

/*
 * 40,000 /64s in one /16: the /16's search would visit every tree level,
 * so the index splits it into sub-index blocks, several levels deep. Every
 * /64's first and last address and the address before it, in the kernel
 * and the mirror, against the answer the construction implies.
 */
#define DENSE_N 40000

/*
 * IPv4 /16s of 10, 200, 3,000, 5,000 and 65,536 segments: search trees
 * of depth 1, 2, 3, 4 and the deepest possible (every address its own
 * segment). Every address of each, and the neighbours of each /16: kernel
 * == mirror == construction.
 */
#define TREE_16S	5
#define TREE_N		(TREE_16S * 65536 + 2 * TREE_16S)

static void every_ipv4_tree_depth(void **state)
{
	static const char *const ccs[] = { "DE", "FR", "JP", "BR" };
	static const __u32 nseg[TREE_16S] = { 10, 200, 3000, 5000, 65536 };
	struct geo_table_info info;
	struct geo_probe probe = {};
	struct geo_table *t = NULL;
	struct geo_maps maps;
	__u32 (*addr)[4], start[65536 + 1], x = 2463534242u, base, a, j, s, i;
	__u16 *kcc, *want, cc;
	__u8 *family, *used;
	char err[128], *csv, *p;
	size_t n = 0, bad = 0;

	(void)state;
	test_need_bpf();
	addr = calloc(TREE_N, sizeof(*addr));
	family = calloc(TREE_N, 1);
	kcc = calloc(TREE_N, sizeof(*kcc));
	want = calloc(TREE_N, sizeof(*want));
	used = calloc(65536, 1);
	csv = calloc(80000, 40);
	ASSERT_TRUE(addr && family && kcc && want && used && csv, "alloc");
	ASSERT_OK(geo_table_new(&t), "new");
	for (j = 0, p = csv; j < TREE_16S; j++) {
		base = (10u << 24) | (j + 1) << 16;
		/* nseg distinct starts, the first at the /16's first address. */
		memset(used, 0, 65536);
		used[0] = 1;
		for (s = 1; s < nseg[j]; s++) {
			do {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				a = nseg[j] == 65536 ? s : x & 0xffff;
			} while (used[a] && nseg[j] < 65536);
			used[a] = 1;
		}
		for (a = 0, s = 0; a < 65536; a++)
			if (used[a])
				start[s++] = a;
		start[s] = 65536;
		for (s = 0; s < nseg[j]; s++)
			p += sprintf(p, "%u.%u.%u.%u,%u.%u.%u.%u,%s\n", 10, j + 1,
				     start[s] >> 8, start[s] & 0xff, 10, j + 1,
				     (start[s + 1] - 1) >> 8, (start[s + 1] - 1) & 0xff,
				     ccs[s % 4]);
		for (a = 0, s = 0; a < 65536; a++, n++) {
			if (a == start[s + 1])
				s++;
			addr[n][0] = htonl(base + a);
			family[n] = 4;
			want[n] = country_index(ccs[s % 4][0], ccs[s % 4][1]);
		}
		/* The neighbours: ZZ below the first /16 and above the last. */
		addr[n][0] = htonl(base - 1);
		family[n] = 4;
		want[n++] = j ? country_index(ccs[(nseg[j - 1] - 1) % 4][0],
					      ccs[(nseg[j - 1] - 1) % 4][1]) : COUNTRY_ZZ;
		addr[n][0] = htonl(base + 65536);
		family[n] = 4;
		want[n++] = j + 1 < TREE_16S ? country_index('D', 'E') : COUNTRY_ZZ;
	}
	ASSERT_OK(geo_table_add_csv_buf(t, "trees.csv", csv, (size_t)(p - csv), err, sizeof(err)),
		  err);
	ASSERT_OK(geo_table_info(t, &info), "info");
	ASSERT_EQ(info.v4_trees, TREE_16S, "a tree per /16 of several countries");
	ASSERT_OK(geo_probe_open(&probe, 0, 0), "probe");
	maps = geo_probe_maps(&probe);
	ASSERT_OK(geo_kernel_install(&maps, t), "install");
	ASSERT_OK(geo_probe_lookup(&probe, (const __u32 (*)[4])addr, family, n, kcc), "lookups");
	for (i = 0; i < n; i++) {
		cc = geo_table_lookup_v4(t, addr[i][0]);
		if ((kcc[i] != want[i] || cc != want[i]) && bad++ < 5)
			print_message("%s: kernel %u, mirror %u, want %u\n",
				      geodiff_str(addr[i], 4), kcc[i], cc, want[i]);
	}
	ASSERT_EQ(bad, 0, "kernel == mirror == construction");
	geo_probe_close(&probe);
	geo_table_free(t);
	free(addr);
	free(family);
	free(kcc);
	free(want);
	free(used);
	free(csv);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void dense_ipv6_goes_through_the_index(void **state)
{
	static const char *const ccs[] = { "DE", "FR", "JP", "BR" };
	struct geo_table_info info;
	struct geo_probe probe = {};
	struct geo_table *t = NULL;
	struct geo_maps maps;
	__u64 *hi, x = 88172645463325252ull;
	__u32 (*addr)[4];
	__u8 *family;
	__u16 *kcc, *want;
	char cidr[64], *buf, *p;
	size_t i, n = 0, k, bad = 0;

	(void)state;
	test_need_bpf();
	hi = calloc(DENSE_N, sizeof(*hi));
	buf = calloc(DENSE_N, 64);
	addr = calloc(3 * DENSE_N, sizeof(*addr));
	family = calloc(3 * DENSE_N, 1);
	kcc = calloc(3 * DENSE_N, sizeof(*kcc));
	want = calloc(3 * DENSE_N, sizeof(*want));
	ASSERT_TRUE(hi && buf && addr && family && kcc && want, "alloc");
	/* Distinct /64s of 2a00::/16, clustered in 24 bits so neighbours touch. */
	for (i = 0; i < DENSE_N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		hi[i] = 0x2a00000000000000ull | (x & 0x0000ffffff000000ull) >> 12 |
			(x & 0x3ff) | (i & 1) << 10;
	}
	qsort(hi, DENSE_N, sizeof(*hi), cmp_u64);
	for (i = 0, k = 0; i < DENSE_N; i++)
		if (!k || hi[i] != hi[k - 1])
			hi[k++] = hi[i];
	for (i = 0, p = buf; i < k; i++) {
		snprintf(cidr, sizeof(cidr), "%x:%x:%x:%x::/64 %s\n", (unsigned)(hi[i] >> 48),
			 (unsigned)(hi[i] >> 32) & 0xffff, (unsigned)(hi[i] >> 16) & 0xffff,
			 (unsigned)hi[i] & 0xffff, ccs[i % 4]);
		p += sprintf(p, "%s", cidr);
	}
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_table_add_override_buf(t, "dense", buf, (size_t)(p - buf), cidr,
					     sizeof(cidr)), "overrides");
	ASSERT_OK(geo_table_info(t, &info), "info");
	ASSERT_TRUE(info.v6_index_blocks >= 2, "the dense /16 has sub-index blocks");
	for (i = 0; i < k; i++) {
		__u64 before = hi[i] - 1;
		__u16 cc = country_index(ccs[i % 4][0], ccs[i % 4][1]);
		__u16 prev = i && hi[i - 1] == before ?
			     country_index(ccs[(i - 1) % 4][0], ccs[(i - 1) % 4][1]) : COUNTRY_ZZ;
		__u64 h3[3] = { hi[i], hi[i], before };
		__u32 lo3[3] = { 0, 0xffffffffu, 0xffffffffu };
		__u16 w3[3] = { cc, cc, prev };
		int j;

		for (j = 0; j < 3; j++, n++) {
			addr[n][0] = htonl((__u32)(h3[j] >> 32));
			addr[n][1] = htonl((__u32)h3[j]);
			addr[n][2] = lo3[j] ? 0xffffffffu : 0;
			addr[n][3] = lo3[j] ? 0xffffffffu : 0;
			family[n] = 6;
			want[n] = w3[j];
		}
	}
	ASSERT_OK(geo_probe_open(&probe, 0, 0), "probe");
	maps = geo_probe_maps(&probe);
	ASSERT_OK(geo_kernel_install(&maps, t), "install");
	ASSERT_OK(geo_probe_lookup(&probe, (const __u32 (*)[4])addr, family, n, kcc), "lookups");
	for (i = 0; i < n; i++) {
		__u16 mirror = geo_table_lookup_v6(t, addr[i]);

		if ((kcc[i] != want[i] || mirror != want[i]) && bad++ < 5)
			print_message("%s: kernel %u, mirror %u, want %u\n",
				      geodiff_str(addr[i], 6), kcc[i], mirror, want[i]);
	}
	ASSERT_EQ(bad, 0, "kernel == mirror == construction");
	geo_probe_close(&probe);
	geo_table_free(t);
	free(hi);
	free(buf);
	free(addr);
	free(family);
	free(kcc);
	free(want);
}

#define STORM_N 4096

struct storm {
	struct geo_probe probe;
	__u32 addr[STORM_N][4];
	__u8 family[STORM_N];
	__u16 want_a[STORM_N], want_b[STORM_N];
	atomic_int stop;
	unsigned long runs, wrong, saw_a, saw_b;
	int err;
};

static void *storm_thread(void *arg)
{
	struct storm *s = arg;
	size_t i;

	while (!atomic_load(&s->stop)) {
		for (i = 0; i < STORM_N; i++) {
			memcpy(s->probe.slots[i].addr, s->addr[i], 16);
			s->probe.slots[i].family = s->family[i];
		}
		s->err = geo_probe_run(&s->probe, STORM_N, GEO_PROBE_TABLE, 1, NULL);
		if (s->err)
			break;
		for (i = 0; i < STORM_N; i++) {
			__u16 cc = s->probe.slots[i].cc;

			if (cc != s->want_a[i] && cc != s->want_b[i])
				s->wrong++;
			s->saw_a += cc == s->want_a[i] && cc != s->want_b[i];
			s->saw_b += cc == s->want_b[i] && cc != s->want_a[i];
		}
		s->runs++;
	}
	return NULL;
}

/*
 * The full database with the documentation ranges in cc, so a torn or
 * half-copied table would answer ZZ or the other country somewhere.
 */
static struct geo_table *storm_table(const char *cc)
{
	struct geo_source src = { .db = access(FULL_DB, R_OK) == 0 ? FULL_DB : NULL };
	struct geo_table *t = NULL;
	char err[256] = "";

	ASSERT_OK(geo_table_build(&t, &src, err, sizeof(err)), err);
	ASSERT_OK(geo_table_add_override(t, "192.0.2.0/24", cc), "doc v4");
	ASSERT_OK(geo_table_add_override(t, "192.0.2.128/28", "IT"), "doc v4 split");
	ASSERT_OK(geo_table_add_override(t, "198.18.0.0/15", cc), "bench v4");
	ASSERT_OK(geo_table_add_override(t, "2001:db8::/32", cc), "doc v6");
	ASSERT_OK(geo_table_add_override(t, "2001:db8:1::/48", "IT"), "doc v6 longer");
	geo_table_hash(t);
	return t;
}

static void reload_under_lookup_storm(void **state)
{
	struct storm *s = calloc(1, sizeof(*s));
	struct geo_table *a = NULL, *b = NULL;
	struct geo_maps maps;
	unsigned char h[SHA256_LEN];
	pthread_t th;
	int i;

	(void)state;
	ASSERT_OK_PTR(s, "alloc");
	test_need_bpf();
	a = storm_table("DE");
	b = storm_table("FR");
	srandom(99);
	for (i = 0; i < STORM_N; i++) {
		char ip[64];

		/* Documentation ranges (A and B differ) and random real addresses. */
		switch (i % 5) {
		case 0:
			snprintf(ip, sizeof(ip), "192.0.2.%d", i % 256);
			break;
		case 1:
			snprintf(ip, sizeof(ip), "2001:db8:%x::%x", i % 3, i);
			break;
		case 2:
			snprintf(ip, sizeof(ip), "198.%d.%d.%d", 18 + i % 2, i % 256, i % 253);
			break;
		case 3:
			snprintf(ip, sizeof(ip), "%ld.%ld.%ld.%ld", 1 + random() % 223,
				 random() % 256, random() % 256, random() % 256);
			break;
		default:
			snprintf(ip, sizeof(ip), "2%03lx:%lx:%lx::%lx", random() % 0x1000,
				 random() % 0x10000, random() % 0x10000, random() % 0x10000);
			break;
		}
		ASSERT_OK(geo_parse_ip(ip, s->addr[i], &s->family[i]), ip);
		s->want_a[i] = s->family[i] == 4 ? geo_table_lookup_v4(a, s->addr[i][0]) :
						   geo_table_lookup_v6(a, s->addr[i]);
		s->want_b[i] = s->family[i] == 4 ? geo_table_lookup_v4(b, s->addr[i][0]) :
						   geo_table_lookup_v6(b, s->addr[i]);
	}
	ASSERT_OK(geo_probe_open(&s->probe, 0, 0), "probe open");
	maps = geo_probe_maps(&s->probe);
	ASSERT_OK(geo_kernel_install(&maps, a), "first install");
	ASSERT_OK(pthread_create(&th, NULL, storm_thread, s), "storm thread");
	for (i = 0; i < 30; i++)
		ASSERT_OK(geo_kernel_install(&maps, i % 2 ? a : b), "reload");
	usleep(20000);
	atomic_store(&s->stop, 1);
	pthread_join(th, NULL);
	ASSERT_OK(s->err, "storm runs");
	print_message("storm: %lu runs of %d lookups, %lu wrong, %lu A-only and %lu B-only answers\n",
		      s->runs, STORM_N, s->wrong, s->saw_a, s->saw_b);
	ASSERT_TRUE(s->runs > 0, "the storm ran");
	ASSERT_EQ(s->wrong, 0, "no lookup saw a partial or mixed table");
	ASSERT_OK(geo_kernel_live_hash(&maps, h), "live hash");
	ASSERT_TRUE(!memcmp(h, geo_table_hash(a), SHA256_LEN), "last install is live");
	geo_probe_close(&s->probe);
	geo_table_free(a);
	geo_table_free(b);
	free(s);
}

static int live_map_id(const struct geo_maps *m, __u32 *id)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(bpf_map__fd(m->live), &zero, id) ? -errno : 0;
}

static void reload_frees_the_old_table(void **state)
{
	struct geo_probe probe = {};
	struct geo_table *t = NULL;
	struct geo_maps maps;
	__u32 old_id = 0, new_id = 0;
	int fd = -1, tries;

	(void)state;
	test_need_bpf();
	ASSERT_OK(geo_probe_open(&probe, 0, 0), "probe");
	maps = geo_probe_maps(&probe);
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_kernel_install(&maps, t), "first install");
	ASSERT_OK(live_map_id(&maps, &old_id), "old id");
	ASSERT_OK(geo_table_add_override(t, "192.0.2.0/24", "DE"), "override");
	ASSERT_OK(geo_kernel_install(&maps, t), "second install");
	ASSERT_OK(live_map_id(&maps, &new_id), "new id");
	ASSERT_TRUE(new_id != old_id, "a new map is live");
	/* The kernel frees the old map after an RCU grace period. */
	for (tries = 0; tries < 200; tries++) {
		fd = bpf_map_get_fd_by_id(old_id);
		if (fd < 0)
			break;
		close(fd);
		usleep(10000);
	}
	ASSERT_TRUE(fd < 0 && errno == ENOENT, "the old table map is gone");
	geo_probe_close(&probe);
	geo_table_free(t);
}

static void install_through_pinned_map(void **state)
{
	struct geo_probe first = {};
	struct geo *second = NULL;
	struct geo_table *t = NULL;
	struct geo_maps maps;
	char pindir[96], pin[128];
	int fd = -1;

	(void)state;
	test_need_bpf();
	snprintf(pindir, sizeof(pindir), "/sys/fs/bpf/customs-test-geo-%d", getpid());
	snprintf(pin, sizeof(pin), "%s/geo_live", pindir);
	unlink(pin);
	rmdir(pindir);
	ASSERT_OK(mkdir(pindir, 0700), "pin dir");
	ASSERT_OK(geo_probe_open(&first, 0, 0), "first probe");
	ASSERT_OK(bpf_map__pin(first.skel->maps.geo_live, pin), "pin geo_live");
	/* As the agent after a restart: a new skeleton reusing the pinned map. */
	second = geo__open();
	ASSERT_OK_PTR(second, "second open");
	fd = bpf_obj_get(pin);
	ASSERT_TRUE(fd >= 0, "bpf_obj_get");
	ASSERT_OK(bpf_map__reuse_fd(second->maps.geo_live, fd), "reuse_fd");
	ASSERT_OK(geo__load(second), "second load");
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_table_add_override(t, "203.0.113.0/24", "SE"), "override");
	maps = GEO_MAPS(second);
	ASSERT_OK(geo_kernel_install(&maps, t), "install via reused map");
	ASSERT_EQ(kernel_cc(&first, "203.0.113.9"), country_index('S', 'E'),
		  "the first program sees the table");
	close(fd);
	geo__destroy(second);
	geo_probe_close(&first);
	geo_table_free(t);
	ASSERT_OK(unlink(pin), "unpin");
	ASSERT_OK(rmdir(pindir), "rm pin dir");
}

static void failed_build_keeps_live_table(void **state)
{
	static const char *const ovr[] = { "/nonexistent/customs-override.txt" };
	struct geo_source src = { .overrides = ovr, .n_overrides = 1 };
	struct geo_probe probe = {};
	struct geo_table *t = NULL, *u = NULL;
	struct geo_maps maps;
	unsigned char h[SHA256_LEN];
	char err[256] = "";

	(void)state;
	test_need_bpf();
	ASSERT_OK(geo_probe_open(&probe, 0, 0), "probe");
	maps = geo_probe_maps(&probe);
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_table_add_override(t, "192.0.2.0/24", "DE"), "override");
	ASSERT_OK(geo_kernel_install(&maps, t), "install");
	ASSERT_TRUE(geo_table_build(&u, &src, err, sizeof(err)) < 0, "bad build fails");
	ASSERT_TRUE(u == NULL, "no table");
	ASSERT_TRUE(geo_table_add_override(t, "192.0.2.0/24", "UK") == -EINVAL, "bad override");
	ASSERT_OK(geo_kernel_live_hash(&maps, h), "live hash");
	ASSERT_TRUE(!memcmp(h, geo_table_hash(t), SHA256_LEN), "live table unchanged");
	ASSERT_EQ(kernel_cc(&probe, "192.0.2.1"), country_index('D', 'E'), "still answers");
	geo_probe_close(&probe);
	geo_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_table_answers_zz),
		cmocka_unit_test(kernel_matches_mirror_at_the_edges),
		cmocka_unit_test(every_ipv4_tree_depth),
		cmocka_unit_test(dense_ipv6_goes_through_the_index),
		cmocka_unit_test(kernel_matches_mirror_and_libmaxminddb_full),
		cmocka_unit_test(kernel_matches_mirror_and_libmaxminddb_ipv4_only),
		cmocka_unit_test(reload_under_lookup_storm),
		cmocka_unit_test(reload_frees_the_old_table),
		cmocka_unit_test(install_through_pinned_map),
		cmocka_unit_test(failed_build_keeps_live_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
