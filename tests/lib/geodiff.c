// SPDX-License-Identifier: BSD-2-Clause
/* Differential helpers for the geo tests; see geodiff.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "geodiff.h"

__u16 geodiff_mmdb_cc(MMDB_s *db, const __u32 addr[4], __u8 family)
{
	static const char *const paths[][3] = {
		{ "country_code", NULL },
		{ "country", "iso_code", NULL },
		{ "registered_country", "iso_code", NULL },
	};
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	int mm;
	size_t i;

	if (family == 6 && addr[0] == 0 && addr[1] == 0 &&
	    (addr[2] == 0 || addr[2] == htonl(0xffff))) {
		s4.sin_addr.s_addr = addr[3];
		r = MMDB_lookup_sockaddr(db, (struct sockaddr *)&s4, &mm);
	} else if (family == 4) {
		s4.sin_addr.s_addr = addr[0];
		r = MMDB_lookup_sockaddr(db, (struct sockaddr *)&s4, &mm);
	} else {
		memcpy(&s6.sin6_addr, addr, 16);
		r = MMDB_lookup_sockaddr(db, (struct sockaddr *)&s6, &mm);
	}
	if (mm != MMDB_SUCCESS || !r.found_entry)
		return COUNTRY_ZZ;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (MMDB_aget_value(&r.entry, &d, paths[i]) == MMDB_SUCCESS && d.has_data &&
		    d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2)
			return country_index(d.utf8_string[0], d.utf8_string[1]);
	}
	return COUNTRY_ZZ;
}

struct edges {
	__u32 (*addr)[4];
	__u8 *family;
	size_t n, max, every, seen;
};

static void add(struct edges *e, const __u32 a[4], __u8 fam)
{
	if (e->n >= e->max)
		return;
	memcpy(e->addr[e->n], a, 16);
	e->family[e->n++] = fam;
}

/* a += d on a network-order address of the family (wraps). */
static void bump(__u32 a[4], __u8 fam, int d)
{
	int i;

	if (fam == 4) {
		a[0] = htonl(ntohl(a[0]) + (__u32)d);
		return;
	}
	for (i = 3; i >= 0; i--) {
		__u32 old = ntohl(a[i]), v = old + (__u32)d;

		a[i] = htonl(v);
		if ((d > 0 && v > old) || (d < 0 && v < old))
			break;
	}
}

static int edge_prefix(int family, const __u32 addr[4], int len, __u16 cc, void *arg)
{
	struct edges *e = arg;
	int bits = family == 4 ? 32 : 128, host = bits - len, i;
	__u32 a[4], last[4];

	(void)cc;
	if (e->seen++ % e->every)
		return 0;
	memcpy(a, addr, 16);
	memcpy(last, addr, 16);
	for (i = 0; i < (family == 4 ? 1 : 4); i++) {
		int lo = i * 32, hi = lo + 32, from = bits - host;
		__u32 mask = 0;

		if (from < hi)
			mask = from <= lo ? 0xffffffffu : (0xffffffffu >> (from - lo));
		last[i] = htonl(ntohl(last[i]) | mask);
	}
	add(e, a, (__u8)family);
	add(e, last, (__u8)family);
	bump(a, (__u8)family, -1);
	add(e, a, (__u8)family);
	bump(last, (__u8)family, 1);
	add(e, last, (__u8)family);
	return e->n >= e->max;
}

size_t geodiff_addresses(struct geo_table *t, __u32 (*addr)[4], __u8 *family,
			 size_t n, unsigned int seed)
{
	struct edges e = { .addr = addr, .family = family };
	struct geo_table_info info;
	size_t i, quarter = n / 4;
	__u32 a[4];
	int k;

	srandom(seed);
	/* A quarter each: random IPv4, random 2000::/3, v4-mapped, edges. */
	for (i = 0; i < quarter; i++) {
		memset(a, 0, sizeof(a));
		a[0] = (__u32)random() ^ ((__u32)random() << 16);
		addr[i][0] = a[0];
		addr[i][1] = addr[i][2] = addr[i][3] = 0;
		family[i] = 4;
	}
	for (; i < 2 * quarter; i++) {
		for (k = 0; k < 4; k++)
			addr[i][k] = (__u32)random() ^ ((__u32)random() << 16);
		addr[i][0] = htonl((ntohl(addr[i][0]) & 0x1fffffffu) | 0x20000000u);
		family[i] = 6;
	}
	for (; i < 3 * quarter; i++) {
		addr[i][0] = addr[i][1] = 0;
		addr[i][2] = htonl(0xffff);
		addr[i][3] = (__u32)random() ^ ((__u32)random() << 16);
		family[i] = 6;
	}
	/* The rest: edges of prefixes sampled evenly, half from each family. */
	if (geo_table_info(t, &info))
		return i;
	e.addr = addr + i;
	e.family = family + i;
	e.max = info.v6_prefixes ? (n - i) / 2 : n - i;
	e.every = 1 + (size_t)(info.v4_prefixes * 4 / (e.max ? e.max : 1));
	geo_table_foreach_prefix(t, 4, edge_prefix, &e);
	e.max = n - i;
	e.seen = 0;
	e.every = 1 + (size_t)(info.v6_prefixes * 4 / ((n - i - e.n) ? (n - i - e.n) : 1));
	geo_table_foreach_prefix(t, 6, edge_prefix, &e);
	return i + e.n;
}

const char *geodiff_str(const __u32 addr[4], __u8 family)
{
	static char buf[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof(buf));
	return buf;
}
