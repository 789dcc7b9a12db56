// SPDX-License-Identifier: BSD-2-Clause
/*
 * The parser probe on a real veth in a test namespace, in native and in
 * generic (skb) XDP mode: UDP datagrams sent over real sockets from the
 * peer namespace are counted exactly, IPv4 and IPv6. Also proves the test
 * cgroup helper: a child moved into a test subtree shows up there, and
 * the subtree is gone after teardown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "netenv.h"
#include "pktbuild.h"
#include "parse.h"
#include "pktclass.skel.h"

#define N_DGRAMS 25

struct send_args {
	int family;
	const char *dst;
	int count;
};

static int send_udp(void *p)
{
	const struct send_args *a = p;
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	char payload[100] = { 0 };
	int fd, i;

	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(9999);
		inet_pton(AF_INET, a->dst, &sin->sin_addr);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(9999);
		inet_pton(AF_INET6, a->dst, &sin6->sin6_addr);
		sl = sizeof(*sin6);
	}
	fd = socket(a->family, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	for (i = 0; i < a->count; i++)
		if (sendto(fd, payload, sizeof(payload), 0, (void *)&ss, sl) < 0)
			return 2;
	close(fd);
	return 0;
}

static void count_in_mode(__u32 xdp_flags, const char *mode)
{
	struct send_args v4 = { AF_INET, NETENV_V4_A, N_DGRAMS };
	struct send_args v6 = { AF_INET6, NETENV_V6_A, N_DGRAMS };
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = xdp_flags);
	struct pktclass *skel = NULL;
	struct netenv env;
	char label[64];
	int link_fd = -1, ifindex, map;

	test_need_bpf();
	ASSERT_OK(netenv_setup(&env, "xdp"), "netenv_setup");
	skel = pktclass__open_and_load();
	ASSERT_OK_PTR(skel, "skel_open_load");
	ifindex = netenv_ifindex(&env, 0);
	ASSERT_TRUE(ifindex > 0, "ifindex of cs-a");
	/* bpf_link_create resolves the ifindex in the caller's namespace. */
	ASSERT_OK(netenv_enter(&env, 0), "enter ns a");
	link_fd = bpf_link_create(bpf_program__fd(skel->progs.xdp_pktclass), ifindex,
				  BPF_XDP, &lopts);
	netenv_enter(&env, -1);
	snprintf(label, sizeof(label), "attach xdp %s", mode);
	ASSERT_TRUE(link_fd >= 0, label);

	ASSERT_EQ(netenv_run(&env, 1, send_udp, &v4), 0, "send ipv4 udp");
	ASSERT_EQ(netenv_run(&env, 1, send_udp, &v6), 0, "send ipv6 udp");

	map = bpf_map__fd(skel->maps.class_count);
	snprintf(label, sizeof(label), "%s ipv4 udp counted", mode);
	ASSERT_EQ(percpu_u64_sum(map, PKT_CLASS_IPV4_UDP), N_DGRAMS, label);
	snprintf(label, sizeof(label), "%s ipv6 udp counted", mode);
	ASSERT_EQ(percpu_u64_sum(map, PKT_CLASS_IPV6_UDP), N_DGRAMS, label);
	snprintf(label, sizeof(label), "%s nothing malformed", mode);
	ASSERT_EQ(percpu_u64_sum(map, PKT_CLASS_MALFORMED) +
		  percpu_u64_sum(map, PKT_CLASS_TRUNCATED), 0, label);

	close(link_fd);
	pktclass__destroy(skel);
	netenv_teardown(&env);
}

static void xdp_native_counts_real_datagrams(void **state)
{
	(void)state;
	count_in_mode(XDP_FLAGS_DRV_MODE, "native");
}

static void xdp_generic_counts_real_datagrams(void **state)
{
	(void)state;
	count_in_mode(XDP_FLAGS_SKB_MODE, "generic");
}

static void cgroup_helper_moves_and_removes(void **state)
{
	struct testcg cg;
	char path[512], line[512], want[512];
	FILE *f;
	pid_t pid;
	int status;

	(void)state;
	test_need(testcg_mount() != NULL, "a cgroup2 mount");
	ASSERT_OK(testcg_setup(&cg, "helper"), "testcg_setup");
	ASSERT_OK(testcg_mkdir(&cg, "tenant/model", path, sizeof(path)), "mkdir nested");
	pid = fork();
	ASSERT_TRUE(pid >= 0, "fork");
	if (pid == 0) {
		pause();
		_exit(0);
	}
	ASSERT_OK(testcg_move(path, pid), "move child");
	snprintf(line, sizeof(line), "/proc/%d/cgroup", (int)pid);
	f = fopen(line, "r");
	ASSERT_OK_PTR(f, "open child cgroup file");
	snprintf(want, sizeof(want), "0::%s\n", path + strlen(testcg_mount()));
	while (fgets(line, sizeof(line), f) && strncmp(line, "0::", 3))
		;
	fclose(f);
	ASSERT_STR_EQ(line, want, "child is in the nested cgroup");
	testcg_teardown(&cg);
	ASSERT_TRUE(access(cg.path, F_OK) != 0, "subtree removed");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xdp_native_counts_real_datagrams),
		cmocka_unit_test(xdp_generic_counts_real_datagrams),
		cmocka_unit_test(cgroup_helper_moves_and_removes),
	};

	return cmocka_run_group_tests_name("e2e/pktclass_veth", tests, NULL, NULL);
}
