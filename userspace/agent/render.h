/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How the agent shows its counters: `customsctl stats` as JSON (the schema
 * fixed in DESIGN.md) or a text table, and the Prometheus exposition with a
 * cap on the number of series (what the cap folds is counted, never
 * dropped). Tenants and models are shown by the names the policy gives.
 */
#ifndef CUSTOMS_AGENT_RENDER_H
#define CUSTOMS_AGENT_RENDER_H

#include <linux/types.h>

#include "strbuf.h"
#include "totals.h"

/* Names by id; ids without a name print as their number. */
struct name_table {
	char **tenant;		/* indexed by tenant id */
	__u32 n_tenant;
	char **model;		/* indexed by model id */
	__u32 n_model;
};

/* The name of a tenant or model id into buf (overflow and unknown named). */
const char *name_of_tenant(const struct name_table *t, __u32 id, char *buf, size_t len);
const char *name_of_model(const struct name_table *t, __u32 id, char *buf, size_t len);

void render_stats_json(const struct totals *tot, const struct name_table *names,
		       struct strbuf *out);
void render_stats_text(const struct totals *tot, const struct name_table *names,
		       struct strbuf *out);
/*
 * The traffic series of the Prometheus exposition; at most max_series are
 * written, the rest summed into one series labelled tenant="_folded".
 * Returns how many series were folded.
 */
__u64 render_prometheus_traffic(const struct totals *tot, const struct name_table *names,
				__u32 max_series, struct strbuf *out);

#endif
