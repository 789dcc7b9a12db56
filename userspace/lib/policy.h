/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The policy compiler: a policy file (docs/policy.md) in, everything the
 * kernel needs out: the access matrix (one access_row per model and
 * direction), the tenant patterns and the endpoint entries, all with the
 * ABI's structs, plus the guarantees and revocations the agent watches and
 * a hash of the policy's canonical form. A policy that loads is valid and
 * safe to apply; one that does not yields one "file:line:col: error: ..."
 * message and nothing else. Output is deterministic: the same policy gives
 * the same ids, rows, tables and hash on every machine.
 */
#ifndef CUSTOMS_POLICY_H
#define CUSTOMS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "customs_abi.h"
#include "sha256.h"
#include "strbuf.h"

#define POLICY_ERR_LEN 1024

struct policy;

struct policy_opts {
	/*
	 * Unix seconds at which guarantees are judged: one whose `until` is
	 * before now no longer binds the rules. 0 binds every guarantee.
	 */
	int64_t now;
};

/*
 * What loading said. error holds the first error (possibly followed by
 * "note:" lines), warnings every warning, one per line.
 */
struct policy_diag {
	char error[POLICY_ERR_LEN];
	struct strbuf warnings;
	unsigned int n_warnings;
};

void policy_diag_init(struct policy_diag *diag);
void policy_diag_free(struct policy_diag *diag);

/*
 * Loads, validates and compiles. On success *out is the compiled policy
 * (free with policy_free); on failure *out is NULL, diag->error says why,
 * and the return is negative errno (-EINVAL for a policy error). opts may
 * be NULL (now = 0).
 */
int policy_load_file(const char *path, const struct policy_opts *opts,
		     struct policy **out, struct policy_diag *diag);
int policy_load_buf(const char *name, const char *buf, size_t len,
		    const struct policy_opts *opts, struct policy **out,
		    struct policy_diag *diag);
void policy_free(struct policy *p);

/* A time as policies write it (2026-01-31, 2026-01-31T12:00:00Z, +04:00). */
int policy_parse_time(const char *s, int64_t *out);

/* The file name given at load, the node defaults, and the hash. */
const char *policy_file(const struct policy *p);
const char *policy_node_id(const struct policy *p);	/* "" if unset */
__u16 policy_node_country(const struct policy *p);
void policy_hash(const struct policy *p, __u8 out[SHA256_LEN]);
/* The canonical form the hash is taken of, appended to out. */
void policy_canonical(const struct policy *p, struct strbuf *out);

/* Models: ids 1..count in order of name; 0 is the unknown model. */
__u32 policy_model_count(const struct policy *p);
const char *policy_model_name(const struct policy *p, __u32 model);	/* 0: "unknown" */
const char *policy_model_tier(const struct policy *p, __u32 model);	/* NULL if none */
/* The id of a model by name, or -ENOENT. */
int policy_model_find(const struct policy *p, const char *name);

/* The access matrix: rows for models 0..count, both directions. */
const struct access_row *policy_access_row(const struct policy *p, __u32 model,
					   enum direction dir);
enum verdict policy_verdict(const struct policy *p, __u32 model, enum direction dir,
			    __u16 country);

/*
 * Tenants: one entry per (tenant, cgroup pattern), sorted by pattern.
 * Tenant ids are 1..n in order of tenant name. A pattern is a cgroup path
 * below the cgroup2 mount, with fnmatch(3) wildcards that do not cross
 * '/'; the kernel gives a listed cgroup's whole subtree to its tenant.
 */
struct policy_tenant {
	const char *name;
	const char *cgroup;		/* the pattern */
	struct tenant_info who;
};
size_t policy_tenant_count(const struct policy *p);
const struct policy_tenant *policy_tenant_at(const struct policy *p, size_t i);
const char *policy_tenant_name(const struct policy *p, __u32 tenant);	/* 0: "unknown" */
/*
 * The tenant a cgroup path (below the mount, e.g. "/serving/llm-a") is
 * listed as: 0 and *who set, or -ENOENT. Of several matching patterns the
 * most specific (most characters that are not wildcards) wins, then the
 * first in pattern order.
 */
