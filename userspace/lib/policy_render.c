// SPDX-License-Identifier: BSD-2-Clause
/*
 * A compiled policy written out three ways: the canonical form its hash
 * is taken of (every set sorted, every string quoted, so formatting,
 * comments, key order and list order change nothing), the JSON of what
 * the kernel gets (`customsctl policy compile --json`, the golden tests),
 * and the difference between two policies cell by cell.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi_names.h"
#include "country.h"
#include "policy_impl.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, unique strings joined by commas; "-" for none. */
static void put_sorted(struct strbuf *sb, const char **v, size_t n)
{
	size_t i;

	if (!n) {
		strbuf_puts(sb, "-");
		return;
	}
	psort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++) {
		if (i && !strcmp(v[i - 1], v[i]))
			continue;
		if (i)
			strbuf_puts(sb, ",");
		strbuf_json_str(sb, v[i]);
	}
}

static void put_clist(struct strbuf *sb, const struct clist *l)
{
	const char **v = calloc(l->n + 1, sizeof(*v));
	size_t i;

	if (!v) {
		sb->failed = true;
		return;
	}
	for (i = 0; i < l->n; i++)
		v[i] = l->items[i].text;
	put_sorted(sb, v, l->n);
	free(v);
}

static void put_opt(struct strbuf *sb, const char *s)
{
	if (s)
		strbuf_json_str(sb, s);
	else
		strbuf_puts(sb, "-");
}

static const char *mode_or_unset(int mode)
{
	return mode == MODE_UNSET ? "-" : mode_name(mode);
}

static size_t *sorted_index(const void *arr, size_t n, size_t size, size_t name_off)
{
	size_t *idx = calloc(n + 1, sizeof(*idx)), i, j;

	if (!idx)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *ni = *(char *const *)((const char *)arr + i * size + name_off);

		for (j = i; j > 0; j--) {
			const char *nj = *(char *const *)((const char *)arr + idx[j - 1] * size +
							  name_off);
			if (strcmp(nj, ni) <= 0)
				break;
			idx[j] = idx[j - 1];
		}
		idx[j] = i;
	}
	return idx;
}

static void canon_tiers(const struct policy *p, struct strbuf *sb)
{
	size_t *idx = sorted_index(p->tiers, p->n_tiers, sizeof(*p->tiers),
				   offsetof(struct ptier, name));
	size_t i;
	int d;

	if (!idx) {
		sb->failed = true;
		return;
	}
	for (i = 0; i < p->n_tiers; i++) {
		const struct ptier *t = &p->tiers[idx[i]];

		strbuf_puts(sb, "tier ");
		strbuf_json_str(sb, t->name);
		strbuf_printf(sb, " mode=%s\n", mode_or_unset(t->mode));
		for (d = 0; d < DIR_MAX; d++) {
			strbuf_printf(sb, " %s default=%s mode=%s allow=", direction_name(d),
				      verdict_name(t->dir[d].dflt), mode_or_unset(t->dir[d].mode));
			put_clist(sb, &t->dir[d].allow);
			strbuf_puts(sb, " deny=");
			put_clist(sb, &t->dir[d].deny);
			strbuf_puts(sb, "\n");
		}
	}
	free(idx);
}

static void canon_groups(const struct policy *p, struct strbuf *sb)
{
	size_t *idx = sorted_index(p->groups, p->n_groups, sizeof(*p->groups),
				   offsetof(struct pgroup, name));
	size_t i;

	if (!idx) {
		sb->failed = true;
		return;
	}
	for (i = 0; i < p->n_groups; i++) {
		strbuf_puts(sb, "group ");
		strbuf_json_str(sb, p->groups[idx[i]].name);
		strbuf_puts(sb, " ");
		put_clist(sb, &p->groups[idx[i]].members);
		strbuf_puts(sb, "\n");
	}
	free(idx);
}

static void canon_exception(const struct pexception *x, struct strbuf *sb)
{
	strbuf_printf(sb, "dir=%s verdict=%s mode=%s countries=",
		      x->dir < 0 ? "both" : direction_name(x->dir), verdict_name(x->verdict),
		      mode_or_unset(x->mode));
	put_clist(sb, &x->countries);
	strbuf_puts(sb, " reason=");
	strbuf_json_str(sb, x->reason);
	strbuf_puts(sb, " reference=");
	put_opt(sb, x->reference);
}

