/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * customs-bench's command table: one bench_*.c file per subject, listed
 * once in customs-bench.c. Each prints its results (JSON with --json) and
 * returns the exit code: 0 success, 1 failure, 2 usage error.
 */
#ifndef CUSTOMS_BENCH_H
#define CUSTOMS_BENCH_H

struct bench_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);	/* argv[0] is the subject */
};

int bench_geo(int argc, char **argv);
int bench_policy(int argc, char **argv);
int bench_socket(int argc, char **argv);
int bench_ingress(int argc, char **argv);
int bench_telemetry(int argc, char **argv);
int bench_agent(int argc, char **argv);

#endif
