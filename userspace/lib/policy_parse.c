// SPDX-License-Identifier: BSD-2-Clause
/*
 * Policy files to validated structs: every key checked against the
 * language (with the nearest valid name on a typo), every country code and
 * group resolved, every time, endpoint and pattern parsed, each error
 * pointing at the offending node. Sections are read in a fixed order
 * (node, groups, tiers, models, guarantees, revocations) because each
 * refers only to the ones before it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "country.h"
#include "policy_impl.h"

static struct ploc at(const struct ynode *n)
{
	return (struct ploc){ n ? n->line : 1, n ? n->col : 1 };
}

static const char *const kind_names[] = {
	[YNODE_SCALAR] = "a value", [YNODE_MAP] = "a mapping", [YNODE_SEQ] = "a list",
};

static int expect(struct pctx *c, const struct ynode *n, enum ynode_kind kind,
		  const char *what)
{
	if (n->kind == kind)
		return 0;
	return perr(c, at(n), "%s must be %s, not %s", what, kind_names[kind],
		    kind_names[n->kind]);
}

static int check_keys(struct pctx *c, const struct ynode *map, const char *const keys[])
{
	return ynode_check_keys(&c->doc, map, keys, c->diag->error, sizeof(c->diag->error));
}

/* A scalar under key, or NULL when absent (an error if required). */
static int get_scalar(struct pctx *c, const struct ynode *map, const char *key,
		      bool required, const struct ynode **out)
{
	const struct ynode *n = ynode_get(map, key);

	*out = NULL;
	if (!n)
		return required ? perr(c, at(map), "missing required key \"%s\"", key) : 0;
	if (expect(c, n, YNODE_SCALAR, key))
		return -EINVAL;
	if (!n->value[0])
		return perr(c, at(n), "\"%s\" is empty", key);
	*out = n;
	return 0;
}

static int dup_str(const char *s, char **out)
{
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int get_str(struct pctx *c, const struct ynode *map, const char *key,
		   bool required, char **out)
{
	const struct ynode *n;
	int rc = get_scalar(c, map, key, required, &n);

	*out = NULL;
	if (rc || !n)
		return rc;
	return dup_str(n->value, out);
}

static int parse_mode(struct pctx *c, const struct ynode *map, int *mode, struct ploc *loc)
{
	const struct ynode *n;
	int rc = get_scalar(c, map, "mode", false, &n);

	*mode = MODE_UNSET;
	if (rc || !n)
		return rc;
	*loc = at(n);
	if (!strcmp(n->value, "enforce"))
		*mode = MODE_ENFORCE;
	else if (!strcmp(n->value, "audit"))
		*mode = MODE_AUDIT;
	else
		return perr(c, at(n), "mode must be enforce or audit, not \"%s\"", n->value);
	return 0;
}

static int parse_verdict(struct pctx *c, const struct ynode *n, __u8 *out)
{
	if (!strcmp(n->value, "allow"))
		*out = VERDICT_ALLOW;
	else if (!strcmp(n->value, "deny"))
		*out = VERDICT_DENY;
	else if (!strcmp(n->value, "audit"))
		return perr(c, at(n), "a verdict is allow or deny; audit is a mode (mode: audit)");
	else
		return perr(c, at(n), "a verdict is allow or deny, not \"%s\"", n->value);
	return 0;
}

static int group_find(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_groups; i++)
		if (!strcmp(p->groups[i].name, name))
			return (int)i;
	return -1;
}

static int group_resolve(struct pctx *c, size_t gi, int *stack, size_t depth);

static int country_entry_error(struct pctx *c, const struct ynode *n)
{
	const char *hint = country_suggest(n->value);

	if (hint)
		return perr(c, at(n), "invalid country code \"%s\" (did you mean \"%s\"?)",
			    n->value, hint);
	return perr(c, at(n), "invalid country code \"%s\" (ISO 3166-1 alpha-2, upper case)",
		    n->value);
}

