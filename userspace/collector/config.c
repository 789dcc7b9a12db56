// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-collector's YAML configuration. Relative paths are taken
 * relative to the configuration file's directory, so a config and its
 * certificates can travel together. Every error names file:line:col.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "yamltree.h"

static int get_path(const struct ydoc *d, const struct ynode *map, const char *key,
		    const char *base, char *out, size_t len, char *err, size_t errlen)
{
	const struct ynode *n = ynode_get(map, key);
	int w;

	if (!n)
		return ydoc_error(d, map, err, errlen, "missing key \"%s\"", key);
	if (n->kind != YNODE_SCALAR || !*n->value)
		return ydoc_error(d, n, err, errlen, "\"%s\" must be a path", key);
	w = n->value[0] == '/' ? snprintf(out, len, "%s", n->value) :
				 snprintf(out, len, "%s/%s", base, n->value);
	if (w < 0 || (size_t)w >= len)
		return ydoc_error(d, n, err, errlen, "\"%s\" is too long", key);
	return 0;
}

static int get_u64(const struct ydoc *d, const struct ynode *map, const char *key,
		   __u64 *out, char *err, size_t errlen)
{
	const struct ynode *n = ynode_get(map, key);
	unsigned long long v;
	char *end;

	if (!n)
		return 0;
	if (n->kind != YNODE_SCALAR || n->quoted)
		return ydoc_error(d, n, err, errlen, "\"%s\" must be a number", key);
	errno = 0;
	v = strtoull(n->value, &end, 10);
	if (errno || *end || !*n->value)
		return ydoc_error(d, n, err, errlen, "\"%s\": '%s' is not a number", key, n->value);
	*out = v;
	return 0;
}

static int parse(struct collector_config *cfg, const struct ydoc *d, const char *base,
		 char *err, size_t errlen)
{
	static const char *const top[] = { "listen", "tls", "keys", "store", "max_frame",
					   "gap_grace_ms", "idle_timeout_s", "node_is_cn", NULL };
	static const char *const tls_keys[] = { "cert", "key", "ca", NULL };
	const struct ynode *root = d->root, *tls, *listen;
	__u64 idle = cfg->idle_timeout_s;
	int rc;

	if (!root || root->kind != YNODE_MAP)
		return ydoc_error(d, root, err, errlen, "expected a map of settings");
	rc = ynode_check_keys(d, root, top, err, errlen);
	if (rc)
		return rc;
	listen = ynode_get(root, "listen");
	if (!listen || listen->kind != YNODE_SCALAR || !strchr(listen->value, ':'))
		return ydoc_error(d, listen ? listen : root, err, errlen,
				  "\"listen\" must be HOST:PORT, e.g. 127.0.0.1:7443");
	if (strlen(listen->value) >= sizeof(cfg->listen))
		return ydoc_error(d, listen, err, errlen, "\"listen\" is too long");
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", listen->value);
	tls = ynode_get(root, "tls");
	if (!tls || tls->kind != YNODE_MAP)
		return ydoc_error(d, tls ? tls : root, err, errlen,
				  "\"tls\" must be a map with cert, key and ca");
	rc = ynode_check_keys(d, tls, tls_keys, err, errlen);
	if (!rc)
		rc = get_path(d, tls, "cert", base, cfg->cert, sizeof(cfg->cert), err, errlen);
	if (!rc)
		rc = get_path(d, tls, "key", base, cfg->key, sizeof(cfg->key), err, errlen);
	if (!rc)
		rc = get_path(d, tls, "ca", base, cfg->ca, sizeof(cfg->ca), err, errlen);
	if (!rc)
		rc = get_path(d, root, "keys", base, cfg->keys_dir, sizeof(cfg->keys_dir), err, errlen);
	if (!rc)
		rc = get_path(d, root, "store", base, cfg->store, sizeof(cfg->store), err, errlen);
	if (!rc)
		rc = get_u64(d, root, "max_frame", &cfg->max_frame, err, errlen);
	if (!rc)
		rc = get_u64(d, root, "gap_grace_ms", &cfg->gap_grace_ms, err, errlen);
	if (!rc)
		rc = get_u64(d, root, "idle_timeout_s", &idle, err, errlen);
	if (!rc && (cfg->max_frame < 1024 || cfg->max_frame > TELEM_MAX_MSG))
		rc = ydoc_error(d, ynode_get(root, "max_frame"), err, errlen,
				"\"max_frame\" must be 1024..%u", TELEM_MAX_MSG);
	cfg->idle_timeout_s = (unsigned)idle;
	if (!rc && ynode_get(root, "node_is_cn")) {
		const struct ynode *n = ynode_get(root, "node_is_cn");

		if (n->kind != YNODE_SCALAR || n->quoted ||
		    (strcmp(n->value, "true") && strcmp(n->value, "false")))
			rc = ydoc_error(d, n, err, errlen, "\"node_is_cn\" must be true or false");
		else
			cfg->node_is_cn = !strcmp(n->value, "true");
	}
	return rc;
}

int collector_config_load(struct collector_config *cfg, const char *path)
{
	char err[512], copy[PATH_MAX];
	struct ydoc d;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_frame = 16u << 20;
	cfg->gap_grace_ms = 5000;
	cfg->idle_timeout_s = 300;
	cfg->node_is_cn = true;
	snprintf(copy, sizeof(copy), "%s", path);
	rc = ydoc_load(&d, path, err, sizeof(err));
	if (!rc) {
		rc = parse(cfg, &d, dirname(copy), err, sizeof(err));
		ydoc_free(&d);
	}
	if (rc)
		fprintf(stderr, "%s\n", err);
	return rc;
}
