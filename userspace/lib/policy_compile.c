// SPDX-License-Identifier: BSD-2-Clause
/*
 * Parsed policy to kernel state: model and tenant ids in name order, the
 * endpoint table (sorted, each key claimed once), the access matrix, and
 * the checks that need the whole policy: duplicates, conflicting
 * exceptions, guarantees a rule would break, revocations of nothing, and
 * warnings for rules that never apply. Sorting everything by name is what
 * makes the output independent of the order the file lists things in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi_names.h"
#include "country.h"
#include "policy_impl.h"

static int cmp_model(const void *a, const void *b)
{
	const struct pmodel *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->doc_idx > y->doc_idx) - (x->doc_idx < y->doc_idx);
}

static int loc_cmp(struct ploc a, struct ploc b)
{
	if (a.line != b.line)
		return a.line < b.line ? -1 : 1;
	return (a.col > b.col) - (a.col < b.col);
}

/* Sorts models by name, gives ids, and repoints tenants and endpoints. */
static int number_models(struct pctx *c)
{
	struct policy *p = c->p;
	__u32 *id_of_doc;
	size_t i;

	psort(p->models, p->n_models, sizeof(*p->models), cmp_model);
	for (i = 1; i < p->n_models; i++)
		if (!strcmp(p->models[i - 1].name, p->models[i].name))
			return perr(c, p->models[i].loc, "duplicate model name \"%s\" (first at line %d)",
				    p->models[i].name, p->models[i - 1].loc.line);
	id_of_doc = calloc(p->n_models + 1, sizeof(*id_of_doc));
	if (!id_of_doc)
		return -ENOMEM;
	for (i = 0; i < p->n_models; i++) {
		p->models[i].id = (__u32)(i + 1);
		id_of_doc[p->models[i].doc_idx] = (__u32)(i + 1);
		p->tiers[p->models[i].tier].used = true;
	}
	for (i = 0; i < p->n_tenants; i++)
		p->tenants[i].pub.who.model = id_of_doc[p->tenants[i].pub.who.model];
	for (i = 0; i < p->n_endpoints; i++)
		p->endpoints[i].model = id_of_doc[p->endpoints[i].model];
	free(id_of_doc);
	return 0;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_tenant(const void *a, const void *b)
{
	const struct ptenant *x = a, *y = b;
	int c = strcmp(x->pub.cgroup, y->pub.cgroup);

	return c ? c : loc_cmp(x->loc, y->loc);
}

static int tenant_id(const struct policy *p, const char *name)
{
	char **hit = bsearch(&name, p->tenant_names, p->n_tenant_names,
			     sizeof(*p->tenant_names), cmp_str_ptr);

	return hit ? (int)(hit - p->tenant_names) + 1 : -ENOENT;
}

/* Tenant ids 1..n in name order; each cgroup pattern claimed once. */
static int number_tenants(struct pctx *c)
{
	struct policy *p = c->p;
	size_t i, n = 0;

	psort(p->tenants, p->n_tenants, sizeof(*p->tenants), cmp_tenant);
	for (i = 1; i < p->n_tenants; i++)
		if (!strcmp(p->tenants[i - 1].pub.cgroup, p->tenants[i].pub.cgroup))
			return perr(c, p->tenants[i].loc,
				    "tenant cgroup \"%s\" is claimed twice (first at line %d)",
				    p->tenants[i].pub.cgroup, p->tenants[i - 1].loc.line);
	p->tenant_names = calloc(p->n_tenants + 1, sizeof(*p->tenant_names));
	if (!p->tenant_names)
		return -ENOMEM;
	for (i = 0; i < p->n_tenants; i++)
		p->tenant_names[i] = (char *)p->tenants[i].pub.name;
	psort(p->tenant_names, p->n_tenants, sizeof(char *), cmp_str_ptr);
	for (i = 0; i < p->n_tenants; i++)
		if (!n || strcmp(p->tenant_names[n - 1], p->tenant_names[i]))
			p->tenant_names[n++] = p->tenant_names[i];
	p->n_tenant_names = n;
	for (i = 0; i < p->n_tenants; i++)
		p->tenants[i].pub.who.tenant = (__u32)tenant_id(p, p->tenants[i].pub.name);
	return 0;
}

/* Each model's tenants: idx[first[m] .. first[m + 1]), by counting sort. */
struct tenants_by_model {
	size_t *first, *idx;
};

static int index_tenants(const struct policy *p, struct tenants_by_model *t)
{
	size_t i, *fill;

	t->first = calloc(p->n_models + 2, sizeof(*t->first));
	t->idx = calloc(p->n_tenants + 1, sizeof(*t->idx));
	fill = calloc(p->n_models + 2, sizeof(*fill));
	if (!t->first || !t->idx || !fill) {
		free(fill);
		return -ENOMEM;
	}
	for (i = 0; i < p->n_tenants; i++)
		t->first[p->tenants[i].pub.who.model + 1]++;
	for (i = 1; i <= p->n_models + 1; i++)
		t->first[i] += t->first[i - 1];
	memcpy(fill, t->first, (p->n_models + 2) * sizeof(*fill));
	for (i = 0; i < p->n_tenants; i++)
		t->idx[fill[p->tenants[i].pub.who.model]++] = i;
	free(fill);
	return 0;
}

/* The tenant an endpoint serves: the one named, or a model's only one. */
static int endpoint_tenant(struct pctx *c, const struct tenants_by_model *tm,
			   struct pendpoint *e)
{
	const struct policy *p = c->p;
	__u32 only = TENANT_UNKNOWN;
	bool many = false;
	size_t i;

	for (i = tm->first[e->model]; i < tm->first[e->model + 1]; i++) {
		const struct policy_tenant *t = &p->tenants[tm->idx[i]].pub;

		if (e->tenant && !strcmp(e->tenant, t->name)) {
			e->pub.who.tenant = t->who.tenant;
			return 0;
		}
		if (only && only != t->who.tenant)
			many = true;
		only = t->who.tenant;
	}
	if (e->tenant)
		return perr(c, e->loc, "endpoint %s names tenant \"%s\", which is not a tenant of model \"%s\"",
			    e->pub.text, e->tenant, p->models[e->model - 1].name);
	e->pub.who.tenant = many ? TENANT_UNKNOWN : only;
	return 0;
}

static int cmp_endpoint(const void *a, const void *b)
{
	const struct pendpoint *x = a, *y = b;
	int c = memcmp(&x->pub.key, &y->pub.key, sizeof(x->pub.key));

	return c ? c : loc_cmp(x->loc, y->loc);
}

static int build_endpoints(struct pctx *c)
{
	struct tenants_by_model tm = { 0 };
	struct policy *p = c->p;
	size_t i;
	int rc;

	rc = index_tenants(p, &tm);
	for (i = 0; !rc && i < p->n_endpoints; i++) {
		p->endpoints[i].pub.who.model = p->endpoints[i].model;
		rc = endpoint_tenant(c, &tm, &p->endpoints[i]);
	}
	free(tm.first);
	free(tm.idx);
	if (rc)
		return rc;
	psort(p->endpoints, p->n_endpoints, sizeof(*p->endpoints), cmp_endpoint);
	for (i = 1; i < p->n_endpoints; i++) {
		const struct pendpoint *a = &p->endpoints[i - 1], *b = &p->endpoints[i];

		if (memcmp(&a->pub.key, &b->pub.key, sizeof(a->pub.key)))
			continue;
		if (a->model == b->model)
			return perr(c, b->loc, "model \"%s\" lists endpoint %s twice (first at line %d)",
				    p->models[b->model - 1].name, b->pub.text, a->loc.line);
		return perr(c, b->loc, "models \"%s\" and \"%s\" both claim endpoint %s (first at line %d)",
			    p->models[a->model - 1].name, p->models[b->model - 1].name,
			    b->pub.text, a->loc.line);
	}
	return 0;
}

static int cmp_guarantee(const void *a, const void *b)
{
	const struct pguarantee *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : loc_cmp(x->loc, y->loc);
}

static int model_ref(struct pctx *c, const char *name, struct ploc loc)
{
	const char **names;
	const char *near;
	int id = policy_model_find(c->p, name);
	size_t i;

	if (id > 0)
		return id;
	names = calloc(c->p->n_models + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (i = 0; i < c->p->n_models; i++)
		names[i] = c->p->models[i].name;
	near = nearest_name(name, names);
	free(names);
	if (near)
		return perr(c, loc, "undefined model \"%s\" (did you mean \"%s\"?)", name, near);
	return perr(c, loc, "undefined model \"%s\"", name);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

/* The ids a guarantee covers: its models and every model of its tiers. */
static int guarantee_models(struct pctx *c, struct pguarantee *g)
{
	struct policy *p = c->p;
	size_t i, j, n = 0;
	int id;

	g->models = calloc(g->n_models + p->n_models + 1, sizeof(*g->models));
	if (!g->models)
		return -ENOMEM;
	for (i = 0; i < g->n_models; i++) {
		id = model_ref(c, g->model_names[i], g->model_locs[i]);
		if (id < 0)
			return id;
		g->models[n++] = (__u32)id;
	}
	for (i = 0; i < g->n_tiers; i++) {
		for (j = 0; j < p->n_tiers && strcmp(p->tiers[j].name, g->tier_names[i]); j++)
			;
		if (j == p->n_tiers)
			return perr(c, g->tier_locs[i], "undefined tier \"%s\"", g->tier_names[i]);
		for (id = 0; id < (int)p->n_models; id++)
			if (p->models[id].tier == (int)j && n < g->n_models + p->n_models)
				g->models[n++] = (__u32)id + 1;
	}
	psort(g->models, n, sizeof(*g->models), cmp_u32);
	for (i = 0, g->n_ids = 0; i < n; i++)
		if (!g->n_ids || g->models[g->n_ids - 1] != g->models[i])
			g->models[g->n_ids++] = g->models[i];
	return 0;
}

static int link_revocation(struct pctx *c, size_t ri)
{
	struct policy *p = c->p;
	struct prevocation *r = &p->revocations[ri];
	const char **names;
	const char *near;
	size_t i;

	for (i = 0; i < p->n_guarantees; i++) {
		struct pguarantee *g = &p->guarantees[i];

		if (strcmp(g->name, r->guarantee))
			continue;
		if (g->revocation >= 0)
			return perr(c, r->loc, "guarantee \"%s\" is revoked twice (first at line %d)",
				    g->name, p->revocations[g->revocation].loc.line);
		g->revocation = (int)ri;
		r->target = (int)i;
		return 0;
	}
	names = calloc(p->n_guarantees + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (i = 0; i < p->n_guarantees; i++)
		names[i] = p->guarantees[i].name;
	near = nearest_name(r->guarantee, names);
	free(names);
	if (near)
		return perr(c, r->loc, "revocation of unknown guarantee \"%s\" (did you mean \"%s\"?)",
			    r->guarantee, near);
	return perr(c, r->loc, "revocation of unknown guarantee \"%s\"", r->guarantee);
}

static int link_guarantees(struct pctx *c)
{
	struct policy *p = c->p;
	size_t i;
	int rc;

	psort(p->guarantees, p->n_guarantees, sizeof(*p->guarantees), cmp_guarantee);
	for (i = 1; i < p->n_guarantees; i++)
		if (!strcmp(p->guarantees[i - 1].name, p->guarantees[i].name))
			return perr(c, p->guarantees[i].loc,
				    "duplicate guarantee name \"%s\" (first at line %d)",
				    p->guarantees[i].name, p->guarantees[i - 1].loc.line);
	for (i = 0; i < p->n_guarantees; i++) {
		rc = guarantee_models(c, &p->guarantees[i]);
		if (rc)
			return rc;
	}
	for (i = 0; i < p->n_revocations; i++) {
		rc = link_revocation(c, i);
		if (rc)
			return rc;
	}
	return 0;
}

static void tier_row(const struct pdir_rule *r, __u8 out[ACCESS_ROW_LEN])
{
	__u16 i;

	memset(out, r->dflt, ACCESS_ROW_LEN);
	for (i = 0; i < COUNTRY_MAX; i++) {
		if (cset_has(&r->deny.set, i))
			out[i] = VERDICT_DENY;
		else if (cset_has(&r->allow.set, i))
			out[i] = VERDICT_ALLOW;
	}
}

static void apply_mode(__u8 *row, int mode)
{
	size_t i;

	if (mode != MODE_AUDIT)
		return;
	for (i = 0; i < ACCESS_ROW_LEN; i++)
		if (row[i] == VERDICT_DENY)
			row[i] = VERDICT_AUDIT;
}

static void model_row(const struct policy *p, const struct pmodel *m, int dir,
		      const __u8 *base, __u8 *row)
{
	const struct ptier *t = &p->tiers[m->tier];
	int modes[4] = { m->mode, t->dir[dir].mode, t->mode, MODE_UNSET };
	size_t i;
	__u16 cc;

	memcpy(row, base, ACCESS_ROW_LEN);
	apply_mode(row, mode_pick(modes, 3, p->mode));
	for (i = 0; i < m->n_exc; i++) {
		const struct pexception *x = &m->exc[i];
		__u8 v;

		if (x->dir >= 0 && x->dir != dir)
			continue;
		modes[0] = x->mode;
		modes[1] = m->mode;
		modes[2] = t->dir[dir].mode;
		modes[3] = t->mode;
		v = x->verdict;
		if (v == VERDICT_DENY && mode_pick(modes, 4, p->mode) == MODE_AUDIT)
			v = VERDICT_AUDIT;
		for (cc = 0; cc < COUNTRY_MAX; cc++)
			if (cset_has(&x->countries.set, cc))
				row[cc] = v;
	}
}

static int build_matrix(struct policy *p)
{
	__u8 (*base)[DIR_MAX][ACCESS_ROW_LEN];
	size_t i;
	int d;

	p->rows = calloc((p->n_models + 1) * DIR_MAX, sizeof(*p->rows));
	base = calloc(p->n_tiers + 1, sizeof(*base));
	if (!p->rows || !base) {
		free(base);
		return -ENOMEM;
	}
	for (i = 0; i < p->n_tiers; i++)
		for (d = 0; d < DIR_MAX; d++)
			tier_row(&p->tiers[i].dir[d], base[i][d]);
	for (d = 0; d < DIR_MAX && p->unknown_tier >= 0; d++) {
		const struct ptier *t = &p->tiers[p->unknown_tier];
		int modes[2] = { t->dir[d].mode, t->mode };

		memcpy(p->rows[d].verdict, base[p->unknown_tier][d], ACCESS_ROW_LEN);
		apply_mode(p->rows[d].verdict, mode_pick(modes, 2, p->mode));
	}
	for (i = 0; i < p->n_models; i++)
		for (d = 0; d < DIR_MAX; d++)
			model_row(p, &p->models[i], d, base[p->models[i].tier][d],
				  p->rows[access_row_key(p->models[i].id, d)].verdict);
	free(base);
	return 0;
}

static bool cset_meets(const struct cset *a, const struct cset *b)
{
	int i;

	for (i = 0; i < CSET_WORDS; i++)
		if (a->w[i] & b->w[i])
			return true;
	return false;
}

/* Two exceptions of one model giving one country opposite verdicts. */
static int check_exceptions(struct pctx *c, const struct pmodel *m)
{
	size_t i, j;

	for (i = 0; i < m->n_exc; i++) {
		for (j = 0; j < i; j++) {
			const struct pexception *a = &m->exc[j], *b = &m->exc[i];

			if (a->verdict == b->verdict ||
			    (a->dir >= 0 && b->dir >= 0 && a->dir != b->dir))
				continue;
			if (cset_meets(&a->countries.set, &b->countries.set))
				return perr(c, b->loc, "exceptions of model \"%s\" give one country both allow and deny (this one and line %d)",
					    m->name, a->loc.line);
		}
	}
	return 0;
}

/*
 * A guarantee of access binds both directions: the country's requests
 * must reach the model (ingress) and the model's answers must reach the
 * country (egress, from the tenants that serve it).
 */
static int check_guarantee(struct pctx *c, const struct pguarantee *g)
{
	const struct policy *p = c->p;
	struct policy_explanation ex;
	char cc[COUNTRY_STRLEN];
	const struct policy_explain_step *s;
	const char *model;
	size_t i;
	__u16 k;
	int d;

	for (i = 0; i < g->n_ids; i++)
		for (d = DIR_INGRESS; d < DIR_MAX; d++) {
			const __u8 *row = p->rows[access_row_key(g->models[i], d)].verdict;

			for (k = 0; k < COUNTRY_MAX; k++) {
				if (!cset_has(&g->countries.set, k) || row[k] != VERDICT_DENY)
					continue;
				policy_explain(p, g->models[i], d, k, &ex);
				s = &ex.steps[ex.decisive];
				country_str(k, cc);
				model = p->models[g->models[i] - 1].name;
				if (d == DIR_INGRESS)
					perr(c, (struct ploc){ s->line, s->col },
					     "this rule breaks guarantee \"%s\": %s, so %s cannot reach model \"%s\"",
					     g->name, s->text, cc, model);
				else
					perr(c, (struct ploc){ s->line, s->col },
					     "this rule breaks guarantee \"%s\": %s, so model \"%s\" cannot answer %s",
					     g->name, s->text, model, cc);
				pnote(c, g->loc, "guarantee \"%s\" is declared here; only a revocation can override it",
				      g->name);
				return -EINVAL;
			}
		}
	return 0;
}

static int check_guarantees(struct pctx *c)
{
	const struct policy *p = c->p;
	size_t i;
	int rc;

	for (i = 0; i < p->n_guarantees; i++) {
		const struct pguarantee *g = &p->guarantees[i];

		if (g->revocation >= 0 || (p->now && g->until && g->until <= p->now))
			continue;
		rc = check_guarantee(c, g);
		if (rc)
			return rc;
	}
	return 0;
}

static bool cset_subset(const struct cset *a, const struct cset *b)
{
	int i;

	for (i = 0; i < CSET_WORDS; i++)
		if (a->w[i] & ~b->w[i])
			return false;
	return true;
}

static void warn_dir_rule(struct pctx *c, const struct ptier *t, int d)
{
	const struct pdir_rule *r = &t->dir[d];
	size_t i;

	for (i = 0; i < r->allow.n; i++) {
		const struct centry *e = &r->allow.items[i];

		if (r->dflt == VERDICT_ALLOW)
			pwarn(c, e->loc, "tier \"%s\" %s allow \"%s\" never applies: the default is allow",
			      t->name, direction_name(d), e->text);
		else if (cset_subset(&e->set, &r->deny.set))
			pwarn(c, e->loc, "tier \"%s\" %s allow \"%s\" never applies: the deny list covers it",
			      t->name, direction_name(d), e->text);
	}
	for (i = 0; i < r->deny.n; i++) {
		const struct centry *e = &r->deny.items[i];

		/* Under a deny default, a deny only matters where allow would win. */
		if (r->dflt == VERDICT_DENY && !cset_meets(&e->set, &r->allow.set))
			pwarn(c, e->loc, "tier \"%s\" %s deny \"%s\" never applies: the default is deny and the allow list does not include it",
			      t->name, direction_name(d), e->text);
	}
}

static void warn_exceptions(struct pctx *c, const struct pmodel *m)
{
	const struct ptier *t = &c->p->tiers[m->tier];
	__u8 base[ACCESS_ROW_LEN];
	size_t i;
	int d;
	__u16 k;

	for (i = 0; i < m->n_exc; i++) {
		const struct pexception *x = &m->exc[i];
		bool applies = false;

		for (d = 0; d < DIR_MAX && !applies; d++) {
			if (x->dir >= 0 && x->dir != d)
				continue;
			tier_row(&t->dir[d], base);
			for (k = 0; k < COUNTRY_MAX && !applies; k++)
				applies = cset_has(&x->countries.set, k) && base[k] != x->verdict;
		}
		if (!applies)
			pwarn(c, x->loc, "exception of model \"%s\" never applies: tier \"%s\" already gives %s for every country it lists",
			      m->name, t->name, verdict_name(x->verdict));
	}
}

static void warn_unused(struct pctx *c)
{
	const struct policy *p = c->p;
	char when[32];
	size_t i;

	for (i = 0; i < p->n_groups; i++)
		if (!p->groups[i].used)
			pwarn(c, p->groups[i].loc, "country group \"%s\" is never used",
			      p->groups[i].name);
	for (i = 0; i < p->n_tiers; i++) {
		if (!p->tiers[i].used) {
			pwarn(c, p->tiers[i].loc, "tier \"%s\" is used by no model; its rules never apply",
			      p->tiers[i].name);
			continue;
		}
		warn_dir_rule(c, &p->tiers[i], DIR_INGRESS);
		warn_dir_rule(c, &p->tiers[i], DIR_EGRESS);
	}
	for (i = 0; i < p->n_models; i++)
		warn_exceptions(c, &p->models[i]);
	for (i = 0; i < p->n_guarantees; i++) {
		const struct pguarantee *g = &p->guarantees[i];

		if (!g->n_ids)
			pwarn(c, g->loc, "guarantee \"%s\" covers no model; it never applies", g->name);
		if (p->now && g->until && g->until <= p->now) {
			time_str(g->until, when);
			pwarn(c, g->loc, "guarantee \"%s\" expired at %s; it no longer binds", g->name,
			      when);
		}
	}
	for (i = 0; i < p->n_revocations; i++) {
		const struct prevocation *r = &p->revocations[i];

		if (!p->now || r->effective <= p->now)
			continue;
		time_str(r->effective, when);
		pwarn(c, r->loc, "revocation of guarantee \"%s\" takes effect at %s; applying this policy earlier ends the guarantee early",
		      r->guarantee, when);
	}
}

int policy_compile(struct pctx *c)
{
	struct policy *p = c->p;
	size_t i;
	int rc;

	rc = number_models(c) ?: number_tenants(c) ?: build_endpoints(c) ?:
	     link_guarantees(c);
	for (i = 0; !rc && i < p->n_models; i++)
		rc = check_exceptions(c, &p->models[i]);
	if (rc)
		return rc;
	rc = build_matrix(p) ?: check_guarantees(c);
	if (rc)
		return rc;
	warn_unused(c);
	return 0;
}
