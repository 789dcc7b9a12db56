// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent side of telemetry: a batch survives encode/decode with every
 * field, signatures catch tampering and unknown keys, keys round-trip
 * through their files, varints and bundles frame exactly, the chain state
 * file refuses corruption, the spool cuts a torn tail and trims on ack, and
 * the exporter continues, restarts and drops exactly as documented.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "telemfix.h"
#include "chain.h"
#include "exporter.h"
#include "spool.h"
#include "telemetry.h"

struct fx {
	char dir[256];
	struct telem_key key;
	struct telem_keyring ring;
	struct telem_node node;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || fix_tmpdir("unit", f->dir, sizeof(f->dir)) || fix_key(f->dir, &f->key) ||
	    telem_keyring_load(&f->ring, f->dir))
		return -1;
	snprintf(f->node.node_id, sizeof(f->node.node_id), "node-a");
	snprintf(f->node.host_country, sizeof(f->node.host_country), "AE");
	snprintf(f->node.agent_version, sizeof(f->node.agent_version), "test");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	telem_keyring_free(&f->ring);
	telem_key_free(&f->key);
	fix_rmtree(f->dir);
	free(f);
	return 0;
}

static void build(struct fx *f, __u64 epoch, __u64 seq, const unsigned char *prev,
		  size_t n, unsigned char **raw, size_t *len, unsigned char hash[SHA256_LEN])
{
	struct telem_link link = { .epoch = epoch, .seq = seq, .epoch_reason = "test" };
	struct fix_interval iv;

	if (prev)
		memcpy(link.prev_hash, prev, SHA256_LEN);
	ASSERT_OK(fix_interval_make(&iv, n, 2, 1700000000000000000ull + seq * 10000000000ull),
		  "interval");
	ASSERT_OK(telem_build_signed(&f->node, &link, &iv.rec, NULL, 0, &f->key, raw, len, hash),
		  "build_signed");
	fix_interval_free(&iv);
}

static void batch_round_trips_every_field(void **state)
{
	struct fx *f = *state;
	unsigned char *raw, hash[SHA256_LEN], prev[SHA256_LEN], again[SHA256_LEN];
	struct telem_signed s;
	const Customs__Batch *b;
	size_t len;

	memset(prev, 0x11, sizeof(prev));
	build(f, 42, 7, prev, 30, &raw, &len, hash);
	ASSERT_OK(telem_decode(raw, len, &s), "decode");
	b = s.batch;
	ASSERT_STR_EQ(b->node_id, "node-a", "node id");
	ASSERT_STR_EQ(b->host_country, "AE", "host country");
	ASSERT_STR_EQ(b->agent_version, "test", "agent version");
	ASSERT_EQ(b->format, TELEM_FORMAT, "format");
	ASSERT_EQ(b->epoch, 42, "epoch");
	ASSERT_EQ(b->seq, 7, "seq");
	ASSERT_EQ(b->new_epoch, 0, "not a new epoch");
	ASSERT_EQ(b->prev_hash.len, SHA256_LEN, "prev_hash length");
	ASSERT_TRUE(!memcmp(b->prev_hash.data, prev, SHA256_LEN), "prev_hash");
	ASSERT_EQ(b->start_unix_ns, 1700000070000000000ull, "start");
	ASSERT_EQ(b->end_unix_ns, 1700000080000000000ull, "end");
	ASSERT_EQ(b->policy_hash.data[0], 0xab, "policy hash");
	ASSERT_EQ(b->geo_hash.data[31], 0xcd, "geo hash");
	ASSERT_EQ(b->events_lost, 3, "events lost");
	ASSERT_EQ(b->meter_overflow, 1, "meter overflow");
	ASSERT_EQ(b->n_counters, 30, "counters");
	ASSERT_STR_EQ(b->counters[4]->tenant, "tenant-1", "counter tenant");
	ASSERT_STR_EQ(b->counters[4]->model, "model-0", "counter model");
	ASSERT_STR_EQ(b->counters[4]->country, "US", "counter country");
	ASSERT_EQ(b->counters[4]->verdict, CUSTOMS__VERDICT__DENY, "counter verdict");
	ASSERT_EQ(b->counters[4]->direction, CUSTOMS__DIRECTION__INGRESS, "counter direction");
	ASSERT_EQ(b->counters[4]->layer, CUSTOMS__LAYER__SKB, "counter layer");
	ASSERT_EQ(b->counters[29]->packets, 30, "packets");
	ASSERT_EQ(b->counters[29]->bytes, 3000, "bytes");
	ASSERT_EQ(b->n_events, 2, "events");
	ASSERT_EQ(b->events[1]->kind, CUSTOMS__EVENT_KIND__EVENT_DENY, "event kind");
	ASSERT_STR_EQ(b->events[1]->country, "CN", "event country");
	ASSERT_EQ(b->events[1]->saddr.len, 4, "v4 address length");
	ASSERT_EQ(b->events[1]->saddr.data[0], 192, "source address");
	ASSERT_EQ(b->events[1]->dport, 443, "dport");
	ASSERT_EQ(s.sb->key_id.len, TELEM_KEY_ID_LEN, "key id length");
	ASSERT_STR_EQ(s.key_id_hex, f->key.id_hex, "key id");
	ASSERT_TRUE(!memcmp(s.hash, hash, SHA256_LEN), "hash of the SignedBatch bytes");
	ASSERT_OK(sha256(raw, len, again), "sha256");
	ASSERT_TRUE(!memcmp(again, hash, SHA256_LEN), "hash is SHA-256 of the bytes");
	ASSERT_OK(telem_verify(&s, &f->ring), "verify");
	telem_signed_free(&s);
	free(raw);
}

