/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The arithmetic of a geo table lookup that the kernel (geo.h) and the
 * userspace mirror (userspace/lib/geo_table.c) must share to the bit: the
 * search inside one IPv6 tree node and the IPv4 entry decoding. Only the
 * way a block is fetched differs between the two (a map lookup in BPF, an
 * array index in userspace), so the answers cannot drift apart.
 */
#ifndef CUSTOMS_GEO_SEARCH_H
#define CUSTOMS_GEO_SEARCH_H

#include "customs_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline int geo_key_le(const struct geo_v6_key *k, __u64 hi, __u64 lo)
{
	return k->hi < hi || (k->hi == hi && k->lo <= lo);
}

/*
 * Index of the last of n (<= 32) sorted keys that is <= (hi, lo). The
 * builder guarantees key[0] <= every address that reaches the node, so
 * the answer is always a real slot; five halvings cover 32 keys, and the
 * mask keeps the verifier's view of the index inside the block.
 */
static __always_inline __u32 geo_node_rank(const struct geo_v6_key *key, __u32 n,
					   __u64 hi, __u64 lo)
{
	__u32 lo_i = 0, hi_i = n, mid;
	int step;

	for (step = 0; step < 5; step++) {
		if (hi_i - lo_i > 1) {
			mid = (lo_i + hi_i) >> 1;
			if (geo_key_le(&key[mid & (GEO_V6_FANOUT - 1)], hi, lo))
				lo_i = mid;
			else
				hi_i = mid;
		}
	}
	return lo_i & (GEO_V6_FANOUT - 1);
}

/* The child of inner node idx at level level that covers its slot i. */
static __always_inline __u32 geo_v6_child(const struct geo_header *h, __u32 level,
					  __u32 idx, __u32 i)
{
	__u32 child;

	if (level + 1 >= GEO_V6_MAX_DEPTH)
		return 0;
	child = h->v6_level_base[level + 1] +
		(idx - h->v6_level_base[level]) * GEO_V6_FANOUT + i;
	/* Only the last node of a level has padding slots past its children. */
	if (child > h->v6_level_last[level + 1])
		child = h->v6_level_last[level + 1];
	return child;
}

/* An address in ::/96 or ::ffff:0:0/96 is answered by the IPv4 table. */
static __always_inline int geo_v6_is_v4(const __u32 addr[4], __u32 ffff_be)
{
	return addr[0] == 0 && addr[1] == 0 && (addr[2] == 0 || addr[2] == ffff_be);
}

#endif /* CUSTOMS_GEO_SEARCH_H */
