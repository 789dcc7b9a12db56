// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector's SQLite store; see store.h. Unsigned 64-bit values (epoch
 * is a unix-ns timestamp) are stored as SQLite's signed INTEGER, which
 * holds them exactly until the year 2262.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "abi_names.h"
#include "log.h"
#include "store.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS batches ("
	" node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" key_id TEXT NOT NULL, hash BLOB NOT NULL, prev_hash BLOB,"
	" new_epoch INTEGER NOT NULL, epoch_reason TEXT,"
	" start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,"
	" host_country TEXT, policy_hash TEXT, geo_hash TEXT, agent_version TEXT,"
	" events_lost INTEGER, events_ratelimited INTEGER, meter_overflow INTEGER,"
	" link_ok INTEGER, received_ns INTEGER NOT NULL, raw BLOB NOT NULL,"
	" PRIMARY KEY (node, epoch, seq));"
	"CREATE INDEX IF NOT EXISTS batches_time ON batches (start_ns);"
	"CREATE TABLE IF NOT EXISTS counters ("
	" node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" tenant TEXT, model TEXT, country TEXT, direction TEXT, layer TEXT, verdict TEXT,"
	" packets INTEGER, bytes INTEGER);"
	"CREATE TABLE IF NOT EXISTS events ("
	" node TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" kind TEXT, unix_ns INTEGER, tenant TEXT, model TEXT, country TEXT,"
	" direction TEXT, layer TEXT, verdict TEXT, detail TEXT);"
	"CREATE TABLE IF NOT EXISTS gaps ("
	" node TEXT NOT NULL, epoch INTEGER NOT NULL, first_seq INTEGER NOT NULL,"
	" last_seq INTEGER NOT NULL, detected_ns INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS rejects ("
	" received_ns INTEGER NOT NULL, peer TEXT, node TEXT, epoch INTEGER, seq INTEGER,"
	" key_id TEXT, reason TEXT NOT NULL, raw BLOB);";

static const char *const stmt_sql[ST_MAX] = {
	[ST_FIND] = "SELECT hash, prev_hash FROM batches WHERE node = ?1 AND epoch = ?2 AND seq = ?3",
	[ST_INSERT_BATCH] = "INSERT INTO batches VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
			    " ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
	[ST_INSERT_COUNTER] = "INSERT INTO counters VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_INSERT_EVENT] = "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_SET_LINK] = "UPDATE batches SET link_ok = ?4 WHERE node = ?1 AND epoch = ?2 AND seq = ?3",
	[ST_MAX_BELOW] = "SELECT max(seq) FROM batches WHERE node = ?1 AND epoch = ?2 AND seq < ?3",
	[ST_FIND_GAP] = "SELECT rowid, first_seq, last_seq, detected_ns FROM gaps"
			" WHERE node = ?1 AND epoch = ?2 AND first_seq <= ?3 AND last_seq >= ?3",
	[ST_DELETE_GAP] = "DELETE FROM gaps WHERE rowid = ?1",
	[ST_INSERT_GAP] = "INSERT INTO gaps VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_INSERT_REJECT] = "INSERT INTO rejects VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
};

const char *store_errmsg(const struct store *s)
{
	return s->db ? sqlite3_errmsg(s->db) : "no database";
}

static int exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pr_warn("store %s: %s: %s\n", s->path, sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int store_open(struct store *s, const char *path, bool read_only)
{
	/* One connection per process, used by one thread: no SQLite mutexes. */
	int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
		    SQLITE_OPEN_NOMUTEX;
	sqlite3 *db = NULL;
	int i, err;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		pr_warn("store %s: cannot open: %s\n", path, db ? sqlite3_errmsg(db) : "no memory");
		sqlite3_close(db);
		return -EIO;
	}
	s->db = db;
	sqlite3_busy_timeout(db, 5000);
	if (!read_only) {
		err = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			      " PRAGMA cache_size=-65536;");
		if (!err)
			err = exec(s, schema);
		if (!err)
			err = exec(s, "PRAGMA user_version=1");
		if (err)
			goto fail;
	}
	for (i = 0; i < ST_MAX; i++) {
		if (read_only && i != ST_FIND && i != ST_MAX_BELOW)
			continue;
		if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       (sqlite3_stmt **)&s->stmt[i], NULL) != SQLITE_OK) {
			pr_warn("store %s: cannot prepare a statement: %s (is it a customs store?)\n",
				path, sqlite3_errmsg(db));
			err = -EIO;
			goto fail;
		}
	}
	return 0;
fail:
	store_close(s);
	return err;
}

void store_close(struct store *s)
{
	int i;

	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	memset(s, 0, sizeof(*s));
}

int store_begin(struct store *s)
{
	int err = exec(s, "BEGIN IMMEDIATE");

	if (!err)
		s->in_txn = true;
	return err;
}

int store_commit(struct store *s)
{
	int err = exec(s, "COMMIT");

	if (!err)
		s->in_txn = false;
	return err;
}

