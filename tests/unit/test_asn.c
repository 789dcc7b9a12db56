// SPDX-License-Identifier: BSD-2-Clause
/*
 * The AS table (userspace/lib/asn.c): ip-location-db asn CSV rows with
 * quoted organisations, IPv4 and IPv6 lookups at range edges, overrides
 * winning over the CSV, class rules by number and organisation pattern,
 * the AS country voted from the geo table or fixed by an override, the
 * shipped starter class list, and malformed rows refused with file:line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "testlib.h"
#include "asn.h"
#include "country.h"
#include "geo.h"

static const char csv[] =
	"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
	"1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n"
	"16.0.0.0,16.255.255.255,16509,\"Amazon.com, Inc.\"\n"
	"17.0.0.0,17.0.0.255,16509,\"Amazon.com, Inc.\"\n"
	"2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64496,\"Example \"\"Six\"\" Net\"\n";

static void lookup4(const struct asn_db *db, const char *ip, struct asn_info *out)
{
	__u32 a[4] = { 0 };

	inet_pton(AF_INET, ip, a);
	asn_lookup(db, 4, a, out);
}

static struct asn_db *load(const char *classes)
{
	struct asn_db *db = NULL;
	char err[256] = "";

	ASSERT_OK(asn_db_new(&db), "new");
	ASSERT_OK(asn_db_add_csv_buf(db, "asn.csv", csv, strlen(csv), err, sizeof(err)), err);
	if (classes)
		ASSERT_OK(asn_db_add_classes_buf(db, "classes", classes, strlen(classes), err,
						 sizeof(err)), err);
	return db;
}

static void csv_rows_answer_lookups_at_range_edges(void **state)
{
	struct asn_db *db = load(NULL);
	struct asn_info i;
	__u32 a6[4];

	(void)state;
	ASSERT_OK(asn_db_finish(db, NULL), "finish");
	ASSERT_EQ(asn_db_ranges(db), 5, "ranges");
	ASSERT_EQ(asn_db_systems(db), 4, "systems");
	lookup4(db, "1.0.0.0", &i);
	ASSERT_EQ(i.asn, 13335, "first address");
	ASSERT_STR_EQ(i.org, "Cloudflare, Inc.", "quoted org with comma");
	lookup4(db, "1.0.7.255", &i);
	ASSERT_EQ(i.asn, 38803, "last address of a range");
	lookup4(db, "1.0.8.0", &i);
	ASSERT_EQ(i.asn, 0, "gap is unknown");
	ASSERT_STR_EQ(i.org, "", "unknown org");
	inet_pton(AF_INET6, "2001:db8:1::5", a6);
	asn_lookup(db, 6, a6, &i);
	ASSERT_EQ(i.asn, 64496, "IPv6");
	ASSERT_STR_EQ(i.org, "Example \"Six\" Net", "doubled quotes");
	asn_db_free(db);
}

static void classes_match_numbers_and_org_patterns(void **state)
{
	struct asn_db *db = load("hosting AS16509\nvpn org:*six*  # comment\n");
	struct asn_info i;
	__u32 a6[4];

	(void)state;
	ASSERT_OK(asn_db_finish(db, NULL), "finish");
	lookup4(db, "16.1.2.3", &i);
	ASSERT_EQ(i.class, ASN_CLASS_HOSTING, "AS16509 is hosting");
	lookup4(db, "1.0.0.1", &i);
	ASSERT_EQ(i.class, ASN_CLASS_NONE, "Cloudflare unclassed");
	inet_pton(AF_INET6, "2001:db8::1", a6);
	asn_lookup(db, 6, a6, &i);
	ASSERT_EQ(i.class, ASN_CLASS_VPN, "pattern, case-insensitive");
	ASSERT_STR_EQ(asn_class_name(i.class), "vpn", "class name");
	asn_db_free(db);
}

static void overrides_win_and_fix_the_country(void **state)
{
	static const char over[] = "# lab\n16.1.2.0/24 64501 CN Shady Cloud Ltd\n";
	struct asn_db *db = load(NULL);
	struct geo_table *geo = NULL;
	struct asn_info i;
	char err[256] = "";

	(void)state;
	ASSERT_OK(asn_db_add_override_buf(db, "ovr", over, strlen(over), err, sizeof(err)), err);
	ASSERT_OK(geo_table_new(&geo), "geo");
	/* AS16509: 16/8 in US outweighs 17.0.0.0/24 in IE. */
	ASSERT_OK(geo_table_add_override(geo, "16.0.0.0/8", "US"), "geo 16/8");
	ASSERT_OK(geo_table_add_override(geo, "17.0.0.0/24", "IE"), "geo 17/24");
	ASSERT_OK(asn_db_finish(db, geo), "finish");
	lookup4(db, "16.1.2.9", &i);
	ASSERT_EQ(i.asn, 64501, "override wins");
	ASSERT_STR_EQ(i.org, "Shady Cloud Ltd", "override org");
	ASSERT_EQ(i.country, country_index('C', 'N'), "override country");
	lookup4(db, "17.0.0.1", &i);
	ASSERT_EQ(i.asn, 16509, "outside the override");
	ASSERT_EQ(i.country, country_index('U', 'S'), "majority of the address space");
	geo_table_free(geo);
	asn_db_free(db);
}

