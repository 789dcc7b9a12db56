/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A growable string for rendering output (JSON, text tables, Prometheus).
 * An allocation failure is sticky: later appends do nothing and
 * strbuf_failed() says so, so callers check once at the end.
 */
#ifndef CUSTOMS_STRBUF_H
#define CUSTOMS_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const char *s, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
void strbuf_json_str(struct strbuf *sb, const char *s);
bool strbuf_failed(const struct strbuf *sb);
/* The text, always NUL-terminated ("" when empty). */
const char *strbuf_str(const struct strbuf *sb);

#endif
