// SPDX-License-Identifier: BSD-2-Clause
/*
 * The receiving end of telemetry: the offline bundle check names every
 * kind of problem (bad signature, unknown key, gap, duplicate with
 * different content, reordering, broken link, epoch marker, garbage) with
 * node, epoch and seq, passes a clean bundle, and says when a gap is what
 * the agent's bounded spool reported dropping; the collector's ingest
 * stores once, treats redelivery as a duplicate, refuses replays with
 * different content, unknown keys and bad signatures, and records a gap
 * only once its grace period is over, splitting it when a batch comes late.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "testlib.h"
#include "telemfix.h"
#include "chaincheck.h"
#include "exporter.h"
#include "ingest.h"
#include "store.h"
#include "transport.h"

#define N_BATCHES 6

struct fx {
	char dir[256];
	struct telem_key key, rogue;
	struct telem_keyring ring;
	struct telem_node node;
	unsigned char *raw[N_BATCHES];
	size_t len[N_BATCHES];
	char lines[32][512];
	enum chk_problem kinds[32];
	size_t n_lines;
};

static void build_one(struct fx *f, const struct telem_key *k, __u64 seq,
		      const unsigned char *prev, size_t n_counters, unsigned char **raw,
		      size_t *len, unsigned char hash[SHA256_LEN])
{
	struct telem_link link = { .epoch = 77, .seq = seq };
	struct fix_interval iv;

	if (prev)
		memcpy(link.prev_hash, prev, SHA256_LEN);
	ASSERT_OK(fix_interval_make(&iv, n_counters, 1, 1700000000000000000ull + seq * 10000000000ull),
		  "interval");
	ASSERT_OK(telem_build_signed(&f->node, &link, &iv.rec, NULL, 0, k, raw, len, hash), "build");
	fix_interval_free(&iv);
}

static int setup(void **state)
{
	unsigned char hash[SHA256_LEN], prev[SHA256_LEN];
	struct fx *f = calloc(1, sizeof(*f));
	size_t i;

	if (!f || fix_tmpdir("audit", f->dir, sizeof(f->dir)) || fix_key(f->dir, &f->key) ||
	    telem_keyring_load(&f->ring, f->dir) || telem_key_generate(&f->rogue))
		return -1;
	snprintf(f->node.node_id, sizeof(f->node.node_id), "node-b");
	snprintf(f->node.host_country, sizeof(f->node.host_country), "AE");
	for (i = 0; i < N_BATCHES; i++) {
		build_one(f, &f->key, i, i ? prev : NULL, 4, &f->raw[i], &f->len[i], hash);
		memcpy(prev, hash, SHA256_LEN);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < N_BATCHES; i++)
		free(f->raw[i]);
	telem_keyring_free(&f->ring);
	telem_key_free(&f->key);
	telem_key_free(&f->rogue);
	fix_rmtree(f->dir);
	free(f);
	return 0;
}

static void collect(void *arg, enum chk_problem kind, const char *line)
{
	struct fx *f = arg;

	if (f->n_lines < 32) {
		snprintf(f->lines[f->n_lines], sizeof(f->lines[0]), "%s", line);
		f->kinds[f->n_lines++] = kind;
	}
}

/* Bundles the given records (by index; -1 ends) plus extra ones. */
static int check(struct fx *f, const int *order, const unsigned char *extra, size_t extra_len,
		 struct chk_summary *sum)
{
	struct chk_options opt = { .problem = collect, .arg = f };
	struct bytebuf b = { 0 };
	unsigned char pre[TELEM_VARINT_MAX];
	int rc;

	f->n_lines = 0;
	for (; *order >= 0; order++) {
		bytebuf_add(&b, pre, telem_varint_put(pre, f->len[*order]));
		bytebuf_add(&b, f->raw[*order], f->len[*order]);
	}
	if (extra) {
		bytebuf_add(&b, pre, telem_varint_put(pre, extra_len));
		bytebuf_add(&b, extra, extra_len);
	}
	rc = chaincheck_bundle(b.data, b.len, &f->ring, &opt, sum);
	bytebuf_free(&b);
	return rc;
}

