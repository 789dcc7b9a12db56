// SPDX-License-Identifier: BSD-2-Clause
/* Counter output: JSON, text, Prometheus; see render.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "abi_names.h"
#include "country.h"

static const char *name_of(char **names, __u32 n, __u32 id, char *buf, size_t len)
{
	if (id < n && names[id])
		return names[id];
	snprintf(buf, len, "%u", id);
	return buf;
}

const char *name_of_tenant(const struct name_table *t, __u32 id, char *buf, size_t len)
{
	if (id == METER_OVERFLOW_TENANT)
		return "_overflow";
	if (id == TENANT_UNKNOWN)
		return "unknown";
	return name_of(t->tenant, t->n_tenant, id, buf, len);
}

const char *name_of_model(const struct name_table *t, __u32 id, char *buf, size_t len)
{
	if (id == MODEL_UNKNOWN)
		return "unknown";
	return name_of(t->model, t->n_model, id, buf, len);
}

/* Records in a stable order: by tenant, model, country, direction, layer, verdict. */
static int cmp_key(const void *a, const void *b)
{
	const struct meter_key *x = &((const struct meter_record *)a)->key;
	const struct meter_key *y = &((const struct meter_record *)b)->key;

	if (x->tenant != y->tenant)
		return x->tenant < y->tenant ? -1 : 1;
	if (x->model != y->model)
		return x->model < y->model ? -1 : 1;
	if (x->country != y->country)
		return x->country < y->country ? -1 : 1;
	if (x->direction != y->direction)
		return x->direction - y->direction;
	if (x->layer != y->layer)
		return x->layer - y->layer;
	return x->verdict - y->verdict;
}

struct sorted {
	struct meter_record *r;
	size_t n;
};

static int collect(void *ctx, const struct meter_record *r)
{
	struct sorted *s = ctx;

	s->r[s->n++] = *r;
	return 0;
}

static int sorted_records(const struct totals *tot, struct sorted *s)
{
	s->n = 0;
	s->r = malloc((tot->count ? tot->count : 1) * sizeof(*s->r));
	if (!s->r)
		return -1;
	totals_foreach(tot, collect, s);
	qsort(s->r, s->n, sizeof(*s->r), cmp_key);
	return 0;
}

struct labels {
	char tenant_buf[16], model_buf[16];
	const char *tenant, *model;
	char country[COUNTRY_STRLEN];
	const char *direction, *layer, *verdict;
};

static void labels_of(const struct name_table *names, const struct meter_key *k,
		      struct labels *l)
{
	l->tenant = name_of_tenant(names, k->tenant, l->tenant_buf, sizeof(l->tenant_buf));
	l->model = name_of_model(names, k->model, l->model_buf, sizeof(l->model_buf));
	country_str(k->country, l->country);
	l->direction = direction_name(k->direction);
	l->layer = layer_name(k->layer);
	l->verdict = verdict_name(k->verdict);
}

void render_stats_json(const struct totals *tot, const struct name_table *names,
		       struct strbuf *out)
{
	struct sorted s;
	struct labels l;
	size_t i;

	if (sorted_records(tot, &s)) {
		out->failed = true;
		return;
	}
	strbuf_puts(out, "[");
	for (i = 0; i < s.n; i++) {
		labels_of(names, &s.r[i].key, &l);
		strbuf_puts(out, i ? ",\n {\"tenant\": " : "\n {\"tenant\": ");
		strbuf_json_str(out, l.tenant);
		strbuf_puts(out, ", \"model\": ");
		strbuf_json_str(out, l.model);
		strbuf_printf(out, ", \"country\": \"%s\", \"direction\": \"%s\", "
			      "\"layer\": \"%s\", \"verdict\": \"%s\", "
			      "\"packets\": %llu, \"bytes\": %llu}",
			      l.country, l.direction, l.layer, l.verdict,
			      (unsigned long long)s.r[i].value.packets,
			      (unsigned long long)s.r[i].value.bytes);
	}
	strbuf_puts(out, s.n ? "\n]\n" : "]\n");
	free(s.r);
}

void render_stats_text(const struct totals *tot, const struct name_table *names,
		       struct strbuf *out)
{
	struct sorted s;
	struct labels l;
	size_t i;

	if (sorted_records(tot, &s)) {
		out->failed = true;
		return;
	}
	strbuf_printf(out, "%-16s %-16s %-2s %-7s %-4s %-7s %12s %16s\n", "TENANT", "MODEL",
		      "CC", "DIR", "HOOK", "VERDICT", "PACKETS", "BYTES");
	for (i = 0; i < s.n; i++) {
		labels_of(names, &s.r[i].key, &l);
		strbuf_printf(out, "%-16s %-16s %-2s %-7s %-4s %-7s %12llu %16llu\n",
			      l.tenant, l.model, l.country, l.direction, l.layer, l.verdict,
			      (unsigned long long)s.r[i].value.packets,
			      (unsigned long long)s.r[i].value.bytes);
	}
	free(s.r);
}

/* Prometheus label values: escape backslash, quote and newline. */
static void prom_label(struct strbuf *out, const char *name, const char *v, bool comma)
{
	strbuf_printf(out, "%s%s=\"", comma ? "," : "", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			strbuf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			strbuf_puts(out, "\\n");
		else
			strbuf_add(out, v, 1);
	}
	strbuf_puts(out, "\"");
}

static void prom_series(struct strbuf *out, const char *metric, const struct labels *l,
			unsigned long long v)
{
	strbuf_printf(out, "%s{", metric);
	prom_label(out, "tenant", l->tenant, false);
	prom_label(out, "model", l->model, true);
	prom_label(out, "country", l->country, true);
	prom_label(out, "direction", l->direction, true);
	prom_label(out, "layer", l->layer, true);
	prom_label(out, "verdict", l->verdict, true);
	strbuf_printf(out, "} %llu\n", v);
}

__u64 render_prometheus_traffic(const struct totals *tot, const struct name_table *names,
				__u32 max_series, struct strbuf *out)
{
	struct meter_value folded = { 0, 0 };
	struct labels l = { .tenant = "_folded", .model = "_folded", .country = "ZZ",
			    .direction = "_folded", .layer = "_folded",
			    .verdict = "_folded" };
	struct sorted s;
	__u64 n_folded = 0;
	size_t i, shown;

	if (sorted_records(tot, &s)) {
		out->failed = true;
		return 0;
	}
	shown = s.n < max_series ? s.n : max_series;
	for (i = shown; i < s.n; i++) {
		folded.packets += s.r[i].value.packets;
		folded.bytes += s.r[i].value.bytes;
		n_folded++;
	}
	strbuf_puts(out, "# HELP customs_packets_total Packets judged by customs, by tenant, model, country, direction, hook and verdict.\n"
			 "# TYPE customs_packets_total counter\n");
	for (i = 0; i < shown; i++) {
		struct labels li;

		labels_of(names, &s.r[i].key, &li);
		prom_series(out, "customs_packets_total", &li, s.r[i].value.packets);
	}
	if (n_folded)
		prom_series(out, "customs_packets_total", &l, folded.packets);
	strbuf_puts(out, "# HELP customs_bytes_total L3 bytes judged by customs (IP header and payload).\n"
			 "# TYPE customs_bytes_total counter\n");
	for (i = 0; i < shown; i++) {
		struct labels li;

		labels_of(names, &s.r[i].key, &li);
		prom_series(out, "customs_bytes_total", &li, s.r[i].value.bytes);
	}
	if (n_folded)
		prom_series(out, "customs_bytes_total", &l, folded.bytes);
	free(s.r);
	return n_folded;
}
