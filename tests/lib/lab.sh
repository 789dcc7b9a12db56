# SPDX-License-Identifier: BSD-2-Clause
# Shell helpers for end-to-end scripts and the lab: network namespaces
# joined by veth pairs, a cgroup v2 subtree, a bpffs pin directory and a
# scratch directory, all named with the creator's PID and removed on every
# exit path (EXIT, INT, TERM, HUP), background processes included.
#
#   . tests/lib/lab.sh
#   lab_init agent              # names: customs-agent-PID-*, customs-test-agent-PID
#   lab_ns a; lab_ns b
#   lab_link a cs-a 198.18.0.1/24 b cs-b 198.18.0.2/24
#   lab_in a ip route ...        # run inside a namespace (network only)
#   lab_bg a NAME cmd ...        # background process inside a namespace
#   lab_tmpfs DIR 256k           # a small tmpfs, unmounted on exit
#
# The demo passes a base name of its own (lab_init demo customs-demo-$$)
# and removes what a killed earlier run left with lab_remove_stale.
#
# Processes enter a namespace with nsenter --net, not `ip netns exec`,
# which would remount /sys and hide bpffs and the cgroup2 mount.

LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_BUILD=${CUSTOMS_BUILD:-build}
[[ $LAB_BUILD = /* ]] || LAB_BUILD=$LAB_TOP/$LAB_BUILD
LAB_NS=()
LAB_BG=()
LAB_MOUNTS=()

lab_fail() { echo "FAIL: $*" >&2; exit 1; }
lab_skip() { echo "skip: $*"; exit 77; }
lab_say() { echo "== $*"; }

lab_init() { # TAG [BASE]   (BASE names the cgroup, pin dir and scratch dir)
	local tag=$1 base=${2:-customs-test-$1-$$} m
	[ "$(id -u)" = 0 ] || lab_skip "needs root (namespaces, cgroups, BPF)"
	command -v nsenter >/dev/null || lab_skip "needs nsenter (util-linux)"
	LAB_PREFIX=customs-$tag-$$
	m=$(awk '$3=="cgroup2"{print $2; exit}' /proc/self/mounts)
	[ -n "$m" ] || lab_skip "no cgroup2 mount"
	LAB_CGROOT=$m
	LAB_CG=$m/$base
	LAB_CG_REL=/$base
	LAB_PIN=/sys/fs/bpf/$base
	LAB_TMP=$(mktemp -d "/tmp/$base.XXXXXX")
	LAB_HOME_CG=$(awk -F: '$1=="0"{print $3}' /proc/self/cgroup)
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	# A killed earlier run of this test: its processes, names and mounts.
	lab_remove_stale "customs-$tag"
	[ "$base" = "customs-test-$tag-$$" ] && lab_remove_stale "customs-test-$tag"
	mkdir -p "$LAB_CG" || lab_fail "cannot create cgroup $LAB_CG"
}

# The PID in one of our names (customs-KIND-[TAG-]PID[...]), if its
# creator is gone; nothing if it still runs.
lab_dead_pid() { # NAME
	local pid
	pid=$(echo "$1" | grep -oE -- '-[0-9]+([-.]|$)' | head -n 1 | grep -oE '[0-9]+')
	[ -n "$pid" ] || return 0
	# A zombie counts as gone: a killed run's shell may wait unreaped.
	[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] ||
		! kill -0 "$pid" 2>/dev/null && echo "$pid"
	return 0
}

# A tmpfs of SIZE on DIR (created), unmounted by lab_cleanup.
lab_tmpfs() { # DIR SIZE
	mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" "customs-lab" "$1" ||
		lab_fail "cannot mount a tmpfs of $2 on $1"
	LAB_MOUNTS+=("$1")
}

# Mounts that a killed run left in its scratch directory.
lab_remove_stale_mounts() {
	local mp
	awk '$1=="customs-lab" && $3=="tmpfs" {print $2}' /proc/self/mounts |
		while read -r mp; do
			[ -n "$(lab_dead_pid "${mp#/tmp/}")" ] && umount "$mp" 2>/dev/null
		done
	return 0
}

# What a killed earlier run named BASE-PID left: the processes in its
# namespaces and cgroup (killed first, so its mounts can go), its
# namespaces, pins (links detached first), cgroups, mounts and scratch
# directories. Objects whose creator still runs are kept.
lab_remove_stale() { # BASE, e.g. customs-demo
	local base=$1 name m d
	ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$base-[0-9]+-" |
		while read -r name; do
			[ -n "$(lab_dead_pid "$name")" ] || continue
			ip netns pids "$name" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$name" 2>/dev/null
		done
	m=$(awk '$3=="cgroup2"{print $2; exit}' /proc/self/mounts)
	for d in "$m/$base"-[0-9]*; do
		[ -d "$d" ] && [ -n "$(lab_dead_pid "${d##*/}")" ] || continue
		[ -f "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill"
		lab_wait 5 grep -q '^populated 0' "$d/cgroup.events"
	done
	for d in /sys/fs/bpf/"$base"-[0-9]*; do
		[ -d "$d" ] && [ -n "$(lab_dead_pid "${d##*/}")" ] || continue
		"$LAB_BUILD/customsd" --detach-all --pin-dir "$d" >/dev/null 2>&1
		rm -rf "$d"
	done
	for d in "$m/$base"-[0-9]*; do
		[ -d "$d" ] && [ -n "$(lab_dead_pid "${d##*/}")" ] &&
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	lab_remove_stale_mounts
	for d in /tmp/"$base"-[0-9]*.*; do
		[ -d "$d" ] && [ -n "$(lab_dead_pid "${d##*/}")" ] && rm -rf "$d"
	done
	return 0
}

lab_ns() { # NAME
	local ns=$LAB_PREFIX-$1
	ip netns del "$ns" 2>/dev/null
	ip netns add "$ns" || lab_fail "ip netns add $ns"
	LAB_NS+=("$ns")
	ip -n "$ns" link set lo up
}

lab_link() { # NS1 IF1 CIDR1 NS2 IF2 CIDR2 (CIDRs may be "-")
	local n1=$LAB_PREFIX-$1 n2=$LAB_PREFIX-$4
	ip link add "$2" netns "$n1" type veth peer name "$5" netns "$n2" ||
		lab_fail "veth $2/$5"
	[ "$3" = - ] || ip -n "$n1" addr add "$3" dev "$2"
	[ "$6" = - ] || ip -n "$n2" addr add "$6" dev "$5"
	ip -n "$n1" link set "$2" up
	ip -n "$n2" link set "$5" up
}

lab_in() { # NS cmd...
	local ns=$LAB_PREFIX-$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# The process itself, not a wrapper shell: LAB_LAST_PID is what kill hits.
lab_bg() { # NS LOGNAME cmd...   (pid in LAB_LAST_PID)
	local ns=$1 log=$LAB_TMP/$2.log
	shift 2
	( exec nsenter --net="/run/netns/$LAB_PREFIX-$ns" -- "$@" ) >"$log" 2>&1 &
	LAB_LAST_PID=$!
	LAB_BG+=("$LAB_LAST_PID")
}

# Starts a command inside a namespace and a cgroup, in the background.
lab_bg_cg() { # NS CGROUP LOGNAME cmd...
	local ns=$1 cg=$2 log=$LAB_TMP/$3.log
	shift 3
	( echo $BASHPID >"$cg/cgroup.procs" && exec nsenter --net="/run/netns/$LAB_PREFIX-$ns" -- "$@" ) \
		>"$log" 2>&1 &
	LAB_LAST_PID=$!
	LAB_BG+=("$LAB_LAST_PID")
}

# Waits until a command succeeds, at most SECONDS.
lab_wait() { # SECONDS cmd...
	local limit=$(( $(date +%s) + $1 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$limit" ] || return 1
		sleep 0.1
	done
}

lab_cleanup() {
	local p ns d
	for p in "${LAB_BG[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for p in "${LAB_BG[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ -d "$LAB_PIN" ]; then
		"$LAB_BUILD/customsd" --detach-all --pin-dir "$LAB_PIN" >/dev/null 2>&1
		rm -rf "$LAB_PIN"
	fi
	for ns in "${LAB_NS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	if [ -d "$LAB_CG" ]; then
		find "$LAB_CG" -name cgroup.procs | while read -r f; do
			while read -r p; do
				echo "$p" >"$LAB_CGROOT$LAB_HOME_CG/cgroup.procs" 2>/dev/null ||
					kill -9 "$p" 2>/dev/null
			done <"$f"
		done
		find "$LAB_CG" -depth -type d | while read -r d; do
			rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d" 2>/dev/null; }
		done
	fi
	for d in "${LAB_MOUNTS[@]}"; do
		umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null
	done
	[ -n "${LAB_KEEP_TMP:-}" ] || rm -rf "$LAB_TMP"
}

# A serving host (namespace a, cs-a, SRV/24) and a client host (namespace
# b, cs-b) holding extra source addresses, one per country the test
# places; only the test's packets cross the link: permanent neighbours and
# no IPv6, so interface and customs counts can be compared.
lab_serving_pair() { # SRV CLIENT_IP...
	local srv=$1 ip
	shift
	lab_ns a
	lab_ns b
	lab_link a cs-a "$srv/24" b cs-b "${srv%.*}.2/24"
	lab_in a ip link set cs-a address 02:00:00:00:00:0a
	lab_in b ip link set cs-b address 02:00:00:00:00:0b
	lab_in b ip neigh replace "$srv" lladdr 02:00:00:00:00:0a dev cs-b nud permanent
	lab_in a ip neigh replace "${srv%.*}.2" lladdr 02:00:00:00:00:0b dev cs-a nud permanent
	for ip in "$@"; do
		lab_in b ip addr add "$ip/32" dev cs-b
		lab_in a ip route add "$ip/32" dev cs-a
		lab_in a ip neigh replace "$ip" lladdr 02:00:00:00:00:0b dev cs-a nud permanent
	done
	lab_in b sysctl -qw net.ipv6.conf.cs-b.disable_ipv6=1
	lab_in a sysctl -qw net.ipv6.conf.cs-a.disable_ipv6=1
}

# customsd in namespace a with $LAB_TMP/agent.yaml; its control socket
# must be $LAB_TMP/ctl.sock. Sets LAB_AGENT.
lab_ctl() { "$LAB_BUILD/customsctl" "$1" --socket "$LAB_TMP/ctl.sock" "${@:2}"; }
lab_start_agent() {
	lab_bg a customsd "$LAB_BUILD/customsd" --config "$LAB_TMP/agent.yaml"
	LAB_AGENT=$LAB_LAST_PID
	lab_wait 20 lab_ctl status || {
		cat "$LAB_TMP/customsd.log"
		lab_fail "customsd did not come up"
	}
}

# One figure of `customsctl stats --json`, summed: ingress unless DIR given.
lab_stat() { # TENANT COUNTRY LAYER VERDICT FIELD [DIR]
	lab_ctl stats --json | jq --arg t "$1" --arg c "$2" --arg l "$3" --arg v "$4" \
		--arg f "$5" --arg d "${6:-ingress}" \
		'[.[] | select(.tenant==$t and .country==$c and .direction==$d and .layer==$l and .verdict==$v) | .[$f]] | add // 0'
}

# Waits up to 15 s for a command's output to be exactly WANT: counts only
# grow and reach the totals within an interval or two (more when loaded).
lab_expect() { # WANT LABEL cmd...
	local want=$1 label=$2 got limit=$(( $(date +%s) + 15 ))
	shift 2
	while got=$("$@"); [ "$got" != "$want" ]; do
		if [ "$(date +%s)" -ge "$limit" ]; then
			echo "--- customsctl status"
			lab_ctl status 2>&1 | head -n 20
			echo "--- customsd log"
			tail -n 30 "$LAB_TMP/customsd.log"
			lab_fail "$label: got $got, expected $want"
		fi
		sleep 0.2
	done
	echo "ok: $label = $want"
}

# A CA, a collector certificate for IP (default 127.0.0.1) and a client
# certificate naming NODE (the collector binds the two), all Ed25519, in DIR:
# ca.crt, server.{crt,key}, client.{crt,key}.
lab_certs() { # DIR NODE [COLLECTOR_IP]
	(
		set -e
		cd "$1"
		exec >openssl.log 2>&1
		openssl req -x509 -newkey ed25519 -nodes -keyout ca.key -out ca.crt \
			-subj /CN=customs-lab-ca -days 2
		printf 'subjectAltName=IP:%s\n' "${3:-127.0.0.1}" >san.ext
		openssl req -newkey ed25519 -nodes -keyout server.key -out server.csr -subj /CN=collector
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out server.crt -days 2 -extfile san.ext
		openssl req -newkey ed25519 -nodes -keyout client.key -out client.csr -subj "/CN=$2"
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out client.crt -days 2
	) || { cat "$1/openssl.log"; lab_fail "openssl failed (see $1/openssl.log)"; }
}

# A node that ships telemetry: its signing key in $LAB_TMP/node, trusted in
# $LAB_TMP/col/keys, TLS certificates naming NODE, and a collector in
# namespace a on 127.0.0.1:PORT. lab_collector_yaml prints the agent
# configuration's collector section for it.
lab_telemetry() { # NODE PORT
	mkdir -p "$LAB_TMP/node" "$LAB_TMP/col/keys"
	"$LAB_BUILD/customsctl" keygen --out "$LAB_TMP/node" >/dev/null || lab_fail "keygen"
	cp "$LAB_TMP"/node/*.pub "$LAB_TMP/col/keys/"
	lab_certs "$LAB_TMP/col" "$1"
	lab_start_collector a "$LAB_TMP/col" "$2"
}

lab_collector_yaml() { # PORT
	cat <<EOC
collector:
  address: 127.0.0.1:$1
  ca: col/ca.crt
  cert: col/client.crt
  key: col/client.key
  signing_key: node/node.key
EOC
}

# One model of a policy (under "models:"): NAME served at ENDPOINT
# (ip:port/proto) in tier TIER by tenant TENANT, from $LAB_CG/NAME.
lab_model_yaml() { # NAME TIER ENDPOINT TENANT
	cat <<EOF
  - name: $1
    tier: $2
    endpoints: ["$3"]
    tenants:
      - name: $4
        cgroup: $LAB_CG_REL/$1
EOF
}

# The agent configuration of a lab run: policy.yaml and overrides.txt in
# $LAB_TMP, native XDP on cs-a, intervals of INTERVAL (1s), metrics on
# METRICS (none), and telemetry to the collector on 127.0.0.1:PORT
# (lab_telemetry), none when PORT is empty.
lab_agent_yaml() { # DB PORT [INTERVAL] [METRICS]
	cat <<EOC
policy: policy.yaml
geo:
  database: $1
  overrides: [overrides.txt]
dataplane:
  pin_dir: $LAB_PIN
  cgroup: $LAB_CG
  xdp:
    - interface: cs-a
      mode: native
state_dir: state
control_socket: $LAB_TMP/ctl.sock
interval: ${3:-1s}
metrics:
  listen: "${4:-}"
EOC
	[ -z "$2" ] || lab_collector_yaml "$2"
}

# customs-collector in namespace NS on 127.0.0.1:PORT, trusting the node
# keys in DIR/keys, storing in DIR/store.db; certificates from lab_certs.
lab_start_collector() { # NS DIR PORT
	cat >"$2/collector.yaml" <<EOC
listen: 127.0.0.1:$3
tls:
  cert: $2/server.crt
  key: $2/server.key
  ca: $2/ca.crt
keys: $2/keys
store: $2/store.db
EOC
	lab_bg "$1" collector "$LAB_BUILD/customs-collector" serve --config "$2/collector.yaml"
	LAB_COLLECTOR=$LAB_LAST_PID
	lab_wait 10 lab_in "$1" bash -c "ss -tln | grep -q 127.0.0.1:$3" ||
		lab_fail "customs-collector did not start (see $LAB_TMP/collector.log)"
}
