// SPDX-License-Identifier: BSD-2-Clause
/* Running counter totals and their durable file; see totals.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "totals.h"
#include "log.h"
#include "sha256.h"

#define TOTALS_MAGIC	0x54545343u	/* "CSTT" */
#define TOTALS_VERSION	1
/* No real key has tenant 0xFFFFFFFE (tenant ids are small; 0xFFFFFFFF is overflow). */
#define TOTALS_EMPTY	0xFFFFFFFEu

struct totals_file_header {
	__u32 magic;
	__u32 version;
	__u64 count;
	__s32 pending;
	__u32 reserved;
};

static size_t key_hash(const struct meter_key *k)
{
	/* The 16 key bytes as two words, each multiplied and folded. */
	__u64 w[2], h;

	memcpy(w, k, sizeof(w));
	h = (w[0] ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
	h ^= w[1] + (h >> 31);
	h *= 0x94d049bb133111ebull;
	return (size_t)(h ^ (h >> 29));
}

static int alloc_slots(struct totals *t, size_t cap)
{
	size_t i;

	t->slots = malloc(cap * sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	for (i = 0; i < cap; i++)
		t->slots[i].key.tenant = TOTALS_EMPTY;
	t->cap = cap;
	return 0;
}

int totals_init(struct totals *t, size_t expected)
{
	size_t cap = 64;

	memset(t, 0, sizeof(*t));
	t->pending = -1;
	while (cap < expected * 2)
		cap *= 2;
	return alloc_slots(t, cap);
}

void totals_free(struct totals *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
	t->pending = -1;
}

static struct meter_record *slot_for(const struct totals *t, const struct meter_key *k)
{
	size_t i = key_hash(k) & (t->cap - 1);

	for (;;) {
		struct meter_record *s = &t->slots[i];

		if (s->key.tenant == TOTALS_EMPTY || !memcmp(&s->key, k, sizeof(*k)))
			return s;
		i = (i + 1) & (t->cap - 1);
	}
}

static int grow(struct totals *t)
{
	struct meter_record *old = t->slots;
	size_t oldcap = t->cap, i;
	int err;

	err = alloc_slots(t, oldcap * 2);
	if (err) {
		t->slots = old;
		t->cap = oldcap;
		return err;
	}
	for (i = 0; i < oldcap; i++)
		if (old[i].key.tenant != TOTALS_EMPTY)
			*slot_for(t, &old[i].key) = old[i];
	free(old);
	return 0;
}

int totals_add(struct totals *t, const struct meter_key *k, const struct meter_value *v)
{
	struct meter_record *s;
	int err;

	if (k->tenant == TOTALS_EMPTY)
		return -EINVAL;
	if ((t->count + 1) * 2 > t->cap) {
		err = grow(t);
		if (err)
			return err;
	}
	s = slot_for(t, k);
	if (s->key.tenant == TOTALS_EMPTY) {
		s->key = *k;
		memset(&s->value, 0, sizeof(s->value));
		t->count++;
	}
	s->value.packets += v->packets;
	s->value.bytes += v->bytes;
	return 0;
}

const struct meter_value *totals_get(const struct totals *t, const struct meter_key *k)
{
	const struct meter_record *s = slot_for(t, k);

	return s->key.tenant == TOTALS_EMPTY ? NULL : &s->value;
}

int totals_foreach(const struct totals *t,
		   int (*fn)(void *ctx, const struct meter_record *r), void *ctx)
{
	size_t i;
	int rc;

	for (i = 0; i < t->cap; i++) {
		if (t->slots[i].key.tenant == TOTALS_EMPTY)
			continue;
		rc = fn(ctx, &t->slots[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char buf[PATH_MAX];
	int fd, err = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int totals_save(const struct totals *t, const char *path)
{
	struct totals_file_header h = {
		.magic = TOTALS_MAGIC,
		.version = TOTALS_VERSION,
		.count = t->count,
		.pending = t->pending,
	};
	unsigned char md[SHA256_LEN];
	char tmp[PATH_MAX];
	struct sha256 sha;
	size_t i;
	FILE *f;
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (sha256_init(&sha)) {
		fclose(f);
		unlink(tmp);
		return -ENOMEM;
	}
	sha256_update(&sha, &h, sizeof(h));
	if (fwrite(&h, sizeof(h), 1, f) != 1)
		err = -EIO;
	for (i = 0; !err && i < t->cap; i++) {
		if (t->slots[i].key.tenant == TOTALS_EMPTY)
			continue;
		sha256_update(&sha, &t->slots[i], sizeof(t->slots[i]));
		if (fwrite(&t->slots[i], sizeof(t->slots[i]), 1, f) != 1)
			err = -EIO;
	}
	sha256_final(&sha, md);
	if (!err && fwrite(md, sizeof(md), 1, f) != 1)
		err = -EIO;
	if (!err && (fflush(f) || fsync(fileno(f))))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		err = fsync_dir_of(path);
	if (err) {
		unlink(tmp);
		pr_warn("totals: saving %s: %s\n", path, strerror(-err));
	}
	return err;
}

int totals_load(struct totals *t, const char *path)
{
	unsigned char md[SHA256_LEN], want[SHA256_LEN];
	struct totals_file_header h;
	struct meter_record r;
	struct sha256 sha;
	__u64 i;
	FILE *f;
	int err = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (sha256_init(&sha)) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(&h, sizeof(h), 1, f) != 1 || h.magic != TOTALS_MAGIC ||
	    h.version != TOTALS_VERSION || h.count > (1ull << 32)) {
		err = -EBADMSG;
		goto out;
	}
	sha256_update(&sha, &h, sizeof(h));
	err = totals_init(t, (size_t)h.count);
	if (err)
		goto out;
	t->pending = h.pending;
	for (i = 0; !err && i < h.count; i++) {
		if (fread(&r, sizeof(r), 1, f) != 1) {
			err = -EBADMSG;
			break;
		}
		sha256_update(&sha, &r, sizeof(r));
		err = totals_add(t, &r.key, &r.value);
	}
	sha256_final(&sha, md);
	if (!err && (fread(want, sizeof(want), 1, f) != 1 || memcmp(md, want, sizeof(md))))
		err = -EBADMSG;
out:
	sha256_final(&sha, md);	/* frees the context on the early exits */
	fclose(f);
	if (err == -EBADMSG)
		pr_warn("totals: %s is damaged (bad magic, version, length or checksum)\n", path);
	if (err)
		totals_free(t);
	return err;
}
