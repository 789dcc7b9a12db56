// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target for the policy compiler: any input is YAML from an SRE's
 * editor or a hostile file, and must end in either a compiled policy or
 * one error, never a crash, a leak or an over-read. What compiles is
 * also rendered, explained and diffed against itself (no differences),
 * so those paths see the strange policies the fuzzer finds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct policy *p)
{
	struct policy_explanation ex;
	struct strbuf sb;
	__u32 m;

	strbuf_init(&sb);
	policy_render_json(p, &sb);
	if (policy_diff(p, p, &sb) != 0)
		abort();
	strbuf_free(&sb);
	for (m = 0; m <= policy_model_count(p) && m < 8; m++) {
		policy_explain(p, m, DIR_INGRESS, country_index('A', 'E'), &ex);
		if (ex.verdict != policy_verdict(p, m, DIR_INGRESS, country_index('A', 'E')))
			abort();
		policy_explain(p, m, DIR_EGRESS, COUNTRY_ZZ, &ex);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_opts opts = { .now = 1767225600 };	/* 2026-01-01 */
	struct policy_diag diag;
	struct policy *p = NULL;
	char *buf;

	/* Policies are small; huge inputs only slow the search down. */
	if (size > 64 * 1024)
		return 0;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	policy_diag_init(&diag);
	if (policy_load_buf("fuzz.yaml", buf, size, &opts, &p, &diag) == 0) {
		if (!p)
			abort();
		exercise(p);
	} else if (p || !diag.error[0]) {
		abort();	/* a failure must say why and yield nothing */
	}
	policy_free(p);
	policy_diag_free(&diag);
	free(buf);
	return 0;
}
