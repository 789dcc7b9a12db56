// SPDX-License-Identifier: BSD-2-Clause
/*
 * Query-pattern counting (bpf/include/query.h) through BPF_PROG_RUN: SYNs
 * and request bytes per model and source /24 (or /48) at XDP, through XDP's
 * per-CPU cache or, for a prefix whose cache slot another holds, the LRU;
 * response bytes per destination prefix at cgroup_skb egress, configurable
 * prefix lengths, denied traffic left out, the prefix deny with its expiry,
 * the insert counter, and the per-packet cost of the counting (xdp_ingress
 * with and without it, measured in the same run and printed as a TAP
 * comment).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "pktbuild.h"
#include "netenv.h"
#include "testgeo.h"
#include "dataplane.h"
#include "dataplane.skel.h"

#define TENANT	7
#define MODEL	1

struct fixture {
	struct dp *dp;
	char pin_dir[128];
	__u8 pkt[PKT_MAX];
	cpu_set_t was;		/* affinity before stay_on_one_cpu() */
	bool pinned;
};

/*
 * XDP's request cache is per CPU: a test about which prefix holds a slot
 * keeps to one CPU until teardown.
 */
static void stay_on_one_cpu(struct fixture *f)
{
	ASSERT_OK(test_stay_on_one_cpu(&f->was), "stay on one CPU");
	f->pinned = true;
}

static int load_policy(struct dp *dp)
{
	struct tenant_info m1 = { TENANT, MODEL };
	struct endpoint_key ep = { .port = 443, .proto = IPPROTO_TCP, .family = 4 };
	struct endpoint_key ep6 = { .port = 443, .proto = IPPROTO_TCP, .family = 6 };
	struct access_row row;
	int err = 0;

	inet_pton(AF_INET, "198.51.100.10", &ep.addr[0]);
	inet_pton(AF_INET6, "2001:db8::10", ep6.addr);
	memset(row.verdict, VERDICT_ALLOW, sizeof(row.verdict));
	row.verdict[country_index('I', 'R')] = VERDICT_DENY;
	err = err ?: dp_set_access_row(dp, MODEL, DIR_INGRESS, &row);
	err = err ?: dp_set_access_row(dp, MODEL, DIR_EGRESS, &row);
	memset(row.verdict, VERDICT_ALLOW, sizeof(row.verdict));
	err = err ?: dp_set_access_row(dp, MODEL_UNKNOWN, DIR_INGRESS, &row);
	err = err ?: dp_set_access_row(dp, MODEL_UNKNOWN, DIR_EGRESS, &row);
	err = err ?: dp_set_endpoint(dp, &ep, &m1);
	err = err ?: dp_set_endpoint(dp, &ep6, &m1);
	err = err ?: testgeo_set(dp, "192.0.2.0/24", "DE");
	err = err ?: testgeo_set(dp, "203.0.113.0/24", "IR");
	return err;
}

static int open_dp(struct fixture *f, const struct dp_config *base, const char *tag)
{
	struct dp_config cfg = *base;
	int err;

	snprintf(f->pin_dir, sizeof(f->pin_dir), "/sys/fs/bpf/customs-test-query%s-%d",
		 tag, (int)getpid());
	dp_detach_all(f->pin_dir);
	cfg.pin_dir = f->pin_dir;
	cfg.models = 4;
	err = dp_open(&f->dp, &cfg);
	return err ?: load_policy(f->dp);
}

static void close_dp(struct fixture *f)
{
	dp_close(f->dp);
	f->dp = NULL;
	if (f->pin_dir[0])
		dp_detach_all(f->pin_dir);
	f->pin_dir[0] = '\0';
}

static int setup(void **state)
{
	static struct fixture f;
	struct dp_config cfg = { 0 };

	memset(&f, 0, sizeof(f));
	*state = &f;
	if (!test_have_bpf())
		return 0;
	return open_dp(&f, &cfg, "");
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close_dp(f);
	if (f->pinned)
		sched_setaffinity(0, sizeof(f->was), &f->was);
	f->pinned = false;
	return 0;
}

