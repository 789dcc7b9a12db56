// SPDX-License-Identifier: BSD-2-Clause
/*
 * The policy compiler's front door (policy.h): load = parse, compile,
 * hash, with one error message or a compiled policy and never half of
 * one; the accessors the agent, the CLI and telemetry read the result
 * through; guarantee states at a given time; and the diagnostics every
 * stage of the compiler writes with.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy_impl.h"

void policy_diag_init(struct policy_diag *diag)
{
	memset(diag, 0, sizeof(*diag));
	strbuf_init(&diag->warnings);
}

void policy_diag_free(struct policy_diag *diag)
{
	strbuf_free(&diag->warnings);
}

static void vdiag(char *buf, size_t len, const char *file, struct ploc at,
		  const char *kind, const char *fmt, va_list ap)
{
	int off = snprintf(buf, len, "%s:%d:%d: %s: ", file, at.line ? at.line : 1,
			   at.col ? at.col : 1, kind);

	if (off >= 0 && (size_t)off < len)
		vsnprintf(buf + off, len - (size_t)off, fmt, ap);
}

int perr(struct pctx *c, struct ploc at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(c->diag->error, sizeof(c->diag->error), c->doc.file, at, "error", fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void pnote(struct pctx *c, struct ploc at, const char *fmt, ...)
{
	size_t used = strlen(c->diag->error);
	va_list ap;

	if (used + 2 >= sizeof(c->diag->error))
		return;
	c->diag->error[used++] = '\n';
	va_start(ap, fmt);
	vdiag(c->diag->error + used, sizeof(c->diag->error) - used, c->doc.file, at, "note",
	      fmt, ap);
	va_end(ap);
}

void pwarn(struct pctx *c, struct ploc at, const char *fmt, ...)
{
	char line[POLICY_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vdiag(line, sizeof(line), c->doc.file, at, "warning", fmt, ap);
	va_end(ap);
	strbuf_puts(&c->diag->warnings, line);
	strbuf_puts(&c->diag->warnings, "\n");
	c->diag->n_warnings++;
}

const char *mode_name(int mode)
{
	return mode == MODE_AUDIT ? "audit" : "enforce";
}

int mode_pick(const int *modes, size_t n, int dflt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (modes[i] != MODE_UNSET)
			return modes[i];
	return dflt;
}

void time_str(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "@%lld", (long long)t);
}

static int load(struct pctx *c, const struct policy_opts *opts, struct policy **out)
{
	int rc;

	c->p = calloc(1, sizeof(*c->p));
	if (!c->p)
		return -ENOMEM;
	c->p->now = opts ? opts->now : 0;
	c->p->file = strdup(c->doc.file);
	rc = c->p->file ? policy_parse(c) : -ENOMEM;
	if (!rc)
		rc = policy_compile(c);
	if (!rc)
		policy_canonical_hash(c->p);
	if (rc == -ENOMEM)
		snprintf(c->diag->error, sizeof(c->diag->error), "%s: error: out of memory",
			 c->doc.file);
	if (rc) {
		policy_free(c->p);
		c->p = NULL;
	}
	*out = c->p;
	return rc;
}

int policy_load_buf(const char *name, const char *buf, size_t len,
		    const struct policy_opts *opts, struct policy **out,
		    struct policy_diag *diag)
{
	struct pctx c = { .diag = diag };
	int rc;

	*out = NULL;
	rc = ydoc_load_buf(&c.doc, name, buf, len, diag->error, sizeof(diag->error));
	if (rc)
		return rc;
	rc = load(&c, opts, out);
	ydoc_free(&c.doc);
	return rc;
}

int policy_load_file(const char *path, const struct policy_opts *opts,
		     struct policy **out, struct policy_diag *diag)
{
	struct pctx c = { .diag = diag };
	int rc;

	*out = NULL;
	rc = ydoc_load(&c.doc, path, diag->error, sizeof(diag->error));
	if (rc)
		return rc;
	rc = load(&c, opts, out);
	ydoc_free(&c.doc);
	return rc;
}

static void clist_free(struct clist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i].text);
	free(l->items);
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

static void free_models(struct policy *p)
{
	size_t i, j;

	for (i = 0; i < p->n_models; i++) {
		for (j = 0; j < p->models[i].n_exc; j++) {
			clist_free(&p->models[i].exc[j].countries);
			free(p->models[i].exc[j].reason);
			free(p->models[i].exc[j].reference);
		}
		free(p->models[i].exc);
		free(p->models[i].name);
	}
	free(p->models);
	for (i = 0; i < p->n_tenants; i++) {
		free((char *)p->tenants[i].pub.name);
		free((char *)p->tenants[i].pub.cgroup);
	}
	free(p->tenants);
	free(p->tenant_names);	/* borrowed from the tenants */
	for (i = 0; i < p->n_endpoints; i++) {
		free((char *)p->endpoints[i].pub.text);
		free(p->endpoints[i].tenant);
	}
	free(p->endpoints);
}

