// SPDX-License-Identifier: BSD-2-Clause
/*
 * The geo engine in userspace: overrides and their precedence, CSV ranges
 * (narrower wins, equal ranges the later row) and round trips, the
 * compiled table file, both MMDB schemas and IPv4-only databases, every
 * bad-input case with its file:line message, and the mirror against
 * libmaxminddb on the real database.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "country.h"
#include "geo.h"
#include "geodiff.h"
#include "mmdbgen.h"

static char dir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/customs-test-geo-%d-XXXXXX", getpid());
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static const char *path_in(const char *name)
{
	static char p[4][128];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ASSERT_OK_PTR(f, path);
	fputs(text, f);
	ASSERT_OK(fclose(f), "fclose");
}

static const char *cc_of(struct geo_table *t, const char *ip)
{
	static char code[8][COUNTRY_STRLEN];
	static int k;
	__u16 cc = 0xffff;

	k = (k + 1) % 8;
	if (geo_table_lookup_str(t, ip, &cc))
		return "bad-ip";
	country_str(cc, code[k]);
	return code[k];
}

static void overrides_alone_place_documentation_ranges(void **state)
{
	struct geo_table *t = NULL;

	(void)state;
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_STR_EQ(cc_of(t, "192.0.2.1"), "ZZ", "empty table is ZZ");
	ASSERT_OK(geo_table_add_override(t, "192.0.2.0/24", "DE"), "v4 /24");
	ASSERT_OK(geo_table_add_override(t, "198.18.0.0/15", "FR"), "v4 /15");
	ASSERT_OK(geo_table_add_override(t, "203.0.113.7", "JP"), "bare v4");
	ASSERT_OK(geo_table_add_override(t, "2001:db8::/32", "US"), "v6 /32");
	ASSERT_OK(geo_table_add_override(t, "2001:db8:1::/48", "CA"), "v6 /48");
	ASSERT_STR_EQ(cc_of(t, "192.0.2.0"), "DE", "first of /24");
	ASSERT_STR_EQ(cc_of(t, "192.0.2.255"), "DE", "last of /24");
	ASSERT_STR_EQ(cc_of(t, "192.0.1.255"), "ZZ", "below /24");
	ASSERT_STR_EQ(cc_of(t, "192.0.3.0"), "ZZ", "above /24");
	ASSERT_STR_EQ(cc_of(t, "198.19.255.255"), "FR", "last of /15");
	ASSERT_STR_EQ(cc_of(t, "198.20.0.0"), "ZZ", "above /15");
	ASSERT_STR_EQ(cc_of(t, "203.0.113.7"), "JP", "host");
	ASSERT_STR_EQ(cc_of(t, "203.0.113.8"), "ZZ", "next to host");
	ASSERT_STR_EQ(cc_of(t, "2001:db8::1"), "US", "v6");
	ASSERT_STR_EQ(cc_of(t, "2001:db8:1::9"), "CA", "v6 longer prefix");
	ASSERT_STR_EQ(cc_of(t, "2001:db8:2::"), "US", "after longer prefix");
	ASSERT_STR_EQ(cc_of(t, "2001:db9::"), "ZZ", "past /32");
	ASSERT_STR_EQ(cc_of(t, "::ffff:192.0.2.9"), "DE", "v4-mapped is IPv4");
	ASSERT_STR_EQ(cc_of(t, "::ffff:198.18.0.1"), "FR", "v4-mapped /15");
	geo_table_free(t);
}

static void edges_of_the_address_space(void **state)
{
	struct geo_table *t = NULL;

	(void)state;
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_table_add_override(t, "0.0.0.0/0", "BR"), "v4 /0");
	ASSERT_OK(geo_table_add_override(t, "255.255.255.255", "AR"), "v4 last");
	ASSERT_OK(geo_table_add_override(t, "0.0.0.0/32", "UY"), "v4 first");
	ASSERT_OK(geo_table_add_override(t, "::/0", "CL"), "v6 /0");
	ASSERT_OK(geo_table_add_override(t, "8000::/1", "EC"), "v6 upper half");
	ASSERT_OK(geo_table_add_override(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "PE"),
		  "v6 last");
	ASSERT_OK(geo_table_add_override(t, "8000::1/128", "BO"), "v6 host in a /64");
	ASSERT_STR_EQ(cc_of(t, "0.0.0.0"), "UY", "v4 first address");
	ASSERT_STR_EQ(cc_of(t, "0.0.0.1"), "BR", "v4 second address");
	ASSERT_STR_EQ(cc_of(t, "255.255.255.254"), "BR", "v4 next to last");
	ASSERT_STR_EQ(cc_of(t, "255.255.255.255"), "AR", "v4 last address");
	ASSERT_STR_EQ(cc_of(t, "::ffff:255.255.255.255"), "AR", "v4-mapped last");
	ASSERT_STR_EQ(cc_of(t, "::"), "UY", ":: is 0.0.0.0 (the ::/96 subtree)");
	ASSERT_STR_EQ(cc_of(t, "::1"), "BR", "::1 is 0.0.0.1");
	ASSERT_STR_EQ(cc_of(t, "1::"), "CL", "v6 low");
	ASSERT_STR_EQ(cc_of(t, "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "CL", "below half");
	ASSERT_STR_EQ(cc_of(t, "8000::"), "EC", "v6 half");
	ASSERT_STR_EQ(cc_of(t, "8000::1"), "BO", "v6 host inside a /64");
	ASSERT_STR_EQ(cc_of(t, "8000::2"), "EC", "v6 after the host");
	ASSERT_STR_EQ(cc_of(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), "EC", "v6 next to last");
	ASSERT_STR_EQ(cc_of(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "PE", "v6 last address");
	geo_table_free(t);
}

static void later_overrides_win(void **state)
{
	const char *a = path_in("a.txt"), *b = path_in("b.txt");
	const char *ovr[2] = { a, b };
	struct geo_source src = { .overrides = ovr, .n_overrides = 2 };
	struct geo_table *t = NULL;
	char err[256] = "";

	(void)state;
	write_text(a, "# documentation ranges\n"
		      "192.0.2.0/25 DE   # narrower first\n"
		      "192.0.2.0/24 FR\n"
		      "\n"
		      "198.51.100.0/24 IT\n"
		      "::ffff:203.0.113.0/120 ES\n");
	write_text(b, "198.51.100.128/25 PL\n");
	ASSERT_OK(geo_table_build(&t, &src, err, sizeof(err)), err);
	ASSERT_STR_EQ(cc_of(t, "192.0.2.1"), "FR", "later line wins over narrower");
	ASSERT_STR_EQ(cc_of(t, "198.51.100.1"), "IT", "first file where second says nothing");
	ASSERT_STR_EQ(cc_of(t, "198.51.100.200"), "PL", "later file wins");
	ASSERT_STR_EQ(cc_of(t, "203.0.113.5"), "ES", "v4-mapped override is IPv4");
	geo_table_free(t);
}

static void csv_narrower_wins_equal_later(void **state)
{
	static const char csv[] =
		"5.61.192.0,5.61.223.255,DE\n"
		"5.61.192.0,5.61.192.255,FR\n"	/* narrower, inside: wins */
		"10.0.0.0,10.0.0.255,IT\n"
		"10.0.0.0,10.0.0.255,ES\n"	/* equal: the later row */
		"2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,US\n"
		"2001:db8::100,2001:db8::1ff,CA\n";
	struct geo_table *t = NULL;
	struct geo_table_info info;
	char err[256] = "";

	(void)state;
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_table_add_csv_buf(t, "ranges.csv", csv, strlen(csv), err, sizeof(err)), err);
	ASSERT_STR_EQ(cc_of(t, "5.61.192.7"), "FR", "narrower wins");
	ASSERT_STR_EQ(cc_of(t, "5.61.193.0"), "DE", "wider elsewhere");
	ASSERT_STR_EQ(cc_of(t, "10.0.0.9"), "ES", "equal ranges: later row");
	ASSERT_STR_EQ(cc_of(t, "2001:db8::1ff"), "CA", "v6 narrower");
	ASSERT_STR_EQ(cc_of(t, "2001:db8::200"), "US", "v6 wider");
	ASSERT_OK(geo_table_info(t, &info), "info");
	ASSERT_EQ(info.csv_overlaps, 3, "overlapping rows counted");
	geo_table_free(t);
}

