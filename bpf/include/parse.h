/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The packet parser every customs program shares: Ethernet with up to two
 * VLAN tags (802.1Q, 802.1ad QinQ), IPv4 with options and fragments, IPv6
 * with a bounded walk over hop-by-hop, routing, destination-options,
 * fragment and AH headers, then TCP and UDP ports.
 *
 * Every read is checked against the end pointer first, loops are bounded,
 * and the header depends on nothing but customs_abi.h: the same code builds
 * for BPF (where the verifier checks the bounds) and for userspace (where
 * the fuzz target runs it under AddressSanitizer). XDP starts at L2 with
 * parse_l2(); cgroup_skb, whose data starts at the IP header, uses parse_l3();
 * the tc egress counter of refusals uses parse_egress_l2(), which also
 * reads the packet an ICMP or ICMPv6 destination unreachable quotes.
 */
#ifndef CUSTOMS_PARSE_H
#define CUSTOMS_PARSE_H

#include "customs_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define PARSE_VLAN_MAX		2
#define PARSE_IPV6_EXT_MAX	8

#define ETH_P_IPV4		0x0800
#define ETH_P_IPV6		0x86DD
#define ETH_P_8021Q		0x8100
#define ETH_P_8021AD		0x88A8

#define PROTO_HOPOPTS	0
#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_ROUTING	43
#define PROTO_FRAGMENT	44
#define PROTO_AH	51
#define PROTO_ICMPV6	58
#define PROTO_NONE	59
#define PROTO_DSTOPTS	60

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define parse_ntohs(x) __builtin_bswap16(x)
#else
#define parse_ntohs(x) (x)
#endif
#define parse_htons(x) parse_ntohs(x)

/*
 * Wire layouts, our own so that userspace needs no vmlinux.h. Headers sit at
 * 2-byte offsets in a frame; BPF may load them unaligned (the verifier
 * allows it where the CPU does), C may not, so userspace sees them packed.
 */
#ifdef __BPF__
#define PARSE_WIRE
#else
#define PARSE_WIRE __attribute__((packed))
#endif

struct parse_eth_hdr {
	__u8 dst[6];
	__u8 src[6];
	__u16 proto;
} PARSE_WIRE;

struct parse_vlan_hdr {
	__u16 tci;
	__u16 proto;
} PARSE_WIRE;

struct parse_ipv4_hdr {
	__u8 ver_ihl;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag_off;
	__u8 ttl;
	__u8 proto;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
} PARSE_WIRE;

struct parse_ipv6_hdr {
	__u32 ver_tc_flow;
	__u16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u32 saddr[4];
	__u32 daddr[4];
} PARSE_WIRE;

struct parse_ipv6_opt_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
	__u8 rest[6];
} PARSE_WIRE;

struct parse_ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__u16 frag_off;
	__u32 id;
} PARSE_WIRE;

struct parse_tcp_hdr {
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack;
	__u8 doff_res;
	__u8 flags;
	__u16 window;
	__u16 check;
	__u16 urg;
} PARSE_WIRE;

struct parse_udp_hdr {
	__u16 sport;
	__u16 dport;
	__u16 len;
	__u16 check;
} PARSE_WIRE;

/* ICMP and ICMPv6 share it; an error message's quote follows it. */
struct parse_icmp_hdr {
	__u8 type;
	__u8 code;
	__u16 check;
	__u32 rest;		/* unused, or the MTU of a fragmentation-needed */
} PARSE_WIRE;

#define ICMP_DEST_UNREACH	3
#define ICMP_FRAG_NEEDED	4	/* code of ICMP_DEST_UNREACH */
#define ICMPV6_DEST_UNREACH	1
#define PARSE_TCP_FLAGS_OFF	13	/* flags byte within the TCP header */

#define IPV4_MF		0x2000
#define IPV4_OFFSET	0x1FFF
#define IPV6_FRAG_MF	0x0001
#define IPV6_FRAG_OFF	0xFFF8

static __always_inline int parse_has(const void *pos, __u32 len, const void *end)
{
	return (const __u8 *)pos + len <= (const __u8 *)end;
}

