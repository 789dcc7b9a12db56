// SPDX-License-Identifier: BSD-2-Clause
/*
 * The durable spool of signed batches; see spool.h for the segment layout.
 * Entries (where each batch sits) are kept in memory, rebuilt by scanning
 * the segments at open; payloads are read back from disk when sent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "spool.h"

static void put32(unsigned char *p, __u32 v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, __u64 v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static __u32 get32(const unsigned char *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}

static __u64 get64(const unsigned char *p)
{
	return (__u64)get32(p) | (__u64)get32(p + 4) << 32;
}

static int seg_path(const struct spool *s, __u64 id, char *out, size_t len)
{
	if ((size_t)snprintf(out, len, "%s/seg-%016llx.spool", s->dir,
			     (unsigned long long)id) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd, err = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

static __u32 rec_crc(__u64 epoch, __u64 seq, const void *buf, size_t len)
{
	unsigned char b[16];
	uLong crc;

	put64(b, epoch);
	put64(b + 8, seq);
	crc = crc32(0, b, sizeof(b));
	return (__u32)crc32(crc, buf, (uInt)len);
}

static int add_entry(struct spool *s, const struct spool_entry *e)
{
	struct spool_entry *n;
	size_t cap;

	if (s->head && s->head >= s->n_ents / 2) {
		memmove(s->ents, s->ents + s->head, (s->n_ents - s->head) * sizeof(*s->ents));
		s->n_ents -= s->head;
		s->head = 0;
	}
	if (s->n_ents == s->cap) {
		cap = s->cap ? 2 * s->cap : 64;
		n = realloc(s->ents, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->ents = n;
		s->cap = cap;
	}
	s->ents[s->n_ents++] = *e;
	return 0;
}

static int add_seg(struct spool *s, __u64 id, __u64 bytes)
{
	struct spool_seg *n;

	n = realloc(s->segs, (s->n_segs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->segs = n;
	s->segs[s->n_segs].id = id;
	s->segs[s->n_segs].bytes = bytes;
	s->n_segs++;
	s->total_bytes += bytes;
	return 0;
}

/*
 * Reads a segment's records into entries; returns the length of its valid
 * prefix in *valid (0 when even the header is bad).
 */
static int scan_segment(struct spool *s, int fd, __u64 id, __u64 *valid)
{
	unsigned char hdr[SPOOL_REC_HDR_LEN], *buf = NULL;
	struct spool_entry e;
	struct stat st;
	__u64 off = SPOOL_HDR_LEN;
	__u32 len;
	int err = 0;

	*valid = 0;
	if (fstat(fd, &st))
		return -errno;
	if (pread(fd, hdr, SPOOL_HDR_LEN, 0) != SPOOL_HDR_LEN || memcmp(hdr, SPOOL_MAGIC, 4) ||
	    get32(hdr + 4) != SPOOL_VERSION || get64(hdr + 8) != id)
		return 0;
	while (off + SPOOL_REC_HDR_LEN <= (__u64)st.st_size) {
		if (pread(fd, hdr, SPOOL_REC_HDR_LEN, (off_t)off) != SPOOL_REC_HDR_LEN)
			break;
		len = get32(hdr);
		if (len > TELEM_MAX_MSG || off + SPOOL_REC_HDR_LEN + len > (__u64)st.st_size)
			break;
		free(buf);
		buf = malloc(len ? len : 1);
		if (!buf) {
			err = -ENOMEM;
			break;
		}
		if (pread(fd, buf, len, (off_t)(off + SPOOL_REC_HDR_LEN)) != (ssize_t)len ||
		    rec_crc(get64(hdr + 8), get64(hdr + 16), buf, len) != get32(hdr + 4))
			break;
		memset(&e, 0, sizeof(e));
		e.epoch = get64(hdr + 8);
		e.seq = get64(hdr + 16);
		e.segment = id;
		e.off = off + SPOOL_REC_HDR_LEN;
		e.len = len;
		err = add_entry(s, &e);
		if (err)
			break;
		off += SPOOL_REC_HDR_LEN + len;
	}
	free(buf);
	*valid = off;
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static int list_segments(const char *dir, __u64 **ids, size_t *n)
{
	struct dirent *de;
	unsigned long long id;
	__u64 *v = NULL, *nv;
	char tail;
	DIR *d;

	*ids = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "seg-%16llx.spoo%c", &id, &tail) != 2 || tail != 'l' ||
		    strlen(de->d_name) != 26 || !id)
			continue;
		nv = realloc(v, (*n + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		v[(*n)++] = id;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_u64);
	*ids = v;
	return 0;
}