static __u32 run(struct fixture *f, struct bpf_program *prog, const struct pkt_spec *s)
{
	__u32 ret = 0;
	int len = pkt_build(s, f->pkt, sizeof(f->pkt));

	ASSERT_TRUE(len > 0, "pkt_build");
	ASSERT_OK(pkt_run(bpf_program__fd(prog), f->pkt, (size_t)len, &ret), "prog_run");
	return ret;
}

static struct pkt_spec tcp_from(const char *src, __u8 flags, __u32 payload)
{
	struct pkt_spec s = { .family = 4, .src = src, .dst = "198.51.100.10",
			      .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			      .tcp_flags = flags, .payload_len = payload };
	return s;
}

/* The record of the plen-bit prefix holding address prefix (masked here). */
static const struct query_record *find(const struct query_record *r, size_t n,
				       const char *prefix, __u8 plen)
{
	__u32 addr[4] = { 0 };
	__u8 family = strchr(prefix, ':') ? 6 : 4;
	struct query_key k;
	size_t i;

	inet_pton(family == 4 ? AF_INET : AF_INET6, prefix, addr);
	dp_query_key(&k, MODEL, family, addr, plen);
	for (i = 0; i < n; i++)
		if (!memcmp(&r[i].key, &k, sizeof(k)))
			return &r[i];
	return NULL;
}

/*
 * n sources in distinct /24s of 10.0.0.0/8 (only ever in crafted frames)
 * whose keys take the cache slot of src's /24.
 */
static void colliding_sources(const char *src, char (*out)[INET_ADDRSTRLEN], size_t n)
{
	__u32 a[4] = { 0 }, want, i;
	struct query_key k;
	size_t got = 0;

	inet_pton(AF_INET, src, a);
	dp_query_key(&k, MODEL, 4, a, 24);
	want = query_cache_slot(query_seen_bit(&k));
	for (i = 0; got < n && i < (1u << 16); i++) {
		a[0] = htonl(0x0a000000u | i << 8 | 5);
		dp_query_key(&k, MODEL, 4, a, 24);
		if (query_cache_slot(query_seen_bit(&k)) == want)
			inet_ntop(AF_INET, a, out[got++], INET_ADDRSTRLEN);
	}
	ASSERT_EQ(got, n, "colliding sources found");
}

static void xdp_counts_syns_and_request_bytes_per_prefix(void **state)
{
	struct fixture *f = *state;
	struct dataplane *skel;
	struct pkt_spec syn = tcp_from("192.0.2.5", 0x02, 0);
	struct pkt_spec data = tcp_from("192.0.2.77", 0x18, 300);
	struct pkt_spec denied = tcp_from("203.0.113.9", 0x02, 0);
	const struct query_record *r;
	struct query_record *recs = NULL;
	size_t n = 0;

	test_need_bpf();
	skel = dp_skeleton(f->dp);
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &syn), XDP_PASS, "syn passes");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &data), XDP_PASS, "data passes");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &data), XDP_PASS, "data passes again");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &denied), XDP_DROP, "IR dropped");
	data.payload_len = 0;
	data.tcp_flags = 0x10;
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &data), XDP_PASS, "pure ACK passes");
	ASSERT_OK(dp_query_read(f->dp, &recs, &n), "query read");
	ASSERT_EQ(n, 1, "one prefix: 192.0.2.0/24 (the denied one is not served)");
	r = find(recs, n, "192.0.2.0", 24);
	ASSERT_OK_PTR(r, "192.0.2.0/24 entry");
	ASSERT_EQ(r->fresh.conns, 1, "one SYN");
	ASSERT_EQ(r->fresh.req_packets, 4, "four request packets, the ACK included");
	ASSERT_EQ(r->fresh.req_bytes, 40 + 2 * (40 + 300), "request L3 bytes, the pure ACK's not");
	ASSERT_EQ(r->fresh.resp_bytes, 0, "no response yet");
	ASSERT_EQ(r->value.req_packets, 0, "all of it in the cache, nothing in the LRU");
	ASSERT_EQ(percpu_u64_sum(bpf_map__fd(skel->maps.stats), STAT_QUERY_INSERT), 0,
		  "the cache took it: no insert");
	free(recs);
	recs = NULL;
	ASSERT_OK(dp_query_read(f->dp, &recs, &n), "read again");
	ASSERT_EQ(n, 0, "each count is read once: nothing new, nothing left");
	free(recs);
}

