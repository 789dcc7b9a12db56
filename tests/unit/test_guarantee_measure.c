// SPDX-License-Identifier: BSD-2-Clause
/*
 * One guaranteed (country, model) over one interval: each refusal counted
 * once (a dropped SYN is a denied packet, a SYN answered with an
 * unreachable is an unreachable, neither is also unanswered), a reset that
 * answered an attempt ends no connection, UDP unreachables without
 * attempts are a breach, and the states.
 */
#include <string.h>

#include "testlib.h"
#include "agent_parts.h"

#define MODEL 3

static __u16 cc(const char *s)
{
	return country_index(s[0], s[1]);
}

/* Tenant 1's ingress key of country c (every byte zeroed: keys are compared whole). */
static struct meter_key ingress_key(const char *c)
{
	struct meter_key k;

	memset(&k, 0, sizeof(k));
	k.tenant = 1;
	k.model = MODEL;
	k.country = cc(c);
	k.direction = DIR_INGRESS;
	return k;
}

static struct tcp_outcome_record outcome(const char *c, __u64 attempts, __u64 established,
					 __u64 resets, __u64 refused, __u64 unreach)
{
	struct tcp_outcome_record r;

	memset(&r, 0, sizeof(r));
	r.key = ingress_key(c);
	r.value.attempts = attempts;
	r.value.established = established;
	r.value.resets_sent = resets;
	r.value.attempts_refused = refused;
	r.value.unreach_sent = unreach;
	return r;
}

static struct meter_record denied(const char *c, __u64 packets)
{
	struct meter_record r;

	memset(&r, 0, sizeof(r));
	r.key = ingress_key(c);
	r.key.layer = LAYER_XDP;
	r.key.verdict = VERDICT_DENY;
	r.value.packets = packets;
	r.value.bytes = packets * 60;
	return r;
}

static struct interval_guarantee cell(double target)
{
	struct interval_guarantee r;

	memset(&r, 0, sizeof(r));
	r.target = target;
	return r;
}

static void each_refusal_counted_once(void **state)
{
	/*
	 * 10 SYNs: 4 established (1 of them reset later), 2 dropped by XDP,
	 * 3 answered with an unreachable, 1 never answered; plus 2 UDP
	 * unreachables and 1 more denied non-SYN packet.
	 */
	struct tcp_outcome_record tcp[] = { outcome("AE", 10, 4, 1, 5, 5),
					    outcome("FR", 7, 7, 0, 0, 0) };
	struct meter_record recs[] = { denied("AE", 3) };
	struct interval_guarantee r = cell(0.9);

	(void)state;
	agent_guarantee_measure(&r, MODEL, cc("AE"), tcp, 2, recs, 1);
	ASSERT_EQ(r.attempts, 10, "attempts");
	ASSERT_EQ(r.established, 4, "established");
	ASSERT_EQ(r.denied, 3, "denied packets");
	ASSERT_EQ(r.resets, 1, "resets");
	ASSERT_EQ(r.unreachables, 5, "unreachables, tcp and udp");
	ASSERT_EQ(r.unanswered, 1, "only the attempt nothing answered");
	ASSERT_EQ(r.refusals, 3 + 1 + 5 + 1, "the sum of the parts");
	ASSERT_TRUE(r.availability > 0.299 && r.availability < 0.301, "(4 - 1) / 10");
	ASSERT_EQ(r.state, IGUARANTEE_BREACH, "below 90%");
}

static void resets_answering_attempts_end_no_connection(void **state)
{
	/*
	 * 10 SYNs: 6 established (1 of them reset later), 4 answered with a
	 * reset by the host (nothing listened for a while): 5 resets.
	 */
	struct tcp_outcome_record tcp[] = { outcome("AE", 10, 6, 5, 4, 0) };
	struct interval_guarantee r = cell(0.5);

	(void)state;
	tcp[0].value.attempts_reset = 4;
	agent_guarantee_measure(&r, MODEL, cc("AE"), tcp, 1, NULL, 0);
	ASSERT_EQ(r.resets, 5, "resets, both kinds");
	ASSERT_EQ(r.attempts_reset, 4, "of them, answering attempts");
	ASSERT_EQ(r.unanswered, 0, "the reset attempts are answered");
	ASSERT_EQ(r.refusals, 5, "each refusal once");
	ASSERT_TRUE(r.availability > 0.499 && r.availability < 0.501, "(6 - 1) / 10");
	ASSERT_EQ(r.state, IGUARANTEE_MET, "50% promised");
	ASSERT_EQ(interval_good(6, 5, 4), 5, "good: one connection ended");
	ASSERT_EQ(interval_good(1, 5, 0), 0, "never below zero");
	ASSERT_EQ(interval_good(3, 2, 4), 3, "more attempt resets than resets: none ended");
}

static void unreachables_alone_are_a_breach(void **state)
{
	struct tcp_outcome_record tcp[] = { outcome("AE", 0, 0, 0, 0, 4) };
	struct interval_guarantee r = cell(0.9);

	(void)state;
	agent_guarantee_measure(&r, MODEL, cc("AE"), tcp, 1, NULL, 0);
	ASSERT_EQ(r.unreachables, 4, "udp unreachables");
	ASSERT_EQ(r.unanswered, 0, "no attempts to leave unanswered");
	ASSERT_EQ(r.refusals, 4, "refusals");
	ASSERT_EQ(r.state, IGUARANTEE_BREACH, "refused with nothing served: breach");
}

static void served_is_met_and_quiet_is_idle(void **state)
{
	struct tcp_outcome_record tcp[] = { outcome("AE", 5, 5, 0, 0, 0) };
	struct interval_guarantee r = cell(0.9), quiet = cell(0.9);

	(void)state;
	agent_guarantee_measure(&r, MODEL, cc("AE"), tcp, 1, NULL, 0);
	ASSERT_EQ(r.refusals, 0, "no refusals");
	ASSERT_EQ(r.state, IGUARANTEE_MET, "met");
	agent_guarantee_measure(&quiet, MODEL, cc("DE"), tcp, 1, NULL, 0);
	ASSERT_EQ(quiet.state, IGUARANTEE_IDLE, "another country: idle");
	/* Established beyond attempts (a SYN of the last interval): nothing unanswered. */
	tcp[0].value.established = 6;
	r = cell(0.9);
	agent_guarantee_measure(&r, MODEL, cc("AE"), tcp, 1, NULL, 0);
	ASSERT_EQ(r.unanswered, 0, "never negative");
	ASSERT_TRUE(r.availability <= 1.0, "capped");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_refusal_counted_once),
		cmocka_unit_test(resets_answering_attempts_end_no_connection),
		cmocka_unit_test(unreachables_alone_are_a_breach),
		cmocka_unit_test(served_is_met_and_quiet_is_idle),
	};

	return cmocka_run_group_tests_name("unit/guarantee_measure", tests, NULL, NULL);
}
