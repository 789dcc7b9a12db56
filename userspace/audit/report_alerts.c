// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-audit report --alerts: the query-pattern alerts (EVENT_QUERY_ALERT
 * events) of a set of batches, summarised per detector, model, client
 * prefix and mode: how many, first and last time, the largest figure and
 * the threshold, with the prefix's AS and countries. The detectors and
 * their figures are described in docs/query-patterns.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "strbuf.h"
#include "telemetry.h"

struct alert_sum {
	const Customs__Event *first;	/* points into the decoded batches */
	__u64 count, first_ns, last_ns;
	double max_value;
};

static bool same(const Customs__QueryAlert *a, const Customs__Event *ea,
		 const Customs__QueryAlert *b, const Customs__Event *eb)
{
	return !strcmp(a->detector, b->detector) && !strcmp(a->prefix, b->prefix) &&
	       !strcmp(a->mode, b->mode) && !strcmp(ea->model, eb->model);
}

static int cmp_sum(const void *x, const void *y)
{
	const struct alert_sum *a = x, *b = y;
	int c = strcmp(a->first->query_alert->detector, b->first->query_alert->detector);

	return c ? c : strcmp(a->first->query_alert->prefix, b->first->query_alert->prefix);
}

static int collect(const struct telem_signed *dec, size_t n, struct alert_sum **out,
		   size_t *n_out, __u64 per_detector[8], const char *const names[8])
{
	struct alert_sum *s = NULL;
	size_t cnt = 0, cap = 0, i, j, k;

	for (i = 0; i < n; i++) {
		const Customs__Batch *b = dec[i].batch;

		for (j = 0; j < b->n_events; j++) {
			const Customs__Event *e = b->events[j];
			const Customs__QueryAlert *qa = e->query_alert;

			if (e->kind != CUSTOMS__EVENT_KIND__EVENT_QUERY_ALERT || !qa)
				continue;
			for (k = 0; k < 8 && names[k]; k++)
				per_detector[k] += !strcmp(names[k], qa->detector);
			for (k = 0; k < cnt && !same(s[k].first->query_alert, s[k].first, qa, e); k++)
				;
			if (k == cnt) {
				if (cnt == cap) {
					void *p = reallocarray(s, cap ? cap * 2 : 16, sizeof(*s));

					if (!p) {
						free(s);
						return -1;
					}
					s = p;
					cap = cap ? cap * 2 : 16;
				}
				s[cnt++] = (struct alert_sum){ .first = e, .first_ns = e->unix_ns,
							       .max_value = qa->value };
			}
			s[k].count++;
			if (e->unix_ns < s[k].first_ns)
				s[k].first_ns = e->unix_ns;
			if (e->unix_ns > s[k].last_ns)
				s[k].last_ns = e->unix_ns;
			if (qa->value > s[k].max_value)
				s[k].max_value = qa->value;
		}
	}
	if (cnt > 1)
		qsort(s, cnt, sizeof(*s), cmp_sum);
	*out = s;
	*n_out = cnt;
	return 0;
}

int audit_render_alerts(struct strbuf *o, const struct telem_signed *dec, size_t n, bool json)
{
	static const char *const names[8] = { "volume", "dispersion", "extraction", "geography" };
	__u64 per[8] = { 0 };
	struct alert_sum *s = NULL;
	size_t cnt = 0, i;

	if (collect(dec, n, &s, &cnt, per, names))
		return -1;
	if (json) {
		strbuf_printf(o, "{\n  \"alerts_by_detector\": {\"volume\": %llu, \"dispersion\": %llu, "
			      "\"extraction\": %llu, \"geography\": %llu},\n  \"alerts\": [",
			      (unsigned long long)per[0], (unsigned long long)per[1],
			      (unsigned long long)per[2], (unsigned long long)per[3]);
	} else {
		strbuf_printf(o, "query-pattern alerts: %llu volume, %llu dispersion, %llu extraction, "
			      "%llu geography\n\n  %-10s %-7s %-16s %-20s %-8s %-2s %-2s %6s %12s %12s\n",
			      (unsigned long long)per[0], (unsigned long long)per[1],
			      (unsigned long long)per[2], (unsigned long long)per[3], "detector",
			      "mode", "model", "prefix", "asn", "cc", "as", "count", "max_value",
			      "threshold");
	}
	for (i = 0; i < cnt; i++) {
		const Customs__QueryAlert *qa = s[i].first->query_alert;

		if (!json) {
			strbuf_printf(o, "  %-10s %-7s %-16s %-20s AS%-6u %-2s %-2s %6llu %12.6g %12.6g  %s\n",
				      qa->detector, qa->mode, s[i].first->model, qa->prefix, qa->asn,
				      qa->country, qa->asn_country, (unsigned long long)s[i].count,
				      s[i].max_value, qa->threshold, qa->organisation);
			continue;
		}
		strbuf_printf(o, "%s\n    {\"detector\": ", i ? "," : "");
		strbuf_json_str(o, qa->detector);
		strbuf_puts(o, ", \"mode\": ");
		strbuf_json_str(o, qa->mode);
		strbuf_puts(o, ", \"model\": ");
		strbuf_json_str(o, s[i].first->model);
		strbuf_puts(o, ", \"prefix\": ");
		strbuf_json_str(o, qa->prefix);
		strbuf_printf(o, ", \"asn\": %u, \"organisation\": ", qa->asn);
		strbuf_json_str(o, qa->organisation);
		strbuf_puts(o, ", \"country\": ");
		strbuf_json_str(o, qa->country);
		strbuf_puts(o, ", \"asn_country\": ");
		strbuf_json_str(o, qa->asn_country);
		strbuf_printf(o, ", \"count\": %llu, \"first_unix_ns\": %llu, \"last_unix_ns\": %llu, "
			      "\"max_value\": %.6g, \"threshold\": %.6g}",
			      (unsigned long long)s[i].count, (unsigned long long)s[i].first_ns,
			      (unsigned long long)s[i].last_ns, s[i].max_value, qa->threshold);
	}
	if (json)
		strbuf_puts(o, "\n  ]\n}\n");
	free(s);
	return 0;
}
