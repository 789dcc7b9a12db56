// SPDX-License-Identifier: BSD-2-Clause
/*
 * The four query-pattern detectors over per-prefix and per-AS state; see
 * detect.h for what each looks for and docs/query-patterns.md for why the
 * defaults are what they are. States live in one array with a hash index
 * rebuilt each interval, after idle states are dropped, so memory is
 * bounded by max_tracked and an interval costs O(active + tracked).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

#define HIST 16			/* longest window or streak, in intervals */
#define FAMILY_ASN 0		/* a state keyed by AS: addr[0] is the number */

struct dstate {
	struct query_key key;
	struct query_value last;	/* cumulative, as last read (prefixes) */
	struct query_value cur;		/* this interval's delta */
	bool active;
	__u64 first_seen, last_seen;
	__u32 n_seen;			/* intervals in the baseline */
	double base_bytes, base_conns;	/* per second, moving */
	double hist[HIST];		/* response bytes, by interval % HIST */
	__u64 hist_at[HIST];
	__u32 streak;			/* intervals the extraction shape held */
	double streak_req[HIST];	/* request packets of those intervals */
	__u64 last_alert[DETECTOR_MAX];
	struct asn_info asn;		/* org points into org below */
	char org[ASN_ORG_MAX];
	__u16 country;
	struct query_key top;		/* AS states: their busiest prefix now */
	__u64 top_bytes;
};

struct dmodel {
	__u32 model;
	__u64 last_denial;		/* interval, 0 = never */
	__u64 last_dispersion;		/* interval of the last alert */
};

struct detect {
	struct detect_config cfg;
	__u64 interval;
	struct dstate *st;
	size_t n, cap;
	__u32 *index;			/* st index + 1, open addressing */
	size_t index_cap;
	struct dmodel *models;
	size_t n_models, cap_models;
	struct detect_alert *out;
	size_t n_out, cap_out;
	struct detect_stats stats;
};

static const char *const detector_names[DETECTOR_MAX] = {
	[DETECTOR_VOLUME] = "volume",
	[DETECTOR_DISPERSION] = "dispersion",
	[DETECTOR_EXTRACTION] = "extraction",
	[DETECTOR_GEOGRAPHY] = "geography",
};

const char *detector_name(enum detector det)
{
	return (unsigned)det < DETECTOR_MAX ? detector_names[det] : "unknown";
}

void detect_config_defaults(struct detect_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = true;
	cfg->deny_seconds = 600;
	cfg->cooldown = 10;
	cfg->max_tracked = 65536;
	cfg->volume = (struct detect_volume_cfg){
		.factor = 10, .min_bytes_per_sec = 1 << 20, .warmup = 5,
		.baseline_intervals = 30, .quota_bytes_per_sec = 50 << 20,
		.quota_conns_per_sec = 500,
	};
	cfg->dispersion = (struct detect_dispersion_cfg){
		.min_prefixes = 8, .window = 6, .min_bytes = 64 << 10, .max_cv = 0.5,
	};
	cfg->extraction = (struct detect_extraction_cfg){
		.ratio = 20, .min_bytes_per_sec = 256 << 10, .intervals = 3, .max_cv = 0.35,
	};
	cfg->geography = (struct detect_geography_cfg){ .hop_window = 6 };
}

void detect_prefix_str(const struct query_key *k, char *out, size_t len)
{
	char a[64];

	if (k->family == FAMILY_ASN) {
		snprintf(out, len, "AS%u", k->addr[0]);
		return;
	}
	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->addr, a, sizeof(a));
	snprintf(out, len, "%s/%u", a, k->plen);
}

int detect_new(struct detect **out, const struct detect_config *cfg)
{
	struct detect *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	*out = d;
	return 0;
}

void detect_free(struct detect *d)
{
	if (!d)
		return;
	free(d->st);
	free(d->index);
	free(d->models);
	free(d->out);
	free(d);
}

void detect_configure(struct detect *d, const struct detect_config *cfg)
{
	d->cfg = *cfg;
}

void detect_get_stats(const struct detect *d, struct detect_stats *out)
{
	*out = d->stats;
	out->tracked = d->n;
}