static int write_prefix_csv(int family, const __u32 addr[4], int len, __u16 cc, void *arg)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], code[COUNTRY_STRLEN];
	__u32 last[4];
	int i, bits = family == 4 ? 32 : 128;

	memcpy(last, addr, sizeof(last));
	for (i = 0; i < 4; i++) {
		int lo = i * 32;
		__u32 mask = len <= lo ? 0xffffffffu : len >= lo + 32 ? 0 : 0xffffffffu >> (len - lo);

		if (lo < bits)
			last[i] = htonl(ntohl(last[i]) | mask);
	}
	inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	inet_ntop(family == 4 ? AF_INET : AF_INET6, last, b, sizeof(b));
	country_str(cc, code);
	fprintf(arg, "%s,%s,%s\n", a, b, code);
	return 0;
}

static void csv_round_trip_keeps_the_table(void **state)
{
	const char *csv = path_in("round.csv");
	struct geo_table *t = NULL, *u = NULL;
	struct geo_source src = { .db = csv };
	char err[256] = "";
	FILE *f;

	(void)state;
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_table_add_override(t, "192.0.2.0/24", "DE"), "a");
	ASSERT_OK(geo_table_add_override(t, "192.0.2.77", "FR"), "b");
	ASSERT_OK(geo_table_add_override(t, "198.18.0.0/15", "NL"), "c");
	ASSERT_OK(geo_table_add_override(t, "2001:db8::/32", "US"), "d");
	ASSERT_OK(geo_table_add_override(t, "2001:db8:0:1::/64", "MX"), "e");
	f = fopen(csv, "w");
	ASSERT_OK_PTR(f, "csv");
	geo_table_foreach_prefix(t, 4, write_prefix_csv, f);
	geo_table_foreach_prefix(t, 6, write_prefix_csv, f);
	fclose(f);
	ASSERT_OK(geo_table_build(&u, &src, err, sizeof(err)), err);
	ASSERT_TRUE(!memcmp(geo_table_hash(t), geo_table_hash(u), SHA256_LEN),
		    "CSV of the prefixes rebuilds the same table");
	ASSERT_STR_EQ(cc_of(u, "192.0.2.77"), "FR", "host survives");
	ASSERT_STR_EQ(cc_of(u, "2001:db8:0:1::5"), "MX", "v6 survives");
	geo_table_free(t);
	geo_table_free(u);
}

