#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# customsd end to end, in namespaces: the agent compiles a policy, loads the
# real geo database with test overrides, attaches XDP and the cgroup
# programs, and counts real traffic from a permitted (AE) and a denied (IR)
# country with known sizes, so `customsctl stats --json` must equal the L3
# bytes sent exactly. Then: a reload under traffic changes a verdict with
# counting continuous; a bad policy and a corrupt geo database are refused
# with the old state in force; kill -9 under traffic and a restart keep
# denied traffic denied throughout and totals equal to the wire; a real
# Prometheus scrape parses.
set -u
. "$(dirname "$0")/../lib/lab.sh"

lab_init agent
B=$LAB_BUILD
DB=$LAB_TOP/data/geo/geo-whois-asn-country.mmdb
[ -f "$DB" ] || lab_fail "no geo database at $DB (scripts/setup fetches it)"
command -v jq >/dev/null || lab_fail "jq missing (scripts/setup installs it)"

SRV=198.18.0.1 AE=192.0.2.2 IR=203.0.113.2 KP=198.51.100.2
PORT=5300 N=40 SIZE=512 L3=$((20 + 8 + SIZE))
METRICS=127.0.0.1:19462

lab_serving_pair $SRV $AE $IR $KP
mkdir -p "$LAB_CG/m1"

cat >"$LAB_TMP/overrides.txt" <<EOF
# test addresses
192.0.2.0/24 AE
203.0.113.0/24 IR
198.51.100.0/24 KP
198.18.0.0/15 AE
EOF
write_policy() { # IR verdict: deny or audit
	local ir_mode=enforce
	[ "$1" = audit ] && ir_mode=audit
	cat >"$LAB_TMP/policy.yaml" <<EOF
version: 1
node:
  id: test-node
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
  - name: m1
    tier: licensed
    endpoints: ["$SRV:$PORT/udp", "$SRV:$PORT/tcp"]
    tenants:
      - name: serving
        cgroup: $LAB_CG_REL/m1
    exceptions:
      - countries: [IR]
        verdict: deny
        reason: test
        mode: $ir_mode
guarantees:
  - name: ae-m1
    models: [m1]
    from: 2026-01-01
EOF
}
write_policy deny
# The agent loads a compiled table, as a node would; the test corrupts it later.
"$B/customsctl" geo compile --db "$DB" --out "$LAB_TMP/geo.table" >/dev/null ||
	lab_fail "compiling the geo table"
{
	printf 'node:\n  id: test-node\n'
	lab_agent_yaml geo.table "" 500ms "$METRICS"
} >"$LAB_TMP/agent.yaml"

ctl() { lab_ctl "$@"; }
start_agent() { lab_start_agent; AGENT=$LAB_AGENT; }
send() { # SRC COUNT -> exit status of the client
	lab_in b "$B/customs-lab-client" udp --src "$1" --dst $SRV:$PORT --count "$2" --size $SIZE >/dev/null
}
expect() { # WANT LABEL TENANT COUNTRY LAYER VERDICT FIELD
	local want=$1 label=$2
	shift 2
	lab_expect "$want" "$label" lab_stat "$@"
}

lab_say "agent up, traffic counted exactly"
"$B/customsd" --check --config "$LAB_TMP/agent.yaml" >/dev/null || lab_fail "customsd --check refused a good configuration"
# systemd's readiness protocol: one READY=1 datagram to $NOTIFY_SOCKET,
# sent once the agent is up (perl is Essential on Debian: no extra package).
NOTIFY=$LAB_TMP/notify.sock
perl -MSocket -e 'socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
	bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!";
	$SIG{ALRM} = sub { exit 1 }; alarm 30;
	defined(recv($s, my $m, 256, 0)) or die "recv: $!"; print $m' "$NOTIFY" >"$LAB_TMP/notify.out" &
NOTIFY_PID=$!
lab_wait 5 test -S "$NOTIFY" || lab_fail "notify listener did not start"
export NOTIFY_SOCKET=$NOTIFY
start_agent
unset NOTIFY_SOCKET
wait "$NOTIFY_PID" || lab_fail "customsd sent no readiness notification"
[ "$(cat "$LAB_TMP/notify.out")" = "READY=1" ] ||
	lab_fail "readiness notification: '$(cat "$LAB_TMP/notify.out")', expected READY=1"
lab_bg_cg a "$LAB_CG/m1" server "$B/customs-lab-server" --listen $SRV:$PORT
lab_wait 5 lab_in a bash -c "ss -uln | grep -q $SRV:$PORT" || lab_fail "UDP sink did not start"
send $AE $N || lab_fail "AE send"
send $IR $N || lab_fail "IR send (dropped at the receiver, not refused at the sender)"
expect $N "AE packets at XDP" serving AE xdp allow packets
expect $((N * L3)) "AE L3 bytes at XDP" serving AE xdp allow bytes
expect $((N * L3)) "AE L3 bytes at the socket layer" serving AE skb allow bytes
expect $N "IR packets dropped at XDP" serving IR xdp deny packets
expect 0 "IR packets reaching the socket" serving IR skb allow packets
ctl status >/dev/null || lab_fail "status says degraded on a healthy agent"