static void free_guarantees(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->n_guarantees; i++) {
		struct pguarantee *g = &p->guarantees[i];

		free(g->name);
		clist_free(&g->countries);
		free_names(g->model_names, g->n_models);
		free_names(g->tier_names, g->n_tiers);
		free(g->model_locs);
		free(g->tier_locs);
		free(g->models);
	}
	free(p->guarantees);
	for (i = 0; i < p->n_revocations; i++) {
		free(p->revocations[i].guarantee);
		free(p->revocations[i].reason);
		free(p->revocations[i].reference);
	}
	free(p->revocations);
}

void policy_free(struct policy *p)
{
	size_t i;
	int d;

	if (!p)
		return;
	for (i = 0; i < p->n_groups; i++) {
		free(p->groups[i].name);
		clist_free(&p->groups[i].members);
	}
	free(p->groups);
	for (i = 0; i < p->n_tiers; i++) {
		free(p->tiers[i].name);
		for (d = 0; d < DIR_MAX; d++) {
			clist_free(&p->tiers[i].dir[d].allow);
			clist_free(&p->tiers[i].dir[d].deny);
		}
	}
	free(p->tiers);
	free_models(p);
	free_guarantees(p);
	free(p->rows);
	free(p->node_id);
	free(p->file);
	free(p);
}

const char *policy_file(const struct policy *p)
{
	return p->file;
}

const char *policy_node_id(const struct policy *p)
{
	return p->node_id ? p->node_id : "";
}

__u16 policy_node_country(const struct policy *p)
{
	return p->node_country;
}

void policy_hash(const struct policy *p, __u8 out[SHA256_LEN])
{
	memcpy(out, p->hash, SHA256_LEN);
}

__u32 policy_model_count(const struct policy *p)
{
	return (__u32)p->n_models;
}

const char *policy_model_name(const struct policy *p, __u32 model)
{
	if (model == MODEL_UNKNOWN || model > p->n_models)
		return "unknown";
	return p->models[model - 1].name;
}

const char *policy_model_tier(const struct policy *p, __u32 model)
{
	if (model == MODEL_UNKNOWN || model > p->n_models)
		return p->unknown_tier >= 0 ? p->tiers[p->unknown_tier].name : NULL;
	return p->tiers[p->models[model - 1].tier].name;
}

int policy_model_find(const struct policy *p, const char *name)
{
	size_t lo = 0, hi = p->n_models;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->models[mid].name, name);

		if (!c)
			return (int)mid + 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

const struct access_row *policy_access_row(const struct policy *p, __u32 model,
					   enum direction dir)
{
	if (model > p->n_models || (unsigned)dir >= DIR_MAX)
		return NULL;
	return &p->rows[access_row_key(model, dir)];
}

enum verdict policy_verdict(const struct policy *p, __u32 model, enum direction dir,
			    __u16 country)
{
	const struct access_row *row = policy_access_row(p, model, dir);

	if (!row)
		row = policy_access_row(p, MODEL_UNKNOWN, dir);
	if (!row || country >= ACCESS_ROW_LEN)
		return VERDICT_ALLOW;
	return (enum verdict)row->verdict[country];
}

size_t policy_tenant_count(const struct policy *p)
{
	return p->n_tenants;
}