void store_rollback(struct store *s)
{
	if (s->in_txn)
		exec(s, "ROLLBACK");
	s->in_txn = false;
}

/*
 * Runs a prepared statement that returns no rows, then resets it. Hot
 * statements that bind every parameter each time skip clearing them.
 */
static int step_keep(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		pr_warn("store %s: %s\n", s->path, sqlite3_errmsg(s->db));
		return -EIO;
	}
	return 0;
}

static int step_done(struct store *s, sqlite3_stmt *st)
{
	int err = step_keep(s, st);

	sqlite3_clear_bindings(st);
	return err;
}

static void bind_u64(sqlite3_stmt *st, int i, __u64 v)
{
	sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static void bind_key(sqlite3_stmt *st, const char *node, __u64 epoch, __u64 seq)
{
	sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
	bind_u64(st, 2, epoch);
	bind_u64(st, 3, seq);
}

int store_find(struct store *s, const char *node, __u64 epoch, __u64 seq,
	       unsigned char hash[SHA256_LEN], unsigned char prev_hash[SHA256_LEN])
{
	sqlite3_stmt *st = s->stmt[ST_FIND];
	int rc, found = 0;

	bind_key(st, node, epoch, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		found = 1;
		memset(hash, 0, SHA256_LEN);
		memset(prev_hash, 0, SHA256_LEN);
		if (sqlite3_column_bytes(st, 0) == SHA256_LEN)
			memcpy(hash, sqlite3_column_blob(st, 0), SHA256_LEN);
		if (sqlite3_column_bytes(st, 1) == SHA256_LEN)
			memcpy(prev_hash, sqlite3_column_blob(st, 1), SHA256_LEN);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -EIO;
	return found;
}

static void bind_hex(sqlite3_stmt *st, int i, const ProtobufCBinaryData *b)
{
	char hex[2 * SHA256_LEN + 1];

	if (b->len != SHA256_LEN) {
		sqlite3_bind_null(st, i);
		return;
	}
	telem_hex(b->data, SHA256_LEN, hex);
	sqlite3_bind_text(st, i, hex, -1, SQLITE_TRANSIENT);
}

static int insert_counters(struct store *s, const Customs__Batch *b)
{
	sqlite3_stmt *st = s->stmt[ST_INSERT_COUNTER];
	size_t i;
	int err = 0;

	for (i = 0; i < b->n_counters && !err; i++) {
		const Customs__Counter *c = b->counters[i];

		bind_key(st, b->node_id, b->epoch, b->seq);
		sqlite3_bind_text(st, 4, c->tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, c->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, c->country, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, direction_name((enum direction)c->direction), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, layer_name((enum layer)c->layer), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, verdict_name((enum verdict)c->verdict), -1, SQLITE_STATIC);
		bind_u64(st, 10, c->packets);
		bind_u64(st, 11, c->bytes);
		err = step_keep(s, st);
	}
	return err;
}

static int insert_events(struct store *s, const Customs__Batch *b)
{
	sqlite3_stmt *st = s->stmt[ST_INSERT_EVENT];
	char detail[160];
	size_t i;
	int err = 0;

	for (i = 0; i < b->n_events && !err; i++) {
		const Customs__Event *e = b->events[i];
		const char *kind = e->kind == CUSTOMS__EVENT_KIND__EVENT_SPOOL_DROP ? "spool_drop" :
				   event_kind_name((enum event_kind)e->kind);

		detail[0] = '\0';
		if (e->spool_drop)
			snprintf(detail, sizeof(detail), "epoch %llu seq %llu..%llu: %llu batches, %llu bytes",
				 (unsigned long long)e->spool_drop->epoch,
				 (unsigned long long)e->spool_drop->first_seq,
				 (unsigned long long)e->spool_drop->last_seq,
				 (unsigned long long)e->spool_drop->batches,
				 (unsigned long long)e->spool_drop->bytes);
		bind_key(st, b->node_id, b->epoch, b->seq);
		sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
		bind_u64(st, 5, e->unix_ns);
		sqlite3_bind_text(st, 6, e->tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, e->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, e->country, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, direction_name((enum direction)e->direction), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, layer_name((enum layer)e->layer), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, verdict_name((enum verdict)e->verdict), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, detail, -1, SQLITE_TRANSIENT);
		err = step_done(s, st);
	}
	return err;
}

int store_insert(struct store *s, const struct telem_signed *sb, int link_ok,
		 __u64 received_ns)
{
	sqlite3_stmt *st = s->stmt[ST_INSERT_BATCH];
	const Customs__Batch *b = sb->batch;
	int err;

	bind_key(st, b->node_id, b->epoch, b->seq);
	sqlite3_bind_text(st, 4, sb->key_id_hex, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, sb->hash, SHA256_LEN, SQLITE_STATIC);
	if (b->prev_hash.len)
		sqlite3_bind_blob(st, 6, b->prev_hash.data, (int)b->prev_hash.len, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, b->new_epoch ? 1 : 0);
	sqlite3_bind_text(st, 8, b->epoch_reason, -1, SQLITE_STATIC);
	bind_u64(st, 9, b->start_unix_ns);
	bind_u64(st, 10, b->end_unix_ns);
	sqlite3_bind_text(st, 11, b->host_country, -1, SQLITE_STATIC);
	bind_hex(st, 12, &b->policy_hash);
	bind_hex(st, 13, &b->geo_hash);
	sqlite3_bind_text(st, 14, b->agent_version, -1, SQLITE_STATIC);
	bind_u64(st, 15, b->events_lost);
	bind_u64(st, 16, b->events_ratelimited);
	bind_u64(st, 17, b->meter_overflow);
	if (link_ok >= 0)
		sqlite3_bind_int(st, 18, link_ok);
	bind_u64(st, 19, received_ns);
	sqlite3_bind_blob(st, 20, sb->raw, (int)sb->raw_len, SQLITE_STATIC);
	err = step_done(s, st);
	if (!err)
		err = insert_counters(s, b);
	if (!err)
		err = insert_events(s, b);
	return err;
}

int store_set_link(struct store *s, const char *node, __u64 epoch, __u64 seq, int link_ok)
{
	sqlite3_stmt *st = s->stmt[ST_SET_LINK];

	bind_key(st, node, epoch, seq);
	sqlite3_bind_int(st, 4, link_ok);
	return step_done(s, st);
}

int store_max_below(struct store *s, const char *node, __u64 epoch, __u64 below, __u64 *seq)
{
	sqlite3_stmt *st = s->stmt[ST_MAX_BELOW];
	int rc, found = 0;

	bind_key(st, node, epoch, below);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*seq = (__u64)sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -EIO;
	return found;
}

int store_add_gap(struct store *s, const char *node, __u64 epoch, __u64 first, __u64 last,
		  __u64 detected_ns)
{
	sqlite3_stmt *st = s->stmt[ST_INSERT_GAP];

	sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
	bind_u64(st, 2, epoch);
	bind_u64(st, 3, first);
	bind_u64(st, 4, last);
	bind_u64(st, 5, detected_ns);
	return step_done(s, st);
}

int store_fill_gap(struct store *s, const char *node, __u64 epoch, __u64 seq)
{
	sqlite3_stmt *st = s->stmt[ST_FIND_GAP];
	sqlite3_int64 rowid;
	__u64 first, last, when;
	int rc, err;

	bind_key(st, node, epoch, seq);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return rc == SQLITE_DONE ? 0 : -EIO;
	}
	rowid = sqlite3_column_int64(st, 0);
	first = (__u64)sqlite3_column_int64(st, 1);
	last = (__u64)sqlite3_column_int64(st, 2);
	when = (__u64)sqlite3_column_int64(st, 3);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	st = s->stmt[ST_DELETE_GAP];
	sqlite3_bind_int64(st, 1, rowid);
	err = step_done(s, st);
	if (!err && first < seq)
		err = store_add_gap(s, node, epoch, first, seq - 1, when);
	if (!err && seq < last)
		err = store_add_gap(s, node, epoch, seq + 1, last, when);
	return err;
}

int store_add_reject(struct store *s, __u64 received_ns, const char *peer, const char *node,
		     __u64 epoch, __u64 seq, const char *key_id, const char *reason,
		     const void *raw, size_t raw_len)
{
	sqlite3_stmt *st = s->stmt[ST_INSERT_REJECT];

	bind_u64(st, 1, received_ns);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, node, -1, SQLITE_STATIC);
	bind_u64(st, 4, epoch);
	bind_u64(st, 5, seq);
	sqlite3_bind_text(st, 6, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, reason, -1, SQLITE_STATIC);
	if (raw)
		sqlite3_bind_blob(st, 8, raw, (int)raw_len, SQLITE_STATIC);
	return step_done(s, st);
}

int store_foreach_raw(struct store *s, const struct store_filter *f,
		      int (*fn)(const void *raw, size_t len, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT raw FROM batches WHERE (?1 IS NULL OR node = ?1)"
		" AND (?2 = 0 OR end_ns >= ?2) AND (?3 = 0 OR start_ns < ?3)"
		" ORDER BY node, epoch, seq";
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		pr_warn("store %s: %s (is it a customs store?)\n", s->path, sqlite3_errmsg(s->db));
		return -EIO;
	}
	if (f->node && *f->node)
		sqlite3_bind_text(st, 1, f->node, -1, SQLITE_STATIC);
	bind_u64(st, 2, f->from_ns);
	bind_u64(st, 3, f->to_ns);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		err = fn(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), arg);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE) {
		pr_warn("store %s: %s\n", s->path, sqlite3_errmsg(s->db));
		err = -EIO;
	}
	sqlite3_finalize(st);
	return err;
}