static void first_batch_of_an_epoch_says_so(void **state)
{
	struct fx *f = *state;
	unsigned char *raw, hash[SHA256_LEN];
	struct telem_signed s;
	size_t len;

	build(f, 9, 0, NULL, 1, &raw, &len, hash);
	ASSERT_OK(telem_decode(raw, len, &s), "decode");
	ASSERT_EQ(s.batch->new_epoch, 1, "new epoch marker");
	ASSERT_EQ(s.batch->prev_hash.len, 0, "no prev hash");
	ASSERT_STR_EQ(s.batch->epoch_reason, "test", "reason");
	telem_signed_free(&s);
	free(raw);
}

static void unknown_fields_are_kept_and_signed_bytes_untouched(void **state)
{
	struct fx *f = *state;
	unsigned char *raw, hash[SHA256_LEN], *ext, sig[TELEM_SIG_LEN];
	Customs__SignedBatch sb = CUSTOMS__SIGNED_BATCH__INIT;
	struct telem_signed s, s2;
	unsigned char *out;
	size_t len, n;

	build(f, 1, 0, NULL, 2, &raw, &len, hash);
	ASSERT_OK(telem_decode(raw, len, &s), "decode");
	/* A future writer adds field 99 (varint 5) to the Batch and signs. */
	n = s.sb->batch.len + 3;
	ext = malloc(n);
	memcpy(ext, s.sb->batch.data, s.sb->batch.len);
	ext[n - 3] = ((99 << 3) & 0x7f) | 0x80;
	ext[n - 2] = 99 >> 4;
	ext[n - 1] = 5;
	ASSERT_OK(telem_sign(&f->key, ext, n, sig), "sign extended");
	sb.batch.data = ext;
	sb.batch.len = n;
	sb.signature.data = sig;
	sb.signature.len = TELEM_SIG_LEN;
	sb.key_id.data = f->key.id;
	sb.key_id.len = TELEM_KEY_ID_LEN;
	out = malloc(customs__signed_batch__get_packed_size(&sb));
	n = customs__signed_batch__pack(&sb, out);
	ASSERT_OK(telem_decode(out, n, &s2), "decode with an unknown field");
	ASSERT_EQ(s2.batch->base.n_unknown_fields, 1, "unknown field kept");
	ASSERT_OK(telem_verify(&s2, &f->ring), "signature over the bytes as sent");
	telem_signed_free(&s2);
	telem_signed_free(&s);
	free(out);
	free(ext);
	free(raw);
}

