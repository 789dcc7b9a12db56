// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-audit report --guarantees: for each guaranteed (country, model)
 * over the period, the intervals met, breached, idle and revoked, the
 * availability over the whole period against the target, the refusals by
 * kind (denied, resets, unreachables, unanswered), the intervals that
 * breached it, and the events an auditor must see beside them: drift
 * found and repaired, policies refused, revocations with their reason and
 * reference. A gap in the telemetry is never counted as met: a period
 * with gaps is "incomplete" however good the intervals around it were.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>

#include "audit.h"
#include "interval.h"
#include "strbuf.h"

struct gsum {
	const char *id, *model, *country;	/* point into decoded batches */
	double target;
	__u64 intervals, met, breach, idle, revoked;
	__u64 attempts, established, resets, denied, bytes, good;
	__u64 refusals, unreachables, unanswered, attempts_reset;
	__u64 revoked_from_ns;
	const char *revocation_ref;
	struct strbuf breaches;			/* JSON objects, comma-separated */
	struct strbuf breaches_text;
	size_t n_breaches;
};

struct gview {
	struct gsum *g;
	size_t n, cap;
};

static struct gsum *gsum_of(struct gview *v, const Customs__GuaranteeStatus *s)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->g[i].id, s->guarantee_id) && !strcmp(v->g[i].model, s->model) &&
		    !strcmp(v->g[i].country, s->country))
			return &v->g[i];
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *p = realloc(v->g, cap * sizeof(*v->g));

		if (!p)
			return NULL;
		v->g = p;
		v->cap = cap;
	}
	memset(&v->g[v->n], 0, sizeof(*v->g));
	v->g[v->n].id = s->guarantee_id;
	v->g[v->n].model = s->model;
	v->g[v->n].country = s->country;
	strbuf_init(&v->g[v->n].breaches);
	strbuf_init(&v->g[v->n].breaches_text);
	return &v->g[v->n++];
}

static void fmt_iso(__u64 ns, char out[32])
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "refusals N: denied N, resets N [(N answering connection attempts)], ..." */
static void refusals_text(struct strbuf *o, __u64 refusals, __u64 denied, __u64 resets,
			  __u64 attempts_reset, __u64 unreachables, __u64 unanswered)
{
	strbuf_printf(o, "refusals %llu: denied %llu, resets %llu", (unsigned long long)refusals,
		      (unsigned long long)denied, (unsigned long long)resets);
	if (attempts_reset)
		strbuf_printf(o, " (%llu answering connection attempts)",
			      (unsigned long long)attempts_reset);
	strbuf_printf(o, ", unreachables %llu, unanswered %llu\n",
		      (unsigned long long)unreachables, (unsigned long long)unanswered);
}

static void add_status(struct gsum *g, const Customs__Batch *b, const Customs__GuaranteeStatus *s)
{
	char from[32], to[32];

	g->intervals++;
	g->target = s->target;
	switch (s->state) {
	case CUSTOMS__GUARANTEE_STATE__GUARANTEE_MET:
		g->met++;
		break;
	case CUSTOMS__GUARANTEE_STATE__GUARANTEE_BREACH:
		g->breach++;
		fmt_iso(b->start_unix_ns, from);
		fmt_iso(b->end_unix_ns, to);
		strbuf_printf(&g->breaches, "%s{\"node\": \"%s\", \"seq\": %llu, \"start\": \"%s\", "
			      "\"end\": \"%s\", \"attempts\": %llu, \"availability\": %.6f, "
			      "\"refusals\": %llu, \"denied\": %llu, \"resets\": %llu, "
			      "\"unreachables\": %llu, \"unanswered\": %llu, "
			      "\"attempts_reset\": %llu}",
			      g->n_breaches ? ", " : "", b->node_id, (unsigned long long)b->seq,
			      from, to, (unsigned long long)s->attempts, s->availability,
			      (unsigned long long)s->refusals, (unsigned long long)s->denied,
			      (unsigned long long)s->resets, (unsigned long long)s->unreachables,
			      (unsigned long long)s->unanswered,
			      (unsigned long long)s->attempts_reset);
		strbuf_printf(&g->breaches_text, "      breach %s .. %s (node %s seq %llu): ",
			      from, to, b->node_id, (unsigned long long)b->seq);
		if (s->attempts)
			strbuf_printf(&g->breaches_text, "%.2f%% of %llu attempts",
				      100 * s->availability, (unsigned long long)s->attempts);
		else
			strbuf_puts(&g->breaches_text, "no connection attempts");
		strbuf_puts(&g->breaches_text, "; ");
		refusals_text(&g->breaches_text, s->refusals, s->denied, s->resets,
			      s->attempts_reset, s->unreachables, s->unanswered);
		g->n_breaches++;
		break;
	case CUSTOMS__GUARANTEE_STATE__GUARANTEE_REVOKED:
		g->revoked++;
		if (!g->revoked_from_ns || b->start_unix_ns < g->revoked_from_ns)
			g->revoked_from_ns = b->start_unix_ns;
		g->revocation_ref = s->revocation_ref;
		return;
	default:
		g->idle++;
		break;
	}
	g->attempts += s->attempts;
	g->established += s->established;
	g->resets += s->resets;
	g->denied += s->denied;
	g->refusals += s->refusals;
	g->unreachables += s->unreachables;
	g->unanswered += s->unanswered;
	g->attempts_reset += s->attempts_reset;
	g->bytes += s->bytes;
	g->good += interval_good(s->established, s->resets, s->attempts_reset);
}

