/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One ring buffer of events (denials, audit hits, new-flow samples),
 * rate-limited in the kernel by a per-CPU token bucket so a flood of denied
 * packets cannot flood the agent. What the budget refuses is counted
 * (STAT_EVENTS_RATELIMITED), and so is what the full ring refuses
 * (STAT_EVENTS_LOST): the agent reports both.
 */
#ifndef CUSTOMS_EVENTS_H
#define CUSTOMS_EVENTS_H

#include "customs_abi.h"
#include "parse.h"
#include "stats.h"
#include "budget.h"

/* Budget per CPU: events_per_sec sustained, events_burst at once. */
const volatile __u32 events_per_sec = 1000;
const volatile __u32 events_burst = 2000;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* bytes; set from configuration */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rate_budget);
} event_budget SEC(".maps");

static __always_inline int event_take_token(void)
{
	struct rate_budget *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&event_budget, &zero);
	return b && budget_take(b, events_per_sec, events_burst);
}

static __always_inline void event_emit(enum event_kind kind, enum layer layer,
				       enum direction dir, enum verdict verdict,
				       const struct tenant_info *who, __u16 country,
				       const struct pkt_meta *m)
{
	struct event *e;

	if (!event_take_token()) {
		stat_inc(STAT_EVENTS_RATELIMITED);
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_EVENTS_LOST);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	__builtin_memcpy(e->saddr, m->saddr, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, m->daddr, sizeof(e->daddr));
	e->tenant = who->tenant;
	e->model = who->model;
	e->sport = m->sport;
	e->dport = m->dport;
	e->country = country;
	e->kind = kind;
	e->layer = layer;
	e->direction = dir;
	e->verdict = verdict;
	e->family = m->family;
	e->proto = m->l4_proto;
	bpf_ringbuf_submit(e, 0);
}

#endif
