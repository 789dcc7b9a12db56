// SPDX-License-Identifier: BSD-2-Clause
/*
 * The data plane's XDP and cgroup_skb programs on crafted packets through
 * BPF_PROG_RUN: every verdict path, IPv4 and IPv6, VLAN, options and
 * extension headers, truncated packets, unknown tenant and country, audit
 * vs enforce, exact counter keys and byte counts, the overflow bucket, the
 * double-buffer flip, events and their rate limit.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "pktbuild.h"
#include "netenv.h"
#include "testgeo.h"
#include "geo.h"
#include "dataplane.h"
#include "parse.h"
#include "dataplane.skel.h"

#define TENANT	7
#define MODEL	1
#define MODEL2	2

struct fixture {
	struct dp *dp;
	char pin_dir[128];
	struct event events[64];
	int n_events;
	__u8 pkt[PKT_MAX];
	int len;
	cpu_set_t was;		/* affinity before stay_on_one_cpu() */
	bool pinned;
};

/* Keeps the test on its current CPU until teardown. */
static void stay_on_one_cpu(struct fixture *f)
{
	ASSERT_OK(test_stay_on_one_cpu(&f->was), "stay on one CPU");
	f->pinned = true;
}

static __u16 cc(const char *s)
{
	return country_index(s[0], s[1]);
}

static int on_event(void *ctx, const struct event *e)
{
	struct fixture *f = ctx;

	if (f->n_events < 64)
		f->events[f->n_events++] = *e;
	return 0;
}

static void fill_row(struct access_row *row, enum verdict dflt)
{
	memset(row->verdict, dflt, sizeof(row->verdict));
}

/* Model 1: allow by default, IR denied, BR audited, unknown (ZZ) denied. */
static int load_policy(struct fixture *f)
{
	struct tenant_info m1 = { TENANT, MODEL }, m2 = { TENANT, MODEL2 };
	struct endpoint_key ep = { .port = 443, .proto = IPPROTO_TCP, .family = 4 };
	struct endpoint_key wild = { .port = 8443, .proto = IPPROTO_TCP, .family = 4 };
	struct endpoint_key ep6 = { .port = 443, .proto = IPPROTO_UDP, .family = 6 };
	struct endpoint_key frag = { .port = 0, .proto = IPPROTO_UDP, .family = 4 };
	struct endpoint_key udp = { .port = 443, .proto = IPPROTO_UDP, .family = 4 };
	struct access_row row;
	int err = 0;

	inet_pton(AF_INET, "198.51.100.10", &ep.addr[0]);
	inet_pton(AF_INET, "198.51.100.10", &udp.addr[0]);
	inet_pton(AF_INET, "198.51.100.10", &frag.addr[0]);
	inet_pton(AF_INET6, "2001:db8::10", ep6.addr);
	fill_row(&row, VERDICT_ALLOW);
	row.verdict[cc("IR")] = VERDICT_DENY;
	row.verdict[cc("BR")] = VERDICT_AUDIT;
	row.verdict[COUNTRY_ZZ] = VERDICT_DENY;
	err = err ?: dp_set_access_row(f->dp, MODEL, DIR_INGRESS, &row);
	err = err ?: dp_set_access_row(f->dp, MODEL, DIR_EGRESS, &row);
	fill_row(&row, VERDICT_ALLOW);
	row.verdict[cc("IR")] = VERDICT_AUDIT;
	err = err ?: dp_set_access_row(f->dp, MODEL2, DIR_INGRESS, &row);
	fill_row(&row, VERDICT_ALLOW);
	err = err ?: dp_set_access_row(f->dp, MODEL_UNKNOWN, DIR_INGRESS, &row);
	err = err ?: dp_set_access_row(f->dp, MODEL_UNKNOWN, DIR_EGRESS, &row);
	err = err ?: dp_set_endpoint(f->dp, &ep, &m1);
	err = err ?: dp_set_endpoint(f->dp, &udp, &m1);
	err = err ?: dp_set_endpoint(f->dp, &frag, &m1);
	err = err ?: dp_set_endpoint(f->dp, &wild, &m2);
	err = err ?: dp_set_endpoint(f->dp, &ep6, &m1);
	err = err ?: testgeo_set(f->dp, "192.0.2.0/24", "DE");
	err = err ?: testgeo_set(f->dp, "203.0.113.0/24", "IR");
	err = err ?: testgeo_set(f->dp, "198.18.0.0/15", "BR");
	return err;
}

static int open_dp(struct fixture *f, const struct dp_config *base)
{
	struct dp_config cfg = *base;
	int err;

	snprintf(f->pin_dir, sizeof(f->pin_dir), "/sys/fs/bpf/customs-test-dp-%d",
		 (int)getpid());
	dp_detach_all(f->pin_dir);
	cfg.pin_dir = f->pin_dir;
	cfg.models = cfg.models ? cfg.models : 4;
	err = dp_open(&f->dp, &cfg);
	if (err)
		return err;
	f->n_events = 0;
	return load_policy(f) ?: dp_events_open(f->dp, on_event, f);
}

static int setup(void **state)
{
	static struct fixture f;
	struct dp_config cfg = { .events_per_sec = 100000 };

	memset(&f, 0, sizeof(f));
	*state = &f;
	if (!test_have_bpf())
		return 0;
	return open_dp(&f, &cfg);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dp_close(f->dp);
	f->dp = NULL;
	if (f->pinned)
		sched_setaffinity(0, sizeof(f->was), &f->was);
	f->pinned = false;
	if (f->pin_dir[0])
		dp_detach_all(f->pin_dir);
	return 0;
}

static __u32 run_prog(struct fixture *f, struct bpf_program *prog,
		      const struct pkt_spec *s)
{
	__u32 ret = 0;

	f->len = pkt_build(s, f->pkt, sizeof(f->pkt));
	ASSERT_TRUE(f->len > 0, "pkt_build");
	ASSERT_OK(pkt_run(bpf_program__fd(prog), f->pkt, (size_t)f->len, &ret),
		  "prog_run");
	return ret;
}

static __u32 run_xdp(struct fixture *f, const struct pkt_spec *s)
{
	return run_prog(f, dp_skeleton(f->dp)->progs.xdp_ingress, s);
}

/* Flips, reads the retired buffer and clears it; the records. */
static struct meter_record *take_meters(struct fixture *f, size_t *n)
{
	struct meter_record *recs = NULL;

	ASSERT_OK(dp_meter_flip(f->dp), "flip");
	ASSERT_OK(dp_meter_read(f->dp, &recs, n), "read");
	ASSERT_OK(dp_meter_clear(f->dp), "clear");
	return recs;
}

