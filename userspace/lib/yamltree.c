// SPDX-License-Identifier: BSD-2-Clause
/* YAML documents as trees with source marks; see yamltree.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yamltree.h"

#define YAML_MAX_DEPTH 64

static void ynode_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n_items; i++)
		ynode_free(n->items[i]);
	free(n->items);
	free(n->value);
	free(n);
}

static struct ynode *ynode_new(enum ynode_kind kind, const yaml_mark_t *m)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->line = (int)m->line + 1;
		n->col = (int)m->column + 1;
	}
	return n;
}

static int ynode_append(struct ynode *parent, struct ynode *child)
{
	struct ynode **p = realloc(parent->items, (parent->n_items + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	parent->items = p;
	parent->items[parent->n_items++] = child;
	return 0;
}

int ydoc_error(const struct ydoc *d, const struct ynode *n, char *err, size_t errlen,
	       const char *fmt, ...)
{
	va_list ap;
	int off;

	off = snprintf(err, errlen, "%s:%d:%d: error: ", d->file, n ? n->line : 1,
		       n ? n->col : 1);
	if (off < 0 || (size_t)off >= errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err + off, errlen - (size_t)off, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

struct builder {
	yaml_parser_t parser;
	const struct ydoc *doc;
	char *err;
	size_t errlen;
};

static int parse_error(struct builder *b)
{
	const yaml_mark_t *m = &b->parser.problem_mark;

	snprintf(b->err, b->errlen, "%s:%zu:%zu: error: YAML syntax: %s%s%s",
		 b->doc->file, m->line + 1, m->column + 1,
		 b->parser.problem ? b->parser.problem : "unreadable input",
		 b->parser.context ? " " : "",
		 b->parser.context ? b->parser.context : "");
	return -EINVAL;
}

/* Builds the node that starts with ev (already taken from the parser). */
static int build(struct builder *b, yaml_event_t *ev, int depth, struct ynode **out)
{
	yaml_event_type_t end;
	struct ynode *n;
	yaml_event_t next;
	int err;

	*out = NULL;
	if (depth > YAML_MAX_DEPTH) {
		snprintf(b->err, b->errlen, "%s:%zu:%zu: error: nested deeper than %d levels",
			 b->doc->file, ev->start_mark.line + 1, ev->start_mark.column + 1,
			 YAML_MAX_DEPTH);
		return -EINVAL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = ynode_new(YNODE_SCALAR, &ev->start_mark);
		if (!n)
			return -ENOMEM;
		n->value = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		if (!n->value) {
			ynode_free(n);
			return -ENOMEM;
		}
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	case YAML_ALIAS_EVENT:
		snprintf(b->err, b->errlen, "%s:%zu:%zu: error: aliases (*name) are not supported",
			 b->doc->file, ev->start_mark.line + 1, ev->start_mark.column + 1);
		return -EINVAL;
	default:
		snprintf(b->err, b->errlen, "%s:%zu:%zu: error: unexpected YAML event",
			 b->doc->file, ev->start_mark.line + 1, ev->start_mark.column + 1);
		return -EINVAL;
	}
	n = ynode_new(ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP,
		      &ev->start_mark);
	if (!n)
		return -ENOMEM;
	end = ev->type == YAML_SEQUENCE_START_EVENT ? YAML_SEQUENCE_END_EVENT
						   : YAML_MAPPING_END_EVENT;
	for (;;) {
		struct ynode *child;

		if (!yaml_parser_parse(&b->parser, &next)) {
			ynode_free(n);
			return parse_error(b);
		}
		if (next.type == end) {
			yaml_event_delete(&next);
			break;
		}
		if (n->kind == YNODE_MAP && n->n_items % 2 == 0 &&
		    next.type != YAML_SCALAR_EVENT) {
			snprintf(b->err, b->errlen, "%s:%zu:%zu: error: a mapping key must be a plain value",
				 b->doc->file, next.start_mark.line + 1,
				 next.start_mark.column + 1);
			yaml_event_delete(&next);
			ynode_free(n);
			return -EINVAL;
		}
		err = build(b, &next, depth + 1, &child);
		yaml_event_delete(&next);
		if (!err)
			err = ynode_append(n, child);
		if (err) {
			ynode_free(child);
			ynode_free(n);
			return err;
		}
	}
	*out = n;
	return 0;
}