static int group_missing(struct pctx *c, const struct ynode *n)
{
	const char **names = calloc(c->p->n_groups + 2, sizeof(*names));
	const char *near = NULL, *code = country_suggest(n->value);
	size_t i;

	if (!names)
		return -ENOMEM;
	for (i = 0; i < c->p->n_groups; i++)
		names[i] = c->p->groups[i].name;
	names[i] = "all";
	near = nearest_name(n->value, names);
	free(names);
	if (near)
		return perr(c, at(n), "undefined country group \"%s\" (did you mean \"%s\"?)",
			    n->value, near);
	if (code)
		return perr(c, at(n), "undefined country group \"%s\" (did you mean country \"%s\"?)",
			    n->value, code);
	return perr(c, at(n), "undefined country group \"%s\"", n->value);
}

/*
 * One entry of a country list. Upper case is a country code, lower case a
 * group: the two can never be confused ("eu" the group, "EU" no country).
 */
static int resolve_entry(struct pctx *c, const struct ynode *n, struct cset *out,
			 int *stack, size_t depth)
{
	const char *s = n->value;
	__u16 idx;
	int g, rc;

	if (!strcmp(s, "all")) {
		for (idx = 0; idx < COUNTRY_MAX; idx++)
			cset_add(out, idx);
		return 0;
	}
	if (isupper((unsigned char)s[0])) {
		if (strlen(s) != 2 || !isupper((unsigned char)s[1]) || country_parse(s, &idx))
			return country_entry_error(c, n);
		cset_add(out, idx);
		return 0;
	}
	g = group_find(c->p, s);
	if (g < 0)
		return group_missing(c, n);
	c->p->groups[g].used = true;
	/* Only group members resolve groups (stack set); later lists find them done. */
	if (c->p->groups[g].state != 2 && stack) {
		rc = group_resolve(c, (size_t)g, stack, depth);
		if (rc)
			return rc;
	}
	cset_union(out, &c->p->groups[g].members.set);
	return 0;
}

static int clist_parse(struct pctx *c, const struct ynode *n, struct clist *out,
		       int *stack, size_t depth)
{
	size_t i, cnt = n->kind == YNODE_SEQ ? n->n_items : 1;
	int rc;

	out->loc = at(n);
	if (n->kind == YNODE_SCALAR && !n->quoted && !n->value[0])
		return 0;	/* "key:" with nothing after it: no countries */
	if (n->kind == YNODE_MAP)
		return perr(c, at(n), "a country list is a list of codes and groups, not a mapping");
	out->items = calloc(cnt ? cnt : 1, sizeof(*out->items));
	if (!out->items)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		const struct ynode *e = n->kind == YNODE_SEQ ? n->items[i] : n;
		struct centry *ce = &out->items[out->n];

		if (expect(c, e, YNODE_SCALAR, "a country list entry"))
			return -EINVAL;
		ce->loc = at(e);
		rc = dup_str(e->value, &ce->text);
		if (rc)
			return rc;
		out->n++;
		rc = resolve_entry(c, e, &ce->set, stack, depth);
		if (rc)
			return rc;
		cset_union(&out->set, &ce->set);
	}
	return 0;
}

static int group_resolve(struct pctx *c, size_t gi, int *stack, size_t depth)
{
	struct pgroup *g = &c->p->groups[gi];
	int rc;

	if (g->state == 1) {
		char path[512];
		size_t i, off = 0;

		for (i = 0; i < depth; i++)
			if (stack[i] == (int)gi)
				break;
		for (; i < depth && off < sizeof(path); i++)
			off += (size_t)snprintf(path + off, sizeof(path) - off, "%s -> ",
						c->p->groups[stack[i]].name);
		if (off < sizeof(path))
			snprintf(path + off, sizeof(path) - off, "%s", g->name);
		return perr(c, g->loc, "cyclic country group: %s", path);
	}
	g->state = 1;
	stack[depth] = (int)gi;
	rc = clist_parse(c, g->node, &g->members, stack, depth + 1);
	g->state = 2;
	return rc;
}

static int valid_group_name(struct pctx *c, const struct ynode *k)
{
	const char *s = k->value;

	if (!strcmp(s, "all"))
		return perr(c, at(k), "duplicate country group \"all\": it is built in");
	if (!islower((unsigned char)s[0]))
		return perr(c, at(k), "country group name \"%s\" must start with a lower-case letter (upper case is for country codes)",
			    s);
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    *s != '-' && *s != '_')
			return perr(c, at(k), "country group name \"%s\" may hold only a-z, 0-9, - and _",
				    k->value);
	return 0;
}