/* A model's exceptions, each rendered alone, then sorted as lines. */
static void canon_exceptions(const struct pmodel *m, struct strbuf *sb)
{
	struct strbuf *lines = calloc(m->n_exc + 1, sizeof(*lines));
	const char **v = calloc(m->n_exc + 1, sizeof(*v));
	size_t i;

	if (!lines || !v) {
		sb->failed = true;
		goto out;
	}
	for (i = 0; i < m->n_exc; i++) {
		canon_exception(&m->exc[i], &lines[i]);
		v[i] = strbuf_str(&lines[i]);
		sb->failed |= strbuf_failed(&lines[i]);
	}
	psort(v, m->n_exc, sizeof(*v), cmp_str);
	for (i = 0; i < m->n_exc; i++)
		strbuf_printf(sb, " exception %s\n", v[i]);
out:
	for (i = 0; lines && i < m->n_exc; i++)
		strbuf_free(&lines[i]);
	free(lines);
	free(v);
}

static void canon_models(const struct policy *p, struct strbuf *sb)
{
	size_t i;

	for (i = 0; i < p->n_models; i++) {
		const struct pmodel *m = &p->models[i];

		strbuf_puts(sb, "model ");
		strbuf_json_str(sb, m->name);
		strbuf_puts(sb, " tier=");
		strbuf_json_str(sb, p->tiers[m->tier].name);
		strbuf_printf(sb, " mode=%s\n", mode_or_unset(m->mode));
		canon_exceptions(m, sb);
	}
	/* Tables are sorted by content already (pattern, key). */
	for (i = 0; i < p->n_tenants; i++) {
		const struct policy_tenant *t = &p->tenants[i].pub;

		strbuf_puts(sb, "tenant ");
		strbuf_json_str(sb, t->cgroup);
		strbuf_puts(sb, " name=");
		strbuf_json_str(sb, t->name);
		strbuf_puts(sb, " model=");
		strbuf_json_str(sb, policy_model_name(p, t->who.model));
		strbuf_puts(sb, "\n");
	}
	for (i = 0; i < p->n_endpoints; i++) {
		const struct pendpoint *e = &p->endpoints[i];

		strbuf_printf(sb, "endpoint %s model=", e->pub.text);
		strbuf_json_str(sb, policy_model_name(p, e->model));
		strbuf_puts(sb, " tenant=");
		put_opt(sb, e->tenant);
		strbuf_puts(sb, "\n");
	}
}

static void canon_guarantees(const struct policy *p, struct strbuf *sb)
{
	char from[32], until[32];
	size_t i;

	for (i = 0; i < p->n_guarantees; i++) {
		const struct pguarantee *g = &p->guarantees[i];

		strbuf_puts(sb, "guarantee ");
		strbuf_json_str(sb, g->name);
		strbuf_puts(sb, " countries=");
		if (g->countries.n)
			put_clist(sb, &g->countries);
		else
			strbuf_puts(sb, "(host)");
		strbuf_puts(sb, " models=");
		put_sorted(sb, (const char **)g->model_names, g->n_models);
		strbuf_puts(sb, " tiers=");
		put_sorted(sb, (const char **)g->tier_names, g->n_tiers);
		time_str(g->from, from);
		time_str(g->until, until);
		strbuf_printf(sb, " from=%s until=%s availability_ppm=%u\n", from,
			      g->until ? until : "-", g->availability_ppm);
		if (g->revocation < 0)
			continue;
		time_str(p->revocations[g->revocation].effective, from);
		strbuf_printf(sb, " revoked effective=%s reason=", from);
		strbuf_json_str(sb, p->revocations[g->revocation].reason);
		strbuf_puts(sb, " reference=");
		strbuf_json_str(sb, p->revocations[g->revocation].reference);
		strbuf_puts(sb, "\n");
	}
}

void policy_canonical(const struct policy *p, struct strbuf *out)
{
	char cc[COUNTRY_STRLEN];

	country_str(p->node_country, cc);
	strbuf_puts(out, "customs-policy-canonical 1\nnode id=");
	put_opt(out, p->node_id);
	strbuf_printf(out, " country=%s\nmode %s\nunknown_model_tier ", cc, mode_name(p->mode));
	put_opt(out, p->unknown_tier >= 0 ? p->tiers[p->unknown_tier].name : NULL);
	strbuf_puts(out, "\n");
	canon_groups(p, out);
	canon_tiers(p, out);
	canon_models(p, out);
	canon_guarantees(p, out);
	policy_query_canonical(p, out);
}

void policy_canonical_hash(struct policy *p)
{
	struct strbuf sb;

	strbuf_init(&sb);
	policy_canonical(p, &sb);
	/*
	 * Out of memory leaves the hash zero: visibly not a real policy's
	 * hash, and loading already refused to go on in every other case.
	 */
	if (!strbuf_failed(&sb))
		sha256(sb.buf, sb.len, p->hash);
	strbuf_free(&sb);
}

static void json_codes(struct strbuf *sb, const __u8 *row, __u8 v)
{
	char cc[COUNTRY_STRLEN];
	bool first = true;
	__u16 k;

	strbuf_puts(sb, "[");
	for (k = 0; k < COUNTRY_MAX; k++) {
		if (row[k] != v)
			continue;
		country_str(k, cc);
		strbuf_printf(sb, "%s\"%s\"", first ? "" : ",", cc);
		first = false;
	}
	strbuf_puts(sb, "]");
}

