// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target for everything that reads telemetry bytes from outside: the
 * offline bundle check (framing, SignedBatch and Batch decoding, signature
 * verification, chain analysis), single SignedBatch decoding, and the
 * collector's frame reader. The first byte picks the entry point; the rest
 * is the input, copied to an exact-size heap buffer so ASan sees any
 * over-read. The key ring holds the fixed-seed key the seed corpus was
 * signed with (tests/fuzz/corpus/gen_batch.c), so signatures can pass and
 * the chain checks run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chaincheck.h"
#include "telemetry.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct telem_key fuzz_key;
static struct telem_keyring fuzz_ring;

static void init_ring(void)
{
	unsigned char seed[32];

	if (fuzz_ring.n)
		return;
	memset(seed, 0x5e, sizeof(seed));
	if (telem_key_from_seed(&fuzz_key, seed))
		abort();
	fuzz_ring.keys = &fuzz_key;
	fuzz_ring.n = 1;
}

static void one_signed_batch(const unsigned char *buf, size_t len)
{
	struct telem_signed s;

	if (telem_decode(buf, len, &s))
		return;
	telem_verify(&s, &fuzz_ring);
	telem_signed_free(&s);
}

static void frames(const unsigned char *buf, size_t len)
{
	struct bytebuf in = { 0 };
	Customs__Frame *f;

	if (bytebuf_add(&in, buf, len))
		return;
	while (frame_take(&in, 1u << 20, &f) > 0) {
		if (f->signed_batch.len)
			one_signed_batch(f->signed_batch.data, f->signed_batch.len);
		customs__frame__free_unpacked(f, NULL);
	}
	bytebuf_free(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chk_options opt = { 0 };
	struct chk_summary sum;
	unsigned char *buf;
	size_t len;

	if (size < 1)
		return 0;
	init_ring();
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	switch (data[0] % 3) {
	case 0:
		opt.partial = data[0] & 0x80;
		chaincheck_bundle(buf, len, &fuzz_ring, &opt, &sum);
		break;
	case 1:
		one_signed_batch(buf, len);
		break;
	default:
		frames(buf, len);
		break;
	}
	free(buf);
	return 0;
}
