// SPDX-License-Identifier: BSD-2-Clause
/* Kernel memory of the benchmark's contenders; see bench_kmem.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_kmem.h"

long long kmem_map_bytes(int map_fd)
{
	char path[64], line[256];
	long long bytes = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", map_fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &bytes) == 1)
			break;
	fclose(f);
	return bytes;
}

long long kmem_map_id_bytes(unsigned int id)
{
	int fd = bpf_map_get_fd_by_id(id);
	long long bytes;

	if (fd < 0)
		return -errno;
	bytes = kmem_map_bytes(fd);
	close(fd);
	return bytes;
}

long long kmem_object_bytes(struct bpf_object *obj)
{
	struct bpf_map *map;
	long long sum = 0, b;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__fd(map) < 0)
			continue;
		b = kmem_map_bytes(bpf_map__fd(map));
		if (b < 0)
			return b;
		sum += b;
	}
	return sum;
}

/* The v1 memory controller's mount point, or NULL. */
static const char *memcg_mount(void)
{
	static char mnt[200];
	char dev[64], dir[200], type[32], opts[256];
	FILE *f;

	if (mnt[0])
		return mnt;
	f = fopen("/proc/self/mounts", "r");
	if (!f)
		return NULL;
	while (fscanf(f, "%63s %199s %31s %255s %*d %*d", dev, dir, type, opts) == 4)
		if (!strcmp(type, "cgroup") && strstr(opts, "memory")) {
			snprintf(mnt, sizeof(mnt), "%s", dir);
			break;
		}
	fclose(f);
	return mnt[0] ? mnt : NULL;
}

static int write_pid(const char *dir)
{
	char path[300], pid[16];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, pid, (size_t)n) != n)
		err = -errno;
	close(fd);
	return err;
}

int memcg_setup(struct memcg *m, const char *tag)
{
	const char *mnt = memcg_mount();
	char line[512];
	FILE *f;

	memset(m, 0, sizeof(*m));
	if (!mnt)
		return -ENOENT;
	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *c = strstr(line, ":memory:");

		if (c) {
			c[strcspn(c, "\n")] = '\0';
			snprintf(m->home, sizeof(m->home), "%s%s", mnt, c + strlen(":memory:"));
		}
	}
	fclose(f);
	if (!m->home[0])
		return -ENOENT;
	snprintf(m->path, sizeof(m->path), "%s/customs-bench-%s-%d", mnt, tag, (int)getpid());
	rmdir(m->path);
	if (mkdir(m->path, 0755))
		return -errno;
	m->up = true;
	return 0;
}

int memcg_enter(struct memcg *m)
{
	return write_pid(m->path);
}

int memcg_leave(struct memcg *m)
{
	return write_pid(m->home);
}

long long memcg_kmem(const struct memcg *m)
{
	char path[300];
	long long v = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.kmem.usage_in_bytes", m->path);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (fscanf(f, "%lld", &v) != 1)
		v = -EIO;
	fclose(f);
	return v;
}

void memcg_teardown(struct memcg *m)
{
	if (!m->up)
		return;
	memcg_leave(m);
	rmdir(m->path);
	m->up = false;
}
