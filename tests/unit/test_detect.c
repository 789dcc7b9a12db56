// SPDX-License-Identifier: BSD-2-Clause
/*
 * The query-pattern detectors (userspace/lib/detect.c) on synthetic
 * intervals: each detector fires on its pattern with the exact figures and
 * mode, stays quiet on ordinary interactive traffic, respects its cooldown,
 * and the state survives a counter reset (an LRU eviction in the kernel).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "detect.h"

#define MODEL 3

struct sim {
	struct detect *d;
	struct detect_obs obs[64];
	size_t n;
	struct detect_denial den[4];
	size_t n_den;
	__u16 refused;		/* the country model MODEL refuses */
};

static enum verdict verdict_of(void *ctx, __u32 model, __u16 country)
{
	struct sim *s = ctx;

	(void)model;
	return country == s->refused ? VERDICT_DENY : VERDICT_ALLOW;
}

/* Adds per-interval amounts to a prefix's cumulative counts. */
static void traffic(struct sim *s, const char *prefix, __u32 asn, __u8 class, __u16 cc,
		    __u16 asn_cc, __u64 conns, __u64 req, __u64 resp)
{
	struct detect_obs *o = NULL;
	__u32 a[4] = { 0 };
	size_t i;

	inet_pton(AF_INET, prefix, a);
	for (i = 0; i < s->n; i++)
		if (s->obs[i].rec.key.addr[0] == a[0])
			o = &s->obs[i];
	if (!o) {
		o = &s->obs[s->n++];
		memset(o, 0, sizeof(*o));
		dp_query_key(&o->rec.key, MODEL, 4, a, 24);
	}
	o->asn.asn = asn;
	o->asn.class = class;
	o->asn.country = asn_cc;
	o->asn.org = "org";
	o->country = cc;
	o->rec.value.conns += conns;
	o->rec.value.req_packets += req / 100;
	o->rec.value.req_bytes += req;
	o->rec.value.resp_bytes += resp;
}

static int step(struct sim *s, struct detect_alert **alerts)
{
	int n = detect_interval(s->d, 1.0, s->obs, s->n, s->den, s->n_den, verdict_of, s, alerts);

	s->n_den = 0;
	return n;
}

static struct detect_config lab_config(void)
{
	struct detect_config c;

	detect_config_defaults(&c);
	c.volume.quota_bytes_per_sec = 0;
	c.volume.quota_conns_per_sec = 0;
	c.volume.min_bytes_per_sec = 10000;
	c.volume.warmup = 3;
	c.dispersion.min_prefixes = 5;
	c.dispersion.min_bytes = 1000;
	c.extraction.min_bytes_per_sec = 10000;
	c.mode[DETECTOR_EXTRACTION] = DETECT_MODE_ENFORCE;
	return c;
}

static struct sim *sim_new(void)
{
	static struct sim s;
	struct detect_config c = lab_config();

	memset(&s, 0, sizeof(s));
	s.refused = country_index('I', 'R');
	ASSERT_OK(detect_new(&s.d, &c), "detect_new");
	return &s;
}

/* Three interactive users: short answers, bursty, some intervals idle. */
static void interactive(struct sim *s, int t)
{
	__u16 de = country_index('D', 'E'), fr = country_index('F', 'R');

	traffic(s, "192.0.2.0", 3320, 0, de, de, 1, 900, t % 3 ? 4000 : 12000);
	if (t % 2)
		traffic(s, "198.51.100.0", 3215, 0, fr, fr, 2, 1500, 9000);
	traffic(s, "203.0.113.0", 3320, 0, de, de, t % 4 == 0, 300 + 200 * (t % 5), 2500);
}

static void ordinary_users_raise_nothing(void **state)
{
	struct sim *s = sim_new();
	struct detect_alert *a = NULL;
	int t, total = 0;

	(void)state;
	for (t = 0; t < 30; t++) {
		interactive(s, t);
		total += step(s, &a);
		free(a);
	}
	ASSERT_EQ(total, 0, "no alert in 30 intervals of interactive use");
	detect_free(s->d);
}

