// SPDX-License-Identifier: BSD-2-Clause
/*
 * Why one cell of the matrix holds its verdict: the tier's default, the
 * list entry that matched, the model's exception, the mode, and the
 * guarantees that speak for the cell, each with the place it is written.
 * It walks the same rules in the same order as the matrix build
 * (policy_compile.c), one cell at a time; a test holds the two equal on
 * every cell of the shipped examples. The compiler also uses it to name
 * the rule that breaks a guarantee.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "abi_names.h"
#include "country.h"
#include "policy_impl.h"

static void step(struct policy_explanation *ex, struct ploc loc, enum verdict v,
		 bool decisive, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void step(struct policy_explanation *ex, struct ploc loc, enum verdict v,
		 bool decisive, const char *fmt, ...)
{
	struct policy_explain_step *s;
	va_list ap;

	ex->verdict = v;
	if (ex->n_steps == POLICY_EXPLAIN_STEPS)
		return;
	s = &ex->steps[ex->n_steps];
	va_start(ap, fmt);
	vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
	s->line = loc.line;
	s->col = loc.col;
	s->verdict = v;
	if (decisive)
		ex->decisive = ex->n_steps;
	ex->n_steps++;
}

static void explain_tier(const struct ptier *t, int dir, __u16 k, const char *cc,
			 struct policy_explanation *ex)
{
	const struct pdir_rule *r = &t->dir[dir];
	const char *dn = direction_name(dir);
	size_t i;

	step(ex, r->dflt_loc, r->dflt, true, "tier \"%s\" %s default: %s%s", t->name, dn,
	     verdict_name(r->dflt), r->dflt_set ? "" : " (not written: deny)");
	for (i = 0; i < r->allow.n; i++) {
		if (!cset_has(&r->allow.items[i].set, k))
			continue;
		step(ex, r->allow.items[i].loc, VERDICT_ALLOW, true,
		     "tier \"%s\" %s allow \"%s\" includes %s", t->name, dn,
		     r->allow.items[i].text, cc);
		break;
	}
	for (i = 0; i < r->deny.n; i++) {
		if (!cset_has(&r->deny.items[i].set, k))
			continue;
		step(ex, r->deny.items[i].loc, VERDICT_DENY, true,
		     "tier \"%s\" %s deny \"%s\" includes %s (deny wins over allow)", t->name,
		     dn, r->deny.items[i].text, cc);
		break;
	}
}

/* The exception deciding the cell, or NULL (exceptions never conflict). */
static const struct pexception *exception_for(const struct pmodel *m, int dir, __u16 k)
{
	const struct pexception *hit = NULL;
	size_t i;

	for (i = 0; i < m->n_exc; i++)
		if ((m->exc[i].dir < 0 || m->exc[i].dir == dir) &&
		    cset_has(&m->exc[i].countries.set, k))
			hit = &m->exc[i];
	return hit;
}

struct mode_src {
	int mode;
	struct ploc loc;
	const char *what;
};

static void explain_mode(const struct policy *p, const struct mode_src *src, size_t n,
			 struct policy_explanation *ex)
{
	size_t i;

	if (ex->verdict != VERDICT_DENY)
		return;
	for (i = 0; i < n; i++) {
		if (src[i].mode == MODE_UNSET)
			continue;
		if (src[i].mode == MODE_AUDIT)
			step(ex, src[i].loc, VERDICT_AUDIT, false,
			     "mode audit (%s): the deny is counted as audit and the traffic passes",
			     src[i].what);
		else
			step(ex, src[i].loc, VERDICT_DENY, false, "mode enforce (%s)", src[i].what);
		return;
	}
	step(ex, p->mode_loc, p->mode == MODE_AUDIT ? VERDICT_AUDIT : VERDICT_DENY, false,
	     "mode %s (policy default%s)", mode_name(p->mode),
	     p->mode_loc.line ? "" : ", unset: enforce");
}

static void explain_guarantees(const struct policy *p, __u32 model, __u16 k,
			       const char *cc, struct policy_explanation *ex)
{
	enum verdict v = ex->verdict;
	size_t i;

	for (i = 0; i < p->n_guarantees; i++) {
		const struct pguarantee *g = &p->guarantees[i];

		if (!policy_guarantee_covers(p, i, model, k))
			continue;
		if (g->revocation >= 0)
			step(ex, p->revocations[g->revocation].loc, v, false,
			     "guarantee \"%s\" promised %s this model; revoked (%s)", g->name, cc,
			     p->revocations[g->revocation].reference);
		else
			step(ex, g->loc, v, false, "guarantee \"%s\" promises %s this model",
			     g->name, cc);
	}
}

static void explain_model(const struct policy *p, const struct pmodel *m, int dir,
			  __u16 k, const char *cc, struct policy_explanation *ex)
{
	const struct ptier *t = &p->tiers[m->tier];
	const struct pexception *x = exception_for(m, dir, k);
	struct mode_src src[4] = {
		{ m->mode, m->mode_loc, "set on the model" },
		{ t->dir[dir].mode, t->dir[dir].mode_loc, "set on the tier's direction" },
		{ t->mode, t->mode_loc, "set on the tier" },
	};
	size_t n = 3;

	explain_tier(t, dir, k, cc, ex);
	if (x) {
		step(ex, x->loc, x->verdict, true, "model \"%s\" exception: %s %s (%s%s%s)",
		     m->name, verdict_name(x->verdict), cc, x->reason,
		     x->reference ? "; " : "", x->reference ? x->reference : "");
		memmove(&src[1], &src[0], 3 * sizeof(src[0]));
		src[0] = (struct mode_src){ x->mode, x->mode_loc, "set on the exception" };
		n = 4;
	}
	explain_mode(p, src, n, ex);
}

int policy_explain(const struct policy *p, __u32 model, enum direction dir, __u16 country,
		   struct policy_explanation *out)
{
	char cc[COUNTRY_STRLEN];

	memset(out, 0, sizeof(*out));
	if (model > p->n_models || (unsigned)dir >= DIR_MAX || country >= COUNTRY_MAX)
		return -EINVAL;
	country_str(country, cc);
	if (model == MODEL_UNKNOWN && p->unknown_tier < 0) {
		step(out, (struct ploc){ 0, 0 }, VERDICT_ALLOW, true,
		     "traffic of no known model: no unknown_model_tier, every country allowed");
		return 0;
	}
	if (model == MODEL_UNKNOWN) {
		const struct ptier *t = &p->tiers[p->unknown_tier];
		struct mode_src src[2] = {
			{ t->dir[dir].mode, t->dir[dir].mode_loc, "set on the tier's direction" },
			{ t->mode, t->mode_loc, "set on the tier" },
		};

		explain_tier(t, dir, country, cc, out);
		explain_mode(p, src, 2, out);
		return 0;
	}
	explain_model(p, &p->models[model - 1], dir, country, cc, out);
	if (dir == DIR_INGRESS)
		explain_guarantees(p, model, country, cc, out);
	return 0;
}
