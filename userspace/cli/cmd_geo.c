// SPDX-License-Identifier: BSD-2-Clause
/*
 * customsctl geo compile|info|lookup: build a compiled geo table from a
 * database and override files, describe a database or table, and answer
 * "which country is this address in" from the userspace mirror or, with
 * --kernel, from the BPF lookup itself through the geo probe.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "country.h"
#include "geo.h"

#define MAX_OVERRIDES 64

struct geo_opts {
	const char *db;
	const char *out;
	const char *overrides[MAX_OVERRIDES];
	size_t n_overrides;
	bool kernel;
};

static const char geo_usage[] =
	"Usage: customsctl geo compile --db FILE [--override FILE]... --out TABLE\n"
	"       customsctl geo info FILE|TABLE\n"
	"       customsctl geo lookup --db FILE [--override FILE]... [--kernel] [IP...]\n"
	"\n"
	"FILE is an MMDB (country_code or GeoIP2 country.iso_code), a CSV of\n"
	"start,end,CC ranges, or a compiled table; override files hold \"CIDR CC\"\n"
	"lines and are applied in order, later ones winning. lookup reads IPs from\n"
	"the arguments, else from stdin one per line, and prints IP<TAB>CC (ZZ:\n"
	"unknown); --kernel answers through the BPF lookup (BPF_PROG_RUN).\n";

/* Returns -1 to go on, else an exit code. */
static int parse_opts(int argc, char **argv, struct geo_opts *o, bool want_out)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "override", required_argument, NULL, 'o' },
		{ "out", required_argument, NULL, 'w' },
		{ "kernel", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hd:o:w:k", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 'o':
			if (o->n_overrides == MAX_OVERRIDES) {
				fprintf(stderr, "customsctl geo: more than %d override files\n",
					MAX_OVERRIDES);
				return EXIT_USAGE;
			}
			o->overrides[o->n_overrides++] = optarg;
			break;
		case 'w':
			o->out = optarg;
			break;
		case 'k':
			o->kernel = true;
			break;
		case 'h':
			fputs(geo_usage, stdout);
			return 0;
		default:
			fputs(geo_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!o->db || (want_out && !o->out)) {
		fprintf(stderr, "customsctl geo %s: --db%s required\n", argv[0],
			want_out ? " and --out are" : " is");
		fputs(geo_usage, stderr);
		return EXIT_USAGE;
	}
	return -1;
}

static int build_table(const struct geo_opts *o, struct geo_table **t)
{
	struct geo_source src = { .db = o->db, .overrides = o->overrides,
				  .n_overrides = o->n_overrides };
	char err[512] = "";

	if (geo_table_build(t, &src, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err[0] ? err : "customsctl geo: cannot build the table");
		return 1;
	}
	return 0;
}

static int geo_compile(int argc, char **argv)
{
	struct geo_opts o = {};
	struct geo_table *t = NULL;
	char err[512] = "";
	int rc;

	rc = parse_opts(argc, argv, &o, true);
	if (rc >= 0)
		return rc;
	if (build_table(&o, &t))
		return 1;
	rc = geo_table_save(t, o.out, err, sizeof(err)) ? 1 : 0;
	if (rc)
		fprintf(stderr, "%s\n", err);
	geo_table_free(t);
	return rc;
}

static void print_time(const char *label, __u64 when)
{
	char buf[64];
	time_t tt = (time_t)when;
	struct tm tm;

	if (!when || !gmtime_r(&tt, &tm)) {
		printf("%-15s unknown\n", label);
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%-15s %s\n", label, buf);
}

static int geo_info(int argc, char **argv)
{
	static const char *const fmt_names[] = { "none", "MMDB", "CSV", "compiled table" };
	char hex[2 * SHA256_LEN + 1];
	struct geo_table_info info;
	struct geo_opts o = {};
	struct geo_table *t = NULL;
	enum geo_format fmt;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(geo_usage, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fputs(geo_usage, stderr);
		return EXIT_USAGE;
	}
	o.db = argv[1];
	if (build_table(&o, &t))
		return 1;
	if (geo_table_info(t, &info)) {
		fprintf(stderr, "%s: error: cannot compile the table\n", o.db);
		geo_table_free(t);
		return 1;
	}
	printf("%-15s %s\n", "source", info.source);
	if (!geo_sniff(o.db, &fmt) && fmt == GEO_FMT_TABLE)
		printf("%-15s compiled table (base: %s)\n", "format",
		       fmt_names[info.format <= 3 ? info.format : 0]);
	else
		printf("%-15s %s\n", "format", fmt_names[info.format <= 3 ? info.format : 0]);
	print_time("database date", info.source_epoch);
	print_time("compiled", info.build_time);
	printf("%-15s %llu prefixes, %llu segments, %u /16s of several countries "
	       "in %u tree lines (%.2f MiB)\n", "IPv4",
	       (unsigned long long)info.v4_prefixes, (unsigned long long)info.v4_segments,
	       info.v4_trees, info.v4_lines, info.v4_lines * 64.0 / (1 << 20));
	printf("%-15s %llu prefixes, %llu segments, /64 tree depth %u, %u sub-index blocks, "
	       "%u keys in the exception tree (depth %u)\n", "IPv6",
	       (unsigned long long)info.v6_prefixes, (unsigned long long)info.v6_segments,
	       info.v6_depth, info.v6_index_blocks, info.v6_exceptions, info.v6_exception_depth);
	printf("%-15s %u\n", "countries", info.countries);
	sha256_hex(info.hash, hex);
	printf("%-15s %s\n", "table sha256", hex);
	sha256_hex(info.source_hash, hex);
	printf("%-15s %s\n", "source sha256", hex);
	printf("%-15s %llu bytes (%.1f MiB), %.1f MiB of it used\n", "kernel memory",
	       (unsigned long long)info.kernel_bytes, (double)info.kernel_bytes / (1 << 20),
	       (double)info.used_bytes / (1 << 20));
	geo_table_free(t);
	return 0;
}

struct ip_batch {
	char **ip;
	__u32 (*addr)[4];
	__u8 *family;
	size_t n, cap;
};

static int batch_add(struct ip_batch *b, const char *ip)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		char **nip = realloc(b->ip, cap * sizeof(*nip));

		if (!nip)
			return -1;
		b->ip = nip;
		b->cap = cap;
	}
	b->ip[b->n] = strdup(ip);
	if (!b->ip[b->n])
		return -1;
	b->n++;
	return 0;
}