const struct policy_tenant *policy_tenant_at(const struct policy *p, size_t i)
{
	return i < p->n_tenants ? &p->tenants[i].pub : NULL;
}

const char *policy_tenant_name(const struct policy *p, __u32 tenant)
{
	if (tenant == TENANT_UNKNOWN || tenant > p->n_tenant_names)
		return "unknown";
	return p->tenant_names[tenant - 1];
}

/* Characters of a pattern that are not wildcards: how specific it is. */
static size_t literal_len(const char *pat)
{
	size_t n = 0;

	for (; *pat; pat++)
		n += !strchr("*?[]", *pat);
	return n;
}

int policy_match_cgroup(const struct policy *p, const char *path, struct tenant_info *who)
{
	size_t i, best_len = 0;
	int best = -1;

	for (i = 0; i < p->n_tenants; i++) {
		size_t len;

		/* A wildcard means every top-level cgroup, never the root too. */
		if (!strcmp(path, "/") ? strcmp(p->tenants[i].pub.cgroup, "/") :
		    fnmatch(p->tenants[i].pub.cgroup, path, FNM_PATHNAME))
			continue;
		len = literal_len(p->tenants[i].pub.cgroup);
		if (best < 0 || len > best_len) {
			best = (int)i;
			best_len = len;
		}
	}
	if (best < 0)
		return -ENOENT;
	*who = p->tenants[best].pub.who;
	return 0;
}

size_t policy_endpoint_count(const struct policy *p)
{
	return p->n_endpoints;
}

const struct policy_endpoint *policy_endpoint_at(const struct policy *p, size_t i)
{
	return i < p->n_endpoints ? &p->endpoints[i].pub : NULL;
}

size_t policy_guarantee_count(const struct policy *p)
{
	return p->n_guarantees;
}

const char *guarantee_state_name(enum guarantee_state s)
{
	static const char *const names[] = {
		[GUARANTEE_PENDING] = "pending", [GUARANTEE_ACTIVE] = "active",
		[GUARANTEE_EXPIRED] = "expired", [GUARANTEE_REVOKED] = "revoked",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

int policy_guarantee_eval(const struct policy *p, size_t i, int64_t t,
			  struct policy_guarantee_status *out)
{
	const struct pguarantee *g;
	const struct prevocation *r;

	memset(out, 0, sizeof(*out));
	if (i >= p->n_guarantees)
		return -ENOENT;
	g = &p->guarantees[i];
	r = g->revocation >= 0 ? &p->revocations[g->revocation] : NULL;
	out->name = g->name;
	out->from = g->from;
	out->until = g->until;
	out->availability_ppm = g->availability_ppm;
	out->models = g->models;
	out->n_models = g->n_ids;
	if (r) {
		out->has_revocation = true;
		out->revoked_at = r->effective;
		out->revocation_reason = r->reason;
		out->revocation_reference = r->reference;
	}
	if (r && t >= r->effective)
		out->state = GUARANTEE_REVOKED;
	else if (t < g->from)
		out->state = GUARANTEE_PENDING;
	else if (g->until && t >= g->until)
		out->state = GUARANTEE_EXPIRED;
	else
		out->state = GUARANTEE_ACTIVE;
	return 0;
}

size_t policy_guarantee_countries(const struct policy *p, size_t i, __u16 *out, size_t max)
{
	size_t n = 0;
	__u16 k;

	if (i >= p->n_guarantees)
		return 0;
	for (k = 0; k < COUNTRY_MAX; k++) {
		if (!cset_has(&p->guarantees[i].countries.set, k))
			continue;
		if (n < max)
			out[n] = k;
		n++;
	}
	return n;
}

static int cmp_u32_key(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

bool policy_guarantee_covers(const struct policy *p, size_t i, __u32 model, __u16 country)
{
	const struct pguarantee *g;

	if (i >= p->n_guarantees)
		return false;
	g = &p->guarantees[i];
	if (!cset_has(&g->countries.set, country))
		return false;
	return bsearch(&model, g->models, g->n_ids, sizeof(*g->models), cmp_u32_key) != NULL;
}
