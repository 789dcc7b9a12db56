/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-CPU counters keyed (tenant, model, country, direction, layer,
 * verdict), double-buffered through a one-slot array of maps: programs add
 * to whichever buffer meter_active points at; userspace flips the slot to
 * the other buffer and then reads the retired one. Updating an array of
 * maps from the syscall side waits for an RCU grace period, so once the
 * flip returns no program still holds the retired buffer: every update
 * that began before the flip is in it, and it is read exactly once.
 *
 * A full buffer adds to the overflow key (userspace pre-inserts it), so an
 * update is never lost without a count.
 */
#ifndef CUSTOMS_METER_H
#define CUSTOMS_METER_H

#include "customs_abi.h"
#include "stats.h"

#ifndef EEXIST
#define EEXIST 17
#endif

struct meter_buffer {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);	/* set from configuration at load */
	__type(key, struct meter_key);
	__type(value, struct meter_value);
};

struct meter_buffer meter_buf0 SEC(".maps");
struct meter_buffer meter_buf1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct meter_buffer);
} meter_active SEC(".maps") = {
	.values = { [0] = &meter_buf0 },
};

static __always_inline void meter_value_add(struct meter_value *v, __u64 bytes)
{
	v->packets += 1;
	v->bytes += bytes;
}

static __always_inline void meter_add(const struct meter_key *key, __u64 bytes)
{
	struct meter_key overflow = { .tenant = METER_OVERFLOW_TENANT };
	struct meter_value init = { .packets = 1, .bytes = bytes };
	struct meter_value *v;
	__u32 zero = 0;
	void *buf;
	long err;

	buf = bpf_map_lookup_elem(&meter_active, &zero);
	if (!buf)
		return;
	v = bpf_map_lookup_elem(buf, key);
	if (v) {
		meter_value_add(v, bytes);
		return;
	}
	err = bpf_map_update_elem(buf, key, &init, BPF_NOEXIST);
	if (!err)
		return;
	if (err == -EEXIST) {
		/* Another CPU inserted it first: the per-CPU slot is ours. */
		v = bpf_map_lookup_elem(buf, key);
		if (v)
			meter_value_add(v, bytes);
		return;
	}
	v = bpf_map_lookup_elem(buf, &overflow);
	if (v)
		meter_value_add(v, bytes);
	stat_inc(STAT_METER_OVERFLOW);
}

#endif
