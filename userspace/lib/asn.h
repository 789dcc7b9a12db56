/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Who announces an address: the autonomous system (number, organisation),
 * the country the AS is registered in, and whether its class is hosting,
 * VPN or proxy. Built from the ip-location-db `asn` CSV package
 * (start,end,asn,organisation; IPv4 and IPv6 files), override files for
 * the lab and for corrections, and a class list of ASNs and organisation
 * patterns (policies/asn-classes.txt is the shipped starter list).
 *
 * The agent asks only about the prefixes active in an interval (hundreds to
 * thousands), never per packet, so the table lives in userspace: sorted,
 * non-overlapping ranges searched by binary search (about 19 steps for the
 * 412,000 IPv4 rows). An AS's country is the one its overrides give, else
 * the country most of its IPv4 address space has in the geo table (a
 * weighted majority vote over its rows; IPv6 rows count where an AS has no
 * IPv4), since the CSV carries none. Format and precedence:
 * docs/query-patterns.md. Errors are negative errno with "file:line: error:
 * ..." in err.
 */
#ifndef CUSTOMS_ASN_H
#define CUSTOMS_ASN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct geo_table;

enum asn_class {
	ASN_CLASS_NONE = 0,
	ASN_CLASS_HOSTING = 1 << 0,
	ASN_CLASS_VPN = 1 << 1,
	ASN_CLASS_PROXY = 1 << 2,
};
#define ASN_CLASS_ANONYMISING (ASN_CLASS_HOSTING | ASN_CLASS_VPN | ASN_CLASS_PROXY)

#define ASN_ORG_MAX 96

/* What a lookup answers; asn 0 is "unknown" (no row covers the address). */
struct asn_info {
	__u32 asn;
	__u16 country;		/* registration country index, COUNTRY_ZZ unknown */
	__u8 class;		/* enum asn_class bits */
	const char *org;	/* "" when unknown; valid while the db lives */
};

struct asn_db;

int asn_db_new(struct asn_db **out);
void asn_db_free(struct asn_db *db);

/* An ip-location-db asn CSV: "start,end,asn,organisation" (quoted or not). */
int asn_db_add_csv_file(struct asn_db *db, const char *path, char *err, size_t errlen);
int asn_db_add_csv_buf(struct asn_db *db, const char *name, const char *buf, size_t len,
		       char *err, size_t errlen);
/*
 * Overrides, one per line, winning over the CSV (later lines over earlier):
 *   CIDR ASN CC|- ORGANISATION...
 * e.g. "203.0.113.0/24 64501 SG Example Cloud". CC sets the AS's country.
 */
int asn_db_add_override_file(struct asn_db *db, const char *path, char *err, size_t errlen);
int asn_db_add_override_buf(struct asn_db *db, const char *name, const char *buf,
			    size_t len, char *err, size_t errlen);
/*
 * Class list, one rule per line: "CLASS AS<number>" or "CLASS org:PATTERN"
 * (fnmatch, case-insensitive); CLASS is hosting, vpn or proxy.
 */
int asn_db_add_classes_file(struct asn_db *db, const char *path, char *err, size_t errlen);
int asn_db_add_classes_buf(struct asn_db *db, const char *name, const char *buf,
			   size_t len, char *err, size_t errlen);
/*
 * Sorts the ranges, applies the classes and gives each AS a country from
 * geo (may be NULL: overrides' countries only). Lookups need it first.
 */
int asn_db_finish(struct asn_db *db, struct geo_table *geo);

/* addr in network byte order, IPv4 in addr[0]; family 4 or 6. */
void asn_lookup(const struct asn_db *db, __u8 family, const __u32 addr[4],
		struct asn_info *out);
/* The class of an AS number and organisation by the class rules alone. */
__u8 asn_db_classify(const struct asn_db *db, __u32 asn, const char *org);

size_t asn_db_ranges(const struct asn_db *db);
size_t asn_db_systems(const struct asn_db *db);
const char *asn_class_name(__u8 class);

#endif