static void xdp_ipv6_keys_by_slash_48(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 6, .src = "2001:db8:aa:bb::1", .dst = "2001:db8::10",
			      .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			      .tcp_flags = 0x02 };
	struct query_record *recs = NULL;
	const struct query_record *r;
	size_t n = 0;

	test_need_bpf();
	ASSERT_EQ(run(f, dp_skeleton(f->dp)->progs.xdp_ingress, &s), XDP_PASS, "v6 syn");
	s.src = "2001:db8:aa:ff::2";
	ASSERT_EQ(run(f, dp_skeleton(f->dp)->progs.xdp_ingress, &s), XDP_PASS, "v6 syn 2");
	ASSERT_OK(dp_query_read(f->dp, &recs, &n), "query read");
	ASSERT_EQ(n, 1, "both in one /48");
	r = find(recs, n, "2001:db8:aa::", 48);
	ASSERT_OK_PTR(r, "2001:db8:aa::/48 entry");
	ASSERT_EQ(r->fresh.conns, 2, "two SYNs");
	ASSERT_EQ(r->fresh.req_bytes, 2 * (40 + 20), "IPv6 request bytes");
	free(recs);
}

static void prefix_length_is_configurable(void **state)
{
	struct fixture *f = *state;
	struct dp_config cfg = { .query_v4_prefix = 16 };
	struct pkt_spec s = tcp_from("192.0.2.5", 0x02, 0);
	struct query_record *recs = NULL;
	size_t n = 0;

	test_need_bpf();
	close_dp(f);
	ASSERT_OK(open_dp(f, &cfg, "16"), "open with /16");
	ASSERT_EQ(run(f, dp_skeleton(f->dp)->progs.xdp_ingress, &s), XDP_PASS, "syn");
	ASSERT_OK(dp_query_read(f->dp, &recs, &n), "query read");
	ASSERT_EQ(n, 1, "one entry");
	ASSERT_OK_PTR(find(recs, n, "192.0.0.0", 16), "keyed by 192.0.0.0/16");
	free(recs);
}

/*
 * A flood of new prefixes spends the insert budget: past it a new prefix
 * is counted as skipped, not tracked, while a tracked one goes on counting.
 * The flood's prefixes share one cache slot: the first takes it (a new
 * prefix, it spends a token), the others take the LRU path. The budget is
 * per CPU: the test stays on one.
 */
static void new_prefixes_past_the_budget_are_skipped(void **state)
{
	struct fixture *f = *state;
	struct dp_config cfg = { .query_inserts_per_sec = 1 };	/* burst 2 */
	char src[6][INET_ADDRSTRLEN];
	const struct query_record *r;
	struct query_record *recs = NULL;
	struct dataplane *skel;
	size_t n = 0, i;

	test_need_bpf();
	close_dp(f);
	ASSERT_OK(open_dp(f, &cfg, "budget"), "open with 1 insert/s");
	skel = dp_skeleton(f->dp);
	colliding_sources("192.0.2.5", src, 6);
	stay_on_one_cpu(f);
	for (i = 0; i < 6; i++) {
		struct pkt_spec s = tcp_from(src[i], 0x02, 0);

		ASSERT_EQ(run(f, skel->progs.xdp_ingress, &s), XDP_PASS, "syn passes");
	}
	{
		struct pkt_spec again = tcp_from(src[1], 0x18, 100);

		ASSERT_EQ(run(f, skel->progs.xdp_ingress, &again), XDP_PASS, "tracked prefix");
	}
	ASSERT_OK(dp_query_read(f->dp, &recs, &n), "query read");
	ASSERT_EQ(n, 2, "the burst of two tracked: the cache's prefix and one in the LRU");
	r = find(recs, n, src[0], 24);
	ASSERT_OK_PTR(r, "first prefix tracked");
	ASSERT_EQ(r->fresh.req_packets, 1, "in the cache");
	r = find(recs, n, src[1], 24);
	ASSERT_OK_PTR(r, "second prefix tracked");
	ASSERT_EQ(r->value.req_packets, 2, "a tracked prefix goes on counting");
	ASSERT_EQ(r->fresh.req_packets, 0, "in the LRU, not the cache");
	ASSERT_EQ(percpu_u64_sum(bpf_map__fd(skel->maps.stats), STAT_QUERY_INSERT), 1,
		  "one insert (the cache's prefix spent the other token)");
	ASSERT_EQ(percpu_u64_sum(bpf_map__fd(skel->maps.stats), STAT_QUERY_SKIPPED), 4,
		  "four new prefixes skipped");
	free(recs);
}

