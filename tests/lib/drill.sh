# SPDX-License-Identifier: BSD-2-Clause
# The fault drills' common lab (tests/e2e/test_drill_*.sh), on top of
# lab.sh: a node namespace running customsd (XDP on its link, cgroup
# programs on a tenant cgroup, 500 ms intervals, telemetry signed with a
# key from customsctl keygen) and a UDP sink in the tenant cgroup; a client
# namespace with an AE and an IR address; a customs-collector on SQLite
# behind mutual TLS (certificates made here with openssl) in a namespace of
# its own. The helpers send bounded traffic, stop and start the daemons,
# and prove the end state: the collector holds every interval exactly once
# (no gap, no duplicate, a chain customs-audit verify accepts) and its sums
# equal the agent's totals key by key.
#
#   . "$(dirname "$0")/../lib/drill.sh"
#   drill_init outage            # lab, certificates, key, configs
#   drill_start_collector; drill_start_agent
#   drill_send $AE 40            # exit status of customs-lab-client
#   drill_settle                 # store == agent totals, nothing pending
#   drill_check_chain 1          # exactly once, one epoch, verify passes

. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"

DRILL_SRV=198.18.0.1 DRILL_CLI=198.18.0.2
AE=192.0.2.2 IR=203.0.113.2
DRILL_PORT=5300 DRILL_SIZE=512
DRILL_L3=$((20 + 8 + DRILL_SIZE))
DRILL_COLLECTOR=198.19.255.2:7443
DRILL_NODE=drill-node

drill_init() { # TAG
	lab_init "drill-$1"
	B=$LAB_BUILD
	W=$LAB_TMP
	DRILL_DB=$LAB_TOP/data/geo/geo-whois-asn-country.mmdb
	[ -f "$DRILL_DB" ] || lab_fail "no geo database at $DRILL_DB (scripts/setup fetches it)"
	for t in jq sqlite3 openssl; do
		command -v $t >/dev/null || lab_fail "$t missing (scripts/setup installs it)"
	done
	DRILL_STATE=${DRILL_STATE:-$W/state}
	drill_net
	drill_certs
	drill_configs
	mkdir -p "$LAB_CG/m1"
	lab_bg_cg n "$LAB_CG/m1" server "$B/customs-lab-server" --listen $DRILL_SRV:$DRILL_PORT
	lab_wait 5 lab_in n bash -c "ss -uln | grep -q $DRILL_SRV:$DRILL_PORT" ||
		lab_fail "the UDP sink did not start"
}

drill_net() {
	local ip
	lab_ns n
	lab_ns c
	lab_ns col
	lab_link n d-n $DRILL_SRV/24 c d-c $DRILL_CLI/24
	lab_link n d-col 198.19.255.1/30 col d-node 198.19.255.2/30
	for ip in $AE $IR; do
		lab_in c ip addr add $ip/32 dev d-c
		lab_in n ip route add $ip/32 dev d-n
	done
	# Only our datagrams cross the link: permanent neighbours, no IPv6.
	lab_in n ip link set d-n address 02:00:00:00:00:0a
	lab_in c ip link set d-c address 02:00:00:00:00:0b
	lab_in c ip neigh replace $DRILL_SRV lladdr 02:00:00:00:00:0a dev d-c nud permanent
	for ip in $AE $IR $DRILL_CLI; do
		lab_in n ip neigh replace $ip lladdr 02:00:00:00:00:0b dev d-n nud permanent
	done
	for ns in n c col; do
		lab_in $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
}

drill_certs() {
	mkdir -p "$W/pki" "$W/keys" "$W/node-key"
	lab_certs "$W/pki" "$DRILL_NODE" "${DRILL_COLLECTOR%:*}"
	DRILL_KEY_ID=$("$B/customsctl" keygen --out "$W/node-key") || lab_fail "customsctl keygen"
	cp "$W/node-key/$DRILL_KEY_ID.pub" "$W/keys/"
}

drill_policy() { # IR verdict in the policy file: deny (default) or allow
	cat >"$W/policy.yaml" <<EOF
version: 1
node:
  id: $DRILL_NODE
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
    endpoints: ["$DRILL_SRV:$DRILL_PORT/udp"]
    tenants:
      - name: serving
        cgroup: $LAB_CG_REL/m1
EOF
}

