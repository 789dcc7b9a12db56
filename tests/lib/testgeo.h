/* SPDX-License-Identifier: BSD-2-Clause */
/* Places test addresses in countries in a loaded data plane's geo table. */
#ifndef CUSTOMS_TESTGEO_H
#define CUSTOMS_TESTGEO_H

struct dp;

/* Maps an IPv4 or IPv6 CIDR to a two-letter code; 0 or -errno. */
int testgeo_set(struct dp *dp, const char *cidr, const char *cc);

#endif
