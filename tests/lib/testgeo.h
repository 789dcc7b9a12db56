/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Places test addresses in countries in a loaded data plane's geo table.
 * The placements of one process accumulate in one geo table, which is
 * installed whole (geo_kernel_install) after each call, as the agent
 * installs a real one.
 */
#ifndef CUSTOMS_TESTGEO_H
#define CUSTOMS_TESTGEO_H

struct dp;

/* Maps an IPv4 or IPv6 CIDR to a two-letter code; 0 or -errno. */
int testgeo_set(struct dp *dp, const char *cidr, const char *cc);
/* Forgets every placement (the next testgeo_set starts a new table). */
void testgeo_reset(void);

#endif
