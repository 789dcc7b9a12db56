// SPDX-License-Identifier: BSD-2-Clause
/* Name tables for the ABI enums; see abi_names.h. */
#include <errno.h>
#include <string.h>

#include "abi_names.h"

static const char *const verdict_names[VERDICT_MAX] = {
	[VERDICT_ALLOW] = "allow",
	[VERDICT_DENY] = "deny",
	[VERDICT_AUDIT] = "audit",
};

static const char *const direction_names[DIR_MAX] = {
	[DIR_INGRESS] = "ingress",
	[DIR_EGRESS] = "egress",
};

static const char *const layer_names[LAYER_MAX] = {
	[LAYER_XDP] = "xdp",
	[LAYER_SKB] = "skb",
	[LAYER_SOCK] = "sock",
};

static const char *const stat_names[STAT_MAX] = {
	[STAT_EVENTS_LOST] = "events_lost",
	[STAT_EVENTS_RATELIMITED] = "events_ratelimited",
	[STAT_METER_OVERFLOW] = "meter_overflow",
	[STAT_TCP_OVERFLOW] = "tcp_outcome_overflow",
	[STAT_PARSE_ERROR] = "parse_errors",
	[STAT_QUERY_INSERT] = "query_prefixes_inserted",
	[STAT_QUERY_FULL] = "query_full",
	[STAT_QUERY_DROP] = "query_deny_drops",
	[STAT_QUERY_SKIPPED] = "query_prefixes_skipped",
};

#define NAME_OR(tab, i, n) ((unsigned)(i) < (n) && (tab)[i] ? (tab)[i] : "?")

const char *verdict_name(enum verdict v)
{
	return NAME_OR(verdict_names, v, VERDICT_MAX);
}

const char *direction_name(enum direction d)
{
	return NAME_OR(direction_names, d, DIR_MAX);
}

const char *layer_name(enum layer l)
{
	return NAME_OR(layer_names, l, LAYER_MAX);
}

const char *stat_name(enum stat_index s)
{
	return NAME_OR(stat_names, s, STAT_MAX);
}

const char *event_kind_name(enum event_kind k)
{
	switch (k) {
	case EVENT_DENY:
		return "deny";
	case EVENT_AUDIT:
		return "audit";
	case EVENT_NEW_FLOW:
		return "new_flow";
	}
	return "?";
}

static int parse_in(const char *const *tab, int n, const char *s)
{
	int i;

	for (i = 0; s && i < n; i++)
		if (tab[i] && !strcmp(tab[i], s))
			return i;
	return -EINVAL;
}

int verdict_parse(const char *s)
{
	return parse_in(verdict_names, VERDICT_MAX, s);
}

int direction_parse(const char *s)
{
	return parse_in(direction_names, DIR_MAX, s);
}

int layer_parse(const char *s)
{
	return parse_in(layer_names, LAYER_MAX, s);
}