static void tampering_and_unknown_keys_are_caught(void **state)
{
	struct fx *f = *state;
	unsigned char *raw, hash[SHA256_LEN], *raw2, hash2[SHA256_LEN];
	struct telem_keyring empty = { 0 };
	struct telem_signed s;
	struct telem_key other;
	size_t len, len2, i;

	build(f, 1, 0, NULL, 5, &raw, &len, hash);
	/* Flip a byte inside the counters (well inside the Batch bytes). */
	raw[len / 2] ^= 0x01;
	if (telem_decode(raw, len, &s) == 0) {
		ASSERT_EQ(telem_verify(&s, &f->ring), -EKEYREJECTED, "tampered batch");
		telem_signed_free(&s);
	}
	raw[len / 2] ^= 0x01;
	/* Flip the last signature byte (the key id follows it). */
	ASSERT_OK(telem_decode(raw, len, &s), "decode");
	for (i = 0; i + TELEM_SIG_LEN <= len; i++)
		if (!memcmp(raw + i, s.sb->signature.data, TELEM_SIG_LEN))
			break;
	telem_signed_free(&s);
	raw[i + 10] ^= 0x80;
	ASSERT_OK(telem_decode(raw, len, &s), "decode bad signature");
	ASSERT_EQ(telem_verify(&s, &f->ring), -EKEYREJECTED, "bad signature");
	ASSERT_EQ(telem_verify(&s, &empty), -ENOKEY, "unknown key");
	telem_signed_free(&s);
	/* Signed by a key the ring does not hold. */
	ASSERT_OK(telem_key_generate(&other), "other key");
	{
		struct telem_link link = { .epoch = 1 };
		struct fix_interval iv;

		ASSERT_OK(fix_interval_make(&iv, 1, 0, 1), "interval");
		ASSERT_OK(telem_build_signed(&f->node, &link, &iv.rec, NULL, 0, &other, &raw2,
					     &len2, hash2), "build with other key");
		fix_interval_free(&iv);
	}
	ASSERT_OK(telem_decode(raw2, len2, &s), "decode other");
	ASSERT_EQ(telem_verify(&s, &f->ring), -ENOKEY, "unknown key");
	telem_signed_free(&s);
	telem_key_free(&other);
	free(raw2);
	ASSERT_EQ(telem_decode("\xff\xff\xff", 3, &s), -EBADMSG, "garbage");
	free(raw);
}

static void keys_round_trip_through_files(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	struct telem_key pub;
	struct stat st;

	snprintf(path, sizeof(path), "%s/node.key", f->dir);
	ASSERT_OK(stat(path, &st), "private key file");
	ASSERT_EQ(st.st_mode & 0777, 0600, "private key mode");
	snprintf(path, sizeof(path), "%s/%s.pub", f->dir, f->key.id_hex);
	ASSERT_OK(telem_key_load_public(&pub, path), "public key named by key id");
	ASSERT_STR_EQ(pub.id_hex, f->key.id_hex, "same key id");
	ASSERT_TRUE(!pub.has_private, "public only");
	ASSERT_EQ(strlen(pub.id_hex), 16, "8-byte key id");
	telem_key_free(&pub);
	ASSERT_EQ(telem_key_write(&f->key, f->dir), -EEXIST, "never overwrites a key");
	ASSERT_EQ(f->ring.n, 1, "key ring holds the one key");
}

