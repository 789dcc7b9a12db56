/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * customs-audit, the auditor's offline tool: verify.c checks a bundle's
 * signatures and chains, report.c summarises what the batches say. Both
 * read a whole bundle into memory; a store is read as the bundle it would
 * export.
 */
#ifndef CUSTOMS_AUDIT_H
#define CUSTOMS_AUDIT_H

#include <stddef.h>

#define EXIT_USAGE 2

int audit_verify(int argc, char **argv);
int audit_report(int argc, char **argv);
/* The batches of a store as a bundle in memory (caller frees *buf). */
int audit_store_bundle(const char *db, unsigned char **buf, size_t *len);

#endif
