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

/* Budget per CPU: events_per_sec sustained, events_burst at once. */
const volatile __u32 events_per_sec = 1000;
const volatile __u32 events_burst = 2000;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* bytes; set from configuration */
} events SEC(".maps");

struct event_budget {
	__u64 tokens;		/* in units of 1/NSEC_PER_SEC of an event */
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_budget);
} event_budget SEC(".maps");

#define EVENT_NSEC	1000000000ull

static __always_inline int event_take_token(void)
{
	struct event_budget *b;
	__u64 now, cap, gained;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&event_budget, &zero);
	if (!b)
		return 0;
	now = bpf_ktime_get_ns();
	cap = (__u64)events_burst * EVENT_NSEC;
	if (b->last_ns == 0) {
		b->tokens = cap;
	} else {
		gained = (now - b->last_ns) * events_per_sec;
		b->tokens = b->tokens + gained > cap ? cap : b->tokens + gained;
	}
	b->last_ns = now;
	if (b->tokens < EVENT_NSEC)
		return 0;
	b->tokens -= EVENT_NSEC;
	return 1;
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