static void batch_free(struct ip_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->ip[i]);
	free(b->ip);
	free(b->addr);
	free(b->family);
}

/* Answers through the kernel: every parsable address in one probe pass. */
static int kernel_answers(struct geo_table *t, struct ip_batch *b, __u16 *cc, bool *ok)
{
	struct geo_probe probe;
	struct geo_maps maps;
	size_t i;
	int err;

	b->addr = calloc(b->n ? b->n : 1, sizeof(*b->addr));
	b->family = calloc(b->n ? b->n : 1, sizeof(*b->family));
	if (!b->addr || !b->family)
		return -1;
	for (i = 0; i < b->n; i++) {
		ok[i] = !geo_parse_ip(b->ip[i], b->addr[i], &b->family[i]);
	}
	err = geo_probe_open(&probe, 0, 0);
	if (err) {
		fprintf(stderr, "customsctl geo lookup: cannot load the geo probe: %s (need root or CAP_BPF)\n",
			strerror(-err));
		return -1;
	}
	maps = geo_probe_maps(&probe);
	err = geo_kernel_install(&maps, t);
	if (!err)
		err = geo_probe_lookup(&probe, (const __u32 (*)[4])b->addr, b->family, b->n, cc);
	if (err)
		fprintf(stderr, "customsctl geo lookup: kernel lookup failed: %s\n", strerror(-err));
	geo_probe_close(&probe);
	return err ? -1 : 0;
}

static int geo_lookup(int argc, char **argv)
{
	struct ip_batch b = {};
	struct geo_opts o = {};
	struct geo_table *t = NULL;
	char line[256], code[COUNTRY_STRLEN], *p;
	__u16 *cc = NULL;
	bool *ok = NULL;
	int rc, i;
	size_t k;

	rc = parse_opts(argc, argv, &o, false);
	if (rc >= 0)
		return rc;
	rc = 1;
	for (i = optind; i < argc; i++)
		if (batch_add(&b, argv[i]))
			goto cleanup;
	if (optind >= argc) {
		while (fgets(line, sizeof(line), stdin)) {
			p = line + strspn(line, " \t");
			p[strcspn(p, " \t\r\n")] = '\0';
			if (*p && batch_add(&b, p))
				goto cleanup;
		}
	}
	if (build_table(&o, &t))
		goto cleanup;
	cc = calloc(b.n ? b.n : 1, sizeof(*cc));
	ok = calloc(b.n ? b.n : 1, sizeof(*ok));
	if (!cc || !ok)
		goto cleanup;
	if (o.kernel) {
		if (kernel_answers(t, &b, cc, ok))
			goto cleanup;
	} else {
		for (k = 0; k < b.n; k++)
			ok[k] = !geo_table_lookup_str(t, b.ip[k], &cc[k]);
	}
	rc = 0;
	for (k = 0; k < b.n; k++) {
		if (!ok[k]) {
			fprintf(stderr, "customsctl geo lookup: '%s' is not an IPv4 or IPv6 address\n",
				b.ip[k]);
			rc = 1;
			continue;
		}
		country_str(cc[k], code);
		printf("%s\t%s\n", b.ip[k], code);
	}
cleanup:
	free(cc);
	free(ok);
	batch_free(&b);
	geo_table_free(t);
	return rc;
}

int cmd_geo(int argc, char **argv)
{
	if (argc < 2) {
		fputs(geo_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(geo_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "compile"))
		return geo_compile(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return geo_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "lookup"))
		return geo_lookup(argc - 1, argv + 1);
	fprintf(stderr, "customsctl geo: unknown subcommand '%s'\n", argv[1]);
	fputs(geo_usage, stderr);
	return EXIT_USAGE;
}
