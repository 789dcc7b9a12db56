/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The query-pattern detectors (docs/query-patterns.md): pure logic, fed once
 * per interval with the kernel's per-(model, prefix) counts (cumulative ones
 * plus the interval's cached ones, as dp_query_read() gives them), each
 * prefix already resolved to its AS and country, and the (model, country)
 * pairs the data plane denied in that interval. It keeps per-prefix and
 * per-AS state (deltas, moving baselines, short histories) in bounded
 * memory and returns the alerts of the interval:
 *
 *   volume      a prefix or AS whose response bytes or connections per second
 *               exceed its own moving baseline by a factor, or a quota
 *   dispersion  many distinct hosting/VPN/proxy prefixes reaching one model
 *               within a window with similar volumes (a coordinated harvest)
 *   extraction  a prefix with a high response/request byte ratio sustained
 *               over several intervals at a steady request rate
 *   geography   a restricted model reached from an AS registered in a
 *               country the model's ingress rules refuse, or from a
 *               hosting/VPN/proxy prefix first seen just after the model
 *               denied a country (a hop to a VPN)
 *
 * Detectors only raise alerts; each carries the mode the policy maps its
 * detector to (audit or enforce) and the agent acts on it. Nothing here
 * touches BPF, so unit tests drive it directly.
 */
#ifndef CUSTOMS_DETECT_H
#define CUSTOMS_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "customs_abi.h"
#include "asn.h"
#include "dataplane.h"

/* Thresholds; detect_config_defaults() gives the documented defaults. */
struct detect_volume_cfg {
	double factor;			/* alert above factor x baseline */
	double min_bytes_per_sec;	/* the factor rule ignores rates below */
	__u32 warmup;			/* intervals of history before the factor rule */
	__u32 baseline_intervals;	/* EWMA span of the baseline */
	double quota_bytes_per_sec;	/* absolute response quota; 0 = none */
	double quota_conns_per_sec;	/* absolute connection quota; 0 = none */
};

struct detect_dispersion_cfg {
	__u32 min_prefixes;		/* distinct anonymising prefixes per model */
	__u32 window;			/* intervals */
	double min_bytes;		/* per prefix over the window */
	double max_cv;			/* coefficient of variation of their volumes */
};

struct detect_extraction_cfg {
	double ratio;			/* response bytes / request bytes */
	double min_bytes_per_sec;	/* response rate */
	__u32 intervals;		/* consecutive intervals */
	double max_cv;			/* of request packets over those intervals */
};

struct detect_geography_cfg {
	__u32 hop_window;		/* intervals after a denial */
};

struct detect_config {
	bool enabled;
	int mode[DETECTOR_MAX];		/* DETECT_MODE_* */
	__u32 deny_seconds;		/* an enforce alert denies the prefix this long */
	__u32 cooldown;			/* intervals before the same alert repeats */
	__u32 max_tracked;		/* prefix and AS states kept */
	struct detect_volume_cfg volume;
	struct detect_dispersion_cfg dispersion;
	struct detect_extraction_cfg extraction;
	struct detect_geography_cfg geography;
};

enum { DETECT_MODE_AUDIT = 0, DETECT_MODE_ENFORCE = 1 };

void detect_config_defaults(struct detect_config *cfg);

/* One active prefix of an interval, counts as dp_query_read() gives them. */
struct detect_obs {
	struct query_record rec;
	struct asn_info asn;
	__u16 country;			/* the prefix's country (geo table) */
};

/* A (model, country) the data plane denied (or audited) in the interval. */
struct detect_denial {
	__u32 model;
	__u16 country;
};

/* Ingress verdict of a model for a country, from the policy in force. */
typedef enum verdict (*detect_verdict_fn)(void *ctx, __u32 model, __u16 country);

#define DETECT_TEXT 192

struct detect_alert {
	__u64 interval;			/* detect's interval number */
	enum detector detector;
	int mode;			/* DETECT_MODE_* */
	struct query_key prefix;	/* model and prefix */
	__u32 asn;
	char org[ASN_ORG_MAX];
	__u16 country;			/* of the prefix */
	__u16 asn_country;		/* where the AS is registered */
	double value;			/* the figure that crossed */
	double threshold;		/* what it crossed */
	char figures[DETECT_TEXT];	/* every figure, for people */
};

struct detect_stats {
	__u64 alerts[DETECTOR_MAX];
	__u64 tracked;			/* states held now */
	__u64 untracked;		/* observations refused: max_tracked reached */
	__u64 resets;			/* counters that went backwards (LRU eviction) */
};

struct detect;

int detect_new(struct detect **out, const struct detect_config *cfg);
void detect_free(struct detect *d);
/* A new configuration (reload); history is kept. */
void detect_configure(struct detect *d, const struct detect_config *cfg);

/*
 * One interval of secs seconds. Returns the number of alerts written to
 * *alerts (malloc'd, caller frees; NULL when none) or -errno.
 */
int detect_interval(struct detect *d, double secs, const struct detect_obs *obs, size_t n,
		    const struct detect_denial *denials, size_t n_denials,
		    detect_verdict_fn verdict, void *vctx, struct detect_alert **alerts);

void detect_get_stats(const struct detect *d, struct detect_stats *out);
const char *detector_name(enum detector det);
/* "198.51.100.0/24" or "2001:db8::/48" into out. */
void detect_prefix_str(const struct query_key *k, char *out, size_t len);

#endif