static __always_inline enum parse_status
parse_tcp(const __u8 *pos, const __u8 *end, struct pkt_meta *m)
{
	const struct parse_tcp_hdr *th = (const void *)pos;
	__u32 hlen;

	if (!parse_has(th, sizeof(*th), end))
		return PARSE_TRUNCATED;
	hlen = (__u32)(th->doff_res >> 4) * 4;
	if (hlen < sizeof(*th))
		return PARSE_BAD_L4;
	if (!parse_has(pos, hlen, end))
		return PARSE_TRUNCATED;
	m->sport = parse_ntohs(th->sport);
	m->dport = parse_ntohs(th->dport);
	m->tcp_flags = th->flags;
	return PARSE_OK;
}

static __always_inline enum parse_status
parse_udp(const __u8 *pos, const __u8 *end, struct pkt_meta *m)
{
	const struct parse_udp_hdr *uh = (const void *)pos;

	if (!parse_has(uh, sizeof(*uh), end))
		return PARSE_TRUNCATED;
	m->sport = parse_ntohs(uh->sport);
	m->dport = parse_ntohs(uh->dport);
	return PARSE_OK;
}

/* pos points at the L4 header of a first (or only) fragment. */
static __always_inline enum parse_status
parse_l4(const __u8 *start, const __u8 *pos, const __u8 *end,
	 struct pkt_meta *m)
{
	m->l4_off = (__u16)(pos - start);
	if (m->l4_proto == PROTO_TCP)
		return parse_tcp(pos, end, m);
	if (m->l4_proto == PROTO_UDP)
		return parse_udp(pos, end, m);
	return PARSE_OK;
}

/*
 * The IPv4 header at pos, options included. *l4 is where the transport
 * header starts, NULL for a later fragment (which has none).
 */
static __always_inline enum parse_status
parse_ipv4_hdr(const __u8 *start, const __u8 *pos, const __u8 *end,
	       struct pkt_meta *m, const __u8 **l4)
{
	const struct parse_ipv4_hdr *iph = (const void *)pos;
	__u32 hlen, frag;

	*l4 = NULL;
	if (!parse_has(iph, sizeof(*iph), end))
		return PARSE_TRUNCATED;
	if ((iph->ver_ihl >> 4) != 4)
		return PARSE_BAD_L3;
	hlen = (__u32)(iph->ver_ihl & 0x0F) * 4;
	if (hlen < sizeof(*iph))
		return PARSE_BAD_L3;
	m->family = 4;
	m->l3_off = (__u16)(pos - start);
	m->l3_len = parse_ntohs(iph->tot_len);
	m->l4_proto = iph->proto;
	m->saddr[0] = iph->saddr;
	m->daddr[0] = iph->daddr;
	/* tot_len 0 is how the stack marks a GSO super-packet over 64 KiB. */
	if (m->l3_len && m->l3_len < hlen)
		return PARSE_BAD_L3;
	if (hlen > sizeof(*iph))
		m->flags |= PKT_F_IPV4_OPTIONS;
	if (!parse_has(pos, hlen, end))
		return PARSE_TRUNCATED;
	frag = parse_ntohs(iph->frag_off);
	if (frag & (IPV4_MF | IPV4_OFFSET))
		m->flags |= PKT_F_FRAG;
	if (frag & IPV4_OFFSET) {
		m->flags |= PKT_F_FRAG_LATER;
		return PARSE_OK;
	}
	*l4 = pos + hlen;
	return PARSE_OK;
}

static __always_inline int parse_is_v4mapped(const __u32 a[4])
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return a[0] == 0 && a[1] == 0 && a[2] == 0xFFFF0000u;
#else
	return a[0] == 0 && a[1] == 0 && a[2] == 0x0000FFFFu;
#endif
}

/*
 * One step of the IPv6 extension-header walk. Returns 1 to go on with
 * *posp and *nexthdr updated, 0 when the final header is reached, or a
 * negative parse_status on error.
 */
static __always_inline int
parse_ipv6_ext(const __u8 **posp, const __u8 *end, __u8 *nexthdr,
	       struct pkt_meta *m)
{
	const __u8 *pos = *posp;
	const struct parse_ipv6_opt_hdr *oh = (const void *)pos;
	const struct parse_ipv6_frag_hdr *fh = (const void *)pos;
	__u32 len;
	__u16 off;