static void varints_and_bundles_frame_exactly(void **state)
{
	static const __u64 vals[] = { 0, 1, 127, 128, 300, 16383, 16384, (1ull << 32), ~0ull };
	unsigned char b[TELEM_VARINT_MAX], bundle[64];
	const unsigned char *rec;
	size_t i, n, used, off = 0, rlen;
	__u64 v;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		n = telem_varint_put(b, vals[i]);
		ASSERT_OK(telem_varint_get(b, n, &v, &used), "varint get");
		ASSERT_EQ(v, vals[i], "varint value");
		ASSERT_EQ(used, n, "varint length");
		if (n > 1)
			ASSERT_EQ(telem_varint_get(b, n - 1, &v, &used), -EAGAIN, "short varint");
	}
	ASSERT_EQ(telem_varint_put(b, ~0ull), 10, "64-bit varint is 10 bytes");
	memset(b, 0xff, sizeof(b));
	ASSERT_EQ(telem_varint_get(b, sizeof(b), &v, &used), -EBADMSG, "overlong varint");
	/* Two records, then a truncated third. */
	memcpy(bundle, "\x03" "abc" "\x01" "x" "\x05" "ab", 9);
	ASSERT_EQ(telem_bundle_next(bundle, 9, &off, &rec, &rlen), 1, "first");
	ASSERT_EQ(rlen, 3, "first length");
	ASSERT_EQ(telem_bundle_next(bundle, 9, &off, &rec, &rlen), 1, "second");
	ASSERT_EQ(rec[0], 'x', "second byte");
	ASSERT_EQ(telem_bundle_next(bundle, 9, &off, &rec, &rlen), -EBADMSG, "truncated");
	off = 0;
	ASSERT_EQ(telem_bundle_next(bundle, 6, &off, &rec, &rlen), 1, "exact end");
	ASSERT_EQ(telem_bundle_next(bundle, 4, &off, &rec, &rlen), 0, "clean end");
}

static void chain_state_persists_and_refuses_corruption(void **state)
{
	struct fx *f = *state;
	struct chain_state st = { 0 }, back;
	struct telem_drop d = { .epoch = 5, .first_seq = 1, .last_seq = 3, .batches = 3, .bytes = 99 };
	unsigned char hash[SHA256_LEN], raw[CHAIN_FILE_SIZE];
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/chain.state", f->dir);
	ASSERT_EQ(chain_load(path, &back), -ENOENT, "missing state");
	chain_start_epoch(&st, 5);
	memset(hash, 0x5a, sizeof(hash));
	chain_advance(&st, hash);
	chain_add_drop(&st, &d);
	st.drop_through = 4;
	ASSERT_OK(chain_save(path, &st), "save");
	ASSERT_OK(chain_load(path, &back), "load");
	ASSERT_EQ(back.epoch, 5, "epoch");
	ASSERT_EQ(back.next_seq, 1, "next seq");
	ASSERT_TRUE(!memcmp(back.prev_hash, hash, SHA256_LEN), "prev hash");
	ASSERT_EQ(back.drop_through, 4, "drop through");
	ASSERT_EQ(back.n_drops, 1, "drops");
	ASSERT_EQ(back.drops[0].bytes, 99, "drop bytes");
	ASSERT_EQ(back.run.last_seq, 3, "drop run");
	fd = open(path, O_RDWR);
	ASSERT_EQ(pread(fd, raw, sizeof(raw), 0), sizeof(raw), "read back");
	raw[20] ^= 1;
	ASSERT_EQ(pwrite(fd, raw, sizeof(raw), 0), sizeof(raw), "corrupt");
	close(fd);
	ASSERT_EQ(chain_load(path, &back), -EBADMSG, "corrupt state refused");
	ASSERT_OK(truncate(path, 10), "truncate");
	ASSERT_EQ(chain_load(path, &back), -EBADMSG, "short state refused");
}

