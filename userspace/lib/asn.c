// SPDX-License-Identifier: BSD-2-Clause
/*
 * The AS table: ip-location-db asn CSV rows, override lines and class rules
 * into sorted ranges and one record per autonomous system; see asn.h. Both
 * families share one 128-bit code path (IPv4 in the low 32 bits), as the
 * geo engine does.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asn.h"
#include "country.h"
#include "geo_internal.h"
#include "telemetry.h"

struct asn_range {
	geo_u128 start, end;
	__u32 sys;		/* index into systems */
};

struct asn_sys {
	__u32 asn;
	__u16 country;
	bool country_fixed;	/* an override named it */
	__u8 class;
	__u16 vote_cc;		/* weighted majority vote over its ranges */
	__u64 vote_w;
	bool v4_voted;		/* IPv6 rows vote only where IPv4 did not */
	char org[ASN_ORG_MAX];
};

struct asn_rule {
	__u8 class;
	__u32 asn;		/* 0: match the organisation pattern */
	char pattern[ASN_ORG_MAX];
};

struct asn_ranges {
	struct asn_range *r;
	size_t n, cap;
};

struct asn_db {
	struct asn_ranges fam[2];	/* GEO_V4, GEO_V6: sorted by asn_db_finish */
	struct asn_ranges over[2];	/* overrides, in file order; later wins */
	struct asn_sys *sys;
	size_t n_sys, cap_sys;
	__u32 *index;			/* open addressing: asn -> sys + 1 */
	size_t index_cap;
	struct asn_rule *rules;
	size_t n_rules, cap_rules;
};

