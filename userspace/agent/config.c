// SPDX-License-Identifier: BSD-2-Clause
/* customsd's configuration file; see config.h and docs/agent.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "country.h"
#include "control.h"
#include "yamltree.h"

struct loader {
	struct ydoc doc;
	struct agent_config *cfg;
	char *err;
	size_t errlen;
};

#define FAIL(l, node, ...) ydoc_error(&(l)->doc, node, (l)->err, (l)->errlen, __VA_ARGS__)

void config_defaults(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->pin_dir, sizeof(cfg->pin_dir), "%s", DP_PIN_DIR_DEFAULT);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/customs");
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s",
		 CONTROL_SOCKET_DEFAULT);
	snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "127.0.0.1:9462");
	cfg->metrics_max_series = 10000;
	cfg->interval_ms = 10000;
	cfg->spool_max_bytes = 256ull << 20;
	cfg->dp.pin_dir = cfg->pin_dir;
}

int parse_duration_ms(const char *s, __u32 *ms)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (end == s || v <= 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		;
	else if (!strcmp(end, "s") || !*end)
		v *= 1000;
	else if (!strcmp(end, "m"))
		v *= 60000;
	else
		return -EINVAL;
	if (v < 1 || v > 86400000)
		return -EINVAL;
	*ms = (__u32)v;
	return 0;
}

static int scalar(struct loader *l, const struct ynode *n, const char *what)
{
	if (n->kind != YNODE_SCALAR)
		return FAIL(l, n, "%s must be a single value", what);
	return 0;
}

static int str_field(struct loader *l, const struct ynode *n, const char *what,
		     char *out, size_t len)
{
	int err = scalar(l, n, what);

	if (err)
		return err;
	if (strlen(n->value) >= len)
		return FAIL(l, n, "%s is longer than %zu characters", what, len - 1);
	snprintf(out, len, "%s", n->value);
	return 0;
}

static int u32_field(struct loader *l, const struct ynode *n, const char *what,
		     __u32 min, __u32 max, __u32 *out)
{
	unsigned long long v;
	char *end;
	int err = scalar(l, n, what);

	if (err)
		return err;
	errno = 0;
	v = strtoull(n->value, &end, 10);
	if (errno || *end || end == n->value || v < min || v > max)
		return FAIL(l, n, "%s must be a whole number from %u to %u, not \"%s\"",
			    what, min, max, n->value);
	*out = (__u32)v;
	return 0;
}

static int load_node(struct loader *l, const struct ynode *n)
{
	static const char *const keys[] = { "id", "host_country", NULL };
	const struct ynode *v;
	const char *hint;
	int err;

	if (n->kind != YNODE_MAP)
		return FAIL(l, n, "node must be a mapping with id and host_country");
	err = ynode_check_keys(&l->doc, n, keys, l->err, l->errlen);
	if (!err && (v = ynode_get(n, "id")))
		err = str_field(l, v, "node.id", l->cfg->node_id, sizeof(l->cfg->node_id));
	if (!err && (v = ynode_get(n, "host_country"))) {
		err = scalar(l, v, "node.host_country");
		if (!err && country_parse(v->value, &l->cfg->host_country)) {
			hint = country_suggest(v->value);
			err = hint ? FAIL(l, v, "unknown country \"%s\" (did you mean \"%s\"?)",
					  v->value, hint)
				   : FAIL(l, v, "unknown country \"%s\" (an ISO 3166-1 alpha-2 code)",
					  v->value);
		}
	}
	return err;
}

static int load_geo(struct loader *l, const struct ynode *n)
{
	static const char *const keys[] = { "database", "overrides", NULL };
	const struct ynode *v;
	size_t i;
	int err;

	if (n->kind != YNODE_MAP)
		return FAIL(l, n, "geo must be a mapping with database and overrides");
	err = ynode_check_keys(&l->doc, n, keys, l->err, l->errlen);
	if (!err && (v = ynode_get(n, "database")))
		err = str_field(l, v, "geo.database", l->cfg->geo_db, sizeof(l->cfg->geo_db));
	v = ynode_get(n, "overrides");
	if (err || !v)
		return err;
	if (v->kind != YNODE_SEQ)
		return FAIL(l, v, "geo.overrides must be a list of files");
	if (v->n_items > CONFIG_MAX_OVERRIDES)
		return FAIL(l, v, "geo.overrides: at most %d files", CONFIG_MAX_OVERRIDES);
	for (i = 0; i < v->n_items && !err; i++)
		err = str_field(l, v->items[i], "geo.overrides[]",
				l->cfg->geo_overrides[i], CONFIG_PATH_MAX);
	l->cfg->n_geo_overrides = (int)v->n_items;
	return err;
}

/* A list of at most CONFIG_MAX_OVERRIDES paths. */
static int path_list(struct loader *l, const struct ynode *v, const char *what,
		     char out[][CONFIG_PATH_MAX], int *n)
{
	size_t i;
	int err = 0;

	if (v->kind != YNODE_SEQ)
		return FAIL(l, v, "%s must be a list of files", what);
	if (v->n_items > CONFIG_MAX_OVERRIDES)
		return FAIL(l, v, "%s: at most %d files", what, CONFIG_MAX_OVERRIDES);
	for (i = 0; i < v->n_items && !err; i++)
		err = str_field(l, v->items[i], what, out[i], CONFIG_PATH_MAX);
	*n = (int)v->n_items;
	return err;
}

