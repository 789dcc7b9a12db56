/* SPDX-License-Identifier: BSD-2-Clause */
/* The ingress benchmark's parts, shared with the contenders' set-up. */
#ifndef CUSTOMS_BENCH_INGRESS_H
#define CUSTOMS_BENCH_INGRESS_H

#include <stddef.h>
#include <linux/types.h>

#include "netenv.h"

struct ingress_prefix {
	__u32 addr;		/* network byte order */
	__u8 len;
	__u16 country;
};

struct ingress_env {
	struct netenv env;
	struct pktgen *gen;
	size_t n_prefixes;
};

double bench_median(double *v, int n);
struct geo_table;

/* The table's IPv4 prefixes (the generator's sources, nftables' set). */
int ingress_prefixes_of(struct geo_table *t, struct ingress_prefix **out, size_t *n);
int ingress_env_setup(struct ingress_env *e);
int ingress_env_sources(struct ingress_env *e, const struct ingress_prefix *p, size_t n);
void ingress_env_teardown(struct ingress_env *e);
double ingress_send(struct ingress_env *e, __u32 n);
int ingress_nft_load(struct ingress_env *e, const struct ingress_prefix *p, size_t n,
		     const __u16 *deny, int n_deny, size_t *elements);
void ingress_nft_unload(struct ingress_env *e);
/* Loads customs on the receiver, sends, unloads; ns per packet or -errno. */
double ingress_customs_round(struct ingress_env *e, struct geo_table *t,
			     const __u16 *deny, int n_deny, __u32 packets);

#endif
