#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Host-country guarantees end to end, in namespaces, with real TCP from the
# guaranteed country (AE) to two models and signed telemetry to a real
# collector over mTLS:
#  - served connections: the guarantee is met;
#  - the server resets half of them: a breach, in the right intervals;
#  - a policy that would break the guarantee is refused at apply time, and
#    the refusal is a signed event;
#  - a deny written into the pinned access matrix by hand and a detached
#    link are repaired within an interval or two, with drift events;
#  - a revocation takes effect at its effective time (not when applied),
#    appears in telemetry with reason and reference, and in the report;
#  - customs-audit verify accepts the exported bundle.
set -u
. "$(dirname "$0")/../lib/lab.sh"

lab_init guar
B=$LAB_BUILD
DB=$LAB_TOP/data/geo/geo-whois-asn-country.mmdb
[ -f "$DB" ] || lab_fail "no geo database at $DB (scripts/setup fetches it)"
command -v bpftool >/dev/null || lab_fail "bpftool missing (scripts/setup installs it)"

SRV=198.18.0.1 AE=192.0.2.2 FR=203.0.113.2
P1=8080 P2=8081 CPORT=17443
REVOKE_AT=$(( $(date +%s) + 25 ))
REVOKE_ISO=$(date -u -d "@$REVOKE_AT" +%Y-%m-%dT%H:%M:%SZ)

lab_serving_pair $SRV $AE $FR
mkdir -p "$LAB_CG/m1" "$LAB_CG/m2" "$LAB_TMP/col/keys" "$LAB_TMP/node"
printf '192.0.2.0/24 AE\n203.0.113.0/24 FR\n198.18.0.0/15 AE\n' >"$LAB_TMP/overrides.txt"

write_policy() { # EXTRA-EXCEPTION-FOR-M1 (yaml lines or "")
	cat >"$LAB_TMP/policy.yaml" <<EOF
version: 1
node:
  id: guar-node
  country: AE
mode: enforce
tiers:
  licensed:
    ingress:
      allow: [AE, FR]
      default: deny
    egress:
      allow: [all]
models:
$(lab_model_yaml m1 licensed "$SRV:$P1/tcp" serving1)
$1
$(lab_model_yaml m2 licensed "$SRV:$P2/tcp" serving2)
    exceptions:
      - countries: [AE]
        verdict: deny
        reason: regulator's letter (test)
        reference: TEST-LETTER-1
guarantees:
  - name: ae-m1
    models: [m1]
    from: 2026-01-01
    availability: 90%
  - name: ae-m2
    models: [m2]
    from: 2026-01-01
revocations:
  - guarantee: ae-m2
    reason: regulator's letter (test)
    reference: TEST-LETTER-1
    effective: $REVOKE_ISO
EOF
}
write_policy ""

lab_telemetry guar-node $CPORT
lab_agent_yaml "$DB" $CPORT >"$LAB_TMP/agent.yaml"

requests() { # SRC PORT N -> the client's summary line
	lab_in b "$B/customs-lab-client" tcp --src "$1" --dst $SRV:"$2" --requests "$3" \
		--tokens 8 --keep-going
}
# The guarantee record of the last interval with attempts, from status.
last_state() { # GUARANTEE
	lab_ctl status --json | jq -r --arg g "$1" \
		'[.guarantees[] | select(.guarantee==$g and .attempts > 0)] | .[0].state // "none"'
}
serve_m1() { # extra server options
	[ -n "${M1:-}" ] && kill "$M1" && wait "$M1" 2>/dev/null
	lab_bg_cg a "$LAB_CG/m1" server1 "$B/customs-lab-server" --listen $SRV:$P1 \
		--tokens-per-sec 0 "$@"
	M1=$LAB_LAST_PID
	lab_wait 5 lab_in a bash -c "ss -tln | grep -q $SRV:$P1" || lab_fail "m1 server"
}

lab_start_agent
serve_m1
lab_bg_cg a "$LAB_CG/m2" server2 "$B/customs-lab-server" --listen $SRV:$P2 --tokens-per-sec 0
lab_wait 5 lab_in a bash -c "ss -tln | grep -q $SRV:$P2" || lab_fail "m2 server"

lab_say "before the revocation's effective time, AE still reaches m2"
out=$(requests $AE $P2 3) || lab_fail "AE -> m2 refused before the revocation took effect: $out"
echo "$out"

lab_say "served: the guarantee is met"
# Keep traffic flowing until an interval records it.
traffic_then_state() { requests $AE $P1 "$1" >/dev/null; last_state ae-m1; }
lab_expect met "ae-m1 state while served" traffic_then_state 5

lab_say "the server resets every second connection: a breach"
serve_m1 --reset-every 2
lab_expect breach "ae-m1 state while half are reset" traffic_then_state 6
serve_m1

lab_say "a policy that breaks the guarantee is refused at apply time"
cp "$LAB_TMP/policy.yaml" "$LAB_TMP/policy.good"
write_policy "    exceptions:
      - countries: [AE]
        verdict: deny
        reason: no revocation
