// SPDX-License-Identifier: BSD-2-Clause
/* Declarative packet builder and BPF_PROG_RUN wrappers; see pktbuild.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktbuild.h"
#include "parse.h"

static __u16 ip_csum(const void *p, size_t len)
{
	const __u8 *b = p;
	__u32 sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

static size_t l4_hdr_len(const struct pkt_spec *s)
{
	if (s->proto == PROTO_TCP)
		return sizeof(struct parse_tcp_hdr) + s->tcp_opt_len;
	if (s->proto == PROTO_UDP)
		return sizeof(struct parse_udp_hdr);
	return 0;
}

static bool v6_has_frag(const struct pkt_spec *s)
{
	int i;

	for (i = 0; i < s->n_ext; i++)
		if (s->ext[i] == PROTO_FRAGMENT)
			return true;
	return false;
}

static size_t ext_len(__u8 type)
{
	return type == PROTO_AH ? 12 : 8;
}

static size_t v6_ext_total(const struct pkt_spec *s)
{
	size_t n = 0;
	int i;

	for (i = 0; i < s->n_ext; i++)
		n += ext_len(s->ext[i]);
	if ((s->fragment || s->frag_offset || s->more_frags) && !v6_has_frag(s))
		n += 8;
	return n;
}

__u32 pkt_l3_len(const struct pkt_spec *s)
{
	size_t l4 = s->frag_offset ? 0 : l4_hdr_len(s);

	if (s->family == 4)
		return (__u32)(20 + s->ipv4_opt_len + l4 + s->payload_len);
	if (s->family == 6)
		return (__u32)(40 + v6_ext_total(s) + l4 + s->payload_len);
	return s->payload_len;
}

static __u8 *put_l4(const struct pkt_spec *s, __u8 *p)
{
	struct parse_tcp_hdr *th = (void *)p;
	struct parse_udp_hdr *uh = (void *)p;

	if (s->frag_offset)
		return p;
	if (s->proto == PROTO_TCP) {
		memset(th, 0, sizeof(*th) + s->tcp_opt_len);
		th->sport = htons(s->sport);
		th->dport = htons(s->dport);
		th->doff_res = (__u8)(((sizeof(*th) + s->tcp_opt_len) / 4) << 4);
		th->flags = s->tcp_flags;
		th->window = htons(65535);
		/* NOPs: valid options of any length. */
		memset(p + sizeof(*th), 1, s->tcp_opt_len);
		return p + sizeof(*th) + s->tcp_opt_len;
	}
	if (s->proto == PROTO_UDP) {
		uh->sport = htons(s->sport);
		uh->dport = htons(s->dport);
		uh->len = htons((__u16)(sizeof(*uh) + s->payload_len));
		uh->check = 0;
		return p + sizeof(*uh);
	}
	return p;
}

static int put_ipv4(const struct pkt_spec *s, __u8 *p, __u8 **next)
{
	struct parse_ipv4_hdr *iph = (void *)p;
	size_t hlen = 20 + s->ipv4_opt_len;
	__u16 frag = s->frag_offset & IPV4_OFFSET;

	memset(iph, 0, hlen);
	if (inet_pton(AF_INET, s->src, &iph->saddr) != 1 ||
	    inet_pton(AF_INET, s->dst, &iph->daddr) != 1)
		return -EINVAL;
	iph->ver_ihl = (__u8)(0x40 | (hlen / 4));
	iph->tot_len = htons((__u16)pkt_l3_len(s));
	iph->id = htons(0x1234);
	if (s->more_frags)
		frag |= IPV4_MF;
	iph->frag_off = htons(frag);
	iph->ttl = 64;
	iph->proto = s->proto;
	memset(p + 20, 1, s->ipv4_opt_len);	/* NOP options */
	iph->check = ip_csum(iph, hlen);
	*next = p + hlen;
	return 0;
}

static int put_ipv6(const struct pkt_spec *s, __u8 *p, __u8 **next)
{
	struct parse_ipv6_hdr *ip6h = (void *)p;
	__u8 types[PKT_EXT_MAX + 1];
	int n = s->n_ext, i;
	__u8 *q;

	memcpy(types, s->ext, (size_t)n);
	if ((s->fragment || s->frag_offset || s->more_frags) && !v6_has_frag(s))
		types[n++] = PROTO_FRAGMENT;
	memset(ip6h, 0, sizeof(*ip6h));
	ip6h->ver_tc_flow = htonl(0x60000000);
	ip6h->payload_len = htons((__u16)(pkt_l3_len(s) - 40));
	ip6h->nexthdr = n ? types[0] : s->proto;
	ip6h->hop_limit = 64;
	if (inet_pton(AF_INET6, s->src, ip6h->saddr) != 1 ||
	    inet_pton(AF_INET6, s->dst, ip6h->daddr) != 1)
		return -EINVAL;
	q = p + sizeof(*ip6h);
	for (i = 0; i < n; i++) {
		size_t len = ext_len(types[i]);

		memset(q, 0, len);
		q[0] = i + 1 < n ? types[i + 1] : s->proto;
		if (types[i] == PROTO_FRAGMENT) {
			struct parse_ipv6_frag_hdr *fh = (void *)q;

			fh->frag_off = htons((__u16)((s->frag_offset << 3) |
						     (s->more_frags ? 1 : 0)));
			fh->id = htonl(0xabcd);
		} else {
			q[1] = types[i] == PROTO_AH ? 1 : 0;
			if (types[i] != PROTO_AH)
				q[2] = 1;	/* PadN so the options parse */
		}
		q += len;
	}
	*next = q;
	return 0;
}

int pkt_build(const struct pkt_spec *s, void *buf, size_t cap)
{
	size_t need = 14 + 8 + pkt_l3_len(s);
	__u8 *p = buf, *l4;
	__u16 ethertype;
	int i, err;

	if (need > cap || need > PKT_MAX)
		return -E2BIG;
	if (s->n_ext > PKT_EXT_MAX - 1)
		return -EINVAL;
	ethertype = s->family == 4 ? 0x0800 : s->family == 6 ? 0x86DD : s->ethertype;
	if (!s->l3_only) {
		__u8 *last;	/* where the next ethertype goes */
		__u16 be;

		memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
		last = p + 12;
		p += sizeof(struct parse_eth_hdr);
		for (i = 0; i < 2 && s->vlan_tpid[i]; i++) {
			struct parse_vlan_hdr *vh = (void *)p;

			be = htons(s->vlan_tpid[i]);
			memcpy(last, &be, 2);
			vh->tci = htons(s->vlan_id[i]);
			last = p + 2;
			p += sizeof(*vh);
		}
		be = htons(ethertype);
		memcpy(last, &be, 2);
	}
	if (s->family == 4)
		err = put_ipv4(s, p, &l4);
	else if (s->family == 6)
		err = put_ipv6(s, p, &l4);
	else {
		l4 = p;
		err = 0;
	}
	if (err)
		return err;
	p = s->family ? put_l4(s, l4) : l4;
	for (i = 0; i < (int)s->payload_len; i++)
		p[i] = (__u8)i;
	return (int)(p + s->payload_len - (__u8 *)buf);
}

int pkt_run(int prog_fd, const void *pkt, size_t len, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt,
		.data_size_in = (__u32)len,
		.repeat = 1,
	);
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return -errno;
	*retval = opts.retval;
	return 0;
}

__u64 percpu_u64_sum(int map_fd, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals, sum = 0;
	int i;

	if (ncpu <= 0)
		return 0;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (bpf_map_lookup_elem(map_fd, &key, vals) == 0)
		for (i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}
