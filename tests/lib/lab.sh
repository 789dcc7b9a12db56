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
#
# Processes enter a namespace with nsenter --net, not `ip netns exec`,
# which would remount /sys and hide bpffs and the cgroup2 mount.

LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_BUILD=${CUSTOMS_BUILD:-build}
[[ $LAB_BUILD = /* ]] || LAB_BUILD=$LAB_TOP/$LAB_BUILD
LAB_NS=()
LAB_BG=()

lab_fail() { echo "FAIL: $*" >&2; exit 1; }
lab_skip() { echo "skip: $*"; exit 77; }
lab_say() { echo "== $*"; }

lab_init() { # TAG
	local tag=$1 m
	[ "$(id -u)" = 0 ] || lab_skip "needs root (namespaces, cgroups, BPF)"
	command -v nsenter >/dev/null || lab_skip "needs nsenter (util-linux)"
	LAB_PREFIX=customs-$tag-$$
	m=$(awk '$3=="cgroup2"{print $2; exit}' /proc/self/mounts)
	[ -n "$m" ] || lab_skip "no cgroup2 mount"
	LAB_CGROOT=$m
	LAB_CG=$m/customs-test-$tag-$$
	LAB_CG_REL=/customs-test-$tag-$$
	LAB_PIN=/sys/fs/bpf/customs-test-$tag-$$
	LAB_TMP=$(mktemp -d "/tmp/customs-test-$tag-$$.XXXXXX")
	LAB_HOME_CG=$(awk -F: '$1=="0"{print $3}' /proc/self/cgroup)
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	mkdir -p "$LAB_CG" || lab_fail "cannot create cgroup $LAB_CG"
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

lab_bg() { # NS LOGNAME cmd...   (pid in LAB_LAST_PID)
	local ns=$1 log=$LAB_TMP/$2.log
	shift 2
	lab_in "$ns" "$@" >"$log" 2>&1 &
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
	[ -n "${LAB_KEEP_TMP:-}" ] || rm -rf "$LAB_TMP"
}
