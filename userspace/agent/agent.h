/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * customsd's one context: configuration, the loaded data plane, counters,
 * policy and geo state, the control socket, metrics, telemetry, and the
 * flags signal handlers set. Roles live in their own files: config.c
 * (the file), policy_apply.c and geo_apply.c (compile and switch state in),
 * interval.c (each interval's record), control_server.c, metrics.c,
 * render.c; agent.c runs the lifecycle and the poll() loop.
 */
#ifndef CUSTOMS_AGENT_H
#define CUSTOMS_AGENT_H

#include <signal.h>
#include <stdbool.h>
#include <linux/types.h>

#include "config.h"
#include "control_server.h"
#include "counters.h"
#include "dataplane.h"
#include "interval.h"
#include "metrics.h"
#include "render.h"

#define AGENT_RECENT_EVENTS 256

struct agent_policy;	/* policy_apply.c */
struct agent_geo;	/* geo_apply.c */
struct exporter;	/* exporter.h, driven by agent_telemetry.c */
struct agent_guarantees;	/* agent_guarantee.c */
struct agent_query;	/* agent_query.c */

struct agent_health {
	__u64 intervals;
	__u64 last_interval_unix_ns;
	__u64 last_interval_us;		/* how long the last interval's work took */
	__u64 reloads_ok;
	__u64 reloads_failed;
	char last_reload_error[512];
	__u64 kernel_stats[STAT_MAX];	/* cumulative, from the kernel */
	__u64 metrics_folded;
	__u64 telemetry_failed;		/* intervals that could not be spooled */
};

struct agent {
	struct agent_config cfg;
	struct dp *dp;
	struct counters counters;
	struct control_server ctl;
	struct metrics *metrics;
	struct agent_policy *policy;
	struct agent_geo *geo;
	struct exporter *exporter;
	struct agent_guarantees *guarantees;
	struct agent_query *query;
	struct name_table names;
	struct agent_health health;
	struct interval_event recent[AGENT_RECENT_EVENTS];
	size_t n_recent, recent_head;
	struct interval_event *pending_events;	/* for the next interval record */
	size_t n_pending_events, cap_pending_events;
	struct meter_record *last_interval;	/* for top */
	size_t n_last_interval;
	__u64 interval_start_unix_ns;
	__u64 interval_stats_base[STAT_MAX];	/* kernel stats at interval start */
	struct meter_record *carry;		/* recovered, for the next record */
	size_t n_carry;
	volatile sig_atomic_t stop;
	volatile sig_atomic_t reload;
};

/* Compiles policy and loads geo data without touching the kernel. */
int agent_check(struct agent *a, char *err, size_t errlen);
int agent_start(struct agent *a);
int agent_run(struct agent *a);
void agent_stop(struct agent *a);
/* Recompiles policy and geo; on error keeps what is in force. */
int agent_reload(struct agent *a, char *err, size_t errlen);

#endif