static void spool_survives_reopen_and_cuts_a_torn_tail(void **state)
{
	struct fx *f = *state;
	char dir[PATH_MAX], seg[PATH_MAX + 32];
	unsigned char payload[100], *back;
	struct spool s;
	struct stat st;
	int i, fd;

	snprintf(dir, sizeof(dir), "%s/spool", f->dir);
	ASSERT_OK(spool_open(&s, dir, 1 << 20), "open");
	for (i = 0; i < 5; i++) {
		memset(payload, i, sizeof(payload));
		ASSERT_OK(spool_append(&s, 7, (__u64)i, payload, sizeof(payload)), "append");
	}
	spool_close(&s);
	/* A crash mid-write: half a record header and some payload. */
	snprintf(seg, sizeof(seg), "%s/seg-%016x.spool", dir, 1);
	ASSERT_OK(stat(seg, &st), "segment exists");
	fd = open(seg, O_WRONLY | O_APPEND);
	ASSERT_EQ(write(fd, "\x64\0\0\0\x12\x34", 6), 6, "torn write");
	close(fd);
	ASSERT_OK(spool_open(&s, dir, 1 << 20), "reopen");
	ASSERT_EQ(spool_pending(&s), 5, "five whole batches");
	ASSERT_EQ(spool_last(&s)->seq, 4, "last seq");
	ASSERT_OK(spool_read(&s, spool_last(&s), &back), "read last");
	ASSERT_EQ(back[99], 4, "payload intact");
	free(back);
	ASSERT_OK(stat(seg, &st), "segment still there");
	ASSERT_EQ(st.st_size, SPOOL_HDR_LEN + 5 * (SPOOL_REC_HDR_LEN + 100), "tail cut");
	ASSERT_OK(spool_append(&s, 7, 5, payload, sizeof(payload)), "append after repair");
	spool_close(&s);
	/* A flipped payload byte: the record and all after it are dropped. */
	fd = open(seg, O_RDWR);
	ASSERT_EQ(pwrite(fd, "\xee", 1, SPOOL_HDR_LEN + 3 * (SPOOL_REC_HDR_LEN + 100) + 40), 1,
		  "corrupt record 3");
	close(fd);
	ASSERT_OK(spool_open(&s, dir, 1 << 20), "reopen corrupt");
	ASSERT_EQ(spool_pending(&s), 3, "records before the damage");
	spool_close(&s);
}

static void spool_trims_acked_segments_and_plans_drops_oldest_first(void **state)
{
	struct fx *f = *state;
	struct telem_drop drops[4];
	unsigned char payload[1000] = { 0 };
	char dir[PATH_MAX];
	struct spool s;
	size_t n;
	__u64 through;
	int i;

	snprintf(dir, sizeof(dir), "%s/spool2", f->dir);
	/* 32 KiB bound: 4 KiB segments hold three 1 KiB records each. */
	ASSERT_OK(spool_open(&s, dir, 32768), "open");
	for (i = 0; i < 9; i++)
		ASSERT_OK(spool_append(&s, 3, (__u64)i, payload, sizeof(payload)), "append");
	ASSERT_EQ(s.n_segs, 3, "three segments");
	ASSERT_EQ(spool_ack(&s, 3, 0), 0, "ack 0");
	ASSERT_EQ(spool_ack(&s, 3, 2), 0, "ack 2 out of order");
	ASSERT_EQ(s.n_segs, 3, "segment 1 still holds seq 1");
	ASSERT_EQ(spool_ack(&s, 3, 1), 0, "ack 1");
	ASSERT_EQ(s.n_segs, 2, "segment 1 removed");
	ASSERT_EQ(spool_ack(&s, 3, 1), -ENOENT, "ack twice");
	ASSERT_EQ(spool_next_unsent(&s)->seq, 3, "next to send");
	/* Fill to the bound: the oldest unacked segment has to go. */
	for (i = 9; i < 30; i++)
		ASSERT_OK(spool_append(&s, 3, (__u64)i, payload, sizeof(payload)), "append more");
	ASSERT_OK(spool_plan_drop(&s, 5000, &through, drops, 4, &n), "plan");
	ASSERT_TRUE(through >= 2, "drops from the oldest segment");
	ASSERT_EQ(n, 1, "one run");
	ASSERT_EQ(drops[0].epoch, 3, "epoch");
	ASSERT_EQ(drops[0].first_seq, 3, "first dropped is the oldest unacked");
	ASSERT_EQ(drops[0].batches, drops[0].last_seq - drops[0].first_seq + 1, "contiguous");
	ASSERT_OK(spool_drop_through(&s, through), "drop");
	ASSERT_EQ(spool_next_unsent(&s)->seq, drops[0].last_seq + 1, "oldest survivor");
	ASSERT_TRUE(s.total_bytes + SPOOL_REC_HDR_LEN + 5000 <= 32768, "fits now");
	spool_close(&s);
}

