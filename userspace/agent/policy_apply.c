// SPDX-License-Identifier: BSD-2-Clause
/*
 * The policy in force, and the switch to a new one. prepare compiles the
 * policy file beside what is in force and gives its tenants and models
 * their stable ids (names.c; nothing in the kernel changes); commit writes
 * the new access rows, endpoints and tenant cgroups into the data plane's
 * maps, then removes the entries the new policy no longer has, so no
 * moment lacks a verdict; discard drops a prepared policy.
 *
 * Tenant patterns name cgroup paths; the kernel knows cgroups by id. Every
 * commit and every interval (agent_policy_refresh) walks the cgroup tree
 * and lists each matching cgroup's id, so a tenant cgroup created after the
 * policy was applied is metered from the next interval on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "abi_names.h"
#include "agent_parts.h"
#include "country.h"
#include "log.h"
#include "names.h"
#include "policy.h"

/* A compiled policy with its ids translated to the agent's stable ones. */
struct applied {
	struct policy *policy;
	__u32 *model_id;		/* policy model id -> stable id */
	__u32 *tenant_id;		/* policy tenant id -> stable id */
	__u32 n_models, n_tenants;	/* lengths (policy ids 0 .. n - 1) */
	__u32 max_model;		/* highest stable model id it uses */
};

struct cgroup_entry {
	__u64 id;
	struct tenant_info who;
};

struct agent_policy {
	struct applied live;
	struct applied next;
	struct cgroup_entry *cgroups;	/* what the tenant map holds for us */
	size_t n_cgroups, cap_cgroups;
	const char *drift_guarantee;	/* of the last verify, or NULL */
};

static void applied_free(struct applied *ap)
{
	policy_free(ap->policy);
	free(ap->model_id);
	free(ap->tenant_id);
	memset(ap, 0, sizeof(*ap));
}

/* Stable ids for every model and tenant the policy names. */
static int translate(struct agent *a, struct applied *ap)
{
	const struct policy *p = ap->policy;
	__u32 i;
	size_t k;
	int rc = 0;

	ap->n_models = policy_model_count(p) + 1;
	ap->n_tenants = 1;
	for (k = 0; k < policy_tenant_count(p); k++)
		if (policy_tenant_at(p, k)->who.tenant >= ap->n_tenants)
			ap->n_tenants = policy_tenant_at(p, k)->who.tenant + 1;
	ap->model_id = calloc(ap->n_models, sizeof(__u32));
	ap->tenant_id = calloc(ap->n_tenants, sizeof(__u32));
	if (!ap->model_id || !ap->tenant_id)
		return -ENOMEM;
	for (i = 1; !rc && i < ap->n_models; i++) {
		rc = names_intern_model(&a->names, policy_model_name(p, i), &ap->model_id[i]);
		if (ap->model_id[i] > ap->max_model)
			ap->max_model = ap->model_id[i];
	}
	for (i = 1; !rc && i < ap->n_tenants; i++)
		if (policy_tenant_name(p, i))
			rc = names_intern_tenant(&a->names, policy_tenant_name(p, i),
						 &ap->tenant_id[i]);
	return rc;
}

static struct tenant_info stable_who(const struct applied *ap, const struct tenant_info *who)
{
	struct tenant_info out = {};

	if (who->tenant < ap->n_tenants)
		out.tenant = ap->tenant_id[who->tenant];
	if (who->model < ap->n_models)
		out.model = ap->model_id[who->model];
	return out;
}

static void names_path(const struct agent *a, char *out, size_t len)
{
	snprintf(out, len, "%s/names", a->cfg.state_dir);
}

static struct agent_policy *state(struct agent *a)
{
	char path[CONFIG_PATH_MAX + 16];

	if (a->policy)
		return a->policy;
	a->policy = calloc(1, sizeof(*a->policy));
	if (!a->policy)
		return NULL;
	names_path(a, path, sizeof(path));
	if (names_load(&a->names, path)) {
		free(a->policy);
		a->policy = NULL;
	}
	return a->policy;
}

