// SPDX-License-Identifier: BSD-2-Clause
/*
 * How the data plane attaches: it never replaces another XDP program, its
 * cgroup links sit beside programs others attached (multi-attach), a
 * second loader swaps its programs into the pinned links without a gap,
 * the tcx egress counter joins others' tcx programs on the interface and
 * is checked and repaired like every link, an outcome map of an older
 * layout is replaced rather than refusing the load, and detach-all
 * removes exactly what customs made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "netenv.h"
#include "dataplane.h"
#include "parse.h"
#include "strbuf.h"
#include "pktclass.skel.h"
#include "dataplane.skel.h"

static void pin_dir_for(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "/sys/fs/bpf/customs-test-%s-%d", what, (int)getpid());
	dp_detach_all(buf);
}

static __u32 xdp_prog_id(struct netenv *env)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ifindex = netenv_ifindex(env, 0);

	netenv_enter(env, 0);
	bpf_xdp_query(ifindex, 0, &q);
	netenv_enter(env, -1);
	return q.prog_id;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static void xdp_never_replaces_another_program(void **state)
{
	struct dp_config cfg = { .models = 1 };
	struct pktclass *other = NULL;
	struct netenv env;
	struct dp *dp = NULL;
	char pins[128];
	int link = -1, ifindex, err;

	(void)state;
	test_need_bpf();
	pin_dir_for(pins, sizeof(pins), "xdpbusy");
	cfg.pin_dir = pins;
	ASSERT_OK(netenv_setup(&env, "busy"), "netenv");
	other = pktclass__open_and_load();
	ASSERT_OK_PTR(other, "load another xdp program");
	ifindex = netenv_ifindex(&env, 0);
	netenv_enter(&env, 0);
	link = bpf_link_create(bpf_program__fd(other->progs.xdp_pktclass), ifindex,
			       BPF_XDP, NULL);
	netenv_enter(&env, -1);
	ASSERT_TRUE(link >= 0, "other program attached");

	ASSERT_OK(dp_open(&dp, &cfg), "dp_open");
	netenv_enter(&env, 0);
	err = dp_attach_xdp(dp, NETENV_IF_A, DP_XDP_NATIVE);
	netenv_enter(&env, -1);
	ASSERT_TRUE(err == -EBUSY || err == -EEXIST, "attach refused");
	ASSERT_EQ(xdp_prog_id(&env), prog_id(bpf_program__fd(other->progs.xdp_pktclass)),
		  "the other program is still attached");

	close(link);
	dp_close(dp);
	ASSERT_OK(dp_detach_all(pins), "detach all");
	pktclass__destroy(other);
	netenv_teardown(&env);
}

static void xdp_generic_mode_is_explicit(void **state)
{
	struct dp_config cfg = { .models = 1 };
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct netenv env;
	struct dp *dp = NULL;
	char pins[128];
	int ifindex;

	(void)state;
	test_need_bpf();
	pin_dir_for(pins, sizeof(pins), "xdpgen");
	cfg.pin_dir = pins;
	ASSERT_OK(netenv_setup(&env, "gen"), "netenv");
	ASSERT_OK(dp_open(&dp, &cfg), "dp_open");
	ifindex = netenv_ifindex(&env, 0);
	netenv_enter(&env, 0);
	ASSERT_OK(dp_attach_xdp(dp, NETENV_IF_A, DP_XDP_GENERIC), "attach generic");
	bpf_xdp_query(ifindex, 0, &q);
	netenv_enter(&env, -1);
	ASSERT_EQ(q.attach_mode, XDP_ATTACHED_SKB, "attached in skb mode");
	dp_close(dp);
	ASSERT_OK(dp_detach_all(pins), "detach all");
	netenv_enter(&env, 0);
	bpf_xdp_query(ifindex, 0, &q);
	netenv_enter(&env, -1);
	ASSERT_EQ(q.prog_id, 0, "detached with its pin");
	netenv_teardown(&env);
}

static __u32 cgroup_prog_count(const char *path, enum bpf_attach_type type)
{
	__u32 ids[16], cnt = 16, flags = 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		return 0;
	if (bpf_prog_query(fd, type, 0, &flags, ids, &cnt))
		cnt = 0;
	close(fd);
	return cnt;
}

static void cgroup_links_sit_beside_others_and_are_swapped_in_place(void **state)
{
	struct dp_config cfg = { .models = 1 };
	struct dataplane *other = NULL;
	struct dp *dp = NULL, *dp2 = NULL;
	struct testcg cg;
	char pins[128], path[256];
	int other_link = -1, cgfd, link_fd;
	struct bpf_link_info li = {};
	__u32 len = sizeof(li), link_id;

	(void)state;
	test_need_bpf();
	test_need(testcg_mount() != NULL, "a cgroup2 mount");
	pin_dir_for(pins, sizeof(pins), "cgmulti");
	cfg.pin_dir = pins;
	ASSERT_OK(testcg_setup(&cg, "multi"), "cgroup");
	/* Someone else's program on the same hook, attached first. */
	other = dataplane__open_and_load();
	ASSERT_OK_PTR(other, "load other");
	cgfd = open(cg.path, O_RDONLY | O_DIRECTORY);
	other_link = bpf_link_create(bpf_program__fd(other->progs.skb_ingress), cgfd,
				     BPF_CGROUP_INET_INGRESS, NULL);
	ASSERT_TRUE(other_link >= 0, "other attached");

	ASSERT_OK(dp_open(&dp, &cfg), "dp_open");
	ASSERT_OK(dp_attach_cgroup(dp, cg.path), "attach");
	ASSERT_EQ(cgroup_prog_count(cg.path, BPF_CGROUP_INET_INGRESS), 2, "both attached");
	ASSERT_EQ(cgroup_prog_count(cg.path, BPF_CGROUP_INET4_CONNECT), 1, "connect4");
	ASSERT_EQ(cgroup_prog_count(cg.path, BPF_CGROUP_SOCK_OPS), 1, "sockops");

	snprintf(path, sizeof(path), "%s/links/cgroup-ingress", pins);
	link_fd = bpf_obj_get(path);
	ASSERT_TRUE(link_fd >= 0, "ingress link pinned");
	ASSERT_OK(bpf_obj_get_info_by_fd(link_fd, &li, &len), "link info");
	link_id = li.id;
	close(link_fd);

	/* A second loader adopts: same link, its own program swapped in. */
	dp_close(dp);
	ASSERT_OK(dp_open(&dp2, &cfg), "dp_open again");
	ASSERT_TRUE(dp_adopted(dp2), "adopted");
	ASSERT_OK(dp_attach_cgroup(dp2, cg.path), "attach again");
	ASSERT_EQ(cgroup_prog_count(cg.path, BPF_CGROUP_INET_INGRESS), 2, "still two");
	link_fd = bpf_obj_get(path);
	memset(&li, 0, sizeof(li));
	len = sizeof(li);
	ASSERT_OK(bpf_obj_get_info_by_fd(link_fd, &li, &len), "link info again");
	close(link_fd);
	ASSERT_EQ(li.id, link_id, "the same link");
	ASSERT_EQ(li.prog_id, prog_id(bpf_program__fd(dp_skeleton(dp2)->progs.skb_ingress)),
		  "with the new program");

	dp_close(dp2);
	ASSERT_OK(dp_detach_all(pins), "detach all");
	ASSERT_EQ(cgroup_prog_count(cg.path, BPF_CGROUP_INET_INGRESS), 1,
		  "only the other program remains");
	ASSERT_EQ(cgroup_prog_count(cg.path, BPF_CGROUP_INET4_CONNECT), 0, "ours gone");
	ASSERT_TRUE(access(pins, F_OK) != 0, "pin directory removed");
	close(other_link);
	close(cgfd);
	dataplane__destroy(other);
	testcg_teardown(&cg);
}

