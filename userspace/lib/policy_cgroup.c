// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tenant patterns to cgroup ids: walks a cgroup2 hierarchy and reports
 * each cgroup a policy's tenant patterns match, with the id the kernel
 * keys the tenant map by (the cgroup directory's inode number, which is
 * what bpf_get_current_cgroup_id() returns on cgroup v2). Subtrees need
 * no entries of their own: the kernel walks up to the nearest listed
 * ancestor. The walk uses directory fds (openat) so a path may be as
 * deep as cgroups go without building long absolute paths.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#define CGROUP_WALK_DEPTH 64

struct cgroup_walk {
	const struct policy *p;
	policy_cgroup_fn fn;
	void *ctx;
	char path[PATH_MAX];	/* below the mount, "/a/b"; "/" for the root */
};

static int visit(struct cgroup_walk *w, int fd)
{
	struct tenant_info who;
	struct stat st;

	if (policy_match_cgroup(w->p, w->path, &who))
		return 0;
	if (fstat(fd, &st))
		return -errno;
	return w->fn(w->ctx, (__u64)st.st_ino, w->path, &who);
}

static int walk_dir(struct cgroup_walk *w, int fd, size_t len, int depth);

static int walk_child(struct cgroup_walk *w, int parent, const char *name, size_t len,
		      int depth)
{
	size_t nlen = strlen(name);
	int fd, rc;

	/* The root's path is "/"; a child's is the parent's plus "/name". */
	if (len == 1)
		len = 0;
	if (len + 1 + nlen >= sizeof(w->path))
		return -ENAMETOOLONG;
	w->path[len] = '/';
	memcpy(w->path + len + 1, name, nlen + 1);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)	/* gone since readdir, or not a directory: not a cgroup */
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	rc = visit(w, fd);
	if (rc || depth >= CGROUP_WALK_DEPTH) {
		close(fd);
		return rc;
	}
	return walk_dir(w, fd, len + 1 + nlen, depth + 1);
}

/* Takes ownership of fd. */
static int walk_dir(struct cgroup_walk *w, int fd, size_t len, int depth)
{
	struct dirent *de;
	DIR *d = fdopendir(fd);
	int rc = 0;

	if (!d) {
		close(fd);
		return -errno;
	}
	while (!rc && (de = readdir(d))) {
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = walk_child(w, dirfd(d), de->d_name, len, depth);
		w->path[len] = '\0';
	}
	closedir(d);
	return rc;
}

int cgroup2_mount(char *out, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2"))
			continue;
		rc = (size_t)snprintf(out, len, "%s", m->mnt_dir) < len ? 0 : -ENAMETOOLONG;
		break;
	}
	endmntent(f);
	return rc;
}

int policy_cgroup_walk(const struct policy *p, const char *mount, policy_cgroup_fn fn,
		       void *ctx)
{
	struct cgroup_walk w = { .p = p, .fn = fn, .ctx = ctx, .path = "/" };
	char found[PATH_MAX];
	int fd, rc;

	if (!mount) {
		rc = cgroup2_mount(found, sizeof(found));
		if (rc)
			return rc;
		mount = found;
	}
	fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = visit(&w, fd);
	if (rc) {
		close(fd);
		return rc;
	}
	return walk_dir(&w, fd, 1, 0);
}