lab_say "reload under traffic: IR moves to audit, counting continuous"
send $AE $N &
write_policy audit
ctl reload || lab_fail "reload of a good policy refused"
wait $! || lab_fail "AE send during reload"
send $IR $N || lab_fail "IR send after reload"
expect $((2 * N)) "AE packets across the reload" serving AE xdp allow packets
expect $N "IR packets audited after the reload" serving IR xdp audit packets
expect $N "IR denials before the reload kept" serving IR xdp deny packets

lab_say "bad policy and corrupt geo database are refused, old state in force"
cp "$LAB_TMP/policy.yaml" "$LAB_TMP/policy.good"
printf 'version: 1\nmodels:\n  - name: [broken\n' >"$LAB_TMP/policy.yaml"
out=$(ctl reload 2>&1) && lab_fail "a broken policy was accepted"
echo "$out" | grep -q "policy.yaml:" || lab_fail "reload error does not name the file: $out"
ctl status >/dev/null && lab_fail "status does not report the failed reload"
cp "$LAB_TMP/policy.good" "$LAB_TMP/policy.yaml"
cp "$LAB_TMP/overrides.txt" "$LAB_TMP/overrides.good"
echo "10.0.0.0/33 UK" >>"$LAB_TMP/overrides.txt"
out=$(ctl reload 2>&1) && lab_fail "a corrupt override file was accepted"
echo "$out" | grep -q "overrides.txt:" || lab_fail "geo error does not name the file: $out"
cp "$LAB_TMP/overrides.good" "$LAB_TMP/overrides.txt"
cp "$LAB_TMP/geo.table" "$LAB_TMP/geo.good"
head -c 100000 "$LAB_TMP/geo.good" >"$LAB_TMP/geo.table"
out=$(ctl reload 2>&1) && lab_fail "a truncated geo table was accepted"
echo "$out" | grep -q "geo.table" || lab_fail "geo table error does not name the file: $out"
cp "$LAB_TMP/geo.good" "$LAB_TMP/geo.table"
send $IR $N || lab_fail "IR send after refused reloads"
expect $((2 * N)) "old policy still in force (IR audited)" serving IR xdp audit packets
ctl reload || lab_fail "reload of the restored files"
lab_in a curl -sf "http://$METRICS/metrics" >"$LAB_TMP/metrics.txt" || lab_fail "scrape failed"
grep -q '^customs_reloads_total{result="failed"} 3$' "$LAB_TMP/metrics.txt" ||
	lab_fail "the three refused reloads are not counted in the metrics"

lab_say "kill -9 under traffic: enforcement holds, totals equal the wire"
send $KP $N &
kill -9 "$AGENT"
wait "$AGENT" 2>/dev/null
wait $! || true
send $AE $N || lab_fail "AE send while no agent runs"
send $KP $N || lab_fail "KP send while no agent runs"
start_agent
send $AE $N || lab_fail "AE send after restart"
expect $((4 * N)) "AE packets across kill and restart" serving AE xdp allow packets
expect $((4 * N * L3)) "AE socket bytes across kill and restart" serving AE skb allow bytes
expect $((2 * N)) "KP denied while the agent was dead" serving KP xdp deny packets
expect 0 "KP never reached the socket" serving KP skb allow packets

lab_say "metrics scrape"
lab_in a curl -sf "http://$METRICS/metrics" >"$LAB_TMP/metrics.txt" || lab_fail "scrape failed"
grep -q "^customs_packets_total{.*tenant=\"serving\".*country=\"AE\".*} " "$LAB_TMP/metrics.txt" ||
	lab_fail "no AE traffic series in the scrape"
# The kernel's key table: the default 65536 slots, holding the overflow
# bucket and at least the AE and KP keys of both layers.
grep -q '^customs_counter_slots{state="capacity"} 65536$' "$LAB_TMP/metrics.txt" ||
	lab_fail "counter slot capacity missing from the scrape"
used=$(sed -n 's/^customs_counter_slots{state="used"} //p' "$LAB_TMP/metrics.txt")
[ "${used:-0}" -ge 4 ] || lab_fail "counter slots used: '${used}', expected at least 4"
awk '!/^#/ && NF && !/^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/ {bad=1; print "bad line: " $0} END {exit bad}' \
	"$LAB_TMP/metrics.txt" || lab_fail "the scrape is not Prometheus text format"

lab_say "detach-all removes everything"
kill "$AGENT"
wait "$AGENT" 2>/dev/null
"$B/customsd" --detach-all --pin-dir "$LAB_PIN" || lab_fail "detach-all"
[ ! -e "$LAB_PIN" ] || lab_fail "pins left after detach-all"
echo "pass"
