// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shared packet parser, run in the kernel through the pktclass XDP
 * probe with BPF_PROG_RUN: every header variant, every truncation point,
 * non-IP and malformed lengths, with the parser's exact view (offsets,
 * ports, flags) read back from the program's globals and its class counts
 * from the per-CPU map.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "testlib.h"
#include "pktbuild.h"
#include "parse.h"
#include "pktclass.skel.h"

struct fixture {
	struct pktclass *skel;
	__u8 pkt[PKT_MAX];
	int len;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	*state = &f;
	if (!test_have_bpf())
		return 0;
	f.skel = pktclass__open_and_load();
	return f.skel ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pktclass__destroy(f->skel);
	f->skel = NULL;
	return 0;
}

/* Builds s, runs it, asserts XDP_PASS; returns the parser's status. */
static __u32 run_spec(struct fixture *f, const struct pkt_spec *s)
{
	__u32 ret = 0;

	f->len = pkt_build(s, f->pkt, sizeof(f->pkt));
	ASSERT_TRUE(f->len > 0, "pkt_build");
	ASSERT_OK(pkt_run(bpf_program__fd(f->skel->progs.xdp_pktclass), f->pkt,
			  (size_t)f->len, &ret), "prog_run");
	ASSERT_EQ(ret, XDP_PASS, "xdp verdict");
	return f->skel->bss->last_status;
}

static __u32 run_raw(struct fixture *f, int len)
{
	__u32 ret = 0;

	ASSERT_OK(pkt_run(bpf_program__fd(f->skel->progs.xdp_pktclass), f->pkt,
			  (size_t)len, &ret), "prog_run raw");
	ASSERT_EQ(ret, XDP_PASS, "xdp verdict");
	return f->skel->bss->last_status;
}

#define META(f) (&(f)->skel->bss->last_meta)
#define CLASS(f) ((f)->skel->bss->last_class)

static void ipv4_tcp_fields(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 4, .src = "198.51.100.7",
			      .dst = "203.0.113.9", .proto = IPPROTO_TCP,
			      .sport = 40000, .dport = 443, .tcp_flags = 0x02,
			      .payload_len = 100 };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV4_TCP, "class");
	ASSERT_EQ(META(f)->family, 4, "family");
	ASSERT_EQ(META(f)->l3_off, 14, "l3_off");
	ASSERT_EQ(META(f)->l4_off, 34, "l4_off");
	ASSERT_EQ(META(f)->l3_len, 20 + 20 + 100, "l3_len");
	ASSERT_EQ(META(f)->sport, 40000, "sport");
	ASSERT_EQ(META(f)->dport, 443, "dport");
	ASSERT_EQ(META(f)->tcp_flags, 0x02, "tcp_flags");
	ASSERT_EQ(META(f)->saddr[0], htonl(0xC6336407), "saddr");
	ASSERT_EQ(META(f)->daddr[0], htonl(0xCB007109), "daddr");
	ASSERT_EQ(META(f)->flags, 0, "flags");
	ASSERT_EQ(META(f)->vlan_depth, 0, "vlan_depth");
}

static void ipv4_udp_and_other(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1", .dst = "192.0.2.2",
			      .proto = IPPROTO_UDP, .sport = 53, .dport = 5353,
			      .payload_len = 12 };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "udp status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV4_UDP, "udp class");
	ASSERT_EQ(META(f)->sport, 53, "udp sport");
	ASSERT_EQ(META(f)->dport, 5353, "udp dport");
	s.proto = IPPROTO_ICMP;
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "icmp status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV4_OTHER, "icmp class");
	ASSERT_EQ(META(f)->l4_off, 34, "icmp l4_off");
	ASSERT_EQ(META(f)->sport, 0, "icmp has no ports");
}

static void ipv4_options(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1", .dst = "192.0.2.2",
			      .proto = IPPROTO_TCP, .sport = 1, .dport = 2,
			      .ipv4_opt_len = 40, .tcp_opt_len = 40 };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "status");
	ASSERT_EQ(META(f)->l4_off, 14 + 60, "l4_off after 40 option bytes");
	ASSERT_EQ(META(f)->flags, PKT_F_IPV4_OPTIONS, "flags");
	ASSERT_EQ(META(f)->dport, 2, "dport");
	ASSERT_EQ(META(f)->l3_len, 60 + 60, "l3_len");
}