#define ASN_LINE_MAX 1024

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 256;
	void *p;

	if (n < *cap)
		return 0;
	p = reallocarray(*arr, ncap, size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int asn_db_new(struct asn_db **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void asn_db_free(struct asn_db *db)
{
	int f;

	if (!db)
		return;
	for (f = 0; f < 2; f++) {
		free(db->fam[f].r);
		free(db->over[f].r);
	}
	free(db->sys);
	free(db->index);
	free(db->rules);
	free(db);
}

static size_t slot_of(__u32 asn, size_t cap)
{
	return (size_t)(asn * 2654435761u) & (cap - 1);
}

static int index_grow(struct asn_db *db)
{
	size_t cap = db->index_cap ? db->index_cap * 2 : 1024, i, s;
	__u32 *idx;

	idx = calloc(cap, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < db->n_sys; i++) {
		for (s = slot_of(db->sys[i].asn, cap); idx[s]; s = (s + 1) & (cap - 1))
			;
		idx[s] = (__u32)i + 1;
	}
	free(db->index);
	db->index = idx;
	db->index_cap = cap;
	return 0;
}

static struct asn_sys *sys_find(const struct asn_db *db, __u32 asn)
{
	size_t s;

	if (!db->index_cap)
		return NULL;
	for (s = slot_of(asn, db->index_cap); db->index[s]; s = (s + 1) & (db->index_cap - 1))
		if (db->sys[db->index[s] - 1].asn == asn)
			return &db->sys[db->index[s] - 1];
	return NULL;
}

/* The record of an AS, created with org on first sight; its index. */
static int sys_get(struct asn_db *db, __u32 asn, const char *org, __u32 *out)
{
	struct asn_sys *s = sys_find(db, asn);
	size_t slot;
	int rc;

	if (s) {
		*out = (__u32)(s - db->sys);
		return 0;
	}
	if ((db->n_sys + 1) * 2 > db->index_cap && (rc = index_grow(db)))
		return rc;
	rc = grow((void **)&db->sys, &db->cap_sys, db->n_sys, sizeof(*db->sys));
	if (rc)
		return rc;
	s = &db->sys[db->n_sys];
	memset(s, 0, sizeof(*s));
	s->asn = asn;
	snprintf(s->org, sizeof(s->org), "%s", org);
	for (slot = slot_of(asn, db->index_cap); db->index[slot];
	     slot = (slot + 1) & (db->index_cap - 1))
		;
	db->index[slot] = (__u32)db->n_sys + 1;
	*out = (__u32)db->n_sys++;
	return 0;
}

static int range_add(struct asn_ranges *l, geo_u128 start, geo_u128 end, __u32 sys)
{
	int rc = grow((void **)&l->r, &l->cap, l->n, sizeof(*l->r));

	if (rc)
		return rc;
	l->r[l->n++] = (struct asn_range){ start, end, sys };
	return 0;
}

/* A v4-mapped IPv6 range is an IPv4 range. */
static void unmap(int *fam, geo_u128 *s, geo_u128 *e)
{
	geo_u128 base = (geo_u128)0xffff << 32;

	if (*fam == GEO_V6 && *s >= base && *e <= base + 0xffffffffu) {
		*fam = GEO_V4;
		*s -= base;
		*e -= base;
	}
}

/* "AS64500" or "64500" -> 64500; 0 is not an AS number anyone announces. */
static int parse_asn(const char *s, __u32 *out)
{
	unsigned long long v;
	char *end;

	if ((s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
		s += 2;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > 0xffffffffull)
		return -EINVAL;
	*out = (__u32)v;
	return 0;
}

/*
 * The organisation field: the rest of the line, either bare or one quoted
 * string with "" for a quote. Returns NULL when the quoting is broken.
 */
static const char *csv_org(char *p, char *out, size_t len)
{
	size_t o = 0;

	if (*p != '"') {
		if (strchr(p, '"'))
			return NULL;
		snprintf(out, len, "%s", p);
		return out;
	}
	for (p++; *p; p++) {
		if (*p == '"') {
			if (p[1] != '"')
				break;
			p++;
		}
		if (o + 1 < len)
			out[o++] = *p;
	}
	out[o] = '\0';
	return *p == '"' && !p[1] ? out : NULL;
}

struct line_ctx {
	struct asn_db *db;
	const char *name;
	char *err;
	size_t errlen;
};

static int csv_line(struct line_ctx *c, char *line, unsigned no)
{
	char *f[3], *p = line, org[ASN_ORG_MAX];
	int fam, fam2, i, rc;
	geo_u128 s, e;
	__u32 asn, sys;

	for (i = 0; i < 3; i++) {
		f[i] = p;
		p = strchr(p, ',');
		if (!p) {
			set_err(c->err, c->errlen, "%s:%u: error: expected start,end,asn,organisation",
				c->name, no);
			return -EINVAL;
		}
		*p++ = '\0';
	}
	if (geo_parse_addr(f[0], &fam, &s) || geo_parse_addr(f[1], &fam2, &e) || fam != fam2) {
		set_err(c->err, c->errlen, "%s:%u: error: \"%s\",\"%s\" is not a range of IPv4 or IPv6 addresses",
			c->name, no, f[0], f[1]);
		return -EINVAL;
	}
	if (s > e) {
		set_err(c->err, c->errlen, "%s:%u: error: start %s is after end %s", c->name, no,
			f[0], f[1]);
		return -EINVAL;
	}
	if (parse_asn(f[2], &asn)) {
		set_err(c->err, c->errlen, "%s:%u: error: \"%s\" is not an AS number (1..4294967295)",
			c->name, no, f[2]);
		return -EINVAL;
	}
	if (!csv_org(p, org, sizeof(org))) {
		set_err(c->err, c->errlen, "%s:%u: error: broken quoting in the organisation",
			c->name, no);
		return -EINVAL;
	}
	unmap(&fam, &s, &e);
	rc = sys_get(c->db, asn, org, &sys) ?: range_add(&c->db->fam[fam], s, e, sys);
	if (rc)
		set_err(c->err, c->errlen, "%s:%u: error: out of memory", c->name, no);
	return rc;
}

static int cidr_range(char *s, int *fam, geo_u128 *start, geo_u128 *end)
{
	char *slash = strchr(s, '/'), *endp;
	long len;
	int bits;
	geo_u128 host;

	if (slash)
		*slash = '\0';
	if (geo_parse_addr(s, fam, start))
		return -EINVAL;
	bits = geo_fam_bits(*fam);
	len = bits;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &endp, 10);
		if (!slash[1] || *endp || errno || len < 0 || len > bits)
			return -EINVAL;
	}
	host = len == bits ? 0 : bits - len >= 128 ? ~(geo_u128)0 :
	       (((geo_u128)1 << (bits - len)) - 1);
	if (*start & host)
		return -EINVAL;
	*end = *start | host;
	unmap(fam, start, end);
	return 0;
}

static int override_line(struct line_ctx *c, char *line, unsigned no)
{
	char *cidr, *asn_s, *cc_s, *org, *rest;
	struct asn_sys *s;
	geo_u128 a, b;
	__u32 asn, sys;
	__u16 cc = COUNTRY_ZZ;
	int fam, rc;

	cidr = strtok_r(line, " \t", &rest);
	asn_s = strtok_r(NULL, " \t", &rest);
	cc_s = strtok_r(NULL, " \t", &rest);
	org = rest ? rest + strspn(rest, " \t") : "";
	if (!cc_s) {
		set_err(c->err, c->errlen, "%s:%u: error: expected \"CIDR ASN CC|- ORGANISATION\"",
			c->name, no);
		return -EINVAL;
	}
	if (cidr_range(cidr, &fam, &a, &b)) {
		set_err(c->err, c->errlen, "%s:%u: error: \"%s\" is not a CIDR prefix (no host bits)",
			c->name, no, cidr);
		return -EINVAL;
	}
	if (parse_asn(asn_s, &asn)) {
		set_err(c->err, c->errlen, "%s:%u: error: \"%s\" is not an AS number", c->name, no,
			asn_s);
		return -EINVAL;
	}
	if (strcmp(cc_s, "-") && country_parse(cc_s, &cc)) {
		set_err(c->err, c->errlen, "%s:%u: error: unknown country \"%s\" (ISO 3166-1 alpha-2, or -)",
			c->name, no, cc_s);
		return -EINVAL;
	}
	rc = sys_get(c->db, asn, org, &sys) ?: range_add(&c->db->over[fam], a, b, sys);
	if (rc)
		return rc;
	s = &c->db->sys[sys];
	if (*org)
		snprintf(s->org, sizeof(s->org), "%s", org);
	if (cc != COUNTRY_ZZ) {
		s->country = cc;
		s->country_fixed = true;
	}
	return 0;
}

static int class_line(struct line_ctx *c, char *line, unsigned no)
{
	char *cls, *what, *rest;
	struct asn_rule r = { 0 };
	int rc;

	cls = strtok_r(line, " \t", &rest);
	what = strtok_r(NULL, " \t", &rest);
	if (!what || strtok_r(NULL, " \t", &rest)) {
		set_err(c->err, c->errlen, "%s:%u: error: expected \"CLASS AS<number>\" or \"CLASS org:PATTERN\" (write spaces in a pattern as ?)",
			c->name, no);
		return -EINVAL;
	}
	if (!strcmp(cls, "hosting"))
		r.class = ASN_CLASS_HOSTING;
	else if (!strcmp(cls, "vpn"))
		r.class = ASN_CLASS_VPN;
	else if (!strcmp(cls, "proxy"))
		r.class = ASN_CLASS_PROXY;
	else {
		set_err(c->err, c->errlen, "%s:%u: error: unknown class \"%s\" (hosting, vpn or proxy)",
			c->name, no, cls);
		return -EINVAL;
	}
	if (!strncmp(what, "org:", 4) && what[4]) {
		snprintf(r.pattern, sizeof(r.pattern), "%s", what + 4);
	} else if (parse_asn(what, &r.asn)) {
		set_err(c->err, c->errlen, "%s:%u: error: \"%s\" is neither AS<number> nor org:PATTERN",
			c->name, no, what);
		return -EINVAL;
	}
	rc = grow((void **)&c->db->rules, &c->db->cap_rules, c->db->n_rules,
		  sizeof(*c->db->rules));
	if (rc)
		return rc;
	c->db->rules[c->db->n_rules++] = r;
	return 0;
}

enum text_kind { TEXT_CSV, TEXT_OVERRIDE, TEXT_CLASSES };

/* Each line, comments (#) and blanks skipped; the CSV keeps '#' in quotes. */
static int each_line(struct line_ctx *c, const char *buf, size_t len, enum text_kind kind)
{
	char line[ASN_LINE_MAX], *p, *e;
	size_t pos = 0, n;
	unsigned no = 0;
	const char *nl;
	int rc;

	while (pos < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		no++;
		if (n >= sizeof(line) || memchr(buf + pos, '\0', n)) {
			set_err(c->err, c->errlen, "%s:%u: error: %s", c->name, no,
				n >= sizeof(line) ? "line too long" : "NUL byte in a text line");
			return -EINVAL;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (kind != TEXT_CSV && (p = strchr(line, '#')))
			*p = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p + strlen(p); e > p && isspace((unsigned char)e[-1]); )
			*--e = '\0';
		if (!*p || *p == '#')
			continue;
		rc = kind == TEXT_CSV ? csv_line(c, p, no) :
		     kind == TEXT_OVERRIDE ? override_line(c, p, no) : class_line(c, p, no);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_buf(struct asn_db *db, const char *name, const char *buf, size_t len,
		   enum text_kind kind, char *err, size_t errlen)
{
	struct line_ctx c = { db, name, err, errlen };
	int rc = each_line(&c, buf, len, kind);

	if (rc == -ENOMEM)
		set_err(err, errlen, "%s: error: out of memory", name);
	return rc;
}

static int add_file(struct asn_db *db, const char *path, enum text_kind kind, char *err,
		    size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc = telem_read_file(path, &buf, &len);

	if (rc) {
		set_err(err, errlen, "%s: error: cannot read: %s", path, strerror(-rc));
		return rc;
	}
	rc = add_buf(db, path, (const char *)buf, len, kind, err, errlen);
	free(buf);
	return rc;
}

int asn_db_add_csv_buf(struct asn_db *db, const char *name, const char *buf, size_t len,
		       char *err, size_t errlen)
{
	return add_buf(db, name, buf, len, TEXT_CSV, err, errlen);
}

int asn_db_add_csv_file(struct asn_db *db, const char *path, char *err, size_t errlen)
{
	return add_file(db, path, TEXT_CSV, err, errlen);
}

int asn_db_add_override_buf(struct asn_db *db, const char *name, const char *buf,
			    size_t len, char *err, size_t errlen)
{
	return add_buf(db, name, buf, len, TEXT_OVERRIDE, err, errlen);
}

int asn_db_add_override_file(struct asn_db *db, const char *path, char *err, size_t errlen)
{
	return add_file(db, path, TEXT_OVERRIDE, err, errlen);
}

int asn_db_add_classes_buf(struct asn_db *db, const char *name, const char *buf,
			   size_t len, char *err, size_t errlen)
{
	return add_buf(db, name, buf, len, TEXT_CLASSES, err, errlen);
}

int asn_db_add_classes_file(struct asn_db *db, const char *path, char *err, size_t errlen)
{
	return add_file(db, path, TEXT_CLASSES, err, errlen);
}

__u8 asn_db_classify(const struct asn_db *db, __u32 asn, const char *org)
{
	__u8 class = 0;
	size_t i;

	for (i = 0; i < db->n_rules; i++) {
		const struct asn_rule *r = &db->rules[i];

		if (r->asn ? r->asn == asn : !fnmatch(r->pattern, org, FNM_CASEFOLD))
			class |= r->class;
	}
	return class;
}

static int cmp_range(const void *x, const void *y)
{
	const struct asn_range *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

/* Boyer-Moore majority, weighted: the country holding most of the space wins. */
static void vote(struct asn_sys *s, __u16 cc, __u64 w)
{
	if (s->vote_cc == cc || !s->vote_w) {
		s->vote_cc = cc;
		s->vote_w += w;
	} else if (s->vote_w >= w) {
		s->vote_w -= w;
	} else {
		s->vote_cc = cc;
		s->vote_w = w - s->vote_w;
	}
}

static void vote_countries(struct asn_db *db, struct geo_table *geo)
{
	__u32 w[4];
	size_t i;

	for (i = 0; i < db->fam[GEO_V4].n; i++) {
		const struct asn_range *r = &db->fam[GEO_V4].r[i];
		__u16 cc = geo_table_lookup_v4(geo, htonl((__u32)r->start));

		if (cc == COUNTRY_ZZ)
			continue;
		vote(&db->sys[r->sys], cc, (__u64)(r->end - r->start) + 1);
		db->sys[r->sys].v4_voted = true;
	}
	for (i = 0; i < db->fam[GEO_V6].n; i++) {
		const struct asn_range *r = &db->fam[GEO_V6].r[i];
		struct asn_sys *s = &db->sys[r->sys];
		__u16 cc;

		if (s->v4_voted)
			continue;
		geo_u128_to_words(r->start, w);
		cc = geo_table_lookup_v6(geo, w);
		if (cc != COUNTRY_ZZ)
			vote(s, cc, 1);
	}
}

int asn_db_finish(struct asn_db *db, struct geo_table *geo)
{
	size_t i;
	int f;

	for (f = 0; f < 2; f++)
		if (db->fam[f].n > 1)
			qsort(db->fam[f].r, db->fam[f].n, sizeof(*db->fam[f].r), cmp_range);
	if (geo)
		vote_countries(db, geo);
	for (i = 0; i < db->n_sys; i++) {
		struct asn_sys *s = &db->sys[i];

		s->class = asn_db_classify(db, s->asn, s->org);
		if (!s->country_fixed)
			s->country = s->vote_cc;
	}
	return 0;
}

static const struct asn_range *search(const struct asn_ranges *l, geo_u128 a)
{
	size_t lo = 0, hi = l->n;

	/* The last range starting at or before a. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->r[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && l->r[lo - 1].end >= a ? &l->r[lo - 1] : NULL;
}

void asn_lookup(const struct asn_db *db, __u8 family, const __u32 addr[4],
		struct asn_info *out)
{
	const struct asn_range *hit = NULL;
	int fam = family == 4 ? GEO_V4 : GEO_V6;
	geo_u128 a;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->org = "";
	a = fam == GEO_V4 ? (geo_u128)ntohl(addr[0]) : geo_u128_from_words(addr);
	/* Overrides are few (lab and corrections): newest first, linear. */
	for (i = db->over[fam].n; i-- > 0 && !hit;)
		if (db->over[fam].r[i].start <= a && a <= db->over[fam].r[i].end)
			hit = &db->over[fam].r[i];
	if (!hit)
		hit = search(&db->fam[fam], a);
	if (!hit)
		return;
	out->asn = db->sys[hit->sys].asn;
	out->country = db->sys[hit->sys].country;
	out->class = db->sys[hit->sys].class;
	out->org = db->sys[hit->sys].org;
}

size_t asn_db_ranges(const struct asn_db *db)
{
	return db->fam[GEO_V4].n + db->fam[GEO_V6].n;
}

size_t asn_db_systems(const struct asn_db *db)
{
	return db->n_sys;
}

const char *asn_class_name(__u8 class)
{
	if (class & ASN_CLASS_VPN)
		return "vpn";
	if (class & ASN_CLASS_PROXY)
		return "proxy";
	if (class & ASN_CLASS_HOSTING)
		return "hosting";
	return "none";
}