static int parse_groups(struct pctx *c, const struct ynode *map)
{
	struct policy *p = c->p;
	int *stack, rc = 0;
	size_t i;

	if (!map)
		return 0;
	if (expect(c, map, YNODE_MAP, "country_groups"))
		return -EINVAL;
	p->groups = calloc(ynode_map_size(map) + 1, sizeof(*p->groups));
	stack = calloc(ynode_map_size(map) + 1, sizeof(*stack));
	if (!p->groups || !stack) {
		free(stack);
		return -ENOMEM;
	}
	for (i = 0; i < ynode_map_size(map) && !rc; i++) {
		const struct ynode *k = ynode_map_key(map, i);
		struct pgroup *g = &p->groups[i];

		rc = valid_group_name(c, k) ?: dup_str(k->value, &g->name);
		g->loc = at(k);
		g->node = ynode_map_value(map, i);
		p->n_groups++;
	}
	for (i = 0; i < p->n_groups && !rc; i++)
		if (p->groups[i].state == 0)
			rc = group_resolve(c, i, stack, 0);
	free(stack);
	return rc;
}

static int parse_countries(struct pctx *c, const struct ynode *n, struct clist *out)
{
	return clist_parse(c, n, out, NULL, 0);
}

static int parse_node(struct pctx *c, const struct ynode *n)
{
	static const char *const keys[] = { "id", "country", NULL };
	const struct ynode *cc;
	int rc;

	if (!n)
		return perr(c, at(c->doc.root), "missing required key \"node\" (the host country)");
	if (expect(c, n, YNODE_MAP, "node") || check_keys(c, n, keys))
		return -EINVAL;
	rc = get_str(c, n, "id", false, &c->p->node_id) ?:
	     get_scalar(c, n, "country", true, &cc);
	if (rc)
		return rc;
	if (strlen(cc->value) != 2 || !isupper((unsigned char)cc->value[0]) ||
	    !isupper((unsigned char)cc->value[1]) ||
	    country_parse(cc->value, &c->p->node_country))
		return country_entry_error(c, cc);
	if (c->p->node_country == COUNTRY_ZZ)
		return perr(c, at(cc), "the host country cannot be ZZ (unknown)");
	return 0;
}

static int parse_dir_rule(struct pctx *c, const struct ynode *tier, const char *dname,
			  struct pdir_rule *r)
{
	static const char *const keys[] = { "allow", "deny", "default", "mode", NULL };
	const struct ynode *n = ynode_get(tier, dname), *d, *l;
	int rc;

	r->dflt = VERDICT_DENY;
	if (!n)
		return perr(c, at(tier), "tier has no %s rules (write %s: {default: allow} to allow every country)",
			    dname, dname);
	r->loc = at(n);
	r->dflt_loc = at(n);
	if (expect(c, n, YNODE_MAP, dname) || check_keys(c, n, keys))
		return -EINVAL;
	rc = get_scalar(c, n, "default", false, &d) ?: parse_mode(c, n, &r->mode, &r->mode_loc);
	if (rc)
		return rc;
	if (d) {
		rc = parse_verdict(c, d, &r->dflt);
		r->dflt_set = true;
		r->dflt_loc = at(d);
	}
	l = ynode_get(n, "allow");
	if (!rc && l)
		rc = parse_countries(c, l, &r->allow);
	l = ynode_get(n, "deny");
	if (!rc && l)
		rc = parse_countries(c, l, &r->deny);
	return rc;
}