static void clean_bundle_verifies(void **state)
{
	static const int all[] = { 0, 1, 2, 3, 4, 5, -1 };
	struct fx *f = *state;
	struct chk_summary sum;

	ASSERT_EQ(check(f, all, NULL, 0, &sum), 0, "no problems");
	ASSERT_EQ(sum.batches, 6, "batches");
	ASSERT_EQ(sum.nodes, 1, "nodes");
	ASSERT_EQ(sum.epochs, 1, "epochs");
	ASSERT_EQ(check(f, all, f->raw[3], f->len[3], &sum), 0, "identical duplicate is fine");
	ASSERT_EQ(sum.duplicates, 1, "counted");
}

static void gap_is_named(void **state)
{
	static const int hole[] = { 0, 1, 4, 5, -1 };
	struct fx *f = *state;
	struct chk_summary sum;

	ASSERT_EQ(check(f, hole, NULL, 0, &sum), 1, "one problem");
	ASSERT_EQ(f->kinds[0], CHK_GAP, "gap");
	ASSERT_STR_EQ(f->lines[0],
		      "node node-b epoch 77 seq 2: missing batch (gap): seq 2..3 (2 batch(es)) not in the bundle",
		      "line");
}

static void missing_start_is_a_gap_unless_partial(void **state)
{
	static const int tail[] = { 2, 3, 4, 5, -1 };
	struct chk_options opt = { .partial = true };
	struct fx *f = *state;
	struct chk_summary sum;
	struct bytebuf b = { 0 };
	unsigned char pre[TELEM_VARINT_MAX];
	int i;

	ASSERT_EQ(check(f, tail, NULL, 0, &sum), 1, "start missing");
	ASSERT_EQ(f->kinds[0], CHK_GAP, "gap at start");
	for (i = 2; i < N_BATCHES; i++) {
		bytebuf_add(&b, pre, telem_varint_put(pre, f->len[i]));
		bytebuf_add(&b, f->raw[i], f->len[i]);
	}
	ASSERT_EQ(chaincheck_bundle(b.data, b.len, &f->ring, &opt, &sum), 0, "partial accepted");
	bytebuf_free(&b);
}

static void reordering_is_named(void **state)
{
	static const int swapped[] = { 0, 1, 3, 2, 4, 5, -1 };
	struct fx *f = *state;
	struct chk_summary sum;

	ASSERT_EQ(check(f, swapped, NULL, 0, &sum), 1, "one problem");
	ASSERT_EQ(f->kinds[0], CHK_REORDERED, "reordered");
	ASSERT_STR_EQ(f->lines[0], "node node-b epoch 77 seq 2: reordered: comes after seq 3 in the bundle",
		      "line");
}

static void bad_signature_is_named(void **state)
{
	static const int all[] = { 0, 1, 2, 3, 4, 5, -1 };
	struct fx *f = *state;
	struct chk_summary sum;

	/* The signature's last byte sits just before the 10-byte key id field. */
	f->raw[4][f->len[4] - 11] ^= 0x01;
	ASSERT_EQ(check(f, all, NULL, 0, &sum), 1, "one problem");
	ASSERT_EQ(f->kinds[0], CHK_BAD_SIGNATURE, "bad signature");
	ASSERT_TRUE(strstr(f->lines[0], "node node-b epoch 77 seq 4: bad signature") == f->lines[0],
		    "names node, epoch, seq");
}

static void unknown_key_is_named(void **state)
{
	static const int first[] = { 0, 1, 2, -1 };
	unsigned char *raw, hash[SHA256_LEN];
	struct fx *f = *state;
	struct chk_summary sum;
	struct telem_signed s;
	size_t len;

	ASSERT_OK(telem_decode(f->raw[2], f->len[2], &s), "decode 2");
	build_one(f, &f->rogue, 3, s.hash, 4, &raw, &len, hash);
	telem_signed_free(&s);
	ASSERT_EQ(check(f, first, raw, len, &sum), 1, "one problem");
	ASSERT_EQ(f->kinds[0], CHK_UNKNOWN_KEY, "unknown key");
	ASSERT_TRUE(strstr(f->lines[0], "node node-b epoch 77 seq 3: unknown key: key ") == f->lines[0],
		    "line");
	free(raw);
}

