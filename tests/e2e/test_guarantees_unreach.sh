#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Refusals the serving host sends as ICMP and as TCP resets, end to end,
# in namespaces: the guaranteed country (AE) reaches TCP models (m1, m2,
# m4) and a UDP model (m3);
#  - served TCP connections: met, no refusals;
#  - an nftables rule in the server's namespace rejects m1's port with
#    icmp admin-prohibited: every refused connection is one unreachable
#    and one attempt, none unanswered, and the guarantee is breached;
#  - UDP datagrams to m3's port, where nothing listens: port
#    unreachables, counted exactly, a breach with no attempts;
#  - a UDP datagram to a port no model serves: no unreachable counted;
#  - TCP to m2's port, where nothing listens: the kernel's resets (from
#    no tenant socket, seen at tcx egress) are attempts refused with a
#    reset, each counted once, a breach;
#  - m4's server resets every connection it accepted: resets from a tenant
#    socket (cgroup_skb egress), counted once, not as refused attempts;
#  - the tcx egress link detached by hand is repaired and reported;
#  - customs-audit verify and report --guarantees show it all, signed.
set -u
. "$(dirname "$0")/../lib/lab.sh"

lab_init unreach
B=$LAB_BUILD
DB=$LAB_TOP/data/geo/geo-whois-asn-country.mmdb
[ -f "$DB" ] || lab_fail "no geo database at $DB (scripts/setup fetches it)"
command -v bpftool >/dev/null || lab_fail "bpftool missing (scripts/setup installs it)"
command -v nft >/dev/null || lab_fail "nft missing (scripts/setup installs nftables)"

SRV=198.18.0.1 AE=192.0.2.2
P1=8080 P2=8082 P3=9443 P4=8084 PNONE=9444 CPORT=17444
N_TCP=5 N_UDP=7 N_RST=4 N_RESET=3

mkdir -p "$LAB_CG/m1" "$LAB_CG/m2" "$LAB_CG/m3" "$LAB_CG/m4" "$LAB_TMP/col/keys" \
	"$LAB_TMP/node"
lab_serving_pair $SRV $AE
printf '192.0.2.0/24 AE\n198.18.0.0/15 AE\n' >"$LAB_TMP/overrides.txt"
# Every unreachable is sent: the kernel's per-peer rate limit would
# otherwise make the counts depend on timing (this namespace only).
lab_in a sysctl -qw net.ipv4.icmp_ratelimit=0 || lab_fail "icmp_ratelimit in namespace a"

cat >"$LAB_TMP/policy.yaml" <<EOF
version: 1
node:
  id: unreach-node
  country: AE
mode: enforce
tiers:
  licensed:
    ingress:
      allow: [AE]
      default: deny
    egress:
      allow: [all]
models:
$(lab_model_yaml m1 licensed "$SRV:$P1/tcp" serving1)
$(lab_model_yaml m2 licensed "$SRV:$P2/tcp" serving2)
$(lab_model_yaml m3 licensed "$SRV:$P3/udp" serving3)
$(lab_model_yaml m4 licensed "$SRV:$P4/tcp" serving4)
guarantees:
  - name: ae-m1
    models: [m1]
    from: 2026-01-01
    availability: 90%
  - name: ae-m2
    models: [m2]
    from: 2026-01-01
    availability: 90%
  - name: ae-m3
    models: [m3]
    from: 2026-01-01
  - name: ae-m4
    models: [m4]
    from: 2026-01-01
    availability: 90%
EOF

lab_telemetry unreach-node $CPORT
lab_agent_yaml "$DB" $CPORT >"$LAB_TMP/agent.yaml"

# The state of the last interval in which GUARANTEE saw unreachables.
unreach_state() { # GUARANTEE
	lab_ctl status --json | jq -r --arg g "$1" \
		'[.guarantees[] | select(.guarantee==$g and .unreachables > 0)][0].state // "none"'
}
# Debian's bpftool 7.1 predates tcx and shows neither its type nor its
# interface: the pinned link runs our program, and the agent (which reads
# the link's ifindex) reports nothing missing.
tcx_attached() {
	local prog
	prog=$(bpftool -j link show pinned "$LAB_PIN/links/tcx-egress-cs-a" | jq -r .prog_id) &&
		[ "$(bpftool -j prog show id "$prog" | jq -r .name)" = tc_unreach_egress ] &&
		lab_ctl status --json | jq -r '.problems | test("tcx egress") | not'
}

lab_start_agent
lab_bg_cg a "$LAB_CG/m1" server1 "$B/customs-lab-server" --listen $SRV:$P1 --tokens-per-sec 0
lab_wait 5 lab_in a bash -c "ss -tln | grep -q $SRV:$P1" || lab_fail "m1 server"

lab_say "the counter sits at cs-a's tcx egress, pinned"
lab_expect true "tcx egress link on cs-a" tcx_attached

lab_say "served: ae-m1 met, nothing refused"
out=$(lab_in b "$B/customs-lab-client" tcp --src $AE --dst $SRV:$P1 --requests 3 --tokens 8) ||
	lab_fail "AE -> m1 served: $out"
