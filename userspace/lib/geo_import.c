// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reading country data into a geo table: MMDB files through libmaxminddb
 * (a walk of the whole search tree, both country schemas), CSV range
 * files, override files and single prefixes, each parsed into a layer and
 * laid over the table only when the whole input parsed, so a bad file
 * leaves the table as it was. Format sniffing and geo_table_build().
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "country.h"
#include "geo_internal.h"

#define GEO_LINE_MAX	512
#define MMDB_MARKER	"\xab\xcd\xefMaxMind.com"

static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t got;
	size_t off = 0;
	char *p = NULL;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		geo_set_err(err, errlen, "%s: error: cannot read: %s", path, strerror(errno));
		goto cleanup;
	}
	p = malloc((size_t)st.st_size + 1);
	if (!p) {
		rc = -ENOMEM;
		geo_set_err(err, errlen, "%s: error: out of memory", path);
		goto cleanup;
	}
	while (off < (size_t)st.st_size) {
		got = read(fd, p + off, (size_t)st.st_size - off);
		if (got <= 0) {
			rc = got ? -errno : -EIO;
			geo_set_err(err, errlen, "%s: error: short read", path);
			goto cleanup;
		}
		off += (size_t)got;
	}
	p[off] = '\0';
	*buf = p;
	*len = off;
	p = NULL;
cleanup:
	free(p);
	if (fd >= 0)
		close(fd);
	return rc;
}

int geo_sniff(const char *path, enum geo_format *fmt)
{
	static const char magic[8] = "CUSTGEO";
	char head[8] = {}, *tail = NULL;
	size_t want;
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		goto cleanup;
	}
	if (pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
	    !memcmp(head, magic, sizeof(magic))) {
		*fmt = GEO_FMT_TABLE;
		goto cleanup;
	}
	/* The MMDB metadata marker sits in the last 128 KiB of the file. */
	want = st.st_size < 128 * 1024 ? (size_t)st.st_size : 128 * 1024;
	tail = malloc(want + 1);
	if (!tail) {
		rc = -ENOMEM;
		goto cleanup;
	}
	if (pread(fd, tail, want, st.st_size - (off_t)want) != (ssize_t)want) {
		rc = -EIO;
		goto cleanup;
	}
	*fmt = memmem(tail, want, MMDB_MARKER, sizeof(MMDB_MARKER) - 1) ?
		GEO_FMT_MMDB : GEO_FMT_CSV;
cleanup:
	free(tail);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* --- MMDB ---------------------------------------------------------------------- */

/* Country of each data record, keyed by its offset (a database has few). */
struct cc_cache {
	__u32 *key;
	__u16 *cc;
	size_t cap, n;
};

static int cc_cache_find(struct cc_cache *c, __u32 off, __u16 **slot)
{
	size_t i, cap;

	if (c->n * 2 >= c->cap) {
		struct cc_cache nc = { .cap = c->cap ? c->cap * 2 : 1024 };

		nc.key = malloc(nc.cap * sizeof(*nc.key));
		nc.cc = malloc(nc.cap * sizeof(*nc.cc));
		if (!nc.key || !nc.cc) {
			free(nc.key);
			free(nc.cc);
			return -ENOMEM;
		}
		memset(nc.key, 0xff, nc.cap * sizeof(*nc.key));
		for (i = 0; i < c->cap; i++) {
			__u16 *s;

			if (c->key[i] == 0xffffffffu)
				continue;
			cc_cache_find(&nc, c->key[i], &s);
			*s = c->cc[i];
		}
		free(c->key);
		free(c->cc);
		*c = nc;
		c->n = 0;
		for (i = 0; i < c->cap; i++)
			c->n += c->key[i] != 0xffffffffu;
	}
	cap = c->cap;
	for (i = (off * 2654435761u) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		if (c->key[i] == off) {
			*slot = &c->cc[i];
			return 1;
		}
		if (c->key[i] == 0xffffffffu) {
			c->key[i] = off;
			c->n++;
			*slot = &c->cc[i];
			return 0;
		}
	}
}

struct mmdb_walk {
	MMDB_s *db;
	const char *path;
	struct cc_cache cache;
	struct geo_layer *layer;
	__u64 visits, max_visits;
	__u32 seq;
	char *err;
	size_t errlen;
};

