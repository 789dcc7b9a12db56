/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The geo engine in userspace: import a country database (MMDB in the
 * ip-location-db `country_code` or the GeoIP2 `country.iso_code` schema,
 * CSV range files, or our compiled table file), layer override files on
 * top, keep the result as sorted IPv4 and IPv6 segment lists, compile it
 * into the block image the kernel searches (customs_abi.h, bpf/include/
 * geo.h), answer lookups from that same image (the mirror), save and load
 * the compiled file, and install an image into a BPF program's geo_live
 * slot in one atomic update. Precedence and formats: docs/geo.md.
 *
 * Errors are negative errno; functions that read input also write a
 * message "file:line: error: ..." into err.
 */
#ifndef CUSTOMS_GEO_H_USER
#define CUSTOMS_GEO_H_USER

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "customs_abi.h"
#include "sha256.h"

struct bpf_map;
struct geo_table;

/* What a table is built from: one database (or none) and override files. */
struct geo_source {
	const char *db;			/* MMDB, CSV or compiled table, sniffed; NULL: none */
	const char *const *overrides;	/* override files; later files win */
	size_t n_overrides;
};

enum geo_format {
	GEO_FMT_MMDB = 1,
	GEO_FMT_CSV,
	GEO_FMT_TABLE,
};

/* Facts about a table, for `customsctl geo info` and telemetry. */
struct geo_table_info {
	char source[256];		/* what it was built from */
	enum geo_format format;		/* of the base database, 0 if none */
	__u64 source_epoch;		/* build time of the database (MMDB metadata), 0 unknown */
	__u64 build_time;		/* when the table was compiled */
	__u64 v4_segments, v6_segments;	/* maximal runs of one country, ZZ included */
	__u64 v4_prefixes, v6_prefixes;	/* minimal CIDR prefixes covering the non-ZZ runs */
	__u32 countries;		/* distinct countries other than ZZ */
	__u32 v4_trees;			/* /16s that are not one country: a tree each */
	__u32 v4_lines;			/* 64-byte lines of those trees */
	__u32 v6_depth;			/* levels of the IPv6 /64 tree */
	__u32 v6_index_blocks;		/* IPv6 sub-index blocks (beside the /16 level) */
	__u32 v6_exception_depth;	/* levels of the tree for /64s with longer prefixes */
	__u32 v6_exceptions;		/* keys in that tree */
	__u64 kernel_bytes;		/* the table map the kernel holds (fixed size) */
	__u64 used_bytes;		/* of which this table fills */
	__u64 csv_overlaps;		/* CSV rows that overlapped earlier rows */
	unsigned char hash[SHA256_LEN];		/* geo_table_hash() */
	unsigned char source_hash[SHA256_LEN];	/* SHA-256 over the source files */
};

/* Guesses a file's format from its content. */
int geo_sniff(const char *path, enum geo_format *fmt);

/* An empty table: every address is ZZ. */
int geo_table_new(struct geo_table **out);
/* A table from src (db may be NULL: overrides only). */
int geo_table_build(struct geo_table **out, const struct geo_source *src,
		    char *err, size_t errlen);
void geo_table_free(struct geo_table *t);

/*
 * Layers on top of t, the new data winning where it says anything: one
 * prefix (CIDR or bare address, v4-mapped IPv6 prefixes are IPv4), an
 * override file or buffer (`CIDR CC` lines, # comments, later lines win),
 * or a CSV range file or buffer (`start,end,CC`; among its own rows the
 * narrower range wins, equal ranges the later row).
 */
int geo_table_add_override(struct geo_table *t, const char *cidr, const char *cc);
int geo_table_add_override_file(struct geo_table *t, const char *path,
				char *err, size_t errlen);
int geo_table_add_override_buf(struct geo_table *t, const char *name,
			       const char *buf, size_t len, char *err, size_t errlen);
int geo_table_add_csv_file(struct geo_table *t, const char *path,
			   char *err, size_t errlen);
int geo_table_add_csv_buf(struct geo_table *t, const char *name,
			  const char *buf, size_t len, char *err, size_t errlen);
int geo_table_add_mmdb(struct geo_table *t, const char *path, char *err, size_t errlen);

