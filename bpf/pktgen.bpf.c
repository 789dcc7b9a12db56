// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The benchmarks' packet generator: run with BPF_PROG_RUN in XDP live-frames
 * mode on a template frame (Ethernet, IPv4, UDP), it rewrites the source
 * address to a random address of a random prefix from `sources` and sends
 * the frame out of the interface with XDP_TX. Every contender is measured
 * with the same frames from the same generator; the kernel here has no
 * pktgen module.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct source_prefix {
	__u32 addr;	/* network byte order, host bits zero */
	__u32 host_mask;	/* host byte order: bits that may vary */
};

const volatile __u32 n_sources = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, struct source_prefix);
} sources SEC(".maps");

__u64 sent;

/* RFC 1624 incremental update of a 16-bit one's complement checksum. */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~(from >> 16) + (__u16)~(from & 0xffff);
	sum += (to >> 16) + (to & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int xdp_pktgen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	struct source_prefix *p;
	__u32 key, old, src;

	if ((void *)(iph + 1) > data_end)
		return XDP_ABORTED;
	key = bpf_get_prandom_u32() % (n_sources ? n_sources : 1);
	p = bpf_map_lookup_elem(&sources, &key);
	if (!p)
		return XDP_ABORTED;
	src = p->addr | bpf_htonl(bpf_get_prandom_u32() & p->host_mask);
	old = iph->saddr;
	iph->saddr = src;
	iph->check = csum_replace4(iph->check, old, src);
	sent++;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
