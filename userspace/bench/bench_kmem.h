/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How much kernel memory a contender needs. BPF maps report their own
 * footprint (the memlock line of a map fd's fdinfo, which the kernel
 * computes per map type); nftables objects are charged to the memory
 * cgroup of the process that created them, so a contender's nft load
 * runs from a fresh cgroup (v1 memory controller) whose kernel-memory
 * usage is read afterwards.
 */
#ifndef CUSTOMS_BENCH_KMEM_H
#define CUSTOMS_BENCH_KMEM_H

#include <stdbool.h>

struct bpf_object;

/* Bytes one map holds, or -errno. */
long long kmem_map_bytes(int map_fd);
/* Bytes the map with this id holds (an inner map), or -errno. */
long long kmem_map_id_bytes(unsigned int id);
/* Sum over every map of a loaded object. */
long long kmem_object_bytes(struct bpf_object *obj);

/* A memory cgroup of our own: /sys/fs/cgroup/memory/customs-bench-TAG-PID. */
struct memcg {
	char path[256];
	char home[256];		/* where this process was, to go back */
	bool up;
};

int memcg_setup(struct memcg *m, const char *tag);
/* Moves this process in (enter) or back home (leave). */
int memcg_enter(struct memcg *m);
int memcg_leave(struct memcg *m);
/* Kernel memory charged to the cgroup, or -errno. */
long long memcg_kmem(const struct memcg *m);
void memcg_teardown(struct memcg *m);

#endif