	switch (*nexthdr) {
	case PROTO_HOPOPTS:
	case PROTO_ROUTING:
	case PROTO_DSTOPTS:
		if (!parse_has(oh, sizeof(*oh), end))
			return -PARSE_TRUNCATED;
		len = ((__u32)oh->hdrlen + 1) * 8;
		break;
	case PROTO_AH:
		if (!parse_has(oh, sizeof(*oh), end))
			return -PARSE_TRUNCATED;
		len = ((__u32)oh->hdrlen + 2) * 4;
		break;
	case PROTO_FRAGMENT:
		if (!parse_has(fh, sizeof(*fh), end))
			return -PARSE_TRUNCATED;
		off = parse_ntohs(fh->frag_off);
		m->flags |= PKT_F_FRAG;
		if (off & IPV6_FRAG_OFF)
			m->flags |= PKT_F_FRAG_LATER;
		len = sizeof(*fh);
		break;
	default:
		return 0;
	}
	if (!parse_has(pos, len, end))
		return -PARSE_TRUNCATED;
	*nexthdr = oh->nexthdr;
	*posp = pos + len;
	m->ext_count++;
	m->flags |= PKT_F_IPV6_EXT;
	/* Past a later fragment's header lies payload, not headers. */
	if (m->flags & PKT_F_FRAG_LATER)
		return 0;
	return 1;
}

/* The fixed IPv6 header at pos; *nexthdr is the header after it. */
static __always_inline enum parse_status
parse_ipv6_fixed(const __u8 *start, const __u8 *pos, const __u8 *end,
		 struct pkt_meta *m, __u8 *nexthdr)
{
	const struct parse_ipv6_hdr *ip6h = (const void *)pos;

	if (!parse_has(ip6h, sizeof(*ip6h), end))
		return PARSE_TRUNCATED;
	if ((((const __u8 *)ip6h)[0] >> 4) != 6)
		return PARSE_BAD_L3;
	m->family = 6;
	m->l3_off = (__u16)(pos - start);
	m->l3_len = (__u32)sizeof(*ip6h) + parse_ntohs(ip6h->payload_len);
	__builtin_memcpy(m->saddr, ip6h->saddr, 16);
	__builtin_memcpy(m->daddr, ip6h->daddr, 16);
	if (parse_is_v4mapped(m->saddr) || parse_is_v4mapped(m->daddr))
		m->flags |= PKT_F_V4MAPPED;
	*nexthdr = ip6h->nexthdr;
	return PARSE_OK;
}

/*
 * The IPv6 header at pos and its extension headers. *l4 is where the
 * final header starts, NULL for a later fragment (which has none).
 */
static __always_inline enum parse_status
parse_ipv6_hdr(const __u8 *start, const __u8 *pos, const __u8 *end,
	       struct pkt_meta *m, const __u8 **l4)
{
	enum parse_status st;
	__u8 nexthdr = 0;
	int i, r = 1;

	*l4 = NULL;
	st = parse_ipv6_fixed(start, pos, end, m, &nexthdr);
	if (st != PARSE_OK)
		return st;
	pos += sizeof(struct parse_ipv6_hdr);

	for (i = 0; i < PARSE_IPV6_EXT_MAX; i++) {
		r = parse_ipv6_ext(&pos, end, &nexthdr, m);
		if (r <= 0)
			break;
	}
	if (r < 0)
		return (enum parse_status)-r;
	m->l4_proto = nexthdr;
	if (r > 0) {
		/* Walked the maximum: fine only if what follows is final. */
		if (nexthdr == PROTO_HOPOPTS || nexthdr == PROTO_ROUTING ||
		    nexthdr == PROTO_DSTOPTS || nexthdr == PROTO_AH ||
		    nexthdr == PROTO_FRAGMENT)
			return PARSE_TOO_MANY_EXT;
	}
	if (!(m->flags & PKT_F_FRAG_LATER))
		*l4 = pos;
	return PARSE_OK;
}

/*
 * Dispatch on an Ethernet type (network byte order, as on the wire),
 * stopping before the transport header (*l4, as parse_ipv4_hdr).
 */
static __always_inline enum parse_status
parse_ip_hdr(const __u8 *start, const __u8 *pos, const __u8 *end, __u16 proto,
	     struct pkt_meta *m, const __u8 **l4)
{
	*l4 = NULL;
	if (proto == parse_htons(ETH_P_IPV4))
		return parse_ipv4_hdr(start, pos, end, m, l4);
	if (proto == parse_htons(ETH_P_IPV6))
		return parse_ipv6_hdr(start, pos, end, m, l4);
	return PARSE_NOT_IP;
}

