// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's query-pattern role: each interval, read the kernel's
 * per-(model, prefix) counts, give every active prefix its AS and country,
 * take the (model, country) denials of the interval from the counters, run
 * the detectors with the thresholds of the policy in force, and act on
 * what they raise: remember the alert for `customsctl alerts`, count it
 * for /metrics, put it in the interval's signed record, and, for a
 * detector the policy maps to enforce, deny the prefix for the model in
 * the kernel until an expiry. Expired denies are swept every interval.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "agent_parts.h"
#include "asn.h"
#include "country.h"
#include "detect.h"
#include "geo.h"
#include "log.h"
#include "policy.h"

#define RECENT_ALERTS 256

struct agent_query {
	struct asn_db *asn;
	struct detect *detect;
	struct interval_alert recent[RECENT_ALERTS];
	size_t n_recent, head;
	struct interval_alert *pending;		/* for the next interval record */
	size_t n_pending, cap_pending;
	__u64 enforced;				/* denies installed */
	__u64 enforce_failed;
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int load_asn(struct agent *a, struct asn_db *db, char *err, size_t errlen)
{
	int i, rc = 0;

	for (i = 0; !rc && i < a->cfg.n_asn_db; i++)
		rc = asn_db_add_csv_file(db, a->cfg.asn_db[i], err, errlen);
	for (i = 0; !rc && i < a->cfg.n_asn_overrides; i++)
		rc = asn_db_add_override_file(db, a->cfg.asn_overrides[i], err, errlen);
	if (!rc && a->cfg.asn_classes[0])
		rc = asn_db_add_classes_file(db, a->cfg.asn_classes, err, errlen);
	if (!rc) {
		struct geo_table *geo = agent_geo_view(a);

		rc = asn_db_finish(db, geo);
		geo_table_free(geo);
	}
	return rc;
}

int agent_query_open(struct agent *a)
{
	const struct policy *p = agent_policy_live(a);
	struct detect_config dflt;
	struct agent_query *q;
	char err[512] = "";
	int rc;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	detect_config_defaults(&dflt);
	rc = asn_db_new(&q->asn) ?: load_asn(a, q->asn, err, sizeof(err)) ?:
	     detect_new(&q->detect, p ? policy_query(p) : &dflt);
	if (rc) {
		pr_warn("query patterns: %s\n", err[0] ? err : strerror(-rc));
		asn_db_free(q->asn);
		free(q);
		return rc;
	}
	pr_info("query patterns: %zu AS ranges of %zu systems\n", asn_db_ranges(q->asn),
		asn_db_systems(q->asn));
	a->query = q;
	return 0;
}

void agent_query_free(struct agent *a)
{
	if (!a->query)
		return;
	asn_db_free(a->query->asn);
	detect_free(a->query->detect);
	free(a->query->pending);
	free(a->query);
	a->query = NULL;
}

/* The live policy's id of a kernel (stable) model id, 0 when none. */
static __u32 policy_model_of(const struct agent *a, __u32 kmodel)
{
	const struct policy *p = agent_policy_live(a);
	__u32 i;

	for (i = 1; p && i <= policy_model_count(p); i++)
		if (agent_policy_stable_model(a, i) == kmodel)
			return i;
	return 0;
}

static enum verdict ingress_verdict(void *ctx, __u32 kmodel, __u16 country)
{
	const struct agent *a = ctx;
	const struct policy *p = agent_policy_live(a);
	__u32 model = policy_model_of(a, kmodel);

	return p && model ? policy_verdict(p, model, DIR_INGRESS, country) : VERDICT_ALLOW;
}

/* The (model, country) pairs refused at ingress in the interval. */
static size_t denials_of(const struct meter_record *recs, size_t n,
			 struct detect_denial *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		const struct meter_key *key = &recs[i].key;

		if (key->direction != DIR_INGRESS || key->verdict == VERDICT_ALLOW ||
		    key->model == MODEL_UNKNOWN || key->tenant == METER_OVERFLOW_TENANT ||
		    !recs[i].value.packets)
			continue;
		out[k++] = (struct detect_denial){ key->model, key->country };
	}
	return k;
}