static void open_exporter(struct fx *f, struct exporter *x, __u64 max)
{
	struct exporter_config cfg = { 0 };
	char key[PATH_MAX], st[PATH_MAX], sp[PATH_MAX], err[256];

	snprintf(key, sizeof(key), "%s/node.key", f->dir);
	snprintf(st, sizeof(st), "%s/chain.state", f->dir);
	snprintf(sp, sizeof(sp), "%s/xspool", f->dir);
	cfg.node_id = "node-a";
	cfg.host_country = "AE";
	cfg.key_path = key;
	cfg.state_path = st;
	cfg.spool_dir = sp;
	cfg.spool_max_bytes = max;
	if (exporter_open(x, &cfg, err, sizeof(err)))
		fail_msg("exporter_open: %s", err);
}

/* Decodes the newest batch in the exporter's spool. */
static void last_batch(struct exporter *x, struct telem_signed *s, unsigned char **raw)
{
	const struct spool_entry *e = spool_last(&x->spool);

	ASSERT_OK_PTR(e, "spool has a batch");
	ASSERT_OK(spool_read(&x->spool, e, raw), "read");
	ASSERT_OK(telem_decode(*raw, e->len, s), "decode");
}

static void exporter_chains_restarts_and_starts_epochs_visibly(void **state)
{
	struct fx *f = *state;
	unsigned char *raw, first_hash[SHA256_LEN], state_copy[CHAIN_FILE_SIZE];
	char path[PATH_MAX];
	struct telem_signed s;
	struct fix_interval iv;
	struct exporter x;
	__u64 epoch;
	int fd;

	ASSERT_OK(fix_interval_make(&iv, 10, 1, 1700000000000000000ull), "interval");
	open_exporter(f, &x, 1 << 20);
	epoch = x.chain.epoch;
	ASSERT_OK(exporter_submit(&x, &iv.rec), "submit 0");
	last_batch(&x, &s, &raw);
	ASSERT_EQ(s.batch->seq, 0, "seq 0");
	ASSERT_EQ(s.batch->new_epoch, 1, "new epoch");
	ASSERT_STR_EQ(s.batch->epoch_reason, "no chain state", "why");
	memcpy(first_hash, s.hash, SHA256_LEN);
	telem_signed_free(&s);
	free(raw);
	ASSERT_OK(exporter_submit(&x, &iv.rec), "submit 1");
	exporter_close(&x);

	/* Restart: the chain continues. */
	open_exporter(f, &x, 1 << 20);
	ASSERT_EQ(x.chain.epoch, epoch, "same epoch");
	ASSERT_EQ(x.chain.next_seq, 2, "continues at 2");
	/* Crash between spooling and saving the state: keep the old state. */
	snprintf(path, sizeof(path), "%s/chain.state", f->dir);
	fd = open(path, O_RDONLY);
	ASSERT_EQ(read(fd, state_copy, sizeof(state_copy)), sizeof(state_copy), "copy state");
	close(fd);
	ASSERT_OK(exporter_submit(&x, &iv.rec), "submit 2");
	exporter_close(&x);
	ASSERT_OK(fix_write_file(path, state_copy, sizeof(state_copy)), "restore old state");
	open_exporter(f, &x, 1 << 20);
	ASSERT_EQ(x.chain.next_seq, 3, "caught up from the spool, no duplicate seq 2");
	ASSERT_OK(exporter_submit(&x, &iv.rec), "submit 3");
	last_batch(&x, &s, &raw);
	ASSERT_EQ(s.batch->seq, 3, "seq 3");
	telem_signed_free(&s);
	free(raw);
	exporter_close(&x);

	/* Lost state: a new epoch that says so. */
	ASSERT_OK(unlink(path), "lose the state");
	open_exporter(f, &x, 1 << 20);
	ASSERT_TRUE(x.chain.epoch > epoch, "a later epoch");
	ASSERT_EQ(x.chain.next_seq, 0, "from seq 0");
	ASSERT_OK(exporter_submit(&x, &iv.rec), "submit in new epoch");
	last_batch(&x, &s, &raw);
	ASSERT_EQ(s.batch->new_epoch, 1, "marked");
	ASSERT_EQ(spool_pending(&x.spool), 5, "old epoch's batches still spooled");
	telem_signed_free(&s);
	free(raw);
	exporter_close(&x);
	fix_interval_free(&iv);
}

