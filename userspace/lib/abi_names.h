/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The printed names of the ABI's enums (customs_abi.h): one table each,
 * used by the CLI, the agent, metrics and telemetry alike, and parsed back
 * by the same tables.
 */
#ifndef CUSTOMS_ABI_NAMES_H
#define CUSTOMS_ABI_NAMES_H

#include "customs_abi.h"

const char *verdict_name(enum verdict v);
const char *direction_name(enum direction d);
const char *layer_name(enum layer l);
const char *stat_name(enum stat_index s);
const char *event_kind_name(enum event_kind k);

/* Name -> value; -EINVAL for an unknown name. */
int verdict_parse(const char *s);
int direction_parse(const char *s);
int layer_parse(const char *s);

#endif