/* The same, through the transport header. */
static __always_inline enum parse_status
parse_ip(const __u8 *start, const __u8 *pos, const __u8 *end, __u16 proto,
	 struct pkt_meta *m)
{
	const __u8 *l4;
	enum parse_status st = parse_ip_hdr(start, pos, end, proto, m, &l4);

	if (st != PARSE_OK || !l4)
		return st;
	return parse_l4(start, l4, end, m);
}

/*
 * Ethernet and at most PARSE_VLAN_MAX VLAN tags: *proto is the Ethernet
 * type that follows (network byte order), *l3 where its header starts.
 */
static __always_inline enum parse_status
parse_eth(const __u8 *start, const __u8 *end, struct pkt_meta *m,
	  const __u8 **l3, __u16 *proto)
{
	const struct parse_eth_hdr *eth = (const void *)start;
	const struct parse_vlan_hdr *vh;
	const __u8 *pos = start;
	int i;

	if (!parse_has(eth, sizeof(*eth), end))
		return PARSE_TRUNCATED;
	*proto = eth->proto;
	pos += sizeof(*eth);

	for (i = 0; i < PARSE_VLAN_MAX; i++) {
		if (*proto != parse_htons(ETH_P_8021Q) &&
		    *proto != parse_htons(ETH_P_8021AD))
			break;
		vh = (const void *)pos;
		if (!parse_has(vh, sizeof(*vh), end))
			return PARSE_TRUNCATED;
		if (i == 0)
			m->vlan_outer = parse_ntohs(vh->tci) & 0x0FFF;
		else
			m->vlan_inner = parse_ntohs(vh->tci) & 0x0FFF;
		m->vlan_depth++;
		*proto = vh->proto;
		pos += sizeof(*vh);
	}
	if (*proto == parse_htons(ETH_P_8021Q) ||
	    *proto == parse_htons(ETH_P_8021AD))
		return PARSE_VLAN_DEPTH;
	*l3 = pos;
	return PARSE_OK;
}

/* Parse a frame that starts with an Ethernet header (XDP). */
static __always_inline enum parse_status
parse_l2(const void *data, const void *data_end, struct pkt_meta *m)
{
	const __u8 *start = data, *end = data_end, *l3 = data;
	enum parse_status st;
	__u16 proto = 0;

	__builtin_memset(m, 0, sizeof(*m));
	st = parse_eth(start, end, m, &l3, &proto);
	if (st != PARSE_OK)
		return st;
	return parse_ip(start, l3, end, proto, m);
}

/*
 * Parse a packet that starts at its IP header (cgroup_skb). family_proto is
 * the skb's protocol field, an Ethernet type in network byte order.
 */
static __always_inline enum parse_status
parse_l3(const void *data, const void *data_end, __u16 family_proto,
	 struct pkt_meta *m)
{
	__builtin_memset(m, 0, sizeof(*m));
	return parse_ip(data, data, data_end, family_proto, m);
}

/*
 * The packet an ICMP error quotes, at pos: its IP header (options and
 * extension headers walked as anywhere else) and its ports, which sit in
 * the first 8 bytes of the transport header every quote carries (RFC 792,
 * RFC 4443). The TCP flags byte is read only when the quote reaches it.
 * Returns 1, or a negative parse_status.
 */
static __always_inline int
parse_quote(const __u8 *start, const __u8 *pos, const __u8 *end, __u16 proto,
	    struct pkt_meta *q)
{
	const struct parse_udp_hdr *ports;
	const __u8 *l4;
	enum parse_status st;

	st = parse_ip_hdr(start, pos, end, proto, q, &l4);
	if (st != PARSE_OK)
		return -(int)st;
	if (!l4)
		return 1;	/* a later fragment: no ports, as at XDP */
	q->l4_off = (__u16)(l4 - start);
	if (q->l4_proto != PROTO_TCP && q->l4_proto != PROTO_UDP)
		return 1;
	ports = (const void *)l4;
	if (!parse_has(l4, 4, end))
		return -PARSE_TRUNCATED;
	q->sport = parse_ntohs(ports->sport);
	q->dport = parse_ntohs(ports->dport);
	if (q->l4_proto == PROTO_TCP && parse_has(l4, PARSE_TCP_FLAGS_OFF + 1, end))
		q->tcp_flags = l4[PARSE_TCP_FLAGS_OFF];
	return 1;
}