static void ipv4_fragments(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1", .dst = "192.0.2.2",
			      .proto = IPPROTO_UDP, .sport = 7, .dport = 9,
			      .more_frags = true, .payload_len = 64 };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "first fragment status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV4_UDP, "first fragment class");
	ASSERT_EQ(META(f)->flags, PKT_F_FRAG, "first fragment flags");
	ASSERT_EQ(META(f)->dport, 9, "first fragment dport");

	s.frag_offset = 9;
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "middle fragment status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV4_FRAG, "middle fragment class");
	ASSERT_EQ(META(f)->flags, PKT_F_FRAG | PKT_F_FRAG_LATER, "middle flags");
	ASSERT_EQ(META(f)->l4_off, 0, "later fragment has no l4");
	ASSERT_EQ(META(f)->dport, 0, "later fragment has no ports");
	ASSERT_EQ(META(f)->daddr[0], htonl(0xC0000202), "later fragment daddr");

	s.more_frags = false;
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "last fragment status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV4_FRAG, "last fragment class");
}

static void vlan_tags(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1", .dst = "192.0.2.2",
			      .proto = IPPROTO_TCP, .sport = 1, .dport = 80,
			      .vlan_tpid = { 0x8100 }, .vlan_id = { 100 } };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "802.1Q status");
	ASSERT_EQ(META(f)->vlan_depth, 1, "802.1Q depth");
	ASSERT_EQ(META(f)->vlan_outer, 100, "802.1Q id");
	ASSERT_EQ(META(f)->l3_off, 18, "802.1Q l3_off");
	ASSERT_EQ(META(f)->dport, 80, "802.1Q dport");

	s.vlan_tpid[0] = 0x88A8;
	s.vlan_tpid[1] = 0x8100;
	s.vlan_id[0] = 7;
	s.vlan_id[1] = 4094;
	s.family = 6;
	s.src = "2001:db8::1";
	s.dst = "2001:db8::2";
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "QinQ status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV6_TCP, "QinQ class");
	ASSERT_EQ(META(f)->vlan_depth, 2, "QinQ depth");
	ASSERT_EQ(META(f)->vlan_outer, 7, "QinQ outer id");
	ASSERT_EQ(META(f)->vlan_inner, 4094, "QinQ inner id");
	ASSERT_EQ(META(f)->l3_off, 22, "QinQ l3_off");
	ASSERT_EQ(META(f)->l4_off, 62, "QinQ l4_off");
}

static void vlan_too_deep(void **state)
{
	struct fixture *f = *state;
	/* Two tags, then a third 802.1Q ethertype: deeper than we walk. */
	struct pkt_spec s = { .family = 0, .ethertype = 0x8100,
			      .vlan_tpid = { 0x88A8, 0x8100 }, .vlan_id = { 1, 2 },
			      .payload_len = 60 };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_VLAN_DEPTH, "status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_MALFORMED, "class");
}

static void non_ip(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 0, .ethertype = ETH_P_ARP, .payload_len = 28 };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_NOT_IP, "arp status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_NON_IP, "arp class");
	s.vlan_tpid[0] = 0x8100;
	s.ethertype = ETH_P_LOOPBACK;
	ASSERT_EQ(run_spec(f, &s), PARSE_NOT_IP, "tagged non-ip status");
	ASSERT_EQ(META(f)->vlan_depth, 1, "tagged non-ip depth");
}

static void ipv6_plain(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 6, .src = "2001:db8:1::5", .dst = "2001:db8:2::9",
			      .proto = IPPROTO_UDP, .sport = 4433, .dport = 443,
			      .payload_len = 1200 };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "udp status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV6_UDP, "udp class");
	ASSERT_EQ(META(f)->l3_len, 40 + 8 + 1200, "l3_len");
	ASSERT_EQ(META(f)->l4_off, 54, "l4_off");
	ASSERT_EQ(META(f)->saddr[0], htonl(0x20010db8), "saddr word 0");
	ASSERT_EQ(META(f)->saddr[1], htonl(0x00010000), "saddr word 1");
	ASSERT_EQ(META(f)->saddr[3], htonl(5), "saddr word 3");
	ASSERT_EQ(META(f)->ext_count, 0, "no ext");
	s.proto = IPPROTO_ICMPV6;
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "icmpv6 status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV6_OTHER, "icmpv6 class");
	s.proto = 59;	/* no next header */
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "no-next status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV6_OTHER, "no-next class");
}

