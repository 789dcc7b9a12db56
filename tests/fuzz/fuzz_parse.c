// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target for the shared packet parser (bpf/include/parse.h), compiled
 * for userspace under ASan+UBSan: any read past the end pointer is a crash.
 * The first input byte picks the entry point (L2 as XDP, or L3 as
 * cgroup_skb with an IPv4 or IPv6 protocol); the rest is the packet. An L2
 * frame also goes through parse_egress_l2, as the tc egress counter reads
 * it, quote included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_meta m, outer, quote;
	enum parse_status st;
	int r;
	__u8 *pkt;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	/* An exact-size heap copy, so ASan catches a one-byte over-read. */
	pkt = malloc(len ? len : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data + 1, len);
	switch (data[0] % 3) {
	case 0:
		st = parse_l2(pkt, pkt + len, &m);
		r = parse_egress_l2(pkt, pkt + len, &outer, &quote);
		if (r < -(int)PARSE_STATUS_MAX || r > PARSE_EGRESS_TCP)
			abort();
		if (r == PARSE_EGRESS_UNREACH &&
		    (outer.l4_off > len || quote.l3_off > len || quote.l4_off > len ||
		     quote.l3_off <= outer.l4_off))
			abort();
		if (r == PARSE_EGRESS_TCP && (outer.l4_off + 20u > len || outer.l4_proto != 6))
			abort();
		break;
	case 1:
		st = parse_l3(pkt, pkt + len, parse_htons(ETH_P_IPV4), &m);
		break;
	default:
		st = parse_l3(pkt, pkt + len, parse_htons(ETH_P_IPV6), &m);
		break;
	}
	/* What the parser reports must lie inside the packet. */
	if (st == PARSE_OK && (m.l3_off > len || m.l4_off > len))
		abort();
	if (parse_class(st, &m) >= PKT_CLASS_MAX)
		abort();
	free(pkt);
	return 0;
}