drill_configs() {
	drill_policy
	cp "$DRILL_DB" "$W/geo.mmdb"
	cat >"$W/overrides.txt" <<EOF
192.0.2.0/24 AE
203.0.113.0/24 IR
198.18.0.0/15 AE
EOF
	cat >"$W/collector.yaml" <<EOF
listen: $DRILL_COLLECTOR
tls:
  cert: $W/pki/server.crt
  key: $W/pki/server.key
  ca: $W/pki/ca.crt
keys: $W/keys
store: $W/collector.db
gap_grace_ms: 1000
EOF
	cat >"$W/agent.yaml" <<EOF
policy: policy.yaml
geo:
  database: geo.mmdb
  overrides: [overrides.txt]
dataplane:
  pin_dir: $LAB_PIN
  cgroup: $LAB_CG
  xdp:
    - interface: d-n
      mode: native
state_dir: $DRILL_STATE
control_socket: $W/ctl.sock
interval: 500ms
metrics:
  listen: 127.0.0.1:9462
collector:
  address: $DRILL_COLLECTOR
  ca: pki/ca.crt
  cert: pki/client.crt
  key: pki/client.key
  signing_key: node-key/node.key
  spool_max_bytes: ${DRILL_SPOOL_MIB:-16}
EOF
}

ctl() { "$B/customsctl" "$1" --socket "$W/ctl.sock" "${@:2}"; }
telem() { ctl status --json | jq -r ".telemetry.$1"; }

drill_start_collector() {
	lab_bg col collector "$B/customs-collector" -v serve --config "$W/collector.yaml"
	COLLECTOR=$LAB_LAST_PID
	lab_wait 15 lab_in col bash -c "ss -tln | grep -q ${DRILL_COLLECTOR//./\\.}" ||
		{ tail -n 20 "$W/collector.log"; lab_fail "customs-collector did not start"; }
}

drill_stop_collector() { # [SIGNAL]
	kill -"${1:-TERM}" "$COLLECTOR"
	wait "$COLLECTOR" 2>/dev/null
	COLLECTOR=
}

drill_start_agent() {
	lab_bg n customsd "$B/customsd" --config "$W/agent.yaml"
	AGENT=$LAB_LAST_PID
	lab_wait 30 ctl status || { tail -n 30 "$W/customsd.log"; lab_fail "customsd did not come up"; }
}

drill_kill_agent() { # [SIGNAL]
	kill -"${1:-TERM}" "$AGENT"
	wait "$AGENT" 2>/dev/null
	AGENT=
}

drill_send() { # SRC COUNT -> exit status of the client
	lab_in c "$B/customs-lab-client" udp --src "$1" --dst $DRILL_SRV:$DRILL_PORT \
		--count "$2" --size $DRILL_SIZE >/dev/null
}

# Traffic in the background while something else happens: ROUNDS rounds of
# COUNT datagrams from each of AE and IR, every 200 ms. Bounded by ROUNDS.
drill_traffic_start() { # ROUNDS COUNT
	(
		for _ in $(seq "$1"); do
			drill_send $AE "$2" || exit 1
			drill_send $IR "$2" || exit 1
			sleep 0.2
		done
	) &
	DRILL_TRAFFIC=$!
	DRILL_TRAFFIC_SENT=$(($1 * $2))
}

drill_traffic_wait() {
	wait "$DRILL_TRAFFIC" || lab_fail "background traffic failed"
}

# Sums from the agent (customsctl stats) and the collector's store, one
# line per (tenant, model, country, direction, layer, verdict).
drill_agent_rows() {
	ctl stats --json | jq -r '.[] | select(.packets > 0) |
		[.tenant, .model, .country, .direction, .layer, .verdict, .packets, .bytes] | join("|")' |
		sort
}
drill_store() { sqlite3 -readonly -cmd '.timeout 5000' "$W/collector.db" "$@"; }
drill_store_rows() {
	drill_store -separator '|' "SELECT tenant, model, country, direction, layer, verdict,
		sum(packets), sum(bytes) FROM counters GROUP BY 1, 2, 3, 4, 5, 6
		HAVING sum(packets) > 0" | sort
}
drill_agent_stat() { # COUNTRY LAYER VERDICT FIELD (ingress, tenant serving)
	ctl stats --json | jq --arg c "$1" --arg l "$2" --arg v "$3" --arg f "$4" \
		'[.[] | select(.tenant == "serving" and .country == $c and .direction == "ingress"
			and .layer == $l and .verdict == $v) | .[$f]] | add // 0'
}