/* A row as its most common verdict plus the countries that differ. */
static void json_row(struct strbuf *sb, const struct policy *p, __u32 model, int dir)
{
	const __u8 *row = p->rows[access_row_key(model, dir)].verdict;
	size_t count[VERDICT_MAX] = { 0 };
	__u8 base = 0, v;
	__u16 k;

	for (k = 0; k < COUNTRY_MAX; k++)
		count[row[k] < VERDICT_MAX ? row[k] : VERDICT_DENY]++;
	for (v = 1; v < VERDICT_MAX; v++)
		if (count[v] > count[base])
			base = v;
	strbuf_puts(sb, "{\"model\":");
	strbuf_json_str(sb, policy_model_name(p, model));
	strbuf_printf(sb, ",\"direction\":\"%s\",\"others\":\"%s\"", direction_name(dir),
		      verdict_name(base));
	for (v = 0; v < VERDICT_MAX; v++) {
		if (v == base)
			continue;
		strbuf_printf(sb, ",\"%s\":", verdict_name(v));
		json_codes(sb, row, v);
	}
	strbuf_puts(sb, "}");
}

static void json_models(const struct policy *p, struct strbuf *sb)
{
	const char *tier;
	__u32 m;
	int d;

	strbuf_puts(sb, "\"models\":[\n");
	for (m = 0; m <= p->n_models; m++) {
		tier = policy_model_tier(p, m);
		strbuf_printf(sb, "%s{\"id\":%u,\"name\":", m ? ",\n" : "", m);
		strbuf_json_str(sb, policy_model_name(p, m));
		strbuf_puts(sb, ",\"tier\":");
		if (tier)
			strbuf_json_str(sb, tier);
		else
			strbuf_puts(sb, "null");
		strbuf_puts(sb, "}");
	}
	strbuf_puts(sb, "],\n\"matrix\":[\n");
	for (m = 0; m <= p->n_models; m++)
		for (d = 0; d < DIR_MAX; d++) {
			strbuf_puts(sb, m || d ? ",\n" : "");
			json_row(sb, p, m, d);
		}
	strbuf_puts(sb, "],\n");
}

static void json_tables(const struct policy *p, struct strbuf *sb)
{
	size_t i;

	strbuf_puts(sb, "\"tenants\":[\n");
	for (i = 0; i < p->n_tenants; i++) {
		const struct policy_tenant *t = &p->tenants[i].pub;

		strbuf_printf(sb, "%s{\"tenant\":%u,\"name\":", i ? ",\n" : "", t->who.tenant);
		strbuf_json_str(sb, t->name);
		strbuf_puts(sb, ",\"cgroup\":");
		strbuf_json_str(sb, t->cgroup);
		strbuf_printf(sb, ",\"model\":%u}", t->who.model);
	}
	strbuf_puts(sb, "],\n\"endpoints\":[\n");
	for (i = 0; i < p->n_endpoints; i++) {
		const struct policy_endpoint *e = &p->endpoints[i].pub;

		strbuf_printf(sb, "%s{\"endpoint\":\"%s\",\"family\":%u,\"tenant\":%u,\"model\":%u}",
			      i ? ",\n" : "", e->text, e->key.family, e->who.tenant, e->who.model);
	}
	strbuf_puts(sb, "],\n");
}

static void json_guarantee(const struct policy *p, size_t i, struct strbuf *sb)
{
	const struct pguarantee *g = &p->guarantees[i];
	struct policy_guarantee_status st;
	char t[32], cc[COUNTRY_STRLEN];
	bool first = true;
	size_t j;
	__u16 k;

	policy_guarantee_eval(p, i, 0, &st);
	strbuf_puts(sb, "{\"name\":");
	strbuf_json_str(sb, g->name);
	strbuf_puts(sb, ",\"countries\":[");
	for (k = 0; k < COUNTRY_MAX; k++) {
		if (!cset_has(&g->countries.set, k))
			continue;
		country_str(k, cc);
		strbuf_printf(sb, "%s\"%s\"", first ? "" : ",", cc);
		first = false;
	}
	strbuf_puts(sb, "],\"models\":[");
	for (j = 0; j < g->n_ids; j++) {
		strbuf_puts(sb, j ? "," : "");
		strbuf_json_str(sb, policy_model_name(p, g->models[j]));
	}
	time_str(g->from, t);
	strbuf_printf(sb, "],\"from\":\"%s\",\"until\":", t);
	time_str(g->until, t);
	strbuf_printf(sb, g->until ? "\"%s\"" : "null", t);
	strbuf_printf(sb, ",\"availability_ppm\":%u,\"revocation\":", g->availability_ppm);
	if (!st.has_revocation) {
		strbuf_puts(sb, "null}");
		return;
	}
	time_str(st.revoked_at, t);
	strbuf_printf(sb, "{\"effective\":\"%s\",\"reason\":", t);
	strbuf_json_str(sb, st.revocation_reason);
	strbuf_puts(sb, ",\"reference\":");
	strbuf_json_str(sb, st.revocation_reference);
	strbuf_puts(sb, "}}");
}

