// SPDX-License-Identifier: BSD-2-Clause
/*
 * Getting a geo table into the kernel and asking the kernel about it: the
 * atomic install into a skeleton's geo_live slot (a new inner map filled
 * through mmap, then one update of the slot), the hash of the live table,
 * and the probe program that runs geo_lookup_v4/v6 on batches of
 * addresses for tools, tests and the benchmark.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "geo_internal.h"
#include "geo.skel.h"
#include "log.h"

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

int geo_kernel_install(const struct geo_maps *m, struct geo_table *t)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	const union geo_block *img;
	size_t n_blocks, bytes;
	int fd = -1, outer, err;
	__u32 zero = 0;
	void *mem;

	img = geo_table_image(t, &n_blocks);
	if (!img)
		return -E2BIG;
	outer = bpf_map__fd(m->live);
	if (outer < 0)
		return -EBADF;
	if (n_blocks > GEO_TABLE_BLOCKS)
		return -E2BIG;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "geo_table", sizeof(__u32),
			    GEO_BLOCK_SIZE, GEO_TABLE_BLOCKS, &opts);
	if (fd < 0) {
		err = -errno;
		pr_warn("geo: cannot create a %zu-block table map: %s\n", n_blocks, strerror(errno));
		return err;
	}
	bytes = page_round(n_blocks * GEO_BLOCK_SIZE);
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		pr_warn("geo: cannot map the new table: %s\n", strerror(errno));
		goto cleanup;
	}
	memcpy(mem, img, n_blocks * GEO_BLOCK_SIZE);
	munmap(mem, bytes);
	/* The switch: programs see the old map or the new one, never a mix. */
	if (bpf_map_update_elem(outer, &zero, &fd, BPF_ANY)) {
		err = -errno;
		pr_warn("geo: cannot switch the live table: %s\n", strerror(errno));
		goto cleanup;
	}
	err = 0;
cleanup:
	/* The slot holds its own reference; the old map goes when unused. */
	close(fd);
	return err;
}

/*
 * An fd of the table live in outer map live_fd, with its info: -ENOENT
 * when none is, -EINVAL when its blocks are not GEO_BLOCK_SIZE.
 */
static int live_table(int live_fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info), zero = 0, id;
	int fd, err;

	if (bpf_map_lookup_elem(live_fd, &zero, &id))
		return errno == ENOENT ? -ENOENT : -errno;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	err = bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
	if (!err && info->value_size != GEO_BLOCK_SIZE)
		err = -EINVAL;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* The header block of the table live in outer map live_fd, and its size in blocks. */
static int live_header(int live_fd, union geo_block *blk, __u32 *max_entries)
{
	struct bpf_map_info info;
	__u32 zero = 0;
	int fd, err;

	fd = live_table(live_fd, &info);
	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &zero, blk) ? -errno : 0;
	*max_entries = info.max_entries;
	close(fd);
	return err;
}

int geo_kernel_live_hash(const struct geo_maps *m, unsigned char out[SHA256_LEN])
{
	union geo_block blk;
	__u32 blocks;
	int err;

	err = live_header(bpf_map__fd(m->live), &blk, &blocks);
	if (!err && blk.hdr.magic != GEO_HDR_MAGIC)
		err = -EINVAL;
	if (!err)
		memcpy(out, blk.hdr.table_sha256, SHA256_LEN);
	return err;
}

int geo_kernel_live_is_current(int live_fd)
{
	union geo_block blk;
	__u32 blocks;
	int err;

	err = live_header(live_fd, &blk, &blocks);
	if (err == -ENOENT || err == -EINVAL)
		return 0;
	if (err)
		return err;
	return blk.hdr.magic == GEO_HDR_MAGIC && blocks == GEO_TABLE_BLOCKS;
}

