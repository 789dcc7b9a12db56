/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Prometheus endpoint (GET /metrics, text format 0.0.4) served by
 * libmicrohttpd inside the agent's own poll() loop: no thread, so the
 * render callback reads the agent's state without locks.
 */
#ifndef CUSTOMS_AGENT_METRICS_H
#define CUSTOMS_AGENT_METRICS_H

#include "strbuf.h"

struct metrics;
typedef void (*metrics_render_fn)(void *ctx, struct strbuf *out);

/* listen is "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6). */
int metrics_open(struct metrics **out, const char *listen, metrics_render_fn fn,
		 void *ctx);
/* An fd that becomes readable when metrics_run() has work. */
int metrics_fd(const struct metrics *m);
void metrics_run(struct metrics *m);
void metrics_close(struct metrics *m);

#endif