/*
 * The filter in front of query_counts: a tracked prefix whose bit is lost
 * (the agent rewrote the filter while the kernel set it) is still counted,
 * through the insert path, and a read puts exactly the tracked keys' bits
 * back.
 */
static void filter_bits_follow_the_tracked_prefixes(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = tcp_from("192.0.2.5", 0x18, 100);
	char owner_src[1][INET_ADDRSTRLEN];
	struct pkt_spec owner = tcp_from("", 0x18, 100);
	const struct query_record *r;
	struct query_record *recs = NULL;
	struct dataplane *skel;
	struct query_key k;
	__u32 addr[4] = { 0 }, bit, set = 0, w;
	size_t n = 0;

	test_need_bpf();
	skel = dp_skeleton(f->dp);
	/* Another prefix holds the cache slot, so this one goes to the LRU. */
	colliding_sources("192.0.2.5", owner_src, 1);
	owner.src = owner_src[0];
	stay_on_one_cpu(f);
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &owner), XDP_PASS, "slot taken");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &s), XDP_PASS, "first packet");
	inet_pton(AF_INET, "192.0.2.0", addr);
	dp_query_key(&k, MODEL, 4, addr, 24);
	bit = query_seen_bit(&k);
	ASSERT_TRUE(skel->bss->query_seen[bit >> 6] & (1ull << (bit & 63)), "bit set on insert");
	memset((void *)skel->bss->query_seen, 0, sizeof(skel->bss->query_seen));
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &s), XDP_PASS, "bit lost");
	ASSERT_OK(dp_query_read(f->dp, &recs, &n), "query read");
	r = find(recs, n, "192.0.2.0", 24);
	ASSERT_OK_PTR(r, "tracked");
	ASSERT_EQ(r->value.req_packets, 2, "counted although its bit was lost");
	ASSERT_TRUE(skel->bss->query_seen[bit >> 6] & (1ull << (bit & 63)), "bit back");
	for (w = 0; w < QUERY_SEEN_WORDS; w++)
		set += (__u32)__builtin_popcountll(skel->bss->query_seen[w]);
	ASSERT_EQ(set, 1, "one key in the LRU, one bit (the read clears the cached key's)");
	free(recs);
}

/* Reads the counts; the records of prefixes a and b (/24), both present. */
static struct query_record *read_pair(struct fixture *f, const char *a, const char *b,
				      const struct query_record **ra,
				      const struct query_record **rb, size_t *n)
{
	struct query_record *recs = NULL;

	ASSERT_OK(dp_query_read(f->dp, &recs, n), "query read");
	*ra = find(recs, *n, a, 24);
	*rb = find(recs, *n, b, 24);
	ASSERT_OK_PTR(*ra, a);
	ASSERT_OK_PTR(*rb, b);
	return recs;
}

