/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The arithmetic of a geo table lookup that the kernel (geo.h) and the
 * userspace mirror (userspace/lib/geo_table.c) must share to the bit: the
 * search inside one tree node and the child arithmetic. Only the way a
 * block is fetched differs between the two (a map lookup in BPF, an array
 * index in userspace), so the answers cannot drift apart.
 */
#ifndef CUSTOMS_GEO_SEARCH_H
#define CUSTOMS_GEO_SEARCH_H

#include "customs_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * Comparisons as arithmetic: BPF has no conditional move, and a binary
 * search over random addresses mispredicts half of its branches, which
 * cost more than the memory loads on this path. Each returns 0 or 1.
 */
static __always_inline __u64 geo_lt64(__u64 a, __u64 b)
{
	/* The borrow out of a - b. */
	return ((~a & b) | ((~a | b) & (a - b))) >> 63;
}

static __always_inline __u64 geo_eq64(__u64 a, __u64 b)
{
	__u64 x = a ^ b;

	return ((x | (0 - x)) >> 63) ^ 1;
}

static __always_inline __u64 geo_key_le(const struct geo_v6_key *k, __u64 hi, __u64 lo)
{
	return geo_lt64(k->hi, hi) | (geo_eq64(k->hi, hi) & (geo_lt64(lo, k->lo) ^ 1));
}

/*
 * Index of the last of n (<= 32) sorted keys that is <= (hi, lo), by
 * halving steps with no branch. The builder guarantees key[0] <= every
 * address that reaches the node; slots at or past n count as greater.
 */
static __always_inline __u32 geo_node_rank(const struct geo_v6_key *key, __u32 n,
					   __u64 hi, __u64 lo)
{
	__u32 base = 0, half, idx;
	__u64 take;

	for (half = GEO_V6_FANOUT / 2; half > 0; half >>= 1) {
		idx = base + half;
		take = geo_key_le(&key[idx & (GEO_V6_FANOUT - 1)], hi, lo) &
		       (((__u64)idx - n) >> 63);
		base += (__u32)take * half;
	}
	return base & (GEO_V6_FANOUT - 1);
}

/* Index of the last of n (<= 16) sorted 64-bit keys that is <= hi. */
static __always_inline __u32 geo_c_rank(const __u64 *key, __u32 n, __u64 hi)
{
	__u32 base = 0, half, idx;
	__u64 take;

	for (half = GEO_V6C_FANOUT / 2; half > 0; half >>= 1) {
		idx = base + half;
		take = (geo_lt64(hi, key[idx & (GEO_V6C_FANOUT - 1)]) ^ 1) &
		       (((__u64)idx - n) >> 63);
		base += (__u32)take * half;
	}
	return base & (GEO_V6C_FANOUT - 1);
}

/* The child of /64-tree node at level level that covers its slot i. */
static __always_inline __u32 geo_v6c_child(const struct geo_header *h, __u32 level,
					   __u32 node, __u32 i)
{
	__u32 child;

	if (level + 1 >= GEO_V6_MAX_DEPTH)
		return 0;
	child = h->v6c_level_base[level + 1] +
		(node - h->v6c_level_base[level]) * GEO_V6C_FANOUT + i;
	if (child > h->v6c_level_last[level + 1])
		child = h->v6c_level_last[level + 1];
	return child;
}

/* The child of exception-tree block idx at level level that covers its slot i. */
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

/*
 * Entry k of an index of u32 entries laid out from block base: its block
 * and its slot there. Both indexes (IPv4 /16s, IPv6 leading bits) use them.
 */
static __always_inline __u32 geo_idx_block(__u32 base, __u32 k)
{
	return base + k / GEO_IDX_PER_BLOCK;
}

static __always_inline __u32 geo_idx_slot(__u32 k)
{
	return k & (GEO_IDX_PER_BLOCK - 1);
}

/* The block of IPv4 tree line line, and the line's slot in it. */
static __always_inline __u32 geo_v4_line_block(__u32 line)
{
	return GEO_V4_TREE_BASE + line / GEO_V4_PER_BLOCK;
}

static __always_inline __u32 geo_v4_line_slot(__u32 line)
{
	return line & (GEO_V4_PER_BLOCK - 1);
}

/*
 * Index of the last of an IPv4 line's 16 keys that is <= x (0..65535), by
 * halving steps with no branch; key[0] <= every x that reaches the line.
 */
static __always_inline __u32 geo_v4_rank(const __u16 *key, __u32 x)
{
	__u32 base = 0, step;

	/*
	 * (x - key) >> 31 is 1 when the key is above x; the step is added by
	 * a shift, not a multiply (three cycles on the dependent path), and
	 * not by a mask, which the compiler turns back into a branch (BPF has
	 * no conditional move) that random addresses mispredict. Steps of
	 * 8, 4, 2, 1: step counts 3 to 0, then wraps, which ends the loop.
	 */
	for (step = 3; step < 4; step--)
		base += (((x - key[(base + (1u << step)) & (GEO_V4_FANOUT - 1)]) >> 31) ^ 1)
			<< step;
	return base & (GEO_V4_FANOUT - 1);
}

/*
 * The line of an inner IPv4 line's child that covers its slot i: a slot
 * past the last child is padding, and takes the last child (no branch).
 */
static __always_inline __u32 geo_v4_child(const struct geo_v4_line *l, __u32 i)
{
	__u32 d = l->in.last - i;

	return l->in.child + i + (d & (__u32)((__s32)d >> 31));
}

/* An address in ::/96 or ::ffff:0:0/96 is answered by the IPv4 table. */
static __always_inline int geo_v6_is_v4(const __u32 addr[4], __u32 ffff_be)
{
	return addr[0] == 0 && addr[1] == 0 && (addr[2] == 0 || addr[2] == ffff_be);
}

#endif /* CUSTOMS_GEO_SEARCH_H */