/* Five quiet intervals of one prefix: 5,000 response bytes a second. */
static void steady(struct sim *s, __u16 de)
{
	struct detect_alert *a = NULL;
	int t;

	for (t = 0; t < 5; t++) {
		traffic(s, "192.0.2.0", 3320, 0, de, de, 1, 1000, 5000);
		ASSERT_EQ(step(s, &a), 0, "steady: quiet");
	}
}

static void volume_fires_above_own_baseline(void **state)
{
	struct sim *s = sim_new();
	struct detect_alert *a = NULL;
	__u16 de = country_index('D', 'E');
	int n;

	(void)state;
	steady(s, de);
	traffic(s, "192.0.2.0", 3320, 0, de, de, 1, 1000, 500000);
	n = step(s, &a);
	ASSERT_EQ(n, 2, "the prefix and its AS");
	ASSERT_EQ(a[0].detector, DETECTOR_VOLUME, "volume");
	ASSERT_EQ((__u64)a[0].value, 500000, "figure: response B/s");
	ASSERT_EQ((__u64)a[0].threshold, 50000, "threshold: 10 x baseline 5000");
	ASSERT_EQ(a[0].mode, DETECT_MODE_AUDIT, "audit by default");
	ASSERT_EQ(a[0].asn, 3320, "asn");
	free(a);
	detect_free(s->d);
}

static void extraction_fires_on_a_steady_high_ratio(void **state)
{
	struct sim *s = sim_new();
	struct detect_alert *a = NULL;
	__u16 sg = country_index('S', 'G');
	int t, n = 0;

	(void)state;
	for (t = 0; t < 3; t++) {
		traffic(s, "198.18.5.0", 64501, ASN_CLASS_HOSTING, sg, sg, 10, 4000, 200000);
		n = step(s, &a);
		if (t < 2)
			ASSERT_EQ(n, 0, "not yet sustained");
	}
	ASSERT_EQ(n, 1, "third interval: extraction");
	ASSERT_EQ(a[0].detector, DETECTOR_EXTRACTION, "extraction");
	ASSERT_EQ((__u64)a[0].value, 50, "ratio 200000/4000");
	ASSERT_EQ(a[0].mode, DETECT_MODE_ENFORCE, "mapped to enforce");
	free(a);
	traffic(s, "198.18.5.0", 64501, ASN_CLASS_HOSTING, sg, sg, 10, 4000, 200000);
	ASSERT_EQ(step(s, &a), 0, "cooldown: not again at once");
	detect_free(s->d);
}

static void dispersion_fires_on_many_similar_hosting_prefixes(void **state)
{
	struct sim *s = sim_new();
	struct detect_alert *a = NULL;
	__u16 us = country_index('U', 'S');
	char p[32];
	int i, n;

	(void)state;
	for (i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "198.18.%d.0", 20 + i);
		traffic(s, p, 64502, ASN_CLASS_HOSTING, us, us, 1, 800, 8000 + 100 * i);
	}
	/* A heavy hitter beside the campaign does not hide it. */
	traffic(s, "198.18.40.0", 64502, ASN_CLASS_HOSTING, us, us, 1, 800, 900000);
	n = step(s, &a);
	ASSERT_EQ(n, 1, "one dispersion alert");
	ASSERT_EQ(a[0].detector, DETECTOR_DISPERSION, "dispersion");
	ASSERT_EQ((__u64)a[0].value, 6, "six prefixes");
	ASSERT_EQ((__u64)a[0].threshold, 5, "min prefixes");
	free(a);
	detect_free(s->d);
}