/* ip-location-db writes country_code; GeoIP2 country.iso_code, then registered_country. */
static int entry_country(struct mmdb_walk *w, MMDB_entry_s *entry, __u16 *cc)
{
	static const char *const paths[][3] = {
		{ "country_code", NULL },
		{ "country", "iso_code", NULL },
		{ "registered_country", "iso_code", NULL },
	};
	MMDB_entry_data_s d;
	__u16 *slot;
	size_t i;
	int rc;

	rc = cc_cache_find(&w->cache, entry->offset, &slot);
	if (rc < 0)
		return rc;
	if (rc) {
		*cc = *slot;
		return 0;
	}
	*cc = COUNTRY_ZZ;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		rc = MMDB_aget_value(entry, &d, paths[i]);
		if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
			continue;
		if (rc != MMDB_SUCCESS) {
			geo_set_err(w->err, w->errlen, "%s: error: bad data record at offset %u: %s",
				w->path, entry->offset, MMDB_strerror(rc));
			return -EINVAL;
		}
		if (!d.has_data)
			continue;
		if (d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2 &&
		    isalpha((unsigned char)d.utf8_string[0]) &&
		    isalpha((unsigned char)d.utf8_string[1])) {
			*cc = country_index(d.utf8_string[0], d.utf8_string[1]);
			break;
		}
	}
	*slot = *cc;
	return 0;
}

struct walk_frame {
	geo_u128 prefix;
	__u32 node;
	__u8 depth;
};

static bool skip_v6(geo_u128 prefix, int depth)
{
	/* ::/96 and ::ffff:0:0/96 are answered by the IPv4 table. */
	return depth == 96 && (prefix == 0 || prefix == ((geo_u128)0xffff << 32));
}

