#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Query-pattern detection end to end, in namespaces: customsd with the real
# geo and AS databases plus the scenarios' overrides, XDP on the serving
# link and the cgroup programs on the lab server's tenant. Ordinary users
# run throughout; then a distillation campaign from a hosting AS, a
# dispersed campaign over eight hosting prefixes, and a VPN hop after a
# denial (tests/lib/scenarios.sh). Each campaign must be detected within two
# intervals of its start, the extraction detector (mapped to enforce) must
# deny the distilling prefix in the kernel, and the ordinary users must
# raise no alert. Prints each detector's detections and false alarms. The
# alerts also travel signed to a real collector over mTLS, and
# customs-audit verify and report --alerts read them back from its store.
set -u
. "$(dirname "$0")/../lib/lab.sh"
. "$(dirname "$0")/../lib/scenarios.sh"

lab_init query
B=$LAB_BUILD
DB=$LAB_TOP/data/geo/geo-whois-asn-country.mmdb
ASN=$LAB_TOP/data/asn
[ -f "$DB" ] || lab_fail "no geo database at $DB (scripts/setup fetches it)"
[ -f "$ASN/asn-ipv4.csv" ] || lab_fail "no AS database in $ASN (scripts/setup fetches it)"
command -v jq >/dev/null || lab_fail "jq missing (scripts/setup installs it)"

SRV=198.18.0.1 PORT=5301 INTERVAL_MS=1000 CPORT=17453

lab_ns a
lab_ns b
lab_link a cs-qa $SRV/24 b cs-qb 198.18.0.2/24
for ip in $(scen_addresses); do
	lab_in b ip addr add "$ip/32" dev cs-qb
done
for net in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 198.19.0.0/16; do
	lab_in a ip route add $net via 198.18.0.2
done
lab_in a sysctl -qw net.ipv6.conf.cs-qa.disable_ipv6=1
lab_in b sysctl -qw net.ipv6.conf.cs-qb.disable_ipv6=1
mkdir -p "$LAB_CG/m1"

scen_geo_overrides >"$LAB_TMP/geo-overrides.txt"
echo "198.18.0.0/24 AE" >>"$LAB_TMP/geo-overrides.txt"
scen_asn_overrides >"$LAB_TMP/asn-overrides.txt"
cat >"$LAB_TMP/policy.yaml" <<EOF
version: 1
node: {id: query-node, country: AE}
tiers:
  licensed:
    ingress: {allow: [AE, DE, FR, JP, SG, US, NL], default: deny}
    egress: {allow: [all]}
models:
  - name: m1
    tier: licensed
    endpoints: ["$SRV:$PORT/tcp"]
    tenants:
      - name: serving
        cgroup: $LAB_CG_REL/m1
# Lab scale: the scenarios move kilobytes, not the megabytes of production.
query_patterns:
  cooldown: 30
  deny_seconds: 60
  volume: {quota_bytes_per_sec: 400000, quota_conns_per_sec: 40, min_bytes_per_sec: 100000}
  dispersion: {min_prefixes: 6, window: 3, min_bytes: 3000, max_cv: 0.5}
  extraction: {mode: enforce, ratio: 20, min_bytes_per_sec: 100000, intervals: 2, max_cv: 0.5}
  geography: {hop_window: 3}
EOF
mkdir -p "$LAB_TMP/col/keys" "$LAB_TMP/node"
lab_telemetry query-node $CPORT
cat >"$LAB_TMP/agent.yaml" <<EOF
node:
  id: query-node
policy: policy.yaml
geo:
  database: $DB
  overrides: [geo-overrides.txt]
asn:
  database: [$ASN/asn-ipv4.csv, $ASN/asn-ipv6.csv]
  overrides: [asn-overrides.txt]
  classes: $LAB_TOP/policies/asn-classes.txt
dataplane:
  pin_dir: $LAB_PIN
  cgroup: $LAB_CG
  xdp:
    - interface: cs-qa
      mode: native
state_dir: state
control_socket: $LAB_TMP/ctl.sock
interval: ${INTERVAL_MS}ms
$(lab_collector_yaml $CPORT)
EOF