int agent_policy_prepare(struct agent *a, char *err, size_t errlen)
{
	struct policy_opts opts = { .now = (int64_t)time(NULL) };
	struct agent_policy *ps = state(a);
	struct policy_diag diag;
	int rc;

	if (!ps) {
		snprintf(err, errlen, "%s/names: cannot load the agent's id table", a->cfg.state_dir);
		return -EBADMSG;
	}
	applied_free(&ps->next);
	policy_diag_init(&diag);
	rc = policy_load_file(a->cfg.policy, &opts, &ps->next.policy, &diag);
	if (rc)
		snprintf(err, errlen, "%s", diag.error[0] ? diag.error : strerror(-rc));
	else if (diag.n_warnings)
		pr_warn("%s", strbuf_str(&diag.warnings));
	policy_diag_free(&diag);
	if (!rc) {
		rc = translate(a, &ps->next);
		if (rc)
			snprintf(err, errlen, "%s: %s", a->cfg.policy, strerror(-rc));
	}
	if (rc)
		applied_free(&ps->next);
	return rc;
}

static int push_cgroup(struct agent_policy *ps, __u64 id, const struct tenant_info *who)
{
	if (ps->n_cgroups == ps->cap_cgroups) {
		size_t cap = ps->cap_cgroups ? ps->cap_cgroups * 2 : 64;
		void *p = realloc(ps->cgroups, cap * sizeof(*ps->cgroups));

		if (!p)
			return -ENOMEM;
		ps->cgroups = p;
		ps->cap_cgroups = cap;
	}
	ps->cgroups[ps->n_cgroups].id = id;
	ps->cgroups[ps->n_cgroups].who = *who;
	ps->n_cgroups++;
	return 0;
}

struct walk_ctx {
	struct agent_policy *ps;
	const struct applied *ap;
};

static int on_cgroup(void *ctx, __u64 cgroup_id, const char *path, const struct tenant_info *who)
{
	struct walk_ctx *w = ctx;
	struct tenant_info stable = stable_who(w->ap, who);

	(void)path;
	return push_cgroup(w->ps, cgroup_id, &stable);
}

static bool cgroup_listed(const struct cgroup_entry *v, size_t n, __u64 id,
			  const struct tenant_info *who)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].id == id)
			return !who || !memcmp(&v[i].who, who, sizeof(*who));
	return false;
}

/* Lists every cgroup the policy's tenant patterns match; unlists the rest. */
static int sync_tenants(struct agent *a, const struct applied *ap)
{
	struct agent_policy *ps = a->policy;
	struct cgroup_entry *old = ps->cgroups;
	size_t n_old = ps->n_cgroups, cap_old = ps->cap_cgroups, i;
	struct walk_ctx w = { ps, ap };
	int rc = 0;

	ps->cgroups = NULL;
	ps->n_cgroups = ps->cap_cgroups = 0;
	if (policy_tenant_count(ap->policy))
		rc = policy_cgroup_walk(ap->policy, NULL, on_cgroup, &w);
	for (i = 0; !rc && i < ps->n_cgroups; i++)
		if (!cgroup_listed(old, n_old, ps->cgroups[i].id, &ps->cgroups[i].who))
			rc = dp_set_tenant(a->dp, ps->cgroups[i].id, &ps->cgroups[i].who);
	for (i = 0; !rc && i < n_old; i++)
		if (!cgroup_listed(ps->cgroups, ps->n_cgroups, old[i].id, NULL))
			dp_del_tenant(a->dp, old[i].id);
	if (rc) {
		pr_warn("tenant map: %s\n", strerror(-rc));
		/* Keep the old list as what we own, so a retry unlists it. */
		free(ps->cgroups);
		ps->cgroups = old;
		ps->n_cgroups = n_old;
		ps->cap_cgroups = cap_old;
		return rc;
	}
	free(old);
	return 0;
}

/* For each stable model id the matrix has, the policy's model id (0: none). */
static __u32 *rows_of(struct agent *a, const struct applied *ap, __u32 *cap)
{
	__u32 m, *row_of;

	*cap = dp_models(a->dp);
	row_of = calloc((size_t)*cap + 1, sizeof(*row_of));
	if (!row_of)
		return NULL;
	for (m = 1; m < ap->n_models; m++)
		if (ap->model_id[m] <= *cap)
			row_of[ap->model_id[m]] = m;
	return row_of;
}

/*
 * Every row the matrix has: the policy's models at their stable ids, and
 * the unknown model's verdicts for ids the policy no longer uses; cells of
 * a guarantee whose revocation is not yet effective stay as promised.
 */