static const struct meter_record *find(const struct meter_record *r, size_t n,
				       __u32 tenant, __u32 model, const char *c,
				       enum direction dir, enum layer layer,
				       enum verdict v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].key.tenant == tenant && r[i].key.model == model &&
		    r[i].key.country == cc(c) && r[i].key.direction == dir &&
		    r[i].key.layer == layer && r[i].key.verdict == v)
			return &r[i];
	return NULL;
}

static void drain_events(struct fixture *f)
{
	dp_events_poll(f->dp, 0);
}

static struct pkt_spec syn_from(const char *src)
{
	struct pkt_spec s = { .family = 4, .src = src, .dst = "198.51.100.10",
			      .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			      .tcp_flags = 0x02, .payload_len = 0 };
	return s;
}

static void xdp_allow_counts_exact_key_and_bytes(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = syn_from("192.0.2.5");
	const struct meter_record *r;
	struct meter_record *recs;
	size_t n;
	int i;

	test_need_bpf();
	s.payload_len = 100;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(run_xdp(f, &s), XDP_PASS, "allowed passes");
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 1, "one counter");
	r = find(recs, n, TENANT, MODEL, "DE", DIR_INGRESS, LAYER_XDP, VERDICT_ALLOW);
	ASSERT_OK_PTR(r, "counter key");
	ASSERT_EQ(r->value.packets, 3, "packets");
	ASSERT_EQ(r->value.bytes, 3 * (20 + 20 + 100), "L3 bytes");
	free(recs);
	drain_events(f);
	ASSERT_EQ(f->n_events, 0, "no events for allowed traffic");
}

static void xdp_deny_drops_counts_and_reports(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = syn_from("203.0.113.9");
	struct tcp_outcome_record *tcp = NULL;
	const struct meter_record *r;
	struct meter_record *recs;
	size_t n, i;
	bool seen = false;

	test_need_bpf();
	ASSERT_EQ(run_xdp(f, &s), XDP_DROP, "denied is dropped");
	recs = take_meters(f, &n);
	r = find(recs, n, TENANT, MODEL, "IR", DIR_INGRESS, LAYER_XDP, VERDICT_DENY);
	ASSERT_OK_PTR(r, "deny counter");
	ASSERT_EQ(r->value.packets, 1, "deny packets");
	ASSERT_EQ(r->value.bytes, 40, "deny bytes");
	free(recs);
	drain_events(f);
	ASSERT_EQ(f->n_events, 1, "one event");
	ASSERT_EQ(f->events[0].kind, EVENT_DENY, "event kind");
	ASSERT_EQ(f->events[0].layer, LAYER_XDP, "event layer");
	ASSERT_EQ(f->events[0].country, cc("IR"), "event country");
	ASSERT_EQ(f->events[0].saddr[0], htonl(0xCB007109), "event saddr");
	ASSERT_EQ(f->events[0].daddr[0], htonl(0xC633640A), "event daddr");
	ASSERT_EQ(f->events[0].sport, 40000, "event sport");
	ASSERT_EQ(f->events[0].dport, 443, "event dport");
	ASSERT_EQ(f->events[0].proto, IPPROTO_TCP, "event proto");
	ASSERT_EQ(f->events[0].tenant, TENANT, "event tenant");
	ASSERT_EQ(f->events[0].model, MODEL, "event model");
	/* The dropped SYN is a refused attempt for service-level figures. */
	ASSERT_OK(dp_tcp_read(f->dp, &tcp, &n), "tcp read");
	for (i = 0; i < n; i++)
		if (tcp[i].key.country == cc("IR") && tcp[i].key.model == MODEL)
			seen = tcp[i].value.attempts == 1;
	ASSERT_TRUE(seen, "attempt counted");
	free(tcp);
}

static void xdp_audit_passes_and_counts(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = syn_from("198.19.1.1");
	struct meter_record *recs;
	size_t n;

	test_need_bpf();
	ASSERT_EQ(run_xdp(f, &s), XDP_PASS, "audit passes");
	recs = take_meters(f, &n);
	ASSERT_OK_PTR(find(recs, n, TENANT, MODEL, "BR", DIR_INGRESS, LAYER_XDP,
			   VERDICT_AUDIT), "audit counter");
	free(recs);
	drain_events(f);
	ASSERT_EQ(f->n_events, 1, "audit event");
	ASSERT_EQ(f->events[0].kind, EVENT_AUDIT, "audit kind");
}

static void xdp_unknown_country_uses_zz_row(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = syn_from("100.64.0.1");
	struct meter_record *recs;
	size_t n;

	test_need_bpf();
	ASSERT_EQ(run_xdp(f, &s), XDP_DROP, "ZZ denied for model 1");
	recs = take_meters(f, &n);
	ASSERT_OK_PTR(find(recs, n, TENANT, MODEL, "ZZ", DIR_INGRESS, LAYER_XDP,
			   VERDICT_DENY), "ZZ counter");
	free(recs);
}

static void xdp_no_endpoint_passes_uncounted(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = syn_from("203.0.113.9");
	struct pkt_spec arp = { .family = 0, .ethertype = 0x0806, .payload_len = 28 };
	struct meter_record *recs;
	size_t n;

	test_need_bpf();
	s.dport = 444;
	ASSERT_EQ(run_xdp(f, &s), XDP_PASS, "other port passes");
	s.dport = 443;
	s.dst = "198.51.100.11";
	ASSERT_EQ(run_xdp(f, &s), XDP_PASS, "other address passes");
	ASSERT_EQ(run_xdp(f, &arp), XDP_PASS, "non-ip passes");
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 0, "nothing counted");
	free(recs);
}

static void xdp_wildcard_endpoint(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = syn_from("203.0.113.9");
	struct meter_record *recs;
	size_t n;

	test_need_bpf();
	s.dst = "198.51.100.99";
	s.dport = 8443;
	/* Model 2 only audits IR. */
	ASSERT_EQ(run_xdp(f, &s), XDP_PASS, "wildcard model 2 audits");
	recs = take_meters(f, &n);
	ASSERT_OK_PTR(find(recs, n, TENANT, MODEL2, "IR", DIR_INGRESS, LAYER_XDP,
			   VERDICT_AUDIT), "wildcard counter");
	free(recs);
}

/* Model of the packet's counter, 0 when none was counted; clears the counters. */
static __u32 counted_model(struct fixture *f, const struct pkt_spec *s)
{
	struct meter_record *recs;
	__u32 model = 0;
	size_t n;

	ASSERT_EQ(run_xdp(f, s), XDP_PASS, "passes");
	recs = take_meters(f, &n);
	ASSERT_TRUE(n <= 1, "at most one counter");
	if (n)
		model = recs[0].key.model;
	free(recs);
	return model;
}

/*
 * The served-port filter in front of the endpoint map follows every add
 * and delete, counts endpoints rather than remembering the last one, and
 * is rebuilt from the pinned map when a new loader adopts it.
 */