static int load_asn(struct loader *l, const struct ynode *n)
{
	static const char *const keys[] = { "database", "overrides", "classes", NULL };
	struct agent_config *c = l->cfg;
	const struct ynode *v;
	int err;

	if (n->kind != YNODE_MAP)
		return FAIL(l, n, "asn must be a mapping with database, overrides and classes");
	err = ynode_check_keys(&l->doc, n, keys, l->err, l->errlen);
	if (!err && (v = ynode_get(n, "database")))
		err = path_list(l, v, "asn.database", c->asn_db, &c->n_asn_db);
	if (!err && (v = ynode_get(n, "overrides")))
		err = path_list(l, v, "asn.overrides", c->asn_overrides, &c->n_asn_overrides);
	if (!err && (v = ynode_get(n, "classes")))
		err = str_field(l, v, "asn.classes", c->asn_classes, sizeof(c->asn_classes));
	return err;
}

static int load_xdp(struct loader *l, const struct ynode *n)
{
	static const char *const keys[] = { "interface", "mode", NULL };
	const struct ynode *v;
	size_t i;
	int err = 0;

	if (n->kind != YNODE_SEQ)
		return FAIL(l, n, "dataplane.xdp must be a list of {interface, mode}");
	if (n->n_items > CONFIG_MAX_XDP)
		return FAIL(l, n, "dataplane.xdp: at most %d interfaces", CONFIG_MAX_XDP);
	for (i = 0; i < n->n_items && !err; i++) {
		const struct ynode *e = n->items[i];
		struct config_xdp *x = &l->cfg->xdp[i];

		if (e->kind != YNODE_MAP)
			return FAIL(l, e, "dataplane.xdp entries are {interface, mode}");
		err = ynode_check_keys(&l->doc, e, keys, l->err, l->errlen);
		if (err)
			break;
		v = ynode_get(e, "interface");
		if (!v)
			return FAIL(l, e, "dataplane.xdp entry without an interface");
		err = str_field(l, v, "dataplane.xdp[].interface", x->interface,
				sizeof(x->interface));
		v = ynode_get(e, "mode");
		x->mode = DP_XDP_NATIVE;
		if (!err && v) {
			err = scalar(l, v, "dataplane.xdp[].mode");
			if (!err && !strcmp(v->value, "generic"))
				x->mode = DP_XDP_GENERIC;
			else if (!err && strcmp(v->value, "native"))
				err = FAIL(l, v, "mode must be native or generic, not \"%s\"",
					   v->value);
		}
	}
	l->cfg->n_xdp = (int)n->n_items;
	return err;
}

