#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Drill: a corrupt geo database is rolled out under traffic. A truncated
# MMDB and an override file with a bad line are each refused by the reload,
# naming the file; the geo table in force does not change (IR stays denied
# at XDP, AE served, every stored batch carries the old geo hash), status
# reports the failure, and telemetry loses nothing. Restoring the files
# reloads cleanly.
set -u
. "$(dirname "$0")/../lib/drill.sh"

N=20
drill_init geo
drill_start_collector
drill_start_agent
GEO=$(ctl status --json | jq -r .geo.sha256)
[ -n "$GEO" ] && [ "$GEO" != null ] || lab_fail "status shows no geo hash"
echo "geo database in force: ${GEO:0:16}"

lab_say "reload a truncated database and a bad override file while AE and IR send"
drill_traffic_start 20 $N
cp "$W/geo.mmdb" "$W/geo.good"
head -c 100000 "$W/geo.good" >"$W/geo.mmdb"
out=$(ctl reload 2>&1) && lab_fail "a truncated MMDB was accepted"
echo "$out" | grep -q 'geo\.mmdb' || lab_fail "the refusal does not name the database: $out"
echo "refused: $out"
cp "$W/geo.good" "$W/geo.mmdb"
cp "$W/overrides.txt" "$W/overrides.good"
echo "10.0.0.0/33 UK" >>"$W/overrides.txt"
out=$(ctl reload 2>&1) && lab_fail "a corrupt override file was accepted"
echo "$out" | grep -q 'overrides\.txt:' || lab_fail "the refusal does not name the file: $out"
echo "refused: $out"
ctl status >/dev/null && lab_fail "status does not report the failed reload"
[ "$(ctl status --json | jq -r .geo.sha256)" = "$GEO" ] || lab_fail "the geo table in force changed"
echo "ok: status degraded with the reason; the old geo table (${GEO:0:16}) in force"
drill_enforcement_held

lab_say "restore the files: the reload succeeds, telemetry carried only the good table"
cp "$W/overrides.good" "$W/overrides.txt"
ctl reload || lab_fail "reload of the restored files"
ctl status >/dev/null || lab_fail "status still degraded after a good reload"
[ "$(ctl status --json | jq -r .geo.sha256)" = "$GEO" ] || lab_fail "the restored files hash differently"
drill_settle
hashes=$(drill_store "SELECT group_concat(DISTINCT geo_hash) FROM batches")
[ "$hashes" = "$GEO" ] || lab_fail "stored batches carry geo hashes $hashes, expected only $GEO"
echo "ok: every stored batch carries geo table ${GEO:0:16}"
drill_check_chain 1
echo "pass"