/*
 * A cache slot belongs, per CPU and interval, to the first prefix that
 * reaches it; another prefix of the slot goes to the LRU. A read switches
 * buffers and empties the retired one, so the next interval's first
 * prefix may take it, and a count is read once.
 */
static void cache_slot_goes_to_the_first_prefix_of_each_interval(void **state)
{
	struct fixture *f = *state;
	char src[2][INET_ADDRSTRLEN];
	struct pkt_spec a = tcp_from("", 0x18, 100), b = tcp_from("", 0x18, 200);
	struct query_record *recs = NULL;
	const struct query_record *ra, *rb;
	struct dataplane *skel;
	size_t n = 0;

	test_need_bpf();
	skel = dp_skeleton(f->dp);
	colliding_sources("10.0.0.5", src, 2);
	a.src = src[0];
	b.src = src[1];
	stay_on_one_cpu(f);
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &a), XDP_PASS, "a");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &a), XDP_PASS, "a again");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &b), XDP_PASS, "b");
	recs = read_pair(f, src[0], src[1], &ra, &rb, &n);
	ASSERT_EQ(n, 2, "two prefixes");
	ASSERT_EQ(ra->fresh.req_bytes, 2 * 140, "a in the cache");
	ASSERT_EQ(ra->value.req_bytes, 0, "a not in the LRU");
	ASSERT_EQ(rb->fresh.req_bytes, 0, "b not in the cache");
	ASSERT_EQ(rb->value.req_bytes, 240, "b in the LRU");
	free(recs);

	/* Next interval, the other buffer: b comes first and takes the slot. */
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &b), XDP_PASS, "b first");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &a), XDP_PASS, "a second");
	recs = read_pair(f, src[0], src[1], &ra, &rb, &n);
	ASSERT_EQ(n, 2, "two prefixes");
	ASSERT_EQ(rb->fresh.req_bytes, 240, "b in the cache now");
	ASSERT_EQ(rb->value.req_bytes, 240, "b's LRU total unchanged");
	ASSERT_EQ(ra->fresh.req_bytes, 0, "a not in the cache");
	ASSERT_EQ(ra->value.req_bytes, 140, "a inserted into the LRU");
	free(recs);

	/* The first buffer again, emptied by the first read: a takes the slot afresh. */
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &a), XDP_PASS, "a in the third interval");
	recs = read_pair(f, src[0], src[1], &ra, &rb, &n);	/* b still in the LRU */
	ASSERT_EQ(ra->fresh.req_bytes, 140, "only this interval's packet");
	ASSERT_EQ(rb->fresh.req_bytes, 0, "b's cached count was read once");
	free(recs);
}

/* Counts in the cache when a loader stops are read by the one that adopts the pins. */
static void cached_counts_survive_a_loader_restart(void **state)
{
	struct fixture *f = *state;
	struct dp_config cfg = { .pin_dir = f->pin_dir, .models = 4 };
	struct pkt_spec s = tcp_from("192.0.2.5", 0x18, 100);
	struct query_record *recs = NULL;
	const struct query_record *r;
	size_t n = 0;

	test_need_bpf();
	ASSERT_EQ(run(f, dp_skeleton(f->dp)->progs.xdp_ingress, &s), XDP_PASS, "counted");
	ASSERT_OK(dp_query_read(f->dp, &recs, &n), "a read switches buffers");
	free(recs);
	recs = NULL;
	ASSERT_EQ(run(f, dp_skeleton(f->dp)->progs.xdp_ingress, &s), XDP_PASS, "counted again");
	dp_close(f->dp);
	f->dp = NULL;
	ASSERT_OK(dp_open(&f->dp, &cfg), "adopt");
	ASSERT_TRUE(dp_adopted(f->dp), "adopted");
	ASSERT_OK(dp_query_read(f->dp, &recs, &n), "read by the new loader");
	r = find(recs, n, "192.0.2.0", 24);
	ASSERT_OK_PTR(r, "prefix read");
	ASSERT_EQ(r->fresh.req_packets, 1, "the packet counted before the restart, once");
	free(recs);
}