static void duplicate_with_different_content_is_named(void **state)
{
	static const int all[] = { 0, 1, 2, 3, 4, 5, -1 };
	unsigned char *raw, hash[SHA256_LEN];
	struct fx *f = *state;
	struct chk_summary sum;
	struct telem_signed s;
	size_t len;

	ASSERT_OK(telem_decode(f->raw[2], f->len[2], &s), "decode 2");
	build_one(f, &f->key, 3, s.hash, 9, &raw, &len, hash);	/* other counters */
	telem_signed_free(&s);
	ASSERT_EQ(check(f, all, raw, len, &sum), 2, "two problems");
	ASSERT_EQ(f->kinds[0], CHK_REORDERED, "appended after seq 5");
	ASSERT_EQ(f->kinds[1], CHK_DUPLICATE, "duplicate");
	ASSERT_STR_EQ(f->lines[1],
		      "node node-b epoch 77 seq 3: duplicate with different content: record 7 differs from record 4",
		      "line");
	free(raw);
}

static void broken_link_is_named(void **state)
{
	static const int first[] = { 0, 1, 2, -1 };
	unsigned char *raw, hash[SHA256_LEN], wrong[SHA256_LEN];
	struct fx *f = *state;
	struct chk_summary sum;
	size_t len;

	memset(wrong, 0x42, sizeof(wrong));
	build_one(f, &f->key, 3, wrong, 4, &raw, &len, hash);
	ASSERT_EQ(check(f, first, raw, len, &sum), 1, "one problem");
	ASSERT_EQ(f->kinds[0], CHK_BROKEN_LINK, "broken link");
	ASSERT_STR_EQ(f->lines[0],
		      "node node-b epoch 77 seq 3: broken link: prev_hash is not the hash of seq 2",
		      "line");
	free(raw);
}

static void epoch_marker_and_garbage_are_named(void **state)
{
	static const int none[] = { -1 };
	static const int first[] = { 0, -1 };
	unsigned char *raw, prev[SHA256_LEN];
	struct fx *f = *state;
	struct chk_summary sum;
	size_t len;

	/* A hand-made seq 0 without the new-epoch marker, properly signed. */
	{
		Customs__Batch b = CUSTOMS__BATCH__INIT;
		Customs__SignedBatch sb = CUSTOMS__SIGNED_BATCH__INIT;
		unsigned char bytes[256], sig[TELEM_SIG_LEN];
		size_t n;

		b.format = TELEM_FORMAT;
		b.node_id = "node-b";
		b.epoch = 78;
		b.prev_hash.data = prev;
		b.prev_hash.len = SHA256_LEN;
		memset(prev, 1, sizeof(prev));
		n = customs__batch__pack(&b, bytes);
		ASSERT_OK(telem_sign(&f->key, bytes, n, sig), "sign");
		sb.batch.data = bytes;
		sb.batch.len = n;
		sb.signature.data = sig;
		sb.signature.len = TELEM_SIG_LEN;
		sb.key_id.data = f->key.id;
		sb.key_id.len = TELEM_KEY_ID_LEN;
		raw = malloc(customs__signed_batch__get_packed_size(&sb));
		len = customs__signed_batch__pack(&sb, raw);
	}
	ASSERT_EQ(check(f, first, raw, len, &sum), 1, "one problem");
	ASSERT_EQ(sum.epochs, 2, "two epochs");
	ASSERT_EQ(f->kinds[0], CHK_EPOCH_MARKER, "epoch marker");
	ASSERT_STR_EQ(f->lines[0],
		      "node node-b epoch 78 seq 0: bad epoch marker: seq 0 must carry the new-epoch marker and no prev_hash",
		      "line");
	free(raw);
	ASSERT_EQ(check(f, none, (const unsigned char *)"\x08\x01garbage", 9, &sum), 1, "garbage");
	ASSERT_EQ(f->kinds[0], CHK_MALFORMED, "malformed");
	ASSERT_STR_EQ(f->lines[0], "node ? epoch 0 seq 0: malformed: record 1 is not a SignedBatch",
		      "line");
}

