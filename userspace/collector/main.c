// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-collector: receives signed telemetry from node agents over mTLS,
 * verifies, dedupes and stores it (serve), and writes bundles for auditors
 * (export). main() only dispatches; signals only set a flag the poll loop
 * reads.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "log.h"

volatile sig_atomic_t collector_stop;

static void on_signal(int sig)
{
	(void)sig;
	collector_stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: customs-collector [-v] serve --config FILE\n"
		     "       customs-collector export --store DB --out BUNDLE [--node N] [--from T] [--to T]\n\n"
		     "  serve    receive batches over mTLS, verify, dedupe, store (config: docs/telemetry.md)\n"
		     "  export   write stored batches as a bundle for customs-audit\n\n"
		     "  -v, --verbose  info messages on stderr\n"
		     "  -h, --help     this text\n"
		     "  -V, --version  print the version\n");
}

static int cmd_serve(int argc, char **argv)
{
	static struct collector c;
	struct sigaction sa = { 0 };

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "--config")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	memset(&c, 0, sizeof(c));
	if (collector_config_load(&c.cfg, argv[2]))
		return 1;
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return collector_serve(&c);
}

int main(int argc, char **argv)
{
	log_init("customs-collector", LOG_LEVEL_WARN);
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
			printf("customs-collector %s\n", CUSTOMS_VERSION);
			return 0;
		}
		if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose")) {
			log_set_level(LOG_LEVEL_INFO);
			argc--;
			argv++;
			continue;
		}
		fprintf(stderr, "customs-collector: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return collector_export(argc - 1, argv + 1);
	fprintf(stderr, "customs-collector: unknown command '%s' (see customs-collector --help)\n",
		argv[1]);
	return EXIT_USAGE;
}
