#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end with a real QEMU guest (TCG) on a vnet network, joined the three ways VMMs use:
#   1. a TAP vnetd made (vnetctl attach), opened by name: ifname=…,script=no
#   2. the same, through QEMU's script=vnet-ifup / downscript=vnet-ifdown hooks
#   3. -netdev bridge,helper=vnet-bridge-helper, QEMU run as a user the network allows
# Each time the guest's NIC has the MAC vnetd assigned, and the guest takes a DHCP lease from
# the network's dnsmasq and reaches the uplink host through NAT (one guest, adopted through
# vnet-ifup on a TAP QEMU made, uses a static address and pings the gateway).
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

# boot_check NAME MAC ADDR|dhcp QEMU-ARGS...: boots, waits, checks the MAC and the ping. With
# dhcp the guest takes its address from the network's dnsmasq (sending NAME as its hostname)
# and pings the uplink host through NAT; with an address it pings the gateway.
boot_check() {
	local name=$1 mac=$2 addr=$3 log="$T/$1.log" guest target
	shift 3
	if [ "$addr" = dhcp ]; then
		guest="vnet.dhcp=1 vnet.hostname=$name vnet.ping=203.0.113.10"
		target=203.0.113.10
	else
		guest="vnet.ip=$addr/24 vnet.gw=192.168.122.1 vnet.ping=192.168.122.1"
		target=192.168.122.1
	fi
	qemu_boot "$HOST" "$log" --mac "$mac" --guest "$guest" "$@"
	local pid=$QEMU_PID
	qemu_wait "$log" '^VNET-DONE' 90 "$pid" || {
		qemu_log "$log"
		die "$name: the guest did not finish"
	}
	[ "$(qemu_value "$log" VNET-MAC)" = "$mac" ] || {
		qemu_log "$log"
		die "$name: the guest's NIC has MAC $(qemu_value "$log" VNET-MAC), vnetd assigned $mac"
	}
	grep -q "^VNET-PING-OK $target" <(tr -d '\r' <"$log") || {
		qemu_log "$log"
		die "$name: the guest could not reach $target"
	}
	qemu_wait_exit 30 "$pid" || {
		qemu_log "$log"
		die "$name: QEMU did not exit cleanly"
	}
	if [ "$addr" = dhcp ]; then
		local lease
		lease=$(qemu_value "$log" VNET-LEASE)
		vnetctl --json leases default | jq -e --arg m "$mac" --arg h "$name" \
			'any(.[]; .mac == $m and .hostname == $h)' >/dev/null ||
			die "$name: vnetctl leases does not list $mac as $name"
		log "$name: MAC $mac, DHCP lease ${lease%% *}, uplink reached through NAT, $(qemu_elapsed)s"
	else
		log "$name: MAC $mac, gateway reached, $(qemu_elapsed)s"
	fi
}

log "1. a TAP vnetd made, opened by name"
port=$(vnetctl --json attach default) || die "attach"
tap=$(jq -r .ifname <<<"$port")
mac=$(jq -r .mac <<<"$port")
boot_check ifname "$mac" dhcp -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
assert_eq "$(vnetctl --json ports default | jq -r --arg t "$tap" '.[] | select(.ifname==$t) | .state')" \
	down "state of $tap after the VMM left"

log "2. script=vnet-ifup, downscript=vnet-ifdown, on a reservation"
port=$(vnetctl --json attach default --ifname vm-script) || die "attach vm-script"
mac=$(jq -r .mac <<<"$port")
boot_check script "$mac" dhcp \
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
boot_check helper "$mac" dhcp -netdev "bridge,id=n0,br=virbr0,helper=$T/bin/vnet-bridge-helper"
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
