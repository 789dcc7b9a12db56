/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * customs-audit, the auditor's offline tool: verify.c checks a bundle's
 * signatures and chains, report.c summarises what the batches say. Both
 * read a whole bundle into memory; a store is read as the bundle it would
 * export.
 */
#ifndef CUSTOMS_AUDIT_H
#define CUSTOMS_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "telemetry.pb-c.h"

struct strbuf;
struct telem_signed;

#define EXIT_USAGE 2

int audit_verify(int argc, char **argv);
int audit_report(int argc, char **argv);
/* What report --guarantees reads: decoded batches in time order, and gaps. */
struct audit_guarantee_input {
	const Customs__Batch **batches;
	size_t n;
	size_t n_gaps;		/* missing batches the chain check found */
};

/* guarantees.c: the guarantees view of a report, text or JSON. */
int audit_render_guarantees(struct strbuf *o, const struct audit_guarantee_input *in,
			    bool json);
/* report --alerts: query-pattern alerts summarised (report_alerts.c); 0 or -1. */
int audit_render_alerts(struct strbuf *o, const struct telem_signed *dec, size_t n, bool json);
/* The batches of a store as a bundle in memory (caller frees *buf). */
int audit_store_bundle(const char *db, unsigned char **buf, size_t *len);

#endif
