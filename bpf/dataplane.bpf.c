// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The customs data plane: one entry per hook, all sharing the same maps
 * and the same judge-and-count step.
 *
 *   xdp_ingress       serving interfaces: endpoint -> tenant/model, source
 *                     country, verdict; deny = XDP_DROP
 *   skb_ingress/egress cgroup_skb: tenant from the nearest listed ancestor
 *                     cgroup; ingress judges the source country, egress the
 *                     destination; deny = drop
 *   connect4/6, sendmsg4/6  refuse a denied destination with EPERM before
 *                     any packet exists (v4-mapped IPv6 is IPv4)
 *   sockops_outcomes  established TCP connections, for service levels
 *   tc_unreach_egress serving interfaces, tcx egress: destination
 *                     unreachables and TCP resets to an attempt the host
 *                     sends about a served endpoint (the served side
 *                     refusing a client); counts only, never changes
 *                     traffic
 *
 * Bytes are L3 bytes (IP header + payload) at every layer: the IP header's
 * length at XDP (multi-buffer frames included), skb->len at cgroup_skb
 * (GSO super-packets whole).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "customs_abi.h"
#include "parse.h"
#include "geo.h"
#include "stats.h"
#include "meter.h"
#include "events.h"
#include "access.h"
#include "query.h"

#define TCP_FLAG_RST	0x04
#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_ACK	0x10

/* Sample the first packet of served TCP flows as EVENT_NEW_FLOW. */
const volatile bool sample_new_flows = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);	/* set from configuration */
	__type(key, struct meter_key);
	__type(value, struct tcp_outcome);
} tcp_outcomes SEC(".maps");

static __always_inline __u16 country_of(const struct pkt_meta *m, bool source)
{
	const __u32 *a = source ? m->saddr : m->daddr;

	if (m->family == 4)
		return geo_lookup_v4(a[0]);
	return geo_lookup_v6(a);
}

/*
 * The one step every hook shares: verdict, counter, event. A packet of a
 * source prefix the query-pattern detectors denied is judged deny whatever
 * the matrix says, and counted like any other denial.
 */
static __always_inline enum verdict
judge_as(const struct tenant_info *who, __u16 country, enum direction dir,
	 enum layer layer, const struct pkt_meta *m, __u64 bytes, bool denied)
{
	struct meter_key key = {};
	enum verdict v;

	v = denied ? VERDICT_DENY : access_verdict(who->model, dir, country);
	key.tenant = who->tenant;
	key.model = who->model;
	key.country = country;
	key.direction = dir;
	key.layer = layer;
	key.verdict = v;
	meter_add(&key, bytes);
	if (v == VERDICT_DENY)
		event_emit(EVENT_DENY, layer, dir, v, who, country, m);
	else if (v == VERDICT_AUDIT)
		event_emit(EVENT_AUDIT, layer, dir, v, who, country, m);
	return v;
}

static __always_inline enum verdict
judge(const struct tenant_info *who, __u16 country, enum direction dir,
      enum layer layer, const struct pkt_meta *m, __u64 bytes)
{
	return judge_as(who, country, dir, layer, m, bytes, false);
}

_Static_assert(BPF_TCX_EGRESS == ABI_BPF_TCX_EGRESS, "tcx attach type number");
_Static_assert(BPF_LINK_TYPE_TCX == ABI_BPF_LINK_TYPE_TCX, "tcx link type number");

/* Fields of struct tcp_outcome, combined so one lookup counts several. */
enum tcp_outcome_field {
	OUTCOME_ATTEMPT = 1 << 0,
	OUTCOME_ESTABLISHED = 1 << 1,
	OUTCOME_RESET_SENT = 1 << 2,
	OUTCOME_ATTEMPT_REFUSED = 1 << 3,
	OUTCOME_UNREACH_SENT = 1 << 4,
	OUTCOME_ATTEMPT_RESET = 1 << 5,
};