static size_t key_hash(const struct query_key *k)
{
	const __u32 *w = (const __u32 *)k;
	size_t h = 2166136261u, i;

	for (i = 0; i < sizeof(*k) / 4; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}

static int index_rebuild(struct detect *d)
{
	size_t cap = 1024, i, s;

	while (cap < d->n * 2 + 2)
		cap *= 2;
	if (cap != d->index_cap) {
		__u32 *idx = calloc(cap, sizeof(*idx));

		if (!idx)
			return -ENOMEM;
		free(d->index);
		d->index = idx;
		d->index_cap = cap;
	} else {
		memset(d->index, 0, cap * sizeof(*d->index));
	}
	for (i = 0; i < d->n; i++) {
		for (s = key_hash(&d->st[i].key) & (cap - 1); d->index[s]; s = (s + 1) & (cap - 1))
			;
		d->index[s] = (__u32)i + 1;
	}
	return 0;
}

/* The state of key, created when absent; NULL when full or out of memory. */
static struct dstate *state_get(struct detect *d, const struct query_key *key)
{
	size_t s;
	struct dstate *st;

	if (!d->index_cap && index_rebuild(d))
		return NULL;
	for (s = key_hash(key) & (d->index_cap - 1); d->index[s];
	     s = (s + 1) & (d->index_cap - 1))
		if (!memcmp(&d->st[d->index[s] - 1].key, key, sizeof(*key)))
			return &d->st[d->index[s] - 1];
	if (d->n >= d->cfg.max_tracked) {
		d->stats.untracked++;
		return NULL;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		void *p = reallocarray(d->st, cap, sizeof(*d->st));

		if (!p)
			return NULL;
		d->st = p;
		d->cap = cap;
	}
	st = &d->st[d->n];
	memset(st, 0, sizeof(*st));
	st->key = *key;
	st->first_seen = d->interval;
	st->asn.org = st->org;
	d->index[s] = (__u32)d->n + 1;
	d->n++;
	if (d->n * 2 > d->index_cap && index_rebuild(d))
		return NULL;
	return &d->st[d->n - 1];
}

static struct dmodel *model_get(struct detect *d, __u32 model)
{
	size_t i;

	for (i = 0; i < d->n_models; i++)
		if (d->models[i].model == model)
			return &d->models[i];
	if (d->n_models == d->cap_models) {
		size_t cap = d->cap_models ? d->cap_models * 2 : 16;
		void *p = reallocarray(d->models, cap, sizeof(*d->models));

		if (!p)
			return NULL;
		d->models = p;
		d->cap_models = cap;
	}
	d->models[d->n_models] = (struct dmodel){ .model = model };
	return &d->models[d->n_models++];
}

static struct detect_alert *alert_new(struct detect *d, enum detector det,
				      const struct dstate *st, double value, double threshold)
{
	struct detect_alert *a;

	if (d->n_out == d->cap_out) {
		size_t cap = d->cap_out ? d->cap_out * 2 : 16;
		void *p = reallocarray(d->out, cap, sizeof(*d->out));

		if (!p)
			return NULL;
		d->out = p;
		d->cap_out = cap;
	}
	a = &d->out[d->n_out++];
	memset(a, 0, sizeof(*a));
	a->interval = d->interval;
	a->detector = det;
	a->mode = d->cfg.mode[det];
	a->prefix = st->key.family == FAMILY_ASN ? st->top : st->key;
	a->asn = st->asn.asn;
	snprintf(a->org, sizeof(a->org), "%s", st->org);
	a->country = st->country;
	a->asn_country = st->asn.country;
	a->value = value;
	a->threshold = threshold;
	d->stats.alerts[det]++;
	return a;
}

/* Once per cooldown per state and detector. */
static bool may_alert(struct detect *d, struct dstate *st, enum detector det)
{
	if (st->last_alert[det] && d->interval - st->last_alert[det] < d->cfg.cooldown)
		return false;
	st->last_alert[det] = d->interval;
	return true;
}

static __u64 sub(__u64 now, __u64 last, bool *reset)
{
	if (now < last)
		*reset = true;
	return now - last;
}

/* Takes the delta of one prefix and adds it to its AS. */
static void observe(struct detect *d, const struct detect_obs *o)
{
	struct dstate *st = state_get(d, &o->rec.key), *as;
	const struct query_value *v = &o->rec.value;
	struct query_value delta;
	struct query_key ak, pkey;
	bool reset = false;

	if (!st)
		return;
	st->cur.conns = sub(v->conns, st->last.conns, &reset);
	st->cur.req_packets = sub(v->req_packets, st->last.req_packets, &reset);
	st->cur.req_bytes = sub(v->req_bytes, st->last.req_bytes, &reset);
	st->cur.resp_bytes = sub(v->resp_bytes, st->last.resp_bytes, &reset);
	if (reset) {
		/* Evicted from the kernel's LRU and counted afresh. */
		st->cur = *v;
		d->stats.resets++;
	}
	/* What XDP's cache counted this interval, apart from the LRU's totals. */
	dp_query_value_add(&st->cur, &o->rec.fresh);
	st->last = *v;
	if (!st->cur.req_packets && !st->cur.resp_bytes)
		return;
	st->active = true;
	st->last_seen = d->interval;
	st->asn = o->asn;
	snprintf(st->org, sizeof(st->org), "%s", o->asn.org ? o->asn.org : "");
	st->asn.org = st->org;
	st->country = o->country;
	if (!o->asn.asn)
		return;
	delta = st->cur;
	pkey = st->key;
	memset(&ak, 0, sizeof(ak));
	ak.model = o->rec.key.model;
	ak.family = FAMILY_ASN;
	ak.addr[0] = o->asn.asn;
	/* This may move the array: st is not used after it. */
	as = state_get(d, &ak);
	if (!as)
		return;
	as->active = true;
	as->last_seen = d->interval;
	as->cur.conns += delta.conns;
	as->cur.req_packets += delta.req_packets;
	as->cur.req_bytes += delta.req_bytes;
	as->cur.resp_bytes += delta.resp_bytes;
	if (delta.resp_bytes >= as->top_bytes) {
		as->top_bytes = delta.resp_bytes;
		as->top = pkey;
	}
	as->asn = o->asn;
	snprintf(as->org, sizeof(as->org), "%s", o->asn.org ? o->asn.org : "");
	as->asn.org = as->org;
	as->country = o->country;
}

static void volume_check(struct detect *d, struct dstate *st, double secs)
{
	const struct detect_volume_cfg *c = &d->cfg.volume;
	double bytes = (double)st->cur.resp_bytes / secs, conns = (double)st->cur.conns / secs;
	struct detect_alert *a = NULL;
	char who[64];

	detect_prefix_str(&st->key, who, sizeof(who));
	if (c->quota_bytes_per_sec > 0 && bytes > c->quota_bytes_per_sec) {
		if (may_alert(d, st, DETECTOR_VOLUME) &&
		    (a = alert_new(d, DETECTOR_VOLUME, st, bytes, c->quota_bytes_per_sec)))
			snprintf(a->figures, sizeof(a->figures),
				 "%s: %.0f response B/s over the quota of %.0f B/s", who, bytes,
				 c->quota_bytes_per_sec);
	} else if (c->quota_conns_per_sec > 0 && conns > c->quota_conns_per_sec) {
		if (may_alert(d, st, DETECTOR_VOLUME) &&
		    (a = alert_new(d, DETECTOR_VOLUME, st, conns, c->quota_conns_per_sec)))
			snprintf(a->figures, sizeof(a->figures),
				 "%s: %.1f connections/s over the quota of %.1f/s", who, conns,
				 c->quota_conns_per_sec);
	} else if (st->n_seen >= c->warmup && bytes >= c->min_bytes_per_sec &&
		   bytes > c->factor * st->base_bytes) {
		if (may_alert(d, st, DETECTOR_VOLUME) &&
		    (a = alert_new(d, DETECTOR_VOLUME, st, bytes, c->factor * st->base_bytes)))
			snprintf(a->figures, sizeof(a->figures),
				 "%s: %.0f response B/s, %.1fx its baseline of %.0f B/s (factor %.1f)",
				 who, bytes, st->base_bytes > 0 ? bytes / st->base_bytes : 0,
				 st->base_bytes, c->factor);
	}
}

static void baseline_update(struct detect *d, struct dstate *st, double secs)
{
	double alpha = 2.0 / ((double)d->cfg.volume.baseline_intervals + 1);
	double bytes = (double)st->cur.resp_bytes / secs, conns = (double)st->cur.conns / secs;

	if (!st->n_seen) {
		st->base_bytes = bytes;
		st->base_conns = conns;
	} else {
		st->base_bytes += alpha * (bytes - st->base_bytes);
		st->base_conns += alpha * (conns - st->base_conns);
	}
	st->n_seen++;
}

static double cv_of(const double *v, size_t n, double *mean_out)
{
	double mean = 0, var = 0;
	size_t i;

	for (i = 0; i < n; i++)
		mean += v[i];
	mean /= n ? (double)n : 1;
	for (i = 0; i < n; i++)
		var += (v[i] - mean) * (v[i] - mean);
	var /= n ? (double)n : 1;
	if (mean_out)
		*mean_out = mean;
	return mean > 0 ? sqrt(var) / mean : 0;
}

static void extraction_check(struct detect *d, struct dstate *st, double secs)
{
	const struct detect_extraction_cfg *c = &d->cfg.extraction;
	double resp = (double)st->cur.resp_bytes, req = (double)st->cur.req_bytes;
	double ratio = resp / (req > 0 ? req : 1), cv, mean;
	__u32 need = c->intervals < HIST ? c->intervals : HIST;
	struct detect_alert *a;
	char who[64];

	if (!st->active || resp / secs < c->min_bytes_per_sec || ratio < c->ratio) {
		st->streak = 0;
		return;
	}
	st->streak_req[st->streak % HIST] = (double)st->cur.req_packets;
	st->streak++;
	if (st->streak < need)
		return;
	cv = cv_of(st->streak_req, need, &mean);
	if (cv > c->max_cv || !may_alert(d, st, DETECTOR_EXTRACTION))
		return;
	a = alert_new(d, DETECTOR_EXTRACTION, st, ratio, c->ratio);
	if (!a)
		return;
	detect_prefix_str(&st->key, who, sizeof(who));
	snprintf(a->figures, sizeof(a->figures),
		 "%s: response/request %.1f (threshold %.1f) for %u intervals at %.0f B/s, "
		 "request packets cv %.2f (max %.2f)", who, ratio, c->ratio, st->streak,
		 resp / secs, cv, c->max_cv);
}

static void geography_check(struct detect *d, struct dstate *st, detect_verdict_fn verdict,
			    void *vctx)
{
	struct dmodel *m = model_get(d, st->key.model);
	__u16 home = st->asn.country;
	struct detect_alert *a;
	char who[64], cc[3], hc[3];

	if (!st->active || !m)
		return;
	detect_prefix_str(&st->key, who, sizeof(who));
	country_code(st->country, cc);
	cc[2] = '\0';
	country_code(home, hc);
	hc[2] = '\0';
	if (home != COUNTRY_ZZ && home != st->country &&
	    verdict(vctx, st->key.model, home) != VERDICT_ALLOW &&
	    verdict(vctx, st->key.model, st->country) == VERDICT_ALLOW) {
		if (may_alert(d, st, DETECTOR_GEOGRAPHY) &&
		    (a = alert_new(d, DETECTOR_GEOGRAPHY, st, 1, 0)))
			snprintf(a->figures, sizeof(a->figures),
				 "%s in %s is announced by AS%u registered in %s, which this "
				 "model refuses", who, cc, st->asn.asn, hc);
		return;
	}
	if (!(st->asn.class & ASN_CLASS_ANONYMISING) || !m->last_denial ||
	    st->first_seen < m->last_denial ||
	    st->first_seen - m->last_denial > d->cfg.geography.hop_window)
		return;
	if (may_alert(d, st, DETECTOR_GEOGRAPHY) &&
	    (a = alert_new(d, DETECTOR_GEOGRAPHY, st, (double)(st->first_seen - m->last_denial),
			   d->cfg.geography.hop_window)))
		snprintf(a->figures, sizeof(a->figures),
			 "%s (%s AS%u) first seen %llu intervals after this model denied a "
			 "country (window %u): a VPN hop", who, asn_class_name(st->asn.class),
			 st->asn.asn, (unsigned long long)(st->first_seen - m->last_denial),
			 d->cfg.geography.hop_window);
}

static double window_sum(const struct detect *d, const struct dstate *st)
{
	__u32 w = d->cfg.dispersion.window < HIST ? d->cfg.dispersion.window : HIST;
	double sum = 0;
	size_t i;

	for (i = 0; i < HIST; i++)
		if (st->hist_at[i] && st->hist_at[i] + w > d->interval)
			sum += st->hist[i];
	return sum;
}

/* Sorts by model, then by volume ascending. */
static int cmp_model_bytes(const void *x, const void *y)
{
	const double *a = x, *b = y;

	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

/*
 * The largest run of one model's volumes (sorted) whose largest is within
 * the band of its smallest: "similar volume profiles". A campaign spread
 * over many prefixes stays one cluster even beside a single heavy hitter.
 */
static size_t best_cluster(double (*m)[3], size_t i, size_t j, double band, size_t *from)
{
	size_t lo = i, hi, best = 0;

	*from = i;
	for (hi = i; hi < j; hi++) {
		while (m[hi][1] > m[lo][1] * band)
			lo++;
		if (hi - lo + 1 > best) {
			best = hi - lo + 1;
			*from = lo;
		}
	}
	return best;
}

/* Per model: anonymising prefixes active in the window, their volumes alike. */
static int dispersion_check(struct detect *d)
{
	const struct detect_dispersion_cfg *c = &d->cfg.dispersion;
	double (*m)[3] = calloc(d->n ? d->n : 1, sizeof(*m)), *vol = NULL;
	double band = c->max_cv < 1 ? (1 + c->max_cv) / (1 - c->max_cv) : 1e300;
	size_t n = 0, i, j, k, from, cnt;
	int rc = 0;

	if (!m)
		return -ENOMEM;
	for (i = 0; i < d->n; i++) {
		const struct dstate *st = &d->st[i];
		double sum;

		if (st->key.family == FAMILY_ASN || !(st->asn.class & ASN_CLASS_ANONYMISING))
			continue;
		sum = window_sum(d, st);
		if (sum < c->min_bytes)
			continue;
		m[n][0] = st->key.model;
		m[n][1] = sum;
		m[n][2] = (double)i;
		n++;
	}
	qsort(m, n, sizeof(*m), cmp_model_bytes);
	vol = calloc(n ? n : 1, sizeof(*vol));
	if (!vol) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i = j) {
		struct dmodel *dm = model_get(d, (__u32)m[i][0]);
		struct detect_alert *a;
		struct dstate *top;
		double cv, mean;

		for (j = i; j < n && m[j][0] == m[i][0]; j++)
			;
		cnt = best_cluster(m, i, j, band, &from);
		if (cnt < c->min_prefixes || !dm)
			continue;
		for (k = 0; k < cnt; k++)
			vol[k] = m[from + k][1];
		cv = cv_of(vol, cnt, &mean);
		if (cv > c->max_cv)
			continue;
		if (dm->last_dispersion && d->interval - dm->last_dispersion < d->cfg.cooldown)
			continue;
		dm->last_dispersion = d->interval;
		top = &d->st[(size_t)m[from + cnt - 1][2]];
		a = alert_new(d, DETECTOR_DISPERSION, top, (double)cnt, c->min_prefixes);
		if (a)
			snprintf(a->figures, sizeof(a->figures),
				 "%zu hosting/VPN/proxy prefixes in %u intervals (min %u), %.0f B "
				 "each on average, volume cv %.2f (max %.2f)", cnt, c->window,
				 c->min_prefixes, mean, cv, c->max_cv);
	}
out:
	free(vol);
	free(m);
	return rc;
}

/* Drops states idle longer than any detector looks back. */
static int compact(struct detect *d)
{
	__u64 keep = 4ull * d->cfg.volume.baseline_intervals + HIST + d->cfg.geography.hop_window;
	size_t i, o = 0;

	for (i = 0; i < d->n; i++) {
		if (d->interval - d->st[i].last_seen > keep && d->st[i].last_seen)
			continue;
		if (o != i)
			d->st[o] = d->st[i];
		d->st[o].asn.org = d->st[o].org;
		o++;
	}
	d->n = o;
	return index_rebuild(d);
}

int detect_interval(struct detect *d, double secs, const struct detect_obs *obs, size_t n,
		    const struct detect_denial *denials, size_t n_denials,
		    detect_verdict_fn verdict, void *vctx, struct detect_alert **alerts)
{
	size_t i;
	int rc;

	*alerts = NULL;
	d->n_out = 0;
	d->interval++;
	if (secs <= 0)
		secs = 1;
	for (i = 0; i < d->n; i++) {
		d->st[i].active = false;
		d->st[i].top_bytes = 0;
		memset(&d->st[i].cur, 0, sizeof(d->st[i].cur));
	}
	for (i = 0; i < n; i++)
		observe(d, &obs[i]);
	for (i = 0; i < n_denials; i++) {
		struct dmodel *m = model_get(d, denials[i].model);

		if (m)
			m->last_denial = d->interval;
	}
	if (!d->cfg.enabled)
		return compact(d);
	for (i = 0; i < d->n; i++) {
		struct dstate *st = &d->st[i];

		if (st->active)
			volume_check(d, st, secs);
		baseline_update(d, st, secs);
		if (st->key.family == FAMILY_ASN)
			continue;
		extraction_check(d, st, secs);
		geography_check(d, st, verdict, vctx);
		st->hist[d->interval % HIST] = (double)st->cur.resp_bytes;
		st->hist_at[d->interval % HIST] = d->interval;
	}
	rc = dispersion_check(d) ?: compact(d);
	if (rc)
		return rc;
	if (!d->n_out)
		return 0;
	*alerts = malloc(d->n_out * sizeof(**alerts));
	if (!*alerts)
		return -ENOMEM;
	memcpy(*alerts, d->out, d->n_out * sizeof(**alerts));
	return (int)d->n_out;
}