"
out=$(lab_ctl reload 2>&1) && lab_fail "a policy breaking ae-m1 was applied"
echo "$out" | grep -q 'breaks guarantee "ae-m1"' || lab_fail "refusal does not name the guarantee: $out"
cp "$LAB_TMP/policy.good" "$LAB_TMP/policy.yaml"
lab_ctl reload || lab_fail "reload of the good policy"

lab_say "drift: a hand-written deny and a detached link are repaired"
# m1 is the first model the agent named: stable id 1, ingress row key 2.
row=$(bpftool -j map lookup pinned "$LAB_PIN/maps/access_matrix" key 2 0 0 0) ||
	lab_fail "reading the pinned access matrix"
ae=$(( (0 * 26) + 4 + 1 ))	# country_index('A', 'E')
value=$(echo "$row" | jq -r --argjson i $ae '.value | .[$i] = "0x01" | join(" ")')
bpftool map update pinned "$LAB_PIN/maps/access_matrix" key 2 0 0 0 value $value ||
	lab_fail "writing a deny into the pinned access matrix"
bpftool link detach pinned "$LAB_PIN/links/cgroup-ingress" || lab_fail "detaching our link"
cell() {
	bpftool -j map lookup pinned "$LAB_PIN/maps/access_matrix" key 2 0 0 0 |
		jq -r --argjson i $ae '.value[$i]'
}
lab_expect 0x00 "AE cell of m1 restored" cell
attached() {
	bpftool -j link show pinned "$LAB_PIN/links/cgroup-ingress" | jq -r '.cgroup_id != 0'
}
lab_expect true "cgroup-ingress link re-attached" attached
out=$(requests $AE $P1 3) || lab_fail "AE -> m1 after the repair: $out"

lab_say "the revocation takes effect at $REVOKE_ISO"
past_revocation() { [ "$(date +%s)" -gt $((REVOKE_AT + 2)) ]; }
lab_wait 60 past_revocation || lab_fail "the clock did not reach $REVOKE_ISO"
out=$(lab_in b "$B/customs-lab-client" tcp --src $AE --dst $SRV:$P2 --requests 1)
rc=$?
[ $rc = 4 ] || lab_fail "AE -> m2 after the revocation: exit $rc ($out), expected a dropped SYN (4)"
echo "ok: AE -> m2 dropped after the revocation"

lab_say "telemetry: verify and the guarantees report"
sleep 2	# the last intervals reach the collector
kill "$LAB_AGENT"
wait "$LAB_AGENT" 2>/dev/null
lab_wait 10 bash -c "! kill -0 $LAB_AGENT"
"$B/customs-collector" export --store "$LAB_TMP/col/store.db" --out "$LAB_TMP/bundle" ||
	lab_fail "export"
"$B/customs-audit" verify "$LAB_TMP/bundle" --keys "$LAB_TMP/col/keys" || lab_fail "verify"
"$B/customs-audit" report "$LAB_TMP/bundle" --keys "$LAB_TMP/col/keys" --guarantees \
	--format json >"$LAB_TMP/g.json" || lab_fail "report --guarantees"
"$B/customs-audit" report "$LAB_TMP/bundle" --keys "$LAB_TMP/col/keys" --guarantees
jq -e '[.guarantees[] | select(.guarantee=="ae-m1" and .model=="m1")][0] |
	.intervals_met > 0 and .intervals_breach > 0 and (.breaches | length) > 0' \
	"$LAB_TMP/g.json" >/dev/null || lab_fail "ae-m1 met and breached intervals not in the report"
jq -e '[.events[] | select(.kind=="policy_refused" and (.detail | test("ae-m1")))] | length > 0' \
	"$LAB_TMP/g.json" >/dev/null || lab_fail "the refused policy is not a signed event"
jq -e '[.events[] | select(.kind=="guarantee_drift" and (.detail | test("restored")))] | length > 0' \
	"$LAB_TMP/g.json" >/dev/null || lab_fail "the matrix drift is not reported"
jq -e '[.events[] | select(.kind=="guarantee_drift" and (.detail | test("cgroup-ingress detached")))] | length > 0' \
	"$LAB_TMP/g.json" >/dev/null || lab_fail "the link drift is not reported"
jq -e --argjson t $REVOKE_AT '[.events[] | select(.kind=="revocation" and .guarantee=="ae-m2" and
	(.detail | test("TEST-LETTER-1")) and .unix_s >= $t)] | length == 1' \
	"$LAB_TMP/g.json" >/dev/null || { jq -c ".events[]" "$LAB_TMP/g.json"; lab_fail "the revocation is not reported once, from its effective time"; }
jq -e '[.guarantees[] | select(.guarantee=="ae-m2")][0] | .revoked_from > 0 and .revocation_ref == "TEST-LETTER-1"' \
	"$LAB_TMP/g.json" >/dev/null || lab_fail "ae-m2 not shown revoked in the report"
echo "pass"
