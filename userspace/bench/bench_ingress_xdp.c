// SPDX-License-Identifier: BSD-2-Clause
/*
 * The ingress benchmark's plain-XDP contenders (bpf/bench_xdp.bpf.c) on
 * cs-a, in native mode like customs: an empty program, the floor of any
 * XDP filter; and the usual eBPF geofence, a kernel LPM trie holding every
 * prefix of the database with a per-country counter and a deny list.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_ingress.h"
#include "bench_xdp.skel.h"

struct bench_xdp *ingress_xdp_load(const struct ingress_prefix *p, size_t n,
				   const __u16 *deny, int n_deny)
{
	struct bench_xdp *bx = bench_xdp__open();
	__u8 yes = 1;
	size_t i;
	int err;

	if (!bx)
		return NULL;
	err = bpf_map__set_max_entries(bx->maps.lpm_v4, n ? (__u32)n : 1) ?:
	      bench_xdp__load(bx);
	for (i = 0; !err && i < n; i++) {
		struct { __u32 prefixlen, addr; } k = { p[i].len, p[i].addr };

		if (bpf_map__update_elem(bx->maps.lpm_v4, &k, sizeof(k), &p[i].country,
					 sizeof(p[i].country), BPF_ANY))
			err = -errno;
	}
	for (i = 0; !err && i < (size_t)n_deny; i++) {
		__u32 k = deny[i];

		if (bpf_map__update_elem(bx->maps.country_deny, &k, sizeof(k), &yes,
					 sizeof(yes), BPF_ANY))
			err = -errno;
	}
	if (err) {
		bench_xdp__destroy(bx);
		errno = -err;
		return NULL;
	}
	return bx;
}

int ingress_xdp_round(struct ingress_env *e, struct bpf_program *prog, __u32 packets,
		      struct ingress_sample *s)
{
	int err, ifindex;

	err = netenv_enter(&e->env, 0);
	if (err)
		return err;
	ifindex = (int)if_nametoindex(NETENV_IF_A);
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), XDP_FLAGS_DRV_MODE, NULL) ? -errno : 0;
	netenv_enter(&e->env, -1);
	if (err)
		return err;
	err = ingress_send(e, packets, s);
	if (!netenv_enter(&e->env, 0)) {
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		netenv_enter(&e->env, -1);
	}
	return err;
}
