#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The Vagrant lab's files are valid: `vagrant validate` accepts
# vagrant/Vagrantfile (every provisioner script it names exists) and the
# provisioning script parses. --ignore-provider, because a test machine
# has no hypervisor; Vagrant's state goes to a scratch directory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
command -v vagrant >/dev/null || { echo "FAIL: vagrant is not installed (scripts/setup installs it)"; exit 1; }
tmp=$(mktemp -d /tmp/customs-test-vagrant-$$.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bash -n "$top/vagrant/provision.sh" || { echo "FAIL: vagrant/provision.sh does not parse"; exit 1; }
cd "$top/vagrant"
if ! VAGRANT_HOME=$tmp/home VAGRANT_DOTFILE_PATH=$tmp/dot VAGRANT_CHECKPOINT_DISABLE=1 \
	vagrant validate --ignore-provider >"$tmp/out" 2>&1; then
	cat "$tmp/out"
	echo "FAIL: vagrant validate refused vagrant/Vagrantfile"
	exit 1
fi
cat "$tmp/out"
echo "pass: $(vagrant --version) validates vagrant/Vagrantfile"