static __always_inline void tcp_count(const struct tenant_info *who,
				      __u16 country, enum direction dir,
				      __u32 what)
{
	struct meter_key key = {};
	struct tcp_outcome init = {}, *o;

	key.tenant = who->tenant;
	key.model = who->model;
	key.country = country;
	key.direction = dir;
	o = bpf_map_lookup_elem(&tcp_outcomes, &key);
	if (!o) {
		if (bpf_map_update_elem(&tcp_outcomes, &key, &init, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&tcp_outcomes, &key)) {
			stat_inc(STAT_TCP_OVERFLOW);
			return;
		}
		o = bpf_map_lookup_elem(&tcp_outcomes, &key);
		if (!o)
			return;
	}
	if (what & OUTCOME_ATTEMPT)
		o->attempts++;
	if (what & OUTCOME_ESTABLISHED)
		o->established++;
	if (what & OUTCOME_RESET_SENT)
		o->resets_sent++;
	if (what & OUTCOME_ATTEMPT_REFUSED)
		o->attempts_refused++;
	if (what & OUTCOME_UNREACH_SENT)
		o->unreach_sent++;
	if (what & OUTCOME_ATTEMPT_RESET)
		o->attempts_reset++;
}

/*
 * True when a full SOCK_STREAM socket sends the segment: a socket's own
 * reset. The resets the host sends for no connection of a socket (nothing
 * listens on the port, a TIME_WAIT or request socket) leave from a TCP
 * control socket (SOCK_RAW) or, for IPv6 and nftables' reject, from none.
 * Since Linux 6.0 that control socket is one per CPU, made at boot;
 * before, one per namespace, in the cgroup of the namespace's creator,
 * which can be a tenant's: cgroup_skb egress would then see the host's
 * resets too, so it counts only a socket's own.
 */
static __always_inline bool from_tcp_socket(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return false;
	sk = bpf_sk_fullsock(sk);
	return sk && sk->type == SOCK_STREAM;
}

static __always_inline bool is_syn(const struct pkt_meta *m)
{
	return m->l4_proto == PROTO_TCP &&
	       (m->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
}

SEC("xdp.frags")
int xdp_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct tenant_info *who;
	struct tenant_info served;
	struct pkt_meta m;
	enum parse_status st;
	enum verdict v;
	__u16 country;

	st = parse_l2(data, data_end, &m);
	if (st != PARSE_OK) {
		if (st != PARSE_NOT_IP)
			stat_inc(STAT_PARSE_ERROR);
		return XDP_PASS;
	}
	who = endpoint_lookup_cached(&m, &served);
	if (!who)
		return XDP_PASS;
	country = country_of(&m, true);
	v = judge_as(who, country, DIR_INGRESS, LAYER_XDP, &m, m.l3_len,
		     query_denied(who->model, &m));
	if (v != VERDICT_DENY)
		query_count(who->model, &m, true, is_syn(&m) ? QUERY_CONNECT : QUERY_REQUEST,
			    query_request_bytes(&m));
	if (is_syn(&m)) {
		/* A dropped SYN never reaches the socket layer: count it here. */
		if (v == VERDICT_DENY)
			tcp_count(who, country, DIR_INGRESS,
				  OUTCOME_ATTEMPT | OUTCOME_ATTEMPT_REFUSED);
		else if (sample_new_flows)
			event_emit(EVENT_NEW_FLOW, LAYER_XDP, DIR_INGRESS, v, who,
				   country, &m);
	}
	return v == VERDICT_DENY ? XDP_DROP : XDP_PASS;
}

/*
 * cgroup_skb sees the packet from its IP header. The stack has pulled the
 * IP and transport headers into the linear area by the time these hooks
 * run (egress builds them there; ingress runs after the transport pulls its
 * header), so direct access reaches everything the parser reads.
 */
