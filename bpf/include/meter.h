/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counters keyed (tenant, model, country, direction, layer, verdict).
 *
 * A key is given a slot once, in an index (hash: key -> slot), and keeps
 * it from interval to interval; the counts live in per-CPU rows of a
 * plain array, [cpu][slot], that userspace maps into its memory and reads
 * without a system call per key. meter_keys[slot] holds the key of each
 * slot, written before the slot is published in the index.
 *
 * Double buffering: two value arrays, and meter_active (a one-slot array
 * of maps) points at the one programs add to. Userspace flips the slot to
 * the other array; updating an array of maps from the syscall side waits
 * for an RCU grace period, so once the flip returns no program still
 * writes the retired array: every update that began before the flip is in
 * it, and it is read exactly once.
 *
 * Two indexes (tables), so that keys no longer seen can be dropped without
 * a pause: new keys go into table meter_ctl.epoch & 1; table t owns
 * slots [t * meter_slots, (t + 1) * meter_slots), so a count is never
 * ambiguous, whichever table it came through. Userspace switches tables
 * when the live one fills with stale keys, and empties the old one once
 * both buffers have been read since the switch (meter_ctl.drain). Slot 0
 * of each table is the overflow bucket: when a table is full the count
 * goes there, so an update is never lost without a count.
 *
 * XDP runs in softirq and never nests on a CPU with another XDP program,
 * so its adds are plain; a cgroup program in process context can be
 * interrupted on its CPU by one in softirq adding to the same key (a TCP
 * ACK sent while a write is in flight), so those adds are atomic.
 *
 * XDP also remembers, per CPU and per country, the last key it counted
 * and its slot, tagged with the epoch: a packet of the same key skips the
 * index (a hash of the key). A switch of tables bumps the epoch, so a
 * remembered slot is used only while its table is the live one. Only XDP
 * uses the cache, for the same no-nesting reason.
 */
#ifndef CUSTOMS_METER_H
#define CUSTOMS_METER_H

#include "customs_abi.h"
#include "stats.h"

/* Slots per table; set from configuration at load. */
const volatile __u32 meter_slots = 65536;

struct meter_values {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * 65536);	/* set at load: ncpu * 2 * meter_slots */
	__type(key, __u32);
	__type(value, struct meter_value);
};

struct meter_values meter_buf0 SEC(".maps");
struct meter_values meter_buf1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct meter_values);
} meter_active SEC(".maps") = {
	.values = { [0] = &meter_buf0 },
};

struct meter_index {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);	/* set at load: meter_slots */
	__type(key, struct meter_key);
	__type(value, __u32);
};

struct meter_index meter_index0 SEC(".maps");
struct meter_index meter_index1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * 65536);	/* set at load: 2 * meter_slots */
	__type(key, __u32);
	__type(value, struct meter_key);
} meter_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct meter_ctl);
} meter_ctl SEC(".maps");

struct meter_cache_entry {
	struct meter_key key;
	__u32 slot;
	__u32 tag;		/* epoch + 1: an entry never written matches nothing */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTRY_MAX);
	__type(key, __u32);
	__type(value, struct meter_cache_entry);
} meter_cache SEC(".maps");

static __always_inline bool meter_key_eq(const struct meter_key *a, const struct meter_key *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline __u32 *meter_index_lookup(__u32 table, const struct meter_key *key)
{
	if (table)
		return bpf_map_lookup_elem(&meter_index1, key);
	return bpf_map_lookup_elem(&meter_index0, key);
}

static __always_inline long meter_index_insert(__u32 table, const struct meter_key *key,
					       const __u32 *slot)
{
	if (table)
		return bpf_map_update_elem(&meter_index1, key, slot, BPF_NOEXIST);
	return bpf_map_update_elem(&meter_index0, key, slot, BPF_NOEXIST);
}

/* A slot for a key the table does not hold yet, or the table's overflow slot. */
static __noinline __u32 meter_new_slot(struct meter_ctl *ctl, __u32 table,
				       const struct meter_key *key)
{
	__u32 base, slot, *won;
	struct meter_key *kp;

	table &= 1;
	base = table * meter_slots;
	if (ctl->next[table] >= meter_slots)
		goto overflow;
	slot = __sync_fetch_and_add(&ctl->next[table], 1);
	if (slot >= meter_slots)
		goto overflow;
	slot += base;
	kp = bpf_map_lookup_elem(&meter_keys, &slot);
	if (!kp)
		goto overflow;
	*kp = *key;
	if (!meter_index_insert(table, key, &slot))
		return slot;
	/* Another CPU published the key first: use its slot, ours stays empty. */
	won = meter_index_lookup(table, key);
	if (won)
		return *won;
overflow:
	stat_inc(STAT_METER_OVERFLOW);
	return base;
}

/* The key's slot, through the index. */
static __always_inline __u32 meter_slot_of(struct meter_ctl *ctl, __u32 table,
					   const struct meter_key *key)
{
	__u32 *found = meter_index_lookup(table, key);

	return found ? *found : meter_new_slot(ctl, table, key);
}

/* The key's slot, remembered per CPU and country (XDP only). */
static __always_inline __u32 meter_slot_cached(struct meter_ctl *ctl, __u32 epoch,
					       const struct meter_key *key)
{
	__u32 idx = key->country, slot;
	struct meter_cache_entry *c;

	c = bpf_map_lookup_elem(&meter_cache, &idx);
	if (c && c->tag == epoch + 1 && meter_key_eq(&c->key, key))
		return c->slot;
	slot = meter_slot_of(ctl, epoch & 1, key);
	if (c) {
		c->key = *key;
		c->slot = slot;
		c->tag = epoch + 1;
	}
	return slot;
}

static __always_inline void meter_add(const struct meter_key *key, __u64 bytes)
{
	struct meter_value *v;
	struct meter_ctl *ctl;
	__u32 zero = 0, epoch, slot;
	void *buf;

	ctl = bpf_map_lookup_elem(&meter_ctl, &zero);
	buf = bpf_map_lookup_elem(&meter_active, &zero);
	if (!ctl || !buf)
		return;
	epoch = ctl->epoch;
	if (key->layer == LAYER_XDP)
		slot = meter_slot_cached(ctl, epoch, key);
	else
		slot = meter_slot_of(ctl, epoch & 1, key);
	slot += bpf_get_smp_processor_id() * 2 * meter_slots;
	v = bpf_map_lookup_elem(buf, &slot);
	if (!v)
		return;
	if (key->layer == LAYER_XDP) {
		v->packets += 1;
		v->bytes += bytes;
	} else {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, bytes);
	}
}

#endif