static void xdp_served_port_filter_follows_the_endpoint_map(void **state)
{
	struct fixture *f = *state;
	struct endpoint_key ep = { .port = 443, .proto = IPPROTO_TCP, .family = 4 };
	struct endpoint_key udp = { .port = 443, .proto = IPPROTO_UDP, .family = 4 };
	struct endpoint_key ep6 = { .port = 443, .proto = IPPROTO_UDP, .family = 6 };
	struct endpoint_key wild = { .port = 443, .proto = IPPROTO_TCP, .family = 4 };
	struct tenant_info m1 = { TENANT, MODEL }, m2 = { TENANT, MODEL2 };
	struct dp_config cfg = { .models = 4 };
	struct pkt_spec tcp = syn_from("192.0.2.5"), other = syn_from("192.0.2.5");
	struct pkt_spec u = syn_from("192.0.2.5");

	test_need_bpf();
	inet_pton(AF_INET, "198.51.100.10", &ep.addr[0]);
	inet_pton(AF_INET, "198.51.100.10", &udp.addr[0]);
	inet_pton(AF_INET6, "2001:db8::10", ep6.addr);
	other.dst = "198.51.100.77";
	u.proto = IPPROTO_UDP;
	ASSERT_EQ(counted_model(f, &tcp), MODEL, "exact endpoint");
	ASSERT_EQ(counted_model(f, &other), 0, "no wildcard on 443 yet");
	ASSERT_OK(dp_set_endpoint(f->dp, &wild, &m2), "add wildcard");
	ASSERT_EQ(counted_model(f, &tcp), MODEL, "exact address wins");
	ASSERT_EQ(counted_model(f, &other), MODEL2, "wildcard on 443");
	/* Two more exact entries on 443 (UDP v4, UDP v6) keep its bit. */
	ASSERT_OK(dp_del_endpoint(f->dp, &ep), "delete exact TCP");
	ASSERT_EQ(counted_model(f, &tcp), MODEL2, "falls to the wildcard");
	ASSERT_EQ(counted_model(f, &u), MODEL, "exact UDP still served");
	ASSERT_OK(dp_del_endpoint(f->dp, &udp), "delete exact UDP");
	ASSERT_OK(dp_del_endpoint(f->dp, &ep6), "delete exact UDP v6");
	ASSERT_EQ(dp_del_endpoint(f->dp, &ep6), -ENOENT, "deleting twice");
	ASSERT_EQ(counted_model(f, &u), 0, "no UDP endpoint left");
	ASSERT_EQ(counted_model(f, &tcp), MODEL2, "wildcard still served");
	ASSERT_OK(dp_del_endpoint(f->dp, &wild), "delete wildcard");
	ASSERT_EQ(counted_model(f, &tcp), 0, "443 served no more");
	/* Written twice, deleted once: gone. */
	ASSERT_OK(dp_set_endpoint(f->dp, &ep, &m1), "add exact");
	ASSERT_OK(dp_set_endpoint(f->dp, &ep, &m2), "rewrite exact");
	ASSERT_EQ(counted_model(f, &tcp), MODEL2, "rewritten owner");
	ASSERT_OK(dp_del_endpoint(f->dp, &ep), "delete once");
	ASSERT_EQ(counted_model(f, &tcp), 0, "deleted");
	/* Not just unmatched: a packet to 443 no longer looks anything up. */
	ASSERT_EQ(dp_skeleton(f->dp)->bss->endpoint_ports[443 / 64][ENDPOINT_PORTS_EXACT] &
		  (1ull << (443 % 64)), 0, "exact bit cleared");
	ASSERT_EQ(dp_skeleton(f->dp)->bss->endpoint_ports[443 / 64][ENDPOINT_PORTS_WILDCARD] &
		  (1ull << (443 % 64)), 0, "wildcard bit cleared");
	/* A new loader adopting the pins serves what the map holds. */
	ASSERT_OK(dp_set_endpoint(f->dp, &ep, &m1), "add exact again");
	dp_close(f->dp);
	cfg.pin_dir = f->pin_dir;
	f->dp = NULL;
	ASSERT_OK(dp_open(&f->dp, &cfg), "adopt");
	ASSERT_TRUE(dp_adopted(f->dp), "adopted");
	ASSERT_EQ(counted_model(f, &tcp), MODEL, "adopted endpoint served");
	ASSERT_EQ(counted_model(f, &other), 0, "deleted wildcard stays gone");
}

/* The id of the map pinned at pin_dir/maps/name, 0 if none. */
static __u32 pinned_map_id(const struct fixture *f, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[192];
	int fd;

	snprintf(path, sizeof(path), "%s/maps/%s", f->pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/*
 * A pinned geo_live is adopted when its table has this build's layout,
 * and replaced when it holds one of an older customs (another header
 * magic), which this build's programs would misread: the older map keeps
 * its table for the older programs, the new one answers after install.
 */
static void geo_table_of_another_layout_is_replaced(void **state)
{
	struct fixture *f = *state;
	struct dp_config cfg = { .events_per_sec = 100000, .models = 4 };
	struct pkt_spec s = syn_from("192.0.2.5");
	struct meter_record *recs;
	union geo_block old = { .hdr = { .magic = GEO_HDR_MAGIC - 1 } };	/* an older layout */
	__u32 id, zero = 0, again;
	int outer, inner;
	size_t n;

	test_need_bpf();
	id = pinned_map_id(f, "geo_live");
	ASSERT_TRUE(id != 0, "geo_live pinned");
	cfg.pin_dir = f->pin_dir;
	dp_close(f->dp);
	f->dp = NULL;
	ASSERT_OK(dp_open(&f->dp, &cfg), "reopen");
	ASSERT_EQ(pinned_map_id(f, "geo_live"), id, "a table of this layout: map adopted");
	/* What an older customs left in the slot. */
	outer = bpf_map_get_fd_by_id(id);
	ASSERT_TRUE(outer >= 0, "outer fd");
	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32), GEO_BLOCK_SIZE,
			       GEO_TABLE_BLOCKS, &(struct bpf_map_create_opts){
				       .sz = sizeof(struct bpf_map_create_opts),
				       .map_flags = BPF_F_MMAPABLE });
	ASSERT_TRUE(inner >= 0, "older table");
	ASSERT_OK(bpf_map_update_elem(inner, &zero, &old, BPF_ANY), "older header");
	ASSERT_OK(bpf_map_update_elem(outer, &zero, &inner, BPF_ANY), "older table live");
	ASSERT_EQ(geo_kernel_live_is_current(outer), 0, "not this layout");
	dp_close(f->dp);
	f->dp = NULL;
	ASSERT_OK(dp_open(&f->dp, &cfg), "reopen over the older table");
	again = pinned_map_id(f, "geo_live");
	ASSERT_TRUE(again != 0 && again != id, "geo_live replaced");
	ASSERT_TRUE(dp_adopted(f->dp), "the other pins adopted");
	/* The older map keeps its table; the new one is empty (ZZ, denied) until filled. */
	ASSERT_EQ(geo_kernel_live_is_current(outer), 0, "older map untouched");
	ASSERT_EQ(run_xdp(f, &s), XDP_DROP, "no table yet: ZZ");
	ASSERT_OK(load_policy(f), "policy and table into the new map");
	ASSERT_EQ(run_xdp(f, &s), XDP_PASS, "DE from the new table");
	recs = take_meters(f, &n);
	ASSERT_OK_PTR(find(recs, n, TENANT, MODEL, "DE", DIR_INGRESS, LAYER_XDP, VERDICT_ALLOW),
		      "counted as DE");
	free(recs);
	close(inner);
	close(outer);
}