static const char *event_kind(Customs__EventKind k)
{
	switch (k) {
	case CUSTOMS__EVENT_KIND__EVENT_GUARANTEE_DRIFT: return "guarantee_drift";
	case CUSTOMS__EVENT_KIND__EVENT_POLICY_REFUSED: return "policy_refused";
	case CUSTOMS__EVENT_KIND__EVENT_REVOCATION: return "revocation";
	default: return NULL;
	}
}

/*
 * The revocation event is dated when the revocation took effect; without
 * one, the first revoked interval's start is the best the batches say.
 */
static void note_revocation(struct gview *v, const Customs__Event *e)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->g[i].id, e->guarantee))
			v->g[i].revoked_from_ns = e->unix_ns;
}

static double availability(const struct gsum *g)
{
	double a = g->attempts ? (double)g->good / (double)g->attempts : 1.0;

	return a > 1.0 ? 1.0 : a;
}

/*
 * Refusals with no attempts to measure them against (denied or
 * unreachable UDP, say) breach the guarantee as the intervals did.
 */
static const char *verdict(const struct gsum *g, size_t n_gaps)
{
	if (g->revoked && !g->met && !g->breach)
		return "revoked";
	if (g->attempts && availability(g) + 1e-9 < g->target)
		return "breach";
	if (!g->attempts && (g->denied || g->unreachables))
		return "breach";
	if (n_gaps)
		return "incomplete";	/* a gap is never counted as met */
	if (!g->attempts)
		return "idle";
	return "met";
}

static void render_json(struct strbuf *o, struct gview *v, struct strbuf *events,
			const struct audit_guarantee_input *in)
{
	size_t i;

	strbuf_puts(o, "{\n  \"guarantees\": [");
	for (i = 0; i < v->n; i++) {
		const struct gsum *g = &v->g[i];

		strbuf_printf(o, "%s\n    {\"guarantee\": ", i ? "," : "");
		strbuf_json_str(o, g->id);
		strbuf_puts(o, ", \"model\": ");
		strbuf_json_str(o, g->model);
		strbuf_printf(o, ", \"country\": \"%s\", \"state\": \"%s\", \"target\": %.6f, "
			      "\"availability\": %.6f, \"intervals\": %llu, \"intervals_met\": %llu, "
			      "\"intervals_breach\": %llu, \"intervals_idle\": %llu, "
			      "\"intervals_revoked\": %llu, \"attempts\": %llu, \"established\": %llu, "
			      "\"resets\": %llu, \"denied\": %llu, \"bytes\": %llu, "
			      "\"refusals\": %llu, \"unreachables\": %llu, \"unanswered\": %llu, "
			      "\"attempts_reset\": %llu, \"revoked_from\": %llu, "
			      "\"revocation_ref\": ",
			      g->country, verdict(g, in->n_gaps), g->target, availability(g),
			      (unsigned long long)g->intervals, (unsigned long long)g->met,
			      (unsigned long long)g->breach, (unsigned long long)g->idle,
			      (unsigned long long)g->revoked, (unsigned long long)g->attempts,
			      (unsigned long long)g->established, (unsigned long long)g->resets,
			      (unsigned long long)g->denied, (unsigned long long)g->bytes,
			      (unsigned long long)g->refusals, (unsigned long long)g->unreachables,
			      (unsigned long long)g->unanswered,
			      (unsigned long long)g->attempts_reset,
			      (unsigned long long)(g->revoked_from_ns / 1000000000ull));
		strbuf_json_str(o, g->revocation_ref ? g->revocation_ref : "");
		strbuf_printf(o, ", \"breaches\": [%s]}", strbuf_str(&g->breaches));
	}
	strbuf_printf(o, "\n  ],\n  \"events\": [%s\n  ],\n  \"gaps\": %zu\n}\n",
		      strbuf_str(events), in->n_gaps);
}

