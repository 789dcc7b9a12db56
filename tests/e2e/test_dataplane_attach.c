// SPDX-License-Identifier: BSD-2-Clause
/*
 * How the data plane attaches: it never replaces another XDP program, its
 * cgroup links sit beside programs others attached (multi-attach), a
 * second loader swaps its programs into the pinned links without a gap,
 * and detach-all removes exactly what customs made.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xdp_never_replaces_another_program),
		cmocka_unit_test(xdp_generic_mode_is_explicit),
		cmocka_unit_test(cgroup_links_sit_beside_others_and_are_swapped_in_place),
	};

	return cmocka_run_group_tests_name("e2e/dataplane_attach", tests, NULL, NULL);
}
