/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent's counter cycle, crash-safe: each interval flips the kernel's
 * buffers, reads the retired one, adds it to the running totals, saves the
 * totals with a "pending clear" mark naming that buffer, then clears it.
 * One durable write per interval. After a crash, counters_recover() clears
 * a pending buffer only if the kernel is not writing it (it was counted)
 * and adds whatever the retired buffer holds (a flip whose interval never
 * got saved): nothing is lost and nothing is counted twice.
 */
#ifndef CUSTOMS_COUNTERS_H
#define CUSTOMS_COUNTERS_H

#include <stddef.h>

#include "dataplane.h"
#include "totals.h"

struct counters {
	struct dp *dp;
	struct totals totals;
	char path[512];		/* the totals file */
};

/*
 * Loads the totals (empty when the file does not exist; a damaged file is
 * an error, not silently reset) and finishes what an earlier agent left.
 * The records recovered from an interrupted interval (to be
 * reported with the next interval), possibly none.
 */
int counters_open(struct counters *c, struct dp *dp, const char *path,
		  struct meter_record **recs, size_t *n);
void counters_close(struct counters *c);
/* One interval; its records in recs and n (the caller frees them). */
int counters_interval(struct counters *c, struct meter_record **recs, size_t *n);

#endif
