#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Drill: the collector crashes (SIGKILL) and stays down for 60 s while AE
# and IR keep sending. Enforcement does not depend on it (IR denied at XDP
# throughout); the agent keeps every interval in its durable spool; when
# the collector is back the agent reconnects on its own and delivers the
# backlog: every interval stored exactly once, no gap, one epoch,
# customs-audit verify passes, and the collector's sums equal the agent's
# totals.
set -u
. "$(dirname "$0")/../lib/drill.sh"

OUTAGE=${DRILL_OUTAGE_SECONDS:-60} N=10
drill_init outage
drill_start_collector
drill_start_agent
drill_send $AE $N || lab_fail "AE send"
drill_settle 20
acked=$(telem acked)
echo "collector up: $acked batch(es) acknowledged"

lab_say "collector killed (SIGKILL); $OUTAGE s of traffic without it"
drill_stop_collector KILL
t0=$(date +%s) rounds=0
# Bounded: one round a second for OUTAGE seconds, at most 2 * OUTAGE rounds.
while [ $(($(date +%s) - t0)) -lt "$OUTAGE" ] && [ $rounds -lt $((2 * OUTAGE)) ]; do
	drill_send $AE $N || lab_fail "AE send during the outage"
	drill_send $IR $N || lab_fail "IR send during the outage"
	rounds=$((rounds + 1))
	sleep 1
done
pending=$(telem pending)
[ "$(telem connected)" = false ] || lab_fail "the agent says it is connected to a dead collector"
[ "$pending" -ge $((OUTAGE)) ] || lab_fail "only $pending batches spooled in $OUTAGE s of 500 ms intervals"
[ "$(drill_agent_stat IR skb allow packets)" = 0 ] || lab_fail "IR reached the socket during the outage"
echo "ok: $rounds rounds sent in $(($(date +%s) - t0)) s; $pending batches waiting in the spool;" \
	"IR denied at XDP: $(drill_agent_stat IR xdp deny packets) of $((rounds * N))"

lab_say "collector back: the backlog drains by itself"
t1=$(date +%s)
drill_start_collector
drill_settle 90
echo "ok: backlog delivered $(($(date +%s) - t1)) s after the restart (reconnect backoff included)"
want=$((rounds * N))
[ "$(drill_agent_stat IR xdp deny packets)" = $want ] ||
	lab_fail "IR denied $(drill_agent_stat IR xdp deny packets), sent $want"
[ "$(drill_agent_stat AE skb allow bytes)" = $(((want + N) * DRILL_L3)) ] ||
	lab_fail "AE socket bytes $(drill_agent_stat AE skb allow bytes), the wire $(((want + N) * DRILL_L3))"
echo "ok: agent totals equal the wire (AE $(((want + N) * DRILL_L3)) bytes, IR $want denied)"
drill_check_chain 1
echo "pass"