/*
 * The agent's filter rewrite against a kernel that sets a bit between the
 * snapshot and the rewrite: the stale bit goes, the key's lost bit comes
 * back, and the kernel's new bit stays.
 */
static void filter_rewrite_keeps_bits_set_meanwhile(void **state)
{
	__u64 snap[2] = { 0x6, 1ull << 63 }, keys[2] = { 0x3, 1ull << 63 };
	__u64 live[2] = { 0x6 | 0x8, 1ull << 63 | 1 };

	(void)state;
	dp_query_filter_merge(live, snap, keys, 2);
	ASSERT_EQ(live[0], 0xb, "stale 0x4 cleared, lost 0x1 restored, new 0x8 kept");
	ASSERT_EQ(live[1], 1ull << 63 | 1, "unchanged word keeps its new bit");
}

static void skb_egress_counts_response_bytes_by_destination(void **state)
{
	struct fixture *f = *state;
	struct tenant_info who = { TENANT, MODEL };
	struct pkt_spec out = { .family = 4, .src = "198.51.100.10", .dst = "192.0.2.8",
				.proto = IPPROTO_TCP, .sport = 443, .dport = 40000,
				.tcp_flags = 0x18, .payload_len = 1000 };
	struct query_record *recs = NULL;
	const struct query_record *r;
	struct testcg cg;
	char leaf[512];
	struct stat st;
	size_t n = 0;

	test_need_bpf();
	test_need(testcg_mount() != NULL, "a cgroup2 mount");
	ASSERT_OK(testcg_setup(&cg, "query"), "cgroup setup");
	ASSERT_OK(testcg_mkdir(&cg, "tenant", leaf, sizeof(leaf)), "mkdir");
	ASSERT_OK(stat(leaf, &st), "stat tenant cgroup");
	ASSERT_OK(dp_set_tenant(f->dp, st.st_ino, &who), "set tenant");
	ASSERT_OK(testcg_move(leaf, getpid()), "enter tenant");
	ASSERT_EQ(run(f, dp_skeleton(f->dp)->progs.skb_egress, &out), 1, "egress passes");
	ASSERT_EQ(run(f, dp_skeleton(f->dp)->progs.skb_egress, &out), 1, "egress passes");
	testcg_teardown(&cg);
	ASSERT_OK(dp_query_read(f->dp, &recs, &n), "query read");
	r = find(recs, n, "192.0.2.0", 24);
	ASSERT_OK_PTR(r, "destination prefix entry");
	ASSERT_EQ(r->value.resp_bytes, 2 * (20 + 20 + 1000), "response L3 bytes");
	ASSERT_EQ(r->value.req_packets, 0, "no request packets");
	free(recs);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Packets counted under verdict deny at XDP, across the retired buffer. */
static __u64 deny_packets(struct fixture *f)
{
	struct meter_record *r = NULL;
	__u64 n = 0;
	size_t cnt = 0, i;

	if (dp_meter_flip(f->dp) || dp_meter_read(f->dp, &r, &cnt))
		return ~0ull;
	for (i = 0; i < cnt; i++)
		if (r[i].key.verdict == VERDICT_DENY && r[i].key.layer == LAYER_XDP)
			n += r[i].value.packets;
	free(r);
	dp_meter_clear(f->dp);
	return n;
}

static void deny_drops_the_prefix_until_expiry(void **state)
{
	struct fixture *f = *state;
	struct dataplane *skel;
	struct pkt_spec s = tcp_from("192.0.2.5", 0x02, 0);
	struct pkt_spec other = tcp_from("192.0.3.5", 0x02, 0);
	struct query_deny d = { .detector = DETECTOR_VOLUME };
	__u32 addr[4] = { 0 };
	struct query_key k;

	test_need_bpf();
	skel = dp_skeleton(f->dp);
	inet_pton(AF_INET, "192.0.2.0", addr);
	dp_query_key(&k, MODEL, 4, addr, 24);
	d.expires_ns = mono_ns() + 60ull * 1000000000ull;
	ASSERT_OK(dp_query_deny_set(f->dp, &k, &d), "deny set");
	ASSERT_EQ(skel->bss->query_deny_active, 1, "kernel told of one deny");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &s), XDP_DROP, "denied prefix dropped");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &other), XDP_PASS, "other prefix passes");
	ASSERT_EQ(percpu_u64_sum(bpf_map__fd(skel->maps.stats), STAT_QUERY_DROP), 1,
		  "drop counted");
	ASSERT_EQ(deny_packets(f), 1, "the dropped packet is metered as a denial");
	/* Expired in the kernel's clock: passes even before the agent sweeps. */
	d.expires_ns = mono_ns() - 1;
	ASSERT_OK(dp_query_deny_set(f->dp, &k, &d), "deny set expired");
	ASSERT_EQ(run(f, skel->progs.xdp_ingress, &s), XDP_PASS, "expired deny passes");
	ASSERT_EQ(dp_query_deny_sweep(f->dp, mono_ns()), 0, "sweep removes it");
	ASSERT_EQ(skel->bss->query_deny_active, 0, "kernel told none remain");
}

