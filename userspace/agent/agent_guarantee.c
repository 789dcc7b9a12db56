// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host-country guarantees, watched every interval (docs/auditor-guide.md):
 *
 *  - revocations take effect at their effective time: until then the
 *    cells a revoked guarantee covers stay as the guarantee promised
 *    (agent_effective_row), and the moment it passes the rows are
 *    rewritten and a signed revocation notice says so, once;
 *  - drift watch: the kernel's access matrix, our links and the geo table
 *    are compared with what the agent installed; any difference is
 *    repaired at once and reported as a guarantee_drift notice naming what
 *    was found and what was restored;
 *  - measured service: per guaranteed (country, model), the interval's
 *    connection attempts, established connections, bytes served, and the
 *    refusals, each counted once: packets denied, resets the served side
 *    sent, destination unreachables the host sent (TCP or UDP), and
 *    attempts that none of these or an establishment answered
 *    (unanswered); availability = (established - resets that ended a
 *    connection) / attempts against the target (interval_good()), where
 *    an attempt refused with an unreachable or a reset counts as an
 *    attempt.
 *
 * Notices (also a refused policy) and guarantee records travel in the next
 * interval record, so they are signed and chained with it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "agent_parts.h"
#include "country.h"
#include "log.h"
#include "policy.h"

#define MAX_GUARANTEE_COUNTRIES COUNTRY_MAX

struct agent_guarantees {
	struct tcp_outcome_record *prev;	/* last reading, for deltas */
	size_t n_prev;
	bool have_prev;
	struct interval_notice *notices;	/* for the next record */
	size_t n_notices, cap_notices;
	struct interval_guarantee *records;	/* the last interval's */
	size_t n_records, cap_records;
	char **revoked;				/* "guarantee reference" announced */
	size_t n_revoked;
	bool revoked_loaded;			/* the file was read (or is absent) */
};

static struct agent_guarantees *gstate(struct agent *a)
{
	if (!a->guarantees)
		a->guarantees = calloc(1, sizeof(*a->guarantees));
	return a->guarantees;
}

void agent_notice(struct agent *a, enum interval_notice_kind kind, const char *guarantee,
		  __u64 at_ns, const char *fmt, ...)
{
	struct agent_guarantees *g = gstate(a);
	struct interval_notice *n;
	va_list ap;

	if (!g)
		return;
	if (g->n_notices == g->cap_notices) {
		size_t cap = g->cap_notices ? g->cap_notices * 2 : 16;
		void *p = realloc(g->notices, cap * sizeof(*g->notices));

		if (!p) {
			pr_warn("notice lost: no memory\n");
			return;
		}
		g->notices = p;
		g->cap_notices = cap;
	}
	n = &g->notices[g->n_notices++];
	memset(n, 0, sizeof(*n));
	n->unix_ns = at_ns ? at_ns : unix_ns();
	n->kind = kind;
	n->country = COUNTRY_ZZ;
	snprintf(n->guarantee, sizeof(n->guarantee), "%s", guarantee ? guarantee : "");
	va_start(ap, fmt);
	vsnprintf(n->detail, sizeof(n->detail), fmt, ap);
	va_end(ap);
	pr_warn("%s: %s%s%s\n", kind == NOTICE_GUARANTEE_DRIFT ? "guarantee drift" :
		kind == NOTICE_POLICY_REFUSED ? "refused" : "revocation",
		n->guarantee, n->guarantee[0] ? ": " : "", n->detail);
}

/* A revocation counts from its effective time, not from when it was applied. */
static bool revocation_pending(const struct policy *p, size_t i, int64_t now)
{
	struct policy_guarantee_status st;

	if (policy_guarantee_eval(p, i, now, &st))
		return false;
	return st.has_revocation && now < st.revoked_at &&
	       (st.state == GUARANTEE_ACTIVE || st.state == GUARANTEE_PENDING);
}