static void table_file_round_trip_and_corruption(void **state)
{
	const char *file = path_in("t.geo"), *bad = path_in("bad.geo");
	struct geo_table *t = NULL, *u = NULL;
	struct geo_source src = { .db = file };
	char err[256] = "", cmd[512];
	FILE *f;

	(void)state;
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_table_add_override(t, "192.0.2.0/24", "DE"), "a");
	ASSERT_OK(geo_table_add_override(t, "2001:db8::/32", "US"), "b");
	ASSERT_OK(geo_table_save(t, file, err, sizeof(err)), err);
	ASSERT_OK(geo_table_build(&u, &src, err, sizeof(err)), err);
	ASSERT_TRUE(!memcmp(geo_table_hash(t), geo_table_hash(u), SHA256_LEN), "same hash");
	ASSERT_STR_EQ(cc_of(u, "192.0.2.1"), "DE", "loaded v4");
	ASSERT_STR_EQ(cc_of(u, "2001:db8::1"), "US", "loaded v6");
	geo_table_free(u);
	u = NULL;

	/* One flipped country byte: the stored hash no longer matches. */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", file, bad);
	ASSERT_OK(system(cmd), "copy");
	f = fopen(bad, "r+b");
	ASSERT_OK_PTR(f, "open copy");
	fseek(f, 384 + 8 + 4, SEEK_SET);
	fputc('Q', f);
	fclose(f);
	src.db = bad;
	ASSERT_EQ(geo_table_build(&u, &src, err, sizeof(err)), -EINVAL, "corrupt table");
	ASSERT_TRUE(strstr(err, "SHA-256") != NULL, err);
	ASSERT_TRUE(u == NULL, "no table on error");

	ASSERT_OK(truncate(bad, 400), "truncate");
	ASSERT_EQ(geo_table_build(&u, &src, err, sizeof(err)), -EINVAL, "truncated table");
	ASSERT_TRUE(strstr(err, "truncated") != NULL, err);
	geo_table_free(t);
}