static int open_segment(struct spool *s, __u64 id, bool last)
{
	char path[PATH_MAX];
	__u64 valid;
	struct stat st;
	int fd, err;

	err = seg_path(s, id, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = scan_segment(s, fd, id, &valid);
	if (err || fstat(fd, &st))
		goto cleanup;
	if (!valid) {
		pr_warn("spool %s: segment %s has no valid header; removing it\n", s->dir, path);
		close(fd);
		unlink(path);
		return 0;
	}
	if (valid < (__u64)st.st_size) {
		if (last) {
			pr_warn("spool %s: cutting a torn tail of %llu bytes from %s\n", s->dir,
				(unsigned long long)(st.st_size - (off_t)valid), path);
			if (ftruncate(fd, (off_t)valid) || fsync(fd)) {
				err = -errno;
				goto cleanup;
			}
		} else {
			pr_warn("spool %s: %s is damaged after byte %llu; the rest is unreadable\n",
				s->dir, path, (unsigned long long)valid);
		}
	}
	err = add_seg(s, id, valid);
	if (err)
		goto cleanup;
	if (last) {
		s->fd = fd;
		s->cur_id = id;
		if (lseek(fd, 0, SEEK_END) < 0)
			err = -errno;
		return err;
	}
cleanup:
	close(fd);
	return err;
}

int spool_open(struct spool *s, const char *dir, __u64 max_bytes)
{
	__u64 *ids = NULL;
	size_t n, i;
	int err;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s", dir) >= sizeof(s->dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	s->max_bytes = max_bytes;
	s->seg_bytes = max_bytes / 8 > SPOOL_MIN_SEGMENT ? max_bytes / 8 : SPOOL_MIN_SEGMENT;
	err = list_segments(dir, &ids, &n);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++)
		err = open_segment(s, ids[i], i + 1 == n);
	if (n && !s->cur_id)
		s->cur_id = ids[n - 1];
	free(ids);
	if (err)
		spool_close(s);
	return err;
}

void spool_close(struct spool *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->segs);
	free(s->ents);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int new_segment(struct spool *s)
{
	unsigned char hdr[SPOOL_HDR_LEN];
	char path[PATH_MAX];
	__u64 id = s->cur_id + 1;
	int fd, err;

	err = seg_path(s, id, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	memcpy(hdr, SPOOL_MAGIC, 4);
	put32(hdr + 4, SPOOL_VERSION);
	put64(hdr + 8, id);
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) || fsync(fd)) {
		err = errno ? -errno : -EIO;
		goto fail;
	}
	err = fsync_dir(s->dir);
	if (err)
		goto fail;
	err = add_seg(s, id, SPOOL_HDR_LEN);
	if (err)
		goto fail;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	s->cur_id = id;
	return 0;
fail:
	close(fd);
	unlink(path);
	return err;
}

static struct spool_seg *cur_seg(struct spool *s)
{
	if (s->fd < 0 || !s->n_segs || s->segs[s->n_segs - 1].id != s->cur_id)
		return NULL;
	return &s->segs[s->n_segs - 1];
}

int spool_append(struct spool *s, __u64 epoch, __u64 seq, const void *buf, size_t len)
{
	unsigned char hdr[SPOOL_REC_HDR_LEN];
	struct iovec iov[2];
	struct spool_entry e;
	struct spool_seg *seg = cur_seg(s);
	__u64 rec = SPOOL_REC_HDR_LEN + len;
	ssize_t w;
	int err;

	if (len > TELEM_MAX_MSG)
		return -E2BIG;
	if (!seg || (seg->bytes > SPOOL_HDR_LEN && seg->bytes + rec > s->seg_bytes)) {
		err = new_segment(s);
		if (err)
			return err;
		seg = cur_seg(s);
	}
	put32(hdr, (__u32)len);
	put32(hdr + 4, rec_crc(epoch, seq, buf, len));
	put64(hdr + 8, epoch);
	put64(hdr + 16, seq);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)buf;
	iov[1].iov_len = len;
	w = writev(s->fd, iov, 2);
	if (w != (ssize_t)rec) {
		/* A short write to a regular file means the disk is full. */
		err = w < 0 ? -errno : -ENOSPC;
		/* Leave no half record behind the ones that count. */
		if (ftruncate(s->fd, (off_t)seg->bytes))
			pr_warn("spool %s: cannot cut a failed write: %s\n", s->dir, strerror(errno));
		return err;
	}
	if (fdatasync(s->fd))
		return -errno;
	memset(&e, 0, sizeof(e));
	e.epoch = epoch;
	e.seq = seq;
	e.segment = s->cur_id;
	e.off = seg->bytes + SPOOL_REC_HDR_LEN;
	e.len = (__u32)len;
	err = add_entry(s, &e);
	if (err)
		return err;
	seg->bytes += rec;
	s->total_bytes += rec;
	return 0;
}

