// SPDX-License-Identifier: BSD-2-Clause
/*
 * customsctl policy check|explain|diff|compile: the policy compiler for
 * people. None of it needs root or BPF, so SREs run `policy check` in
 * their own CI on every policy change and `policy diff` in review; what
 * the agent would apply is exactly what these print.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi_names.h"
#include "cli.h"
#include "country.h"
#include "policy.h"

static const char *const usage_text =
	"Usage: customsctl policy check [--at TIME] FILE...\n"
	"       customsctl policy explain FILE --model M --country CC [--direction ingress|egress] [--json]\n"
	"       customsctl policy diff OLD NEW\n"
	"       customsctl policy compile FILE [--json|--canonical]\n"
	"       customsctl policy cgroups FILE [--mount DIR]\n"
	"\n"
	"  check    validate and compile; print a summary and the hash, warnings on stderr\n"
	"  explain  the verdict for one cell and the chain of rules that produced it\n"
	"           (--model unknown: traffic of no known model)\n"
	"  diff     every (model, country, direction) whose verdict changes, and the\n"
	"           guarantees gained, lost or revoked\n"
	"  compile  the compiled matrix, tenants, endpoints and guarantees as JSON,\n"
	"           or the canonical form the hash is taken of\n"
	"  cgroups  the cgroups on this node the tenant patterns match:\n"
	"           ID<TAB>TENANT<TAB>MODEL<TAB>PATH (--mount: the cgroup2 mount,\n"
	"           default: found in /proc/self/mounts)\n"
	"\n"
	"  --at TIME  judge guarantee expiry at TIME (2026-01-31T00:00:00Z), not now\n"
	"Exit: 0 success, 1 a policy error, 2 usage. See docs/policy.md.\n";

static int usage(FILE *out, int rc)
{
	fputs(usage_text, out);
	return rc;
}

static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

/* Loads one file, printing its warnings and error; NULL on error. */
static struct policy *load(const char *path, int64_t now)
{
	struct policy_opts opts = { .now = now };
	struct policy_diag diag;
	struct policy *p = NULL;
	int rc;

	policy_diag_init(&diag);
	rc = policy_load_file(path, &opts, &p, &diag);
	fputs(strbuf_str(&diag.warnings), stderr);
	if (rc)
		fprintf(stderr, "%s\n", diag.error);
	policy_diag_free(&diag);
	return p;
}

static int check(int argc, char **argv)
{
	static const struct option opts[] = { { "at", required_argument, NULL, 'a' }, { 0 } };
	char hex[2 * SHA256_LEN + 1];
	__u8 hash[SHA256_LEN];
	int64_t now = time(NULL);
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'a' || policy_parse_time(optarg, &now)) {
			if (c == 'a')
				fprintf(stderr, "customsctl policy check: invalid time '%s'\n", optarg);
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (optind >= argc)
		return usage(stderr, EXIT_USAGE);
	for (; optind < argc; optind++) {
		struct policy *p = load(argv[optind], now);

		if (!p) {
			rc = 1;
			continue;
		}
		policy_hash(p, hash);
		sha256_hex(hash, hex);
		printf("%s: ok: %u models, %zu tenants, %zu endpoints, %zu guarantees; hash %s\n",
		       argv[optind], policy_model_count(p), policy_tenant_count(p),
		       policy_endpoint_count(p), policy_guarantee_count(p), hex);
		policy_free(p);
	}
	return rc;
}

static void print_explanation(const struct policy *p, __u32 model, enum direction dir,
			      __u16 country)
{
	struct policy_explanation ex;
	char cc[COUNTRY_STRLEN];
	size_t i;

	policy_explain(p, model, dir, country, &ex);
	country_str(country, cc);
	printf("model %s, country %s, %s: %s\n", policy_model_name(p, model), cc,
	       direction_name(dir), verdict_name(ex.verdict));
	for (i = 0; i < ex.n_steps; i++) {
		const struct policy_explain_step *s = &ex.steps[i];

		if (s->line)
			printf("  %zu. %s:%d:%d: %s -> %s\n", i + 1, policy_file(p), s->line,
			       s->col, s->text, verdict_name(s->verdict));
		else
			printf("  %zu. %s -> %s\n", i + 1, s->text, verdict_name(s->verdict));
	}
}

/* One JSON object per line: scripts read explanations line by line. */
static void print_explanation_json(const struct policy *p, __u32 model, enum direction dir,
				   __u16 country)
{
	struct policy_explanation ex;
	char cc[COUNTRY_STRLEN];
	struct strbuf sb;
	size_t i;

	policy_explain(p, model, dir, country, &ex);
	country_str(country, cc);
	strbuf_init(&sb);
	strbuf_puts(&sb, "{\"model\":");
	strbuf_json_str(&sb, policy_model_name(p, model));
	strbuf_printf(&sb, ",\"country\":\"%s\",\"direction\":\"%s\",\"verdict\":\"%s\",\"steps\":[",
		      cc, direction_name(dir), verdict_name(ex.verdict));
	for (i = 0; i < ex.n_steps; i++) {
		const struct policy_explain_step *s = &ex.steps[i];

		strbuf_printf(&sb, "%s{\"line\":%d,\"col\":%d,\"rule\":", i ? "," : "",
			      s->line, s->col);
		strbuf_json_str(&sb, s->text);
		strbuf_printf(&sb, ",\"verdict\":\"%s\",\"decisive\":%s}",
			      verdict_name(s->verdict), i == ex.decisive ? "true" : "false");
	}
	strbuf_puts(&sb, "]}\n");
	fputs(strbuf_str(&sb), stdout);
	strbuf_free(&sb);
}