static void geography_fires_on_registration_and_on_a_vpn_hop(void **state)
{
	struct sim *s = sim_new();
	struct detect_alert *a = NULL;
	__u16 sg = country_index('S', 'G'), ir = country_index('I', 'R');
	__u16 nl = country_index('N', 'L');
	int n;

	(void)state;
	traffic(s, "198.18.9.0", 64503, 0, sg, ir, 1, 500, 2000);
	n = step(s, &a);
	ASSERT_EQ(n, 1, "AS registered in a refused country");
	ASSERT_EQ(a[0].detector, DETECTOR_GEOGRAPHY, "geography");
	ASSERT_EQ(a[0].asn_country, ir, "AS country");
	ASSERT_EQ(a[0].country, sg, "prefix country");
	free(a);
	s->den[s->n_den++] = (struct detect_denial){ MODEL, ir };
	ASSERT_EQ(step(s, &a), 0, "a denial alone is no alert");
	traffic(s, "198.18.10.0", 9009, ASN_CLASS_VPN, nl, nl, 1, 500, 2000);
	n = step(s, &a);
	ASSERT_EQ(n, 1, "new VPN prefix right after the denial");
	ASSERT_EQ(a[0].detector, DETECTOR_GEOGRAPHY, "geography (hop)");
	ASSERT_EQ((__u64)a[0].value, 1, "one interval after the denial");
	free(a);
	detect_free(s->d);
}

static void counter_reset_is_a_fresh_count(void **state)
{
	struct sim *s = sim_new();
	struct detect_alert *a = NULL;
	struct detect_stats st;
	__u16 de = country_index('D', 'E');

	(void)state;
	traffic(s, "192.0.2.0", 3320, 0, de, de, 1, 1000, 5000);
	step(s, &a);
	/* The kernel evicted and re-inserted the prefix: counts restart small. */
	memset(&s->obs[0].rec.value, 0, sizeof(s->obs[0].rec.value));
	traffic(s, "192.0.2.0", 3320, 0, de, de, 1, 100, 700);
	ASSERT_EQ(step(s, &a), 0, "no alert");
	detect_get_stats(s->d, &st);
	ASSERT_EQ(st.resets, 1, "reset counted");
	ASSERT_EQ(st.tracked, 2, "prefix and AS tracked");
	detect_free(s->d);
}

/*
 * XDP's cache hands over one interval's counts (rec.fresh) beside the LRU's
 * cumulative ones: the interval's figure is the LRU's growth plus them,
 * also for a prefix the LRU no longer holds.
 */
static void cached_counts_add_to_the_interval(void **state)
{
	struct sim *s = sim_new();
	struct detect_alert *a = NULL;
	struct detect_stats st;
	__u16 de = country_index('D', 'E');
	int n;

	(void)state;
	steady(s, de);
	traffic(s, "192.0.2.0", 3320, 0, de, de, 1, 1000, 5000);
	s->obs[0].rec.fresh.resp_bytes = 495000;
	n = step(s, &a);
	ASSERT_EQ(n, 2, "the prefix and its AS");
	ASSERT_EQ(a[0].detector, DETECTOR_VOLUME, "volume");
	ASSERT_EQ((__u64)a[0].value, 500000, "LRU growth 5000 + cached 495000 B/s");
	free(a);
	/* Evicted from the LRU, counted by the cache alone. */
	memset(&s->obs[0].rec.value, 0, sizeof(s->obs[0].rec.value));
	s->obs[0].rec.fresh.resp_bytes = 5000;
	ASSERT_EQ(step(s, &a), 0, "evicted prefix, counted by the cache: no alert");
	detect_get_stats(s->d, &st);
	ASSERT_EQ(st.resets, 1, "the eviction seen as a reset");
	detect_free(s->d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ordinary_users_raise_nothing),
		cmocka_unit_test(volume_fires_above_own_baseline),
		cmocka_unit_test(extraction_fires_on_a_steady_high_ratio),
		cmocka_unit_test(dispersion_fires_on_many_similar_hosting_prefixes),
		cmocka_unit_test(geography_fires_on_registration_and_on_a_vpn_hop),
		cmocka_unit_test(counter_reset_is_a_fresh_count),
		cmocka_unit_test(cached_counts_add_to_the_interval),
	};

	return cmocka_run_group_tests_name("unit/detect", tests, NULL, NULL);
}