/*
 * XDP's per-CPU endpoint cache answers a packet to an endpoint it saw
 * last, and every change made through the loader retires what it holds.
 * The test stays on one CPU, so each packet meets the cache of the one
 * before; writing the map behind the loader's back (no generation bump)
 * shows the cache is what answered.
 */
static void xdp_endpoint_cache_follows_every_change(void **state)
{
	struct fixture *f = *state;
	struct endpoint_key ep = { .port = 443, .proto = IPPROTO_TCP, .family = 4 };
	struct endpoint_key udp = { .port = 443, .proto = IPPROTO_UDP, .family = 4 };
	struct endpoint_key wild = { .port = 443, .proto = IPPROTO_TCP, .family = 4 };
	struct endpoint_key other_ep = ep;
	struct tenant_info m1 = { TENANT, MODEL }, m2 = { TENANT, MODEL2 };
	struct pkt_spec tcp = syn_from("192.0.2.5"), other = syn_from("192.0.2.5");
	struct pkt_spec u = syn_from("192.0.2.5");
	struct dp_config cfg = { .models = 4 };
	struct bpf_map *map;
	struct dp *other_dp = NULL;

	test_need_bpf();
	map = dp_skeleton(f->dp)->maps.endpoints;
	inet_pton(AF_INET, "198.51.100.10", &ep.addr[0]);
	inet_pton(AF_INET, "198.51.100.10", &udp.addr[0]);
	inet_pton(AF_INET, "198.51.100.77", &other_ep.addr[0]);
	other.dst = "198.51.100.77";
	u.proto = IPPROTO_UDP;
	stay_on_one_cpu(f);

	ASSERT_EQ(counted_model(f, &tcp), MODEL, "first packet: the map's answer");
	ASSERT_OK(bpf_map__update_elem(map, &ep, sizeof(ep), &m2, sizeof(m2), BPF_ANY),
		  "rewrite behind the loader");
	ASSERT_EQ(counted_model(f, &tcp), MODEL, "the cache answers");
	ASSERT_OK(dp_set_endpoint(f->dp, &ep, &m2), "rewrite through the loader");
	ASSERT_EQ(counted_model(f, &tcp), MODEL2, "a rewrite retires the cache");
	ASSERT_OK(dp_set_endpoint(f->dp, &ep, &m1), "and back");
	ASSERT_EQ(counted_model(f, &tcp), MODEL, "rewritten again");

	/*
	 * A second loader on the same pins (an agent restarting while the
	 * first one's programs are still attached) changes the map: the
	 * first load's program sees it too.
	 */
	cfg.pin_dir = f->pin_dir;
	ASSERT_OK(dp_open(&other_dp, &cfg), "second loader");
	ASSERT_OK(dp_set_endpoint(other_dp, &ep, &m2), "rewrite through the second");
	dp_close(other_dp);
	ASSERT_EQ(counted_model(f, &tcp), MODEL2, "the first load sees it");
	ASSERT_OK(dp_set_endpoint(f->dp, &ep, &m1), "back through the first");
	ASSERT_EQ(counted_model(f, &tcp), MODEL, "and again");

	/* Same address and port, other protocol: same slot, told apart. */
	ASSERT_OK(dp_set_endpoint(f->dp, &udp, &m2), "UDP to model 2");
	ASSERT_EQ(counted_model(f, &u), MODEL2, "UDP");
	ASSERT_EQ(counted_model(f, &tcp), MODEL, "TCP after UDP");
	ASSERT_EQ(counted_model(f, &u), MODEL2, "UDP after TCP");

	/* A wildcard answer is cached too, and an exact entry added later wins. */
	ASSERT_OK(dp_set_endpoint(f->dp, &wild, &m2), "wildcard on 443");
	ASSERT_EQ(counted_model(f, &other), MODEL2, "wildcard");
	ASSERT_OK(dp_set_endpoint(f->dp, &other_ep, &m1), "exact for .77");
	ASSERT_EQ(counted_model(f, &other), MODEL, "the new exact entry");

	/* A delete retires it as well. */
	ASSERT_OK(dp_del_endpoint(f->dp, &other_ep), "delete exact .77");
	ASSERT_EQ(counted_model(f, &other), MODEL2, "back to the wildcard");
	ASSERT_OK(dp_del_endpoint(f->dp, &wild), "delete wildcard");
	ASSERT_EQ(counted_model(f, &other), 0, "not served");
	ASSERT_OK(dp_del_endpoint(f->dp, &ep), "delete exact TCP");
	ASSERT_EQ(counted_model(f, &tcp), 0, "deleted");
}

static void xdp_vlan_options_and_fragments(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = syn_from("203.0.113.9");
	struct pkt_spec later = { .family = 4, .src = "203.0.113.9",
				  .dst = "198.51.100.10", .proto = IPPROTO_UDP,
				  .frag_offset = 100, .payload_len = 200 };
	const struct meter_record *r;
	struct meter_record *recs;
	size_t n;

	test_need_bpf();
	s.vlan_tpid[0] = 0x88A8;
	s.vlan_tpid[1] = 0x8100;
	s.ipv4_opt_len = 8;
	s.tcp_opt_len = 12;
	ASSERT_EQ(run_xdp(f, &s), XDP_DROP, "qinq with options denied");
	/* A later fragment has no ports: the address-only entry applies. */
	ASSERT_EQ(run_xdp(f, &later), XDP_DROP, "later fragment denied");
	recs = take_meters(f, &n);
	r = find(recs, n, TENANT, MODEL, "IR", DIR_INGRESS, LAYER_XDP, VERDICT_DENY);
	ASSERT_OK_PTR(r, "counter");
	ASSERT_EQ(r->value.packets, 2, "both counted");
	ASSERT_EQ(r->value.bytes, (28 + 32) + (20 + 200), "L3 bytes of both");
	free(recs);
}

