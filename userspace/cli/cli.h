/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * customsctl's command table: each command lives in its own cmd_*.c file
 * and is listed once in customsctl.c. Commands return the process exit
 * code: 0 success, 1 failure, 2 usage error.
 */
#ifndef CUSTOMS_CLI_H
#define CUSTOMS_CLI_H

#include <stdbool.h>

#define EXIT_USAGE 2

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);	/* argv[0] is the command */
};

int cmd_country(int argc, char **argv);
int cmd_geo(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_alerts(int argc, char **argv);

#endif
