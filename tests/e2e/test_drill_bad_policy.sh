#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Drill: a bad policy is rolled out under traffic. Two broken files (a
# country code that does not exist, a truncated file) are each refused by
# the reload with the file:line:col of the error; the policy in force does
# not change (IR stays denied at XDP, AE stays allowed, every batch the
# collector stores carries the old policy's hash), status and metrics
# report the failures, and telemetry loses nothing. Restoring the file
# reloads cleanly.
set -u
. "$(dirname "$0")/../lib/drill.sh"

N=20
drill_init policy
drill_start_collector
drill_start_agent
GOOD=$("$B/customsctl" policy check "$W/policy.yaml" | grep -oE '[0-9a-f]{64}')
[ "$(ctl status --json | jq -r .policy.sha256)" = "$GOOD" ] || lab_fail "agent runs another policy"
echo "policy in force: ${GOOD:0:16}"

lab_say "reload two broken policies while AE and IR send"
drill_traffic_start 20 $N
cp "$W/policy.yaml" "$W/policy.good"
sed -i "s/allow: \[AE\]/allow: [AE, UK]/" "$W/policy.yaml"
out=$(ctl reload 2>&1) && lab_fail "a policy with an unknown country was accepted"
echo "$out" | grep -qE 'policy\.yaml:[0-9]+:[0-9]+' || lab_fail "the refusal names no file:line:col: $out"
echo "refused: $out"
head -c 200 "$W/policy.good" >"$W/policy.yaml"
out=$(ctl reload 2>&1) && lab_fail "a truncated policy was accepted"
echo "$out" | grep -qE 'policy\.yaml:[0-9]+:[0-9]+' || lab_fail "the refusal names no file:line:col: $out"
echo "refused: $out"
ctl status >/dev/null && lab_fail "status does not report the failed reload"
[ "$(ctl status --json | jq -r .policy.sha256)" = "$GOOD" ] || lab_fail "the policy in force changed"
echo "ok: status degraded with the reason; the old policy (${GOOD:0:16}) in force"
drill_enforcement_held
lab_in n curl -sf http://127.0.0.1:9462/metrics >"$W/metrics.txt" || lab_fail "metrics scrape"
grep -q '^customs_reloads_total{result="failed"} 2$' "$W/metrics.txt" ||
	lab_fail "the metrics do not count 2 failed reloads"
echo "ok: customs_reloads_total{result=\"failed\"} 2"

lab_say "restore the file: the reload succeeds, telemetry carried only the good policy"
cp "$W/policy.good" "$W/policy.yaml"
ctl reload || lab_fail "reload of the restored policy"
ctl status >/dev/null || lab_fail "status still degraded after a good reload"
drill_settle
hashes=$(drill_store "SELECT group_concat(DISTINCT policy_hash) FROM batches")
[ "$hashes" = "$GOOD" ] || lab_fail "stored batches carry policy hashes $hashes, expected only $GOOD"
echo "ok: every stored batch carries policy ${GOOD:0:16}"
drill_check_chain 1
echo "pass"
