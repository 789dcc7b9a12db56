/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Differential testing of the geo engine: libmaxminddb's answer for an
 * address under customs' rules (v4-mapped is IPv4, no answer is ZZ), and
 * address sets that stress a table: random IPv4, random IPv6 in 2000::/3,
 * v4-mapped, and the first and last address of prefixes with neighbours.
 */
#ifndef CUSTOMS_GEODIFF_H
#define CUSTOMS_GEODIFF_H

#include <stddef.h>
#include <maxminddb.h>
#include "geo.h"

__u16 geodiff_mmdb_cc(MMDB_s *db, const __u32 addr[4], __u8 family);
/* Fills n addresses (family 4: addr[0]); returns how many were written. */
size_t geodiff_addresses(struct geo_table *t, __u32 (*addr)[4], __u8 *family,
			 size_t n, unsigned int seed);
/* Address as text, for failure messages. */
const char *geodiff_str(const __u32 addr[4], __u8 family);

#endif
