// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tenant patterns to cgroup ids, on a directory tree standing in for a
 * cgroup2 mount (the walk only reads directories and their inodes): the
 * cgroups reported are exactly those a pattern matches, with the inode
 * number as id and the most specific pattern's tenant.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "policy.h"

#define MAX_SEEN 8

struct seen {
	char path[MAX_SEEN][64];
	__u64 id[MAX_SEEN];
	struct tenant_info who[MAX_SEEN];
	int n;
};

static int record(void *ctx, __u64 id, const char *path, const struct tenant_info *who)
{
	struct seen *s = ctx;

	if (s->n == MAX_SEEN)
		return -E2BIG;
	snprintf(s->path[s->n], sizeof(s->path[0]), "%s", path);
	s->id[s->n] = id;
	s->who[s->n++] = *who;
	return 0;
}

static int find(const struct seen *s, const char *path)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->path[i], path))
			return i;
	return -1;
}

static void make_dirs(const char *top)
{
	static const char *const dirs[] = { "serving", "serving/a", "serving/b", "serving/b/c",
					    "other", "other/serving" };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", top, dirs[i]);
		ASSERT_OK(mkdir(path, 0700), path);
	}
}

static void remove_dirs(const char *top)
{
	static const char *const dirs[] = { "serving/b/c", "serving/b", "serving/a", "serving",
					    "other/serving", "other", "" };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", top, dirs[i]);
		rmdir(path);
	}
}

static void walk_reports_matching_cgroups(void **state)
{
	const char *text = "node: {country: AE}\ntiers: {t: {ingress: {}, egress: {}}}\n"
			   "models:\n  - {name: m, tier: t, tenants: [\"/serving/*\", {name: deep, cgroup: /serving/b/c}]}\n";
	char top[] = "/tmp/customs-policy-cgroup-XXXXXX", path[256];
	struct policy_diag diag;
	struct policy *p = NULL;
	struct seen s = { .n = 0 };
	struct stat st;
	int i;

	(void)state;
	ASSERT_OK_PTR(mkdtemp(top), "mkdtemp");
	make_dirs(top);
	policy_diag_init(&diag);
	ASSERT_OK(policy_load_buf("t.yaml", text, strlen(text), NULL, &p, &diag), diag.error);
	ASSERT_OK(policy_cgroup_walk(p, top, record, &s), "walk");
	ASSERT_EQ(s.n, 3, "three cgroups match");
	ASSERT_TRUE(find(&s, "/serving/a") >= 0, "a");
	ASSERT_TRUE(find(&s, "/serving/b") >= 0, "b");
	i = find(&s, "/serving/b/c");
	ASSERT_TRUE(i >= 0, "c below b");
	ASSERT_STR_EQ(policy_tenant_name(p, s.who[i].tenant), "deep", "specific pattern");
	ASSERT_EQ(s.who[i].model, 1, "model");
	snprintf(path, sizeof(path), "%s/serving/b/c", top);
	ASSERT_OK(stat(path, &st), "stat");
	ASSERT_EQ(s.id[i], st.st_ino, "id is the inode number");
	ASSERT_TRUE(find(&s, "/other/serving") < 0, "patterns are anchored at the root");
	ASSERT_EQ(policy_cgroup_walk(p, "/nonexistent-customs", record, &s), -ENOENT, "no mount");
	policy_free(p);
	text = "node: {country: AE}\ntiers: {t: {ingress: {}, egress: {}}}\n"
	       "models: [{name: m, tier: t, tenants: [\"/*\"]}]\n";
	ASSERT_OK(policy_load_buf("t.yaml", text, strlen(text), NULL, &p, &diag), diag.error);
	s.n = 0;
	ASSERT_OK(policy_cgroup_walk(p, top, record, &s), "walk top level");
	ASSERT_EQ(s.n, 2, "serving and other, not the root");
	ASSERT_TRUE(find(&s, "/") < 0, "root not matched by /*");
	policy_free(p);
	policy_diag_free(&diag);
	remove_dirs(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_reports_matching_cgroups),
	};

	return cmocka_run_group_tests_name("unit/policy_cgroup", tests, NULL, NULL);
}
