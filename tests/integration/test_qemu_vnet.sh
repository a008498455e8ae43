#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end with a real QEMU guest (TCG) on a vnet network, joined the three ways VMMs use:
#   1. a TAP vnetd made (vnetctl attach), opened by name: ifname=…,script=no
#   2. the same, through QEMU's script=vnet-ifup / downscript=vnet-ifdown hooks
#   3. -netdev bridge,helper=vnet-bridge-helper, QEMU run as a user the network allows
# Each time the guest's NIC has the MAC vnetd assigned and the guest pings the gateway.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu.sh"

qemu_available || {
	echo "SKIP: $QEMU_UNAVAILABLE"
	exit 77
}

setup_host
# The temporary directory must be traversable for the unprivileged QEMU and its helper.
chmod 755 "$T"
mkdir -p "$T/bin"
for hook in vnet-ifup vnet-ifdown vnet-bridge-helper; do ln -s "$VNETCTL" "$T/bin/$hook"; done
export VNET_SOCKET=$SOCK

user=vnt$$q
other=vnt$$n
useradd -r -M -N -g nogroup -s /usr/sbin/nologin "$user" || die "useradd $user"
AT_EXIT+=("userdel $user")
useradd -r -M -N -g nogroup -s /usr/sbin/nologin "$other" || die "useradd $other"
AT_EXIT+=("userdel $other")

start_vnetd
chmod 755 "$T/run"
vnetctl create default --ipv4 192.168.122.1/24 --allow-user "$user" >/dev/null ||
	die "create default"

# boot_check NAME MAC ADDR QEMU-ARGS...: boots, waits, checks the MAC and the ping.
boot_check() {
	local name=$1 mac=$2 addr=$3 log="$T/$1.log"
	shift 3
	qemu_boot "$HOST" "$log" --mac "$mac" \
		--guest "vnet.ip=$addr/24 vnet.gw=192.168.122.1 vnet.ping=192.168.122.1" "$@"
	local pid=$QEMU_PID
	qemu_wait "$log" '^VNET-DONE' 90 "$pid" || {
		qemu_log "$log"
		die "$name: the guest did not finish"
	}
	[ "$(qemu_value "$log" VNET-MAC)" = "$mac" ] || {
		qemu_log "$log"
		die "$name: the guest's NIC has MAC $(qemu_value "$log" VNET-MAC), vnetd assigned $mac"
	}
	grep -q '^VNET-PING-OK 192.168.122.1' <(tr -d '\r' <"$log") || {
		qemu_log "$log"
		die "$name: the guest could not reach the gateway"
	}
	qemu_wait_exit 30 "$pid" || {
		qemu_log "$log"
		die "$name: QEMU did not exit cleanly"
	}
	log "$name: MAC $mac, gateway reached, $(qemu_elapsed)s"
}

log "1. a TAP vnetd made, opened by name"
port=$(vnetctl --json attach default) || die "attach"
tap=$(jq -r .ifname <<<"$port")
mac=$(jq -r .mac <<<"$port")
boot_check ifname "$mac" 192.168.122.10 -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
assert_eq "$(vnetctl --json ports default | jq -r --arg t "$tap" '.[] | select(.ifname==$t) | .state')" \
	down "state of $tap after the VMM left"

log "2. script=vnet-ifup, downscript=vnet-ifdown, on a reservation"
port=$(vnetctl --json attach default --ifname vm-script) || die "attach vm-script"
mac=$(jq -r .mac <<<"$port")
boot_check script "$mac" 192.168.122.11 \
	-netdev "tap,id=n0,ifname=vm-script,script=$T/bin/vnet-ifup,downscript=$T/bin/vnet-ifdown"
assert_eq "$(vnetctl --json ports default | jq -r '.[] | select(.ifname=="vm-script") | .mac')" \
	"$mac" "the reservation outlives the VMM"

log "   and on a TAP QEMU makes itself: only the hook can put it on the bridge"
mac=52:54:00:5c:00:01
VNET_NETWORK=default VNET_MAC=$mac boot_check script-adopt "$mac" 192.168.122.13 \
	-netdev "tap,id=n0,ifname=vm-own,script=$T/bin/vnet-ifup,downscript=$T/bin/vnet-ifdown"
grep -q "port vm-own adopted on network default" "$T/vnetd.log" || die "vnet-ifup did not adopt vm-own"
[ -z "$(vnetctl --json ports default | jq -r '.[] | select(.ifname=="vm-own") | .ifname')" ] ||
	die "vnet-ifdown did not release vm-own"

log "3. -netdev bridge with vnet-bridge-helper, as a user the network allows"
port=$(vnetctl --json attach default --owner "$user") || die "attach --owner $user"
tap=$(jq -r .ifname <<<"$port")
mac=$(jq -r .mac <<<"$port")
QEMU_PREFIX=(setpriv --reuid="$user" --regid=nogroup --init-groups --)
boot_check helper "$mac" 192.168.122.12 -netdev "bridge,id=n0,br=virbr0,helper=$T/bin/vnet-bridge-helper"
QEMU_PREFIX=()

log "   a user the network does not allow: QEMU fails with the helper's one clear line"
QEMU_PREFIX=(setpriv --reuid="$other" --regid=nogroup --init-groups --)
qemu_boot "$HOST" "$T/denied.log" --mac 52:54:00:5c:00:02 --guest "vnet.ping=192.168.122.1" \
	-netdev "bridge,id=n0,br=virbr0,helper=$T/bin/vnet-bridge-helper"
QEMU_PREFIX=()
qemu_wait_exit 30 "$QEMU_PID"
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || die "QEMU started for a user who is not allowed (status $rc)"
grep -q "vnet-bridge-helper: .*ermission denied" "$T/denied.log" || {
	qemu_log "$T/denied.log"
	die "no permission error from the helper"
}
echo ok
