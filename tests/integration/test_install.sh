#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make install` into a temporary DESTDIR: binaries, hooks, configuration, the systemd unit
# (which systemd-analyze verify accepts), sysusers and tmpfiles entries, the init script.
# Touches nothing outside its temporary directory; no network namespace is needed.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
T=$(mktemp -d /tmp/vnet-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
die() {
	echo "FAIL: $*" >&2
	exit 1
}

make --no-print-directory -s install-sysv B="$B" PREFIX=/usr DESTDIR="$T/root" >"$T/log" 2>&1 ||
	{ cat "$T/log"; die "make install failed"; }
for f in usr/sbin/vnetd usr/bin/vnetctl etc/vnet/vnetd.conf etc/vnet/networks/default.conf \
	lib/systemd/system/vnetd.service usr/lib/sysusers.d/vnet.conf usr/lib/tmpfiles.d/vnet.conf \
	etc/init.d/vnetd; do
	[ -e "$T/root/$f" ] || die "$f not installed"
done
for hook in vnet-ifup vnet-ifdown vnet-bridge-helper; do
	[ "$(readlink "$T/root/usr/libexec/$hook")" = /usr/bin/vnetctl ] || die "$hook is not a link to vnetctl"
done
grep -q '^ExecStart=/usr/sbin/vnetd --foreground$' "$T/root/lib/systemd/system/vnetd.service" ||
	die "the unit's ExecStart does not follow SBINDIR"
grep -q '^DAEMON=/usr/sbin/vnetd$' "$T/root/etc/init.d/vnetd" || die "the init script's DAEMON"
sh -n "$T/root/etc/init.d/vnetd" || die "the init script does not parse"
grep -q '^g vnet ' "$T/root/usr/lib/sysusers.d/vnet.conf" || die "no vnet group in sysusers"

# An existing configuration is the admin's: a second install leaves it alone.
echo "# mine" >>"$T/root/etc/vnet/networks/default.conf"
make --no-print-directory -s install B="$B" PREFIX=/usr DESTDIR="$T/root" >"$T/log" 2>&1 ||
	die "second make install failed"
grep -q '# mine' "$T/root/etc/vnet/networks/default.conf" || die "install overwrote default.conf"

if command -v systemd-analyze >/dev/null; then
	# verify wants ExecStart to exist: point it at the built binary.
	sed "s|^ExecStart=/usr/sbin/vnetd|ExecStart=$PWD/$B/vnetd|" \
		"$T/root/lib/systemd/system/vnetd.service" >"$T/vnetd.service"
	systemd-analyze verify "$T/vnetd.service" >"$T/verify" 2>&1 || {
		cat "$T/verify"
		die "systemd-analyze verify failed"
	}
	[ -s "$T/verify" ] && {
		cat "$T/verify"
		die "systemd-analyze verify warned"
	}
else
	echo "# systemd-analyze not installed: unit not verified"
fi
echo ok
