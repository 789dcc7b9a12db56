// SPDX-License-Identifier: BSD-2-Clause
/*
 * customsctl country CODE...: the index customs stores for each ISO 3166-1
 * alpha-2 code and its name, so a policy writer can check a code and read
 * raw map dumps. Accepts indexes too, to decode a dump the other way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "country.h"

static int country_one(const char *arg)
{
	char code[COUNTRY_STRLEN];
	const char *hint;
	char *end;
	unsigned long n;
	__u16 idx;

	n = strtoul(arg, &end, 10);
	if (*arg && !*end) {
		if (n >= COUNTRY_MAX) {
			fprintf(stderr, "customsctl country: index %s out of range 0..%d\n",
				arg, COUNTRY_MAX - 1);
			return 1;
		}
		idx = (__u16)n;
	} else if (country_parse(arg, &idx)) {
		hint = country_suggest(arg);
		if (hint)
			fprintf(stderr, "customsctl country: '%s' is not an ISO 3166-1 alpha-2 code (did you mean %s?)\n",
				arg, hint);
		else
			fprintf(stderr, "customsctl country: '%s' is not an ISO 3166-1 alpha-2 code\n",
				arg);
		return 1;
	}
	country_str(idx, code);
	printf("%s\t%u\t%s\n", code, idx,
	       country_name(idx) ? country_name(idx) : "(unassigned)");
	return 0;
}

int cmd_country(int argc, char **argv)
{
	int i, rc = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? stderr : stdout,
			"Usage: customsctl country CODE|INDEX...\n"
			"Prints CODE<TAB>INDEX<TAB>NAME for each argument.\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (i = 1; i < argc; i++)
		if (country_one(argv[i]))
			rc = 1;
	return rc;
}