static void render_text(struct strbuf *o, struct gview *v, const struct strbuf *events,
			const struct audit_guarantee_input *in)
{
	char from[32];
	size_t i;

	strbuf_puts(o, "Guarantees\n");
	if (!v->n)
		strbuf_puts(o, "  (no guarantee status in these batches)\n");
	for (i = 0; i < v->n; i++) {
		const struct gsum *g = &v->g[i];

		strbuf_printf(o, "  %s: %s -> %s: %s, availability %.4f%% (target %.4f%%), "
			      "%llu intervals: %llu met, %llu breach, %llu idle, %llu revoked\n",
			      g->id, g->country, g->model, verdict(g, in->n_gaps),
			      100 * availability(g), 100 * g->target,
			      (unsigned long long)g->intervals, (unsigned long long)g->met,
			      (unsigned long long)g->breach, (unsigned long long)g->idle,
			      (unsigned long long)g->revoked);
		if (g->refusals) {
			strbuf_puts(o, "      ");
			refusals_text(o, g->refusals, g->denied, g->resets, g->attempts_reset,
				      g->unreachables, g->unanswered);
		}
		if (g->revoked_from_ns) {
			fmt_iso(g->revoked_from_ns, from);
			strbuf_printf(o, "      revoked from %s, reference %s\n", from,
				      g->revocation_ref ? g->revocation_ref : "(none)");
		}
		strbuf_puts(o, strbuf_str(&g->breaches_text));
	}
	strbuf_printf(o, "Telemetry gaps: %zu%s\n", in->n_gaps,
		      in->n_gaps ? " (the period is not proven: see the gaps above)" : "");
	strbuf_printf(o, "Events\n%s", events->len ? strbuf_str(events) : "  (none)\n");
}

int audit_render_guarantees(struct strbuf *o, const struct audit_guarantee_input *in,
			    bool json)
{
	struct gview v = { 0 };
	struct strbuf events;
	char at[32];
	size_t i, k, n_events = 0;

	strbuf_init(&events);
	for (i = 0; i < in->n; i++) {
		const Customs__Batch *b = in->batches[i];

		for (k = 0; k < b->n_guarantees; k++) {
			struct gsum *g = gsum_of(&v, b->guarantees[k]);

			if (!g)
				goto nomem;
			add_status(g, b, b->guarantees[k]);
		}
	}
	for (i = 0; i < in->n; i++) {
		const Customs__Batch *b = in->batches[i];

		for (k = 0; k < b->n_events; k++) {
			const Customs__Event *e = b->events[k];
			const char *kind = event_kind(e->kind);

			if (!kind)
				continue;
			if (e->kind == CUSTOMS__EVENT_KIND__EVENT_REVOCATION)
				note_revocation(&v, e);
			fmt_iso(e->unix_ns, at);
			if (json) {
				strbuf_printf(&events, "%s\n    {\"kind\": \"%s\", \"unix_s\": %llu, "
					      "\"at\": \"%s\", \"node\": ", n_events++ ? "," : "",
					      kind, (unsigned long long)(e->unix_ns / 1000000000ull),
					      at);
				strbuf_json_str(&events, b->node_id);
				strbuf_puts(&events, ", \"guarantee\": ");
				strbuf_json_str(&events, e->guarantee);
				strbuf_puts(&events, ", \"detail\": ");
				strbuf_json_str(&events, e->detail);
				strbuf_puts(&events, "}");
			} else {
				strbuf_printf(&events, "  %s %s %s%s%s: %s\n", at, kind,
					      e->guarantee, e->guarantee[0] ? " " : "", b->node_id,
					      e->detail);
			}
		}
	}
	if (json)
		render_json(o, &v, &events, in);
	else
		render_text(o, &v, &events, in);
	for (i = 0; i < v.n; i++) {
		strbuf_free(&v.g[i].breaches);
		strbuf_free(&v.g[i].breaches_text);
	}
	free(v.g);
	strbuf_free(&events);
	return 0;
nomem:
	for (i = 0; i < v.n; i++) {
		strbuf_free(&v.g[i].breaches);
		strbuf_free(&v.g[i].breaches_text);
	}
	free(v.g);
	strbuf_free(&events);
	return -ENOMEM;
}
