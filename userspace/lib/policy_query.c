// SPDX-License-Identifier: BSD-2-Clause
/*
 * The policy's query_patterns section: the detectors' thresholds and the
 * mode (audit or enforce) of each detector, read against one table of keys
 * with their ranges so every value out of range is an error at its
 * file:line:col, and written into the canonical form so the policy hash
 * covers them. Absent keys keep detect_config_defaults(); docs/policy.md
 * and docs/query-patterns.md list them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "policy_impl.h"

enum qtype { Q_DOUBLE, Q_U32 };

struct qkey {
	const char *section, *key;
	enum qtype type;
	size_t off;
	double min, max;
};

#define QD(s, f, k, lo, hi) { #s, #k, Q_DOUBLE, offsetof(struct detect_config, f.k), lo, hi }
#define QU(s, f, k, lo, hi) { #s, #k, Q_U32, offsetof(struct detect_config, f.k), lo, hi }

static const struct qkey qkeys[] = {
	QD(volume, volume, factor, 1.01, 1e6),
	QD(volume, volume, min_bytes_per_sec, 0, 1e12),
	QU(volume, volume, warmup, 1, 10000),
	QU(volume, volume, baseline_intervals, 1, 100000),
	QD(volume, volume, quota_bytes_per_sec, 0, 1e12),
	QD(volume, volume, quota_conns_per_sec, 0, 1e9),
	QU(dispersion, dispersion, min_prefixes, 2, 1000000),
	QU(dispersion, dispersion, window, 1, 16),
	QD(dispersion, dispersion, min_bytes, 0, 1e15),
	QD(dispersion, dispersion, max_cv, 0, 10),
	QD(extraction, extraction, ratio, 1, 1e6),
	QD(extraction, extraction, min_bytes_per_sec, 0, 1e12),
	QU(extraction, extraction, intervals, 1, 16),
	QD(extraction, extraction, max_cv, 0, 10),
	QU(geography, geography, hop_window, 1, 10000),
};

#define N_QKEYS (sizeof(qkeys) / sizeof(qkeys[0]))

static const char *const sections[DETECTOR_MAX] = {
	[DETECTOR_VOLUME] = "volume",
	[DETECTOR_DISPERSION] = "dispersion",
	[DETECTOR_EXTRACTION] = "extraction",
	[DETECTOR_GEOGRAPHY] = "geography",
};

static struct ploc at(const struct ynode *n)
{
	return (struct ploc){ n->line, n->col };
}

static int number(struct pctx *c, const struct ynode *n, const char *what, double min,
		  double max, bool integer, double *out)
{
	char *end;
	double v;

	if (n->kind != YNODE_SCALAR)
		return perr(c, at(n), "%s must be a number", what);
	v = strtod(n->value, &end);
	if (!n->value[0] || *end || v != v)
		return perr(c, at(n), "%s must be a number, not \"%s\"", what, n->value);
	if (integer && v != (double)(long long)v)
		return perr(c, at(n), "%s must be a whole number, not \"%s\"", what, n->value);
	if (v < min || v > max)
		return perr(c, at(n), "%s %s is out of range (%g .. %g)", what, n->value, min, max);
	*out = v;
	return 0;
}

static int parse_detector(struct pctx *c, struct detect_config *cfg, int det,
			  const struct ynode *map)
{
	const char *keys[16] = { "mode" };
	const struct ynode *m;
	size_t i, nk = 1;
	double v;
	int rc;

	if (map->kind != YNODE_MAP)
		return perr(c, at(map), "query_patterns.%s must be a mapping", sections[det]);
	for (i = 0; i < N_QKEYS; i++)
		if (!strcmp(qkeys[i].section, sections[det]))
			keys[nk++] = qkeys[i].key;
	keys[nk] = NULL;
	rc = ynode_check_keys(&c->doc, map, keys, c->diag->error, sizeof(c->diag->error));
	if (rc)
		return -EINVAL;
	for (i = 0; i < N_QKEYS; i++) {
		const struct ynode *n;
		char what[96];

		if (strcmp(qkeys[i].section, sections[det]) || !(n = ynode_get(map, qkeys[i].key)))
			continue;
		snprintf(what, sizeof(what), "query_patterns.%s.%s", qkeys[i].section,
			 qkeys[i].key);
		rc = number(c, n, what, qkeys[i].min, qkeys[i].max, qkeys[i].type == Q_U32, &v);
		if (rc)
			return rc;
		if (qkeys[i].type == Q_U32)
			*(__u32 *)((char *)cfg + qkeys[i].off) = (__u32)v;
		else
			*(double *)((char *)cfg + qkeys[i].off) = v;
	}
	m = ynode_get(map, "mode");
	if (!m)
		return 0;
	if (m->kind == YNODE_SCALAR && !strcmp(m->value, "audit"))
		cfg->mode[det] = DETECT_MODE_AUDIT;
	else if (m->kind == YNODE_SCALAR && !strcmp(m->value, "enforce"))
		cfg->mode[det] = DETECT_MODE_ENFORCE;
	else
		return perr(c, at(m), "query_patterns.%s.mode must be audit or enforce",
			    sections[det]);
	return 0;
}

int policy_parse_query(struct pctx *c, const struct ynode *n)
{
	static const char *const keys[] = { "enabled", "deny_seconds", "cooldown",
					    "max_tracked", "volume", "dispersion",
					    "extraction", "geography", NULL };
	struct detect_config *cfg = &c->p->query;
	const struct ynode *v;
	double x;
	int det, rc;

	detect_config_defaults(cfg);
	if (!n)
		return 0;
	c->p->query_set = true;
	if (n->kind != YNODE_MAP)
		return perr(c, at(n), "query_patterns must be a mapping");
	if (ynode_check_keys(&c->doc, n, keys, c->diag->error, sizeof(c->diag->error)))
		return -EINVAL;
	if ((v = ynode_get(n, "enabled"))) {
		if (v->kind != YNODE_SCALAR || (strcmp(v->value, "true") && strcmp(v->value, "false")))
			return perr(c, at(v), "query_patterns.enabled must be true or false");
		cfg->enabled = !strcmp(v->value, "true");
	}
	if ((v = ynode_get(n, "deny_seconds"))) {
		rc = number(c, v, "query_patterns.deny_seconds", 1, 30 * 86400, true, &x);
		if (rc)
			return rc;
		cfg->deny_seconds = (__u32)x;
	}
	if ((v = ynode_get(n, "cooldown"))) {
		rc = number(c, v, "query_patterns.cooldown", 1, 100000, true, &x);
		if (rc)
			return rc;
		cfg->cooldown = (__u32)x;
	}
	if ((v = ynode_get(n, "max_tracked"))) {
		rc = number(c, v, "query_patterns.max_tracked", 16, 16777216, true, &x);
		if (rc)
			return rc;
		cfg->max_tracked = (__u32)x;
	}
	for (det = 0; det < DETECTOR_MAX; det++) {
		v = ynode_get(n, sections[det]);
		if (v && (rc = parse_detector(c, cfg, det, v)))
			return rc;
	}
	return 0;
}

void policy_query_canonical(const struct policy *p, struct strbuf *sb)
{
	const struct detect_config *cfg = &p->query;
	size_t i;
	int det;

	/* Policies without the section keep the hash they always had. */
	if (!p->query_set)
		return;
	strbuf_printf(sb, "query_patterns enabled=%d deny_seconds=%u cooldown=%u max_tracked=%u",
		      cfg->enabled, cfg->deny_seconds, cfg->cooldown, cfg->max_tracked);
	for (det = 0; det < DETECTOR_MAX; det++)
		strbuf_printf(sb, " %s.mode=%s", sections[det],
			      cfg->mode[det] == DETECT_MODE_ENFORCE ? "enforce" : "audit");
	for (i = 0; i < N_QKEYS; i++) {
		const char *base = (const char *)cfg + qkeys[i].off;

		if (qkeys[i].type == Q_U32)
			strbuf_printf(sb, " %s.%s=%u", qkeys[i].section, qkeys[i].key,
				      *(const __u32 *)base);
		else
			strbuf_printf(sb, " %s.%s=%.17g", qkeys[i].section, qkeys[i].key,
				      *(const double *)base);
	}
	strbuf_puts(sb, "\n");
}

const struct detect_config *policy_query(const struct policy *p)
{
	return &p->query;
}
