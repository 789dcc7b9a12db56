// SPDX-License-Identifier: BSD-2-Clause
/*
 * customsctl: the SRE's tool on a node. main() only dispatches through the
 * command table; every command parses its own options in its own file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static const struct cli_command commands[] = {
	{ "status", "the agent's programs, policy, geo data and health", cmd_status },
	{ "stats", "counters per tenant, model, country, direction, hook, verdict", cmd_stats },
	{ "top", "live rates per tenant and country", cmd_top },
	{ "events", "recent denials and audit hits (--follow)", cmd_events },
	{ "reload", "recompile the policy and reload geo data", cmd_reload },
	{ "alerts", "recent query-pattern alerts (distillation, VPN hops)", cmd_alerts },
	{ "country", "look up ISO 3166-1 alpha-2 codes and their indexes", cmd_country },
	{ "geo", "compile, describe and query geo databases", cmd_geo },
	{ "policy", "check, explain, diff and compile policy files", cmd_policy },
	{ "keygen", "create the node's telemetry signing key", cmd_keygen },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: customsctl [--verbose] COMMAND [ARGS...]\n"
		     "       customsctl COMMAND --help\n\nCommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nOptions:\n"
		     "  -v, --verbose  debug messages on stderr\n"
		     "  -h, --help     this text\n"
		     "  -V, --version  print the version\n");
}

int main(int argc, char **argv)
{
	size_t i;

	log_init("customsctl", LOG_LEVEL_WARN);
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
			printf("customsctl %s\n", CUSTOMS_VERSION);
			return 0;
		}
		if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose")) {
			log_set_level(LOG_LEVEL_DEBUG);
			argc--;
			argv++;
			continue;
		}
		fprintf(stderr, "customsctl: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	log_route_libbpf();
	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "customsctl: unknown command '%s' (see customsctl --help)\n",
		argv[1]);
	return EXIT_USAGE;
}
