// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-audit verify BUNDLE --keys DIR: every problem on stdout, one line
 * each ("node N epoch E seq S: <problem>: <detail>"), a summary on stderr;
 * exit 0 only when there is none.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "chaincheck.h"
#include "store.h"

static void print_problem(void *arg, enum chk_problem kind, const char *line)
{
	(void)arg;
	(void)kind;
	printf("%s\n", line);
}

static void verify_usage(FILE *out)
{
	fprintf(out, "Usage: customs-audit verify BUNDLE --keys DIR [--partial]\n"
		     "  --keys DIR   the nodes' public keys (*.pub from customsctl keygen)\n"
		     "  --partial    chains may start after seq 0 (a time-filtered export)\n");
}

int audit_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "partial", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct chk_options opt = { .problem = print_problem };
	struct telem_keyring keys;
	struct chk_summary sum;
	const char *dir = NULL, *bundle;
	unsigned char *buf = NULL;
	size_t len;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:ph", opts, NULL)) != -1) {
		switch (c) {
		case 'k': dir = optarg; break;
		case 'p': opt.partial = true; break;
		case 'h': verify_usage(stdout); return 0;
		default: verify_usage(stderr); return EXIT_USAGE;
		}
	}
	if (!dir || optind != argc - 1) {
		verify_usage(stderr);
		return EXIT_USAGE;
	}
	bundle = argv[optind];
	rc = telem_keyring_load(&keys, dir);
	if (rc) {
		fprintf(stderr, "customs-audit verify: %s: cannot read keys: %s\n", dir, strerror(-rc));
		return 1;
	}
	rc = telem_read_file(bundle, &buf, &len);
	if (rc) {
		fprintf(stderr, "customs-audit verify: %s: %s\n", bundle, strerror(-rc));
		telem_keyring_free(&keys);
		return 1;
	}
	rc = chaincheck_bundle(buf, len, &keys, &opt, &sum);
	free(buf);
	telem_keyring_free(&keys);
	if (rc < 0) {
		fprintf(stderr, "customs-audit verify: %s: %s\n", bundle, strerror(-rc));
		return 1;
	}
	fprintf(stderr, "customs-audit verify: %s: %zu batch(es), %zu node(s), %zu epoch(s), %zu identical duplicate(s): %zu problem(s)\n",
		bundle, sum.batches, sum.nodes, sum.epochs, sum.duplicates, sum.n_problems);
	return sum.n_problems ? 1 : 0;
}