void agent_effective_row(const struct policy *p, __u32 model, enum direction dir,
			 int64_t now, struct access_row *out)
{
	__u16 cc[MAX_GUARANTEE_COUNTRIES];
	size_t i, k, n;

	memcpy(out, policy_access_row(p, model, dir), sizeof(*out));
	if (model == MODEL_UNKNOWN)
		return;
	for (i = 0; i < policy_guarantee_count(p); i++) {
		if (!revocation_pending(p, i, now))
			continue;
		n = policy_guarantee_countries(p, i, cc, MAX_GUARANTEE_COUNTRIES);
		for (k = 0; k < n && k < MAX_GUARANTEE_COUNTRIES; k++)
			if (cc[k] < ACCESS_ROW_LEN && out->verdict[cc[k]] == VERDICT_DENY &&
			    policy_guarantee_covers(p, i, model, cc[k]))
				out->verdict[cc[k]] = VERDICT_ALLOW;
	}
}

static bool revocation_announced(const struct agent_guarantees *g, const char *key)
{
	size_t i;

	for (i = 0; i < g->n_revoked; i++)
		if (!strcmp(g->revoked[i], key))
			return true;
	return false;
}

static void revocations_path(const struct agent *a, char *out, size_t len)
{
	snprintf(out, len, "%s/revocations", a->cfg.state_dir);
}

/* The revocations already announced, one "guarantee reference" per line. */
static void revocations_load(struct agent *a, struct agent_guarantees *g)
{
	char path[CONFIG_PATH_MAX + 16], line[512];
	FILE *f;

	revocations_path(a, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char **p = realloc(g->revoked, (g->n_revoked + 1) * sizeof(*p));

		line[strcspn(line, "\n")] = '\0';
		if (!p)
			break;
		g->revoked = p;
		g->revoked[g->n_revoked] = strdup(line);
		if (g->revoked[g->n_revoked])
			g->n_revoked++;
	}
	fclose(f);
}

static void revocation_remember(struct agent *a, struct agent_guarantees *g, const char *key)
{
	char path[CONFIG_PATH_MAX + 16];
	char **p = realloc(g->revoked, (g->n_revoked + 1) * sizeof(*p));
	FILE *f;

	if (p) {
		g->revoked = p;
		g->revoked[g->n_revoked] = strdup(key);
		if (g->revoked[g->n_revoked])
			g->n_revoked++;
	}
	revocations_path(a, path, sizeof(path));
	f = fopen(path, "ae");
	if (!f) {
		pr_warn("%s: %s (the revocation may be announced again)\n", path, strerror(errno));
		return;
	}
	fprintf(f, "%s\n", key);
	fclose(f);
}

/* Revocations whose time has come: rewrite the rows, announce once. */
static void watch_revocations(struct agent *a, struct agent_guarantees *g, int64_t now)
{
	const struct policy *p = agent_policy_live(a);
	struct policy_guarantee_status st;
	bool rewrite = false;
	char key[512], at[32];
	struct tm tm;
	size_t i;

	for (i = 0; p && i < policy_guarantee_count(p); i++) {
		if (policy_guarantee_eval(p, i, now, &st) || st.state != GUARANTEE_REVOKED)
			continue;
		snprintf(key, sizeof(key), "%s %s", st.name,
			 st.revocation_reference ? st.revocation_reference : "");
		if (revocation_announced(g, key))
			continue;
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ",
			 gmtime_r(&(time_t){ (time_t)st.revoked_at }, &tm));
		/* Dated when the revocation took effect, not when it was seen. */
		agent_notice(a, NOTICE_REVOCATION, st.name, (__u64)st.revoked_at * 1000000000ull,
			     "revoked from %s: %s; reference %s", at,
			     st.revocation_reason ? st.revocation_reason : "",
			     st.revocation_reference ? st.revocation_reference : "");
		revocation_remember(a, g, key);
		rewrite = true;
	}
	/* The cells the guarantee held now take the rules' verdicts. */
	if (rewrite)
		agent_policy_verify_rows(a, NULL);
}

