// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target for the geo text parsers under ASan+UBSan: the first input
 * byte picks the CSV range parser (even) or the override parser (odd),
 * the rest is the file. Whatever parses is laid over a table that already
 * holds a few prefixes, and the result is walked prefix by prefix, so the
 * sweep, the overlay and the prefix split run on every accepted input.
 * Building the kernel image is left out: it costs tens of milliseconds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_prefix(int family, const __u32 addr[4], int len, __u16 cc, void *arg)
{
	(void)family;
	(void)addr;
	if (len < 0 || len > 128 || cc >= COUNTRY_MAX)
		abort();
	(*(size_t *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct geo_table *t = NULL;
	char err[256];
	size_t n = 0;
	char *buf;

	if (size < 1 || geo_table_new(&t))
		return 0;
	/* An exact-size copy, so ASan sees a read one byte past the end. */
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		goto cleanup;
	memcpy(buf, data + 1, size - 1);
	geo_table_add_override(t, "192.0.2.0/24", "DE");
	geo_table_add_override(t, "2001:db8::/32", "US");
	if (data[0] % 2 == 0)
		geo_table_add_csv_buf(t, "fuzz.csv", buf, size - 1, err, sizeof(err));
	else
		geo_table_add_override_buf(t, "fuzz.txt", buf, size - 1, err, sizeof(err));
	geo_table_foreach_prefix(t, 4, count_prefix, &n);
	geo_table_foreach_prefix(t, 6, count_prefix, &n);
	free(buf);
cleanup:
	geo_table_free(t);
	return 0;
}
