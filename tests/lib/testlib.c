// SPDX-License-Identifier: BSD-2-Clause
/* Shared test policy for missing capabilities; see testlib.h. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"

bool test_have_bpf(void)
{
	static int have = -1;
	int fd;

	if (have >= 0)
		return have;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "customs_probe", 4, 4, 1, NULL);
	have = fd >= 0 && libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) == 1;
	if (fd >= 0)
		close(fd);
	return have;
}

void test_need(bool have, const char *what)
{
	const char *req = getenv("REQUIRE_BPF");

	if (have)
		return;
	if (req && strcmp(req, "0") != 0)
		fail_msg("REQUIRE_BPF is set but %s is not available", what);
	print_message("skipped: %s is not available (run as root on a kernel with BPF)\n",
		      what);
	skip();
}

void test_need_bpf(void)
{
	test_need(test_have_bpf(), "BPF (bpf() syscall with CAP_BPF+CAP_NET_ADMIN)");
}

long test_env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return dflt;
	n = strtol(v, &end, 10);
	return *end ? dflt : n;
}

int test_stay_on_one_cpu(cpu_set_t *was)
{
	cpu_set_t one;
	int cpu;

	if (sched_getaffinity(0, sizeof(*was), was))
		return -errno;
	cpu = sched_getcpu();
	if (cpu < 0)
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -errno : 0;
}
