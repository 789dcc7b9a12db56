#!/usr/bin/env bash
# customsctl geo from the command line: lookup from arguments and stdin,
# compile and info, the exit codes for bad input (1) and bad usage (2),
# and --kernel answering like the mirror. Files live in a private
# temporary directory; the kernel part skips without BPF rights.
set -u
build=${CUSTOMS_BUILD:-build}
ctl=$build/customsctl
tmp=$(mktemp -d /tmp/customs-test-geocli-$$-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$tmp/base.csv" <<'CSV'
198.51.100.0,198.51.100.255,NL
2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,US
CSV
cat >"$tmp/lab.txt" <<'TXT'
# lab addresses
192.0.2.0/24    DE
198.18.0.0/15   FR
2001:db8:1::/48 CA
TXT
printf '192.0.2.0/24 UK\n' >"$tmp/bad.txt"

want=$(printf '192.0.2.7\tDE\n198.19.0.1\tFR\n198.51.100.9\tNL\n2001:db8:1::1\tCA\n2001:db8:2::1\tUS\n::ffff:192.0.2.1\tDE\n203.0.113.1\tZZ')
ips="192.0.2.7 198.19.0.1 198.51.100.9 2001:db8:1::1 2001:db8:2::1 ::ffff:192.0.2.1 203.0.113.1"

# shellcheck disable=SC2086
got=$("$ctl" geo lookup --db "$tmp/base.csv" --override "$tmp/lab.txt" $ips) || fail "lookup exit $?"
[ "$got" = "$want" ] || fail "lookup from arguments: got '$got'"
got=$(echo "$ips" | tr ' ' '\n' | "$ctl" geo lookup --db "$tmp/base.csv" --override "$tmp/lab.txt") ||
	fail "stdin lookup exit $?"
[ "$got" = "$want" ] || fail "lookup from stdin: got '$got'"

"$ctl" geo compile --db "$tmp/base.csv" --override "$tmp/lab.txt" --out "$tmp/t.geo" || fail "compile"
# shellcheck disable=SC2086
got=$("$ctl" geo lookup --db "$tmp/t.geo" $ips) || fail "table lookup"
[ "$got" = "$want" ] || fail "lookup from the compiled table: got '$got'"
"$ctl" geo info "$tmp/t.geo" | grep -q '^format *compiled table' || fail "info format"
"$ctl" geo info "$tmp/t.geo" | grep -qE '^countries +5$' || fail "info countries"

err=$("$ctl" geo lookup --db "$tmp/base.csv" --override "$tmp/bad.txt" 192.0.2.1 2>&1)
[ $? -eq 1 ] || fail "bad override must exit 1"
echo "$err" | grep -q "bad.txt:1: error: unknown country \"UK\" (did you mean \"GB\"?)" ||
	fail "bad override message: $err"
printf 'not-an-mmdb' >"$tmp/x.mmdb"
printf '\xab\xcd\xefMaxMind.com' >>"$tmp/x.mmdb"
"$ctl" geo lookup --db "$tmp/x.mmdb" 1.2.3.4 >/dev/null 2>&1
[ $? -eq 1 ] || fail "corrupt MMDB must exit 1"
"$ctl" geo lookup --db "$tmp/base.csv" nonsense >/dev/null 2>&1
[ $? -eq 1 ] || fail "a bad address must exit 1"
"$ctl" geo lookup >/dev/null 2>&1
[ $? -eq 2 ] || fail "missing --db must exit 2"
"$ctl" geo --help | grep -q '^Usage: customsctl geo' || fail "--help"

if [ "$(id -u)" != 0 ]; then
	echo "skipped: --kernel needs root (BPF)"
	exit 77
fi
# shellcheck disable=SC2086
got=$("$ctl" geo lookup --kernel --db "$tmp/t.geo" $ips) || fail "kernel lookup exit $?"
[ "$got" = "$want" ] || fail "--kernel: got '$got'"
echo "ok"
