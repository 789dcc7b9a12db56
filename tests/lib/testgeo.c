// SPDX-License-Identifier: BSD-2-Clause
/* Test geo placement through the geo engine; see testgeo.h. */
#include <errno.h>

#include "testgeo.h"
#include "dataplane.h"
#include "dataplane.skel.h"
#include "geo.h"

static struct geo_table *placed;

int testgeo_set(struct dp *dp, const char *cidr, const char *cc)
{
	struct geo_maps maps = GEO_MAPS(dp_skeleton(dp));
	int err;

	if (!placed && (err = geo_table_new(&placed)))
		return err;
	err = geo_table_add_override(placed, cidr, cc);
	if (err)
		return err;
	return geo_kernel_install(&maps, placed);
}

void testgeo_reset(void)
{
	geo_table_free(placed);
	placed = NULL;
}
