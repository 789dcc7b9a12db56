/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Builds test packets from a declarative spec: Ethernet with VLAN tags,
 * IPv4 with options and fragments, IPv6 with extension headers, TCP/UDP
 * with options and a payload of a given size; or the same from L3 on, as
 * cgroup_skb programs see packets. Then runs them through BPF_PROG_RUN.
 */
#ifndef CUSTOMS_PKTBUILD_H
#define CUSTOMS_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PKT_MAX		9216
#define PKT_EXT_MAX	12

struct pkt_spec {
	bool l3_only;		/* no Ethernet header (cgroup_skb view) */
	__u16 vlan_tpid[2];	/* 0x8100 / 0x88a8; 0 ends the list */
	__u16 vlan_id[2];
	__u16 ethertype;	/* used when family is 0 */
	int family;		/* 4, 6, or 0 for a raw ethertype */
	const char *src;	/* textual addresses of the family */
	const char *dst;
	__u8 proto;		/* IPPROTO_TCP, IPPROTO_UDP or any other */
	__u16 sport, dport;
	__u8 tcp_flags;
	__u8 tcp_opt_len;	/* bytes of TCP options, multiple of 4 */
	__u8 ipv4_opt_len;	/* bytes of IPv4 options, multiple of 4 */
	__u16 frag_offset;	/* fragment offset in 8-byte units */
	bool more_frags;
	bool fragment;		/* IPv6: add a fragment header (also implied) */
	__u8 ext[PKT_EXT_MAX];	/* IPv6 extension headers, in order */
	int n_ext;
	__u32 payload_len;	/* bytes after the L4 header */
};

/* Returns the packet length, or a negative errno (bad spec, too large). */
int pkt_build(const struct pkt_spec *s, void *buf, size_t cap);

/* The L3 length (IP header through payload) the spec describes. */
__u32 pkt_l3_len(const struct pkt_spec *s);

/* Runs one packet through a program; returns 0 and sets *retval, or -errno. */
int pkt_run(int prog_fd, const void *pkt, size_t len, __u32 *retval);

/* Sums one key of a per-CPU map of __u64 values. */
__u64 percpu_u64_sum(int map_fd, __u32 key);

#endif