static void note_drop(struct telem_drop *drops, size_t max, size_t *n,
		      const struct spool_entry *e)
{
	struct telem_drop *d = *n ? &drops[*n - 1] : NULL;

	if (d && (d->epoch == e->epoch || *n == max)) {
		if (e->seq > d->last_seq)
			d->last_seq = e->seq;
		d->batches++;
		d->bytes += e->len;
		return;
	}
	d = &drops[(*n)++];
	d->epoch = e->epoch;
	d->first_seq = e->seq;
	d->last_seq = e->seq;
	d->batches = 1;
	d->bytes = e->len;
}

int spool_plan_drop(const struct spool *s, size_t incoming, __u64 *through,
		    struct telem_drop *drops, size_t max_drops, size_t *n_drops)
{
	__u64 total = s->total_bytes, need = SPOOL_REC_HDR_LEN + incoming;
	size_t i, j;

	*through = 0;
	*n_drops = 0;
	if (!max_drops)
		return -EINVAL;
	for (i = 0; i < s->n_segs && total + need > s->max_bytes; i++) {
		*through = s->segs[i].id;
		total -= s->segs[i].bytes;
	}
	if (!*through)
		return 0;
	for (j = s->head; j < s->n_ents && s->ents[j].segment <= *through; j++)
		if (!s->ents[j].acked)
			note_drop(drops, max_drops, n_drops, &s->ents[j]);
	return 0;
}

static int remove_segment(struct spool *s, size_t i)
{
	char path[PATH_MAX];
	int err;

	err = seg_path(s, s->segs[i].id, path, sizeof(path));
	if (err)
		return err;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	if (s->segs[i].id == s->cur_id && s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	s->total_bytes -= s->segs[i].bytes;
	memmove(s->segs + i, s->segs + i + 1, (s->n_segs - i - 1) * sizeof(*s->segs));
	s->n_segs--;
	return 0;
}

int spool_drop_through(struct spool *s, __u64 through)
{
	int err = 0;

	if (!through)
		return 0;
	while (s->n_segs && s->segs[0].id <= through && !err)
		err = remove_segment(s, 0);
	while (s->head < s->n_ents && s->ents[s->head].segment <= through)
		s->head++;
	if (s->cur_id < through)
		s->cur_id = through;
	return err ? err : fsync_dir(s->dir);
}

/* Deletes leading segments that hold no unacknowledged batch. */
static int trim(struct spool *s)
{
	__u64 keep_from;
	bool removed = false;
	int err = 0;

	while (s->head < s->n_ents && s->ents[s->head].acked)
		s->head++;
	keep_from = s->head < s->n_ents ? s->ents[s->head].segment : s->cur_id + 1;
	while (s->n_segs && s->segs[0].id < keep_from && !err) {
		err = remove_segment(s, 0);
		removed = true;
	}
	if (removed && !err)
		err = fsync_dir(s->dir);
	return err;
}

int spool_ack(struct spool *s, __u64 epoch, __u64 seq)
{
	size_t i;

	for (i = s->head; i < s->n_ents; i++) {
		if (s->ents[i].epoch == epoch && s->ents[i].seq == seq) {
			s->ents[i].acked = true;
			return trim(s);
		}
	}
	return -ENOENT;
}

struct spool_entry *spool_next_unsent(struct spool *s)
{
	size_t i;

	for (i = s->head; i < s->n_ents; i++)
		if (!s->ents[i].acked && !s->ents[i].sent)
			return &s->ents[i];
	return NULL;
}

void spool_unsend_all(struct spool *s)
{
	size_t i;

	for (i = s->head; i < s->n_ents; i++)
		s->ents[i].sent = false;
}

const struct spool_entry *spool_last(const struct spool *s)
{
	return s->head < s->n_ents ? &s->ents[s->n_ents - 1] : NULL;
}

size_t spool_pending(const struct spool *s)
{
	size_t i, n = 0;

	for (i = s->head; i < s->n_ents; i++)
		n += !s->ents[i].acked;
	return n;
}

int spool_read(const struct spool *s, const struct spool_entry *e, unsigned char **buf)
{
	unsigned char hdr[SPOOL_REC_HDR_LEN], *b;
	char path[PATH_MAX];
	int fd, err;

	*buf = NULL;
	err = seg_path(s, e->segment, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	b = malloc(e->len ? e->len : 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	if (pread(fd, hdr, sizeof(hdr), (off_t)(e->off - SPOOL_REC_HDR_LEN)) != (ssize_t)sizeof(hdr) ||
	    pread(fd, b, e->len, (off_t)e->off) != (ssize_t)e->len ||
	    rec_crc(e->epoch, e->seq, b, e->len) != get32(hdr + 4)) {
		close(fd);
		free(b);
		return -EIO;
	}
	close(fd);
	*buf = b;
	return 0;
}