int policy_match_cgroup(const struct policy *p, const char *path, struct tenant_info *who);

/*
 * Walks the cgroup2 hierarchy at mount (NULL: where /proc/self/mounts
 * says cgroup2 is, /sys/fs/cgroup or /sys/fs/cgroup/unified) and calls
 * fn for every cgroup a tenant pattern matches, with its cgroup id (the
 * tenant map's key) and its path below the mount. A non-zero return from
 * fn stops the walk and is returned; otherwise 0 or -errno.
 */
typedef int (*policy_cgroup_fn)(void *ctx, __u64 cgroup_id, const char *path,
				const struct tenant_info *who);
int policy_cgroup_walk(const struct policy *p, const char *mount, policy_cgroup_fn fn,
		       void *ctx);
/* The first cgroup2 mount point, or -ENOENT. */
int cgroup2_mount(char *out, size_t len);

/* Endpoints: ready for the endpoint map, sorted by key; `*` gave two. */
struct policy_endpoint {
	struct endpoint_key key;
	struct tenant_info who;
	const char *text;		/* canonical: 10.0.0.1:443/tcp, [::]:80/udp */
};
size_t policy_endpoint_count(const struct policy *p);
const struct policy_endpoint *policy_endpoint_at(const struct policy *p, size_t i);

/* Guarantees, in order of name, and their state at a given time. */
enum guarantee_state {
	GUARANTEE_PENDING = 0,	/* before `from` */
	GUARANTEE_ACTIVE,
	GUARANTEE_EXPIRED,	/* after `until` */
	GUARANTEE_REVOKED,	/* at or after a revocation's effective time */
};

struct policy_guarantee_status {
	const char *name;
	enum guarantee_state state;
	int64_t from, until;		/* unix seconds; until 0 = open-ended */
	__u32 availability_ppm;		/* target, parts per million; 0 = none */
	bool has_revocation;		/* the policy revokes it (at any time) */
	int64_t revoked_at;		/* the revocation's effective time */
	const char *revocation_reason, *revocation_reference;	/* or NULL */
	const __u32 *models;		/* the model ids it covers, ascending */
	size_t n_models;
};
size_t policy_guarantee_count(const struct policy *p);
int policy_guarantee_eval(const struct policy *p, size_t i, int64_t t,
			  struct policy_guarantee_status *out);
/*
 * The countries guarantee i covers, ascending, into out (up to max);
 * returns how many there are.
 */
size_t policy_guarantee_countries(const struct policy *p, size_t i, __u16 *out, size_t max);
/* True when guarantee i promises country access to model. */
bool policy_guarantee_covers(const struct policy *p, size_t i, __u32 model, __u16 country);
const char *guarantee_state_name(enum guarantee_state s);

/* Why a cell of the matrix holds its verdict: the rules, in order applied. */
#define POLICY_EXPLAIN_STEPS 16
#define POLICY_EXPLAIN_TEXT 256

struct policy_explain_step {
	char text[POLICY_EXPLAIN_TEXT];
	int line, col;			/* where the rule is; 0 for built-ins */
	enum verdict verdict;		/* the verdict after this step */
};

struct policy_explanation {
	enum verdict verdict;
	size_t decisive;		/* the step that chose allow or deny */
	size_t n_steps;
	struct policy_explain_step steps[POLICY_EXPLAIN_STEPS];
};

int policy_explain(const struct policy *p, __u32 model, enum direction dir, __u16 country,
		   struct policy_explanation *out);

/* The query-pattern detectors' thresholds and modes (defaults when unwritten). */
struct detect_config;
const struct detect_config *policy_query(const struct policy *p);

/* The compiled policy as JSON (models, matrix, tenants, endpoints, guarantees). */
void policy_render_json(const struct policy *p, struct strbuf *out);
/*
 * Every (model, country, direction) whose verdict differs, and guarantees
 * and revocations gained or lost, one per line. Returns the number of
 * differences.
 */
size_t policy_diff(const struct policy *old, const struct policy *new, struct strbuf *out);

#endif