static void ipv6_each_extension(void **state)
{
	struct fixture *f = *state;
	static const __u8 types[] = { 0, 43, 60, 51, 44 };
	static const int lens[] = { 8, 8, 8, 12, 8 };
	struct pkt_spec s = { .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2",
			      .proto = IPPROTO_TCP, .sport = 5, .dport = 6 };
	size_t i;

	test_need_bpf();
	for (i = 0; i < sizeof(types); i++) {
		s.ext[0] = types[i];
		s.n_ext = 1;
		ASSERT_EQ(run_spec(f, &s), PARSE_OK, "ext status");
		ASSERT_EQ(CLASS(f), PKT_CLASS_IPV6_TCP, "ext class");
		ASSERT_EQ(META(f)->ext_count, 1, "ext count");
		ASSERT_EQ(META(f)->l4_off, 54 + lens[i], "ext l4_off");
		ASSERT_EQ(META(f)->dport, 6, "ext dport");
		ASSERT_TRUE(META(f)->flags & PKT_F_IPV6_EXT, "ext flag");
	}
	/* The usual order, all at once: 8+8+12+8+8 bytes. */
	memcpy(s.ext, (__u8[]){ 0, 60, 43, 51, 44 }, 5);
	s.n_ext = 5;
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "chain status");
	ASSERT_EQ(META(f)->ext_count, 5, "chain count");
	ASSERT_EQ(META(f)->l4_off, 54 + 44, "chain l4_off");
	ASSERT_EQ(META(f)->flags, PKT_F_IPV6_EXT | PKT_F_FRAG, "chain flags");
}

static void ipv6_fragments(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2",
			      .proto = IPPROTO_UDP, .sport = 5, .dport = 6,
			      .more_frags = true, .payload_len = 32 };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "first status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV6_UDP, "first class");
	ASSERT_EQ(META(f)->dport, 6, "first dport");
	s.frag_offset = 100;
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "later status");
	ASSERT_EQ(CLASS(f), PKT_CLASS_IPV6_FRAG, "later class");
	ASSERT_EQ(META(f)->flags, PKT_F_FRAG | PKT_F_FRAG_LATER | PKT_F_IPV6_EXT,
		  "later flags");
	ASSERT_EQ(META(f)->l4_off, 0, "later has no l4");
	ASSERT_EQ(META(f)->l4_proto, IPPROTO_UDP, "later keeps next header");
}

static void ipv6_extension_limit(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2",
			      .proto = IPPROTO_TCP, .sport = 5, .dport = 6 };

	test_need_bpf();
	memset(s.ext, 60, sizeof(s.ext));
	s.n_ext = PARSE_IPV6_EXT_MAX;
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "exactly the maximum");
	ASSERT_EQ(META(f)->ext_count, PARSE_IPV6_EXT_MAX, "walked all");
	ASSERT_EQ(META(f)->dport, 6, "dport after max chain");
	s.n_ext = PARSE_IPV6_EXT_MAX + 1;
	ASSERT_EQ(run_spec(f, &s), PARSE_TOO_MANY_EXT, "one more");
	ASSERT_EQ(CLASS(f), PKT_CLASS_MALFORMED, "too many class");
}

static void ipv6_v4mapped(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 6, .src = "::ffff:198.51.100.1",
			      .dst = "2001:db8::2", .proto = IPPROTO_TCP,
			      .sport = 5, .dport = 6 };

	test_need_bpf();
	ASSERT_EQ(run_spec(f, &s), PARSE_OK, "status");
	ASSERT_TRUE(META(f)->flags & PKT_F_V4MAPPED, "v4mapped flag");
	ASSERT_EQ(META(f)->saddr[3], htonl(0xC6336401), "embedded v4");
}

static void malformed_lengths(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1", .dst = "192.0.2.2",
			      .proto = IPPROTO_TCP, .sport = 1, .dport = 2,
			      .payload_len = 20 };

	test_need_bpf();
	run_spec(f, &s);
	f->pkt[14] = 0x44;	/* IHL 4: 16 bytes, below the minimum */
	ASSERT_EQ(run_raw(f, f->len), PARSE_BAD_L3, "ihl < 5");
	f->pkt[14] = 0x65;	/* version 6 behind an IPv4 ethertype */
	ASSERT_EQ(run_raw(f, f->len), PARSE_BAD_L3, "version mismatch");
	f->pkt[14] = 0x45;
	f->pkt[16] = 0;
	f->pkt[17] = 19;	/* total length below the header length */
	ASSERT_EQ(run_raw(f, f->len), PARSE_BAD_L3, "tot_len < ihl");
	ASSERT_EQ(CLASS(f), PKT_CLASS_MALFORMED, "bad l3 class");
	f->pkt[17] = 0;		/* tot_len 0: a GSO super-packet, accepted */
	ASSERT_EQ(run_raw(f, f->len), PARSE_OK, "tot_len 0");
	f->pkt[34 + 12] = 0x40;	/* TCP data offset 4 */
	ASSERT_EQ(run_raw(f, f->len), PARSE_BAD_L4, "doff < 5");
	f->pkt[34 + 12] = 0xF0;	/* 60 bytes of header in a 40-byte segment */
	ASSERT_EQ(run_raw(f, f->len), PARSE_TRUNCATED, "doff past end");

	s.family = 6;
	s.src = "2001:db8::1";
	s.dst = "2001:db8::2";
	run_spec(f, &s);
	f->pkt[14] = 0x45;	/* version 4 behind an IPv6 ethertype */
	ASSERT_EQ(run_raw(f, f->len), PARSE_BAD_L3, "v6 version mismatch");
}

