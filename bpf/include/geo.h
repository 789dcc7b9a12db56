/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Country of an address, for every hook: geo_lookup_v4() and
 * geo_lookup_v6() over the live geo table. The table is one inner array
 * map of 512-byte blocks (layout in customs_abi.h, design in docs/geo.md)
 * held in the one slot of geo_live; userspace builds a new inner map beside
 * the live one and replaces the slot in one update, so a lookup sees either
 * the old table or the new one, never a mix. With no table loaded every
 * answer is COUNTRY_ZZ.
 *
 * IPv4: the /16 index (256 KiB), then, unless the whole /16 is one
 * country, the /16's search tree of 64-byte lines with 16 keys each: one
 * to four lines (two or three for most addresses of the real data), all
 * the trees together under 2 MiB.
 *
 * IPv6: a static search tree over the upper 64 bits with 128-byte,
 * 16-way nodes (five levels for the full database, four comparisons
 * each), entered below the root where an index on the leading bits (16,
 * then 7 at a time where the data is dense) says every search of that
 * range passes; a /64 that holds longer prefixes answers
 * GEO_V6_EXCEPTION there, and a second tree of 128-bit keys (three
 * levels) settles it.
 *
 * Include after vmlinux.h, like every header in bpf/include.
 */
#ifndef __BPF__
/*
 * In userspace this name belongs to the library's geo.h (userspace/lib),
 * which comes after bpf/include on the include path.
 */
#include_next "geo.h"
#elif !defined(CUSTOMS_GEO_H)
#define CUSTOMS_GEO_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "customs_abi.h"
#include "geo_search.h"

/*
 * Inner map template: every table has GEO_TABLE_BLOCKS blocks, so the
 * verifier inlines lookups into it; userspace fills a new table through
 * mmap (BPF_F_MMAPABLE).
 */
struct geo_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, GEO_TABLE_BLOCKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GEO_BLOCK_SIZE);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct geo_inner);
} geo_live SEC(".maps");

static __always_inline void *geo_table_live(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&geo_live, &zero);
}

static __always_inline __u16 geo_v4_in(void *tbl, __u32 addr)
{
	__u32 host = bpf_ntohl(addr), x = host & 0xffff;
	__u32 idx = geo_idx_block(GEO_V4_IDX_BASE, host >> 16);
	const struct geo_v4_line *l;
	__u32 e, line, depth, level, i;
	union geo_block *b;

	b = bpf_map_lookup_elem(tbl, &idx);
	if (!b)
		return COUNTRY_ZZ;
	e = b->v4idx[geo_idx_slot(host >> 16)];
	if (e & GEO_V4_DIRECT)
		return (__u16)e;
	line = e & GEO_V4_LINE_MASK;
	depth = (e >> GEO_V4_DEPTH_SHIFT) & (GEO_V4_MAX_DEPTH - 1);
	for (level = 0; level < GEO_V4_MAX_DEPTH; level++) {
		idx = geo_v4_line_block(line);
		b = bpf_map_lookup_elem(tbl, &idx);
		if (!b)
			return COUNTRY_ZZ;
		l = &b->v4[geo_v4_line_slot(line)];
		i = geo_v4_rank(l->key, x);
		if (level >= depth)
			return l->cc[i];
		line = geo_v4_child(l, i);
	}
	return COUNTRY_ZZ;
}

/* addr in network byte order; the country index, COUNTRY_ZZ when unknown. */
static __always_inline __u16 geo_lookup_v4(__u32 addr)
{
	void *tbl = geo_table_live();

	if (!tbl)
		return COUNTRY_ZZ;
	return geo_v4_in(tbl, addr);
}