static void malformed_rows_name_file_and_line(void **state)
{
	static const struct {
		const char *text, *want;
		int kind;	/* 0 csv, 1 override, 2 classes */
	} bad[] = {
		{ "1.0.0.0,1.0.0.255,13335,x\n1.0.0.0,1.0.0.255\n", "f:2: error: expected start,end,asn", 0 },
		{ "1.0.0.9,1.0.0.1,1,x\n", "f:1: error: start 1.0.0.9 is after end", 0 },
		{ "1.0.0.0,2001:db8::,1,x\n", "f:1: error: \"1.0.0.0\",\"2001:db8::\" is not a range", 0 },
		{ "\n1.0.0.0,1.0.0.1,AS0,x\n", "f:2: error: \"AS0\" is not an AS number", 0 },
		{ "1.0.0.0,1.0.0.1,7,\"open\n", "f:1: error: broken quoting", 0 },
		{ "10.0.0.1/24 5 US x\n", "f:1: error: \"10.0.0.1\" is not a CIDR prefix", 1 },
		{ "10.0.0.0/24 5 UK x\n", "f:1: error: unknown country \"UK\"", 1 },
		{ "10.0.0.0/24 5\n", "f:1: error: expected \"CIDR ASN CC|- ORGANISATION\"", 1 },
		{ "cdn AS5\n", "f:1: error: unknown class \"cdn\"", 2 },
		{ "hosting 5x\n", "f:1: error: \"5x\" is neither", 2 },
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct asn_db *db = NULL;
		char err[256] = "";
		size_t len = strlen(bad[k].text);
		int rc;

		ASSERT_OK(asn_db_new(&db), "new");
		rc = bad[k].kind == 0 ? asn_db_add_csv_buf(db, "f", bad[k].text, len, err, sizeof(err)) :
		     bad[k].kind == 1 ? asn_db_add_override_buf(db, "f", bad[k].text, len, err, sizeof(err)) :
		     asn_db_add_classes_buf(db, "f", bad[k].text, len, err, sizeof(err));
		ASSERT_EQ(rc, -EINVAL, bad[k].want);
		if (!strstr(err, bad[k].want))
			fail_msg("case %zu: got \"%s\", expected it to contain \"%s\"", k, err,
				 bad[k].want);
		asn_db_free(db);
	}
}

static void shipped_class_list_loads(void **state)
{
	struct asn_db *db = NULL;
	char err[256] = "";

	(void)state;
	ASSERT_OK(asn_db_new(&db), "new");
	ASSERT_OK(asn_db_add_classes_file(db, "policies/asn-classes.txt", err, sizeof(err)), err);
	ASSERT_EQ(asn_db_classify(db, 16509, "Amazon.com, Inc."), ASN_CLASS_HOSTING, "AWS");
	ASSERT_EQ(asn_db_classify(db, 64999, "Acme Secure VPN Ltd"), ASN_CLASS_VPN, "a VPN by name");
	ASSERT_EQ(asn_db_classify(db, 3320, "Deutsche Telekom AG"), ASN_CLASS_NONE, "an ISP");
	asn_db_free(db);
}

/* The pinned package parses whole (scripts/setup fetches it into data/asn/). */
static void real_package_parses_whole(void **state)
{
	struct asn_db *db = NULL;
	struct asn_info i;
	char err[256] = "";
	FILE *f = fopen("data/asn/asn-ipv4.csv", "r");
	__u32 a6[4];

	(void)state;
	test_need(f != NULL, "data/asn from scripts/setup");
	fclose(f);
	ASSERT_OK(asn_db_new(&db), "new");
	ASSERT_OK(asn_db_add_csv_file(db, "data/asn/asn-ipv4.csv", err, sizeof(err)), err);
	ASSERT_OK(asn_db_add_csv_file(db, "data/asn/asn-ipv6.csv", err, sizeof(err)), err);
	ASSERT_OK(asn_db_finish(db, NULL), "finish");
	ASSERT_TRUE(asn_db_ranges(db) > 400000, "ranges");
	lookup4(db, "1.0.0.1", &i);
	ASSERT_EQ(i.asn, 13335, "1.0.0.1 is Cloudflare's");
	inet_pton(AF_INET6, "2001:200::1", a6);
	asn_lookup(db, 6, a6, &i);
	ASSERT_EQ(i.asn, 2500, "2001:200::1 is WIDE's");
	asn_db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csv_rows_answer_lookups_at_range_edges),
		cmocka_unit_test(classes_match_numbers_and_org_patterns),
		cmocka_unit_test(overrides_win_and_fix_the_country),
		cmocka_unit_test(malformed_rows_name_file_and_line),
		cmocka_unit_test(shipped_class_list_loads),
		cmocka_unit_test(real_package_parses_whole),
	};

	return cmocka_run_group_tests_name("unit/asn", tests, NULL, NULL);
}
