/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the geo library's files share and nobody else sees: the segment
 * lists a table is made of, the layer of new ranges an import produces,
 * and the step that lays a layer over a table. 128-bit arithmetic keeps
 * one code path for both families (IPv4 lives in the low 32 bits).
 */
#ifndef CUSTOMS_GEO_INTERNAL_H
#define CUSTOMS_GEO_INTERNAL_H

#include "geo.h"

typedef unsigned __int128 geo_u128;

#define GEO_V4		0
#define GEO_V6		1
#define GEO_CC_NONE	0xffff	/* a layer says nothing here */

/* A segment: from start up to the next segment's start, one country. */
struct geo_bound {
	geo_u128 start;
	__u16 cc;
};

struct geo_list {
	struct geo_bound *b;
	size_t n, cap;
};

struct geo_table {
	struct geo_list fam[2];		/* GEO_V4, GEO_V6; each starts at 0 */
	union geo_block *image;
	size_t n_blocks;
	size_t mapped_bytes;		/* image is a read-only mmap of a kernel map */
	bool dirty;			/* image and hash are stale */
	unsigned char hash[SHA256_LEN];
	unsigned char source_hash[SHA256_LEN];
	char source[256];
	enum geo_format format;
	__u64 source_epoch;
	__u64 build_time;
	__u64 csv_overlaps;
};

/* One imported range; seq orders rows of one source (later = larger). */
struct geo_item {
	geo_u128 start, end;
	__u32 seq;
	__u16 cc;
};

struct geo_layer {
	struct geo_item *it;
	size_t n, cap;
	bool narrower_wins;	/* CSV rule; otherwise the later item wins */
	const char *name;	/* for overlap warnings, NULL: do not warn */
	__u64 overlaps;
};

static inline geo_u128 geo_fam_max(int fam)
{
	return fam == GEO_V4 ? (geo_u128)0xffffffffu : ~(geo_u128)0;
}

static inline int geo_fam_bits(int fam)
{
	return fam == GEO_V4 ? 32 : 128;
}

int geo_layer_add(struct geo_layer *l, geo_u128 start, geo_u128 end, __u32 seq, __u16 cc);
void geo_layer_free(struct geo_layer *l);
/* Lays layer[GEO_V4] and layer[GEO_V6] over t; t is unchanged on error. */
int geo_table_overlay(struct geo_table *t, struct geo_layer layer[2]);
/* Records a source in the description and the source hash. */
void geo_table_note_source(struct geo_table *t, const char *desc,
			   const void *bytes, size_t len);

/* Writes a message into err (if any), for functions that report "file:line: error: ...". */
void geo_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Address helpers: network-order words <-> 128-bit integers. */
geo_u128 geo_u128_from_words(const __u32 addr[4]);
void geo_u128_to_words(geo_u128 v, __u32 addr[4]);
/* Parses an address into a family and integer; -EINVAL if neither. */
int geo_parse_addr(const char *s, int *fam, geo_u128 *v);

#endif