static void xdp_ipv6_and_v4mapped(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = { .family = 6, .src = "::ffff:203.0.113.9",
			      .dst = "2001:db8::10", .proto = IPPROTO_UDP,
			      .sport = 5000, .dport = 443, .ext = { 0, 60 },
			      .n_ext = 2, .payload_len = 50 };
	const struct meter_record *r;
	struct meter_record *recs;
	size_t n;

	test_need_bpf();
	/* A v4-mapped source is judged by its IPv4 country. */
	ASSERT_EQ(run_xdp(f, &s), XDP_DROP, "v4-mapped IR denied");
	recs = take_meters(f, &n);
	r = find(recs, n, TENANT, MODEL, "IR", DIR_INGRESS, LAYER_XDP, VERDICT_DENY);
	ASSERT_OK_PTR(r, "v6 counter");
	ASSERT_EQ(r->value.bytes, 40 + 16 + 8 + 50, "v6 L3 bytes");
	free(recs);
}

static void xdp_truncated_passes_and_counts_parse_error(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = syn_from("203.0.113.9");
	__u64 before[STAT_MAX], after[STAT_MAX];
	__u32 ret = 0;

	test_need_bpf();
	ASSERT_OK(dp_stats_read(f->dp, before), "stats before");
	run_xdp(f, &s);
	/* Cut inside the TCP header. */
	ASSERT_OK(pkt_run(bpf_program__fd(dp_skeleton(f->dp)->progs.xdp_ingress),
			  f->pkt, 14 + 20 + 10, &ret), "run truncated");
	ASSERT_EQ(ret, XDP_PASS, "truncated passes");
	ASSERT_OK(dp_stats_read(f->dp, after), "stats after");
	ASSERT_EQ(after[STAT_PARSE_ERROR] - before[STAT_PARSE_ERROR], 1, "parse error");
	free(take_meters(f, &(size_t){ 0 }));
}

static void flip_reads_each_interval_once(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec s = syn_from("192.0.2.5");
	struct meter_record *recs;
	size_t n;

	test_need_bpf();
	run_xdp(f, &s);
	run_xdp(f, &s);
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 1, "interval 1 one key");
	ASSERT_EQ(recs[0].value.packets, 2, "interval 1 packets");
	free(recs);
	run_xdp(f, &s);
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 1, "interval 2 one key");
	ASSERT_EQ(recs[0].value.packets, 1, "interval 2 has only its own");
	free(recs);
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 0, "interval 3 empty");
	free(recs);
}

static void full_buffer_counts_into_overflow(void **state)
{
	struct fixture *f = *state;
	struct dp_config cfg = { .meter_entries = 3, .events_per_sec = 100000 };
	static const char *src[] = { "192.0.2.5", "203.0.113.9", "198.18.0.1",
				     "100.64.0.1", "198.51.100.77" };
	__u64 before[STAT_MAX], after[STAT_MAX];
	struct meter_record *recs;
	__u64 total = 0, overflow = 0;
	size_t n, i;

	test_need_bpf();
	teardown(state);
	ASSERT_OK(open_dp(f, &cfg), "reopen with 3 entries");
	testgeo_set(f->dp, "198.51.100.0/24", "FR");
	ASSERT_OK(dp_stats_read(f->dp, before), "stats");
	for (i = 0; i < 5; i++) {
		struct pkt_spec s = syn_from(src[i]);

		run_xdp(f, &s);
	}
	ASSERT_OK(dp_stats_read(f->dp, after), "stats");
	recs = take_meters(f, &n);
	for (i = 0; i < n; i++) {
		total += recs[i].value.packets;
		if (recs[i].key.tenant == METER_OVERFLOW_TENANT)
			overflow += recs[i].value.packets;
	}
	/* The overflow key holds one of three slots: two keys fit, three spill. */
	ASSERT_EQ(total, 5, "nothing lost");
	ASSERT_EQ(overflow, 3, "three into overflow");
	ASSERT_EQ(after[STAT_METER_OVERFLOW] - before[STAT_METER_OVERFLOW], 3,
		  "overflow stat");
	free(recs);
	/* Cleared buffers get their overflow key back. */
	recs = take_meters(f, &n);
	free(recs);
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 0, "empty after two flips");
	free(recs);
}

/* Packets of one XDP key: total over the records (a key appears once). */
static __u64 key_packets(const struct meter_record *r, size_t n, const char *country)
{
	const struct meter_record *m = find(r, n, TENANT, MODEL, country, DIR_INGRESS,
					    LAYER_XDP, VERDICT_ALLOW);
	size_t i, seen = 0;

	ASSERT_OK_PTR(m, country);
	for (i = 0; i < n; i++)
		seen += !memcmp(&r[i].key, &m->key, sizeof(m->key));
	ASSERT_EQ(seen, 1, "one record per key");
	return m->value.packets;
}

/*
 * Stale keys give way: a table full of keys no longer counted is swapped
 * for the empty one at a flip, the old one emptied once both buffers have
 * been read, and the live key is counted exactly throughout, first in one
 * table, then in the other.
 */
static void stale_keys_give_way_to_the_other_table(void **state)
{
	struct fixture *f = *state;
	struct dp_config cfg = { .meter_entries = 8, .events_per_sec = 100000 };
	struct pkt_spec s = syn_from("198.51.100.77");
	struct meter_key stale[5], next;
	struct meter_value *ones;
	struct meter_record *recs;
	__u64 before[STAT_MAX], after[STAT_MAX];
	__u32 used, slots;
	int ncpu = libbpf_num_possible_cpus(), i, c, fd;
	size_t n;

	test_need_bpf();
	teardown(state);
	ASSERT_OK(open_dp(f, &cfg), "reopen with 8 slots");
	testgeo_set(f->dp, "198.51.100.0/24", "FR");
	ASSERT_OK(dp_stats_read(f->dp, before), "stats");
	ones = calloc((size_t)ncpu * 5, sizeof(*ones));
	for (i = 0; i < 5; i++) {
		stale[i] = (struct meter_key){ .tenant = 100 + i, .model = MODEL };
		for (c = 0; c < ncpu; c++)
			ones[i * ncpu + c] = (struct meter_value){ 1, 60 };
	}
	ASSERT_OK(dp_meter_inject(f->dp, stale, ones, 5), "five keys");
	free(ones);
	run_xdp(f, &s);
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 6, "interval 1: six keys");
	ASSERT_EQ(key_packets(recs, n, "FR"), 1, "interval 1: live key");
	free(recs);

	run_xdp(f, &s);
	run_xdp(f, &s);
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 1, "interval 2: the live key only");
	ASSERT_EQ(key_packets(recs, n, "FR"), 2, "interval 2: live key");
	free(recs);
	dp_meter_fill(f->dp, &used, &slots);
	ASSERT_EQ(used, 7, "overflow slot, five stale keys and the live one");
	ASSERT_EQ(slots, 8, "slots");

	/* Seven of eight slots, one counted: the flip gives new keys the other table. */
	for (i = 0; i < 3; i++)
		run_xdp(f, &s);
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 1, "interval 3: one key");
	ASSERT_EQ(key_packets(recs, n, "FR"), 3, "interval 3: counted in the old table");
	free(recs);
	dp_meter_fill(f->dp, &used, &slots);
	ASSERT_EQ(used, 1, "the new table holds only its overflow slot");

	run_xdp(f, &s);
	recs = take_meters(f, &n);
	ASSERT_EQ(n, 1, "interval 4: one key");
	ASSERT_EQ(key_packets(recs, n, "FR"), 1, "interval 4: counted in the new table");
	free(recs);
	dp_meter_fill(f->dp, &used, &slots);
	ASSERT_EQ(used, 2, "overflow slot and the live key");

	/* Both buffers were read since the switch: the old table is empty. */
	fd = bpf_map__fd(dp_skeleton(f->dp)->maps.meter_index0);
	ASSERT_TRUE(bpf_map_get_next_key(fd, NULL, &next) && errno == ENOENT, "old index emptied");
	ASSERT_OK(dp_stats_read(f->dp, after), "stats");
	ASSERT_EQ(after[STAT_METER_OVERFLOW] - before[STAT_METER_OVERFLOW], 0,
		  "nothing overflowed");
}

