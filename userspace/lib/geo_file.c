// SPDX-License-Identifier: BSD-2-Clause
/*
 * The compiled geo table file: the segment lists of a table with their
 * provenance, so the agent loads a database without parsing MMDB or CSV
 * again. Layout (all integers little-endian, addresses big-endian):
 *
 *   header (struct geo_file_header, 384 bytes)
 *   n_v4 records: start (4 bytes) cc (2) pad (2)
 *   n_v6 records: start (16 bytes) cc (2) pad (2)
 *
 * A load checks magic, version, sizes, ordering and country range, then
 * recomputes the content hash and compares it with the stored one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geo_internal.h"

#define GEO_FILE_VERSION 1

struct geo_file_header {
	char magic[8];			/* "CUSTGEO\0" */
	__u32 version;			/* GEO_FILE_VERSION */
	__u32 header_size;		/* sizeof(struct geo_file_header) */
	__u64 build_time;		/* Unix seconds */
	__u64 source_epoch;		/* database build time, 0 unknown */
	__u64 n_v4;			/* IPv4 segments */
	__u64 n_v6;			/* IPv6 segments */
	__u32 format;			/* enum geo_format of the base database */
	__u32 pad;
	__u64 csv_overlaps;
	__u8 source_sha256[32];		/* over the source files, in order */
	__u8 table_sha256[32];		/* geo_table_hash() */
	char source[256];		/* NUL-terminated description */
};
_Static_assert(sizeof(struct geo_file_header) == 384, "geo file header layout");

#define V4_REC	8
#define V6_REC	20

static void put_rec(unsigned char *p, int fam, const struct geo_bound *b)
{
	int len = fam == GEO_V4 ? 4 : 16, k;
	geo_u128 v = b->start;

	for (k = len - 1; k >= 0; k--) {
		p[k] = (unsigned char)v;
		v >>= 8;
	}
	p[len] = (unsigned char)b->cc;
	p[len + 1] = (unsigned char)(b->cc >> 8);
	p[len + 2] = p[len + 3] = 0;
}

static void get_rec(const unsigned char *p, int fam, struct geo_bound *b)
{
	int len = fam == GEO_V4 ? 4 : 16, k;

	b->start = 0;
	for (k = 0; k < len; k++)
		b->start = (b->start << 8) | p[k];
	b->cc = (__u16)(p[len] | (p[len + 1] << 8));
}

