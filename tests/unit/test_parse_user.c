// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shared parser compiled for userspace, under ASan+UBSan: the L3 entry
 * point cgroup_skb programs use (data starts at the IP header), and every
 * truncation point including those below an Ethernet header, which
 * BPF_PROG_RUN cannot feed to an XDP program.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "testlib.h"
#include "pktbuild.h"
#include "parse.h"

/* Parses a heap copy of exactly len bytes, so ASan sees any over-read. */
static enum parse_status parse_copy(const __u8 *pkt, size_t len, bool l3,
				    __u16 proto_be, struct pkt_meta *m)
{
	__u8 *copy = malloc(len ? len : 1);
	enum parse_status st;

	assert_non_null(copy);
	memcpy(copy, pkt, len);
	st = l3 ? parse_l3(copy, copy + len, proto_be, m) :
		  parse_l2(copy, copy + len, m);
	free(copy);
	return st;
}

static void l3_entry_ipv4_tcp(void **state)
{
	struct pkt_spec s = { .l3_only = true, .family = 4, .src = "198.51.100.1",
			      .dst = "203.0.113.5", .proto = IPPROTO_TCP,
			      .sport = 1234, .dport = 8443, .tcp_flags = 0x12,
			      .payload_len = 77 };
	__u8 pkt[PKT_MAX];
	struct pkt_meta m;
	int len;

	(void)state;
	len = pkt_build(&s, pkt, sizeof(pkt));
	ASSERT_TRUE(len > 0, "build");
	ASSERT_EQ(parse_copy(pkt, (size_t)len, true, htons(0x0800), &m), PARSE_OK, "status");
	ASSERT_EQ(m.l3_off, 0, "l3_off");
	ASSERT_EQ(m.l4_off, 20, "l4_off");
	ASSERT_EQ(m.l3_len, (__u32)len, "l3_len equals the packet");
	ASSERT_EQ(m.dport, 8443, "dport");
	ASSERT_EQ(m.tcp_flags, 0x12, "flags");
	ASSERT_EQ(parse_class(PARSE_OK, &m), PKT_CLASS_IPV4_TCP, "class");
}

static void l3_entry_ipv6_udp(void **state)
{
	struct pkt_spec s = { .l3_only = true, .family = 6, .src = "2001:db8::7",
			      .dst = "2001:db8::8", .proto = IPPROTO_UDP,
			      .sport = 5, .dport = 53, .ext = { 0 }, .n_ext = 1,
			      .payload_len = 20 };
	__u8 pkt[PKT_MAX];
	struct pkt_meta m;
	int len;

	(void)state;
	len = pkt_build(&s, pkt, sizeof(pkt));
	ASSERT_TRUE(len > 0, "build");
	ASSERT_EQ(parse_copy(pkt, (size_t)len, true, htons(0x86DD), &m), PARSE_OK, "status");
	ASSERT_EQ(m.l4_off, 48, "l4_off after hop-by-hop");
	ASSERT_EQ(m.l3_len, (__u32)len, "l3_len");
	ASSERT_EQ(m.dport, 53, "dport");
	/* The skb protocol decides; an unknown one is not IP. */
	ASSERT_EQ(parse_copy(pkt, (size_t)len, true, htons(0x0806), &m), PARSE_NOT_IP,
		  "arp protocol");
}

static void truncated_everywhere(void **state)
{
	static const struct pkt_spec specs[] = {
		{ .family = 4, .src = "192.0.2.1", .dst = "192.0.2.2",
		  .proto = IPPROTO_TCP, .ipv4_opt_len = 4, .tcp_opt_len = 8,
		  .vlan_tpid = { 0x88A8, 0x8100 }, .payload_len = 3 },
		{ .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2",
		  .proto = IPPROTO_UDP, .ext = { 60, 44 }, .n_ext = 2,
		  .vlan_tpid = { 0x8100 }, .payload_len = 3 },
		{ .l3_only = true, .family = 4, .src = "192.0.2.1",
		  .dst = "192.0.2.2", .proto = IPPROTO_UDP, .payload_len = 3 },
		{ .l3_only = true, .family = 6, .src = "2001:db8::1",
		  .dst = "2001:db8::2", .proto = IPPROTO_TCP, .ext = { 51 },
		  .n_ext = 1, .payload_len = 3 },
	};
	static const int hdr_end[] = { 22 + 24 + 28, 18 + 40 + 16 + 8, 28, 40 + 12 + 20 };
	__u8 pkt[PKT_MAX];
	char what[64];
	struct pkt_meta m;
	size_t i;
	int len, cut;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		__u16 proto = htons(specs[i].family == 4 ? 0x0800 : 0x86DD);

		len = pkt_build(&specs[i], pkt, sizeof(pkt));
		ASSERT_TRUE(len > 0, "build");
		for (cut = 0; cut <= len; cut++) {
			enum parse_status want = cut < hdr_end[i] ? PARSE_TRUNCATED : PARSE_OK;

			snprintf(what, sizeof(what), "spec %zu cut at %d", i, cut);
			ASSERT_EQ(parse_copy(pkt, (size_t)cut, specs[i].l3_only, proto, &m),
				  want, what);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(l3_entry_ipv4_tcp),
		cmocka_unit_test(l3_entry_ipv6_udp),
		cmocka_unit_test(truncated_everywhere),
	};

	return cmocka_run_group_tests_name("unit/parse_user", tests, NULL, NULL);
}