static int walk_tree(struct mmdb_walk *w, __u32 root, int fam)
{
	int bits = geo_fam_bits(fam), side, rc = 0;
	struct walk_frame *stack, f;
	MMDB_search_node_s sn;
	size_t sp = 0;

	stack = malloc((size_t)(bits + 2) * 2 * sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	stack[sp++] = (struct walk_frame){ .node = root };
	while (sp) {
		f = stack[--sp];
		if (++w->visits > w->max_visits) {
			geo_set_err(w->err, w->errlen, "%s: error: search tree has loops (visited more nodes than it holds)",
				w->path);
			rc = -EINVAL;
			goto cleanup;
		}
		rc = MMDB_read_node(w->db, f.node, &sn);
		if (rc != MMDB_SUCCESS) {
			geo_set_err(w->err, w->errlen, "%s: error: search tree node %u: %s",
				w->path, f.node, MMDB_strerror(rc));
			rc = -EINVAL;
			goto cleanup;
		}
		for (side = 1; side >= 0; side--) {
			int depth = f.depth + 1, type = side ? sn.right_record_type : sn.left_record_type;
			__u64 rec = side ? sn.right_record : sn.left_record;
			geo_u128 child = f.prefix | ((geo_u128)side << (bits - depth));
			geo_u128 last = child | ((bits - depth) >= 128 ? ~(geo_u128)0 :
						 (((geo_u128)1 << (bits - depth)) - 1));
			MMDB_entry_s entry;
			__u16 cc;

			switch (type) {
			case MMDB_RECORD_TYPE_SEARCH_NODE:
				if (depth >= bits) {
					geo_set_err(w->err, w->errlen, "%s: error: search tree deeper than %d bits at node %u",
						w->path, bits, f.node);
					rc = -EINVAL;
					goto cleanup;
				}
				if (fam == GEO_V6 && skip_v6(child, depth))
					break;
				stack[sp++] = (struct walk_frame){ .prefix = child,
								   .node = (__u32)rec,
								   .depth = (__u8)depth };
				break;
			case MMDB_RECORD_TYPE_EMPTY:
				break;
			case MMDB_RECORD_TYPE_DATA:
				entry = side ? sn.right_record_entry : sn.left_record_entry;
				rc = entry_country(w, &entry, &cc);
				if (rc)
					goto cleanup;
				if (cc != COUNTRY_ZZ) {
					rc = geo_layer_add(w->layer, child, last, w->seq++, cc);
					if (rc)
						goto cleanup;
				}
				break;
			default:
				geo_set_err(w->err, w->errlen, "%s: error: search tree node %u points outside the file",
					w->path, f.node);
				rc = -EINVAL;
				goto cleanup;
			}
		}
	}
cleanup:
	free(stack);
	return rc;
}

/* The node at ::/96, where an IPv6 database keeps its IPv4 data. */
static int v4_root(struct mmdb_walk *w, __u32 *root, MMDB_entry_s *whole, int *kind)
{
	MMDB_search_node_s sn;
	__u32 node = 0;
	int i, rc;

	*kind = MMDB_RECORD_TYPE_SEARCH_NODE;
	for (i = 0; i < 96; i++) {
		rc = MMDB_read_node(w->db, node, &sn);
		if (rc != MMDB_SUCCESS) {
			geo_set_err(w->err, w->errlen, "%s: error: search tree node %u: %s",
				w->path, node, MMDB_strerror(rc));
			return -EINVAL;
		}
		if (sn.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
			*kind = sn.left_record_type;
			*whole = sn.left_record_entry;
			return 0;
		}
		node = (__u32)sn.left_record;
	}
	*root = node;
	return 0;
}

int geo_table_add_mmdb(struct geo_table *t, const char *path, char *err, size_t errlen)
{
	struct geo_layer layer[2] = {};
	struct mmdb_walk w = { .path = path, .err = err, .errlen = errlen };
	MMDB_entry_s whole;
	MMDB_s db;
	__u32 root = 0;
	int rc, kind = MMDB_RECORD_TYPE_SEARCH_NODE;
	bool opened = false;
	char desc[200];
	__u16 cc;

	rc = MMDB_open(path, MMDB_MODE_MMAP, &db);
	if (rc != MMDB_SUCCESS) {
		geo_set_err(err, errlen, "%s: error: not a usable MMDB: %s%s%s", path,
			MMDB_strerror(rc), rc == MMDB_IO_ERROR ? ": " : "",
			rc == MMDB_IO_ERROR ? strerror(errno) : "");
		return -EINVAL;
	}
	opened = true;
	w.db = &db;
	w.max_visits = 4ull * db.metadata.node_count + 64;
	w.layer = &layer[GEO_V4];
	if (db.metadata.ip_version == 6) {
		rc = v4_root(&w, &root, &whole, &kind);
		if (rc)
			goto cleanup;
	} else if (db.metadata.ip_version != 4) {
		geo_set_err(err, errlen, "%s: error: ip_version %u is neither 4 nor 6", path,
			db.metadata.ip_version);
		rc = -EINVAL;
		goto cleanup;
	}
	if (kind == MMDB_RECORD_TYPE_SEARCH_NODE) {
		rc = walk_tree(&w, root, GEO_V4);
	} else if (kind == MMDB_RECORD_TYPE_DATA) {
		rc = entry_country(&w, &whole, &cc);
		if (!rc && cc != COUNTRY_ZZ)
			rc = geo_layer_add(&layer[GEO_V4], 0, geo_fam_max(GEO_V4), 0, cc);
	}
	if (rc)
		goto cleanup;
	if (db.metadata.ip_version == 6) {
		w.layer = &layer[GEO_V6];
		rc = walk_tree(&w, 0, GEO_V6);
		if (rc)
			goto cleanup;
	}
	rc = geo_table_overlay(t, layer);
	if (rc) {
		geo_set_err(err, errlen, "%s: error: out of memory", path);
		goto cleanup;
	}
	snprintf(desc, sizeof(desc), "%s (MMDB %s, IPv%u)", path,
		 db.metadata.database_type ? db.metadata.database_type : "?",
		 db.metadata.ip_version);
	geo_table_note_source(t, desc, db.file_content, (size_t)db.file_size);
	t->source_epoch = db.metadata.build_epoch;
	if (!t->format)
		t->format = GEO_FMT_MMDB;
cleanup:
	free(w.cache.key);
	free(w.cache.cc);
	geo_layer_free(&layer[0]);
	geo_layer_free(&layer[1]);
	if (opened)
		MMDB_close(&db);
	return rc;
}

/* --- text formats -------------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int parse_country(const char *name, unsigned line, const char *s, __u16 *cc,
			 char *err, size_t errlen)
{
	const char *hint;

	if (!country_parse(s, cc))
		return 0;
	hint = country_suggest(s);
	if (hint)
		geo_set_err(err, errlen, "%s:%u: error: unknown country \"%s\" (did you mean \"%s\"?)",
			name, line, s, hint);
	else
		geo_set_err(err, errlen, "%s:%u: error: unknown country \"%s\" (want an ISO 3166-1 alpha-2 code)",
			name, line, s);
	return -EINVAL;
}

/* A v4-mapped IPv6 range is an IPv4 range. */
static void unmap_v4(int *fam, geo_u128 *start, geo_u128 *end)
{
	geo_u128 base = (geo_u128)0xffff << 32;

	if (*fam == GEO_V6 && *start >= base && *end <= base + 0xffffffffu) {
		*fam = GEO_V4;
		*start -= base;
		*end -= base;
	}
}

static void addr_str(int fam, geo_u128 v, char *out, size_t len)
{
	__u32 w[4];

	geo_u128_to_words(v, w);
	if (fam == GEO_V4)
		inet_ntop(AF_INET, &w[3], out, (socklen_t)len);
	else
		inet_ntop(AF_INET6, w, out, (socklen_t)len);
}

static int parse_cidr(const char *name, unsigned line, char *s, int *fam,
		      geo_u128 *start, geo_u128 *end, char *err, size_t errlen)
{
	char *slash = strchr(s, '/'), *endp, net[INET6_ADDRSTRLEN];
	long len;
	int bits;
	geo_u128 host;

	if (slash)
		*slash = '\0';
	if (geo_parse_addr(s, fam, start)) {
		geo_set_err(err, errlen, "%s:%u: error: \"%s\" is not an IPv4 or IPv6 address",
			name, line, s);
		return -EINVAL;
	}
	bits = geo_fam_bits(*fam);
	len = bits;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &endp, 10);
		if (!slash[1] || *endp || errno || len < 0 || len > bits) {
			geo_set_err(err, errlen, "%s:%u: error: bad prefix length \"/%s\" (0..%d)",
				name, line, slash + 1, bits);
			return -EINVAL;
		}
	}
	host = len == bits ? 0 : (bits - len >= 128 ? ~(geo_u128)0 :
				  (((geo_u128)1 << (bits - len)) - 1));
	if (*start & host) {
		addr_str(*fam, *start & ~host, net, sizeof(net));
		geo_set_err(err, errlen, "%s:%u: error: %s/%ld has host bits set (did you mean %s/%ld?)",
			name, line, s, len, net, len);
		return -EINVAL;
	}
	*end = *start | host;
	unmap_v4(fam, start, end);
	return 0;
}

