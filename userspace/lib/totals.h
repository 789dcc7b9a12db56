/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Running totals of the data plane's counters, keyed like the kernel's
 * (struct meter_key): the agent adds each interval's retired buffer, and
 * saves the totals durably so a restarted agent continues them. An
 * open-addressing hash table: adding 100k records is one pass with no
 * allocation once the table has grown.
 *
 * File format (little-endian): magic "CSTT", u32 version, u64 count,
 * i32 pending buffer (-1: none; else a retired buffer already added but not
 * yet cleared), u32 reserved, then count records of meter_key + meter_value,
 * then the SHA-256 of everything before it.
 */
#ifndef CUSTOMS_TOTALS_H
#define CUSTOMS_TOTALS_H

#include <stddef.h>
#include "interval.h"

struct totals {
	struct meter_record *slots;	/* key.tenant == TOTALS_EMPTY: free */
	size_t cap;			/* power of two */
	size_t count;
	int pending;			/* see the file format */
};

int totals_init(struct totals *t, size_t expected);
void totals_free(struct totals *t);
int totals_add(struct totals *t, const struct meter_key *k, const struct meter_value *v);
const struct meter_value *totals_get(const struct totals *t, const struct meter_key *k);
/* Calls fn for each record; stops at a non-zero return and returns it. */
int totals_foreach(const struct totals *t,
		   int (*fn)(void *ctx, const struct meter_record *r), void *ctx);
/* Writes path.tmp, fsyncs, renames over path, fsyncs the directory. */
int totals_save(const struct totals *t, const char *path);
/* -ENOENT when there is no file; -EBADMSG for a damaged one (named). */
int totals_load(struct totals *t, const char *path);

#endif
