#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Provisions one VM of the Vagrant lab (vagrant/Vagrantfile) as a real site
# would be: scripts/setup, `make install`, configuration in /etc/customs,
# and the systemd units. Runs as root inside the VM, from the repository
# shared at /vagrant; idempotent, so `vagrant provision` may run it again.
#
#   provision.sh node NAME COUNTRY POLICY COLLECTOR_IP
#   provision.sh collector collector - - COLLECTOR_IP
#
# The lab CA and the node public keys live in /vagrant/vagrant/.pki (the
# shared folder, git-ignored): the first VM creates the CA, each node has
# its certificate signed and publishes its telemetry key there, and the
# collector trusts the keys it finds when it starts.
set -euo pipefail

role=$1 name=$2 country=$3 policy=$4 collector_ip=$5
src=/vagrant
pki=$src/vagrant/.pki
say() { echo "provision $name: $*"; }

say "scripts/setup and the build"
cd "$src"
scripts/setup
make -j"$(nproc)" build
make install PREFIX=/usr/local

mkdir -p "$pki/keys"
if [ ! -f "$pki/ca.crt" ]; then
	say "creating the lab CA"
	openssl req -x509 -newkey ed25519 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" \
		-subj /CN=customs-vagrant-lab-ca -days 365 2>/dev/null
fi
sign() { # CN OUT-PREFIX [SAN]
	openssl req -newkey ed25519 -nodes -keyout "$2.key" -out "$2.csr" -subj "/CN=$1" 2>/dev/null
	if [ -n "${3:-}" ]; then
		echo "subjectAltName=$3" >"$2.ext"
		openssl x509 -req -in "$2.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
			-out "$2.crt" -days 365 -extfile "$2.ext" 2>/dev/null
	else
		openssl x509 -req -in "$2.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
			-out "$2.crt" -days 365 2>/dev/null
	fi
	chmod 0600 "$2.key"
}

install -d -m 0700 /etc/customs

provision_node() {
	local node_id
	node_id=$(awk '/^node:/ {n = 1} n && $1 == "id:" {print $2; exit}' "policies/$policy")
	say "node $node_id in $country, policy policies/$policy"
	install -m 0644 "policies/$policy" /etc/customs/policy.yaml
	install -d -m 0755 /var/lib/customs
	cp data/geo/geo-whois-asn-country.mmdb /var/lib/customs/geo.mmdb
	[ -f /etc/customs/tls/node.crt ] || {
		install -d -m 0700 /etc/customs/tls
		cp "$pki/ca.crt" /etc/customs/tls/ca.crt
		sign "$node_id" /etc/customs/tls/node
	}
	[ -f /etc/customs/keys/node.key ] || customsctl keygen --out /etc/customs/keys >/dev/null
	cp /etc/customs/keys/*.pub "$pki/keys/"
	# The tenant cgroups the example policies name, so the agent meters them.
	mkdir -p /sys/fs/cgroup/customs.slice
	cat >/etc/customs/agent.yaml <<EOF
# Written by vagrant/provision.sh; see docs/agent.md.
node:
  host_country: $country
policy: policy.yaml
geo:
  database: /var/lib/customs/geo.mmdb
dataplane:
  pin_dir: /sys/fs/bpf/customs
  cgroup: /sys/fs/cgroup/customs.slice
  xdp:
    # The lab network. Generic mode: virtual NICs differ in native XDP
    # support, and customs never falls back silently.
    - interface: eth1
      mode: generic
state_dir: /var/lib/customs
interval: 10s
collector:
  address: $collector_ip:7443
  ca: tls/ca.crt
  cert: tls/node.crt
  key: tls/node.key
  signing_key: keys/node.key
EOF
	customsd --check --config /etc/customs/agent.yaml
	systemctl daemon-reload
	systemctl enable --now customsd.service
	systemctl restart customsd.service
	say "customsd running: customsctl status"
}

provision_collector() {
	say "collector on $collector_ip:7443, store /var/lib/customs-collector/collector.db"
	install -d -m 0700 /etc/customs/tls /var/lib/customs-collector
	[ -f /etc/customs/tls/server.crt ] || {
		cp "$pki/ca.crt" /etc/customs/tls/ca.crt
		sign collector /etc/customs/tls/server "IP:$collector_ip"
	}
	install -d -m 0700 /etc/customs/node-keys
	cp "$pki"/keys/*.pub /etc/customs/node-keys/ 2>/dev/null ||
		say "no node keys yet: provision the nodes first, then 'vagrant provision collector'"
	cat >/etc/customs/collector.yaml <<EOF
# Written by vagrant/provision.sh; see docs/telemetry.md.
listen: $collector_ip:7443
tls:
  cert: tls/server.crt
  key: tls/server.key
  ca: tls/ca.crt
keys: node-keys
store: /var/lib/customs-collector/collector.db
EOF
	install -m 0644 "$src/vagrant/customs-collector.service" /etc/systemd/system/
	systemctl daemon-reload
	systemctl enable --now customs-collector.service
	systemctl restart customs-collector.service
}

case $role in
node) provision_node ;;
collector) provision_collector ;;
*) echo "provision.sh: unknown role '$role' (node or collector)" >&2; exit 2 ;;
esac
