#!/usr/bin/env bash
# customsctl policy as a script sees it: exit codes (0 ok, 1 policy
# error, 2 usage), answers on stdout and only there, errors and warnings
# on stderr, and each subcommand's --help. Needs no root and no BPF.
set -u
bin=${CUSTOMS_BUILD:-build}/customsctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

expect() { # label want_rc cmd...
	local label=$1 want=$2 rc
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL $label: exit $rc, expected $want"; cat "$tmp/err"
		fails=$((fails + 1))
	fi
}

has() { # label file text
	if ! grep -qF -- "$3" "$2"; then
		echo "FAIL $1: $2 lacks '$3'"; sed 's/^/    /' "$2"
		fails=$((fails + 1))
	fi
}

empty() { # label file
	if [ -s "$2" ]; then
		echo "FAIL $1: $2 not empty"; sed 's/^/    /' "$2"
		fails=$((fails + 1))
	fi
}

expect "check examples" 0 "$bin" policy check policies/tiered-export.yaml \
	policies/host-partner.yaml policies/host-partner-revoked.yaml
has "check says ok" "$tmp/out" "policies/host-partner.yaml: ok: 4 models, 5 tenants, 6 endpoints, 2 guarantees; hash "
empty "check quiet on stderr" "$tmp/err"

printf 'node: {country: UK}\n' >"$tmp/bad.yaml"
expect "check bad country" 1 "$bin" policy check "$tmp/bad.yaml" policies/host-partner.yaml
has "error on stderr" "$tmp/err" "$tmp/bad.yaml:1:17: error: invalid country code \"UK\" (did you mean \"GB\"?)"
has "good file still checked" "$tmp/out" "policies/host-partner.yaml: ok"

expect "check missing file" 1 "$bin" policy check "$tmp/none.yaml"
has "missing named" "$tmp/err" "$tmp/none.yaml: error: cannot open"

expect "explain" 0 "$bin" policy explain policies/tiered-export.yaml \
	--model frontier-large --country IN --direction ingress
has "explain verdict" "$tmp/out" "model frontier-large, country IN, ingress: allow"
has "explain chain" "$tmp/out" "2. policies/tiered-export.yaml:80:9: model \"frontier-large\" exception: allow IN"

expect "explain json" 0 "$bin" policy explain policies/tiered-export.yaml \
	--model frontier-research --country FR --direction egress --json
has "explain json" "$tmp/out" '{"model":"frontier-research","country":"FR","direction":"egress","verdict":"audit","steps":[{"line":61,"col":16,"rule":"tier \"prohibited\" egress default: deny","verdict":"deny","decisive":true},{"line":89,"col":11,"rule":"mode audit (set on the model): the deny is counted as audit and the traffic passes","verdict":"audit","decisive":false}]}'

expect "explain unknown model" 1 "$bin" policy explain policies/tiered-export.yaml \
	--model nope --country IN
expect "explain bad direction" 2 "$bin" policy explain policies/tiered-export.yaml \
	--model frontier-large --country IN --direction sideways
expect "explain bad country" 2 "$bin" policy explain policies/tiered-export.yaml \
	--model frontier-large --country UK
has "explain suggests" "$tmp/err" "(did you mean GB?)"

expect "diff" 0 "$bin" policy diff policies/host-partner.yaml policies/host-partner-revoked.yaml
if ! cmp -s "$tmp/out" tests/unit/golden/policy/host-partner-revoked.diff; then
	echo "FAIL diff output differs from the golden"; fails=$((fails + 1))
fi
expect "diff usage" 2 "$bin" policy diff policies/host-partner.yaml

expect "compile json" 0 "$bin" policy compile policies/host-partner.yaml --json
if ! cmp -s "$tmp/out" tests/unit/golden/policy/host-partner.json; then
	echo "FAIL compile --json differs from the golden"; fails=$((fails + 1))
fi
expect "compile canonical" 0 "$bin" policy compile --canonical policies/host-partner.yaml
has "canonical header" "$tmp/out" "customs-policy-canonical 1"

mkdir -p "$tmp/cg/serving/a" "$tmp/cg/other"
expect "cgroups" 0 "$bin" policy cgroups policies/tiered-export.yaml --mount "$tmp/cg"
empty "cgroups: nothing matches yet" "$tmp/out"
mkdir -p "$tmp/cg/serving/frontier-large/x"
expect "cgroups match" 0 "$bin" policy cgroups policies/tiered-export.yaml --mount "$tmp/cg"
has "cgroups line" "$tmp/out" "$(printf '\tfrontier\tfrontier-large\t/serving/frontier-large/x')"
expect "cgroups no mount" 1 "$bin" policy cgroups policies/tiered-export.yaml --mount "$tmp/none"

for sub in check explain diff compile cgroups; do
	expect "$sub --help" 0 "$bin" policy "$sub" --help
	has "$sub help text" "$tmp/out" "Usage: customsctl policy"
done
expect "no subcommand" 2 "$bin" policy
expect "unknown subcommand" 2 "$bin" policy frobnicate

[ "$fails" -eq 0 ] && echo "all policy CLI checks passed"
exit $((fails > 0))
