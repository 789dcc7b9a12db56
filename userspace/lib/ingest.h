/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the collector does with one SignedBatch: decode, check the key and
 * the signature, dedupe on (node, epoch, seq) (the same bytes again are a
 * harmless redelivery; different bytes are a replay and are refused and
 * recorded), check the hash link to the stored neighbours, and store it.
 * A missing predecessor is not a gap at once: batches may arrive out of
 * order, so the gap is recorded only if it is still open after a grace
 * period. Runs inside the caller's transaction; the caller acknowledges
 * only after committing.
 */
#ifndef CUSTOMS_INGEST_H
#define CUSTOMS_INGEST_H

#include <stddef.h>
#include <linux/types.h>

#include "store.h"
#include "telemetry.h"

enum ingest_status {
	INGEST_STORED,
	INGEST_DUPLICATE,
	INGEST_REJECTED,	/* node/epoch/seq known: acknowledge as rejected */
	INGEST_MALFORMED,	/* not a SignedBatch: nothing to acknowledge */
};

struct ingest_outcome {
	enum ingest_status status;
	char node[TELEM_NODE_MAX];
	__u64 epoch;
	__u64 seq;
	__u64 counters;
	char reason[160];
};

struct pending_gap {
	char node[TELEM_NODE_MAX];
	__u64 epoch;
	__u64 seq;		/* the batch whose predecessor was missing */
	__u64 due_ms;
};

struct ingest {
	struct store *store;
	const struct telem_keyring *keys;
	__u64 grace_ms;
	struct pending_gap *pend;
	size_t n_pend, cap_pend;
	__u64 stored, duplicates, rejected, malformed, gaps, counters;
};

void ingest_init(struct ingest *in, struct store *store, const struct telem_keyring *keys,
		 __u64 grace_ms);
void ingest_free(struct ingest *in);
/*
 * Returns 0 with an outcome, or a negative errno when the store failed.
 * peer names the sender in logs; peer_node, when not NULL, is the node id
 * the sender's certificate proves, and a batch of another node is refused.
 */
int ingest_batch(struct ingest *in, const void *raw, size_t len, const char *peer,
		 const char *peer_node, struct ingest_outcome *out);
/* Records the gaps whose grace period is over (inside a transaction). */
int ingest_tick(struct ingest *in, __u64 now_ms);
/* Milliseconds until the next gap decision, -1 when none is pending. */
int ingest_next_due(const struct ingest *in, __u64 now_ms);

#endif