static void open_exporter(struct fx *f, struct exporter *x, __u64 max)
{
	struct exporter_config cfg = { 0 };
	char key[300], st[300], sp[300], err[256];

	snprintf(key, sizeof(key), "%s/node.key", f->dir);
	snprintf(st, sizeof(st), "%s/chain.state", f->dir);
	snprintf(sp, sizeof(sp), "%s/spool", f->dir);
	cfg.node_id = "node-b";
	cfg.host_country = "AE";
	cfg.key_path = key;
	cfg.state_path = st;
	cfg.spool_dir = sp;
	cfg.spool_max_bytes = max;
	if (exporter_open(x, &cfg, err, sizeof(err)))
		fail_msg("exporter_open: %s", err);
}

static void spool_drops_show_as_declared_gaps(void **state)
{
	struct chk_options opt = { .problem = collect };
	struct fx *f = *state;
	struct fix_interval iv;
	struct chk_summary sum;
	struct bytebuf b = { 0 };
	struct exporter x;
	unsigned char pre[TELEM_VARINT_MAX], *raw;
	size_t i;

	opt.arg = f;
	f->n_lines = 0;
	ASSERT_OK(fix_interval_make(&iv, 40, 0, 1700000000000000000ull), "interval");
	open_exporter(f, &x, 40000);
	for (i = 0; i < 50; i++)
		ASSERT_OK(exporter_submit(&x, &iv.rec), "submit");
	ASSERT_TRUE(x.stats.dropped > 0, "the bound forced drops");
	exporter_close(&x);
	/* Room again: the next batch reports the last drops and drops nothing. */
	open_exporter(f, &x, 1 << 20);
	ASSERT_OK(exporter_submit(&x, &iv.rec), "submit with room");
	ASSERT_EQ(x.chain.n_drops, 0, "every drop reported");
	for (i = x.spool.head; i < x.spool.n_ents; i++) {
		ASSERT_OK(spool_read(&x.spool, &x.spool.ents[i], &raw), "read");
		bytebuf_add(&b, pre, telem_varint_put(pre, x.spool.ents[i].len));
		bytebuf_add(&b, raw, x.spool.ents[i].len);
		free(raw);
	}
	ASSERT_EQ(chaincheck_bundle(b.data, b.len, &f->ring, &opt, &sum), 1, "one problem");
	ASSERT_EQ(f->kinds[0], CHK_GAP, "the dropped batches are a gap");
	ASSERT_TRUE(strstr(f->lines[0], "the agent reported them dropped from its spool") != NULL,
		    "declared by the agent");
	bytebuf_free(&b);
	exporter_close(&x);
	fix_interval_free(&iv);
}

/* --- ingest ------------------------------------------------------------------ */

