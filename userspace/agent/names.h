/* SPDX-License-Identifier: BSD-2-Clause */
/* Stable tenant and model ids across reloads and restarts; see names.c. */
#ifndef CUSTOMS_AGENT_NAMES_H
#define CUSTOMS_AGENT_NAMES_H

#include "render.h"

/* The id of a name, given a new one if it has none; 0 or -ENOMEM. */
int names_intern_tenant(struct name_table *t, const char *name, __u32 *id);
int names_intern_model(struct name_table *t, const char *name, __u32 *id);
/* An absent file is an empty table; a damaged one is -EBADMSG (named). */
int names_load(struct name_table *t, const char *path);
/* Writes path.tmp, fsyncs, renames over path. */
int names_save(const struct name_table *t, const char *path);
void names_free(struct name_table *t);

#endif