int geo_table_save(struct geo_table *t, const char *path, char *err, size_t errlen)
{
	struct geo_file_header h = { .magic = "CUSTGEO", .version = GEO_FILE_VERSION,
				     .header_size = sizeof(h) };
	unsigned char rec[V6_REC];
	char tmp[4096];
	FILE *f = NULL;
	int fam, rc = 0;
	size_t i;

	if (!geo_table_hash(t)) {
		geo_set_err(err, errlen, "%s: error: cannot compile the table", path);
		return -E2BIG;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	h.build_time = t->build_time;
	h.source_epoch = t->source_epoch;
	h.n_v4 = t->fam[GEO_V4].n;
	h.n_v6 = t->fam[GEO_V6].n;
	h.format = t->format;
	h.csv_overlaps = t->csv_overlaps;
	memcpy(h.source_sha256, t->source_hash, SHA256_LEN);
	memcpy(h.table_sha256, t->hash, SHA256_LEN);
	snprintf(h.source, sizeof(h.source), "%s", t->source);
	f = fopen(tmp, "wbx");
	if (!f) {
		rc = -errno;
		geo_set_err(err, errlen, "%s: error: cannot create: %s", tmp, strerror(errno));
		return rc;
	}
	rc = -EIO;
	if (fwrite(&h, sizeof(h), 1, f) != 1)
		goto cleanup;
	for (fam = 0; fam < 2; fam++) {
		for (i = 0; i < t->fam[fam].n; i++) {
			put_rec(rec, fam, &t->fam[fam].b[i]);
			if (fwrite(rec, fam == GEO_V4 ? V4_REC : V6_REC, 1, f) != 1)
				goto cleanup;
		}
	}
	if (fflush(f) || fsync(fileno(f)))
		goto cleanup;
	rc = fclose(f) ? -EIO : 0;
	f = NULL;
	/* The new file replaces an old one in one step. */
	if (!rc && rename(tmp, path))
		rc = -errno;
cleanup:
	if (rc) {
		geo_set_err(err, errlen, "%s: error: cannot write: %s", path, strerror(-rc));
		unlink(tmp);
	}
	if (f)
		fclose(f);
	return rc;
}

static int read_list(FILE *f, const char *path, int fam, __u64 n, struct geo_list *l,
		     char *err, size_t errlen)
{
	unsigned char rec[V6_REC];
	size_t rlen = fam == GEO_V4 ? V4_REC : V6_REC;
	__u64 i;

	free(l->b);
	l->b = calloc(n ? n : 1, sizeof(*l->b));
	if (!l->b)
		return -ENOMEM;
	l->cap = n ? n : 1;
	l->n = 0;
	for (i = 0; i < n; i++) {
		struct geo_bound b;

		if (fread(rec, rlen, 1, f) != 1) {
			geo_set_err(err, errlen, "%s: error: truncated (IPv%d segment %llu of %llu)",
				path, fam == GEO_V4 ? 4 : 6, (unsigned long long)i,
				(unsigned long long)n);
			return -EINVAL;
		}
		get_rec(rec, fam, &b);
		if ((i == 0 && b.start != 0) || (i > 0 && b.start <= l->b[i - 1].start) ||
		    b.cc >= COUNTRY_MAX || (i > 0 && b.cc == l->b[i - 1].cc)) {
			geo_set_err(err, errlen, "%s: error: corrupt IPv%d segment %llu",
				path, fam == GEO_V4 ? 4 : 6, (unsigned long long)i);
			return -EINVAL;
		}
		l->b[l->n++] = b;
	}
	return 0;
}

int geo_table_load(struct geo_table **out, const char *path, char *err, size_t errlen)
{
	struct geo_file_header h;
	struct geo_table *t = NULL;
	FILE *f;
	long size;
	int rc;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		geo_set_err(err, errlen, "%s: error: cannot read: %s", path, strerror(errno));
		return rc;
	}
	rc = -EINVAL;
	if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, "CUSTGEO", 8)) {
		geo_set_err(err, errlen, "%s: error: not a compiled geo table (bad magic)", path);
		goto cleanup;
	}
	if (h.version != GEO_FILE_VERSION || h.header_size != sizeof(h)) {
		geo_set_err(err, errlen, "%s: error: table format version %u, this build reads %d",
			path, h.version, GEO_FILE_VERSION);
		goto cleanup;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    h.n_v4 < 1 || h.n_v6 < 1 || h.n_v4 > (1ull << 32) || h.n_v6 > (1ull << 32) ||
	    (__u64)size != sizeof(h) + h.n_v4 * V4_REC + h.n_v6 * V6_REC ||
	    fseek(f, sizeof(h), SEEK_SET)) {
		geo_set_err(err, errlen, "%s: error: size does not match the counts in the header (truncated?)",
			path);
		goto cleanup;
	}
	rc = geo_table_new(&t);
	if (rc)
		goto cleanup;
	rc = read_list(f, path, GEO_V4, h.n_v4, &t->fam[GEO_V4], err, errlen);
	if (!rc)
		rc = read_list(f, path, GEO_V6, h.n_v6, &t->fam[GEO_V6], err, errlen);
	if (rc)
		goto cleanup;
	t->build_time = h.build_time;
	t->source_epoch = h.source_epoch;
	t->format = h.format;
	t->csv_overlaps = h.csv_overlaps;
	h.source[sizeof(h.source) - 1] = '\0';
	snprintf(t->source, sizeof(t->source), "%s", h.source);
	memcpy(t->source_hash, h.source_sha256, SHA256_LEN);
	t->dirty = true;
	if (!geo_table_hash(t) || memcmp(t->hash, h.table_sha256, SHA256_LEN)) {
		geo_set_err(err, errlen, "%s: error: content does not match its SHA-256 (corrupt)", path);
		rc = -EINVAL;
		goto cleanup;
	}
	*out = t;
	t = NULL;
cleanup:
	geo_table_free(t);
	fclose(f);
	return rc;
}