static __always_inline int skb_judge(struct __sk_buff *skb, enum direction dir)
{
	struct tenant_info unknown = {};	/* TENANT_UNKNOWN, MODEL_UNKNOWN */
	const struct tenant_info *who;
	struct tenant_info *found;
	struct pkt_meta m;
	enum parse_status st;
	enum verdict v;
	__u16 country;

	st = parse_l3((void *)(long)skb->data, (void *)(long)skb->data_end,
		      (__u16)skb->protocol, &m);
	if (st != PARSE_OK) {
		if (st != PARSE_NOT_IP)
			stat_inc(STAT_PARSE_ERROR);
		return 1;
	}
	TENANT_WALK(bpf_skb_ancestor_cgroup_id(skb, __lvl), found);
	who = found ? found : &unknown;
	country = country_of(&m, dir == DIR_INGRESS);
	v = judge(who, country, dir, LAYER_SKB, &m, skb->len);
	if (dir == DIR_EGRESS && v != VERDICT_DENY)
		query_count(who->model, &m, false, QUERY_RESPONSE, skb->len);
	if (m.l4_proto == PROTO_TCP) {
		if (dir == DIR_INGRESS && is_syn(&m))
			tcp_count(who, country, DIR_INGRESS, OUTCOME_ATTEMPT |
				  (v == VERDICT_DENY ? OUTCOME_ATTEMPT_REFUSED : 0));
		else if (dir == DIR_EGRESS && (m.tcp_flags & TCP_FLAG_RST) &&
			 from_tcp_socket(skb))
			tcp_count(who, country, DIR_INGRESS, OUTCOME_RESET_SENT);
	}
	return v == VERDICT_DENY ? 0 : 1;
}

SEC("cgroup_skb/ingress")
int skb_ingress(struct __sk_buff *skb)
{
	return skb_judge(skb, DIR_INGRESS);
}

SEC("cgroup_skb/egress")
int skb_egress(struct __sk_buff *skb)
{
	return skb_judge(skb, DIR_EGRESS);
}

/*
 * The host refusing an attempt with a reset, out of a served endpoint:
 * RST|ACK with sequence 0 answers a segment without ACK (RFC 793; the
 * kernel's resets for no socket and nftables' reject are built so), a
 * SYN, or a scanner's probe without ACK. Nothing listened, so no cgroup
 * hook saw the attempt or the reset; a socket's own reset carries its
 * sequence (and is counted by cgroup_skb egress), whatever skb->sk says
 * by the time it leaves. The host's other resets (RST alone, answering a
 * segment of a connection the served side no longer has) refuse no
 * attempt and end no connection: not counted, or any host could charge
 * a guarantee with resets by sending stray ACKs.
 */
static __always_inline void count_host_reset(struct __sk_buff *skb, const struct pkt_meta *m)
{
	struct tenant_info *who;
	struct pkt_meta ep = {};
	__u32 seq;

	if ((m->tcp_flags & (TCP_FLAG_RST | TCP_FLAG_ACK)) != (TCP_FLAG_RST | TCP_FLAG_ACK))
		return;
	/* Rare enough (resets only) for a helper call; parse_tcp() checked the bytes. */
	if (bpf_skb_load_bytes(skb, m->l4_off + offsetof(struct parse_tcp_hdr, seq), &seq,
			       sizeof(seq)) || seq != 0)
		return;
	/* The endpoint is the reset's source. */
	ep.family = m->family;
	ep.l4_proto = PROTO_TCP;
	ep.dport = m->sport;
	__builtin_memcpy(ep.daddr, m->saddr, sizeof(ep.daddr));
	who = endpoint_lookup(&ep);
	if (!who)
		return;
	tcp_count(who, country_of(m, false), DIR_INGRESS, OUTCOME_ATTEMPT |
		  OUTCOME_ATTEMPT_REFUSED | OUTCOME_ATTEMPT_RESET | OUTCOME_RESET_SENT);
}

/*
 * The host refusing a client of a served endpoint. A destination
 * unreachable (nothing listens on a UDP port, a firewall rule rejects
 * with ICMP) or a TCP reset to an attempt (nothing listens on a TCP
 * port, count_host_reset()) is sent by the kernel from no tenant's
 * socket, so only the serving interface sees it leave. The packet an
 * unreachable quotes names the endpoint, looked up as XDP does; the
 * unreachable's destination is the client, whose country it counts
 * under. A quoted TCP SYN is also an attempt, one that never reached a
 * socket. tcx runs the next program whatever this one finds: TCX_NEXT
 * (TC_ACT_UNSPEC) on every path.
 */