static void watch_drift(struct agent *a)
{
	const char *ifnames[CONFIG_MAX_XDP];
	struct strbuf report;
	int i, n;

	strbuf_init(&report);
	if (agent_policy_verify_rows(a, &report) > 0)
		agent_notice(a, NOTICE_GUARANTEE_DRIFT, agent_policy_drift_guarantee(a), 0,
			     "access matrix: %s", strbuf_str(&report));
	strbuf_reset(&report);
	for (i = 0; i < a->cfg.n_xdp; i++)
		ifnames[i] = a->cfg.xdp[i].interface;
	n = dp_verify_links(a->dp, a->cfg.cgroup[0] != '\0', ifnames, a->cfg.n_xdp, &report);
	if (n > 0) {
		int rc = agent_attach_all(a);

		agent_notice(a, NOTICE_GUARANTEE_DRIFT, NULL, 0,
			     "%s; %s", strbuf_str(&report),
			     rc ? "re-attaching failed" : "re-attached our programs");
	}
	if (agent_geo_verify(a)) {
		int rc = agent_geo_reinstall(a);

		agent_notice(a, NOTICE_GUARANTEE_DRIFT, NULL, 0,
			     "geo table in the kernel is not the one installed; %s",
			     rc ? "reinstalling failed" : "reinstalled it");
	}
	strbuf_free(&report);
}

static int cmp_key(const void *x, const void *y)
{
	return memcmp(&((const struct tcp_outcome_record *)x)->key,
		      &((const struct tcp_outcome_record *)y)->key, sizeof(struct meter_key));
}

/* The TCP outcomes since the last reading (the map only ever grows). */
static int tcp_deltas(struct agent *a, struct agent_guarantees *g,
		      struct tcp_outcome_record **out, size_t *n)
{
	struct tcp_outcome_record *cur = NULL, *old;
	size_t i, n_cur = 0;
	int rc;

	rc = dp_tcp_read(a->dp, &cur, &n_cur);
	if (rc)
		return rc;
	qsort(cur, n_cur, sizeof(*cur), cmp_key);
	*out = calloc(n_cur ? n_cur : 1, sizeof(**out));
	if (!*out) {
		free(cur);
		return -ENOMEM;
	}
	for (i = 0; i < n_cur; i++) {
		(*out)[i] = cur[i];
		old = g->have_prev ? bsearch(&cur[i], g->prev, g->n_prev, sizeof(*cur), cmp_key)
				   : &cur[i];
		if (!old)
			continue;
		(*out)[i].value.attempts -= old->value.attempts;
		(*out)[i].value.established -= old->value.established;
		(*out)[i].value.resets_sent -= old->value.resets_sent;
		(*out)[i].value.attempts_refused -= old->value.attempts_refused;
		(*out)[i].value.unreach_sent -= old->value.unreach_sent;
		(*out)[i].value.attempts_reset -= old->value.attempts_reset;
	}
	free(g->prev);
	g->prev = cur;
	g->n_prev = n_cur;
	*n = g->have_prev ? n_cur : 0;
	g->have_prev = true;
	return 0;
}

static struct interval_guarantee *new_record(struct agent_guarantees *g)
{
	if (g->n_records == g->cap_records) {
		size_t cap = g->cap_records ? g->cap_records * 2 : 16;
		void *p = realloc(g->records, cap * sizeof(*g->records));

		if (!p)
			return NULL;
		g->records = p;
		g->cap_records = cap;
	}
	memset(&g->records[g->n_records], 0, sizeof(*g->records));
	return &g->records[g->n_records++];
}

