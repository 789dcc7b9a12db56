// SPDX-License-Identifier: BSD-2-Clause
/* The crash-safe counter cycle; see counters.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "log.h"

/* Adds the retired buffer to the totals, saves, clears. */
static int take_retired(struct counters *c, struct meter_record **recs, size_t *n)
{
	struct meter_record *r = NULL;
	size_t cnt = 0, i;
	int active, err;

	active = dp_meter_active(c->dp);
	if (active < 0)
		return active;
	err = dp_meter_read(c->dp, &r, &cnt);
	if (err)
		return err;
	for (i = 0; i < cnt && !err; i++)
		err = totals_add(&c->totals, &r[i].key, &r[i].value);
	if (!err) {
		c->totals.pending = !active;
		err = totals_save(&c->totals, c->path);
	}
	/* Saved with the mark: clearing now cannot lose or double anything. */
	if (!err)
		err = dp_meter_clear_buffer(c->dp, !active);
	if (err) {
		free(r);
		return err;
	}
	*recs = r;
	*n = cnt;
	return 0;
}

int counters_open(struct counters *c, struct dp *dp, const char *path,
		  struct meter_record **recs, size_t *n)
{
	int active, err;

	memset(c, 0, sizeof(*c));
	c->dp = dp;
	if (snprintf(c->path, sizeof(c->path), "%s", path) >= (int)sizeof(c->path))
		return -ENAMETOOLONG;
	err = totals_load(&c->totals, path);
	if (err == -ENOENT)
		err = totals_init(&c->totals, 1024);
	if (err) {
		pr_warn("counters: loading totals from %s: %s\n", path, strerror(-err));
		return err;
	}
	active = dp_meter_active(dp);
	if (active < 0) {
		err = active;
		goto fail;
	}
	/* A buffer counted before a crash and not yet cleared: clear it now. */
	if (c->totals.pending >= 0 && c->totals.pending != active) {
		err = dp_meter_clear_buffer(dp, c->totals.pending);
		if (err)
			goto fail;
	}
	/* Whatever the retired buffer still holds was never counted. */
	err = take_retired(c, recs, n);
	if (err)
		goto fail;
	return 0;
fail:
	pr_warn("counters: recovering the counter buffers: %s\n", strerror(-err));
	totals_free(&c->totals);
	return err;
}

void counters_close(struct counters *c)
{
	totals_free(&c->totals);
}

int counters_interval(struct counters *c, struct meter_record **recs, size_t *n)
{
	int err = dp_meter_flip(c->dp);

	if (err) {
		pr_warn("counters: flipping the counter buffers: %s\n", strerror(-err));
		return err;
	}
	return take_retired(c, recs, n);
}