static void bad_csv_names_file_and_line(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.1.255\n", "x.csv:2: error: expected start,end,CC" },
		{ "# c\n1.0.0.0,1.0.0.999,AU\n", "x.csv:2: error: \"1.0.0.999\" is not" },
		{ "1.0.0.9,1.0.0.1,AU\n", "x.csv:1: error: start 1.0.0.9 is after end" },
		{ "1.0.0.0,::1,AU\n", "x.csv:1: error: start and end are of different" },
		{ "\n\n1.0.0.0,1.0.0.1,UK\n", "x.csv:3: error: unknown country \"UK\" (did you mean \"GB\"?)" },
	};
	struct geo_table *t = NULL;
	char err[256];
	size_t i;

	(void)state;
	ASSERT_OK(geo_table_new(&t), "new");
	ASSERT_OK(geo_table_add_override(t, "192.0.2.0/24", "DE"), "before");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ASSERT_EQ(geo_table_add_csv_buf(t, "x.csv", cases[i].text, strlen(cases[i].text),
						err, sizeof(err)), -EINVAL, cases[i].want);
		ASSERT_TRUE(!strncmp(err, cases[i].want, strlen(cases[i].want)), err);
	}
	ASSERT_STR_EQ(cc_of(t, "192.0.2.1"), "DE", "table unchanged by bad input");
	ASSERT_STR_EQ(cc_of(t, "1.0.0.0"), "ZZ", "no partial import");
	geo_table_free(t);
}

static void bad_override_names_file_and_line(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "192.0.2.0/24 DE\n192.0.2.0/33 DE\n", "o.txt:2: error: bad prefix length \"/33\"" },
		{ "192.0.2.1/24 DE\n", "o.txt:1: error: 192.0.2.1/24 has host bits set (did you mean 192.0.2.0/24?)" },
		{ "# x\n192.0.2.0/24 UK\n", "o.txt:2: error: unknown country \"UK\" (did you mean \"GB\"?)" },
		{ "192.0.2.0/24\n", "o.txt:1: error: expected \"CIDR CC\"" },
		{ "192.0.2.0/24 DE extra\n", "o.txt:1: error: expected \"CIDR CC\"" },
		{ "banana/8 DE\n", "o.txt:1: error: \"banana\" is not" },
		{ "2001:db8::/129 US\n", "o.txt:1: error: bad prefix length" },
	};
	struct geo_table *t = NULL;
	char err[256];
	size_t i;

	(void)state;
	ASSERT_OK(geo_table_new(&t), "new");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ASSERT_EQ(geo_table_add_override_buf(t, "o.txt", cases[i].text,
						     strlen(cases[i].text), err, sizeof(err)),
			  -EINVAL, cases[i].want);
		ASSERT_TRUE(!strncmp(err, cases[i].want, strlen(cases[i].want)), err);
	}
	ASSERT_STR_EQ(cc_of(t, "192.0.2.1"), "ZZ", "nothing applied");
	ASSERT_EQ(geo_table_add_override(t, "192.0.2.0/24", "XX"), -EINVAL, "programmatic bad cc");
	geo_table_free(t);
}

