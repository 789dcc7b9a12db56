/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent's durable spool of signed batches waiting for the collector's
 * acknowledgement: a directory of append-only segment files, fsync'd
 * before a batch counts as produced, bounded in size (the oldest segments
 * go first, and the caller reports exactly what went), trimmed as acks
 * arrive. A segment torn by a crash is cut back to its last whole record
 * when the spool is opened.
 *
 * Segment file DIR/seg-<id, 16 hex digits>.spool (little-endian):
 *   header  16 bytes: magic "CSPL", version u32 (1), segment id u64
 *   records 24-byte header + payload, back to back:
 *           length u32, CRC-32 (zlib) u32 of epoch, seq and payload,
 *           epoch u64, seq u64, then `length` bytes of SignedBatch
 */
#ifndef CUSTOMS_SPOOL_H
#define CUSTOMS_SPOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "telemetry.h"

#define SPOOL_MAGIC		"CSPL"
#define SPOOL_VERSION		1
#define SPOOL_HDR_LEN		16
#define SPOOL_REC_HDR_LEN	24
#define SPOOL_MIN_SEGMENT	4096

struct spool_entry {
	__u64 epoch;
	__u64 seq;
	__u64 segment;
	__u64 off;		/* of the payload in its segment */
	__u32 len;
	bool acked;
	bool sent;		/* in flight on the current connection */
};

struct spool_seg {
	__u64 id;
	__u64 bytes;		/* header and records */
};

struct spool {
	char dir[PATH_MAX - 64];
	int fd;			/* the segment appended to, -1 none */
	__u64 cur_id;		/* its id; the next segment gets cur_id + 1 */
	__u64 max_bytes;
	__u64 seg_bytes;
	__u64 total_bytes;
	struct spool_seg *segs;	/* oldest first */
	size_t n_segs;
	struct spool_entry *ents;	/* oldest first, from head */
	size_t head, n_ents, cap;
};

/* Opens (creating) the spool directory; cuts a torn tail. */
int spool_open(struct spool *s, const char *dir, __u64 max_bytes);
void spool_close(struct spool *s);
/* Appends one batch and fsyncs it before returning 0. */
int spool_append(struct spool *s, __u64 epoch, __u64 seq, const void *buf, size_t len);
/*
 * Which oldest segments must go so that `incoming` more bytes fit in
 * max_bytes: *through is the last segment id to drop (0: nothing), and
 * drops[] (up to max_drops) the unacknowledged batches in them, one run per
 * epoch. Nothing is removed yet.
 */
int spool_plan_drop(const struct spool *s, size_t incoming, __u64 *through,
		    struct telem_drop *drops, size_t max_drops, size_t *n_drops);
/* Removes every segment with id <= through and its batches. */
int spool_drop_through(struct spool *s, __u64 through);
/* Marks (epoch, seq) acknowledged and deletes segments with nothing left. */
int spool_ack(struct spool *s, __u64 epoch, __u64 seq);
/* The oldest batch not yet sent on this connection, or NULL. */
struct spool_entry *spool_next_unsent(struct spool *s);
/* Forgets what was in flight (after a disconnect): all of it goes again. */
void spool_unsend_all(struct spool *s);
/* The newest batch, or NULL. */
const struct spool_entry *spool_last(const struct spool *s);
/* Batches not yet acknowledged. */
size_t spool_pending(const struct spool *s);
/* Reads a batch's bytes (malloc'd, caller frees), checking its CRC. */
int spool_read(const struct spool *s, const struct spool_entry *e, unsigned char **buf);

#endif
