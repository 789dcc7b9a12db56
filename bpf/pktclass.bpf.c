// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The parser probe: an XDP program that runs the shared parser on every
 * frame, counts it by L3/L4 class and by parse status, and passes it. It
 * proves the chain build -> load -> BPF_PROG_RUN -> map read, and lets the
 * tests see exactly what the parser made of a frame (last_meta).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PKT_CLASS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} class_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PARSE_STATUS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} status_count SEC(".maps");

/* What the parser made of the last frame; read by tests through .bss. */
struct pkt_meta last_meta;
__u32 last_status;
__u32 last_class;

static __always_inline void count(void *map, __u32 key)
{
	__u64 *n = bpf_map_lookup_elem(map, &key);

	if (n)
		*n += 1;
}

SEC("xdp")
int xdp_pktclass(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_meta m;
	enum parse_status st;
	enum pkt_class cls;

	st = parse_l2(data, data_end, &m);
	cls = parse_class(st, &m);
	count(&class_count, cls);
	count(&status_count, st);
	last_meta = m;
	last_status = st;
	last_class = cls;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
