/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Offline verification of a bundle, the auditor's core check: every
 * SignedBatch must carry a valid signature of a known key, every (node,
 * epoch) chain must run seq 0, 1, 2, ... in order with each prev_hash the
 * SHA-256 of the batch before, and no (node, epoch, seq) may appear twice
 * with different bytes. Each problem becomes one line naming node, epoch
 * and seq. Identical duplicates (redelivery) are counted, not problems.
 */
#ifndef CUSTOMS_CHAINCHECK_H
#define CUSTOMS_CHAINCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "telemetry.h"

enum chk_problem {
	CHK_MALFORMED,		/* not a SignedBatch / bundle framing broken */
	CHK_UNKNOWN_KEY,
	CHK_BAD_SIGNATURE,
	CHK_DUPLICATE,		/* same (node, epoch, seq), different bytes */
	CHK_REORDERED,		/* a lower seq after a higher one in the file */
	CHK_GAP,		/* missing batches */
	CHK_BROKEN_LINK,	/* prev_hash is not the previous batch's hash */
	CHK_EPOCH_MARKER,	/* seq 0 without the new-epoch marker, or the reverse */
	CHK_MAX,
};

/* One batch as the check sees it. */
struct chk_batch {
	char node[TELEM_NODE_MAX];
	__u64 epoch;
	__u64 seq;
	unsigned char hash[SHA256_LEN];
	unsigned char prev_hash[SHA256_LEN];
	bool has_prev;
	bool new_epoch;
	bool trusted;		/* signature verified */
	size_t index;		/* position in the bundle */
};

struct chk_options {
	bool partial;		/* a chain may start after seq 0 (time-filtered export) */
	void (*problem)(void *arg, enum chk_problem kind, const char *line);
	void *arg;
};

struct chk_summary {
	size_t batches;
	size_t duplicates;	/* identical copies, ignored */
	size_t nodes;
	size_t epochs;
	size_t problems[CHK_MAX];
	size_t n_problems;
};

/* Checks a whole bundle; returns the number of problems (or -errno). */
int chaincheck_bundle(const unsigned char *buf, size_t len, const struct telem_keyring *keys,
		      const struct chk_options *opt, struct chk_summary *sum);

const char *chk_problem_name(enum chk_problem p);

#endif
