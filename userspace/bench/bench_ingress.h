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

/* Ethernet + IPv4 + UDP, padded to the minimum Ethernet frame. */
#define INGRESS_FRAME_LEN	60
/* The served endpoint every frame goes to: NETENV_V4_A, UDP port 9. */
#define INGRESS_PORT		9

double bench_median(double *v, int n);
/* "CC,CC,..." into country indexes; how many, or -EINVAL. */
int bench_parse_countries(const char *s, __u16 *out, int max);
/*
 * A UDP frame from 0.0.0.0 to the receiver's served endpoint; the
 * generator (or the feeder) fills in the source address.
 */
void ingress_template_frame(__u8 *f);
struct geo_table;

/* The table's IPv4 prefixes (the generator's sources, nftables' set). */
int ingress_prefixes_of(struct geo_table *t, struct ingress_prefix **out, size_t *n);
int ingress_env_setup(struct ingress_env *e);
int ingress_env_sources(struct ingress_env *e, const struct ingress_prefix *p, size_t n);
void ingress_env_teardown(struct ingress_env *e);
/*
 * One timed send: wall time per frame, and CPU time per frame spent by
 * this process (generator, veth and receiver all run in its context when
 * the receiving NAPI runs from the sender's softirq) and by all CPUs
 * (which includes other work on the machine).
 */
struct ingress_sample {
	double wall_ns, cpu_self_ns, cpu_all_ns;
};

/* Sends n frames; -EPIPE when the receiver did not get every one. */
int ingress_send(struct ingress_env *e, __u32 n, struct ingress_sample *s);
/* With n_deny 0 the set is empty (the memory baseline). */
int ingress_nft_load(struct ingress_env *e, const struct ingress_prefix *p, size_t n,
		     const __u16 *deny, int n_deny, size_t *elements);
void ingress_nft_unload(struct ingress_env *e);
struct dp;
/*
 * customs' data plane as the agent would load it with the whole table t:
 * one served endpoint (NETENV_V4_A, UDP INGRESS_PORT, tenant 1, model 1),
 * the deny countries denied at ingress, every other country allowed.
 */
int ingress_customs_open(struct dp **dp, const char *pins, struct geo_table *t,
			 const __u16 *deny, int n_deny);
/*
 * Loads customs on the receiver, sends, unloads; *bytes gets the kernel
 * memory of its maps (the live geo table included).
 */
int ingress_customs_round(struct ingress_env *e, struct geo_table *t, const __u16 *deny,
			  int n_deny, __u32 packets, struct ingress_sample *s,
			  long long *bytes);

/* The plain-XDP contenders: loaded once, attached per round. */
struct bench_xdp;
struct bpf_program;
struct bench_xdp *ingress_xdp_load(const struct ingress_prefix *p, size_t n,
				   const __u16 *deny, int n_deny);
int ingress_xdp_round(struct ingress_env *e, struct bpf_program *prog, __u32 packets,
		      struct ingress_sample *s);

#endif