static void to_interval_alert(struct agent *a, const struct detect_alert *da,
			      struct interval_alert *ia)
{
	char buf[16];

	memset(ia, 0, sizeof(*ia));
	ia->unix_ns = unix_ns();
	snprintf(ia->model, sizeof(ia->model), "%s",
		 name_of_model(&a->names, da->prefix.model, buf, sizeof(buf)));
	snprintf(ia->detector, sizeof(ia->detector), "%s", detector_name(da->detector));
	snprintf(ia->mode, sizeof(ia->mode), "%s",
		 da->mode == DETECT_MODE_ENFORCE ? "enforce" : "audit");
	detect_prefix_str(&da->prefix, ia->prefix, sizeof(ia->prefix));
	ia->asn = da->asn;
	snprintf(ia->org, sizeof(ia->org), "%s", da->org);
	country_code(da->country, ia->country);
	country_code(da->asn_country, ia->asn_country);
	ia->value = da->value;
	ia->threshold = da->threshold;
	snprintf(ia->figures, sizeof(ia->figures), "%s", da->figures);
}

static void enforce(struct agent *a, const struct detect_alert *da, struct interval_alert *ia)
{
	const struct detect_config *cfg = policy_query(agent_policy_live(a));
	struct query_deny d = { .detector = da->detector };
	__u64 span = (__u64)cfg->deny_seconds * 1000000000ull;

	d.expires_ns = mono_ns() + span;
	if (dp_query_deny_set(a->dp, &da->prefix, &d)) {
		a->query->enforce_failed++;
		snprintf(ia->mode, sizeof(ia->mode), "audit");
		return;
	}
	a->query->enforced++;
	ia->deny_until_unix_ns = ia->unix_ns + span;
}

static void note_alert(struct agent *a, const struct interval_alert *ia)
{
	struct agent_query *q = a->query;

	q->recent[q->head] = *ia;
	q->head = (q->head + 1) % RECENT_ALERTS;
	if (q->n_recent < RECENT_ALERTS)
		q->n_recent++;
	if (q->n_pending == q->cap_pending) {
		size_t cap = q->cap_pending ? q->cap_pending * 2 : 16;
		void *p = reallocarray(q->pending, cap, sizeof(*q->pending));

		if (!p)
			return;
		q->pending = p;
		q->cap_pending = cap;
	}
	q->pending[q->n_pending++] = *ia;
	pr_info("alert: %s %s model=%s prefix=%s AS%u: %s\n", ia->detector, ia->mode,
		ia->model, ia->prefix, ia->asn, ia->figures);
}

static struct detect_obs *observations(struct agent *a, const struct query_record *recs,
				       size_t n)
{
	struct geo_table *geo = agent_geo_view(a);
	struct detect_obs *obs = calloc(n ? n : 1, sizeof(*obs));
	size_t i;

	for (i = 0; obs && i < n; i++) {
		const struct query_key *k = &recs[i].key;

		obs[i].rec = recs[i];
		asn_lookup(a->query->asn, k->family, k->addr, &obs[i].asn);
		if (geo)
			obs[i].country = k->family == 4 ? geo_table_lookup_v4(geo, k->addr[0]) :
				       geo_table_lookup_v6(geo, k->addr);
	}
	geo_table_free(geo);
	return obs;
}

void agent_query_interval(struct agent *a, const struct meter_record *recs, size_t n)
{
	const struct policy *p = agent_policy_live(a);
	struct query_record *qr = NULL;
	struct detect_denial *den = NULL;
	struct detect_alert *alerts = NULL;
	struct detect_obs *obs = NULL;
	size_t nq = 0, nd;
	int i, na;

	if (!a->query || !p)
		return;
	dp_query_deny_sweep(a->dp, mono_ns());
	if (dp_query_read(a->dp, &qr, &nq))
		return;
	obs = observations(a, qr, nq);
	den = calloc(n ? n : 1, sizeof(*den));
	if (!obs || !den)
		goto out;
	nd = denials_of(recs, n, den);
	detect_configure(a->query->detect, policy_query(p));
	na = detect_interval(a->query->detect, a->cfg.interval_ms / 1000.0, obs, nq, den, nd,
			     ingress_verdict, a, &alerts);
	for (i = 0; i < na; i++) {
		struct interval_alert ia;

		to_interval_alert(a, &alerts[i], &ia);
		if (alerts[i].mode == DETECT_MODE_ENFORCE)
			enforce(a, &alerts[i], &ia);
		note_alert(a, &ia);
	}
out:
	free(alerts);
	free(den);
	free(obs);
	free(qr);
}