drill_settled() {
	drill_agent_rows >"$W/agent.rows" && drill_store_rows >"$W/store.rows" &&
		[ -s "$W/agent.rows" ] && cmp -s "$W/agent.rows" "$W/store.rows" &&
		[ "$(telem pending)" = 0 ]
}

# Waits until the collector holds exactly the agent's totals and nothing
# waits in the spool; SECONDS covers a reconnect after the exporter's
# backoff (at most 30 s).
drill_settle() { # [SECONDS]
	if ! lab_wait "${1:-60}" drill_settled; then
		diff "$W/agent.rows" "$W/store.rows" | sed 's/^/    /'
		ctl status | sed 's/^/    /'
		tail -n 20 "$W/customsd.log" "$W/collector.log"
		lab_fail "the collector's store does not equal the agent's totals"
	fi
	echo "ok: collector store == agent totals ($(wc -l <"$W/agent.rows") counter keys)," \
		"nothing pending in the spool"
}

drill_epoch_complete() {
	DRILL_NEXT=$(telem next_seq)
	DRILL_STORED=$(drill_store "SELECT count(*) || ' ' || min(seq) || ' ' || max(seq) FROM batches
		WHERE epoch = (SELECT max(epoch) FROM batches)")
	[ "$DRILL_STORED" = "$DRILL_NEXT 0 $((DRILL_NEXT - 1))" ]
}

# Each interval exactly once: per epoch the stored seqs are 0..next-1 with
# none missing; the collector saw no gap; the export verifies.
drill_check_chain() { # EPOCHS (how many the store should hold)
	local epochs
	epochs=$(drill_store "SELECT count(DISTINCT epoch) FROM batches")
	[ "$epochs" = "$1" ] || lab_fail "the store holds $epochs epoch(s), expected $1"
	# The agent goes on producing: poll for a moment when both agree.
	lab_wait 15 drill_epoch_complete ||
		lab_fail "epoch in force: stored count/min/max seq '$DRILL_STORED', agent's next seq $DRILL_NEXT"
	drill_store "SELECT epoch, count(*), min(seq), max(seq) FROM batches GROUP BY epoch" |
		while IFS='|' read -r e n lo hi; do
			[ $((hi - lo + 1)) = "$n" ] || lab_fail "epoch $e: $n batches for seqs $lo..$hi"
		done || exit 1
	[ "$(drill_store "SELECT count(*) FROM gaps")" = 0 ] ||
		lab_fail "the collector recorded gaps: $(drill_store "SELECT * FROM gaps")"
	"$B/customs-collector" export --store "$W/collector.db" --out "$W/bundle" >/dev/null 2>&1 ||
		lab_fail "customs-collector export"
	"$B/customs-audit" verify "$W/bundle" --keys "$W/keys" >"$W/verify.out" 2>&1 ||
		{ cat "$W/verify.out"; lab_fail "customs-audit verify refused the export"; }
	echo "ok: every interval stored exactly once ($(drill_store "SELECT count(*) FROM batches")" \
		"batches, $1 epoch(s), no gap); customs-audit verify: $(tail -n 1 "$W/verify.out" | sed 's/.*: //')"
}

# After drill_traffic_start: every IR datagram of the 20 rounds denied at
# XDP and none at the socket, every AE one served.
drill_enforcement_held() {
	drill_traffic_wait
	local want=$((20 * N))
	lab_wait 15 bash -c "[ \"\$($B/customsctl stats --json --socket $W/ctl.sock | jq '[.[] | select(.country == \"IR\" and .layer == \"xdp\" and .verdict == \"deny\") | .packets] | add // 0')\" = $want ]" ||
		lab_fail "IR denied at XDP: $(drill_agent_stat IR xdp deny packets) of $want"
	[ "$(drill_agent_stat IR skb allow packets)" = 0 ] || lab_fail "IR reached the socket"
	lab_wait 15 bash -c "[ \"\$($B/customsctl stats --json --socket $W/ctl.sock | jq '[.[] | select(.country == \"AE\" and .layer == \"skb\" and .verdict == \"allow\") | .packets] | add // 0')\" = $want ]" ||
		lab_fail "AE served: $(drill_agent_stat AE skb allow packets) of $want"
	echo "ok: enforcement held: IR $want/$want denied at XDP, AE $want/$want served"
}
