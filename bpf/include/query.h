/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Query-pattern counting and the temporary prefix deny (docs/query-patterns.md).
 * Per model and client prefix: connection attempts and request bytes where a
 * packet reaches a served endpoint (XDP ingress), response bytes where a
 * tenant sends to a client (cgroup_skb egress, keyed by the destination
 * prefix). One LRU per-CPU hash holds the active prefixes: a bounded memory
 * whose least recently used prefixes make room for new ones. Each packet
 * costs one lookup, plus one insert the first time a prefix is seen on a CPU;
 * nothing else. Inserts are counted (STAT_QUERY_INSERT) so the agent can tell
 * evictions (inserts beyond the live entries) from quiet prefixes, and an
 * insert the kernel refuses is counted (STAT_QUERY_FULL), never silent.
 *
 * XDP counts requests first into a per-CPU cache (struct query_cache_entry):
 * the slot of the key's hash, if it is free or already the key's in this
 * interval, takes the packet with no hash-map lookup; otherwise the LRU
 * does. A key the cache takes sets its filter bit like an insert, and a
 * key whose bit is clear reaches the cache only through the insert
 * budget: a flood of new prefixes past the budget costs what it cost
 * before the cache (the filter word), not a load of a cache slot too.
 * The agent switches the cache's two buffers through query_cache_active
 * (an array of maps: once its update returns, no program holds the
 * retired buffer), reads and zeroes the retired one.
 * XDP never nests on a CPU, so the cache's adds are plain.
 *
 * query_deny holds (model, prefix) entries the agent installs when a
 * detector in enforce mode fires; XDP drops matching requests until the
 * entry's expiry, judged by the kernel's own clock. While no deny exists
 * (query_deny_active == 0, set by the agent) the check costs one load.
 */
#ifndef CUSTOMS_QUERY_H
#define CUSTOMS_QUERY_H

#include "customs_abi.h"
#include "parse.h"
#include "stats.h"
#include "budget.h"

/* Count at all, and the prefix masks (network byte order), set at load. */
const volatile bool query_enabled = true;
const volatile __u32 query_v4_mask = 0x00ffffff;	/* /24 on little endian */
const volatile __u32 query_v6_mask[4] = { 0xffffffff, 0x0000ffff, 0, 0 };	/* /48 */
const volatile __u8 query_v4_plen = 24;
const volatile __u8 query_v6_plen = 48;

/*
 * New prefixes a CPU may insert per second (and at once). A flood of
 * distinct sources would otherwise make every packet an insert and an
 * LRU eviction; past the budget a new prefix is not tracked
 * (STAT_QUERY_SKIPPED), prefixes already tracked are still counted.
 */
const volatile __u32 query_inserts_per_sec = 10000;
const volatile __u32 query_inserts_burst = 20000;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rate_budget);
} query_budget SEC(".maps");

/* The tracked-key filter (QUERY_SEEN_BITS in customs_abi.h), 128 KiB. */
__u64 query_seen[QUERY_SEEN_WORDS];

/* Number of live query_deny entries, as the agent last wrote them. */
volatile __u32 query_deny_active;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 65536);	/* set from configuration */
	__type(key, struct query_key);
	__type(value, struct query_value);
} query_counts SEC(".maps");

struct query_cache {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, QUERY_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct query_cache_entry);
};

struct query_cache query_cache0 SEC(".maps");
struct query_cache query_cache1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct query_cache);
} query_cache_active SEC(".maps") = {
	.values = { [0] = &query_cache0 },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);	/* set from configuration */
	__type(key, struct query_key);
	__type(value, struct query_deny);
} query_deny SEC(".maps");

enum query_field { QUERY_REQUEST, QUERY_CONNECT, QUERY_RESPONSE };

/* The key of the client address (the source at ingress, destination at egress). */
static __always_inline void query_key_of(struct query_key *k, __u32 model,
					 const struct pkt_meta *m, bool source)
{
	const __u32 *a = source ? m->saddr : m->daddr;

	__builtin_memset(k, 0, sizeof(*k));
	k->model = model;
	k->family = m->family;
	if (m->family == 4) {
		k->addr[0] = a[0] & query_v4_mask;
		k->plen = query_v4_plen;
		return;
	}
	k->addr[0] = a[0] & query_v6_mask[0];
	k->addr[1] = a[1] & query_v6_mask[1];
	k->addr[2] = a[2] & query_v6_mask[2];
	k->addr[3] = a[3] & query_v6_mask[3];
	k->plen = query_v6_plen;
}

static __always_inline void query_value_add(struct query_value *v,
					    enum query_field what, __u64 bytes)
{
	if (what == QUERY_RESPONSE) {
		v->resp_bytes += bytes;
		return;
	}
	v->req_packets += 1;
	v->req_bytes += bytes;
	if (what == QUERY_CONNECT)
		v->conns += 1;
}

