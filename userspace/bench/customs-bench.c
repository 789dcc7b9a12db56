// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-bench: the benchmark driver behind `make bench`. main() only
 * dispatches through the subject table; each subject measures its
 * contenders in one run and reports ratios, never absolute pass/fail.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "log.h"

static const struct bench_command subjects[] = {
	{ "geo", "geo tables vs the kernel LPM trie, XDP program cost", bench_geo },
	{ "policy", "compile a generated 10,000-model policy", bench_policy },
	{ "ingress", "drop-and-count cost per packet: none vs nftables vs customs", bench_ingress },
	{ "socket", "TCP throughput with and without the socket-layer programs", bench_socket },
	{ "telemetry", "agent build+sign and collector ingest of signed batches", bench_telemetry },
	{ "agent", "interval counter read and aggregate time vs bucket count", bench_agent },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: customs-bench SUBJECT [--json] [OPTIONS...]\n\nSubjects:\n");
	for (i = 0; subjects[i].name; i++)
		fprintf(out, "  %-10s %s\n", subjects[i].name, subjects[i].summary);
	fprintf(out, "\n  -h, --help     this text\n  -V, --version  print the version\n");
}

int main(int argc, char **argv)
{
	size_t i;

	log_init("customs-bench", LOG_LEVEL_WARN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("customs-bench %s\n", CUSTOMS_VERSION);
		return 0;
	}
	log_route_libbpf();
	for (i = 0; subjects[i].name; i++)
		if (!strcmp(argv[1], subjects[i].name))
			return subjects[i].run(argc - 1, argv + 1);
	fprintf(stderr, "customs-bench: unknown subject '%s' (see customs-bench --help)\n",
		argv[1]);
	return 2;
}