struct explain_args {
	const char *model, *country;
	int dir;
	bool json;
};

static int explain_parse(int argc, char **argv, struct explain_args *a)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "country", required_argument, NULL, 'c' },
		{ "direction", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	int c;

	a->dir = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			a->model = optarg;
			break;
		case 'c':
			a->country = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'd':
			a->dir = direction_parse(optarg);
			if (a->dir < 0) {
				fprintf(stderr, "customsctl policy explain: direction is ingress or egress, not '%s'\n",
					optarg);
				return -EINVAL;
			}
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind + 1 != argc || !a->model || !a->country)
		return -EINVAL;
	return 0;
}

static int explain(int argc, char **argv)
{
	struct explain_args a = { 0 };
	struct policy *p;
	int model, d, rc = 1;
	__u16 country;

	if (explain_parse(argc, argv, &a))
		return usage(stderr, EXIT_USAGE);
	if (country_parse(a.country, &country)) {
		const char *hint = country_suggest(a.country);

		fprintf(stderr, "customsctl policy explain: invalid country code '%s'%s%s%s\n",
			a.country, hint ? " (did you mean " : "", hint ? hint : "", hint ? "?)" : "");
		return EXIT_USAGE;
	}
	p = load(argv[optind], 0);
	if (!p)
		return 1;
	model = strcmp(a.model, "unknown") ? policy_model_find(p, a.model) : MODEL_UNKNOWN;
	if (model < 0) {
		fprintf(stderr, "customsctl policy explain: %s has no model '%s'\n", argv[optind],
			a.model);
		goto out;
	}
	for (d = 0; d < DIR_MAX; d++) {
		if (a.dir >= 0 && a.dir != d)
			continue;
		if (a.json)
			print_explanation_json(p, (__u32)model, (enum direction)d, country);
		else
			print_explanation(p, (__u32)model, (enum direction)d, country);
	}
	rc = 0;
out:
	policy_free(p);
	return rc;
}

static int diff(int argc, char **argv)
{
	struct policy *a, *b;
	struct strbuf out;
	int rc = 1;

	if (argc != 3)
		return usage(stderr, EXIT_USAGE);
	a = load(argv[1], 0);
	b = a ? load(argv[2], 0) : NULL;
	if (a && b) {
		strbuf_init(&out);
		policy_diff(a, b, &out);
		fputs(strbuf_str(&out), stdout);
		rc = strbuf_failed(&out) ? 1 : 0;
		strbuf_free(&out);
	}
	policy_free(a);
	policy_free(b);
	return rc;
}

static int compile(int argc, char **argv)
{
	const char *file = NULL;
	bool canonical = false;
	struct policy *p;
	struct strbuf out;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--canonical"))
			canonical = true;
		else if (strcmp(argv[i], "--json") && !file && argv[i][0] != '-')
			file = argv[i];
		else if (strcmp(argv[i], "--json"))
			return usage(stderr, EXIT_USAGE);
	}
	if (!file)
		return usage(stderr, EXIT_USAGE);
	p = load(file, 0);
	if (!p)
		return 1;
	strbuf_init(&out);
	if (canonical)
		policy_canonical(p, &out);
	else
		policy_render_json(p, &out);
	fputs(strbuf_str(&out), stdout);
	rc = strbuf_failed(&out) ? 1 : 0;
	strbuf_free(&out);
	policy_free(p);
	return rc;
}

static int print_cgroup(void *ctx, __u64 id, const char *path, const struct tenant_info *who)
{
	const struct policy *p = ctx;

	printf("%llu\t%s\t%s\t%s\n", (unsigned long long)id, policy_tenant_name(p, who->tenant),
	       policy_model_name(p, who->model), path);
	return 0;
}

static int cgroups(int argc, char **argv)
{
	static const struct option opts[] = { { "mount", required_argument, NULL, 'm' }, { 0 } };
	const char *mount = NULL;
	struct policy *p;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'm')
			return usage(stderr, EXIT_USAGE);
		mount = optarg;
	}
	if (optind + 1 != argc)
		return usage(stderr, EXIT_USAGE);
	p = load(argv[optind], 0);
	if (!p)
		return 1;
	rc = policy_cgroup_walk(p, mount, print_cgroup, p);
	if (rc)
		fprintf(stderr, "customsctl policy cgroups: walking %s: %s\n",
			mount ? mount : "the cgroup2 mount", strerror(-rc));
	policy_free(p);
	return rc ? 1 : 0;
}

int cmd_policy(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} subs[] = {
		{ "check", check }, { "explain", explain }, { "diff", diff }, { "compile", compile },
		{ "cgroups", cgroups },
	};
	size_t i;

	if (argc < 2)
		return usage(stderr, EXIT_USAGE);
	if (wants_help(argc, argv))
		return usage(stdout, 0);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		optind = 1;
		return subs[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "customsctl policy: unknown subcommand '%s'\n", argv[1]);
	return usage(stderr, EXIT_USAGE);
}