static int parse_tiers(struct pctx *c, const struct ynode *map)
{
	static const char *const keys[] = { "ingress", "egress", "mode", NULL };
	struct policy *p = c->p;
	size_t i;
	int rc = 0;

	if (!map)
		return perr(c, at(c->doc.root), "missing required key \"tiers\"");
	if (expect(c, map, YNODE_MAP, "tiers"))
		return -EINVAL;
	p->tiers = calloc(ynode_map_size(map) + 1, sizeof(*p->tiers));
	if (!p->tiers)
		return -ENOMEM;
	for (i = 0; i < ynode_map_size(map) && !rc; i++) {
		const struct ynode *k = ynode_map_key(map, i), *v = ynode_map_value(map, i);
		struct ptier *t = &p->tiers[p->n_tiers++];

		t->loc = at(k);
		rc = dup_str(k->value, &t->name);
		if (rc)
			return rc;
		if (expect(c, v, YNODE_MAP, "a tier") || check_keys(c, v, keys))
			return -EINVAL;
		rc = parse_mode(c, v, &t->mode, &t->mode_loc) ?:
		     parse_dir_rule(c, v, "ingress", &t->dir[DIR_INGRESS]) ?:
		     parse_dir_rule(c, v, "egress", &t->dir[DIR_EGRESS]);
	}
	return rc;
}

static int policy_tier_find(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_tiers; i++)
		if (!strcmp(p->tiers[i].name, name))
			return (int)i;
	return -1;
}

static int tier_ref(struct pctx *c, const struct ynode *n, int *out)
{
	const char **names;
	const char *near;
	size_t i;

	*out = policy_tier_find(c->p, n->value);
	if (*out >= 0)
		return 0;
	names = calloc(c->p->n_tiers + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (i = 0; i < c->p->n_tiers; i++)
		names[i] = c->p->tiers[i].name;
	near = nearest_name(n->value, names);
	free(names);
	if (near)
		return perr(c, at(n), "undefined tier \"%s\" (did you mean \"%s\"?)", n->value, near);
	return perr(c, at(n), "undefined tier \"%s\"", n->value);
}

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* 2026-01-31, 2026-01-31T12:00:00Z or 2026-01-31T12:00:00+04:00. */
int policy_parse_time(const char *s, int64_t *out)
{
	struct tm tm = { 0 }, back;
	int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0, sign = 0;
	size_t len = strlen(s);
	time_t t;

	if (len < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return -EINVAL;
	if (len > 10) {
		if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || len < 20 ||
		    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
		    s[16] != ':' || digits(s + 17, 2, &se))
			return -EINVAL;
		if (len == 20 && (s[19] == 'Z' || s[19] == 'z'))
			sign = 0;
		else if (len == 25 && (s[19] == '+' || s[19] == '-') &&
			 !digits(s + 20, 2, &oh) && s[22] == ':' && !digits(s + 23, 2, &om))
			sign = s[19] == '+' ? 1 : -1;
		else
			return -EINVAL;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (!gmtime_r(&t, &back) || back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
	    back.tm_mday != d || back.tm_hour != h || back.tm_min != mi || back.tm_sec != se ||
	    oh > 23 || om > 59)
		return -EINVAL;
	*out = (int64_t)t - sign * (oh * 3600 + om * 60);
	return 0;
}

static int get_time(struct pctx *c, const struct ynode *map, const char *key,
		    bool required, int64_t *out)
{
	const struct ynode *n;
	int rc = get_scalar(c, map, key, required, &n);

	*out = 0;
	if (rc || !n)
		return rc;
	if (policy_parse_time(n->value, out))
		return perr(c, at(n), "invalid time \"%s\" for %s (write 2026-01-31 or 2026-01-31T12:00:00Z)",
			    n->value, key);
	return 0;
}

/* "99.9" or "99.9%" -> 999000 parts per million; (0, 100] only. */
static int parse_availability(struct pctx *c, const struct ynode *n, __u32 *ppm)
{
	const char *s = n->value;
	__u64 whole = 0, frac = 0, scale = 10000;
	int nd = 0;

	for (; isdigit((unsigned char)*s) && nd < 4; s++, nd++)
		whole = whole * 10 + (__u64)(*s - '0');
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s) && scale > 1; s++) {
			scale /= 10;
			frac += (__u64)(*s - '0') * scale;
		}
	}
	if (*s == '%')
		s++;
	*ppm = (__u32)(whole * 10000 + frac);
	if (nd == 0 || *s || *ppm == 0 || *ppm > 1000000)
		return perr(c, at(n), "availability must be a percentage above 0 and at most 100 with up to four decimals, not \"%s\"",
			    n->value);
	return 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *a;

	if (n < *cap)
		return 0;
	a = reallocarray(*arr, ncap, size);
	if (!a)
		return -ENOMEM;
	memset((char *)a + *cap * size, 0, (ncap - *cap) * size);
	*arr = a;
	*cap = ncap;
	return 0;
}

