#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Drill: customsd killed with SIGKILL under traffic, then restarted. The
# pinned programs keep enforcing while no agent runs (IR stays dropped at
# XDP, never reaches the socket); the restarted agent continues the same
# telemetry chain: every interval reaches the collector exactly once (no
# gap, no duplicate, one epoch), customs-audit verify passes, and the
# collector's sums equal the agent's totals, which equal the wire.
set -u
. "$(dirname "$0")/../lib/drill.sh"

N=20 ROUNDS=30
drill_init kill
drill_start_collector
drill_start_agent

lab_say "traffic from AE and IR; SIGKILL the agent in the middle of it"
drill_traffic_start $ROUNDS $N
# A few intervals shipped first, so the kill lands mid-chain and mid-traffic.
lab_wait 15 bash -c "[ \$($B/customsctl status --json --socket $W/ctl.sock | jq .telemetry.acked) -ge 3 ]" ||
	lab_fail "no batches acknowledged before the kill"
seq_before=$(telem next_seq)
drill_kill_agent KILL
echo "killed customsd (SIGKILL) at telemetry seq $seq_before"
drill_send $IR $N || lab_fail "IR send while no agent runs"
drill_send $AE $N || lab_fail "AE send while no agent runs"
echo "ok: $((2 * N)) more datagrams sent while no agent ran"

lab_say "restart under the same traffic: same chain, nothing lost, nothing twice"
drill_start_agent
echo "restarted; chain continues at seq $(telem next_seq) (epoch $(telem epoch))"
drill_traffic_wait
total=$((ROUNDS * N + N))
lab_wait 15 bash -c "[ \"\$($B/customsctl stats --json --socket $W/ctl.sock | jq '[.[] | select(.country == \"IR\" and .layer == \"xdp\" and .verdict == \"deny\") | .packets] | add // 0')\" = $total ]" ||
	lab_fail "IR denials at XDP: $(drill_agent_stat IR xdp deny packets), expected $total"
echo "ok: IR denied at XDP throughout: $total of $total datagrams"
[ "$(drill_agent_stat IR skb allow packets)" = 0 ] || lab_fail "IR traffic reached the socket"
[ "$(drill_agent_stat IR skb deny packets)" = 0 ] || lab_fail "IR traffic passed XDP"
echo "ok: no IR datagram reached the tenant's socket"
lab_wait 15 bash -c "[ \"\$($B/customsctl stats --json --socket $W/ctl.sock | jq '[.[] | select(.country == \"AE\" and .layer == \"skb\") | .bytes] | add // 0')\" = $((total * DRILL_L3)) ]" ||
	lab_fail "AE socket bytes $(drill_agent_stat AE skb allow bytes), expected $((total * DRILL_L3)) (the wire)"
echo "ok: AE bytes at the socket layer equal the wire: $((total * DRILL_L3))"
drill_settle
drill_check_chain 1
echo "pass"
