# SPDX-License-Identifier: BSD-2-Clause
# Labelled query-pattern scenarios for the lab (docs/query-patterns.md):
# customs-lab-client runs from source addresses that the lab's geo and AS
# override files place in countries and autonomous systems. Every scenario
# is bounded in requests and in seconds, prints its label when it starts,
# and runs in the client namespace through lab_in (tests/lib/lab.sh).
#
#   . tests/lib/scenarios.sh
#   scen_init NS DST_IP:PORT
#   scen_addresses              # every source address a scenario uses
#   scen_users SECONDS &        # ordinary interactive users, three countries
#   scen_distill SECONDS        # one hosting prefix harvesting long answers
#   scen_dispersed SECONDS      # eight hosting prefixes, small similar volumes
#   scen_vpn_hop SECONDS        # denied from IR, then the same client via a VPN
#
# The addresses, their countries and ASes (scen_geo_overrides and
# scen_asn_overrides write the two override files):
#   users      192.0.2.10 DE AS64510, 198.51.100.10 FR AS64511,
#              203.0.113.10 JP AS64512 (access networks)
#   distill    198.19.1.10 SG AS64501 "Example Cloud Hosting"
#   dispersed  198.19.10.10 .. 198.19.17.10 US AS64502 "Rent-a-Server Cloud"
#   vpn hop    198.19.30.10 IR AS64520 (denied), then 198.19.31.10 NL
#              AS64503 "Example VPN Exit"

SCEN_USERS="192.0.2.10 198.51.100.10 203.0.113.10"
SCEN_DISTILL=198.19.1.10
SCEN_DISPERSED="198.19.10.10 198.19.11.10 198.19.12.10 198.19.13.10 198.19.14.10 198.19.15.10 198.19.16.10 198.19.17.10"
SCEN_DENIED=198.19.30.10
SCEN_VPN=198.19.31.10

scen_init() { # NS DST
	SCEN_NS=$1
	SCEN_DST=$2
}

scen_addresses() {
	echo $SCEN_USERS $SCEN_DISTILL $SCEN_DISPERSED $SCEN_DENIED $SCEN_VPN
}

scen_geo_overrides() {
	cat <<EOF
192.0.2.0/24 DE
198.51.100.0/24 FR
203.0.113.0/24 JP
198.19.1.0/24 SG
198.19.10.0/23 US
198.19.12.0/22 US
198.19.16.0/23 US
198.19.30.0/24 IR
198.19.31.0/24 NL
EOF
}

scen_asn_overrides() {
	local i
	cat <<EOF
192.0.2.0/24 64510 DE Example Telekom Access
198.51.100.0/24 64511 FR Example Telecom Residential
203.0.113.0/24 64512 JP Example Broadband
198.19.1.0/24 64501 SG Example Cloud Hosting
198.19.30.0/24 64520 IR Example Iran Telecom
198.19.31.0/24 64503 NL Example VPN Exit
EOF
	for i in 10 11 12 13 14 15 16 17; do
		echo "198.19.$i.0/24 64502 US Rent-a-Server Cloud"
	done
}

# One client run; its exit status is the network's answer (see the client).
scen_request() { # SRC REQUESTS TOKENS
	lab_in "$SCEN_NS" "$LAB_BUILD/customs-lab-client" tcp --src "$1" --dst "$SCEN_DST" \
		--requests "$2" --tokens "$3" >/dev/null 2>&1
}

# Runs CMD every GAP seconds for at most SECONDS (and at most 10,000 times).
scen_every() { # SECONDS GAP cmd...
	local end=$(( $(date +%s) + $1 )) gap=$2 n=0
	shift 2
	while [ "$(date +%s)" -lt "$end" ] && [ $n -lt 10000 ]; do
		"$@"
		n=$((n + 1))
		sleep "$gap"
	done
}

# People asking a few short questions now and then, each at their own pace.
scen_users() { # SECONDS
	echo "scenario: ordinary users (DE, FR, JP access networks) for $1 s"
	scen_every "$1" 0.7 scen_request 192.0.2.10 1 30 &
	scen_every "$1" 1.1 scen_request 198.51.100.10 2 20 &
	scen_every "$1" 1.9 scen_request 203.0.113.10 1 60 &
	wait
}

# A distillation client: long answers back to back from one hosting prefix.
scen_distill() { # SECONDS
	echo "scenario: distillation from $SCEN_DISTILL (SG, hosting AS64501) for $1 s"
	scen_every "$1" 0.05 scen_request "$SCEN_DISTILL" 4 1500
}

# The same harvest spread thin over eight hosting prefixes.
scen_dispersed() { # SECONDS
	local ip
	echo "scenario: dispersed campaign over 8 hosting prefixes (US, AS64502) for $1 s"
	for ip in $SCEN_DISPERSED; do
		scen_every "$1" 0.5 scen_request "$ip" 1 150 &
	done
	wait
}

# Refused from a prohibited country, the client comes back through a VPN.
scen_vpn_hop() { # SECONDS
	echo "scenario: denied from $SCEN_DENIED (IR), then via VPN $SCEN_VPN (NL) for $1 s"
	scen_request "$SCEN_DENIED" 1 30
	scen_every "$1" 0.5 scen_request "$SCEN_VPN" 1 40
}