/* Calls fn on each line (trimmed, comments kept), with its number. */
static int each_line(const char *name, const char *buf, size_t len,
		     int (*fn)(char *line, unsigned no, void *arg), void *arg,
		     char *err, size_t errlen)
{
	char line[GEO_LINE_MAX];
	size_t pos = 0, n;
	unsigned no = 0;
	const char *nl;
	int rc;

	while (pos < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		no++;
		if (n >= sizeof(line)) {
			geo_set_err(err, errlen, "%s:%u: error: line longer than %d bytes",
				name, no, GEO_LINE_MAX - 1);
			return -EINVAL;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		if (memchr(line, '\0', n)) {
			geo_set_err(err, errlen, "%s:%u: error: NUL byte in a text line", name, no);
			return -EINVAL;
		}
		rc = fn(line, no, arg);
		if (rc)
			return rc;
		pos += n + 1;
	}
	return 0;
}

struct text_ctx {
	const char *name;
	struct geo_layer *layer;
	char *err;
	size_t errlen;
};

static int csv_line(char *line, unsigned no, void *arg)
{
	struct text_ctx *c = arg;
	char *f[3], *p = trim(line), *c1, *c2;
	int fam, fam2, rc;
	geo_u128 s, e;
	__u16 cc;

	if (!*p || *p == '#')
		return 0;
	c1 = strchr(p, ',');
	c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2 || strchr(c2 + 1, ',')) {
		geo_set_err(c->err, c->errlen, "%s:%u: error: expected start,end,CC", c->name, no);
		return -EINVAL;
	}
	*c1 = *c2 = '\0';
	f[0] = trim(p);
	f[1] = trim(c1 + 1);
	f[2] = trim(c2 + 1);
	if (geo_parse_addr(f[0], &fam, &s) || geo_parse_addr(f[1], &fam2, &e)) {
		geo_set_err(c->err, c->errlen, "%s:%u: error: \"%s\" is not an IPv4 or IPv6 address",
			c->name, no, geo_parse_addr(f[0], &fam, &s) ? f[0] : f[1]);
		return -EINVAL;
	}
	if (fam != fam2) {
		geo_set_err(c->err, c->errlen, "%s:%u: error: start and end are of different families",
			c->name, no);
		return -EINVAL;
	}
	if (s > e) {
		geo_set_err(c->err, c->errlen, "%s:%u: error: start %s is after end %s",
			c->name, no, f[0], f[1]);
		return -EINVAL;
	}
	rc = parse_country(c->name, no, f[2], &cc, c->err, c->errlen);
	if (rc)
		return rc;
	unmap_v4(&fam, &s, &e);
	return geo_layer_add(&c->layer[fam], s, e, no, cc);
}

