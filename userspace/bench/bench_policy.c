// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-bench policy: how long the policy compiler takes on a fleet-size
 * policy (by default 10,000 models, each with an endpoint and a tenant,
 * over 250 countries in groups, three tiers, exceptions and guarantees),
 * from YAML text in memory to the hashed, compiled tables; the target is
 * under a second. The policy is generated, so every run measures the same
 * input without shipping a large file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "country.h"
#include "policy.h"

#define GROUP_SIZE 25

struct bench_policy_opts {
	unsigned int models, countries, runs;
	bool json;
};

/* The first n country codes (249 ISO codes and XK make 250). */
static size_t pick_countries(unsigned int n, char (*codes)[COUNTRY_STRLEN])
{
	size_t got = 0;
	__u16 i;

	for (i = 1; i < COUNTRY_MAX && got < n; i++)
		if (country_name(i))
			country_str(i, codes[got++]);
	return got;
}

static void gen_groups(struct strbuf *sb, char (*codes)[COUNTRY_STRLEN], size_t n)
{
	size_t i;

	strbuf_puts(sb, "country_groups:\n");
	for (i = 0; i < n; i++) {
		if (i % GROUP_SIZE == 0)
			strbuf_printf(sb, "%s  g%zu: [", i ? "]\n" : "", i / GROUP_SIZE);
		strbuf_printf(sb, "%s%s", i % GROUP_SIZE ? ", " : "", codes[i]);
	}
	strbuf_puts(sb, "]\n  partners: [g0, g1, g2, AE]\n"
			"tiers:\n"
			"  open:\n"
			"    ingress: {allow: [all], deny: [g9]}\n"
			"    egress: {allow: [all], deny: [g9]}\n"
			"  licensed:\n"
			"    ingress: {allow: [partners]}\n"
			"    egress: {allow: [partners]}\n"
			"  prohibited:\n"
			"    mode: audit\n"
			"    ingress: {allow: [US]}\n"
			"    egress: {allow: [US]}\n");
}

static void gen_models(struct strbuf *sb, unsigned int models)
{
	static const char *const tiers[] = { "open", "licensed", "prohibited" };
	unsigned int i;

	strbuf_puts(sb, "models:\n");
	for (i = 0; i < models; i++) {
		strbuf_printf(sb, "  - name: model-%05u\n    tier: %s\n"
				  "    endpoints: [10.%u.%u.%u:8443/tcp]\n"
				  "    tenants: [/serving/model-%05u]\n",
			      i, tiers[i % 3], (i >> 16) & 255, (i >> 8) & 255, i & 255, i);
		if (i % 10 == 1)
			strbuf_printf(sb, "    exceptions: [{countries: [IN], verdict: allow, "
					  "reason: licence, reference: LIC-%u}]\n", i);
	}
	strbuf_puts(sb, "guarantees:\n"
			"  - {name: host-open, tiers: [open], from: 2026-01-01, availability: 99.9}\n"
			"  - {name: host-licensed, tiers: [licensed], from: 2026-01-01}\n");
}

static int gen_policy(const struct bench_policy_opts *o, struct strbuf *sb)
{
	char (*codes)[COUNTRY_STRLEN] = calloc(o->countries + 1, sizeof(*codes));
	size_t n;

	if (!codes)
		return -ENOMEM;
	n = pick_countries(o->countries, codes);
	strbuf_puts(sb, "version: 1\nnode: {id: bench, country: AE}\nunknown_model_tier: open\n");
	gen_groups(sb, codes, n);
	gen_models(sb, o->models);
	free(codes);
	return strbuf_failed(sb) ? -ENOMEM : 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int parse_opts(int argc, char **argv, struct bench_policy_opts *o)
{
	static const struct option opts[] = {
		{ "models", required_argument, NULL, 'm' },
		{ "countries", required_argument, NULL, 'c' },
		{ "runs", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	int c;

	*o = (struct bench_policy_opts){ .models = 10000, .countries = 250, .runs = 5 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->models = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o->countries = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o->runs = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'j':
			o->json = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !o->models || o->models > 1000000 || o->countries < 250 ||
	    o->countries > COUNTRY_MAX || !o->runs || o->runs > 100)
		return -EINVAL;
	return 0;
}

static int measure(const struct bench_policy_opts *o, const struct strbuf *text,
		   double *ms, struct policy **last)
{
	struct policy_diag diag;
	unsigned int i;
	int rc = 0;

	*last = NULL;
	for (i = 0; i < o->runs && !rc; i++) {
		double t0;

		policy_free(*last);
		*last = NULL;
		policy_diag_init(&diag);
		t0 = now_ms();
		rc = policy_load_buf("bench.yaml", text->buf, text->len, NULL, last, &diag);
		ms[i] = now_ms() - t0;
		if (rc)
			fprintf(stderr, "customs-bench policy: %s\n", diag.error);
		policy_diag_free(&diag);
	}
	return rc;
}

int bench_policy(int argc, char **argv)
{
	struct bench_policy_opts o;
	struct policy *p = NULL;
	struct strbuf text;
	double *ms;
	int rc;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: customs-bench policy [--models N] [--countries N] [--runs N] [--json]\n"
		       "Compiles a generated policy (10000 models with one endpoint and one tenant\n"
		       "each, 250 countries) --runs times; reports the minimum and median.\n");
		return 0;
	}
	if (parse_opts(argc, argv, &o)) {
		fprintf(stderr, "customs-bench policy: bad options (see --help)\n");
		return 2;
	}
	strbuf_init(&text);
	ms = calloc(o.runs, sizeof(*ms));
	rc = ms ? gen_policy(&o, &text) : -ENOMEM;
	if (!rc)
		rc = measure(&o, &text, ms, &p);
	if (!rc) {
		qsort(ms, o.runs, sizeof(*ms), cmp_double);
		printf(o.json ? "{\"subject\":\"policy\",\"models\":%u,\"endpoints\":%zu,"
				"\"tenants\":%zu,\"countries\":%u,\"yaml_bytes\":%zu,\"runs\":%u,"
				"\"compile_ms_min\":%.1f,\"compile_ms_median\":%.1f}\n"
			      : "policy: %u models, %zu endpoints, %zu tenants, %u countries, "
				"%zu bytes of YAML, %u runs: compile min %.1f ms, median %.1f ms\n",
		       policy_model_count(p), policy_endpoint_count(p), policy_tenant_count(p),
		       o.countries, text.len, o.runs, ms[0], ms[o.runs / 2]);
	}
	policy_free(p);
	strbuf_free(&text);
	free(ms);
	return rc ? 1 : 0;
}
