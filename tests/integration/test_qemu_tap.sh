#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The real-QEMU guest harness, proved without vnetd: a bridge and TAPs made with ip in the host
# namespace, and a guest booted the three ways a VMM joins a network:
#   1. a pre-created persistent TAP, by name (ifname=…,script=no)
#   2. a TAP QEMU creates, handed to a script= hook (which puts it on the bridge)
#   3. -netdev bridge with QEMU's own qemu-bridge-helper (its ACL file is fixed at
#      /etc/qemu/bridge.conf: QEMU runs in a private mount namespace where /etc is an overlay
#      whose upper layer is in the test's directory, so the real /etc is never written)
# Each guest must show the MAC it was given and ping the bridge's address; one takes its address
# by DHCP from a dnsmasq on the bridge.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu.sh"

qemu_available || {
	echo "SKIP: $QEMU_UNAVAILABLE"
	exit 77
}

setup_host
in_host ip link add br0 type bridge
in_host ip link set br0 type bridge stp_state 0 forward_delay 0
in_host ip addr add 10.99.0.1/24 dev br0
in_host ip link set br0 up
in_host ip tuntap add tap0 mode tap user 0
in_host ip link set tap0 master br0 up

total_start=$(date +%s.%N)

# check LOG MAC PID WHAT: the guest booted with MAC, pinged the gateway, powered off.
check_guest() {
	local log=$1 mac=$2 pid=$3 what=$4
	qemu_wait "$log" '^VNET-DONE' 60 "$pid" || {
		qemu_log "$log"
		die "$what: the guest did not finish"
	}
	[ "$(qemu_value "$log" VNET-MAC)" = "$mac" ] || {
		qemu_log "$log"
		die "$what: guest NIC has MAC '$(qemu_value "$log" VNET-MAC)', expected $mac"
	}
	grep -q '^VNET-PING-OK 10.99.0.1' <(tr -d '\r' <"$log") || {
		qemu_log "$log"
		die "$what: the guest could not ping 10.99.0.1"
	}
	qemu_wait_exit 30 "$pid" || {
		qemu_log "$log"
		die "$what: QEMU did not exit cleanly after the guest powered off"
	}
}

# 1. A pre-created TAP, by name.
qemu_boot "$HOST" "$T/tap.log" --mac 52:54:00:12:34:56 \
	--guest "vnet.ip=10.99.0.10/24 vnet.gw=10.99.0.1 vnet.ping=10.99.0.1" \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no
pid_tap=$QEMU_PID
check_guest "$T/tap.log" 52:54:00:12:34:56 "$pid_tap" "ifname=tap0"
log "ifname=tap0: $(qemu_value "$T/tap.log" VNET-IP), ping ok; booted and powered off in $(qemu_elapsed)s"

# 1b. The same persistent TAP again (it outlives the VMM), the address by DHCP this time, from a
# dnsmasq on the bridge (foreground, our child; --no-ping: no 3 s wait before the offer).
ip netns exec "$HOST" dnsmasq --keep-in-foreground --port=0 --interface=br0 --bind-interfaces \
	--except-interface=lo --no-resolv --no-hosts --pid-file= --no-ping \
	--dhcp-range=10.99.0.100,10.99.0.150,1h --dhcp-option=3,10.99.0.1 \
	--dhcp-leasefile="$T/leases" >"$T/dnsmasq.log" 2>&1 &
PIDS+=($!)
qemu_boot "$HOST" "$T/dhcp.log" --mac 52:54:00:12:34:59 \
	--guest "vnet.dhcp=1 vnet.hostname=guest1 vnet.ping=10.99.0.1" \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no
check_guest "$T/dhcp.log" 52:54:00:12:34:59 "$QEMU_PID" "DHCP on tap0"
addr=$(qemu_value "$T/dhcp.log" VNET-IP)
case "$addr" in 10.99.0.1[0-4][0-9]/24 | 10.99.0.150/24) ;; *)
	qemu_log "$T/dhcp.log"
	die "DHCP on tap0: guest address '$addr' is not from the range"
	;;
