// SPDX-License-Identifier: BSD-2-Clause
/*
 * The policy's query_patterns section (userspace/lib/policy_query.c):
 * defaults when absent, every written threshold and mode read, values out
 * of range or of the wrong kind refused at file:line:col, unknown keys
 * refused with a suggestion, and the policy hash covering the section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "detect.h"
#include "policy.h"

static const char base[] =
	"version: 1\n"
	"node: {id: n1, country: AE}\n"
	"tiers:\n"
	"  licensed:\n"
	"    ingress: {allow: [AE], default: deny}\n"
	"    egress: {default: allow}\n"
	"models:\n"
	"  - name: m1\n"
	"    tier: licensed\n";

static int load(const char *extra, struct policy **p, struct policy_diag *diag)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s%s", base, extra);
	policy_diag_init(diag);
	return policy_load_buf("p.yaml", buf, strlen(buf), NULL, p, diag);
}

static void absent_section_gives_defaults(void **state)
{
	struct detect_config want;
	struct policy_diag diag;
	struct policy *p = NULL;

	(void)state;
	ASSERT_OK(load("", &p, &diag), diag.error);
	detect_config_defaults(&want);
	ASSERT_TRUE(!memcmp(policy_query(p), &want, sizeof(want)), "defaults");
	policy_free(p);
	policy_diag_free(&diag);
}

static void thresholds_and_modes_are_read(void **state)
{
	struct policy_diag diag;
	struct policy *p = NULL, *q = NULL;
	const struct detect_config *c;
	__u8 h1[32], h2[32];

	(void)state;
	ASSERT_OK(load("query_patterns:\n"
		       "  deny_seconds: 120\n"
		       "  volume: {factor: 4, warmup: 2, quota_bytes_per_sec: 1000000}\n"
		       "  extraction: {mode: enforce, ratio: 15.5, intervals: 2}\n"
		       "  dispersion: {min_prefixes: 6, window: 4, max_cv: 0.4}\n"
		       "  geography: {mode: enforce, hop_window: 3}\n", &p, &diag), diag.error);
	c = policy_query(p);
	ASSERT_EQ(c->deny_seconds, 120, "deny_seconds");
	ASSERT_EQ((__u64)c->volume.factor, 4, "volume.factor");
	ASSERT_EQ(c->volume.warmup, 2, "volume.warmup");
	ASSERT_EQ((__u64)c->volume.quota_bytes_per_sec, 1000000, "quota");
	ASSERT_EQ((__u64)(c->extraction.ratio * 10), 155, "extraction.ratio");
	ASSERT_EQ(c->extraction.intervals, 2, "extraction.intervals");
	ASSERT_EQ(c->mode[DETECTOR_EXTRACTION], DETECT_MODE_ENFORCE, "extraction enforce");
	ASSERT_EQ(c->mode[DETECTOR_VOLUME], DETECT_MODE_AUDIT, "volume audit by default");
	ASSERT_EQ(c->dispersion.min_prefixes, 6, "min_prefixes");
	ASSERT_EQ(c->geography.hop_window, 3, "hop_window");
	policy_diag_free(&diag);
	ASSERT_OK(load("", &q, &diag), diag.error);
	policy_hash(p, h1);
	policy_hash(q, h2);
	ASSERT_TRUE(memcmp(h1, h2, sizeof(h1)), "the section changes the hash");
	policy_free(p);
	policy_free(q);
	policy_diag_free(&diag);
}

static void bad_values_name_file_line_col(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "query_patterns:\n  volume: {factor: 0.5}\n",
		  "p.yaml:11:20: error: query_patterns.volume.factor 0.5 is out of range" },
		{ "query_patterns:\n  dispersion:\n    window: 40\n",
		  "p.yaml:12:13: error: query_patterns.dispersion.window 40 is out of range (1 .. 16)" },
		{ "query_patterns:\n  extraction: {intervals: 2.5}\n",
		  "p.yaml:11:27: error: query_patterns.extraction.intervals must be a whole number" },
		{ "query_patterns:\n  geography: {mode: block}\n",
		  "p.yaml:11:21: error: query_patterns.geography.mode must be audit or enforce" },
		{ "query_patterns:\n  volume: {factr: 3}\n", "p.yaml:11:12: error: unknown key \"factr\"" },
		{ "query_patterns:\n  deny_seconds: x\n",
		  "p.yaml:11:17: error: query_patterns.deny_seconds must be a number, not \"x\"" },
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct policy_diag diag;
		struct policy *p = NULL;

		ASSERT_TRUE(load(bad[k].text, &p, &diag) < 0, bad[k].want);
		if (!strstr(diag.error, bad[k].want))
			fail_msg("case %zu: got \"%s\", expected \"%s\"", k, diag.error, bad[k].want);
		policy_diag_free(&diag);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(absent_section_gives_defaults),
		cmocka_unit_test(thresholds_and_modes_are_read),
		cmocka_unit_test(bad_values_name_file_line_col),
	};

	return cmocka_run_group_tests_name("unit/policy_query", tests, NULL, NULL);
}
