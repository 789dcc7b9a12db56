// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-bench telemetry: the two telemetry targets, measured in one run.
 * Agent side: build + sign (+ hash for the chain) of one interval with
 * 10,000 counters, the work exporter_submit() does before its fsync, with
 * the builder kept between intervals as the exporter keeps it.
 * Collector side: ingest of chained 10,000-counter batches into a fresh
 * SQLite store, each batch decoded, signature-verified, deduped,
 * link-checked, inserted and committed in its own transaction (the
 * collector's worst case: one batch per poll turn), as counter records
 * per second on one core.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "ingest.h"
#include "store.h"
#include "telemetry.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct interval_counter *make_counters(size_t n)
{
	static const char *const cc[] = { "DE", "US", "FR", "AE", "IN", "JP", "BR", "ZA" };
	struct interval_counter *c = calloc(n, sizeof(*c));
	size_t i;

	if (!c)
		return NULL;
	for (i = 0; i < n; i++) {
		snprintf(c[i].tenant, sizeof(c[i].tenant), "tenant-%03zu", i % 97);
		snprintf(c[i].model, sizeof(c[i].model), "model-%02zu", i % 13);
		c[i].country = country_index(cc[i % 8][0], cc[i % 8][1]);
		c[i].direction = (__u8)(i % 2);
		c[i].layer = (__u8)(i % 3);
		c[i].verdict = (__u8)(i % 3);
		c[i].packets = 1000 + i;
		c[i].bytes = 1500000 + 1500 * i;
	}
	return c;
}

struct tm_opts {
	size_t counters;
	int rounds;
	int batches;
	const char *dir;
	bool json;
};

struct tm_result {
	double build_p50_ms, build_mean_ms, build_max_ms;
	size_t batch_bytes;
	double ingest_counters_s, ingest_batches_s, ingest_s;
};

static int bench_build(const struct tm_opts *o, const struct telem_key *key,
		       struct interval_record *iv, struct tm_result *r)
{
	struct telem_node node = { "bench-node", "AE", "bench" };
	struct telem_link link = { .epoch = 1 };
	struct telem_builder b = { 0 };
	const unsigned char *raw;
	unsigned char hash[SHA256_LEN];
	double *t = calloc((size_t)o->rounds, sizeof(*t)), sum = 0, t0;
	size_t len;
	int i, err = 0;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < o->rounds && !err; i++) {
		link.seq = (__u64)i;
		t0 = now_s();
		err = telem_builder_sign(&b, &node, &link, iv, NULL, 0, key, &raw, &len, hash);
		t[i] = (now_s() - t0) * 1e3;
		sum += t[i];
		r->batch_bytes = len;
	}
	telem_builder_free(&b);
	if (!err) {
		qsort(t, (size_t)o->rounds, sizeof(*t), cmp_double);
		r->build_p50_ms = t[o->rounds / 2];
		r->build_max_ms = t[o->rounds - 1];
		r->build_mean_ms = sum / o->rounds;
	}
	free(t);
	return err;
}

static int bench_ingest(const struct tm_opts *o, const struct telem_key *key,
			struct interval_record *iv, struct tm_result *r)
{
	struct telem_node node = { "bench-node", "AE", "bench" };
	struct telem_link link = { .epoch = 1 };
	struct telem_keyring ring = { .keys = (struct telem_key *)key, .n = 1 };
	unsigned char **raw = calloc((size_t)o->batches, sizeof(*raw)), hash[SHA256_LEN];
	size_t *len = calloc((size_t)o->batches, sizeof(*len));
	struct ingest_outcome out;
	struct ingest in;
	struct store st;
	char db[512], wal[540];
	double t0;
	int i, err = 0;

