/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fixtures for telemetry tests: scratch directories removed on teardown,
 * interval records with known counters and events, and a node key, so
 * each test states only what it checks.
 */
#ifndef CUSTOMS_TELEMFIX_H
#define CUSTOMS_TELEMFIX_H

#include <limits.h>
#include <stddef.h>
#include <linux/types.h>

#include "interval.h"
#include "telemetry.h"

/* mkdtemp under TMPDIR (or /tmp) named customs-telem-<tag>-XXXXXX. */
int fix_tmpdir(const char *tag, char *out, size_t len);
/* rm -rf of a directory this test created. */
void fix_rmtree(const char *dir);

struct fix_interval {
	struct interval_record rec;
	struct interval_counter *counters;
	struct interval_event *events;
};

/*
 * n counters (tenant-i%3, model-i%2, DE/US/FR, packets i+1, bytes 100*(i+1),
 * verdict deny every 5th, audit every 7th) and n_events deny events; the
 * interval starts at start_ns and lasts 10 s.
 */
int fix_interval_make(struct fix_interval *f, size_t n, size_t n_events, __u64 start_ns);
void fix_interval_free(struct fix_interval *f);

/* A key written to dir (node.key + <id>.pub) and loaded back with the private half. */
int fix_key(const char *dir, struct telem_key *k);

/* Writes len bytes to path (truncating). */
int fix_write_file(const char *path, const void *buf, size_t len);

#endif