static long count(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long n = -1;

	if (sqlite3_open(db, &h) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return n;
}

static enum ingest_status put(struct ingest *in, struct store *st, const void *raw, size_t len)
{
	struct ingest_outcome o;

	ASSERT_OK(store_begin(st), "begin");
	ASSERT_OK(ingest_batch(in, raw, len, "test", NULL, &o), "ingest");
	ASSERT_OK(store_commit(st), "commit");
	return o.status;
}

static void ingest_stores_once_and_refuses_what_it_must(void **state)
{
	unsigned char *raw, hash[SHA256_LEN], *rogue;
	struct fx *f = *state;
	struct store st;
	struct ingest in;
	struct telem_signed s;
	char db[300];
	size_t len, rlen;

	snprintf(db, sizeof(db), "%s/c.db", f->dir);
	ASSERT_OK(store_open(&st, db, false), "open store");
	ingest_init(&in, &st, &f->ring, 0);
	ASSERT_EQ(put(&in, &st, f->raw[0], f->len[0]), INGEST_STORED, "seq 0 stored");
	ASSERT_EQ(put(&in, &st, f->raw[1], f->len[1]), INGEST_STORED, "seq 1 stored");
	ASSERT_EQ(put(&in, &st, f->raw[1], f->len[1]), INGEST_DUPLICATE, "redelivery");
	/* Same (node, epoch, seq), different content. */
	ASSERT_OK(telem_decode(f->raw[0], f->len[0], &s), "decode 0");
	build_one(f, &f->key, 1, s.hash, 9, &raw, &len, hash);
	build_one(f, &f->rogue, 2, s.hash, 1, &rogue, &rlen, hash);
	telem_signed_free(&s);
	ASSERT_EQ(put(&in, &st, raw, len), INGEST_REJECTED, "replay refused");
	ASSERT_EQ(put(&in, &st, rogue, rlen), INGEST_REJECTED, "unknown key refused");
	raw[len - 11] ^= 1;
	ASSERT_EQ(put(&in, &st, raw, len), INGEST_REJECTED, "bad signature refused");
	ASSERT_EQ(put(&in, &st, "\x01\x02", 2), INGEST_MALFORMED, "garbage");
	{
		struct ingest_outcome o;

		ASSERT_OK(store_begin(&st), "begin");
		ASSERT_OK(ingest_batch(&in, f->raw[2], f->len[2], "test", "node-x", &o), "ingest");
		ASSERT_OK(store_commit(&st), "commit");
		ASSERT_EQ(o.status, INGEST_REJECTED, "node id not the certificate's");
	}
	ASSERT_EQ(count(db, "SELECT count(*) FROM batches"), 2, "two batches stored");
	ASSERT_EQ(count(db, "SELECT count(*) FROM counters"), 8, "their counters");
	ASSERT_EQ(count(db, "SELECT count(*) FROM rejects"), 4, "four rejects recorded");
	ASSERT_EQ(count(db, "SELECT count(*) FROM batches WHERE link_ok = 1"), 2, "both linked");
	ASSERT_EQ(count(db, "SELECT sum(packets) FROM counters"), 2 * (1 + 2 + 3 + 4), "packets");
	ingest_free(&in);
	store_close(&st);
	free(raw);
	free(rogue);
}

static void gaps_wait_for_late_batches_then_split(void **state)
{
	struct fx *f = *state;
	struct store st;
	struct ingest in;
	char db[300];

	snprintf(db, sizeof(db), "%s/g.db", f->dir);
	ASSERT_OK(store_open(&st, db, false), "open store");
	ingest_init(&in, &st, &f->ring, 60000);
	ASSERT_EQ(put(&in, &st, f->raw[0], f->len[0]), INGEST_STORED, "0");
	ASSERT_EQ(put(&in, &st, f->raw[2], f->len[2]), INGEST_STORED, "2 out of order");
	ASSERT_EQ(put(&in, &st, f->raw[1], f->len[1]), INGEST_STORED, "1 late");
	ASSERT_EQ(count(db, "SELECT count(*) FROM batches WHERE link_ok = 1"), 3,
		  "late batch fixed both links");
	ASSERT_EQ(put(&in, &st, f->raw[5], f->len[5]), INGEST_STORED, "5, 3 and 4 missing");
	ASSERT_OK(store_begin(&st), "begin");
	ASSERT_OK(ingest_tick(&in, mono_ms()), "tick within grace");
	ASSERT_OK(store_commit(&st), "commit");
	ASSERT_EQ(count(db, "SELECT count(*) FROM gaps"), 0, "no gap yet");
	ASSERT_OK(store_begin(&st), "begin");
	ASSERT_OK(ingest_tick(&in, mono_ms() + 120000), "tick after grace");
	ASSERT_OK(store_commit(&st), "commit");
	ASSERT_EQ(count(db, "SELECT count(*) FROM gaps WHERE first_seq = 3 AND last_seq = 4"), 1,
		  "gap 3..4 recorded");
	ASSERT_EQ(put(&in, &st, f->raw[3], f->len[3]), INGEST_STORED, "3 arrives");
	ASSERT_EQ(count(db, "SELECT count(*) FROM gaps WHERE first_seq = 4 AND last_seq = 4"), 1,
		  "gap shrinks to 4");
	ASSERT_EQ(count(db, "SELECT count(*) FROM gaps"), 1, "one gap left");
	ingest_free(&in);
	store_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(clean_bundle_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(gap_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_start_is_a_gap_unless_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(reordering_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_signature_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_key_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_with_different_content_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(broken_link_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(epoch_marker_and_garbage_are_named, setup, teardown),
		cmocka_unit_test_setup_teardown(spool_drops_show_as_declared_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(ingest_stores_once_and_refuses_what_it_must, setup, teardown),
		cmocka_unit_test_setup_teardown(gaps_wait_for_late_batches_then_split, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