esac
[ "$(qemu_value "$T/dhcp.log" VNET-GW)" = 10.99.0.1 ] || die "DHCP on tap0: no default route via 10.99.0.1"
grep -q " 52:54:00:12:34:59 ${addr%/*} guest1 " "$T/leases" || {
	cat "$T/leases" "$T/dnsmasq.log"
	die "DHCP on tap0: dnsmasq has no lease for the guest"
}
log "DHCP on tap0: $addr with hostname guest1, ping ok; $(qemu_elapsed)s"

# 2. script=: QEMU creates the TAP and runs the hook with its name. The hook records what it got.
cat >"$T/ifup" <<EOF
#!/bin/sh
{ echo "\$0 \$*"; ls -l /proc/\$\$/fd; } >"$T/ifup.args" 2>&1
ip link set "\$1" master br0 up
EOF
cat >"$T/ifdown" <<EOF
#!/bin/sh
echo "\$0 \$*" >"$T/ifdown.args"
EOF
chmod +x "$T/ifup" "$T/ifdown"
qemu_boot "$HOST" "$T/script.log" --mac 52:54:00:12:34:57 \
	--guest "vnet.ip=10.99.0.11/24 vnet.ping=10.99.0.1" \
	-netdev "tap,id=n0,script=$T/ifup,downscript=$T/ifdown"
check_guest "$T/script.log" 52:54:00:12:34:57 "$QEMU_PID" "script="
log "script=: $(qemu_elapsed)s; hook ran as '$(head -n 1 "$T/ifup.args")', downscript as '$(cat "$T/ifdown.args")'"
grep -q -- '-> /dev/net/tun' "$T/ifup.args" || die "script=: the hook did not inherit the TAP fd"

# 3. -netdev bridge with qemu-bridge-helper, through a wrapper that records its argv and fds.
HELPER=/usr/lib/qemu/qemu-bridge-helper
if [ -x "$HELPER" ] && command -v unshare >/dev/null; then
	etc_qemu=$(ls -la /etc/qemu 2>&1)
	mkdir -p "$T/etc-up/qemu" "$T/etc-work"
	echo "allow br0" >"$T/etc-up/qemu/bridge.conf"
	cat >"$T/helper" <<EOF
#!/bin/sh
{ echo "\$0 \$*"; ls -l /proc/\$\$/fd; } >"$T/helper.args" 2>&1
exec $HELPER "\$@"
EOF
	chmod +x "$T/helper"
	# The overlay lives and dies with the mount namespace that unshare makes for QEMU.
	QEMU_PREFIX=(unshare -m --propagation private sh -c
		"mount -t overlay overlay -o lowerdir=/etc,upperdir=$T/etc-up,workdir=$T/etc-work /etc && exec \"\$@\"" sh)
	qemu_boot "$HOST" "$T/bridge.log" --mac 52:54:00:12:34:58 \
		--guest "vnet.ip=10.99.0.12/24 vnet.ping=10.99.0.1" \
		-netdev "bridge,id=n0,br=br0,helper=$T/helper"
	QEMU_PREFIX=()
	check_guest "$T/bridge.log" 52:54:00:12:34:58 "$QEMU_PID" "-netdev bridge"
	log "-netdev bridge: $(qemu_elapsed)s; helper ran as '$(head -n 1 "$T/helper.args")'"
	sed -n 's/.* \([0-9]*\) -> \(socket:.*\)/#   fd \1 -> \2/p' "$T/helper.args"
	[ "$etc_qemu" = "$(ls -la /etc/qemu 2>&1)" ] || die "the overlay leaked: /etc/qemu changed"
else
	log "-netdev bridge: $HELPER or unshare missing, form not tried"
fi

in_host ip -br link show master br0
log "total $(printf '%.1f' "$(echo "$(date +%s.%N) - $total_start" | bc)")s for four guests"
echo "PASS"