SEC("tc")
int tc_unreach_egress(struct __sk_buff *skb)
{
	struct tenant_info *who;
	struct pkt_meta m, q;
	__u32 what = OUTCOME_UNREACH_SENT;
	int r;

	r = parse_egress_l2((void *)(long)skb->data, (void *)(long)skb->data_end,
			    &m, &q);
	if (r == PARSE_EGRESS_TCP)
		count_host_reset(skb, &m);
	if (r < 0)
		stat_inc(STAT_PARSE_ERROR);	/* an unreachable we cannot attribute */
	if (r != PARSE_EGRESS_UNREACH)
		return TCX_NEXT;
	who = endpoint_lookup(&q);
	if (!who)
		return TCX_NEXT;
	if (is_syn(&q))
		what |= OUTCOME_ATTEMPT | OUTCOME_ATTEMPT_REFUSED;
	tcp_count(who, country_of(&m, false), DIR_INGRESS, what);
	return TCX_NEXT;
}

/* connect/sendmsg: judge the destination before any packet exists. */
static __always_inline int sock_judge(struct bpf_sock_addr *ctx, bool v6)
{
	struct tenant_info unknown = {};	/* TENANT_UNKNOWN, MODEL_UNKNOWN */
	const struct tenant_info *who;
	struct tenant_info *found;
	struct pkt_meta m = {};
	enum verdict v;
	__u16 country;

	if (v6) {
		m.family = 6;
		m.daddr[0] = ctx->user_ip6[0];
		m.daddr[1] = ctx->user_ip6[1];
		m.daddr[2] = ctx->user_ip6[2];
		m.daddr[3] = ctx->user_ip6[3];
	} else {
		m.family = 4;
		m.daddr[0] = ctx->user_ip4;
	}
	m.dport = bpf_ntohs((__u16)ctx->user_port);
	m.l4_proto = (__u8)ctx->protocol;
	TENANT_WALK(bpf_get_current_ancestor_cgroup_id(__lvl), found);
	who = found ? found : &unknown;
	country = country_of(&m, false);
	v = judge(who, country, DIR_EGRESS, LAYER_SOCK, &m, 0);
	return v == VERDICT_DENY ? 0 : 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	return sock_judge(ctx, false);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	return sock_judge(ctx, true);
}

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_judge(ctx, false);
}

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_judge(ctx, true);
}

/*
 * sock_ops runs in softirq for passive connections, so "current" is not
 * the socket's cgroup: read the socket's own cgroup and its ancestors.
 */
static __always_inline __u64 sock_ancestor_id(struct sock *sk, int level)
{
	struct cgroup *cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	struct cgroup *anc;
	int own;

	if (!cg)
		return 0;
	own = BPF_CORE_READ(cg, level);
	if (level > own)
		return 0;
	anc = BPF_CORE_READ(cg, ancestors[level]);
	return anc ? BPF_CORE_READ(anc, kn, id) : 0;
}

SEC("sockops")
int sockops_outcomes(struct bpf_sock_ops *ops)
{
	struct tenant_info unknown = {};	/* TENANT_UNKNOWN, MODEL_UNKNOWN */
	const struct tenant_info *who;
	struct tenant_info *found;
	struct bpf_sock *bsk;
	struct tcp_sock *tp;
	struct pkt_meta m = {};
	enum direction dir;

	if (ops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		dir = DIR_INGRESS;
	else if (ops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		dir = DIR_EGRESS;
	else
		return 1;
	bsk = ops->sk;
	if (!bsk)
		return 1;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp)
		return 1;
	TENANT_WALK(sock_ancestor_id((struct sock *)tp, __lvl), found);
	who = found ? found : &unknown;
	if (ops->family == 2 /* AF_INET */) {
		m.family = 4;
		m.saddr[0] = ops->remote_ip4;
	} else {
		m.family = 6;
		m.saddr[0] = ops->remote_ip6[0];
		m.saddr[1] = ops->remote_ip6[1];
		m.saddr[2] = ops->remote_ip6[2];
		m.saddr[3] = ops->remote_ip6[3];
	}
	tcp_count(who, country_of(&m, true), dir, OUTCOME_ESTABLISHED);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