static void events_are_rate_limited_and_counted(void **state)
{
	struct fixture *f = *state;
	struct dp_config cfg = { .events_per_sec = 1, .events_burst = 2 };
	__u64 before[STAT_MAX], after[STAT_MAX];
	struct pkt_spec s = syn_from("203.0.113.9");
	int i;

	test_need_bpf();
	teardown(state);
	ASSERT_OK(open_dp(f, &cfg), "reopen with a budget of 2");
	ASSERT_OK(dp_stats_read(f->dp, before), "stats");
	for (i = 0; i < 5; i++)
		ASSERT_EQ(run_xdp(f, &s), XDP_DROP, "denied");
	drain_events(f);
	ASSERT_OK(dp_stats_read(f->dp, after), "stats");
	ASSERT_EQ(f->n_events, 2, "burst of two events");
	ASSERT_EQ(after[STAT_EVENTS_RATELIMITED] - before[STAT_EVENTS_RATELIMITED], 3,
		  "three refused by the budget");
	free(take_meters(f, &(size_t){ 0 }));
}

/* cgroup_skb through BPF_PROG_RUN: the test's own cgroup is the tenant. */
static void skb_tenant_from_nearest_ancestor(void **state)
{
	struct fixture *f = *state;
	struct dataplane *skel;
	struct tenant_info who = { 42, MODEL };
	struct pkt_spec in = syn_from("203.0.113.9");
	struct pkt_spec out = { .family = 4, .src = "198.51.100.10", .dst = "192.0.2.8",
				.proto = IPPROTO_UDP, .sport = 443, .dport = 5000,
				.payload_len = 300 };
	const struct meter_record *r;
	struct meter_record *recs;
	char leaf[512];
	struct testcg cg;
	struct stat st;
	size_t n;

	test_need_bpf();
	test_need(testcg_mount() != NULL, "a cgroup2 mount");
	skel = dp_skeleton(f->dp);
	ASSERT_OK(testcg_setup(&cg, "skb"), "cgroup setup");
	ASSERT_OK(testcg_mkdir(&cg, "tenant/replica/worker", leaf, sizeof(leaf)), "mkdir");
	/* The tenant is registered two levels above where the process runs. */
	snprintf(leaf, sizeof(leaf), "%s/tenant", cg.path);
	ASSERT_OK(stat(leaf, &st), "stat tenant cgroup");
	ASSERT_OK(dp_set_tenant(f->dp, st.st_ino, &who), "set tenant");
	snprintf(leaf, sizeof(leaf), "%s/tenant/replica/worker", cg.path);
	ASSERT_OK(testcg_move(leaf, getpid()), "enter leaf");

	ASSERT_EQ(run_prog(f, skel->progs.skb_ingress, &in), 0, "ingress IR dropped");
	ASSERT_EQ(run_prog(f, skel->progs.skb_egress, &out), 1, "egress DE allowed");
	testcg_teardown(&cg);

	recs = take_meters(f, &n);
	r = find(recs, n, 42, MODEL, "IR", DIR_INGRESS, LAYER_SKB, VERDICT_DENY);
	ASSERT_OK_PTR(r, "ingress counter");
	ASSERT_EQ(r->value.bytes, 40, "ingress bytes = skb->len");
	r = find(recs, n, 42, MODEL, "DE", DIR_EGRESS, LAYER_SKB, VERDICT_ALLOW);
	ASSERT_OK_PTR(r, "egress counter by destination");
	ASSERT_EQ(r->value.bytes, 20 + 8 + 300, "egress bytes");
	free(recs);
}

static void skb_unknown_tenant(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec in = syn_from("203.0.113.9");
	struct meter_record *recs;
	size_t n;

	test_need_bpf();
	/* No tenant for this cgroup: model 0's rows, which allow everything. */
	ASSERT_EQ(run_prog(f, dp_skeleton(f->dp)->progs.skb_ingress, &in), 1,
		  "unknown tenant passes");
	recs = take_meters(f, &n);
	ASSERT_OK_PTR(find(recs, n, TENANT_UNKNOWN, MODEL_UNKNOWN, "IR", DIR_INGRESS,
			   LAYER_SKB, VERDICT_ALLOW), "unknown tenant counter");
	free(recs);
}

/*
 * A destination unreachable leaving the serving side, built as the kernel
 * sends it: the outer packet from `from` to `to` (the client) with an
 * ICMP/ICMPv6 header of type and code, quoting the first `quote` bytes
 * (all when negative) of the packet `inner` describes, from its IP header.
 */
static int build_unreach(struct fixture *f, int family, const char *from, const char *to,
			 __u8 type, __u8 code, const struct pkt_spec *inner, int quote)
{
	struct pkt_spec outer = { .family = family, .src = from, .dst = to,
				  .proto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6 };
	struct pkt_spec in = *inner;
	__u8 quoted[PKT_MAX];
	__u8 *icmp;
	int n;

	in.l3_only = true;
	n = pkt_build(&in, quoted, sizeof(quoted));
	if (n < 0)
		return n;
	if (quote >= 0 && quote < n)
		n = quote;
	outer.payload_len = (__u32)(8 + n);
	f->len = pkt_build(&outer, f->pkt, sizeof(f->pkt));
	if (f->len < 0)
		return f->len;
	icmp = f->pkt + f->len - outer.payload_len;
	memset(icmp, 0, 8);
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 8, quoted, (size_t)n);
	return 0;
}

/* tcx's "run the next program": the counter never decides anything. */
#define TCX_NEXT_RET ((__u32)-1)

