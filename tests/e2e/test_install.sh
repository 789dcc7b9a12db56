#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `make install` into a scratch DESTDIR: the daemons, tools, systemd unit,
# example configuration and docs land where a node expects them; the unit
# passes systemd-analyze verify with only the capabilities BPF needs; the
# installed customsd validates the shipped example configuration, with its
# database and state paths pointed at test files and a shipped policy.
set -u
. "$(dirname "$0")/../lib/lab.sh"

lab_init install
D=$LAB_TMP/root
make -C "$LAB_TOP" --no-print-directory install SKIP_SETUP=1 BUILD="$LAB_BUILD" \
	DESTDIR="$D" PREFIX=/usr >"$LAB_TMP/make.log" 2>&1 || { cat "$LAB_TMP/make.log"; lab_fail "make install"; }
for f in usr/sbin/customsd usr/bin/customsctl usr/bin/customs-collector usr/bin/customs-audit \
	usr/lib/systemd/system/customsd.service etc/customs/agent.yaml.example \
	usr/share/doc/customs/agent.md; do
	[ -e "$D/$f" ] || lab_fail "make install did not install /$f"
done
[ -x "$D/usr/sbin/customsd" ] || lab_fail "customsd is not executable"
for b in usr/sbin/customsd usr/bin/customsctl usr/bin/customs-collector usr/bin/customs-audit; do
	"$D/$b" --help >/dev/null || lab_fail "$b --help"
	"$D/$b" --version | grep -q . || lab_fail "$b --version"
done
unit=$D/usr/lib/systemd/system/customsd.service
grep -q '^ExecStart=/usr/sbin/customsd --config /etc/customs/agent.yaml$' "$unit" ||
	lab_fail "ExecStart does not follow PREFIX"
grep -q '^CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_PERFMON CAP_SYS_RESOURCE$' "$unit" ||
	lab_fail "the unit's capabilities changed"
grep -q '^KillMode=process$' "$unit" || lab_fail "stopping the unit must not kill enforcement"
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/sbin/customsd|$D/usr/sbin/customsd|" "$unit" >"$LAB_TMP/customsd.service"
	systemd-analyze verify "$LAB_TMP/customsd.service" || lab_fail "systemd-analyze verify"
fi
mkdir -p "$LAB_TMP/etc"
sed -e "s|/var/lib/customs/geo.table|$LAB_TOP/data/geo/geo-whois-asn-country.mmdb|" \
	-e "s|^state_dir: .*|state_dir: $LAB_TMP/state|" \
	"$D/etc/customs/agent.yaml.example" >"$LAB_TMP/etc/agent.yaml"
cp "$LAB_TOP/policies/host-partner.yaml" "$LAB_TMP/etc/policy.yaml"
printf '# site overrides\n' >"$LAB_TMP/etc/local.txt"
"$D/usr/sbin/customsd" --check --config "$LAB_TMP/etc/agent.yaml" ||
	lab_fail "the shipped example configuration does not validate"
echo "ok: installed files, --help/--version, unit verified, example config valid"
