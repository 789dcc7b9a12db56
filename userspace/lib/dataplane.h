/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loading, attaching and reading the data plane (bpf/dataplane.bpf.c).
 *
 * Lifecycle: dp_open() loads the programs, sized from dp_config, reusing
 * the maps pinned under the pin directory if a previous instance left
 * them (counters, policy and geo tables then carry over); dp_attach_*()
 * attach through bpf_link and pin each link, or, when a pinned link of
 * ours already exists, swap the new program into it atomically (no moment
 * without enforcement). Closing a dp leaves everything pinned and
 * enforcing; dp_detach_all() is the explicit removal.
 *
 * Counters are double-buffered: dp_meter_flip() points the kernel at the
 * other buffer and returns once no program can still write the retired
 * one; dp_meter_read() reads it (per-CPU values summed, through a memory
 * mapping: no system call per key) and dp_meter_clear() empties it for
 * its next turn.
 */
#ifndef CUSTOMS_DATAPLANE_H
#define CUSTOMS_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "customs_abi.h"
#include "interval.h"

#define DP_PIN_DIR_DEFAULT "/sys/fs/bpf/customs"

struct dp_config {
	const char *pin_dir;		/* NULL: DP_PIN_DIR_DEFAULT */
	__u32 models;			/* highest model id; matrix rows (a pinned
					   matrix keeps its own size) */
	__u32 meter_entries;		/* counter keys (slots per table); 0: 65536 */
	__u32 tenant_entries;		/* 0: 4096 */
	__u32 endpoint_entries;		/* 0: 4096 */
	__u32 tcp_entries;		/* 0: 16384 */
	__u32 ringbuf_bytes;		/* power of two; 0: 1 MiB */
	__u32 events_per_sec;		/* per CPU; 0: 1000 */
	__u32 events_burst;		/* 0: 2 * events_per_sec */
	bool sample_new_flows;
	__u32 query_entries;		/* active prefixes (LRU); 0: 65536 */
	__u32 query_deny_entries;	/* 0: 4096 */
	__u32 query_inserts_per_sec;	/* new prefixes per CPU and second; 0: 10000 */
	__u8 query_v4_prefix;		/* 1..32; 0: 24 */
	__u8 query_v6_prefix;		/* 1..128; 0: 48 */
	bool query_off;			/* no query-pattern counting at all */
};

enum dp_xdp_mode {
	DP_XDP_NATIVE,		/* driver mode; fails where unsupported */
	DP_XDP_GENERIC,		/* skb mode */
};

struct dp;

int dp_open(struct dp **out, const struct dp_config *cfg);
/* Closes our fds; pinned programs and maps stay and keep enforcing. */
void dp_close(struct dp *dp);
/* True when dp_open found and reused pinned maps of an earlier instance. */
bool dp_adopted(const struct dp *dp);
/* The highest model id the loaded access matrix has rows for. */
__u32 dp_models(const struct dp *dp);
const char *dp_pin_dir(const struct dp *dp);
/* The skeleton, for code that fills maps it owns (geo tables). */
struct dataplane *dp_skeleton(struct dp *dp);

/* Pinned link names: links/xdp-IF, links/tcx-egress-IF, links/cgroup-*. */
#define DP_LINK_UNREACH		"tcx-egress-"
#define DP_LINK_NAME_MAX	48

int dp_attach_cgroup(struct dp *dp, const char *cgroup_path);
int dp_attach_xdp(struct dp *dp, const char *ifname, enum dp_xdp_mode mode);
/*
 * The counter of destination unreachables and of the resets the host sends
 * to refuse an attempt (tc_unreach_egress) on a serving interface's
 * egress, through a tcx link beside any others. Every
 * interface with dp_attach_xdp() needs it for the guarantees' refusals.
 */
int dp_attach_unreach(struct dp *dp, const char *ifname);
/* True when a pinned link exists and is still attached to its target. */
bool dp_link_alive(const char *pin_path);
/*
 * Checks every link of ours (the cgroup hooks when cgroup is set, XDP and
 * the tcx egress counter on each interface): pinned, attached, and running
 * our program. Appends
 * "link NAME missing|detached|runs another program" per problem to report;
 * returns the number of problems. dp_attach_*() again repairs them.
 */