/*
 * Every refusal once. A SYN the data plane dropped is in denied (a
 * packet), one the host answered with an unreachable in unreachables, and
 * one it answered with a reset in resets (and attempts_reset); all are
 * also attempts, marked refused, so only the attempts nothing answered
 * are unanswered. UDP has no attempts: its refusals are denied
 * packets and unreachables.
 */
void agent_guarantee_measure(struct interval_guarantee *r, __u32 stable, __u16 country,
			     const struct tcp_outcome_record *tcp, size_t n_tcp,
			     const struct meter_record *recs, size_t n)
{
	__u64 good, answered, refused = 0;
	size_t i;

	for (i = 0; i < n_tcp; i++) {
		const struct meter_key *k = &tcp[i].key;

		if (k->model != stable || k->country != country || k->direction != DIR_INGRESS)
			continue;
		r->attempts += tcp[i].value.attempts;
		r->established += tcp[i].value.established;
		r->resets += tcp[i].value.resets_sent;
		r->unreachables += tcp[i].value.unreach_sent;
		r->attempts_reset += tcp[i].value.attempts_reset;
		refused += tcp[i].value.attempts_refused;
	}
	for (i = 0; i < n; i++) {
		const struct meter_key *k = &recs[i].key;

		if (k->model != stable || k->country != country)
			continue;
		if (k->direction == DIR_INGRESS && k->verdict == VERDICT_DENY)
			r->denied += recs[i].value.packets;
		/* Bytes served: what left the tenant towards the country. */
		if (k->direction == DIR_EGRESS && k->layer == LAYER_SKB &&
		    k->verdict != VERDICT_DENY)
			r->bytes += recs[i].value.bytes;
	}
	good = interval_good(r->established, r->resets, r->attempts_reset);
	answered = r->established + refused;
	r->unanswered = r->attempts > answered ? r->attempts - answered : 0;
	r->refusals = r->denied + r->resets + r->unreachables + r->unanswered;
	r->availability = r->attempts ? (double)good / (double)r->attempts : 1.0;
	if (r->availability > 1.0)
		r->availability = 1.0;	/* a SYN of the previous interval established now */
	if (!r->attempts && !r->denied && !r->unreachables)
		r->state = IGUARANTEE_IDLE;
	else if (r->attempts && r->availability + 1e-9 >= r->target)
		r->state = IGUARANTEE_MET;
	else
		r->state = IGUARANTEE_BREACH;
}

static void measure(struct agent *a, struct agent_guarantees *g, int64_t now,
		    const struct meter_record *recs, size_t n)
{
	const struct policy *p = agent_policy_live(a);
	struct tcp_outcome_record *tcp = NULL;
	struct policy_guarantee_status st;
	__u16 cc[MAX_GUARANTEE_COUNTRIES];
	size_t i, k, n_tcp = 0, n_cc;
	__u32 m;

	g->n_records = 0;
	if (!p || tcp_deltas(a, g, &tcp, &n_tcp))
		return;
	for (i = 0; i < policy_guarantee_count(p); i++) {
		if (policy_guarantee_eval(p, i, now, &st))
			continue;
		if (st.state != GUARANTEE_ACTIVE && st.state != GUARANTEE_REVOKED)
			continue;
		n_cc = policy_guarantee_countries(p, i, cc, MAX_GUARANTEE_COUNTRIES);
		for (m = 1; m <= policy_model_count(p); m++)
			for (k = 0; k < n_cc && k < MAX_GUARANTEE_COUNTRIES; k++) {
				struct interval_guarantee *r;

				if (!policy_guarantee_covers(p, i, m, cc[k]) || !(r = new_record(g)))
					continue;
				snprintf(r->guarantee, sizeof(r->guarantee), "%s", st.name);
				snprintf(r->model, sizeof(r->model), "%s", policy_model_name(p, m));
				r->country = cc[k];
				r->target = st.availability_ppm / 1e6;
				if (st.state == GUARANTEE_REVOKED) {
					/* Measurement ends with the guarantee. */
					r->state = IGUARANTEE_REVOKED;
					snprintf(r->revocation_ref, sizeof(r->revocation_ref), "%s",
						 st.revocation_reference ? st.revocation_reference : "");
					continue;
				}
				agent_guarantee_measure(r, agent_policy_stable_model(a, m), cc[k],
							tcp, n_tcp, recs, n);
			}
	}
	free(tcp);
}

