// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Benchmark-only XDP programs: the contenders customs is compared with,
 * and a feeder that lets BPF_PROG_RUN time the real data plane on varied
 * packets. Nothing here is loaded by the agent.
 *
 *   bench_empty       the floor: an empty XDP program (attached to a veth)
 *   bench_empty_frags the same, for tail calls from bench_feed
 *   bench_lpm         the usual eBPF geofence: a kernel LPM trie of every
 *                     prefix -> country, a per-CPU per-country counter,
 *                     a deny list by country
 *   bench_feed        writes the next source address of feed_addr into the
 *                     frame and tail-calls feed_next[0]; BPF_PROG_RUN keeps
 *                     the frame between repeats, so each repeat runs the
 *                     callee on a new address (feed cost measured apart by
 *                     tail-calling bench_empty_frags)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "customs_abi.h"
#include "parse.h"

#define FEED_SLOTS	(1u << 18)
#define SADDR_OFF	(14 + 12)	/* Ethernet header, then IPv4 saddr */

struct bench_lpm_key {
	__u32 prefixlen;
	__u32 addr;		/* network byte order */
};

struct bench_country_count {
	__u64 packets;
	__u64 bytes;
};

/* Userspace sizes the trie to the database before load. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct bench_lpm_key);
	__type(value, __u16);
} lpm_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTRY_MAX);
	__type(key, __u32);
	__type(value, struct bench_country_count);
} country_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COUNTRY_MAX);
	__type(key, __u32);
	__type(value, __u8);
} country_deny SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} feed_next SEC(".maps");

__u32 feed_addr[FEED_SLOTS];	/* network byte order, filled by userspace */
__u32 feed_pos;

SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp.frags")
int bench_empty_frags(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The floor of any tc program: tcx's "run the next one", nothing read. */
SEC("tc")
int bench_tc_empty(struct __sk_buff *skb)
{
	return TCX_NEXT;
}

SEC("xdp")
int bench_lpm(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	struct bench_lpm_key key = { .prefixlen = 32 };
	struct bench_country_count *c;
	__u32 country = COUNTRY_ZZ;
	__u16 *cc;
	__u8 *deny;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV4))
		return XDP_PASS;
	key.addr = iph->saddr;
	cc = bpf_map_lookup_elem(&lpm_v4, &key);
	if (cc)
		country = *cc;
	c = bpf_map_lookup_elem(&country_count, &country);
	if (c) {
		c->packets++;
		c->bytes += bpf_ntohs(iph->tot_len);
	}
	deny = bpf_map_lookup_elem(&country_deny, &country);
	return deny && *deny ? XDP_DROP : XDP_PASS;
}

SEC("xdp.frags")
int bench_feed(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 *saddr = data + SADDR_OFF;
	__u32 i = feed_pos++ & (FEED_SLOTS - 1);

	if ((void *)(saddr + 1) > data_end)
		return XDP_ABORTED;
	*saddr = feed_addr[i];
	bpf_tail_call(ctx, &feed_next, 0);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
