/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The collector's store: SQLite in WAL mode with synchronous=FULL, so a
 * committed transaction survives power loss and the collector may then
 * acknowledge. Every statement is prepared once. The raw SignedBatch bytes
 * are kept (batches.raw) so exports are byte-exact; the other tables are
 * the decoded view for queries. The schema (PRAGMA user_version 1) is
 * documented in docs/telemetry.md.
 */
#ifndef CUSTOMS_STORE_H
#define CUSTOMS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "telemetry.h"

#define STORE_SCHEMA_VERSION	1

enum store_stmt {
	ST_FIND,		/* hash, prev_hash of (node, epoch, seq) */
	ST_INSERT_BATCH,
	ST_INSERT_COUNTER,
	ST_INSERT_EVENT,
	ST_SET_LINK,
	ST_MAX_BELOW,		/* highest stored seq below one */
	ST_FIND_GAP,
	ST_DELETE_GAP,
	ST_INSERT_GAP,
	ST_INSERT_REJECT,
	ST_MAX,
};

struct store {
	void *db;			/* sqlite3 */
	void *stmt[ST_MAX];		/* sqlite3_stmt */
	bool in_txn;
	char path[256];
};

/* Opens or creates; read_only for export and reports. */
int store_open(struct store *s, const char *path, bool read_only);
void store_close(struct store *s);
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
const char *store_errmsg(const struct store *s);

/* 1 and hash/prev_hash when (node, epoch, seq) is stored, 0 when not. */
int store_find(struct store *s, const char *node, __u64 epoch, __u64 seq,
	       unsigned char hash[SHA256_LEN], unsigned char prev_hash[SHA256_LEN]);
/* link_ok: 1 linked to its stored predecessor, 0 broken, -1 unknown yet. */
int store_insert(struct store *s, const struct telem_signed *sb, int link_ok,
		 __u64 received_ns);
int store_set_link(struct store *s, const char *node, __u64 epoch, __u64 seq, int link_ok);
/* 1 and *seq for the highest stored seq below `below`, 0 when none. */
int store_max_below(struct store *s, const char *node, __u64 epoch, __u64 below, __u64 *seq);
int store_add_gap(struct store *s, const char *node, __u64 epoch, __u64 first, __u64 last,
		  __u64 detected_ns);
/* A batch arrived late: splits the recorded gap that contained it. */
int store_fill_gap(struct store *s, const char *node, __u64 epoch, __u64 seq);
int store_add_reject(struct store *s, __u64 received_ns, const char *peer, const char *node,
		     __u64 epoch, __u64 seq, const char *key_id, const char *reason,
		     const void *raw, size_t raw_len);

/* Export filter: empty node = all; from/to in unix ns, 0 = open. */
struct store_filter {
	const char *node;
	__u64 from_ns;
	__u64 to_ns;
};

/* Calls fn with each stored SignedBatch in (node, epoch, seq) order. */
int store_foreach_raw(struct store *s, const struct store_filter *f,
		      int (*fn)(const void *raw, size_t len, void *arg), void *arg);

#endif