static void mmdb_both_schemas(void **state)
{
	static const struct mmdbgen_entry e[] = {
		{ "192.0.2.0/24", "DE", MMDBGEN_GEOIP2 },
		{ "198.51.100.0/24", "FR", MMDBGEN_GEOIP2_REGISTERED },
		{ "203.0.113.0/25", "JP", MMDBGEN_COUNTRY_CODE },
		{ "2001:db8::/32", "US", MMDBGEN_GEOIP2 },
		{ "2001:db9:1::/48", "CA", MMDBGEN_GEOIP2_REGISTERED },
	};
	struct mmdbgen_opts o = { .ip_version = 6 };
	const char *db = path_in("geoip2.mmdb");
	struct geo_source src = { .db = db };
	struct geo_table *t = NULL;
	enum geo_format fmt = 0;
	char err[256] = "";

	(void)state;
	ASSERT_OK(mmdbgen_write(db, &o, e, 5), "write mmdb");
	ASSERT_OK(geo_sniff(db, &fmt), "sniff");
	ASSERT_EQ(fmt, GEO_FMT_MMDB, "sniffed as MMDB");
	ASSERT_OK(geo_table_build(&t, &src, err, sizeof(err)), err);
	ASSERT_STR_EQ(cc_of(t, "192.0.2.200"), "DE", "country.iso_code");
	ASSERT_STR_EQ(cc_of(t, "198.51.100.1"), "FR", "registered_country fallback");
	ASSERT_STR_EQ(cc_of(t, "203.0.113.127"), "JP", "country_code");
	ASSERT_STR_EQ(cc_of(t, "203.0.113.128"), "ZZ", "past the /25");
	ASSERT_STR_EQ(cc_of(t, "::ffff:192.0.2.1"), "DE", "v4-mapped");
	ASSERT_STR_EQ(cc_of(t, "2001:db8:ffff::1"), "US", "v6 GeoIP2");
	ASSERT_STR_EQ(cc_of(t, "2001:db9:1::1"), "CA", "v6 registered");
	ASSERT_STR_EQ(cc_of(t, "2001:db9:2::1"), "ZZ", "v6 unknown");
	geo_table_free(t);
}

static void mmdb_ipv4_only_answers_zz_for_ipv6(void **state)
{
	static const struct mmdbgen_entry e[] = {
		{ "192.0.2.0/24", "DE", MMDBGEN_COUNTRY_CODE },
		{ "0.0.0.0/1", "BR", MMDBGEN_COUNTRY_CODE },
	};
	struct mmdbgen_opts o = { .ip_version = 4 };
	const char *db = path_in("v4.mmdb");
	struct geo_source src = { .db = db };
	struct geo_table *t = NULL;
	char err[256] = "";

	(void)state;
	ASSERT_OK(mmdbgen_write(db, &o, e, 2), "write mmdb");
	ASSERT_OK(geo_table_build(&t, &src, err, sizeof(err)), err);
	ASSERT_STR_EQ(cc_of(t, "192.0.2.1"), "DE", "v4");
	ASSERT_STR_EQ(cc_of(t, "10.1.2.3"), "BR", "v4 /1");
	ASSERT_STR_EQ(cc_of(t, "::ffff:10.1.2.3"), "BR", "v4-mapped");
	ASSERT_STR_EQ(cc_of(t, "2001:db8::1"), "ZZ", "v6 in a v4-only db");
	geo_table_free(t);
}

