/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One interval of a node's life, as the agent hands it to the telemetry
 * pipeline: what was counted (names resolved from the policy in force),
 * what happened (events with wall-clock times), the kernel's health
 * counters, and which policy and geo database were in force. The
 * telemetry pipeline turns it into a signed, chained Batch.
 */
#ifndef CUSTOMS_INTERVAL_H
#define CUSTOMS_INTERVAL_H

#include <stddef.h>
#include <linux/types.h>

#include "customs_abi.h"

#define INTERVAL_NAME_MAX	64
#define INTERVAL_HASH_LEN	32	/* SHA-256 */
#define INTERVAL_DETAIL_MAX	512

/* A counter as read from one buffer, per-CPU values summed. */
struct meter_record {
	struct meter_key key;
	struct meter_value value;
};

struct tcp_outcome_record {
	struct meter_key key;
	struct tcp_outcome value;
};

/* A counter with the tenant and model named as the policy names them. */
struct interval_counter {
	char tenant[INTERVAL_NAME_MAX];
	char model[INTERVAL_NAME_MAX];
	__u16 country;			/* country index, customs_abi.h */
	__u8 direction;			/* enum direction */
	__u8 layer;			/* enum layer */
	__u8 verdict;			/* enum verdict */
	__u64 packets;
	__u64 bytes;
};

/* A kernel event with its time on the wall clock (unix ns). */
struct interval_event {
	__u64 unix_ns;
	char tenant[INTERVAL_NAME_MAX];
	char model[INTERVAL_NAME_MAX];
	struct event raw;		/* addresses, ports, kind, layer, ... */
};

/*
 * What the agent itself observed, as opposed to a kernel event: drift it
 * found and repaired, a policy it refused, a revocation taking effect.
 * Kinds share their numbers with the wire format's EventKind.
 */
enum interval_notice_kind {
	NOTICE_GUARANTEE_DRIFT = 17,
	NOTICE_POLICY_REFUSED = 18,
	NOTICE_REVOCATION = 19,
};

struct interval_notice {
	__u64 unix_ns;
	__u32 kind;				/* enum interval_notice_kind */
	__u16 country;				/* COUNTRY_ZZ when none */
	char guarantee[INTERVAL_NAME_MAX];	/* "" when none */
	char model[INTERVAL_NAME_MAX];		/* "" when none */
	char detail[INTERVAL_DETAIL_MAX];	/* what was found, what was done */
};

/* How a guarantee fared in one interval (numbers as the wire format's). */
enum interval_guarantee_state {
	IGUARANTEE_MET = 1,		/* availability at or above the target */
	IGUARANTEE_BREACH = 2,
	IGUARANTEE_REVOKED = 3,		/* no longer measured */
	IGUARANTEE_IDLE = 4,		/* no connection attempts to measure */
};

/* One guaranteed (country, model) over one interval. */
struct interval_guarantee {
	char guarantee[INTERVAL_NAME_MAX];
	char model[INTERVAL_NAME_MAX];
	__u16 country;
	__u8 state;			/* enum interval_guarantee_state */
	__u64 attempts;			/* connection attempts (SYNs) */
	__u64 established;
	__u64 refusals;			/* denied + resets + unreachables + unanswered */
	__u64 denied;			/* packets the data plane denied */
	__u64 resets;			/* resets the served side sent */
	__u64 unreachables;		/* destination unreachables the host sent */
	__u64 unanswered;		/* attempts neither established nor refused */
	__u64 attempts_reset;		/* of attempts and of resets: attempts the
					 * host answered with a reset */
	__u64 bytes;			/* bytes served to the country */
	double availability;		/* interval_good() / attempts, 0..1 */
	double target;			/* promised, 0..1; 0 = none */
	char revocation_ref[INTERVAL_NAME_MAX * 2];
};

/*
 * Connections served well: established and not reset. A reset that
 * answered an attempt (attempts_reset, nothing listening) ended no
 * connection, so only the others are taken off. The agent and the
 * auditor compute availability with this one function.
 */
static inline __u64 interval_good(__u64 established, __u64 resets, __u64 attempts_reset)
{
	__u64 ended = resets > attempts_reset ? resets - attempts_reset : 0;

	return established > ended ? established - ended : 0;
}

/* A query-pattern alert (detect.h) as telemetry carries it. */
struct interval_alert {
	__u64 unix_ns;
	char model[INTERVAL_NAME_MAX];
	char detector[16];
	char mode[8];			/* "audit" or "enforce" */
	char prefix[64];
	__u32 asn;
	char org[96];
	char country[3];
	char asn_country[3];
	double value;
	double threshold;
	char figures[192];
	__u64 deny_until_unix_ns;	/* enforce only */
};

struct interval_record {
	__u64 start_unix_ns;
	__u64 end_unix_ns;
	struct interval_counter *counters;
	size_t n_counters;
	struct interval_event *events;
	size_t n_events;
	__u64 events_lost;		/* ring buffer full */
	__u64 events_ratelimited;	/* over the kernel's event budget */
	__u64 meter_overflow;		/* updates folded into the overflow key */
	__u8 policy_hash[INTERVAL_HASH_LEN];
	__u8 geo_hash[INTERVAL_HASH_LEN];
	struct interval_notice *notices;
	size_t n_notices;
	struct interval_guarantee *guarantees;
	size_t n_guarantees;
	struct interval_alert *alerts;	/* query-pattern alerts of the interval */
	size_t n_alerts;
};

#endif