static int write_rows(struct agent *a, const struct applied *ap)
{
	int64_t now = (int64_t)time(NULL);
	struct access_row row;
	__u32 cap, m, *row_of;
	int d, rc = 0;

	row_of = rows_of(a, ap, &cap);
	if (!row_of)
		return -ENOMEM;
	for (m = 0; !rc && m <= cap; m++)
		for (d = 0; !rc && d < DIR_MAX; d++) {
			agent_effective_row(ap->policy, row_of[m], d, now, &row);
			rc = dp_set_access_row(a->dp, m, d, &row);
		}
	free(row_of);
	return rc;
}

/* The first guarantee covering a cell that differs, for the notice. */
static const char *guarantee_of(const struct policy *p, __u32 model,
				const struct access_row *found, const struct access_row *want)
{
	struct policy_guarantee_status st;
	size_t i;
	__u16 c;

	if (!model)
		return NULL;
	for (c = 0; c < ACCESS_ROW_LEN; c++) {
		if (found->verdict[c] == want->verdict[c])
			continue;
		for (i = 0; i < policy_guarantee_count(p); i++)
			if (policy_guarantee_covers(p, i, model, c) &&
			    !policy_guarantee_eval(p, i, 0, &st))
				return st.name;
	}
	return NULL;
}

static void note_cells(struct strbuf *report, const char *model, enum direction d,
		       const struct access_row *found, const struct access_row *want,
		       int *listed)
{
	char cc[COUNTRY_STRLEN];
	__u16 c;

	for (c = 0; c < ACCESS_ROW_LEN; c++) {
		if (found->verdict[c] == want->verdict[c])
			continue;
		if ((*listed)++ < 8) {
			country_str(c, cc);
			strbuf_printf(report, "%s%s %s %s: %s restored to %s",
				      *listed > 1 ? "; " : "", model, direction_name(d), cc,
				      found->verdict[c] < VERDICT_MAX ?
				      verdict_name(found->verdict[c]) : "invalid",
				      verdict_name(want->verdict[c]));
		}
	}
}

int agent_policy_verify_rows(struct agent *a, struct strbuf *report)
{
	struct agent_policy *ps = a->policy;
	int64_t now = (int64_t)time(NULL);
	struct access_row want, found;
	__u32 cap, m, *row_of;
	int d, listed = 0, bad = 0;
	char buf[16];

	if (!ps || !ps->live.policy)
		return 0;
	row_of = rows_of(a, &ps->live, &cap);
	if (!row_of)
		return -ENOMEM;
	ps->drift_guarantee = NULL;
	for (m = 0; m <= cap; m++)
		for (d = 0; d < DIR_MAX; d++) {
			agent_effective_row(ps->live.policy, row_of[m], d, now, &want);
			if (!dp_get_access_row(a->dp, m, d, &found) &&
			    !memcmp(&want, &found, sizeof(want)))
				continue;
			bad++;
			if (report)
				note_cells(report, name_of_model(&a->names, m, buf, sizeof(buf)), d,
					   &found, &want, &listed);
			if (!ps->drift_guarantee)
				ps->drift_guarantee = guarantee_of(ps->live.policy, row_of[m], &found,
								   &want);
			dp_set_access_row(a->dp, m, d, &want);
		}
	if (report && listed > 8)
		strbuf_printf(report, "; and %d more cells", listed - 8);
	free(row_of);
	return bad;
}

const char *agent_policy_drift_guarantee(const struct agent *a)
{
	return a->policy ? a->policy->drift_guarantee : NULL;
}

static bool endpoint_in(const struct policy *p, const struct endpoint_key *k)
{
	size_t i, n = policy_endpoint_count(p);

	for (i = 0; i < n; i++)
		if (!memcmp(&policy_endpoint_at(p, i)->key, k, sizeof(*k)))
			return true;
	return false;
}

static int write_endpoints(struct agent *a, const struct applied *ap, const struct applied *old)
{
	size_t i, n = policy_endpoint_count(ap->policy);
	const struct policy_endpoint *e;
	struct tenant_info who;
	int rc = 0;

	for (i = 0; !rc && i < n; i++) {
		e = policy_endpoint_at(ap->policy, i);
		who = stable_who(ap, &e->who);
		rc = dp_set_endpoint(a->dp, &e->key, &who);
	}
	for (i = 0; !rc && old->policy && i < policy_endpoint_count(old->policy); i++) {
		e = policy_endpoint_at(old->policy, i);
		if (!endpoint_in(ap->policy, &e->key))
			dp_del_endpoint(a->dp, &e->key);
	}
	return rc;
}