echo "$out"
sleep 2.5	# two intervals: the served ones are in the record and gone from status

lab_say "nftables rejects m1's port with icmp admin-prohibited"
lab_in a nft -f - <<EOF || lab_fail "nft rule in namespace a"
table inet customs_unreach {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport $P1 reject with icmp type admin-prohibited
	}
}
EOF
out=$(lab_in b "$B/customs-lab-client" tcp --src $AE --dst $SRV:$P1 --requests $N_TCP \
	--tokens 8 --keep-going)
echo "$out"
echo "$out" | grep -q "No route to host\|refused" || lab_fail "m1 not refused with ICMP: $out"

lab_say "UDP to m3's port, nothing listening: port unreachables"
lab_in b "$B/customs-lab-client" udp --src $AE --dst $SRV:$P3 --count $N_UDP --size 64 ||
	lab_fail "sending to m3"
lab_say "UDP to a port no model serves: not counted"
lab_in b "$B/customs-lab-client" udp --src $AE --dst $SRV:$PNONE --count 3 --size 64 ||
	lab_fail "sending to an unserved port"
lab_expect breach "ae-m3 state in status, with its unreachables" unreach_state ae-m3

lab_say "TCP to m2's port, nothing listening: the kernel resets every SYN"
out=$(lab_in b "$B/customs-lab-client" tcp --src $AE --dst $SRV:$P2 --requests $N_RST \
	--tokens 8 --keep-going)
echo "$out"
echo "$out" | grep -q "refused" || lab_fail "m2 not refused with a reset: $out"

lab_say "m4's server resets every connection it accepts"
lab_bg_cg a "$LAB_CG/m4" server4 "$B/customs-lab-server" --listen $SRV:$P4 --tokens-per-sec 0 \
	--reset-every 1
lab_wait 5 lab_in a bash -c "ss -tln | grep -q $SRV:$P4" || lab_fail "m4 server"
out=$(lab_in b "$B/customs-lab-client" tcp --src $AE --dst $SRV:$P4 --requests $N_RESET \
	--tokens 8 --keep-going)
echo "$out"

lab_say "drift: the tcx link detached by hand is repaired"
bpftool link detach pinned "$LAB_PIN/links/tcx-egress-cs-a" || lab_fail "detaching our tcx link"
lab_expect true "tcx egress link re-attached" tcx_attached

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
g1='[.guarantees[] | select(.guarantee=="ae-m1")][0]'
g2='[.guarantees[] | select(.guarantee=="ae-m2")][0]'
g3='[.guarantees[] | select(.guarantee=="ae-m3")][0]'
g4='[.guarantees[] | select(.guarantee=="ae-m4")][0]'
expect_json() { # LABEL JQ-FILTER WANT
	local got
	got=$(jq -r "$2" "$LAB_TMP/g.json")
	[ "$got" = "$3" ] || { jq -c '.guarantees[]' "$LAB_TMP/g.json"; lab_fail "$1: got $got, expected $3"; }
	echo "ok: $1 = $3"
}
expect_json "ae-m1 unreachables" "$g1.unreachables" $N_TCP
expect_json "ae-m1 attempts (served and refused)" "$g1.attempts" $((3 + N_TCP))
expect_json "ae-m1 established" "$g1.established" 3
expect_json "ae-m1 unanswered (refused ones are unreachables)" "$g1.unanswered" 0
expect_json "ae-m1 refusals" "$g1.refusals" $N_TCP
expect_json "ae-m1 state" "$g1.state" breach
expect_json "ae-m1 breached interval lists its unreachables" \
	"[$g1.breaches[].unreachables] | add" $N_TCP
expect_json "ae-m3 unreachables (the unserved port not among them)" "$g3.unreachables" $N_UDP
expect_json "ae-m3 attempts" "$g3.attempts" 0
expect_json "ae-m3 state" "$g3.state" breach
expect_json "ae-m2 attempts (each SYN reset)" "$g2.attempts" $N_RST
expect_json "ae-m2 resets" "$g2.resets" $N_RST
expect_json "ae-m2 resets answering attempts" "$g2.attempts_reset" $N_RST
expect_json "ae-m2 unanswered" "$g2.unanswered" 0
expect_json "ae-m2 refusals (each once)" "$g2.refusals" $N_RST
expect_json "ae-m2 state" "$g2.state" breach
expect_json "ae-m4 attempts" "$g4.attempts" $N_RESET
expect_json "ae-m4 established" "$g4.established" $N_RESET
expect_json "ae-m4 resets (the tenant socket's, once each)" "$g4.resets" $N_RESET
expect_json "ae-m4 resets answering attempts" "$g4.attempts_reset" 0
expect_json "ae-m4 availability" "$g4.availability" 0
expect_json "ae-m4 state" "$g4.state" breach
jq -e '[.events[] | select(.kind=="guarantee_drift" and
	(.detail | test("link tcx-egress-cs-a detached; re-attached")))] | length > 0' \
	"$LAB_TMP/g.json" >/dev/null || lab_fail "the tcx link drift is not reported"
echo "pass"
