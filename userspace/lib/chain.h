/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent's hash-chain state: which epoch it is in, the next sequence
 * number, the hash of the last SignedBatch it produced, and spool drops not
 * yet reported in a batch. Persisted in one small file, replaced with
 * write + fsync + rename + fsync of the directory, so a crash leaves the
 * old or the new state and never a mix. A missing or corrupt file means a
 * new epoch. Layout (little-endian), CHAIN_FILE_SIZE bytes:
 *
 *   0   8  magic "CSCHAIN\0"      8   4  version (1)
 *   12  4  n_drops               16   8  epoch
 *   24  8  next_seq              32  32  prev_hash
 *   64  8  drop_through (spool segments with id <= this are dropped)
 *   72  40 drop run: the latest contiguous run of dropped batches, as
 *          epoch, first_seq, last_seq, batches, bytes
 *   112 CHAIN_MAX_DROPS x 40: pending drop reports, same five fields
 *   752 4  CRC-32 (zlib) of bytes 0..751
 *
 * Version 1 (no drop run, 716 bytes) reads as unreadable: a new epoch.
 */
#ifndef CUSTOMS_CHAIN_H
#define CUSTOMS_CHAIN_H

#include <stddef.h>
#include <linux/types.h>

#include "sha256.h"
#include "telemetry.h"

#define CHAIN_MAGIC		"CSCHAIN"	/* 8 bytes with the NUL */
#define CHAIN_VERSION		2
#define CHAIN_MAX_DROPS		16
#define CHAIN_FILE_SIZE		(112 + CHAIN_MAX_DROPS * 40 + 4)

struct chain_state {
	__u64 epoch;
	__u64 next_seq;
	unsigned char prev_hash[SHA256_LEN];
	__u64 drop_through;
	/*
	 * Reports are cumulative: a drop that continues the last run is
	 * reported as the whole run, so the newest surviving batch accounts
	 * for earlier drops whose reports were themselves dropped.
	 */
	struct telem_drop run;
	size_t n_drops;
	struct telem_drop drops[CHAIN_MAX_DROPS];
};

/* 0, -ENOENT when there is no file, -EBADMSG when it is not a valid state. */
int chain_load(const char *path, struct chain_state *st);
int chain_save(const char *path, const struct chain_state *st);
/* Starts a new chain: seq 0, no previous hash; pending drops are kept. */
void chain_start_epoch(struct chain_state *st, __u64 epoch);
/* After a batch with this SignedBatch hash was spooled. */
void chain_advance(struct chain_state *st, const unsigned char hash[SHA256_LEN]);
/*
 * Records a drop to report: extends the drop run when d continues it
 * (same epoch, next seq) and queues the whole run as the report, else
 * starts a new run. When the table is full the last report is widened
 * instead (its range may then cover more, its counts stay exact).
 */
void chain_add_drop(struct chain_state *st, const struct telem_drop *d);

#endif
