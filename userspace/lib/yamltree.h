/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A YAML document as a tree of nodes that remember where they came from
 * (file, line, column), built with libyaml's parser, so every error can
 * name the place: "agent.yaml:12:7: unknown key ...". Anchors and aliases
 * are refused; only what configuration files need is kept.
 */
#ifndef CUSTOMS_YAMLTREE_H
#define CUSTOMS_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_MAP,	/* children alternate key, value */
	YNODE_SEQ,
};

struct ynode {
	enum ynode_kind kind;
	char *value;		/* scalars */
	bool quoted;		/* a quoted scalar is never a number or bool */
	struct ynode **items;
	size_t n_items;
	int line, col;		/* 1-based */
};

struct ydoc {
	const char *file;	/* as given, for messages */
	struct ynode *root;	/* NULL for an empty document */
};

/* Parses a file; on error writes "file:line:col: error: ..." into err. */
int ydoc_load(struct ydoc *d, const char *path, char *err, size_t errlen);
/* Parses a buffer; name is what messages call it. */
int ydoc_load_buf(struct ydoc *d, const char *name, const char *buf, size_t len,
		  char *err, size_t errlen);
void ydoc_free(struct ydoc *d);

/* In a map: the value of key, or NULL. */
struct ynode *ynode_get(const struct ynode *map, const char *key);
/* In a map: the i-th key and value. */
size_t ynode_map_size(const struct ynode *map);
const struct ynode *ynode_map_key(const struct ynode *map, size_t i);
struct ynode *ynode_map_value(const struct ynode *map, size_t i);

/*
 * Checks that every key of a map is one of the allowed (NULL-terminated)
 * names; on an unknown key writes an error with the nearest allowed name.
 */
int ynode_check_keys(const struct ydoc *d, const struct ynode *map,
		     const char *const allowed[], char *err, size_t errlen);

/* Writes "file:line:col: error: <fmt>" for a node. Returns -EINVAL. */
int ydoc_error(const struct ydoc *d, const struct ynode *n, char *err, size_t errlen,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The nearest of names to s by edit distance, or NULL if none is close. */
const char *nearest_name(const char *s, const char *const names[]);

#endif