static int apply(struct agent *a, const struct applied *ap, const struct applied *old)
{
	return write_rows(a, ap) ?: write_endpoints(a, ap, old) ?: sync_tenants(a, ap);
}

int agent_policy_commit(struct agent *a)
{
	struct agent_policy *ps = a->policy;
	char path[CONFIG_PATH_MAX + 16];
	int rc;

	if (!ps || !ps->next.policy)
		return 0;
	if (ps->next.max_model > dp_models(a->dp)) {
		pr_warn("policy %s needs model ids up to %u; the pinned access matrix holds %u "
			"(customsd --detach-all, then start, to resize)\n",
			policy_file(ps->next.policy), ps->next.max_model, dp_models(a->dp));
		return -E2BIG;
	}
	names_path(a, path, sizeof(path));
	rc = names_save(&a->names, path);
	if (rc) {
		pr_warn("saving %s: %s\n", path, strerror(-rc));
		return rc;
	}
	rc = apply(a, &ps->next, &ps->live);
	if (rc) {
		pr_warn("applying policy %s: %s\n", policy_file(ps->next.policy), strerror(-rc));
		/* Half-written maps: put the policy in force back whole. */
		if (ps->live.policy && apply(a, &ps->live, &ps->next))
			pr_warn("restoring the previous policy failed too\n");
		return rc;
	}
	applied_free(&ps->live);
	ps->live = ps->next;
	memset(&ps->next, 0, sizeof(ps->next));
	return 0;
}

int agent_policy_refresh(struct agent *a)
{
	if (!a->policy || !a->policy->live.policy)
		return 0;
	return sync_tenants(a, &a->policy->live);
}

void agent_policy_discard(struct agent *a)
{
	if (a->policy)
		applied_free(&a->policy->next);
}

void agent_policy_free(struct agent *a)
{
	if (!a->policy)
		return;
	applied_free(&a->policy->next);
	applied_free(&a->policy->live);
	free(a->policy->cgroups);
	free(a->policy);
	a->policy = NULL;
	names_free(&a->names);
}

const struct policy *agent_policy_live(const struct agent *a)
{
	return a->policy ? a->policy->live.policy : NULL;
}

/* Rows the access matrix needs for the prepared (else live) policy. */
__u32 agent_policy_model_count(const struct agent *a)
{
	if (!a->policy)
		return 0;
	return a->policy->next.policy ? a->policy->next.max_model : a->policy->live.max_model;
}

/* The stable id of a model of the live policy, by its policy id. */
__u32 agent_policy_stable_model(const struct agent *a, __u32 model)
{
	const struct applied *ap = a->policy ? &a->policy->live : NULL;

	return ap && model < ap->n_models ? ap->model_id[model] : 0;
}

void agent_policy_hash(const struct agent *a, __u8 out[INTERVAL_HASH_LEN])
{
	memset(out, 0, INTERVAL_HASH_LEN);
	if (agent_policy_live(a))
		policy_hash(agent_policy_live(a), out);
}

void agent_policy_status(const struct agent *a, struct strbuf *out, bool json)
{
	const struct policy *p = agent_policy_live(a);
	char hex[2 * SHA256_LEN + 1];
	__u8 md[SHA256_LEN];

	if (!p) {
		strbuf_puts(out, json ? "null" : "(none)");
		return;
	}
	policy_hash(p, md);
	sha256_hex(md, hex);
	if (!json) {
		strbuf_printf(out, "%s sha256:%s (%u models, %zu tenant cgroups, %zu endpoints)",
			      policy_file(p), hex, policy_model_count(p), a->policy->n_cgroups,
			      policy_endpoint_count(p));
		return;
	}
	strbuf_puts(out, "{\"file\": ");
	strbuf_json_str(out, policy_file(p));
	strbuf_printf(out, ", \"sha256\": \"%s\", \"models\": %u, \"tenant_cgroups\": %zu, "
		      "\"endpoints\": %zu}", hex, policy_model_count(p), a->policy->n_cgroups,
		      policy_endpoint_count(p));
}