/* Average ns of one xdp_ingress run over the same packet. */
static __u64 xdp_ns(struct fixture *f, const struct pkt_spec *s, __u32 repeat)
{
	int len = pkt_build(s, f->pkt, sizeof(f->pkt));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->pkt, .repeat = repeat);

	opts.data_size_in = (__u32)(len > 0 ? len : 0);
	if (bpf_prog_test_run_opts(bpf_program__fd(dp_skeleton(f->dp)->progs.xdp_ingress),
				   &opts))
		return 0;
	return opts.duration;
}

/*
 * The cost of counting: the same packet through xdp_ingress loaded with and
 * without query counting, alternating rounds so both see the same machine
 * state; the median round of each. Printed, never asserted (TESTING.md).
 */
static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void per_packet_cost_with_and_without_counting(void **state)
{
	struct fixture *f = *state, off = { 0 };
	struct dp_config cfg = { .query_off = true };
	struct pkt_spec s = tcp_from("192.0.2.5", 0x10, 100);
	__u64 on_ns[9], off_ns[9];
	__u32 repeat = (__u32)test_env_long("QUERY_COST_REPEAT", 200000);
	int i;

	test_need_bpf();
	ASSERT_OK(open_dp(&off, &cfg, "off"), "open without counting");
	for (i = 0; i < 9; i++) {
		on_ns[i] = xdp_ns(f, &s, repeat);
		off_ns[i] = xdp_ns(&off, &s, repeat);
	}
	close_dp(&off);
	qsort(on_ns, 9, sizeof(on_ns[0]), cmp_u64);
	qsort(off_ns, 9, sizeof(off_ns[0]), cmp_u64);
	printf("# xdp_ingress per packet: %llu ns with query counting, %llu ns without, "
	       "%lld ns added (median of 9 rounds of %u)\n",
	       (unsigned long long)on_ns[4], (unsigned long long)off_ns[4],
	       (long long)on_ns[4] - (long long)off_ns[4], repeat);
	ASSERT_TRUE(on_ns[4] > 0 && off_ns[4] > 0, "both measured");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(xdp_counts_syns_and_request_bytes_per_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_ipv6_keys_by_slash_48, setup, teardown),
		cmocka_unit_test_setup_teardown(prefix_length_is_configurable, setup, teardown),
		cmocka_unit_test_setup_teardown(new_prefixes_past_the_budget_are_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(filter_bits_follow_the_tracked_prefixes, setup, teardown),
		cmocka_unit_test(filter_rewrite_keeps_bits_set_meanwhile),
		cmocka_unit_test_setup_teardown(cache_slot_goes_to_the_first_prefix_of_each_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(cached_counts_survive_a_loader_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(skb_egress_counts_response_bytes_by_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(deny_drops_the_prefix_until_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(per_packet_cost_with_and_without_counting, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf/query", tests, NULL, NULL);
}