static void endpoint_text(const struct endpoint_key *k, char *out, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	const char *proto = k->proto == IPPROTO_UDP ? "udp" : "tcp";

	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->addr, addr, sizeof(addr));
	if (k->family == 4)
		snprintf(out, len, "%s:%u/%s", addr, k->port, proto);
	else
		snprintf(out, len, "[%s]:%u/%s", addr, k->port, proto);
}

/* The address part: IPv4, [IPv6] (brackets already removed) or `*`. */
static int endpoint_addr(const char *addr, bool bracketed, struct endpoint_key keys[2],
			 int *n)
{
	struct endpoint_key *k = &keys[0];

	*n = 1;
	if (!bracketed && !strcmp(addr, "*")) {
		keys[0].family = 4;
		keys[1].family = 6;
		*n = 2;
		return 0;
	}
	if (!bracketed && inet_pton(AF_INET, addr, k->addr) == 1) {
		k->family = 4;
		return 0;
	}
	if (!bracketed || inet_pton(AF_INET6, addr, k->addr) != 1)
		return -EINVAL;
	k->family = 6;
	/* A v4-mapped address is IPv4 on the wire, where XDP sees it. */
	if (k->addr[0] == 0 && k->addr[1] == 0 && k->addr[2] == htonl(0xffff)) {
		k->addr[0] = k->addr[3];
		k->addr[2] = k->addr[3] = 0;
		k->family = 4;
	}
	return 0;
}

/* "ADDR:PORT/PROTO" into one or two keys (`*` is both families). */
static int endpoint_parse(const char *s, struct endpoint_key keys[2], int *n)
{
	char addr[INET6_ADDRSTRLEN + 2];
	const char *colon, *slash, *a = s;
	unsigned long port;
	size_t alen;
	char *end;
	__u8 proto;

	memset(keys, 0, 2 * sizeof(*keys));
	slash = strrchr(s, '/');
	colon = slash ? memrchr(s, ':', (size_t)(slash - s)) : NULL;
	if (!colon)
		return -EINVAL;
	if (!strcmp(slash + 1, "tcp"))
		proto = IPPROTO_TCP;
	else if (!strcmp(slash + 1, "udp"))
		proto = IPPROTO_UDP;
	else
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (end != slash || !isdigit((unsigned char)colon[1]) || port == 0 || port > 65535)
		return -EINVAL;
	alen = (size_t)(colon - s);
	if (alen >= 2 && s[0] == '[' && s[alen - 1] == ']') {
		a++;
		alen -= 2;
	}
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	keys[0].port = keys[1].port = (__u16)port;
	keys[0].proto = keys[1].proto = proto;
	return endpoint_addr(addr, a != s, keys, n);
}

struct model_tables {
	size_t cap_endpoints, cap_tenants;
};

