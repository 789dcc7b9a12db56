/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small MaxMind DB writer for tests: a handful of non-overlapping
 * prefixes in either country schema, an IPv4 or IPv6 tree, and the
 * corruptions the importer must refuse (bad record size, metadata cut
 * off, a record pointing outside the file).
 */
#ifndef CUSTOMS_MMDBGEN_H
#define CUSTOMS_MMDBGEN_H

#include <stdbool.h>
#include <stddef.h>

enum mmdbgen_schema {
	MMDBGEN_COUNTRY_CODE = 0,	/* { "country_code": "DE" } (ip-location-db) */
	MMDBGEN_GEOIP2,			/* { "country": { "iso_code": "DE" } } */
	MMDBGEN_GEOIP2_REGISTERED,	/* { "registered_country": { "iso_code": "DE" } } */
};

struct mmdbgen_entry {
	const char *cidr;	/* IPv4 goes under ::/96 in an IPv6 tree */
	const char *cc;
	enum mmdbgen_schema schema;
};

struct mmdbgen_opts {
	int ip_version;		/* 4 or 6 */
	int record_size_meta;	/* what the metadata claims; 0: 24 (the real size) */
	bool record_outside;	/* the first empty record points past the data */
	bool cut_metadata;	/* end the file in the middle of the metadata */
};

/* Writes the database; 0 or -errno. */
int mmdbgen_write(const char *path, const struct mmdbgen_opts *o,
		  const struct mmdbgen_entry *e, size_t n);

#endif