struct strbuf;
int dp_verify_links(struct dp *dp, bool cgroup, const char *const *ifnames, int n_ifnames,
		    struct strbuf *report);
/* Unpins every link and map under pin_dir (links detach), removes the dir. */
int dp_detach_all(const char *pin_dir);

/* Policy state, as compiled by the policy compiler. */
int dp_set_tenant(struct dp *dp, __u64 cgroup_id, const struct tenant_info *who);
int dp_del_tenant(struct dp *dp, __u64 cgroup_id);
int dp_set_endpoint(struct dp *dp, const struct endpoint_key *key,
		    const struct tenant_info *who);
int dp_del_endpoint(struct dp *dp, const struct endpoint_key *key);
int dp_set_access_row(struct dp *dp, __u32 model, enum direction dir,
		      const struct access_row *row);
int dp_get_access_row(struct dp *dp, __u32 model, enum direction dir, struct access_row *row);

/* Counters. Buffers are numbered 0 and 1. */
int dp_meter_active(struct dp *dp);	/* the buffer being written, or -errno */
int dp_meter_flip(struct dp *dp);
int dp_meter_read(struct dp *dp, struct meter_record **out, size_t *n);
int dp_meter_clear(struct dp *dp);
/* Empties one buffer by number, for recovery after a crash. */
int dp_meter_clear_buffer(struct dp *dp, int which);
/* Keys in the table new keys go into, and its slots (the overflow bucket is one). */
void dp_meter_fill(struct dp *dp, __u32 *used, __u32 *slots);
/*
 * Adds counts to the active buffer from userspace, as the kernel would
 * (vals: ncpu values per key), for benchmarks and tests. Not for use
 * while programs are attached.
 */
int dp_meter_inject(struct dp *dp, const struct meter_key *keys,
		    const struct meter_value *vals, size_t n);
int dp_tcp_read(struct dp *dp, struct tcp_outcome_record **out, size_t *n);
int dp_stats_read(struct dp *dp, __u64 out[STAT_MAX]);

/*
 * Query patterns (bpf/include/query.h): every live (model, prefix) entry of
 * query_counts with its cumulative counts (value), and every prefix XDP's
 * request cache counted since the last read (fresh: those counts alone,
 * never in value; value is zero for a prefix the cache alone counted),
 * per-CPU values summed; and the prefix deny. A prefix's counts since the
 * last read are value's growth plus fresh. Each read switches the cache's
 * buffers, so one process reads. dp_query_deny_sweep() deletes entries
 * expired at now_ns (monotonic) and tells the kernel how many remain; it
 * returns that number or -errno.
 */
struct query_record {
	struct query_key key;
	struct query_value value;	/* cumulative in query_counts */
	struct query_value fresh;	/* counted in the cache since the last read */
};
int dp_query_read(struct dp *dp, struct query_record **out, size_t *n);
/* Adds v's counts to to's. */
void dp_query_value_add(struct query_value *to, const struct query_value *v);
/*
 * Brings the kernel's tracked-key filter (live, written by programs with
 * atomic ORs) from snap, its words before the keys were read, to keys, the
 * bits of the keys read: clears only bits set in snap and absent from keys,
 * so bits set after the snapshot survive; restores lost bits of keys.
 */
void dp_query_filter_merge(__u64 *live, const __u64 *snap, const __u64 *keys, size_t words);
int dp_query_deny_set(struct dp *dp, const struct query_key *key,
		      const struct query_deny *deny);
int dp_query_deny_sweep(struct dp *dp, __u64 now_ns);
/* Masks an address (network byte order, IPv4 in addr[0]) into a key. */
void dp_query_key(struct query_key *k, __u32 model, __u8 family, const __u32 addr[4],
		  __u8 plen);

/* Events: cb gets each ring-buffer record; returns events consumed. */
typedef int (*dp_event_fn)(void *ctx, const struct event *e);
int dp_events_open(struct dp *dp, dp_event_fn cb, void *ctx);
int dp_events_poll(struct dp *dp, int timeout_ms);
int dp_events_fd(struct dp *dp);

#endif
