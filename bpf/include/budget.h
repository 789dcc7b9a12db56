/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A per-CPU token bucket: per_sec tokens a second, at most burst at once.
 * Tokens are kept in units of 1/NSEC_PER_SEC of a token, so refilling is
 * one multiply of the elapsed nanoseconds. The first take fills it.
 *
 * The clock is the coarse one (CLOCK_MONOTONIC as of the last tick): a
 * seqcount read of the timekeeper, no TSC read, no fence.
 * bpf_ktime_get_ns() reads the TSC behind a fence
 * (rdtsc_ordered) that waits for every load in front of it, so a packet
 * whose geo and counter loads missed the cache paid for them one after
 * the other; the budget is taken on every packet of an untracked prefix.
 * Tokens arrive once a tick (1 to 10 ms; 4 ms here) instead of
 * continuously, 40 at a time at 10,000 a second: rate and burst are
 * unchanged, a bucket emptied within a tick waits for the next one.
 */
#ifndef CUSTOMS_BUDGET_H
#define CUSTOMS_BUDGET_H

#include "customs_abi.h"

struct rate_budget {
	__u64 tokens;
	__u64 last_ns;
};

#define BUDGET_NSEC	1000000000ull

static __always_inline bool budget_take(struct rate_budget *b, __u32 per_sec, __u32 burst)
{
	__u64 now = bpf_ktime_get_coarse_ns(), cap = (__u64)burst * BUDGET_NSEC, gained;

	/*
	 * A pinned bucket last taken on the fine clock (an older customs, or
	 * its programs still attached beside ours) may be up to a tick ahead:
	 * no time has passed, rather than (now - last_ns) wrapping to a
	 * refill.
	 */
	if (now < b->last_ns)
		now = b->last_ns;
	/*
	 * A bucket idle long enough to refill is full: testing the elapsed
	 * time first keeps (now - last_ns) * per_sec from wrapping.
	 */
	if (b->last_ns == 0 || (per_sec && now - b->last_ns >= cap / per_sec)) {
		b->tokens = cap;
	} else {
		gained = (now - b->last_ns) * per_sec;
		b->tokens = b->tokens + gained > cap ? cap : b->tokens + gained;
	}
	b->last_ns = now;
	if (b->tokens < BUDGET_NSEC)
		return false;
	b->tokens -= BUDGET_NSEC;
	return true;
}

#endif