int geo_kernel_view(const struct geo_maps *m, struct geo_table **out)
{
	struct bpf_map_info info;
	struct geo_table *t = NULL;
	int fd, err = 0;
	void *mem;

	fd = live_table(bpf_map__fd(m->live), &info);
	if (fd < 0)
		return fd;
	t = calloc(1, sizeof(*t));
	if (!t) {
		err = -ENOMEM;
		goto cleanup;
	}
	t->mapped_bytes = page_round((size_t)info.max_entries * GEO_BLOCK_SIZE);
	mem = mmap(NULL, t->mapped_bytes, PROT_READ, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		free(t);
		t = NULL;
		goto cleanup;
	}
	t->image = mem;
	t->n_blocks = info.max_entries;
	if (t->image[0].hdr.magic != GEO_HDR_MAGIC) {
		geo_table_free(t);
		t = NULL;
		err = -EINVAL;
		goto cleanup;
	}
	memcpy(t->hash, t->image[0].hdr.table_sha256, SHA256_LEN);
	*out = t;
cleanup:
	close(fd);
	return err;
}

int geo_probe_open(struct geo_probe *p, __u32 lpm_v4, __u32 lpm_v6)
{
	size_t bytes = page_round((size_t)GEO_PROBE_SLOTS * sizeof(struct geo_probe_slot));
	void *mem;
	int err;

	memset(p, 0, sizeof(*p));
	p->skel = geo__open();
	if (!p->skel)
		return -errno ? -errno : -EINVAL;
	if (lpm_v4)
		bpf_map__set_max_entries(p->skel->maps.geo_lpm_v4, lpm_v4);
	if (lpm_v6)
		bpf_map__set_max_entries(p->skel->maps.geo_lpm_v6, lpm_v6);
	err = geo__load(p->skel);
	if (err)
		goto cleanup;
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		   bpf_map__fd(p->skel->maps.geo_probe_slots), 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		goto cleanup;
	}
	p->slots = mem;
cleanup:
	if (err) {
		geo__destroy(p->skel);
		p->skel = NULL;
	}
	return err;
}

void geo_probe_close(struct geo_probe *p)
{
	if (p->slots)
		munmap(p->slots, page_round((size_t)GEO_PROBE_SLOTS * sizeof(*p->slots)));
	geo__destroy(p->skel);
	memset(p, 0, sizeof(*p));
}

struct geo_maps geo_probe_maps(struct geo_probe *p)
{
	return GEO_MAPS(p->skel);
}

int geo_probe_run(struct geo_probe *p, __u32 n, enum geo_probe_mode mode,
		  __u32 repeat, __u64 *ns)
{
	unsigned char pkt[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = repeat ? repeat : 1);

	if (n > GEO_PROBE_SLOTS)
		return -E2BIG;
	p->skel->bss->probe_count = n;
	p->skel->bss->probe_mode = mode;
	if (bpf_prog_test_run_opts(bpf_program__fd(p->skel->progs.geo_probe), &opts))
		return -errno;
	if (opts.retval != XDP_PASS)
		return -EIO;
	if (ns)
		*ns = opts.duration;
	return 0;
}

int geo_probe_lookup(struct geo_probe *p, const __u32 (*addr)[4], const __u8 *family,
		     size_t n, __u16 *cc)
{
	size_t done = 0, i, batch;
	int err;

	while (done < n) {
		batch = n - done < GEO_PROBE_SLOTS ? n - done : GEO_PROBE_SLOTS;
		for (i = 0; i < batch; i++) {
			memcpy(p->slots[i].addr, addr[done + i], sizeof(p->slots[i].addr));
			p->slots[i].family = family[done + i];
			p->slots[i].cc = 0xffff;
		}
		err = geo_probe_run(p, (__u32)batch, GEO_PROBE_TABLE, 1, NULL);
		if (err)
			return err;
		for (i = 0; i < batch; i++)
			cc[done + i] = p->slots[i].cc;
		done += batch;
	}
	return 0;
}