static void bounded_spool_reports_exactly_what_it_dropped(void **state)
{
	struct fx *f = *state;
	struct fix_interval iv;
	struct telem_signed s;
	struct exporter x;
	unsigned char *raw;
	__u64 reported = 0;
	size_t i, k;

	ASSERT_OK(fix_interval_make(&iv, 40, 0, 1700000000000000000ull), "interval");
	open_exporter(f, &x, 40000);
	for (i = 0; i < 60; i++) {
		ASSERT_OK(exporter_submit(&x, &iv.rec), "submit");
		last_batch(&x, &s, &raw);
		for (k = 0; k < s.batch->n_events; k++) {
			const Customs__SpoolDrop *d = s.batch->events[k]->spool_drop;

			ASSERT_EQ(s.batch->events[k]->kind, CUSTOMS__EVENT_KIND__EVENT_SPOOL_DROP, "kind");
			ASSERT_OK_PTR(d, "drop details");
			/* Oldest first and contiguous: one run from seq 0, reported whole. */
			ASSERT_EQ(d->first_seq, 0, "the run starts at the oldest batch");
			ASSERT_TRUE(d->last_seq + 1 > reported, "each report extends the run");
			ASSERT_EQ(d->batches, d->last_seq - d->first_seq + 1, "count matches range");
			ASSERT_TRUE(d->last_seq < s.batch->seq, "reported after the fact");
			reported = d->last_seq + 1;
		}
		telem_signed_free(&s);
		free(raw);
	}
	ASSERT_TRUE(x.stats.dropped > 0, "the bound forced drops");
	ASSERT_TRUE(x.spool.total_bytes <= 40000, "spool within its bound");
	/* The newest drop waits in the chain state for the next batch. */
	ASSERT_EQ(x.chain.n_drops ? x.chain.drops[0].batches : reported, x.stats.dropped,
		  "every dropped batch accounted for");
	ASSERT_EQ(spool_next_unsent(&x.spool)->seq, x.stats.dropped, "oldest dropped first");
	exporter_close(&x);
	fix_interval_free(&iv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(batch_round_trips_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(first_batch_of_an_epoch_says_so, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_fields_are_kept_and_signed_bytes_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(tampering_and_unknown_keys_are_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(keys_round_trip_through_files, setup, teardown),
		cmocka_unit_test(varints_and_bundles_frame_exactly),
		cmocka_unit_test_setup_teardown(chain_state_persists_and_refuses_corruption,
						setup, teardown),
		cmocka_unit_test_setup_teardown(spool_survives_reopen_and_cuts_a_torn_tail,
						setup, teardown),
		cmocka_unit_test_setup_teardown(spool_trims_acked_segments_and_plans_drops_oldest_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(exporter_chains_restarts_and_starts_epochs_visibly,
						setup, teardown),
		cmocka_unit_test_setup_teardown(bounded_spool_reports_exactly_what_it_dropped,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
