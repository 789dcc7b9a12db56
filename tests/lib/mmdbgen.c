// SPDX-License-Identifier: BSD-2-Clause
/*
 * The test MMDB writer (see mmdbgen.h): builds the binary search tree in
 * memory, encodes each entry's record in the data section, and appends
 * the metadata map after the MaxMind marker, as the format specification
 * lays it out (24-bit records).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmdbgen.h"

#define MAX_NODES	4096
#define REC_EMPTY	(-1)
#define DATA_FLAG	(1 << 30)	/* record refers to data entry n */

struct gen {
	int rec[MAX_NODES][2];
	int n_nodes;
	unsigned char data[8192];
	size_t data_len;
	size_t data_off[64];
};

static void put(unsigned char *buf, size_t *len, const void *p, size_t n)
{
	memcpy(buf + *len, p, n);
	*len += n;
}

static void put_str(unsigned char *buf, size_t *len, const char *s)
{
	unsigned char ctrl = (unsigned char)((2 << 5) | strlen(s));

	put(buf, len, &ctrl, 1);
	put(buf, len, s, strlen(s));
}

static void put_map(unsigned char *buf, size_t *len, int pairs)
{
	unsigned char ctrl = (unsigned char)((7 << 5) | pairs);

	put(buf, len, &ctrl, 1);
}

static void put_uint(unsigned char *buf, size_t *len, int type, uint64_t v, int bytes)
{
	unsigned char b[10];
	int k, n = 0;

	if (type <= 7) {
		b[n++] = (unsigned char)((type << 5) | bytes);
	} else {
		b[n++] = (unsigned char)bytes;
		b[n++] = (unsigned char)(type - 7);
	}
	for (k = bytes - 1; k >= 0; k--)
		b[n++] = (unsigned char)(v >> (8 * k));
	put(buf, len, b, (size_t)n);
}

static void put_record(struct gen *g, enum mmdbgen_schema s, const char *cc)
{
	switch (s) {
	case MMDBGEN_COUNTRY_CODE:
		put_map(g->data, &g->data_len, 1);
		put_str(g->data, &g->data_len, "country_code");
		put_str(g->data, &g->data_len, cc);
		break;
	case MMDBGEN_GEOIP2:
	case MMDBGEN_GEOIP2_REGISTERED:
		put_map(g->data, &g->data_len, 1);
		put_str(g->data, &g->data_len,
			s == MMDBGEN_GEOIP2 ? "country" : "registered_country");
		put_map(g->data, &g->data_len, 1);
		put_str(g->data, &g->data_len, "iso_code");
		put_str(g->data, &g->data_len, cc);
		break;
	}
}

static int new_node(struct gen *g)
{
	if (g->n_nodes == MAX_NODES)
		return -1;
	g->rec[g->n_nodes][0] = g->rec[g->n_nodes][1] = REC_EMPTY;
	return g->n_nodes++;
}

static int insert(struct gen *g, const unsigned char *addr, int len, int value)
{
	int node = 0, depth, bit, next;

	for (depth = 0; depth < len - 1; depth++) {
		bit = (addr[depth / 8] >> (7 - depth % 8)) & 1;
		next = g->rec[node][bit];
		if (next == REC_EMPTY) {
			next = new_node(g);
			if (next < 0)
				return -ENOSPC;
			g->rec[node][bit] = next;
		} else if (next & DATA_FLAG) {
			return -EEXIST;
		}
		node = next;
	}
	bit = (addr[(len - 1) / 8] >> (7 - (len - 1) % 8)) & 1;
	g->rec[node][bit] = value;
	return 0;
}

static int parse(const char *cidr, int ip_version, unsigned char addr[16], int *len)
{
	char buf[64], *slash;
	struct in_addr a4;

	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	*len = atoi(slash + 1);
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (ip_version == 6) {
			memcpy(addr + 12, &a4, 4);
			*len += 96;
		} else {
			memcpy(addr, &a4, 4);
		}
		return 0;
	}
	return inet_pton(AF_INET6, buf, addr) == 1 && ip_version == 6 ? 0 : -EINVAL;
}

static uint32_t record_value(const struct gen *g, int r)
{
	if (r == REC_EMPTY)
		return (uint32_t)g->n_nodes;
	if (r & DATA_FLAG)
		return (uint32_t)(g->n_nodes + 16 + g->data_off[r & ~DATA_FLAG]);
	return (uint32_t)r;
}

int mmdbgen_write(const char *path, const struct mmdbgen_opts *o,
		  const struct mmdbgen_entry *e, size_t n)
{
	static const unsigned char marker[] = "\xab\xcd\xefMaxMind.com";
	unsigned char meta[512], zero[16] = {};
	struct gen *g;
	size_t i, mlen = 0;
	int side, len, err = 0;
	bool outside_done = false;
	unsigned char addr[16];
	FILE *f = NULL;

	g = calloc(1, sizeof(*g));
	if (!g || n > 64) {
		free(g);
		return -ENOMEM;
	}
	new_node(g);
	for (i = 0; i < n; i++) {
		g->data_off[i] = g->data_len;
		put_record(g, e[i].schema, e[i].cc);
		err = parse(e[i].cidr, o->ip_version, addr, &len);
		if (!err)
			err = insert(g, addr, len, (int)(DATA_FLAG | i));
		if (err)
			goto cleanup;
	}
	f = fopen(path, "wb");
	if (!f) {
		err = -errno;
		goto cleanup;
	}
	for (i = 0; i < (size_t)g->n_nodes; i++) {
		for (side = 0; side < 2; side++) {
			uint32_t v = record_value(g, g->rec[i][side]);
			unsigned char b[3];

			if (o->record_outside && !outside_done && g->rec[i][side] == REC_EMPTY) {
				v = (uint32_t)(g->n_nodes + 16 + g->data_len + 4096);
				outside_done = true;
			}
			b[0] = (unsigned char)(v >> 16);
			b[1] = (unsigned char)(v >> 8);
			b[2] = (unsigned char)v;
			fwrite(b, 3, 1, f);
		}
	}
	fwrite(zero, sizeof(zero), 1, f);
	fwrite(g->data, g->data_len, 1, f);
	fwrite(marker, sizeof(marker) - 1, 1, f);
	put_map(meta, &mlen, 9);
	put_str(meta, &mlen, "node_count");
	put_uint(meta, &mlen, 6, (uint64_t)g->n_nodes, 4);
	put_str(meta, &mlen, "record_size");
	put_uint(meta, &mlen, 5, (uint64_t)(o->record_size_meta ? o->record_size_meta : 24), 2);
	put_str(meta, &mlen, "ip_version");
	put_uint(meta, &mlen, 5, (uint64_t)o->ip_version, 2);
	put_str(meta, &mlen, "binary_format_major_version");
	put_uint(meta, &mlen, 5, 2, 2);
	put_str(meta, &mlen, "binary_format_minor_version");
	put_uint(meta, &mlen, 5, 0, 2);
	put_str(meta, &mlen, "build_epoch");
	put_uint(meta, &mlen, 9, 1700000000, 8);
	put_str(meta, &mlen, "database_type");
	put_str(meta, &mlen, "customs-test");
	put_str(meta, &mlen, "languages");
	meta[mlen++] = 0;	/* array (extended type 11), size 0 */
	meta[mlen++] = 4;
	put_str(meta, &mlen, "description");
	put_map(meta, &mlen, 0);
	fwrite(meta, o->cut_metadata ? mlen / 3 : mlen, 1, f);
	if (fclose(f))
		err = -errno;
	f = NULL;
cleanup:
	if (f)
		fclose(f);
	free(g);
	return err;
}