static __u32 run_unreach(struct fixture *f)
{
	__u32 ret = 0;

	ASSERT_OK(pkt_run(bpf_program__fd(dp_skeleton(f->dp)->progs.tc_unreach_egress),
			  f->pkt, (size_t)f->len, &ret), "tc prog_run");
	return ret;
}

/* The outcome record of (TENANT, model, country) for served endpoints. */
static struct tcp_outcome outcome_of(struct fixture *f, __u32 model, const char *c,
				     size_t *n_records)
{
	struct tcp_outcome_record *tcp = NULL;
	struct tcp_outcome got = { 0 };
	size_t n = 0, i;

	ASSERT_OK(dp_tcp_read(f->dp, &tcp, &n), "outcomes read");
	for (i = 0; i < n; i++)
		if (tcp[i].key.tenant == TENANT && tcp[i].key.model == model &&
		    tcp[i].key.country == cc(c) && tcp[i].key.direction == DIR_INGRESS)
			got = tcp[i].value;
	free(tcp);
	if (n_records)
		*n_records = n;
	return got;
}

static void unreach_v4_counts_for_endpoint_and_client_country(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec udp = { .family = 4, .src = "192.0.2.5", .dst = "198.51.100.10",
				.proto = IPPROTO_UDP, .sport = 40000, .dport = 443,
				.ipv4_opt_len = 8, .payload_len = 30 };
	struct pkt_spec syn = syn_from("192.0.2.5");
	struct pkt_spec wild = syn_from("203.0.113.9");
	struct tcp_outcome o;

	test_need_bpf();
	/* Port unreachable for UDP, the quote's IPv4 options walked. */
	ASSERT_OK(build_unreach(f, 4, "198.51.100.10", "192.0.2.5", 3, 3, &udp, -1), "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "udp port unreachable passes on");
	/* A firewall's admin-prohibited for a SYN: an attempt refused too. */
	ASSERT_OK(build_unreach(f, 4, "198.51.100.10", "192.0.2.5", 3, 13, &syn, -1), "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "admin prohibited passes on");
	/* RFC 792's minimum quote: ports, but no TCP flags to call it a SYN. */
	ASSERT_OK(build_unreach(f, 4, "198.51.100.10", "192.0.2.5", 3, 10, &syn, 20 + 8),
		  "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "short quote passes on");
	o = outcome_of(f, MODEL, "DE", NULL);
	ASSERT_EQ(o.unreach_sent, 3, "three unreachables for DE");
	ASSERT_EQ(o.attempts, 1, "the quoted SYN is an attempt");
	ASSERT_EQ(o.attempts_refused, 1, "refused");
	ASSERT_EQ(o.established, 0, "none established");
	/* The wildcard endpoint, and the country of the unreachable's destination. */
	wild.dst = "198.51.100.99";
	wild.dport = 8443;
	ASSERT_OK(build_unreach(f, 4, "198.51.100.99", "203.0.113.9", 3, 1, &wild, -1),
		  "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "host unreachable passes on");
	o = outcome_of(f, MODEL2, "IR", NULL);
	ASSERT_EQ(o.unreach_sent, 1, "wildcard endpoint's model, IR");
	ASSERT_EQ(percpu_u64_sum(bpf_map__fd(dp_skeleton(f->dp)->maps.stats),
				 STAT_PARSE_ERROR), 0, "no parse errors");
}

static void unreach_v6_counts_through_extension_headers(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec udp = { .family = 6, .src = "2001:db8:de::5", .dst = "2001:db8::10",
				.proto = IPPROTO_UDP, .sport = 5000, .dport = 443,
				.ext = { 0, 60 }, .n_ext = 2, .payload_len = 20 };
	struct pkt_spec mapped = udp;
	struct tcp_outcome o;

	test_need_bpf();
	ASSERT_OK(testgeo_set(f->dp, "2001:db8:de::/48", "DE"), "geo v6");
	ASSERT_OK(build_unreach(f, 6, "2001:db8::10", "2001:db8:de::5", 1, 4, &udp, -1),
		  "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "icmpv6 port unreachable passes on");
	/* A v4-mapped client is placed by its IPv4 address. */
	mapped.src = "::ffff:203.0.113.9";
	mapped.n_ext = 0;
	ASSERT_OK(build_unreach(f, 6, "2001:db8::10", "::ffff:203.0.113.9", 1, 1, &mapped, -1),
		  "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "icmpv6 admin prohibited passes on");
	o = outcome_of(f, MODEL, "DE", NULL);
	ASSERT_EQ(o.unreach_sent, 1, "DE counted");
	ASSERT_EQ(o.attempts, 0, "udp: no attempt");
	o = outcome_of(f, MODEL, "IR", NULL);
	ASSERT_EQ(o.unreach_sent, 1, "v4-mapped client counted under IR");
}

/*
 * A TCP segment leaving the serving side, its sequence number set
 * (pkt_build leaves it 0), through the tc counter.
 */
static __u32 run_tc_seq(struct fixture *f, const struct pkt_spec *s, __u32 seq)
{
	__u32 be = htonl(seq);

	f->len = pkt_build(s, f->pkt, sizeof(f->pkt));
	ASSERT_TRUE(f->len > 0, "pkt_build");
	/* Ethernet, then a 20- or 40-byte IP header, then the TCP sequence. */
	memcpy(f->pkt + 14 + (s->family == 4 ? 20 : 40) + 4, &be, sizeof(be));
	return run_unreach(f);
}

/*
 * The host's reset to an attempt: RST|ACK with sequence 0 from a served
 * endpoint, a refused attempt. A socket's own reset (its sequence) and the
 * host's reset to a segment of a gone connection (RST alone) are no
 * attempt and not counted here.
 */
static void host_resets_to_attempts_count_as_refused_attempts(void **state)
{
	struct fixture *f = *state;
	struct tenant_info m1 = { TENANT, MODEL };
	struct endpoint_key ep6 = { .port = 443, .proto = IPPROTO_TCP, .family = 6 };
	struct pkt_spec rst = { .family = 4, .src = "198.51.100.10", .dst = "192.0.2.5",
				.proto = IPPROTO_TCP, .sport = 443, .dport = 40000,
				.tcp_flags = 0x14 };
	struct pkt_spec rst6 = rst, wild = rst, other = rst;
	int stats = bpf_map__fd(dp_skeleton(f->dp)->maps.stats);
	struct tcp_outcome o;

	test_need_bpf();
	ASSERT_EQ(run_tc_seq(f, &rst, 0), TCX_NEXT_RET, "rst|ack, seq 0, passes on");
	ASSERT_EQ(run_tc_seq(f, &rst, 0x5eed), TCX_NEXT_RET, "a socket's rst|ack passes on");
	rst.tcp_flags = 0x04;
	ASSERT_EQ(run_tc_seq(f, &rst, 0x5eed), TCX_NEXT_RET, "rst alone passes on");
	o = outcome_of(f, MODEL, "DE", NULL);
	ASSERT_EQ(o.attempts, 1, "the seq 0 rst|ack answered an attempt");
	ASSERT_EQ(o.attempts_refused, 1, "refused");
	ASSERT_EQ(o.attempts_reset, 1, "refused with a reset");
	ASSERT_EQ(o.resets_sent, 1, "the other two are not the host's resets to attempts");
	ASSERT_EQ(o.unreach_sent, 0, "no unreachable");
	/* IPv6, to an IR client. */
	inet_pton(AF_INET6, "2001:db8::10", ep6.addr);
	ASSERT_OK(dp_set_endpoint(f->dp, &ep6, &m1), "v6 tcp endpoint");
	ASSERT_OK(testgeo_set(f->dp, "2001:db8:1::/48", "IR"), "geo v6");
	rst6.family = 6;
	rst6.src = "2001:db8::10";
	rst6.dst = "2001:db8:1::7";
	ASSERT_EQ(run_tc_seq(f, &rst6, 0), TCX_NEXT_RET, "v6 rst|ack passes on");
	o = outcome_of(f, MODEL, "IR", NULL);
	ASSERT_EQ(o.attempts_reset, 1, "v6: refused with a reset");
	ASSERT_EQ(o.resets_sent, 1, "v6: one reset");
	/* The wildcard endpoint (any address, port 8443): model 2. */
	wild.src = "198.51.100.99";
	wild.sport = 8443;
	ASSERT_EQ(run_tc_seq(f, &wild, 0), TCX_NEXT_RET, "wildcard rst|ack passes on");
	o = outcome_of(f, MODEL2, "DE", NULL);
	ASSERT_EQ(o.attempts_reset, 1, "wildcard endpoint's model");
	/* From a port no endpoint serves, or a segment that is no reset: nothing. */
	other.sport = 444;
	ASSERT_EQ(run_tc_seq(f, &other, 0), TCX_NEXT_RET, "unserved port passes on");
	other.sport = 443;
	other.tcp_flags = 0x11;
	ASSERT_EQ(run_tc_seq(f, &other, 0), TCX_NEXT_RET, "fin|ack passes on");
	o = outcome_of(f, MODEL, "DE", NULL);
	ASSERT_EQ(o.resets_sent, 1, "unchanged by the unserved port and the fin");
	ASSERT_EQ(o.attempts, 1, "unchanged");
	ASSERT_EQ(percpu_u64_sum(stats, STAT_PARSE_ERROR), 0, "no parse errors");
}

static void unreach_not_counted_unless_a_refusal_of_a_served_endpoint(void **state)
{
	struct fixture *f = *state;
	struct pkt_spec udp = { .family = 4, .src = "192.0.2.5", .dst = "198.51.100.10",
				.proto = IPPROTO_UDP, .sport = 40000, .dport = 443,
				.payload_len = 30 };
	struct pkt_spec udp6 = { .family = 6, .src = "2001:db8:de::5", .dst = "2001:db8::10",
				 .proto = IPPROTO_UDP, .sport = 5000, .dport = 443,
				 .payload_len = 20 };
	struct pkt_spec other = udp, resp = syn_from("192.0.2.5");
	int stats = bpf_map__fd(dp_skeleton(f->dp)->maps.stats);
	size_t n = 0;

	test_need_bpf();
	/* Path MTU discovery is not a refusal, in either family. */
	ASSERT_OK(build_unreach(f, 4, "198.51.100.10", "192.0.2.5", 3, 4, &udp, -1), "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "frag needed passes on");
	ASSERT_OK(build_unreach(f, 6, "2001:db8::10", "2001:db8:de::5", 2, 0, &udp6, -1),
		  "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "packet too big passes on");
	/* Time exceeded is no unreachable. */
	ASSERT_OK(build_unreach(f, 4, "198.51.100.10", "192.0.2.5", 11, 0, &udp, -1), "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "time exceeded passes on");
	/* A port nobody serves. */
	other.dport = 444;
	ASSERT_OK(build_unreach(f, 4, "198.51.100.10", "192.0.2.5", 3, 3, &other, -1), "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "not served passes on");
	/* Ordinary traffic leaving: a TCP segment. */
	resp.src = "198.51.100.10";
	resp.dst = "192.0.2.5";
	resp.sport = 443;
	resp.dport = 40000;
	resp.tcp_flags = 0x12;
	run_prog(f, dp_skeleton(f->dp)->progs.tc_unreach_egress, &resp);
	ASSERT_EQ(percpu_u64_sum(stats, STAT_PARSE_ERROR), 0, "none of these is an error");
	/* Quotes cut inside the IP header and before the ports end. */
	ASSERT_OK(build_unreach(f, 4, "198.51.100.10", "192.0.2.5", 3, 3, &udp, 12), "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "quote cut in the ip header passes on");
	ASSERT_OK(build_unreach(f, 4, "198.51.100.10", "192.0.2.5", 3, 3, &udp, 20 + 3), "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "quote cut in the ports passes on");
	ASSERT_OK(build_unreach(f, 6, "2001:db8::10", "2001:db8:de::5", 1, 4, &udp6, 39),
		  "build");
	ASSERT_EQ(run_unreach(f), TCX_NEXT_RET, "v6 quote cut passes on");
	outcome_of(f, MODEL, "DE", &n);
	ASSERT_EQ(n, 0, "nothing counted");
	ASSERT_EQ(percpu_u64_sum(stats, STAT_PARSE_ERROR), 3,
		  "unreachables that cannot be attributed are parse errors");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(xdp_allow_counts_exact_key_and_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_deny_drops_counts_and_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_audit_passes_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_unknown_country_uses_zz_row, setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_no_endpoint_passes_uncounted, setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_wildcard_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_served_port_filter_follows_the_endpoint_map,
						setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_endpoint_cache_follows_every_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(geo_table_of_another_layout_is_replaced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(xdp_vlan_options_and_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_ipv6_and_v4mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(xdp_truncated_passes_and_counts_parse_error, setup, teardown),
		cmocka_unit_test_setup_teardown(flip_reads_each_interval_once, setup, teardown),
		cmocka_unit_test_setup_teardown(full_buffer_counts_into_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_keys_give_way_to_the_other_table, setup, teardown),
		cmocka_unit_test_setup_teardown(events_are_rate_limited_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(skb_tenant_from_nearest_ancestor, setup, teardown),
		cmocka_unit_test_setup_teardown(skb_unknown_tenant, setup, teardown),
		cmocka_unit_test_setup_teardown(unreach_v4_counts_for_endpoint_and_client_country,
						setup, teardown),
		cmocka_unit_test_setup_teardown(unreach_v6_counts_through_extension_headers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(host_resets_to_attempts_count_as_refused_attempts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(unreach_not_counted_unless_a_refusal_of_a_served_endpoint,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf/dataplane", tests, NULL, NULL);
}