/* What parse_egress_l2() found. */
enum parse_egress {
	PARSE_EGRESS_OTHER = 0,		/* anything else, or outer headers that do not parse */
	PARSE_EGRESS_UNREACH = 1,	/* a destination unreachable, its quote in *q */
	PARSE_EGRESS_TCP = 2,		/* a TCP segment, ports and flags in *m */
};

/*
 * A frame leaving a serving interface, from its Ethernet header, as the tc
 * egress counter reads it. A destination unreachable: ICMP type 3 except
 * code 4 (fragmentation needed asks for a smaller packet and refuses
 * nothing), or ICMPv6 type 1 (packet too big is type 2 and never
 * matches); the outer packet goes into *m, the packet it quotes into *q.
 * A TCP segment (a reset the host sends, to be told apart by the caller):
 * its IP header and ports in *m. IPv6 only when ICMPv6 or TCP follows the
 * fixed header directly: the host sends its errors and resets with no
 * extension headers, and walking two chains (this one and the quote's)
 * would multiply the verifier's paths past its limit. Returns an
 * enum parse_egress, or a negative parse_status for an unreachable whose
 * quote cannot be read.
 */
static __always_inline int
parse_egress_l2(const void *data, const void *data_end, struct pkt_meta *m,
		struct pkt_meta *q)
{
	const __u8 *start = data, *end = data_end, *l3 = data, *l4 = NULL;
	const struct parse_icmp_hdr *ih;
	__u16 proto = 0;
	__u8 nexthdr = 0;

	__builtin_memset(m, 0, sizeof(*m));
	__builtin_memset(q, 0, sizeof(*q));
	if (parse_eth(start, end, m, &l3, &proto) != PARSE_OK)
		return PARSE_EGRESS_OTHER;
	if (proto == parse_htons(ETH_P_IPV4)) {
		if (parse_ipv4_hdr(start, l3, end, m, &l4) != PARSE_OK || !l4)
			return PARSE_EGRESS_OTHER;
	} else if (proto == parse_htons(ETH_P_IPV6)) {
		if (parse_ipv6_fixed(start, l3, end, m, &nexthdr) != PARSE_OK)
			return PARSE_EGRESS_OTHER;
		m->l4_proto = nexthdr;
		l4 = l3 + sizeof(struct parse_ipv6_hdr);
	} else {
		return PARSE_EGRESS_OTHER;
	}
	m->l4_off = (__u16)(l4 - start);
	if (m->l4_proto == PROTO_TCP)
		return parse_tcp(l4, end, m) == PARSE_OK ? PARSE_EGRESS_TCP : PARSE_EGRESS_OTHER;
	if (m->l4_proto != (m->family == 4 ? PROTO_ICMP : PROTO_ICMPV6))
		return PARSE_EGRESS_OTHER;
	ih = (const void *)l4;
	if (!parse_has(ih, sizeof(*ih), end))
		return PARSE_EGRESS_OTHER;
	if (m->family == 4 &&
	    (ih->type != ICMP_DEST_UNREACH || ih->code == ICMP_FRAG_NEEDED))
		return PARSE_EGRESS_OTHER;
	if (m->family == 6 && ih->type != ICMPV6_DEST_UNREACH)
		return PARSE_EGRESS_OTHER;
	return parse_quote(start, l4 + sizeof(*ih), end, proto, q);
}

/* The class a parsed packet is counted under. */
static __always_inline enum pkt_class
parse_class(enum parse_status st, const struct pkt_meta *m)
{
	int v6 = m->family == 6;

	if (st == PARSE_TRUNCATED)
		return PKT_CLASS_TRUNCATED;
	if (st == PARSE_NOT_IP)
		return PKT_CLASS_NON_IP;
	if (st != PARSE_OK)
		return PKT_CLASS_MALFORMED;
	if (m->flags & PKT_F_FRAG_LATER)
		return v6 ? PKT_CLASS_IPV6_FRAG : PKT_CLASS_IPV4_FRAG;
	if (m->l4_proto == PROTO_TCP)
		return v6 ? PKT_CLASS_IPV6_TCP : PKT_CLASS_IPV4_TCP;
	if (m->l4_proto == PROTO_UDP)
		return v6 ? PKT_CLASS_IPV6_UDP : PKT_CLASS_IPV4_UDP;
	return v6 ? PKT_CLASS_IPV6_OTHER : PKT_CLASS_IPV4_OTHER;
}

#endif /* CUSTOMS_PARSE_H */
