// SPDX-License-Identifier: BSD-2-Clause
/*
 * Each interval's record: the counters read from the retired buffer (plus
 * any an earlier agent read but never reported), named as the policy in
 * force names tenants and models, the events drained since the last
 * record, the kernel's health counters as deltas over the interval, and the
 * hashes of the policy and geo database in force. The record goes to the
 * telemetry pipeline (agent_telemetry.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_parts.h"
#include "log.h"

void agent_interval_begin(struct agent *a, const struct meter_record *carry, size_t n)
{
	a->interval_start_unix_ns = unix_ns();
	if (a->dp)
		dp_stats_read(a->dp, a->interval_stats_base);
	if (!n)
		return;
	/* Counters of an interrupted interval are reported with the next one. */
	a->carry = malloc(n * sizeof(*carry));
	if (!a->carry) {
		pr_warn("interval: no memory to carry %zu recovered counters; "
			"they are in the totals but not in telemetry\n", n);
		return;
	}
	memcpy(a->carry, carry, n * sizeof(*carry));
	a->n_carry = n;
}

static void name_counter(const struct agent *a, const struct meter_record *r,
			 struct interval_counter *c)
{
	char buf[16];

	memset(c, 0, sizeof(*c));
	snprintf(c->tenant, sizeof(c->tenant), "%s",
		 name_of_tenant(&a->names, r->key.tenant, buf, sizeof(buf)));
	snprintf(c->model, sizeof(c->model), "%s",
		 name_of_model(&a->names, r->key.model, buf, sizeof(buf)));
	c->country = r->key.country;
	c->direction = r->key.direction;
	c->layer = r->key.layer;
	c->verdict = r->key.verdict;
	c->packets = r->value.packets;
	c->bytes = r->value.bytes;
}

static __u64 stat_delta(const struct agent *a, enum stat_index i)
{
	__u64 now = a->health.kernel_stats[i], base = a->interval_stats_base[i];

	/* A reloaded data plane starts its stats at zero again. */
	return now >= base ? now - base : now;
}

void agent_interval_end(struct agent *a, const struct meter_record *recs, size_t n)
{
	struct interval_record rec = {};
	size_t i, total = n + a->n_carry;

	rec.start_unix_ns = a->interval_start_unix_ns;
	rec.end_unix_ns = unix_ns();
	rec.counters = total ? calloc(total, sizeof(*rec.counters)) : NULL;
	if (total && !rec.counters) {
		pr_warn("interval: no memory for %zu counters; this interval is in the "
			"totals but not in telemetry\n", total);
		goto out;
	}
	for (i = 0; i < a->n_carry; i++)
		name_counter(a, &a->carry[i], &rec.counters[i]);
	for (i = 0; i < n; i++)
		name_counter(a, &recs[i], &rec.counters[a->n_carry + i]);
	rec.n_counters = total;
	rec.events = a->pending_events;
	rec.n_events = a->n_pending_events;
	rec.events_lost = stat_delta(a, STAT_EVENTS_LOST);
	rec.events_ratelimited = stat_delta(a, STAT_EVENTS_RATELIMITED);
	rec.meter_overflow = stat_delta(a, STAT_METER_OVERFLOW);
	agent_policy_hash(a, rec.policy_hash);
	agent_geo_hash(a, rec.geo_hash);
	agent_guarantees_take(a, &rec);
	agent_query_take(a, &rec);
	agent_telemetry_submit(a, &rec);
	agent_guarantees_sent(a);
	agent_query_taken(a);
out:
	free(rec.counters);
	free(a->carry);
	a->carry = NULL;
	a->n_carry = 0;
	a->n_pending_events = 0;
}