static int load_dataplane(struct loader *l, const struct ynode *n)
{
	static const char *const keys[] = {
		"pin_dir", "cgroup", "xdp", "meter_entries", "tenant_entries",
		"endpoint_entries", "tcp_entries", "ringbuf_bytes", "events_per_sec",
		"sample_new_flows", "query_inserts_per_sec", NULL,
	};
	struct dp_config *dp = &l->cfg->dp;
	const struct ynode *v;
	int err;

	if (n->kind != YNODE_MAP)
		return FAIL(l, n, "dataplane must be a mapping");
	err = ynode_check_keys(&l->doc, n, keys, l->err, l->errlen);
	if (!err && (v = ynode_get(n, "pin_dir")))
		err = str_field(l, v, "dataplane.pin_dir", l->cfg->pin_dir,
				sizeof(l->cfg->pin_dir));
	if (!err && (v = ynode_get(n, "cgroup")))
		err = str_field(l, v, "dataplane.cgroup", l->cfg->cgroup,
				sizeof(l->cfg->cgroup));
	if (!err && (v = ynode_get(n, "xdp")))
		err = load_xdp(l, v);
	if (!err && (v = ynode_get(n, "meter_entries")))
		err = u32_field(l, v, "dataplane.meter_entries", 16, 1u << 24,
				&dp->meter_entries);
	if (!err && (v = ynode_get(n, "tenant_entries")))
		err = u32_field(l, v, "dataplane.tenant_entries", 1, 1u << 20,
				&dp->tenant_entries);
	if (!err && (v = ynode_get(n, "endpoint_entries")))
		err = u32_field(l, v, "dataplane.endpoint_entries", 1, 1u << 20,
				&dp->endpoint_entries);
	if (!err && (v = ynode_get(n, "tcp_entries")))
		err = u32_field(l, v, "dataplane.tcp_entries", 16, 1u << 24, &dp->tcp_entries);
	if (!err && (v = ynode_get(n, "ringbuf_bytes"))) {
		err = u32_field(l, v, "dataplane.ringbuf_bytes", 4096, 1u << 30,
				&dp->ringbuf_bytes);
		if (!err && (dp->ringbuf_bytes & (dp->ringbuf_bytes - 1)))
			err = FAIL(l, v, "dataplane.ringbuf_bytes must be a power of two");
	}
	if (!err && (v = ynode_get(n, "events_per_sec")))
		err = u32_field(l, v, "dataplane.events_per_sec", 1, 1000000,
				&dp->events_per_sec);
	if (!err && (v = ynode_get(n, "query_inserts_per_sec")))
		err = u32_field(l, v, "dataplane.query_inserts_per_sec", 1, 10000000,
				&dp->query_inserts_per_sec);
	if (!err && (v = ynode_get(n, "sample_new_flows"))) {
		err = scalar(l, v, "dataplane.sample_new_flows");
		if (!err && strcmp(v->value, "true") && strcmp(v->value, "false"))
			err = FAIL(l, v, "sample_new_flows must be true or false");
		dp->sample_new_flows = !err && !strcmp(v->value, "true");
	}
	return err;
}

static int load_metrics(struct loader *l, const struct ynode *n)
{
	static const char *const keys[] = { "listen", "max_series", NULL };
	const struct ynode *v;
	int err;

	if (n->kind != YNODE_MAP)
		return FAIL(l, n, "metrics must be a mapping with listen and max_series");
	err = ynode_check_keys(&l->doc, n, keys, l->err, l->errlen);
	if (!err && (v = ynode_get(n, "listen")))
		err = str_field(l, v, "metrics.listen", l->cfg->metrics_listen,
				sizeof(l->cfg->metrics_listen));
	if (!err && (v = ynode_get(n, "max_series")))
		err = u32_field(l, v, "metrics.max_series", 1, 10000000,
				&l->cfg->metrics_max_series);
	return err;
}

static int load_collector(struct loader *l, const struct ynode *n)
{
	static const char *const keys[] = {
		"address", "ca", "cert", "key", "signing_key", "spool_max_bytes", NULL,
	};
	struct agent_config *c = l->cfg;
	const struct ynode *v;
	__u32 mb;
	int err;

	if (n->kind != YNODE_MAP)
		return FAIL(l, n, "collector must be a mapping");
	err = ynode_check_keys(&l->doc, n, keys, l->err, l->errlen);
	if (!err && (v = ynode_get(n, "address")))
		err = str_field(l, v, "collector.address", c->collector, sizeof(c->collector));
	if (!err && (v = ynode_get(n, "ca")))
		err = str_field(l, v, "collector.ca", c->tls_ca, sizeof(c->tls_ca));
	if (!err && (v = ynode_get(n, "cert")))
		err = str_field(l, v, "collector.cert", c->tls_cert, sizeof(c->tls_cert));
	if (!err && (v = ynode_get(n, "key")))
		err = str_field(l, v, "collector.key", c->tls_key, sizeof(c->tls_key));
	if (!err && (v = ynode_get(n, "signing_key")))
		err = str_field(l, v, "collector.signing_key", c->signing_key,
				sizeof(c->signing_key));
	if (!err && (v = ynode_get(n, "spool_max_bytes"))) {
		err = u32_field(l, v, "collector.spool_max_bytes (MiB)", 1, 1u << 20, &mb);
		c->spool_max_bytes = (__u64)mb << 20;
	}
	if (!err && c->collector[0] && (!c->tls_ca[0] || !c->tls_cert[0] || !c->tls_key[0]))
		err = FAIL(l, n, "collector.address needs ca, cert and key (mutual TLS)");
	return err;
}