void agent_query_take(struct agent *a, struct interval_record *rec)
{
	if (!a->query)
		return;
	rec->alerts = a->query->pending;
	rec->n_alerts = a->query->n_pending;
}

void agent_query_taken(struct agent *a)
{
	if (a->query)
		a->query->n_pending = 0;
}

static void render_alert(const struct interval_alert *ia, bool json, struct strbuf *out)
{
	if (!json) {
		strbuf_printf(out, "%llu %-10s %-7s model=%s prefix=%s AS%u (%s) country=%s "
			      "as_country=%s value=%g threshold=%g: %s\n",
			      (unsigned long long)ia->unix_ns, ia->detector, ia->mode, ia->model,
			      ia->prefix, ia->asn, ia->org, ia->country, ia->asn_country,
			      ia->value, ia->threshold, ia->figures);
		return;
	}
	strbuf_printf(out, "{\"unix_ns\": %llu, \"detector\": \"%s\", \"mode\": \"%s\", "
		      "\"model\": ", (unsigned long long)ia->unix_ns, ia->detector, ia->mode);
	strbuf_json_str(out, ia->model);
	strbuf_printf(out, ", \"prefix\": \"%s\", \"asn\": %u, \"organisation\": ", ia->prefix,
		      ia->asn);
	strbuf_json_str(out, ia->org);
	strbuf_printf(out, ", \"country\": \"%.2s\", \"asn_country\": \"%.2s\", \"value\": %.6g, "
		      "\"threshold\": %.6g, \"deny_until_unix_ns\": %llu, \"figures\": ",
		      ia->country, ia->asn_country, ia->value, ia->threshold,
		      (unsigned long long)ia->deny_until_unix_ns);
	strbuf_json_str(out, ia->figures);
	strbuf_puts(out, "}\n");
}

void agent_query_render(const struct agent *a, bool json, struct strbuf *out)
{
	const struct agent_query *q = a->query;
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->n_recent; i++)
		render_alert(&q->recent[(q->head + RECENT_ALERTS - q->n_recent + i) % RECENT_ALERTS],
			     json, out);
}

void agent_query_metrics(const struct agent *a, struct strbuf *out)
{
	struct detect_stats st;
	int det;

	if (!a->query)
		return;
	detect_get_stats(a->query->detect, &st);
	strbuf_puts(out, "# HELP customs_query_alerts_total Query-pattern alerts raised, by detector.\n"
			 "# TYPE customs_query_alerts_total counter\n");
	for (det = 0; det < DETECTOR_MAX; det++)
		strbuf_printf(out, "customs_query_alerts_total{detector=\"%s\"} %llu\n",
			      detector_name(det), (unsigned long long)st.alerts[det]);
	strbuf_printf(out, "# HELP customs_query_denies_total Prefix denies installed by enforce-mode detectors.\n"
		      "# TYPE customs_query_denies_total counter\n"
		      "customs_query_denies_total{result=\"ok\"} %llu\n"
		      "customs_query_denies_total{result=\"failed\"} %llu\n"
		      "# HELP customs_query_tracked Prefix and AS states the detectors hold.\n"
		      "# TYPE customs_query_tracked gauge\n"
		      "customs_query_tracked %llu\n"
		      "# HELP customs_query_untracked_total Observations refused: max_tracked reached.\n"
		      "# TYPE customs_query_untracked_total counter\n"
		      "customs_query_untracked_total %llu\n"
		      "# HELP customs_query_resets_total Prefix counters that restarted (evicted from the kernel LRU).\n"
		      "# TYPE customs_query_resets_total counter\n"
		      "customs_query_resets_total %llu\n",
		      (unsigned long long)a->query->enforced,
		      (unsigned long long)a->query->enforce_failed,
		      (unsigned long long)st.tracked, (unsigned long long)st.untracked,
		      (unsigned long long)st.resets);
}