static int check_duplicates(const struct ydoc *d, const struct ynode *n, char *err,
			    size_t errlen)
{
	size_t i, j;
	int rc;

	if (n->kind == YNODE_MAP) {
		for (i = 0; i + 1 < n->n_items; i += 2)
			for (j = i + 2; j + 1 < n->n_items; j += 2)
				if (!strcmp(n->items[i]->value, n->items[j]->value))
					return ydoc_error(d, n->items[j], err, errlen,
							  "duplicate key \"%s\" (first at line %d)",
							  n->items[j]->value, n->items[i]->line);
	}
	for (i = 0; i < n->n_items; i++) {
		rc = check_duplicates(d, n->items[i], err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

int ydoc_load_buf(struct ydoc *d, const char *name, const char *buf, size_t len,
		  char *err, size_t errlen)
{
	struct builder b = { .doc = d, .err = err, .errlen = errlen };
	yaml_event_t ev;
	int rc = 0;

	d->file = name;
	d->root = NULL;
	if (!yaml_parser_initialize(&b.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&b.parser, &ev)) {
			rc = parse_error(&b);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT ||
		    ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT) {
			if (d->root) {
				snprintf(err, errlen, "%s:%zu:%zu: error: more than one document",
					 name, ev.start_mark.line + 1, ev.start_mark.column + 1);
				yaml_event_delete(&ev);
				rc = -EINVAL;
				break;
			}
			rc = build(&b, &ev, 0, &d->root);
		}
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&b.parser);
	if (!rc && d->root)
		rc = check_duplicates(d, d->root, err, errlen);
	if (rc)
		ydoc_free(d);
	return rc;
}

int ydoc_load(struct ydoc *d, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	d->root = NULL;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		size_t n;

		if (len + 4096 > cap) {
			char *p = realloc(buf, cap ? cap * 2 : 8192);

			if (!p) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = p;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	rc = ydoc_load_buf(d, path, buf ? buf : "", len, err, errlen);
	free(buf);
	return rc;
}

void ydoc_free(struct ydoc *d)
{
	ynode_free(d->root);
	d->root = NULL;
}

size_t ynode_map_size(const struct ynode *map)
{
	return map && map->kind == YNODE_MAP ? map->n_items / 2 : 0;
}

const struct ynode *ynode_map_key(const struct ynode *map, size_t i)
{
	return map->items[2 * i];
}

struct ynode *ynode_map_value(const struct ynode *map, size_t i)
{
	return map->items[2 * i + 1];
}

struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; i < ynode_map_size(map); i++)
		if (!strcmp(ynode_map_key(map, i)->value, key))
			return ynode_map_value(map, i);
	return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[65], cur[65];

	if (la > 64 || lb > 64)
		return 64;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

const char *nearest_name(const char *s, const char *const names[])
{
	size_t best = (size_t)-1, d, i;
	const char *hit = NULL;

	for (i = 0; names[i]; i++) {
		d = edit_distance(s, names[i]);
		if (d < best) {
			best = d;
			hit = names[i];
		}
	}
	/* Close means at most a third of the word wrong. */
	return hit && best <= (strlen(s) + 2) / 3 ? hit : NULL;
}

int ynode_check_keys(const struct ydoc *d, const struct ynode *map,
		     const char *const allowed[], char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < ynode_map_size(map); i++) {
		const struct ynode *k = ynode_map_key(map, i);
		const char *near;
		bool ok = false;

		for (j = 0; allowed[j] && !ok; j++)
			ok = !strcmp(k->value, allowed[j]);
		if (ok)
			continue;
		near = nearest_name(k->value, allowed);
		if (near)
			return ydoc_error(d, k, err, errlen,
					  "unknown key \"%s\" (did you mean \"%s\"?)",
					  k->value, near);
		return ydoc_error(d, k, err, errlen, "unknown key \"%s\"", k->value);
	}
	return 0;
}