void policy_render_json(const struct policy *p, struct strbuf *out)
{
	char hex[2 * SHA256_LEN + 1], cc[COUNTRY_STRLEN];
	size_t i;

	sha256_hex(p->hash, hex);
	country_str(p->node_country, cc);
	strbuf_printf(out, "{\"version\":1,\"hash\":\"%s\",\"node\":{\"id\":", hex);
	strbuf_json_str(out, policy_node_id(p));
	strbuf_printf(out, ",\"country\":\"%s\"},\"mode\":\"%s\",\n", cc, mode_name(p->mode));
	json_models(p, out);
	json_tables(p, out);
	strbuf_puts(out, "\"guarantees\":[\n");
	for (i = 0; i < p->n_guarantees; i++) {
		strbuf_puts(out, i ? ",\n" : "");
		json_guarantee(p, i, out);
	}
	strbuf_puts(out, "]}\n");
}

/* A model a policy does not name is judged by its unknown-model row. */
static const __u8 *row_of(const struct policy *p, const char *name, int dir)
{
	int id = name ? policy_model_find(p, name) : 0;

	return p->rows[access_row_key(id > 0 ? (__u32)id : MODEL_UNKNOWN, dir)].verdict;
}

static size_t diff_model(const struct policy *a, const struct policy *b, const char *name,
			 struct strbuf *out)
{
	char cc[COUNTRY_STRLEN];
	size_t n = 0;
	int d;
	__u16 k;

	for (d = 0; d < DIR_MAX; d++) {
		const __u8 *ra = row_of(a, name, d), *rb = row_of(b, name, d);

		for (k = 0; k < COUNTRY_MAX; k++) {
			/* Unassigned codes follow "all" and defaults only; skip the noise. */
			if (ra[k] == rb[k] || !country_name(k))
				continue;
			country_str(k, cc);
			strbuf_printf(out, "verdict %s %s %s: %s -> %s\n", name ? name : "unknown",
				      cc, direction_name(d), verdict_name(ra[k]), verdict_name(rb[k]));
			n++;
		}
	}
	return n;
}

static size_t diff_models(const struct policy *a, const struct policy *b, struct strbuf *out)
{
	size_t i = 0, j = 0, n = diff_model(a, b, NULL, out);

	while (i < a->n_models || j < b->n_models) {
		int c = i == a->n_models ? 1 : j == b->n_models ? -1 :
			strcmp(a->models[i].name, b->models[j].name);
		const char *name = c <= 0 ? a->models[i].name : b->models[j].name;

		if (c < 0)
			strbuf_printf(out, "model %s removed\n", name);
		else if (c > 0)
			strbuf_printf(out, "model %s added\n", name);
		n += (c != 0) + diff_model(a, b, name, out);
		i += c <= 0;
		j += c >= 0;
	}
	return n;
}

static int guarantee_find(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_guarantees; i++)
		if (!strcmp(p->guarantees[i].name, name))
			return (int)i;
	return -1;
}

static size_t diff_guarantees(const struct policy *a, const struct policy *b,
			      struct strbuf *out)
{
	size_t i, n = 0;
	int o;

	for (i = 0; i < a->n_guarantees; i++)
		if (guarantee_find(b, a->guarantees[i].name) < 0) {
			strbuf_printf(out, "guarantee %s lost\n", a->guarantees[i].name);
			n++;
		}
	for (i = 0; i < b->n_guarantees; i++) {
		const struct pguarantee *g = &b->guarantees[i];

		o = guarantee_find(a, g->name);
		if (o < 0) {
			strbuf_printf(out, "guarantee %s gained\n", g->name);
			n++;
		} else if (g->revocation >= 0 && a->guarantees[o].revocation < 0) {
			char when[32];

			time_str(b->revocations[g->revocation].effective, when);
			strbuf_printf(out, "guarantee %s revoked effective %s (%s)\n", g->name, when,
				      b->revocations[g->revocation].reference);
			n++;
		} else if (g->revocation < 0 && a->guarantees[o].revocation >= 0) {
			strbuf_printf(out, "guarantee %s revocation withdrawn\n", g->name);
			n++;
		}
	}
	return n;
}

size_t policy_diff(const struct policy *old, const struct policy *new, struct strbuf *out)
{
	return diff_models(old, new, out) + diff_guarantees(old, new, out);
}
