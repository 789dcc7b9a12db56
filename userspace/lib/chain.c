// SPDX-License-Identifier: BSD-2-Clause
/* The agent's chain state file; see chain.h for the layout. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "chain.h"

static void put64(unsigned char *p, __u64 v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put32(unsigned char *p, __u32 v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static __u64 get64(const unsigned char *p)
{
	__u64 v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static __u32 get32(const unsigned char *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}

static void get_drop(const unsigned char *d, struct telem_drop *out)
{
	out->epoch = get64(d);
	out->first_seq = get64(d + 8);
	out->last_seq = get64(d + 16);
	out->batches = get64(d + 24);
	out->bytes = get64(d + 32);
}

static void put_drop(unsigned char *d, const struct telem_drop *in)
{
	put64(d, in->epoch);
	put64(d + 8, in->first_seq);
	put64(d + 16, in->last_seq);
	put64(d + 24, in->batches);
	put64(d + 32, in->bytes);
}

int chain_load(const char *path, struct chain_state *st)
{
	unsigned char b[CHAIN_FILE_SIZE + 1];
	ssize_t n;
	size_t i;
	int fd;

	memset(st, 0, sizeof(*st));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n != CHAIN_FILE_SIZE || memcmp(b, CHAIN_MAGIC, 8) ||
	    get32(b + 8) != CHAIN_VERSION ||
	    get32(b + CHAIN_FILE_SIZE - 4) != (__u32)crc32(0, b, CHAIN_FILE_SIZE - 4) ||
	    get32(b + 12) > CHAIN_MAX_DROPS)
		return -EBADMSG;
	st->n_drops = get32(b + 12);
	st->epoch = get64(b + 16);
	st->next_seq = get64(b + 24);
	memcpy(st->prev_hash, b + 32, SHA256_LEN);
	st->drop_through = get64(b + 64);
	get_drop(b + 72, &st->run);
	for (i = 0; i < st->n_drops; i++)
		get_drop(b + 112 + i * 40, &st->drops[i]);
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, err = 0;

	if ((size_t)snprintf(copy, sizeof(copy), "%s", path) >= sizeof(copy))
		return -ENAMETOOLONG;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int chain_save(const char *path, const struct chain_state *st)
{
	unsigned char b[CHAIN_FILE_SIZE] = { 0 };
	char tmp[PATH_MAX];
	size_t i;
	int fd = -1, err = 0;

	if (st->n_drops > CHAIN_MAX_DROPS)
		return -EINVAL;
	memcpy(b, CHAIN_MAGIC, 8);
	put32(b + 8, CHAIN_VERSION);
	put32(b + 12, (__u32)st->n_drops);
	put64(b + 16, st->epoch);
	put64(b + 24, st->next_seq);
	memcpy(b + 32, st->prev_hash, SHA256_LEN);
	put64(b + 64, st->drop_through);
	put_drop(b + 72, &st->run);
	for (i = 0; i < st->n_drops; i++)
		put_drop(b + 112 + i * 40, &st->drops[i]);
	put32(b + CHAIN_FILE_SIZE - 4, (__u32)crc32(0, b, CHAIN_FILE_SIZE - 4));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, b, sizeof(b)) != (ssize_t)sizeof(b) || fsync(fd)) {
		err = errno ? -errno : -EIO;
		goto cleanup;
	}
	if (rename(tmp, path)) {
		err = -errno;
		goto cleanup;
	}
	err = fsync_dir_of(path);
cleanup:
	if (fd >= 0)
		close(fd);
	if (err)
		unlink(tmp);
	return err;
}

void chain_start_epoch(struct chain_state *st, __u64 epoch)
{
	st->epoch = epoch;
	st->next_seq = 0;
	memset(st->prev_hash, 0, sizeof(st->prev_hash));
}

void chain_advance(struct chain_state *st, const unsigned char hash[SHA256_LEN])
{
	st->next_seq++;
	memcpy(st->prev_hash, hash, SHA256_LEN);
}

void chain_add_drop(struct chain_state *st, const struct telem_drop *d)
{
	struct telem_drop *last;

	if (st->run.batches && st->run.epoch == d->epoch && st->run.last_seq + 1 == d->first_seq) {
		st->run.last_seq = d->last_seq;
		st->run.batches += d->batches;
		st->run.bytes += d->bytes;
	} else {
		st->run = *d;
	}
	d = &st->run;
	if (st->n_drops < CHAIN_MAX_DROPS) {
		st->drops[st->n_drops++] = *d;
		return;
	}
	/* Full: the last report grows into this one; the counts stay exact. */
	last = &st->drops[CHAIN_MAX_DROPS - 1];
	if (d->epoch == last->epoch && d->first_seq == last->first_seq) {
		*last = *d;	/* the same run, reported further */
		return;
	}
	if (d->epoch == last->epoch) {
		if (d->first_seq < last->first_seq)
			last->first_seq = d->first_seq;
		if (d->last_seq > last->last_seq)
			last->last_seq = d->last_seq;
	}
	last->batches += d->batches;
	last->bytes += d->bytes;
}