static int add_endpoint(struct pctx *c, struct model_tables *mt, const struct ynode *e,
			size_t model_doc)
{
	static const char *const keys[] = { "address", "tenant", NULL };
	struct policy *p = c->p;
	const struct ynode *addr = e, *tn = NULL;
	struct endpoint_key k[2];
	char text[80];
	int n, i, rc;

	if (e->kind == YNODE_MAP) {
		if (check_keys(c, e, keys) || get_scalar(c, e, "address", true, &addr) ||
		    get_scalar(c, e, "tenant", false, &tn))
			return -EINVAL;
	} else if (expect(c, e, YNODE_SCALAR, "an endpoint")) {
		return -EINVAL;
	}
	if (endpoint_parse(addr->value, k, &n))
		return perr(c, at(addr), "invalid endpoint \"%s\" (write ADDRESS:PORT/tcp or /udp; ADDRESS is IPv4, [IPv6] or *)",
			    addr->value);
	for (i = 0; i < n; i++) {
		struct pendpoint *pe;

		rc = grow((void **)&p->endpoints, &mt->cap_endpoints, p->n_endpoints,
			  sizeof(*p->endpoints));
		if (rc)
			return rc;
		pe = &p->endpoints[p->n_endpoints++];
		pe->pub.key = k[i];
		pe->model = (__u32)model_doc;
		pe->loc = at(addr);
		endpoint_text(&k[i], text, sizeof(text));
		rc = dup_str(text, (char **)&pe->pub.text);
		if (!rc && tn)
			rc = dup_str(tn->value, &pe->tenant);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_pattern(struct pctx *c, const struct ynode *n)
{
	const char *s = n->value;

	if (s[0] != '/' || strstr(s, "//") || (s[1] && s[strlen(s) - 1] == '/') || strstr(s, "/../") || strstr(s, "/./") ||
	    (strlen(s) >= 3 && !strcmp(s + strlen(s) - 3, "/..")) || strlen(s) > 4096)
		return perr(c, at(n), "tenant cgroup \"%s\" must be a path below the cgroup2 mount (/a/b: no empty, . or .. parts, no trailing /)",
			    s);
	return 0;
}

static int add_tenant(struct pctx *c, struct model_tables *mt, const struct ynode *e,
		      size_t model_doc)
{
	static const char *const keys[] = { "name", "cgroup", NULL };
	struct policy *p = c->p;
	const struct ynode *cg = e, *name = e;
	struct ptenant *t;
	int rc;

	if (e->kind == YNODE_MAP) {
		if (check_keys(c, e, keys) || get_scalar(c, e, "name", true, &name) ||
		    get_scalar(c, e, "cgroup", true, &cg))
			return -EINVAL;
	} else if (expect(c, e, YNODE_SCALAR, "a tenant")) {
		return -EINVAL;
	}
	if (check_pattern(c, cg))
		return -EINVAL;
	rc = grow((void **)&p->tenants, &mt->cap_tenants, p->n_tenants, sizeof(*p->tenants));
	if (rc)
		return rc;
	t = &p->tenants[p->n_tenants++];
	t->loc = at(cg);
	t->pub.who.model = (__u32)model_doc;
	return dup_str(name->value, (char **)&t->pub.name) ?:
	       dup_str(cg->value, (char **)&t->pub.cgroup);
}

static int parse_exception(struct pctx *c, const struct ynode *e, struct pexception *x)
{
	static const char *const keys[] = { "countries", "direction", "verdict", "reason",
					    "reference", "mode", NULL };
	const struct ynode *n, *v;
	int rc;

	x->loc = at(e);
	x->dir = -1;
	if (expect(c, e, YNODE_MAP, "an exception") || check_keys(c, e, keys))
		return -EINVAL;
	n = ynode_get(e, "countries");
	if (!n)
		return perr(c, at(e), "missing required key \"countries\"");
	rc = parse_countries(c, n, &x->countries) ?:
	     get_scalar(c, e, "verdict", true, &v) ?:
	     parse_verdict(c, v, &x->verdict) ?:
	     get_str(c, e, "reason", true, &x->reason) ?:
	     get_str(c, e, "reference", false, &x->reference) ?:
	     parse_mode(c, e, &x->mode, &x->mode_loc) ?:
	     get_scalar(c, e, "direction", false, &n);
	if (rc || !n)
		return rc;
	if (!strcmp(n->value, "ingress"))
		x->dir = DIR_INGRESS;
	else if (!strcmp(n->value, "egress"))
		x->dir = DIR_EGRESS;
	else if (strcmp(n->value, "both"))
		return perr(c, at(n), "direction must be ingress, egress or both, not \"%s\"",
			    n->value);
	return 0;
}

static int parse_list(struct pctx *c, const struct ynode *map, const char *key,
		      const struct ynode **out)
{
	*out = ynode_get(map, key);
	if (*out && (*out)->kind == YNODE_SCALAR && !(*out)->quoted && !(*out)->value[0]) {
		*out = NULL;	/* "key:" with nothing after it: an empty list */
		return 0;
	}
	return *out ? expect(c, *out, YNODE_SEQ, key) : 0;
}

static int parse_model(struct pctx *c, struct model_tables *mt, const struct ynode *m,
		       size_t doc)
{
	static const char *const keys[] = { "name", "tier", "mode", "endpoints", "tenants",
					    "exceptions", NULL };
	struct pmodel *pm = &c->p->models[doc];
	const struct ynode *n, *eps, *tns, *exs;
	size_t i;
	int rc;

	pm->loc = at(m);
	pm->doc_idx = doc;
	if (expect(c, m, YNODE_MAP, "a model") || check_keys(c, m, keys))
		return -EINVAL;
	rc = get_str(c, m, "name", true, &pm->name) ?: get_scalar(c, m, "tier", false, &n);
	if (rc)
		return rc;
	if (!n)
		return perr(c, at(m), "model \"%s\" has no tier (add tier: NAME)", pm->name);
	rc = tier_ref(c, n, &pm->tier) ?: parse_mode(c, m, &pm->mode, &pm->mode_loc) ?:
	     parse_list(c, m, "endpoints", &eps) ?: parse_list(c, m, "tenants", &tns) ?:
	     parse_list(c, m, "exceptions", &exs);
	for (i = 0; !rc && eps && i < eps->n_items; i++)
		rc = add_endpoint(c, mt, eps->items[i], doc);
	for (i = 0; !rc && tns && i < tns->n_items; i++)
		rc = add_tenant(c, mt, tns->items[i], doc);
	if (rc || !exs)
		return rc;
	pm->exc = calloc(exs->n_items + 1, sizeof(*pm->exc));
	if (!pm->exc)
		return -ENOMEM;
	for (i = 0; !rc && i < exs->n_items; i++, pm->n_exc++)
		rc = parse_exception(c, exs->items[i], &pm->exc[i]);
	return rc;
}

static int parse_models(struct pctx *c, const struct ynode *seq)
{
	struct model_tables mt = { 0 };
	size_t i;
	int rc = 0;

	if (!seq)
		return 0;
	if (expect(c, seq, YNODE_SEQ, "models"))
		return -EINVAL;
	c->p->models = calloc(seq->n_items + 1, sizeof(*c->p->models));
	if (!c->p->models)
		return -ENOMEM;
	for (i = 0; i < seq->n_items && !rc; i++) {
		c->p->n_models++;
		rc = parse_model(c, &mt, seq->items[i], i);
	}
	return rc;
}

static int name_refs(struct pctx *c, const struct ynode *seq, char ***names,
		     struct ploc **locs, size_t *n)
{
	size_t i;

	if (!seq)
		return 0;
	*names = calloc(seq->n_items + 1, sizeof(**names));
	*locs = calloc(seq->n_items + 1, sizeof(**locs));
	if (!*names || !*locs)
		return -ENOMEM;
	for (i = 0; i < seq->n_items; i++) {
		if (expect(c, seq->items[i], YNODE_SCALAR, "a name"))
			return -EINVAL;
		(*locs)[i] = at(seq->items[i]);
		if (dup_str(seq->items[i]->value, &(*names)[i]))
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

static int parse_guarantee(struct pctx *c, const struct ynode *g, struct pguarantee *pg)
{
	static const char *const keys[] = { "name", "countries", "models", "tiers", "from",
					    "until", "availability", NULL };
	const struct ynode *n, *ms, *ts;
	int rc;

	pg->loc = at(g);
	pg->revocation = -1;
	if (expect(c, g, YNODE_MAP, "a guarantee") || check_keys(c, g, keys))
		return -EINVAL;
	rc = get_str(c, g, "name", true, &pg->name) ?:
	     parse_list(c, g, "models", &ms) ?: parse_list(c, g, "tiers", &ts) ?:
	     name_refs(c, ms, &pg->model_names, &pg->model_locs, &pg->n_models) ?:
	     name_refs(c, ts, &pg->tier_names, &pg->tier_locs, &pg->n_tiers) ?:
	     get_time(c, g, "from", true, &pg->from) ?:
	     get_time(c, g, "until", false, &pg->until) ?:
	     get_scalar(c, g, "availability", false, &n);
	if (rc)
		return rc;
	if (n && parse_availability(c, n, &pg->availability_ppm))
		return -EINVAL;
	if (!pg->n_models && !pg->n_tiers)
		return perr(c, at(g), "guarantee \"%s\" names no models and no tiers", pg->name);
	if (pg->until && pg->until <= pg->from)
		return perr(c, at(ynode_get(g, "until")), "guarantee \"%s\" ends before it starts",
			    pg->name);
	n = ynode_get(g, "countries");
	if (n)
		return parse_countries(c, n, &pg->countries);
	/* Without countries, the promise is to the host country. */
	pg->countries.loc = at(g);
	cset_add(&pg->countries.set, c->p->node_country);
	return 0;
}

static int parse_guarantees(struct pctx *c, const struct ynode *seq)
{
	size_t i;
	int rc = 0;

	if (!seq)
		return 0;
	if (expect(c, seq, YNODE_SEQ, "guarantees"))
		return -EINVAL;
	c->p->guarantees = calloc(seq->n_items + 1, sizeof(*c->p->guarantees));
	if (!c->p->guarantees)
		return -ENOMEM;
	for (i = 0; i < seq->n_items && !rc; i++, c->p->n_guarantees++)
		rc = parse_guarantee(c, seq->items[i], &c->p->guarantees[i]);
	return rc;
}

static int parse_revocation(struct pctx *c, const struct ynode *r, struct prevocation *pr)
{
	static const char *const keys[] = { "guarantee", "reason", "reference", "effective",
					    NULL };

	pr->loc = at(r);
	pr->target = -1;
	if (expect(c, r, YNODE_MAP, "a revocation") || check_keys(c, r, keys))
		return -EINVAL;
	return get_str(c, r, "guarantee", true, &pr->guarantee) ?:
	       get_str(c, r, "reason", true, &pr->reason) ?:
	       get_str(c, r, "reference", true, &pr->reference) ?:
	       get_time(c, r, "effective", true, &pr->effective);
}

static int parse_revocations(struct pctx *c, const struct ynode *seq)
{
	size_t i;
	int rc = 0;

	if (!seq)
		return 0;
	if (expect(c, seq, YNODE_SEQ, "revocations"))
		return -EINVAL;
	c->p->revocations = calloc(seq->n_items + 1, sizeof(*c->p->revocations));
	if (!c->p->revocations)
		return -ENOMEM;
	for (i = 0; i < seq->n_items && !rc; i++, c->p->n_revocations++)
		rc = parse_revocation(c, seq->items[i], &c->p->revocations[i]);
	return rc;
}

static int parse_top(struct pctx *c)
{
	static const char *const keys[] = { "version", "node", "mode", "unknown_model_tier",
					    "country_groups", "tiers", "models", "guarantees",
					    "revocations", "query_patterns", NULL };
	const struct ynode *root = c->doc.root, *n;
	int rc;

	if (!root)
		return perr(c, at(NULL), "empty policy (see docs/policy.md)");
	if (expect(c, root, YNODE_MAP, "a policy") || check_keys(c, root, keys))
		return -EINVAL;
	rc = get_scalar(c, root, "version", false, &n);
	if (rc)
		return rc;
	if (n && strcmp(n->value, "1"))
		return perr(c, at(n), "unsupported policy version \"%s\" (this compiler reads 1)",
			    n->value);
	return parse_mode(c, root, &c->p->mode, &c->p->mode_loc);
}

int policy_parse(struct pctx *c)
{
	const struct ynode *root = c->doc.root, *n = NULL, *seq;
	int rc;

	rc = parse_top(c) ?: parse_node(c, ynode_get(root, "node")) ?:
	     parse_groups(c, ynode_get(root, "country_groups")) ?:
	     parse_tiers(c, ynode_get(root, "tiers")) ?:
	     get_scalar(c, root, "unknown_model_tier", false, &n);
	if (rc)
		return rc;
	if (c->p->mode == MODE_UNSET)
		c->p->mode = MODE_ENFORCE;
	c->p->unknown_tier = -1;
	if (n) {
		c->p->unknown_tier_loc = at(n);
		if (tier_ref(c, n, &c->p->unknown_tier))
			return -EINVAL;
		c->p->tiers[c->p->unknown_tier].used = true;
	}
	rc = parse_list(c, root, "models", &seq) ?: parse_models(c, seq);
	if (!rc)
		rc = parse_list(c, root, "guarantees", &seq) ?: parse_guarantees(c, seq);
	if (!rc)
		rc = parse_list(c, root, "revocations", &seq) ?: parse_revocations(c, seq);
	if (!rc)
		rc = policy_parse_query(c, ynode_get(root, "query_patterns"));
	return rc;
}