ctl() { "$B/customsctl" "$1" --socket "$LAB_TMP/ctl.sock" "${@:2}"; }
now_ns() { date +%s%N; }
alerts() { ctl alerts --json | jq -s .; }
# The first alert time (unix ns) of a detector on one of the prefixes, or empty.
first_alert() { # DETECTOR PREFIX...
	local det=$1
	shift
	alerts | jq -r --arg d "$det" --arg p "$*" \
		'[.[] | select(.detector==$d and (.prefix as $x | ($p | split(" ")) | index($x)))] | .[0].unix_ns // empty' |
		head -n 1
}
prefix_of() { echo "${1%.*}.0/24"; }
intervals() { ctl status --json | jq '.intervals'; }
# Waits for a detector's alert on any of the prefixes, and checks it came
# within two intervals of the campaign's start, counted in the agent's own
# intervals (not wall time: a loaded machine stretches intervals).
expect_alert() { # LABEL DETECTOR START_NS START_INTERVALS PREFIX...
	local label=$1 det=$2 start=$3 n0=$4 at limit=$(( $(date +%s) + 20 )) lat n1
	shift 4
	until at=$(first_alert "$det" "$@"); [ -n "$at" ]; do
		if [ "$(date +%s)" -ge "$limit" ]; then
			alerts; tail -n 20 "$LAB_TMP/customsd.log"
			lab_fail "$label: no $det alert on $*"
		fi
		sleep 0.1
	done
	n1=$(intervals)
	lat=$(( (at - start) / 1000000 ))
	# The start's partial interval, then two whole ones.
	[ $((n1 - n0)) -le 3 ] ||
		lab_fail "$label: $det alert came $((n1 - n0)) intervals after the start (two intervals: <= 3 boundaries)"
	echo "ok: $label: $det alert after $((n1 - n0)) interval boundaries ($lat ms)"
}

lab_say "agent up with geo and AS data"
lab_bg a customsd "$B/customsd" --config "$LAB_TMP/agent.yaml"
lab_wait 30 ctl status || { cat "$LAB_TMP/customsd.log"; lab_fail "customsd did not come up"; }
lab_bg_cg a "$LAB_CG/m1" server "$B/customs-lab-server" --listen $SRV:$PORT --tokens-per-sec 0
lab_wait 5 lab_in a bash -c "ss -tln | grep -q $SRV:$PORT" || lab_fail "lab server did not start"

lab_say "ordinary users, then three campaigns"
scen_init b $SRV:$PORT
scen_users 40 >"$LAB_TMP/users.log" 2>&1 &
USERS=$!
LAB_BG+=("$USERS")
sleep 4	# a few intervals of ordinary history before the first campaign

start=$(now_ns) n0=$(intervals)
scen_distill 6 &
DISTILL=$!
expect_alert "distillation" volume "$start" "$n0" "$(prefix_of $SCEN_DISTILL)"
expect_alert "distillation" extraction "$start" "$n0" "$(prefix_of $SCEN_DISTILL)"
wait $DISTILL
drops=$(ctl status --json | jq '.query_deny_drops')
[ "$drops" -gt 0 ] || lab_fail "the extraction alert (enforce) did not deny the prefix: $drops drops"
echo "ok: the distilling prefix was denied in the kernel ($drops packets dropped)"
scen_request "$SCEN_DISTILL" 1 10 && lab_fail "the denied prefix was still served"

start=$(now_ns) n0=$(intervals)
disp=""
for ip in $SCEN_DISPERSED; do disp="$disp $(prefix_of "$ip")"; done
scen_dispersed 5 &
DISPERSED=$!
expect_alert "dispersed campaign" dispersion "$start" "$n0" $disp
wait $DISPERSED

start=$(now_ns) n0=$(intervals)
scen_vpn_hop 4 &
HOP=$!
expect_alert "VPN hop" geography "$start" "$n0" "$(prefix_of $SCEN_VPN)"
wait $HOP
kill "$USERS" 2>/dev/null
wait "$USERS" 2>/dev/null
sleep 1.2	# the users' last interval

lab_say "no alert on ordinary users; detections and false alarms per detector"
users=""
for ip in $SCEN_USERS; do users="$users $(prefix_of "$ip")"; done
alerts >"$LAB_TMP/alerts.json"
jq -r --arg u "$users" '
	def user: (.prefix as $x | ($u | split(" ")) | index($x)) != null;
	group_by(.detector)[] |
	"\(.[0].detector): \([.[] | select(user | not)] | length) detections, \([.[] | select(user)] | length) false alarms"' \
	"$LAB_TMP/alerts.json"
fa=$(jq --arg u "$users" '[.[] | select((.prefix as $x | ($u | split(" ")) | index($x)) != null)] | length' \
	"$LAB_TMP/alerts.json")
[ "$fa" = 0 ] || { cat "$LAB_TMP/alerts.json"; lab_fail "ordinary users raised $fa alerts"; }
echo "ok: ordinary users raised no alert"
ctl alerts | head -n 3

lab_say "the alerts reached the collector signed"
stored() { # the detectors of the alerts in the collector's store, sorted
	"$B/customs-audit" report --store "$LAB_TMP/col/store.db" --alerts --format json |
		jq -r '[.. | objects | select(has("detector")) | .detector] | unique | join(",")'
}
want=$(jq -r '[.[].detector] | unique | join(",")' "$LAB_TMP/alerts.json")
lab_expect "$want" "detectors of the signed alerts in the store" stored
"$B/customs-collector" export --store "$LAB_TMP/col/store.db" --out "$LAB_TMP/bundle" >/dev/null ||
	lab_fail "export"
"$B/customs-audit" verify "$LAB_TMP/bundle" --keys "$LAB_TMP/col/keys" || lab_fail "verify"
"$B/customs-audit" report "$LAB_TMP/bundle" --keys "$LAB_TMP/col/keys" --alerts | head -n 12
echo "pass"