static int override_line(char *line, unsigned no, void *arg)
{
	struct text_ctx *c = arg;
	char *hash = strchr(line, '#'), *p, *cidr, *code, *rest;
	geo_u128 s, e;
	int fam, rc;
	__u16 cc;

	if (hash)
		*hash = '\0';
	p = trim(line);
	if (!*p)
		return 0;
	cidr = strtok_r(p, " \t", &rest);
	code = strtok_r(NULL, " \t", &rest);
	if (!code || strtok_r(NULL, " \t", &rest)) {
		geo_set_err(c->err, c->errlen, "%s:%u: error: expected \"CIDR CC\"", c->name, no);
		return -EINVAL;
	}
	rc = parse_cidr(c->name, no, cidr, &fam, &s, &e, c->err, c->errlen);
	if (!rc)
		rc = parse_country(c->name, no, code, &cc, c->err, c->errlen);
	if (!rc)
		rc = geo_layer_add(&c->layer[fam], s, e, no, cc);
	return rc;
}

static int add_text(struct geo_table *t, const char *name, const char *buf, size_t len,
		    bool csv, char *err, size_t errlen)
{
	struct geo_layer layer[2] = {
		{ .narrower_wins = csv, .name = csv ? name : NULL },
		{ .narrower_wins = csv, .name = csv ? name : NULL },
	};
	struct text_ctx c = { .name = name, .layer = layer, .err = err, .errlen = errlen };
	int rc;

	rc = each_line(name, buf, len, csv ? csv_line : override_line, &c, err, errlen);
	if (rc == -ENOMEM)
		geo_set_err(err, errlen, "%s: error: out of memory", name);
	if (!rc) {
		rc = geo_table_overlay(t, layer);
		if (rc)
			geo_set_err(err, errlen, "%s: error: out of memory", name);
	}
	if (!rc) {
		geo_table_note_source(t, name, buf, len);
		if (csv && !t->format)
			t->format = GEO_FMT_CSV;
	}
	geo_layer_free(&layer[0]);
	geo_layer_free(&layer[1]);
	return rc;
}

int geo_table_add_csv_buf(struct geo_table *t, const char *name,
			  const char *buf, size_t len, char *err, size_t errlen)
{
	return add_text(t, name, buf, len, true, err, errlen);
}

int geo_table_add_override_buf(struct geo_table *t, const char *name,
			       const char *buf, size_t len, char *err, size_t errlen)
{
	return add_text(t, name, buf, len, false, err, errlen);
}

static int add_text_file(struct geo_table *t, const char *path, bool csv,
			 char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = NULL;
	int rc;

	rc = read_file(path, &buf, &len, err, errlen);
	if (rc)
		return rc;
	rc = add_text(t, path, buf, len, csv, err, errlen);
	free(buf);
	return rc;
}

int geo_table_add_csv_file(struct geo_table *t, const char *path, char *err, size_t errlen)
{
	return add_text_file(t, path, true, err, errlen);
}

int geo_table_add_override_file(struct geo_table *t, const char *path,
				char *err, size_t errlen)
{
	return add_text_file(t, path, false, err, errlen);
}

int geo_table_add_override(struct geo_table *t, const char *cidr, const char *cc)
{
	char line[GEO_LINE_MAX], err[256];
	int n;

	n = snprintf(line, sizeof(line), "%s %s", cidr, cc);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	return geo_table_add_override_buf(t, "(override)", line, (size_t)n, err, sizeof(err));
}

int geo_table_build(struct geo_table **out, const struct geo_source *src,
		    char *err, size_t errlen)
{
	struct geo_table *t = NULL;
	enum geo_format fmt;
	size_t i;
	int rc;

	*out = NULL;
	if (src->db) {
		rc = geo_sniff(src->db, &fmt);
		if (rc) {
			geo_set_err(err, errlen, "%s: error: cannot read: %s", src->db, strerror(-rc));
			return rc;
		}
		if (fmt == GEO_FMT_TABLE) {
			rc = geo_table_load(&t, src->db, err, errlen);
		} else {
			rc = geo_table_new(&t);
			if (!rc && fmt == GEO_FMT_MMDB)
				rc = geo_table_add_mmdb(t, src->db, err, errlen);
			else if (!rc)
				rc = geo_table_add_csv_file(t, src->db, err, errlen);
		}
	} else {
		rc = geo_table_new(&t);
	}
	for (i = 0; !rc && i < src->n_overrides; i++)
		rc = geo_table_add_override_file(t, src->overrides[i], err, errlen);
	if (rc) {
		if (rc == -ENOMEM && err && !*err)
			geo_set_err(err, errlen, "error: out of memory");
		geo_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}
