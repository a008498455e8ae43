#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The dnsmasq configurations in tests/golden/dnsmasq/ (which the unit test
# test_dnsmasq_conf generates byte for byte) are ones dnsmasq itself accepts: each .conf
# passes `dnsmasq --test`, each line of a .hosts file passes as a dhcp-host= option and each
# line of an .opts file as a dhcp-option= (dnsmasq reads those files only when it runs, so
# --test alone would not look at them).
# Only parses files: no namespace, no network object, no dnsmasq left running.
set -u
cd "$(dirname "$0")/../.."

DNSMASQ=$(command -v dnsmasq) || { echo "dnsmasq not installed (dnsmasq-base)"; exit 77; }
GOLDEN=tests/golden/dnsmasq
T=$(mktemp -d /tmp/vnet-dnsmasq-conf.XXXXXX)
trap 'rm -rf "$T"' EXIT
failed=0

check() { # label file
	local out
	out=$("$DNSMASQ" --test --conf-file="$2" 2>&1)
	if [ $? -eq 0 ] && [[ $out == *"syntax check OK"* ]]; then
		echo "ok    $1"
	else
		echo "FAIL  $1: $out"
		failed=1
	fi
}

# The check must be able to fail, or the passes below prove nothing.
printf 'no-such-directive\n' >"$T/bad.conf"
if "$DNSMASQ" --test --conf-file="$T/bad.conf" >/dev/null 2>&1; then
	echo "FAIL  dnsmasq --test accepted an unknown directive"
	exit 1
fi

n=0
for conf in "$GOLDEN"/*.conf; do
	[ -f "$conf" ] || continue
	n=$((n + 1))
	check "$conf" "$conf"
	# The hosts and options files as dnsmasq would see them: their lines are dhcp-host and
	# dhcp-option values, checked together with the configuration they belong to (the
	# range makes the subnet known).
	for kind in hosts:dhcp-host opts:dhcp-option; do
		extra=${conf%.conf}.${kind%%:*}
		[ -f "$extra" ] || continue
		{
			cat "$conf"
			sed -e "/^#/d" -e "s/^/${kind#*:}=/" "$extra"
		} >"$T/with-extra.conf"
		check "$extra" "$T/with-extra.conf"
	done
done
[ $n -gt 0 ] || { echo "FAIL  no golden .conf files in $GOLDEN"; exit 1; }
exit $failed
