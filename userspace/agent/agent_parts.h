/* SPDX-License-Identifier: BSD-2-Clause */
/* The functions agent.c calls on the agent's other roles. */
#ifndef CUSTOMS_AGENT_PARTS_H
#define CUSTOMS_AGENT_PARTS_H

#include <poll.h>
#include <stdint.h>

#include "agent.h"

struct policy;

__u64 unix_ns(void);

/* policy_apply.c: compile beside what is in force, then switch or discard. */
int agent_policy_prepare(struct agent *a, char *err, size_t errlen);
int agent_policy_commit(struct agent *a);
void agent_policy_discard(struct agent *a);
void agent_policy_free(struct agent *a);
__u32 agent_policy_model_count(const struct agent *a);
void agent_policy_status(const struct agent *a, struct strbuf *out, bool json);
void agent_policy_hash(const struct agent *a, __u8 out[INTERVAL_HASH_LEN]);
/*
 * Compares every access row in the kernel with what the live policy puts
 * there, rewrites those that differ, and describes them in report (may be
 * NULL); returns how many rows differed.
 */
int agent_policy_verify_rows(struct agent *a, struct strbuf *report);
/* A guarantee covering a cell the last verify restored, or NULL. */
const char *agent_policy_drift_guarantee(const struct agent *a);
/* Lists tenant cgroups created since the policy was applied. */
int agent_policy_refresh(struct agent *a);
const struct policy *agent_policy_live(const struct agent *a);
__u32 agent_policy_stable_model(const struct agent *a, __u32 model);

/* geo_apply.c: load beside the live table, then switch or discard. */
int agent_geo_prepare(struct agent *a, char *err, size_t errlen);
int agent_geo_commit(struct agent *a);
void agent_geo_discard(struct agent *a);
void agent_geo_free(struct agent *a);
void agent_geo_status(const struct agent *a, struct strbuf *out, bool json);
void agent_geo_hash(const struct agent *a, __u8 out[INTERVAL_HASH_LEN]);
/* 0 when the kernel holds the table we installed, -EBADMSG when not. */
int agent_geo_verify(struct agent *a);
/* Installs the live table again (drift repair). */
int agent_geo_reinstall(struct agent *a);

/* agent.c: attach (or re-attach) every program the configuration names. */
int agent_attach_all(struct agent *a);

/* agent_guarantee.c: revocations, drift watch, measured service, notices. */
/* A notice for the next record; at_ns 0 dates it now. */
void agent_notice(struct agent *a, enum interval_notice_kind kind, const char *guarantee,
		  __u64 at_ns, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The row the kernel should hold: the policy's, with pending revocations held back. */
void agent_effective_row(const struct policy *p, __u32 model, enum direction dir,
			 int64_t now, struct access_row *out);
/*
 * One guaranteed (country, stable model id) over an interval, from the
 * outcome deltas and the interval's counters: attempts, established,
 * the refusals (denied + resets + unreachables + unanswered, each once),
 * bytes, availability and state against r->target.
 */
void agent_guarantee_measure(struct interval_guarantee *r, __u32 stable, __u16 country,
			     const struct tcp_outcome_record *tcp, size_t n_tcp,
			     const struct meter_record *recs, size_t n);
void agent_guarantees_begin(struct agent *a);
void agent_guarantees_interval(struct agent *a, const struct meter_record *recs, size_t n);
/* Puts the pending notices and the interval's guarantee records in rec. */
void agent_guarantees_take(struct agent *a, struct interval_record *rec);
/* The notices taken went out: forget them. */
void agent_guarantees_sent(struct agent *a);
void agent_guarantees_status(const struct agent *a, struct strbuf *out, bool json);
void agent_guarantees_free(struct agent *a);

/* The live geo table (the mirror of the kernel's), or NULL. */
/*
 * Lookups over the live kernel table (a read-only mapping of it, nothing
 * copied), or NULL; the caller frees it with geo_table_free() when done,
 * so the pages it touched leave the agent's resident memory.
 */
struct geo_table *agent_geo_view(struct agent *a);

/* agent_query.c: query-pattern detection, alerts and prefix denies. */
int agent_query_open(struct agent *a);
void agent_query_free(struct agent *a);
void agent_query_interval(struct agent *a, const struct meter_record *recs, size_t n);
/* Lends the interval's alerts to rec; taken() forgets them once submitted. */
void agent_query_take(struct agent *a, struct interval_record *rec);
void agent_query_taken(struct agent *a);
void agent_query_render(const struct agent *a, bool json, struct strbuf *out);
void agent_query_metrics(const struct agent *a, struct strbuf *out);

/* agent_control.c: control requests, metrics, events. */
bool agent_control(void *ctx, int fd, __u16 type, __u32 flags);
void agent_render_metrics(void *ctx, struct strbuf *out);
void agent_note_event(struct agent *a, const struct interval_event *e);

/* agent_interval.c: the interval record. */
void agent_interval_begin(struct agent *a, const struct meter_record *carry, size_t n);
void agent_interval_end(struct agent *a, const struct meter_record *recs, size_t n);

/* agent_telemetry.c: sign, spool and ship each record. */
void agent_telemetry_submit(struct agent *a, const struct interval_record *rec);
int agent_telemetry_open(struct agent *a);
/* What the poll loop waits for; may lower *timeout_ms (reconnect backoff). */
void agent_telemetry_pollfd(const struct agent *a, struct pollfd *pfd, int *timeout_ms);
void agent_telemetry_step(struct agent *a);
void agent_telemetry_status(const struct agent *a, struct strbuf *out, bool json);
void agent_telemetry_close(struct agent *a);

#endif