/* The exception tree: 128-bit keys, for the /64s that hold longer prefixes. */
static __always_inline __u16 geo_v6_exception(void *tbl, const struct geo_header *h,
					      __u64 hi, __u64 lo)
{
	__u32 idx, i, level, depth = h->v6_depth;
	union geo_block *b;

	if (depth == 0 || depth > GEO_V6_MAX_DEPTH)
		return COUNTRY_ZZ;
	idx = h->v6_level_base[0];
	for (level = 0; level < GEO_V6_MAX_DEPTH; level++) {
		b = bpf_map_lookup_elem(tbl, &idx);
		if (!b)
			return COUNTRY_ZZ;
		if (level + 1 >= depth) {
			i = geo_node_rank(b->leaf.key, GEO_V6_LEAF, hi, lo);
			return b->leaf.cc[i & (GEO_V6_FANOUT - 1)];
		}
		i = geo_node_rank(b->inner, GEO_V6_FANOUT, hi, lo);
		idx = geo_v6_child(h, level, idx, i);
	}
	return COUNTRY_ZZ;
}

/*
 * addr in network byte order. ::ffff:a.b.c.d and ::a.b.c.d are answered
 * as a.b.c.d (the IPv4 subtree of an MMDB is ::/96).
 */
static __always_inline __u16 geo_lookup_v6(const __u32 addr[4])
{
	const struct geo_header *h;
	const struct geo_v6c_node *nd;
	union geo_block *b;
	__u32 zero = 0, idx, node, i, level, depth, e, shift, start;
	__u16 cc = COUNTRY_ZZ;
	__u64 hi, lo;
	void *tbl;

	tbl = geo_table_live();
	if (!tbl)
		return COUNTRY_ZZ;
	if (geo_v6_is_v4(addr, bpf_htonl(0xffff)))
		return geo_v4_in(tbl, addr[3]);
	h = bpf_map_lookup_elem(tbl, &zero);
	if (!h)
		return COUNTRY_ZZ;
	depth = h->v6c_depth;
	if (depth == 0 || depth > GEO_V6_MAX_DEPTH)
		return COUNTRY_ZZ;
	hi = ((__u64)bpf_ntohl(addr[0]) << 32) | bpf_ntohl(addr[1]);
	lo = ((__u64)bpf_ntohl(addr[2]) << 32) | bpf_ntohl(addr[3]);
	/* The index: where in the tree a search for hi may start. */
	idx = geo_idx_block(h->v6x_block, (__u32)(hi >> 48));
	b = bpf_map_lookup_elem(tbl, &idx);
	if (!b)
		return COUNTRY_ZZ;
	e = b->v6idx[geo_idx_slot((__u32)(hi >> 48))];
	shift = 48;
	for (i = 0; i < GEO_V6X_MAX_SUB; i++) {
		if (!(e & GEO_V6X_SUB))
			break;
		shift -= GEO_V6X_SUB_BITS;
		idx = e & ~GEO_V6X_SUB;
		b = bpf_map_lookup_elem(tbl, &idx);
		if (!b)
			return COUNTRY_ZZ;
		e = b->v6idx[geo_idx_slot((__u32)(hi >> shift))];
	}
	if (e & GEO_V6X_SUB)
		return COUNTRY_ZZ;
	start = e >> GEO_V6X_LEVEL_SHIFT;
	node = e & GEO_V6X_NODE_MASK;
	for (level = 0; level < GEO_V6_MAX_DEPTH; level++) {
		if (level < start)
			continue;
		idx = h->v6c_block + node / GEO_V6C_PER_BLOCK;
		b = bpf_map_lookup_elem(tbl, &idx);
		if (!b)
			return COUNTRY_ZZ;
		nd = &b->c[node & (GEO_V6C_PER_BLOCK - 1)];
		if (level + 1 >= depth) {
			i = geo_c_rank(nd->leaf.key, GEO_V6C_LEAF, hi);
			cc = nd->leaf.cc[i & (GEO_V6C_FANOUT - 1)];
			break;
		}
		i = geo_c_rank(nd->inner, GEO_V6C_FANOUT, hi);
		node = geo_v6c_child(h, level, node, i);
	}
	if (cc != GEO_V6_EXCEPTION)
		return cc;
	return geo_v6_exception(tbl, h, hi, lo);
}

#endif /* __BPF__, CUSTOMS_GEO_H */
