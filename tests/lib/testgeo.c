// SPDX-License-Identifier: BSD-2-Clause
/* Test geo placement; see testgeo.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "testgeo.h"
#include "dataplane.h"
#include "parse.h"
#include "dataplane.skel.h"

int testgeo_set(struct dp *dp, const char *cidr, const char *cc)
{
	struct { __u32 prefixlen; __u32 addr; } key;
	char buf[64], *slash;
	__u16 idx = country_index(cc[0], cc[1]);

	strncpy(buf, cidr, sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	key.prefixlen = (__u32)atoi(slash + 1);
	if (inet_pton(AF_INET, buf, &key.addr) != 1)
		return -EINVAL;
	return bpf_map__update_elem(dp_skeleton(dp)->maps.geo_shim, &key, sizeof(key),
				    &idx, sizeof(idx), BPF_ANY);
}
