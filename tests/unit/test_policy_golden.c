// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shipped example policies, compiled: each must load without errors
 * or warnings, its compiled JSON (matrix, tenants, endpoints, guarantees,
 * hash) must equal the golden file under tests/unit/golden/policy/, and
 * policy_explain must agree with the matrix on every cell. A change to
 * the compiler that moves any verdict shows up here as a golden diff;
 * UPDATE_GOLDEN=1 rewrites the goldens after a reviewed change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "policy.h"

#define GOLDEN_DIR "tests/unit/golden/policy/"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = calloc(1, (size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void compare_golden(const char *golden, const char *got)
{
	char *want;
	FILE *f;

	if (test_env_long("UPDATE_GOLDEN", 0)) {
		f = fopen(golden, "we");
		ASSERT_OK_PTR(f, golden);
		fputs(got, f);
		fclose(f);
		return;
	}
	want = read_all(golden);
	ASSERT_OK_PTR(want, golden);
	if (strcmp(want, got))
		fail_msg("%s differs from the compiled output (UPDATE_GOLDEN=1 after review):\n%s",
			 golden, got);
	free(want);
}

static struct policy *load_example(const char *path)
{
	struct policy_diag diag;
	struct policy *p = NULL;

	policy_diag_init(&diag);
	if (policy_load_file(path, NULL, &p, &diag))
		fail_msg("%s: %s", path, diag.error);
	if (diag.n_warnings)
		fail_msg("%s: warnings:\n%s", path, strbuf_str(&diag.warnings));
	policy_diag_free(&diag);
	return p;
}

static void explain_agrees_with_matrix(const struct policy *p)
{
	struct policy_explanation ex;
	__u32 m;
	__u16 k;
	int d;

	for (m = 0; m <= policy_model_count(p); m++)
		for (d = 0; d < DIR_MAX; d++)
			for (k = 0; k < COUNTRY_MAX; k++) {
				ASSERT_OK(policy_explain(p, m, d, k, &ex), "explain");
				if (ex.verdict != policy_verdict(p, m, d, k))
					fail_msg("model %u dir %d country %u: explain %d, matrix %d",
						 m, d, k, ex.verdict, policy_verdict(p, m, d, k));
			}
}

static void golden_example(const char *name)
{
	char path[256], golden[256];
	struct policy *p;
	struct strbuf out;

	snprintf(path, sizeof(path), "policies/%s.yaml", name);
	snprintf(golden, sizeof(golden), GOLDEN_DIR "%s.json", name);
	p = load_example(path);
	strbuf_init(&out);
	policy_render_json(p, &out);
	ASSERT_TRUE(!strbuf_failed(&out), "rendered");
	compare_golden(golden, strbuf_str(&out));
	explain_agrees_with_matrix(p);
	strbuf_free(&out);
	policy_free(p);
}

static void tiered_export(void **state)
{
	(void)state;
	golden_example("tiered-export");
}

static void host_partner(void **state)
{
	(void)state;
	golden_example("host-partner");
}

static void host_partner_revoked(void **state)
{
	(void)state;
	golden_example("host-partner-revoked");
}

static void revocation_diff(void **state)
{
	struct policy *a, *b;
	struct strbuf out;

	(void)state;
	a = load_example("policies/host-partner.yaml");
	b = load_example("policies/host-partner-revoked.yaml");
	strbuf_init(&out);
	policy_diff(a, b, &out);
	compare_golden(GOLDEN_DIR "host-partner-revoked.diff", strbuf_str(&out));
	strbuf_free(&out);
	policy_free(a);
	policy_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tiered_export),
		cmocka_unit_test(host_partner),
		cmocka_unit_test(host_partner_revoked),
		cmocka_unit_test(revocation_diff),
	};

	return cmocka_run_group_tests_name("unit/policy_golden", tests, NULL, NULL);
}
