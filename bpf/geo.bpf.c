// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The geo probe: answers a batch of addresses through the very geo_lookup_v4
 * / geo_lookup_v6 the data plane uses, run with BPF_PROG_RUN. Userspace
 * fills geo_probe_slots (mmapped), sets probe_count and probe_mode, runs
 * geo_probe once, and reads the countries back. It serves
 * `customsctl geo lookup --kernel`, the differential tests, and the
 * benchmark, which also times the reference LPM tries and an empty program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "geo.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, GEO_PROBE_SLOTS);
	__type(key, __u32);
	__type(value, struct geo_probe_slot);
} geo_probe_slots SEC(".maps");

/* Benchmark references; userspace sizes them before load. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct geo_lpm_v4_key);
	__type(value, __u16);
} geo_lpm_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct geo_lpm_v6_key);
	__type(value, __u16);
} geo_lpm_v6 SEC(".maps");

__u32 probe_count;
__u32 probe_mode;	/* enum geo_probe_mode */

/*
 * GEO_PROBE_CHAINED: each address is XORed with the previous answer ANDed
 * with probe_chain_mask. The mask stays 0, so the addresses and answers
 * are TABLE's, but the CPU cannot know that and starts a lookup only when
 * the one before has its answer, as a packet's lookup cannot overlap the
 * next packet's: the per-lookup latency instead of the throughput of
 * lookups in flight together.
 */
volatile __u32 probe_chain_mask;
__u32 probe_prev;

static __always_inline __u16 lpm_lookup(const struct geo_probe_slot *s)
{
	struct geo_lpm_v4_key k4 = { .prefixlen = 32, .addr = s->addr[0] };
	struct geo_lpm_v6_key k6 = { .prefixlen = 128 };
	__u16 *cc;

	if (s->family == 4) {
		cc = bpf_map_lookup_elem(&geo_lpm_v4, &k4);
	} else {
		__builtin_memcpy(k6.addr, s->addr, sizeof(k6.addr));
		cc = bpf_map_lookup_elem(&geo_lpm_v6, &k6);
	}
	return cc ? *cc : COUNTRY_ZZ;
}

static long probe_one(__u64 i, void *ctx)
{
	__u32 key = (__u32)i;
	struct geo_probe_slot *s;

	s = bpf_map_lookup_elem(&geo_probe_slots, &key);
	if (!s)
		return 1;
	switch (probe_mode) {
	case GEO_PROBE_TABLE:
		s->cc = s->family == 4 ? geo_lookup_v4(s->addr[0]) : geo_lookup_v6(s->addr);
		break;
	case GEO_PROBE_LPM:
		s->cc = lpm_lookup(s);
		break;
	case GEO_PROBE_CHAINED: {
		/* In the leading word, which every step of either lookup depends on. */
		__u32 a[4] = { s->addr[0] ^ (probe_prev & probe_chain_mask), s->addr[1],
			       s->addr[2], s->addr[3] };

		s->cc = s->family == 4 ? geo_lookup_v4(a[0]) : geo_lookup_v6(a);
		probe_prev = s->cc;
		break;
	}
	default:
		s->cc = s->family;
		break;
	}
	return 0;
}

SEC("xdp")
int geo_probe(struct xdp_md *ctx)
{
	__u32 n = probe_count;

	if (n > GEO_PROBE_SLOTS)
		n = GEO_PROBE_SLOTS;
	bpf_loop(n, probe_one, NULL, 0);
	return XDP_PASS;
}

/* The floor of an XDP program run, for the benchmark's xdp_empty_ns. */
SEC("xdp")
int geo_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
