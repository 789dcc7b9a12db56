// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-audit: the host-country auditor's tool. It needs no server and
 * trusts nothing but the node public keys it is given: `verify` checks
 * signatures and hash chains of an exported bundle, `report` summarises
 * traffic, denials, gaps, epochs and the policy and geo versions in force.
 * main() only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: customs-audit verify BUNDLE --keys DIR [--partial]\n"
		     "       customs-audit report (BUNDLE | --store DB) [--keys DIR] [--from T] [--to T]\n"
		     "                     [--country CC] [--node N] [--format text|json|csv] [--alerts]\n\n"
		     "  verify   exit 0 when every signature and link holds; else exit 1 and\n"
		     "           print one line per problem naming node, epoch and seq\n"
		     "  report   traffic per tenant, model, country and direction; denials,\n"
		     "           audit-mode hits, gaps, epochs, policy and geo versions over time\n\n"
		     "  -h, --help     this text\n"
		     "  -V, --version  print the version\n");
}

int main(int argc, char **argv)
{
	log_init("customs-audit", LOG_LEVEL_WARN);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("customs-audit %s\n", CUSTOMS_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "verify"))
		return audit_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return audit_report(argc - 1, argv + 1);
	fprintf(stderr, "customs-audit: unknown command '%s' (see customs-audit --help)\n", argv[1]);
	return EXIT_USAGE;
}