/* The programs on an interface's tcx egress, in order; their count. */
static __u32 tcx_egress_progs(struct netenv *env, __u32 ids[8])
{
	__u32 cnt = 8, flags = 0;
	int ifindex = netenv_ifindex(env, 0);

	memset(ids, 0, 8 * sizeof(*ids));
	netenv_enter(env, 0);
	/* target_fd is the union member the kernel reads as target_ifindex. */
	if (bpf_prog_query(ifindex, (enum bpf_attach_type)ABI_BPF_TCX_EGRESS, 0, &flags,
			   ids, &cnt))
		cnt = 0;
	netenv_enter(env, -1);
	return cnt;
}

static void tcx_egress_sits_beside_others_adopted_repaired_and_removed(void **state)
{
	struct dp_config cfg = { .models = 1 };
	struct dataplane *other = NULL;
	struct dp *dp = NULL, *dp2 = NULL;
	struct strbuf report;
	const char *ifnames[] = { NETENV_IF_A };
	struct bpf_link_info li = {};
	__u32 ids[8], len = sizeof(li), link_id, other_id;
	char pins[128], path[256];
	struct netenv env;
	int other_link = -1, fd, ifindex;

	(void)state;
	test_need_bpf();
	pin_dir_for(pins, sizeof(pins), "tcx");
	cfg.pin_dir = pins;
	strbuf_init(&report);
	ASSERT_OK(netenv_setup(&env, "tcx"), "netenv");
	/* Someone else's tc program on the same egress, attached first. */
	other = dataplane__open_and_load();
	ASSERT_OK_PTR(other, "load other");
	other_id = prog_id(bpf_program__fd(other->progs.tc_unreach_egress));
	/* Interface indexes are per namespace: look it up inside. */
	ifindex = netenv_ifindex(&env, 0);
	ASSERT_TRUE(ifindex > 0, "ifindex");
	netenv_enter(&env, 0);
	other_link = bpf_link_create(bpf_program__fd(other->progs.tc_unreach_egress), ifindex,
				     (enum bpf_attach_type)ABI_BPF_TCX_EGRESS, NULL);
	netenv_enter(&env, -1);
	ASSERT_TRUE(other_link >= 0, "other attached through tcx");

	ASSERT_OK(dp_open(&dp, &cfg), "dp_open");
	netenv_enter(&env, 0);
	ASSERT_OK(dp_attach_unreach(dp, NETENV_IF_A), "attach");
	netenv_enter(&env, -1);
	ASSERT_EQ(tcx_egress_progs(&env, ids), 2, "both on egress");
	ASSERT_EQ(ids[0], other_id, "the other program still runs first");
	ASSERT_EQ(ids[1], prog_id(bpf_program__fd(dp_skeleton(dp)->progs.tc_unreach_egress)),
		  "ours appended");
	snprintf(path, sizeof(path), "%s/links/tcx-egress-%s", pins, NETENV_IF_A);
	ASSERT_TRUE(dp_link_alive(path), "link pinned and alive");
	fd = bpf_obj_get(path);
	ASSERT_OK(bpf_obj_get_info_by_fd(fd, &li, &len), "link info");
	close(fd);
	ASSERT_EQ(li.type, ABI_BPF_LINK_TYPE_TCX, "a tcx link");
	link_id = li.id;

	/* A second loader adopts the pinned link and swaps its program in. */
	dp_close(dp);
	dp = NULL;
	ASSERT_OK(dp_open(&dp2, &cfg), "dp_open again");
	ASSERT_TRUE(dp_adopted(dp2), "adopted");
	ASSERT_EQ(dp_verify_links(dp2, false, ifnames, 0, &report), 0, "no interfaces asked");
	netenv_enter(&env, 0);
	ASSERT_OK(dp_attach_unreach(dp2, NETENV_IF_A), "attach again");
	netenv_enter(&env, -1);
	fd = bpf_obj_get(path);
	memset(&li, 0, sizeof(li));
	len = sizeof(li);
	ASSERT_OK(bpf_obj_get_info_by_fd(fd, &li, &len), "link info again");
	ASSERT_EQ(li.id, link_id, "the same link");
	ASSERT_EQ(li.prog_id, prog_id(bpf_program__fd(dp_skeleton(dp2)->progs.tc_unreach_egress)),
		  "with the new program");
	ASSERT_EQ(tcx_egress_progs(&env, ids), 2, "still two");

	/* Someone detaches it: the check names it, attaching again repairs. */
	ASSERT_OK(bpf_link_detach(fd), "detach by hand");
	close(fd);
	ASSERT_EQ(tcx_egress_progs(&env, ids), 1, "only the other left");
	ASSERT_TRUE(!dp_link_alive(path), "dead link seen");
	netenv_enter(&env, 0);
	ASSERT_TRUE(dp_verify_links(dp2, false, ifnames, 1, &report) >= 1, "problem found");
	netenv_enter(&env, -1);
	ASSERT_TRUE(strstr(strbuf_str(&report), "link tcx-egress-" NETENV_IF_A " detached") != NULL,
		    "the report names the tcx link");
	netenv_enter(&env, 0);
	ASSERT_OK(dp_attach_unreach(dp2, NETENV_IF_A), "repair");
	netenv_enter(&env, -1);
	ASSERT_TRUE(dp_link_alive(path), "re-attached");
	ASSERT_EQ(tcx_egress_progs(&env, ids), 2, "two again");
	ASSERT_EQ(ids[0], other_id, "the other program untouched");

	dp_close(dp2);
	ASSERT_OK(dp_detach_all(pins), "detach all");
	ASSERT_EQ(tcx_egress_progs(&env, ids), 1, "only the other program remains");
	ASSERT_EQ(ids[0], other_id, "and it is the other");
	close(other_link);
	dataplane__destroy(other);
	strbuf_free(&report);
	netenv_teardown(&env);
}