static int load_root(struct loader *l, const struct ynode *root)
{
	static const char *const keys[] = {
		"node", "policy", "geo", "dataplane", "state_dir", "control_socket",
		"interval", "metrics", "collector", "asn", NULL,
	};
	struct agent_config *c = l->cfg;
	const struct ynode *v;
	int err;

	if (!root || root->kind != YNODE_MAP)
		return FAIL(l, root, "the configuration must be a mapping (see docs/agent.md)");
	err = ynode_check_keys(&l->doc, root, keys, l->err, l->errlen);
	if (!err && (v = ynode_get(root, "node")))
		err = load_node(l, v);
	if (!err && !(v = ynode_get(root, "policy")))
		err = FAIL(l, root, "missing key \"policy\" (the policy file to enforce)");
	if (!err)
		err = str_field(l, v, "policy", c->policy, sizeof(c->policy));
	if (!err && (v = ynode_get(root, "geo")))
		err = load_geo(l, v);
	if (!err && !c->geo_db[0])
		err = FAIL(l, root, "missing geo.database (an MMDB, CSV or compiled table)");
	if (!err && (v = ynode_get(root, "dataplane")))
		err = load_dataplane(l, v);
	if (!err && (v = ynode_get(root, "state_dir")))
		err = str_field(l, v, "state_dir", c->state_dir, sizeof(c->state_dir));
	if (!err && (v = ynode_get(root, "control_socket")))
		err = str_field(l, v, "control_socket", c->control_socket,
				sizeof(c->control_socket));
	if (!err && (v = ynode_get(root, "interval"))) {
		err = scalar(l, v, "interval");
		if (!err && parse_duration_ms(v->value, &c->interval_ms))
			err = FAIL(l, v, "interval must be a duration like 10s or 500ms, not \"%s\"",
				   v->value);
	}
	if (!err && (v = ynode_get(root, "metrics")))
		err = load_metrics(l, v);
	if (!err && (v = ynode_get(root, "collector")))
		err = load_collector(l, v);
	if (!err && (v = ynode_get(root, "asn")))
		err = load_asn(l, v);
	return err;
}

/* A relative path in the file is relative to the file's own directory. */
static int anchor(const char *file, char *path, size_t len)
{
	const char *slash = strrchr(file, '/');
	char tmp[CONFIG_PATH_MAX];
	int n;

	if (!path[0] || path[0] == '/' || !slash)
		return 0;
	n = snprintf(tmp, sizeof(tmp), "%.*s/%s", (int)(slash - file), file, path);
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(path, tmp, (size_t)n + 1);
	return 0;
}

static int anchor_paths(struct agent_config *c, char *err, size_t errlen)
{
	char *paths[] = {
		c->policy, c->geo_db, c->tls_ca, c->tls_cert, c->tls_key, c->signing_key,
		c->state_dir,
	};
	size_t i;
	int k;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (anchor(c->file, paths[i], CONFIG_PATH_MAX))
			goto toolong;
	for (k = 0; k < c->n_geo_overrides; k++)
		if (anchor(c->file, c->geo_overrides[k], CONFIG_PATH_MAX))
			goto toolong;
	for (k = 0; k < c->n_asn_db; k++)
		if (anchor(c->file, c->asn_db[k], CONFIG_PATH_MAX))
			goto toolong;
	for (k = 0; k < c->n_asn_overrides; k++)
		if (anchor(c->file, c->asn_overrides[k], CONFIG_PATH_MAX))
			goto toolong;
	if (anchor(c->file, c->asn_classes, CONFIG_PATH_MAX))
		goto toolong;
	return 0;
toolong:
	snprintf(err, errlen, "%s: a path is too long once made relative to the file's "
		 "directory (at most %d characters)", c->file, CONFIG_PATH_MAX - 1);
	return -ENAMETOOLONG;
}

int config_load(struct agent_config *cfg, const char *path, char *err, size_t errlen)
{
	struct loader l = { .cfg = cfg, .err = err, .errlen = errlen };
	int rc;

	config_defaults(cfg);
	snprintf(cfg->file, sizeof(cfg->file), "%s", path);
	rc = ydoc_load(&l.doc, path, err, errlen);
	if (rc)
		return rc;
	rc = load_root(&l, l.doc.root);
	ydoc_free(&l.doc);
	if (!rc)
		rc = anchor_paths(cfg, err, errlen);
	cfg->dp.pin_dir = cfg->pin_dir;
	return rc;
}