void agent_guarantees_begin(struct agent *a)
{
	struct agent_guarantees *g = gstate(a);
	struct tcp_outcome_record *unused = NULL;
	size_t n = 0;

	/* The first interval measures from now, not from the map's birth. */
	if (g && a->dp && !tcp_deltas(a, g, &unused, &n))
		free(unused);
}

void agent_guarantees_interval(struct agent *a, const struct meter_record *recs, size_t n)
{
	struct agent_guarantees *g = gstate(a);
	int64_t now = (int64_t)time(NULL);

	if (!g || !a->dp)
		return;
	if (!g->revoked_loaded) {
		revocations_load(a, g);
		g->revoked_loaded = true;
	}
	watch_revocations(a, g, now);
	watch_drift(a);
	measure(a, g, now, recs, n);
}

void agent_guarantees_take(struct agent *a, struct interval_record *rec)
{
	struct agent_guarantees *g = a->guarantees;

	if (!g)
		return;
	rec->notices = g->notices;
	rec->n_notices = g->n_notices;
	rec->guarantees = g->records;
	rec->n_guarantees = g->n_records;
}

void agent_guarantees_sent(struct agent *a)
{
	if (a->guarantees)
		a->guarantees->n_notices = 0;
}

void agent_guarantees_status(const struct agent *a, struct strbuf *out, bool json)
{
	const struct agent_guarantees *g = a->guarantees;
	char code[COUNTRY_STRLEN];
	size_t i;

	strbuf_puts(out, json ? "[" : "");
	for (i = 0; g && i < g->n_records; i++) {
		const struct interval_guarantee *r = &g->records[i];
		static const char *const names[] = { "?", "met", "breach", "revoked", "idle" };
		const char *state = r->state < 5 ? names[r->state] : "?";

		country_str(r->country, code);
		if (json)
			strbuf_printf(out, "%s{\"guarantee\": \"%s\", \"model\": \"%s\", "
				      "\"country\": \"%s\", \"state\": \"%s\", \"attempts\": %llu, "
				      "\"established\": %llu, \"refusals\": %llu, \"denied\": %llu, "
				      "\"resets\": %llu, \"unreachables\": %llu, \"unanswered\": %llu, "
				      "\"attempts_reset\": %llu, \"availability\": %.6f, "
				      "\"target\": %.6f}", i ? ", " : "",
				      r->guarantee, r->model, code, state,
				      (unsigned long long)r->attempts,
				      (unsigned long long)r->established,
				      (unsigned long long)r->refusals, (unsigned long long)r->denied,
				      (unsigned long long)r->resets,
				      (unsigned long long)r->unreachables,
				      (unsigned long long)r->unanswered,
				      (unsigned long long)r->attempts_reset, r->availability, r->target);
		else
			strbuf_printf(out, "\n  %-24s %-16s %s %-7s %llu/%llu established, "
				      "%llu refusals, availability %.4f (target %.4f)", r->guarantee,
				      r->model, code, state, (unsigned long long)r->established,
				      (unsigned long long)r->attempts, (unsigned long long)r->refusals,
				      r->availability, r->target);
	}
	strbuf_puts(out, json ? "]" : "");
}

void agent_guarantees_free(struct agent *a)
{
	struct agent_guarantees *g = a->guarantees;
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->n_revoked; i++)
		free(g->revoked[i]);
	free(g->revoked);
	free(g->prev);
	free(g->notices);
	free(g->records);
	free(g);
	a->guarantees = NULL;
}
