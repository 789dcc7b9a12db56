#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Drill: the agent's state directory sits on a small tmpfs and the
# collector is down, so the spool fills the disk. The agent must keep
# enforcing and counting, drop the oldest batches first and record the
# drop in the chain (never silently), and not crash; when the collector
# returns, what is left arrives and the stored telemetry declares the drop.
set -u
. "$(dirname "$0")/../lib/drill.sh"

TMPFS_SIZE=${DRILL_TMPFS:-384k} N=400
DRILL_SPOOL_MIB=1
drill_init spool
lab_tmpfs "$W/state" "$TMPFS_SIZE"
echo "state_dir on a tmpfs of $TMPFS_SIZE; spool_max_bytes 1 MiB (larger than the disk)"
drill_start_agent

lab_say "collector down; denied traffic makes big batches (one event per denial)"
ROUNDS=40
for _ in $(seq $ROUNDS); do
	drill_send $IR $N || lab_fail "IR send"
	drill_send $AE 10 || lab_fail "AE send"
	sleep 0.2
	kill -0 "$AGENT" 2>/dev/null || { tail -n 20 "$W/customsd.log"; lab_fail "customsd died"; }
done
echo "disk: $(df -k "$W/state" | awk 'NR == 2 {print $3 " KiB used of " $2}')"
dropped=$(telem dropped)
[ "$dropped" -gt 0 ] || lab_fail "the disk never filled (make the tmpfs smaller)"
grep -q "disk full with" "$W/customsd.log" || lab_fail "the agent did not say the disk is full"
if grep -q "spooling the interval failed" "$W/customsd.log"; then
	grep "spooling the interval failed" "$W/customsd.log" | head -n 3
	lab_fail "intervals were lost from telemetry without a recorded drop"
fi
echo "ok: disk full; the spool dropped the $dropped oldest batches and recorded it;" \
	"no interval failed; $(telem pending) batches pending"
want=$((ROUNDS * N))
lab_wait 10 bash -c "[ \"\$($B/customsctl stats --json --socket $W/ctl.sock | jq '[.[] | select(.country == \"IR\" and .layer == \"xdp\" and .verdict == \"deny\") | .packets] | add // 0')\" = $want ]" ||
	lab_fail "IR denied at XDP: $(drill_agent_stat IR xdp deny packets) of $want"
[ "$(drill_agent_stat IR skb allow packets)" = 0 ] || lab_fail "IR reached the socket"
echo "ok: enforcement and counting held: IR $want/$want denied at XDP"

lab_say "collector back: the rest arrives, the drop is declared"
drill_start_collector
lab_wait 60 bash -c "[ \"\$($B/customsctl status --json --socket $W/ctl.sock | jq .telemetry.pending)\" = 0 ]" ||
	lab_fail "the spool did not drain: $(telem pending) pending"
kill -0 "$AGENT" 2>/dev/null || lab_fail "customsd died"
next=$(telem next_seq)
stored=$(drill_store "SELECT count(*) FROM batches")
decl=$(drill_store "SELECT count(*) FROM events WHERE kind = 'spool_drop'")
[ "$decl" -gt 0 ] || lab_fail "no spool drop is declared in the stored telemetry"
echo "stored $stored batch(es), agent produced $next, $decl spool-drop report(s) stored:"
drill_store "SELECT DISTINCT detail FROM events WHERE kind = 'spool_drop'" | sed 's/^/    /'
"$B/customs-collector" export --store "$W/collector.db" --out "$W/bundle" >/dev/null 2>&1 ||
	lab_fail "customs-collector export"
"$B/customs-audit" verify "$W/bundle" --keys "$W/keys" >"$W/verify.out" 2>&1 &&
	lab_fail "verify accepted a bundle with dropped batches"
sed 's/^/    /' "$W/verify.out"
if grep -v "reported them dropped from its spool" "$W/verify.out" | grep -q "seq"; then
	lab_fail "verify found problems the agent did not declare"
fi
missing=$(grep -oE '\(([0-9]+) batch' "$W/verify.out" | grep -oE '[0-9]+' | paste -sd+ | bc)
[ "$((stored + ${missing:-0}))" = "$next" ] ||
	lab_fail "stored $stored + declared missing ${missing:-0} != produced $next"
echo "ok: every missing batch ($missing) is one the agent declared dropped; the rest stored once"
echo "pass"
