// SPDX-License-Identifier: BSD-2-Clause
/* The customs contender of the ingress benchmark: data plane XDP on cs-a. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_ingress.h"
#include "bench_kmem.h"
#include "dataplane.h"
#include "geo.h"
#include "parse.h"
#include "dataplane.skel.h"

static int fill_geo(struct dp *dp, struct geo_table *t)
{
	struct geo_maps maps = GEO_MAPS(dp_skeleton(dp));

	return geo_kernel_install(&maps, t);
}

int ingress_customs_open(struct dp **dp, const char *pins, struct geo_table *t,
			 const __u16 *deny, int n_deny)
{
	struct dp_config cfg = { .pin_dir = pins, .models = 1 };
	struct endpoint_key ep = { .port = INGRESS_PORT, .proto = IPPROTO_UDP, .family = 4 };
	struct tenant_info who = { 1, 1 };
	struct access_row row;
	int i;

	memset(&row, VERDICT_ALLOW, sizeof(row));
	for (i = 0; i < n_deny; i++)
		row.verdict[deny[i]] = VERDICT_DENY;
	inet_pton(AF_INET, NETENV_V4_A, &ep.addr[0]);
	return dp_open(dp, &cfg) ?: fill_geo(*dp, t) ?:
	       dp_set_access_row(*dp, 1, DIR_INGRESS, &row) ?: dp_set_endpoint(*dp, &ep, &who);
}

/* Every map of the data plane plus the live geo table (an inner map). */
static long long customs_bytes(struct dp *dp)
{
	struct dataplane *skel = dp_skeleton(dp);
	long long sum = kmem_object_bytes(skel->obj), inner;
	__u32 zero = 0, id = 0;

	if (sum < 0)
		return sum;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.geo_live), &zero, &id))
		return -errno;
	inner = kmem_map_id_bytes(id);
	return inner < 0 ? inner : sum + inner;
}

int ingress_customs_round(struct ingress_env *e, struct geo_table *t, const __u16 *deny,
			  int n_deny, __u32 packets, struct ingress_sample *s,
			  long long *bytes)
{
	char pins[96];
	struct dp *dp = NULL;
	int err;

	snprintf(pins, sizeof(pins), "/sys/fs/bpf/customs-bench-ingress-%d", (int)getpid());
	dp_detach_all(pins);
	err = ingress_customs_open(&dp, pins, t, deny, n_deny);
	if (!err) {
		err = netenv_enter(&e->env, 0);
		if (!err)
			err = dp_attach_xdp(dp, NETENV_IF_A, DP_XDP_NATIVE);
		netenv_enter(&e->env, -1);
	}
	if (!err)
		*bytes = customs_bytes(dp);
	if (!err)
		err = ingress_send(e, packets, s);
	dp_close(dp);
	dp_detach_all(pins);
	return err;
}
