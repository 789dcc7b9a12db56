// SPDX-License-Identifier: BSD-2-Clause
/* YAML trees with marks: structure, and every error naming file:line:col. */
#include <errno.h>
#include <string.h>

#include "testlib.h"
#include "yamltree.h"

static int load(struct ydoc *d, const char *text, char *err, size_t len)
{
	return ydoc_load_buf(d, "t.yaml", text, strlen(text), err, len);
}

static void builds_maps_sequences_and_marks(void **state)
{
	const char *text = "node:\n  id: n1\n  country: \"AE\"\nlist:\n  - a\n  - b\n";
	struct ydoc d;
	char err[256];
	struct ynode *node, *list;

	(void)state;
	ASSERT_OK(load(&d, text, err, sizeof(err)), "load");
	node = ynode_get(d.root, "node");
	ASSERT_OK_PTR(node, "node");
	ASSERT_STR_EQ(ynode_get(node, "id")->value, "n1", "scalar");
	ASSERT_EQ(ynode_get(node, "id")->line, 2, "line");
	ASSERT_EQ(ynode_get(node, "id")->col, 7, "column");
	ASSERT_TRUE(ynode_get(node, "country")->quoted, "quoted");
	list = ynode_get(d.root, "list");
	ASSERT_EQ(list->kind, YNODE_SEQ, "sequence");
	ASSERT_EQ(list->n_items, 2, "items");
	ASSERT_STR_EQ(list->items[1]->value, "b", "item");
	ASSERT_TRUE(ynode_get(d.root, "missing") == NULL, "missing key");
	ydoc_free(&d);
}

static void errors_name_the_place(void **state)
{
	struct ydoc d;
	char err[256];
	static const char *const keys[] = { "interval", "policy", NULL };

	(void)state;
	ASSERT_EQ(load(&d, "a: [1, 2\nb: 3\n", err, sizeof(err)), -EINVAL, "syntax");
	ASSERT_TRUE(!strncmp(err, "t.yaml:2:", 9), "syntax error names line 2");
	ASSERT_TRUE(strstr(err, "error: YAML syntax:") != NULL, "says syntax");

	ASSERT_EQ(load(&d, "a: 1\nb: 2\na: 3\n", err, sizeof(err)), -EINVAL, "duplicate");
	ASSERT_STR_EQ(err, "t.yaml:3:1: error: duplicate key \"a\" (first at line 1)",
		      "duplicate message");

	ASSERT_EQ(load(&d, "a: &x 1\nb: *x\n", err, sizeof(err)), -EINVAL, "alias");
	ASSERT_STR_EQ(err, "t.yaml:2:4: error: aliases (*name) are not supported",
		      "alias message");

	ASSERT_OK(load(&d, "interval: 10s\npolcy: x.yaml\n", err, sizeof(err)), "load keys");
	ASSERT_EQ(ynode_check_keys(&d, d.root, keys, err, sizeof(err)), -EINVAL, "unknown key");
	ASSERT_STR_EQ(err, "t.yaml:2:1: error: unknown key \"polcy\" (did you mean \"policy\"?)",
		      "suggestion");
	ydoc_free(&d);
	ASSERT_OK(load(&d, "zzzzzz: 1\n", err, sizeof(err)), "load far key");
	ASSERT_EQ(ynode_check_keys(&d, d.root, keys, err, sizeof(err)), -EINVAL, "far key");
	ASSERT_STR_EQ(err, "t.yaml:1:1: error: unknown key \"zzzzzz\"", "no suggestion");
	ydoc_free(&d);
}

static void empty_and_missing_files(void **state)
{
	struct ydoc d;
	char err[256];

	(void)state;
	ASSERT_OK(load(&d, "", err, sizeof(err)), "empty");
	ASSERT_TRUE(d.root == NULL, "no root");
	ASSERT_EQ(ydoc_load(&d, "/nonexistent/x.yaml", err, sizeof(err)), -ENOENT, "missing");
	ASSERT_TRUE(strstr(err, "/nonexistent/x.yaml: error: cannot open") == err,
		    "missing file named");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builds_maps_sequences_and_marks),
		cmocka_unit_test(errors_name_the_place),
		cmocka_unit_test(empty_and_missing_files),
	};

	return cmocka_run_group_tests_name("unit/yamltree", tests, NULL, NULL);
}