/* The compiled table file (format in docs/geo.md). */
int geo_table_save(struct geo_table *t, const char *path, char *err, size_t errlen);
int geo_table_load(struct geo_table **out, const char *path, char *err, size_t errlen);

/* The mirror: the kernel's lookup over the same block image. Network byte order. */
__u16 geo_table_lookup_v4(struct geo_table *t, __u32 addr);
__u16 geo_table_lookup_v6(struct geo_table *t, const __u32 addr[4]);
/* Parses an IPv4 or IPv6 address and looks it up; -EINVAL if it is neither. */
int geo_table_lookup_str(struct geo_table *t, const char *ip, __u16 *cc);

/*
 * Parses an IPv4 or IPv6 address into the probe's form: family 4 with the
 * address in addr[0], or family 6; network byte order. -EINVAL otherwise.
 */
int geo_parse_ip(const char *s, __u32 addr[4], __u8 *family);

/* SHA-256 of the table's content: equal tables have equal hashes. */
const unsigned char *geo_table_hash(struct geo_table *t);
int geo_table_info(struct geo_table *t, struct geo_table_info *info);

/* The compiled image (compiled on demand): n_blocks blocks of GEO_BLOCK_SIZE. */
const union geo_block *geo_table_image(struct geo_table *t, size_t *n_blocks);
/*
 * Calls fn for every minimal CIDR prefix of the non-ZZ runs (family 4:
 * addr[0] only), in address order; stops at fn's first non-zero return.
 */
int geo_table_foreach_prefix(struct geo_table *t, int family,
			     int (*fn)(int family, const __u32 addr[4], int len,
				       __u16 cc, void *arg),
			     void *arg);

/*
 * The geo maps of a skeleton that includes bpf/include/geo.h: the one
 * outer map whose slot holds the live table.
 */
struct geo_maps {
	struct bpf_map *live;
};
#define GEO_MAPS(skel) ((struct geo_maps){ .live = (skel)->maps.geo_live })

/*
 * Builds the table's image in a new inner map beside the live one and
 * switches the slot to it in one update; the kernel frees the old map
 * once no program uses it. Works on the outer map's fd, so maps reused
 * from bpffs pins are fine. On failure the live table stays in force.
 */
int geo_kernel_install(const struct geo_maps *m, struct geo_table *t);
/*
 * A read-only table over the live kernel table's own bytes (an mmap of the
 * map, nothing copied): lookups and the hash only, for processes that must
 * answer lookups without holding a copy. Free with geo_table_free().
 */
int geo_kernel_view(const struct geo_maps *m, struct geo_table **out);
/* The hash of the live table (-ENOENT when none is loaded). */
int geo_kernel_live_hash(const struct geo_maps *m, unsigned char out[SHA256_LEN]);
/*
 * 1 when outer map live_fd (a geo_live, e.g. reused from a pin) holds a
 * table of this build's layout (header magic, GEO_TABLE_BLOCKS); 0 when
 * it holds none or one of another customs; a negative errno on failure.
 */
int geo_kernel_live_is_current(int live_fd);


/*
 * The geo probe (bpf/geo.bpf.c): the kernel's own lookup, run on batches
 * of addresses with BPF_PROG_RUN. lpm_v4/lpm_v6 size the benchmark's
 * reference tries (0: unused).
 */
struct geo;
struct geo_probe {
	struct geo *skel;
	struct geo_probe_slot *slots;	/* GEO_PROBE_SLOTS, mmapped */
};

int geo_probe_open(struct geo_probe *p, __u32 lpm_v4, __u32 lpm_v6);
void geo_probe_close(struct geo_probe *p);
struct geo_maps geo_probe_maps(struct geo_probe *p);
/*
 * Runs the probe over slots[0..n) in mode, repeat times; *ns gets the
 * average time of one run (may be NULL).
 */
int geo_probe_run(struct geo_probe *p, __u32 n, enum geo_probe_mode mode,
		  __u32 repeat, __u64 *ns);
/* Kernel answers for n addresses (network byte order, family 4 or 6 each). */
int geo_probe_lookup(struct geo_probe *p, const __u32 (*addr)[4], const __u8 *family,
		     size_t n, __u16 *cc);

#endif
