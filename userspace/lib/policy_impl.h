/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The policy compiler's insides, shared by its files and by nobody else:
 * policy_parse.c (YAML to validated structs), policy_compile.c (groups,
 * matrix, tables, guarantee checks, warnings), policy_explain.c (one
 * cell's chain of rules), policy_render.c (canonical form, JSON, diff) and
 * policy.c (the public accessors). Every rule keeps the line and column it
 * came from so errors, warnings and explanations can point at it.
 */
#ifndef CUSTOMS_POLICY_IMPL_H
#define CUSTOMS_POLICY_IMPL_H

#include <stdlib.h>

#include "detect.h"
#include "policy.h"
#include "yamltree.h"

#define CSET_WORDS ((COUNTRY_MAX + 63) / 64)

/* A set of country indexes. */
struct cset {
	__u64 w[CSET_WORDS];
};

static inline void cset_add(struct cset *s, __u16 c)
{
	s->w[c / 64] |= 1ull << (c % 64);
}

static inline bool cset_has(const struct cset *s, __u16 c)
{
	return c < COUNTRY_MAX && (s->w[c / 64] >> (c % 64)) & 1;
}

static inline void cset_union(struct cset *s, const struct cset *o)
{
	int i;

	for (i = 0; i < CSET_WORDS; i++)
		s->w[i] |= o->w[i];
}

/* qsort that accepts the NULL array of an empty list. */
static inline void psort(void *base, size_t n, size_t size,
			 int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

struct ploc {
	int line, col;
};

/* "unset" for an optional mode; otherwise enum policy_mode. */
enum policy_mode {
	MODE_UNSET = -1,
	MODE_ENFORCE = 0,
	MODE_AUDIT = 1,
};

/* One written entry of a country list: a code, a group or "all". */
struct centry {
	char *text;
	struct ploc loc;
	struct cset set;
};

struct clist {
	struct centry *items;
	size_t n;
	struct cset set;		/* union of the items */
	struct ploc loc;
};

struct pgroup {
	char *name;
	struct ploc loc;
	const struct ynode *node;	/* members, resolved after all are read */
	int state;			/* 0 new, 1 resolving, 2 done */
	bool used;
	struct clist members;
};

struct pdir_rule {
	struct clist allow, deny;
	__u8 dflt;			/* VERDICT_ALLOW or VERDICT_DENY */
	bool dflt_set;
	int mode;
	struct ploc loc, dflt_loc, mode_loc;
};

struct ptier {
	char *name;
	struct ploc loc, mode_loc;
	int mode;
	bool used;
	struct pdir_rule dir[DIR_MAX];
};

struct pexception {
	struct clist countries;
	int dir;			/* enum direction, or -1 for both */
	__u8 verdict;
	int mode;
	char *reason, *reference;
	struct ploc loc, mode_loc;
};

struct pendpoint {
	struct policy_endpoint pub;
	char *tenant;			/* name given, or NULL */
	__u32 model;
	struct ploc loc;
};

struct ptenant {
	struct policy_tenant pub;
	struct ploc loc;
};

struct pmodel {
	char *name;
	__u32 id;
	int tier;			/* index into tiers */
	int mode;
	struct ploc loc, mode_loc;
	size_t doc_idx;			/* position in the file, before sorting */
	struct pexception *exc;
	size_t n_exc;
};

struct pguarantee {
	char *name;
	struct clist countries;
	char **model_names, **tier_names;
	struct ploc *model_locs, *tier_locs;
	size_t n_models, n_tiers;
	__u32 *models;			/* resolved, sorted, unique ids */
	size_t n_ids;
	int64_t from, until;
	__u32 availability_ppm;
	int revocation;			/* index, or -1 */
	struct ploc loc;
};

struct prevocation {
	char *guarantee;
	int target;			/* guarantee index */
	char *reason, *reference;
	int64_t effective;
	struct ploc loc;
};

struct policy {
	char *file;
	char *node_id;
	__u16 node_country;
	int mode;			/* the default */
	struct ploc mode_loc;
	int unknown_tier;		/* index, or -1: everything allowed */
	struct ploc unknown_tier_loc;
	int64_t now;

	struct pgroup *groups;
	size_t n_groups;
	struct ptier *tiers;
	size_t n_tiers;
	struct pmodel *models;		/* sorted by name; id = index + 1 */
	size_t n_models;
	struct ptenant *tenants;
	size_t n_tenants;
	char **tenant_names;		/* id - 1 */
	size_t n_tenant_names;
	struct pendpoint *endpoints;
	size_t n_endpoints;
	struct pguarantee *guarantees;	/* sorted by name */
	size_t n_guarantees;
	struct prevocation *revocations;
	size_t n_revocations;

	struct detect_config query;	/* query_patterns (policy_query.c) */
	bool query_set;			/* the section was written */

	struct access_row *rows;	/* (n_models + 1) * DIR_MAX */
	__u8 hash[SHA256_LEN];
};

/* The state of one load: the document, where errors and warnings go. */
struct pctx {
	struct ydoc doc;
	struct policy *p;
	struct policy_diag *diag;
};

int policy_parse(struct pctx *c);
/* The query_patterns section (policy_query.c); n may be NULL (defaults). */
int policy_parse_query(struct pctx *c, const struct ynode *n);
void policy_query_canonical(const struct policy *p, struct strbuf *sb);
int policy_compile(struct pctx *c);
/* Fills p->hash from the canonical form (policy_render.c). */
void policy_canonical_hash(struct policy *p);

int perr(struct pctx *c, struct ploc at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pwarn(struct pctx *c, struct ploc at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends "file:line:col: note: ..." after the error. */
void pnote(struct pctx *c, struct ploc at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const char *mode_name(int mode);
/* The mode in force where a rule chain ends: the first one set wins. */
int mode_pick(const int *modes, size_t n, int dflt);
/* "2026-01-01T00:00:00Z" for a unix time. */
void time_str(int64_t t, char out[32]);

#endif
