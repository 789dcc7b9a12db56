// SPDX-License-Identifier: BSD-2-Clause
/* Running totals: adding, growing, and the durable file with its checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "totals.h"

static struct meter_key key(__u32 tenant, __u16 country)
{
	struct meter_key k = { .tenant = tenant, .model = 1, .country = country,
			       .direction = DIR_INGRESS, .layer = LAYER_XDP };
	return k;
}

static void adds_and_grows(void **state)
{
	struct meter_value v = { 1, 100 };
	struct totals t;
	struct meter_key k;
	__u32 i;

	(void)state;
	ASSERT_OK(totals_init(&t, 0), "init");
	for (i = 0; i < 100000; i++) {
		k = key(i, (__u16)(i % 600));
		ASSERT_OK(totals_add(&t, &k, &v), "add");
	}
	k = key(5, 5);
	ASSERT_OK(totals_add(&t, &k, &v), "add again");
	ASSERT_EQ(t.count, 100000, "distinct keys");
	ASSERT_EQ(totals_get(&t, &k)->packets, 2, "summed packets");
	ASSERT_EQ(totals_get(&t, &k)->bytes, 200, "summed bytes");
	k = key(100001, 1);
	ASSERT_TRUE(totals_get(&t, &k) == NULL, "absent key");
	totals_free(&t);
}

static void saves_and_loads_exactly(void **state)
{
	char path[] = "/tmp/customs-totals-XXXXXX";
	struct meter_value v = { 3, 1500 };
	struct totals t, u;
	struct meter_key k;
	int fd;
	__u32 i;

	(void)state;
	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0, "mkstemp");
	close(fd);
	ASSERT_OK(totals_init(&t, 10), "init");
	for (i = 0; i < 1000; i++) {
		k = key(i, 7);
		totals_add(&t, &k, &v);
	}
	t.pending = 1;
	ASSERT_OK(totals_save(&t, path), "save");
	ASSERT_OK(totals_load(&u, path), "load");
	ASSERT_EQ(u.count, 1000, "count");
	ASSERT_EQ(u.pending, 1, "pending buffer");
	k = key(999, 7);
	ASSERT_EQ(totals_get(&u, &k)->bytes, 1500, "value");
	totals_free(&u);

	/* One flipped byte: the checksum refuses the file. */
	{
		FILE *f = fopen(path, "r+");
		int c;

		fseek(f, 40, SEEK_SET);
		c = fgetc(f);
		fseek(f, 40, SEEK_SET);
		fputc(c ^ 1, f);
		fclose(f);
	}
	ASSERT_EQ(totals_load(&u, path), -EBADMSG, "damaged file refused");
	/* A truncated file too. */
	ASSERT_OK(truncate(path, 100), "truncate");
	ASSERT_EQ(totals_load(&u, path), -EBADMSG, "truncated file refused");
	unlink(path);
	ASSERT_EQ(totals_load(&u, path), -ENOENT, "missing file");
	totals_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(adds_and_grows),
		cmocka_unit_test(saves_and_loads_exactly),
	};

	return cmocka_run_group_tests_name("unit/totals", tests, NULL, NULL);
}