/*
 * Cuts a packet at every length from the Ethernet header on: below the end
 * of the headers the parser reads it must say TRUNCATED, from there on OK.
 */
static void check_truncations(struct fixture *f, const struct pkt_spec *s,
			      int hdr_end, const char *label)
{
	char what[96];
	int cut;

	ASSERT_EQ(run_spec(f, s), PARSE_OK, label);
	for (cut = 14; cut <= f->len; cut++) {
		__u32 want = cut < hdr_end ? PARSE_TRUNCATED : PARSE_OK;

		snprintf(what, sizeof(what), "%s cut at %d", label, cut);
		ASSERT_EQ(run_raw(f, cut), want, what);
		ASSERT_EQ(CLASS(f), want == PARSE_OK ? (__u32)parse_class(PARSE_OK, META(f))
						    : PKT_CLASS_TRUNCATED, what);
	}
}

static void every_truncation_point(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec v4 = { .family = 4, .src = "192.0.2.1", .dst = "192.0.2.2",
			       .proto = IPPROTO_TCP, .sport = 1, .dport = 2,
			       .ipv4_opt_len = 8, .tcp_opt_len = 12,
			       .vlan_tpid = { 0x8100 }, .payload_len = 10 };
	struct pkt_spec v4u = { .family = 4, .src = "192.0.2.1", .dst = "192.0.2.2",
				.proto = IPPROTO_UDP, .sport = 1, .dport = 2,
				.vlan_tpid = { 0x88A8, 0x8100 }, .payload_len = 10 };
	struct pkt_spec v6 = { .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2",
			       .proto = IPPROTO_TCP, .sport = 1, .dport = 2,
			       .ext = { 0, 43, 51, 44, 60 }, .n_ext = 5,
			       .payload_len = 10 };
	struct pkt_spec v6u = { .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2",
				.proto = IPPROTO_UDP, .sport = 1, .dport = 2,
				.payload_len = 10 };

	test_need_bpf();
	check_truncations(f, &v4, 18 + 28 + 32, "vlan ipv4 options tcp options");
	check_truncations(f, &v4u, 22 + 20 + 8, "qinq ipv4 udp");
	check_truncations(f, &v6, 14 + 40 + 44 + 20, "ipv6 ext chain tcp");
	check_truncations(f, &v6u, 14 + 40 + 8, "ipv6 udp");
}

static void class_counters(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec tcp = { .family = 4, .src = "192.0.2.1", .dst = "192.0.2.2",
				.proto = IPPROTO_TCP, .sport = 1, .dport = 2 };
	struct pkt_spec arp = { .family = 0, .ethertype = ETH_P_ARP, .payload_len = 28 };
	int map = bpf_map__fd(f->skel->maps.class_count);
	int smap = bpf_map__fd(f->skel->maps.status_count);
	__u64 tcp0, arp0, ok0;
	int i;

	test_need_bpf();
	tcp0 = percpu_u64_sum(map, PKT_CLASS_IPV4_TCP);
	arp0 = percpu_u64_sum(map, PKT_CLASS_NON_IP);
	ok0 = percpu_u64_sum(smap, PARSE_OK);
	for (i = 0; i < 5; i++)
		run_spec(f, &tcp);
	for (i = 0; i < 3; i++)
		run_spec(f, &arp);
	ASSERT_EQ(percpu_u64_sum(map, PKT_CLASS_IPV4_TCP) - tcp0, 5, "tcp count");
	ASSERT_EQ(percpu_u64_sum(map, PKT_CLASS_NON_IP) - arp0, 3, "non-ip count");
	ASSERT_EQ(percpu_u64_sum(smap, PARSE_OK) - ok0, 5, "ok status count");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_tcp_fields),
		cmocka_unit_test(ipv4_udp_and_other),
		cmocka_unit_test(ipv4_options),
		cmocka_unit_test(ipv4_fragments),
		cmocka_unit_test(vlan_tags),
		cmocka_unit_test(vlan_too_deep),
		cmocka_unit_test(non_ip),
		cmocka_unit_test(ipv6_plain),
		cmocka_unit_test(ipv6_each_extension),
		cmocka_unit_test(ipv6_fragments),
		cmocka_unit_test(ipv6_extension_limit),
		cmocka_unit_test(ipv6_v4mapped),
		cmocka_unit_test(malformed_lengths),
		cmocka_unit_test(every_truncation_point),
		cmocka_unit_test(class_counters),
	};

	return cmocka_run_group_tests_name("bpf/parse", tests, setup, teardown);
}