	if (!raw || !len) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < o->batches && !err; i++) {
		link.seq = (__u64)i;
		err = telem_build_signed(&node, &link, iv, NULL, 0, key, &raw[i], &len[i], hash);
		memcpy(link.prev_hash, hash, SHA256_LEN);
	}
	if (err)
		goto cleanup;
	snprintf(db, sizeof(db), "%s/customs-bench-telemetry-%d.db", o->dir, (int)getpid());
	err = store_open(&st, db, false);
	if (err)
		goto cleanup;
	ingest_init(&in, &st, &ring, 5000);
	t0 = now_s();
	for (i = 0; i < o->batches && !err; i++) {
		err = store_begin(&st);
		if (!err)
			err = ingest_batch(&in, raw[i], len[i], "bench", "bench-node", &out);
		if (!err && out.status != INGEST_STORED)
			err = -EBADMSG;
		if (!err)
			err = store_commit(&st);
	}
	r->ingest_s = now_s() - t0;
	r->ingest_counters_s = (double)in.counters / r->ingest_s;
	r->ingest_batches_s = (double)in.stored / r->ingest_s;
	ingest_free(&in);
	store_close(&st);
	unlink(db);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", db);
	unlink(wal);
cleanup:
	for (i = 0; raw && i < o->batches; i++)
		free(raw[i]);
	free(raw);
	free(len);
	return err;
}

static void tm_usage(FILE *out)
{
	fprintf(out, "Usage: customs-bench telemetry [--json] [--counters N] [--rounds N] [--batches N] [--dir DIR]\n"
		     "  --counters N  counters per batch (10000)\n"
		     "  --rounds N    build+sign repetitions (50)\n"
		     "  --batches N   batches ingested into a scratch store (40)\n"
		     "  --dir DIR     where the scratch store goes (/tmp)\n");
}

int bench_telemetry(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "counters", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "batches", required_argument, NULL, 'b' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tm_opts o = { .counters = 10000, .rounds = 50, .batches = 40, .dir = "/tmp" };
	struct interval_record iv = { 0 };
	struct tm_result r = { 0 };
	struct telem_key key;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jc:r:b:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'c': o.counters = strtoul(optarg, NULL, 10); break;
		case 'r': o.rounds = atoi(optarg); break;
		case 'b': o.batches = atoi(optarg); break;
		case 'd': o.dir = optarg; break;
		case 'h': tm_usage(stdout); return 0;
		default: tm_usage(stderr); return 2;
		}
	}
	if (optind != argc || !o.counters || o.rounds < 1 || o.batches < 1) {
		tm_usage(stderr);
		return 2;
	}
	iv.counters = make_counters(o.counters);
	iv.n_counters = o.counters;
	iv.start_unix_ns = 1700000000000000000ull;
	iv.end_unix_ns = iv.start_unix_ns + 10000000000ull;
	if (!iv.counters || telem_key_generate(&key)) {
		fprintf(stderr, "customs-bench telemetry: cannot set up\n");
		free(iv.counters);
		return 1;
	}
	err = bench_build(&o, &key, &iv, &r);
	if (!err)
		err = bench_ingest(&o, &key, &iv, &r);
	telem_key_free(&key);
	free(iv.counters);
	if (err) {
		fprintf(stderr, "customs-bench telemetry: %s\n", strerror(-err));
		return 1;
	}
	if (o.json)
		printf("{\"subject\": \"telemetry\", \"counters_per_batch\": %zu, \"batch_bytes\": %zu, "
		       "\"build_sign_p50_ms\": %.3f, \"build_sign_mean_ms\": %.3f, \"build_sign_max_ms\": %.3f, "
		       "\"ingest_batches\": %d, \"ingest_seconds\": %.3f, \"ingest_batches_per_s\": %.1f, "
		       "\"ingest_counters_per_s\": %.0f}\n",
		       o.counters, r.batch_bytes, r.build_p50_ms, r.build_mean_ms, r.build_max_ms,
		       o.batches, r.ingest_s, r.ingest_batches_s, r.ingest_counters_s);
	else
		printf("agent build+sign, %zu counters (%zu bytes): p50 %.3f ms, mean %.3f ms, max %.3f ms (target <= 5 ms)\n"
		       "collector ingest, %d batches, verify + store + commit each: %.0f counters/s, %.1f batches/s (target >= 200000 counters/s)\n",
		       o.counters, r.batch_bytes, r.build_p50_ms, r.build_mean_ms, r.build_max_ms,
		       o.batches, r.ingest_counters_s, r.ingest_batches_s);
	return 0;
}