static void corrupt_mmdb_is_refused(void **state)
{
	static const struct mmdbgen_entry e[] = {
		{ "192.0.2.0/24", "DE", MMDBGEN_COUNTRY_CODE },
	};
	static const struct {
		struct mmdbgen_opts o;
		const char *want;
	} cases[] = {
		{ { .ip_version = 4, .record_size_meta = 20 }, "not a usable MMDB" },
		{ { .ip_version = 4, .cut_metadata = true }, "not a usable MMDB" },
		{ { .ip_version = 4, .record_outside = true }, "points outside the file" },
		{ { .ip_version = 6, .record_outside = true }, "points outside the file" },
	};
	const char *db = path_in("bad.mmdb");
	struct geo_source src = { .db = db };
	struct geo_table *t = NULL;
	char err[256], cmd[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ASSERT_OK(mmdbgen_write(db, &cases[i].o, e, 1), "write");
		ASSERT_OK(geo_table_new(&t), "new");
		ASSERT_EQ(geo_table_add_mmdb(t, db, err, sizeof(err)), -EINVAL, cases[i].want);
		ASSERT_TRUE(strstr(err, cases[i].want) && !strncmp(err, db, strlen(db)), err);
		geo_table_free(t);
		t = NULL;
	}
	/* A real database cut in half: the metadata is gone. */
	snprintf(cmd, sizeof(cmd), "head -c 1000000 data/geo/geo-whois-asn-country.mmdb > '%s'", db);
	if (access("data/geo/geo-whois-asn-country.mmdb", R_OK) == 0) {
		ASSERT_OK(system(cmd), "cut");
		ASSERT_OK(geo_table_new(&t), "new");
		ASSERT_EQ(geo_table_add_mmdb(t, db, err, sizeof(err)), -EINVAL, "truncated real db");
		geo_table_free(t);
		t = NULL;
	}
	ASSERT_EQ(geo_table_build(&t, &src, err, sizeof(err)) < 0, 1, "build refuses");
	ASSERT_TRUE(t == NULL, "no table");
}

static void mirror_matches(const char *path, size_t n)
{
	struct geo_source src = { .db = path };
	struct geo_table *t = NULL;
	__u32 (*addr)[4];
	__u8 *family;
	char err[256] = "";
	size_t i, got, bad = 0;
	MMDB_s db;

	test_need(access(path, R_OK) == 0, path);
	ASSERT_EQ(MMDB_open(path, MMDB_MODE_MMAP, &db), MMDB_SUCCESS, "MMDB_open");
	ASSERT_OK(geo_table_build(&t, &src, err, sizeof(err)), err);
	addr = calloc(n, sizeof(*addr));
	family = calloc(n, 1);
	ASSERT_TRUE(addr && family, "alloc");
	got = geodiff_addresses(t, addr, family, n, 4242);
	ASSERT_TRUE(got >= n * 95 / 100, "address set filled");
	for (i = 0; i < got; i++) {
		__u16 want = geodiff_mmdb_cc(&db, addr[i], family[i]);
		__u16 mine = family[i] == 4 ? geo_table_lookup_v4(t, addr[i][0]) :
					      geo_table_lookup_v6(t, addr[i]);

		if (want != mine && bad++ < 5)
			print_message("%s: mirror %u, libmaxminddb %u\n",
				      geodiff_str(addr[i], family[i]), mine, want);
	}
	ASSERT_EQ(bad, 0, "mirror == libmaxminddb");
	free(addr);
	free(family);
	geo_table_free(t);
	MMDB_close(&db);
}

static void mirror_matches_libmaxminddb_full(void **state)
{
	(void)state;
	mirror_matches("data/geo/geo-whois-asn-country.mmdb", 120000);
}

static void mirror_matches_libmaxminddb_ipv4_only(void **state)
{
	(void)state;
	mirror_matches("data/geo/geo-whois-asn-country-ipv4.mmdb", 120000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(overrides_alone_place_documentation_ranges),
		cmocka_unit_test(edges_of_the_address_space),
		cmocka_unit_test(later_overrides_win),
		cmocka_unit_test(csv_narrower_wins_equal_later),
		cmocka_unit_test(csv_round_trip_keeps_the_table),
		cmocka_unit_test(table_file_round_trip_and_corruption),
		cmocka_unit_test(bad_csv_names_file_and_line),
		cmocka_unit_test(bad_override_names_file_and_line),
		cmocka_unit_test(mmdb_both_schemas),
		cmocka_unit_test(mmdb_ipv4_only_answers_zz_for_ipv6),
		cmocka_unit_test(corrupt_mmdb_is_refused),
		cmocka_unit_test(mirror_matches_libmaxminddb_full),
		cmocka_unit_test(mirror_matches_libmaxminddb_ipv4_only),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