static __always_inline bool query_key_eq(const struct query_key *a, const struct query_key *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2];
}

/* Counts a request in this CPU's cache slot of the key; false if another key holds it. */
static __always_inline bool query_cache_add(const struct query_key *k, __u32 bit,
					    enum query_field what, __u64 bytes)
{
	__u32 zero = 0, slot = query_cache_slot(bit);
	struct query_cache_entry *e;
	void *cache;

	cache = bpf_map_lookup_elem(&query_cache_active, &zero);
	if (!cache)
		return false;
	e = bpf_map_lookup_elem(cache, &slot);
	if (!e)
		return false;
	if (!e->key.family)
		e->key = *k;
	else if (!query_key_eq(&e->key, k))
		return false;
	query_value_add(&e->value, what, bytes);
	return true;
}

static __always_inline void query_seen_mark(__u32 bit)
{
	__sync_fetch_and_or(&query_seen[bit >> 6], 1ull << (bit & 63));
}

/*
 * Adds one packet of the client prefix to model's counts: at XDP (source
 * true) in the cache where the key holds or takes its slot, else in the
 * LRU. A key whose bit is set but which neither holds its slot nor is in
 * the LRU (a stale bit) tries the cache a second time after its token:
 * remembering the first try in a variable split xdp_ingress's verifier
 * states past the 1M-instruction limit.
 */
static __always_inline void query_count(__u32 model, const struct pkt_meta *m,
					bool source, enum query_field what, __u64 bytes)
{
	struct query_value init = {}, *v;
	struct rate_budget *budget;
	struct query_key k __attribute__((aligned(8)));	/* query_key_eq() reads u64s */
	__u32 zero = 0, bit;

	if (!query_enabled || model == MODEL_UNKNOWN)
		return;
	query_key_of(&k, model, m, source);
	bit = query_seen_bit(&k);
	if (query_seen[bit >> 6] & (1ull << (bit & 63))) {
		if (source && query_cache_add(&k, bit, what, bytes))
			return;
		v = bpf_map_lookup_elem(&query_counts, &k);
		if (v) {
			query_value_add(v, what, bytes);
			return;
		}
	}
	/*
	 * Not tracked, or its bit was lost (the agent cleared a stale bit
	 * that this key had just set too, dp_query_filter_merge(), or the
	 * bit of a key only the cache holds): the cache or the insert below
	 * finds it then. The budget comes first, so that a flood of new
	 * prefixes past it touches neither the cache nor the map.
	 */
	budget = bpf_map_lookup_elem(&query_budget, &zero);
	if (!budget || !budget_take(budget, query_inserts_per_sec, query_inserts_burst)) {
		stat_inc(STAT_QUERY_SKIPPED);
		return;
	}
	if (source && query_cache_add(&k, bit, what, bytes)) {
		query_seen_mark(bit);
		return;
	}
	query_value_add(&init, what, bytes);
	/* Another CPU may insert the same key first: ours is then a fresh slot. */
	if (bpf_map_update_elem(&query_counts, &k, &init, BPF_NOEXIST) == 0) {
		query_seen_mark(bit);
		stat_inc(STAT_QUERY_INSERT);
		return;
	}
	v = bpf_map_lookup_elem(&query_counts, &k);
	if (v) {
		query_seen_mark(bit);
		query_value_add(v, what, bytes);
		return;
	}
	stat_inc(STAT_QUERY_FULL);
}

/*
 * Request bytes of a packet: its L3 bytes, except 0 for a TCP segment with
 * none of SYN, FIN, RST or PSH: a pure ACK, or the leading segments of a
 * request longer than one MSS (its last segment, with PSH, counts). A
 * streamed answer draws an ACK for every other segment; counting those
 * would make every response/request ratio look alike, while the questions
 * are what distillation keeps small. The test reads only the flags: a
 * test on the header lengths would split every parser path of xdp_ingress
 * and exceed the verifier's budget (docs/query-patterns.md).
 */
#define QUERY_TCP_COUNTED 0x0f	/* FIN | SYN | RST | PSH */

static __always_inline __u64 query_request_bytes(const struct pkt_meta *m)
{
	return m->l4_proto != PROTO_TCP || (m->tcp_flags & QUERY_TCP_COUNTED) ? m->l3_len : 0;
}

/* True when the agent denied the source prefix for this model and it has not expired. */
static __always_inline bool query_denied(__u32 model, const struct pkt_meta *m)
{
	struct query_deny *d;
	struct query_key k;

	if (!query_deny_active)
		return false;
	query_key_of(&k, model, m, true);
	d = bpf_map_lookup_elem(&query_deny, &k);
	if (!d || d->expires_ns <= bpf_ktime_get_ns())
		return false;
	stat_inc(STAT_QUERY_DROP);
	return true;
}

#endif