static void old_outcome_map_is_replaced_not_refused(void **state)
{
	struct dp_config cfg = { .models = 1 };
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct dp *dp = NULL;
	char pins[128], path[256];
	int fd;

	(void)state;
	test_need_bpf();
	pin_dir_for(pins, sizeof(pins), "oldtcp");
	cfg.pin_dir = pins;
	/* A first instance pins its maps; then an older layout is put in place. */
	ASSERT_OK(dp_open(&dp, &cfg), "dp_open");
	dp_close(dp);
	dp = NULL;
	snprintf(path, sizeof(path), "%s/maps/tcp_outcomes", pins);
	ASSERT_OK(unlink(path), "unpin");
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "tcp_outcomes", sizeof(struct meter_key),
			    24, 16384, NULL);
	ASSERT_TRUE(fd >= 0, "an older 24-byte outcome map");
	ASSERT_OK(bpf_obj_pin(fd, path), "pinned where customs pins it");
	close(fd);

	ASSERT_OK(dp_open(&dp, &cfg), "dp_open over the older map");
	ASSERT_TRUE(dp_adopted(dp), "the rest adopted");
	ASSERT_OK(bpf_obj_get_info_by_fd(bpf_map__fd(dp_skeleton(dp)->maps.tcp_outcomes), &info,
					 &len), "map info");
	ASSERT_EQ(info.value_size, sizeof(struct tcp_outcome), "replaced by the current layout");
	dp_close(dp);
	ASSERT_OK(dp_detach_all(pins), "detach all");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xdp_never_replaces_another_program),
		cmocka_unit_test(xdp_generic_mode_is_explicit),
		cmocka_unit_test(cgroup_links_sit_beside_others_and_are_swapped_in_place),
		cmocka_unit_test(tcx_egress_sits_beside_others_adopted_repaired_and_removed),
		cmocka_unit_test(old_outcome_map_is_replaced_not_refused),
	};

	return cmocka_run_group_tests_name("e2e/dataplane_attach", tests, NULL, NULL);
}
