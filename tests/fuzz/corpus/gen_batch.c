// SPDX-License-Identifier: BSD-2-Clause
/*
 * Writes the seed corpus of fuzz_batch (tests/fuzz/corpus/batch/): bundles,
 * a single SignedBatch and a frame stream, signed with the fixed-seed key
 * the fuzz target trusts. Not part of the build; after `make`, run:
 *
 *   cc -D_GNU_SOURCE -Iuserspace/lib -Ibuild/proto -Ibpf/include \
 *      tests/fuzz/corpus/gen_batch.c build/libcustoms.a \
 *      -lcrypto -lssl -lprotobuf-c -lsqlite3 -lz -lyaml -lbpf -o /tmp/gen_batch
 *   /tmp/gen_batch tests/fuzz/corpus/batch
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry.h"
#include "transport.h"

static struct telem_key key;
static unsigned char *raw[3];
static size_t len[3];

static void build(void)
{
	static struct interval_counter c[3] = {
		{ "tenant-a", "model-x", 1 + 3 * 26 + 4, 0, 0, 0, 10, 1000 },	/* DE */
		{ "tenant-a", "model-x", 1 + 20 * 26 + 18, 1, 1, 1, 2, 120 },	/* US */
		{ "tenant-b", "model-y", 0, 0, 2, 2, 1, 60 },
	};
	static struct interval_event e[1];
	struct telem_node node = { "node-fuzz", "AE", "seed" };
	struct telem_drop drop = { 1, 0, 0, 1, 100 };
	struct interval_record iv = { 0 };
	struct telem_link link = { .epoch = 1700000000000000000ull, .epoch_reason = "seed" };
	unsigned char hash[SHA256_LEN];
	int i;

	snprintf(e[0].tenant, sizeof(e[0].tenant), "tenant-a");
	snprintf(e[0].model, sizeof(e[0].model), "model-x");
	e[0].unix_ns = 1700000000000000001ull;
	e[0].raw.kind = EVENT_DENY;
	e[0].raw.family = 6;
	e[0].raw.country = 1;
	iv.counters = c;
	iv.n_counters = 3;
	iv.events = e;
	iv.n_events = 1;
	for (i = 0; i < 3; i++) {
		iv.start_unix_ns = 1700000000000000000ull + (__u64)i * 10000000000ull;
		iv.end_unix_ns = iv.start_unix_ns + 10000000000ull;
		link.seq = (__u64)i;
		if (telem_build_signed(&node, &link, &iv, &drop, i == 2, &key, &raw[i], &len[i], hash))
			exit(1);
		memcpy(link.prev_hash, hash, SHA256_LEN);
	}
}

static void put(const char *dir, const char *name, unsigned char mode, const int *idx,
		bool frames, int flip)
{
	Customs__Frame f = CUSTOMS__FRAME__INIT;
	struct bytebuf b = { 0 };
	unsigned char pre[TELEM_VARINT_MAX];
	char path[512];
	FILE *out;

	bytebuf_add(&b, &mode, 1);
	for (; *idx >= 0; idx++) {
		if (frames) {
			f.version = TELEM_FRAME_VERSION;
			f.signed_batch.data = raw[*idx];
			f.signed_batch.len = len[*idx];
			frame_put(&b, &f);
			continue;
		}
		bytebuf_add(&b, pre, telem_varint_put(pre, len[*idx]));
		bytebuf_add(&b, raw[*idx], len[*idx]);
	}
	if (flip > 0 && (size_t)flip < b.len)
		b.data[flip] ^= 0x20;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "wb");
	if (!out || fwrite(b.data, 1, b.len, out) != b.len || fclose(out))
		exit(1);
	bytebuf_free(&b);
}

int main(int argc, char **argv)
{
	static const int all[] = { 0, 1, 2, -1 }, gap[] = { 0, 2, -1 }, tail[] = { 1, 2, -1 },
			 swapped[] = { 0, 2, 1, -1 }, one[] = { 1, -1 };
	unsigned char seed[32];

	if (argc != 2)
		return 2;
	memset(seed, 0x5e, sizeof(seed));
	if (telem_key_from_seed(&key, seed))
		return 1;
	build();
	put(argv[1], "bundle_clean", 0, all, false, 0);
	put(argv[1], "bundle_gap", 0, gap, false, 0);
	put(argv[1], "bundle_partial", 0x80, tail, false, 0);
	put(argv[1], "bundle_reordered", 0, swapped, false, 0);
	put(argv[1], "bundle_tampered", 0, all, false, 60);
	put(argv[1], "signed_batch", 1, one, false, 0);
	put(argv[1], "frames", 2, all, true, 0);
	return 0;
}
