#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# libvnet/link.c through tests/tools/linkctl, in a network namespace made (and removed) here:
# bridge creation, in-place apply (and that an apply with nothing to change changes nothing),
# address/route conflicts, deletion, cleanup after a half-done create.
set -u
cd "$(dirname "$0")/../.."

LINKCTL=${TOOLS:-$PWD/${B:-build}/tests/tools}/linkctl
NS="vnt-link-$$"
T=$(mktemp -d /tmp/vnet-link.XXXXXX)
MON_PID=
FAILED=0

cleanup() {
	local rc=$?
	set +e
	[ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null && wait "$MON_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "FAIL: $*" >&2
	exit 1
}
check() { # description command... ; records a failure and goes on
	local what=$1
	shift
	if "$@"; then
		echo "ok    $what"
	else
		echo "FAIL: $what" >&2
		FAILED=$((FAILED + 1))
	fi
}
ns() { ip netns exec "$NS" "$@"; }
lc() { ip netns exec "$NS" "$LINKCTL" "$@"; }
has() { grep -q -- "$2" <<<"$1"; } # has TEXT PATTERN
hasnt() { ! grep -q -- "$2" <<<"$1"; }
ifindex_of() { ns cat "/sys/class/net/$1/ifindex" 2>/dev/null; }

[ -x "$LINKCTL" ] || die "$LINKCTL not built (make build/tests/tools/linkctl)"
ip netns add "$NS" || die "cannot create namespace $NS"
ns ip link set lo up

# --- create ---
out=$(lc create vbr0 1400 52:54:00:aa:00:01 0 10.10.1.1/24 vnet:one) || die "create: $out"
idx=$(ifindex_of vbr0)
check "create prints the new ifindex" [ "$out" = "ifindex=$idx" ]
d=$(ns ip -d link show vbr0)
a=$(ns ip -4 addr show dev vbr0)
check "bridge kind" has "$d" "bridge forward_delay"
check "MAC set" has "$d" "link/ether 52:54:00:aa:00:01 "
check "MTU set" has "$d" " mtu 1400 "
check "alias set" has "$d" "alias vnet:one"
check "stp_state 0" has "$d" "stp_state 0 "
check "forward_delay 0" has "$d" "forward_delay 0 "
check "up" has "$d" ",UP"
check "address with broadcast" has "$a" "inet 10.10.1.1/24 brd 10.10.1.255 scope global vbr0"
check "exactly one IPv4 address" [ "$(grep -c 'inet ' <<<"$a")" = 1 ]

out=$(lc get vbr0)
check "get" [ "$out" = "ifindex=$idx name=vbr0 kind=bridge mtu=1400 mac=52:54:00:aa:00:01 up=1 carrier=0 master=0 alias=vnet:one" ]
out=$(lc get nosuch0 2>&1)
check "get of a missing link is ENODEV" has "$out" "get: ENODEV"

out=$(lc create vbr0 1400 52:54:00:aa:00:01 0 10.10.1.1/24 vnet:one 2>&1)
check "create again fails with EEXIST" has "$out" "create: EEXIST"
check "create again left the bridge alone" [ "$(ifindex_of vbr0)" = "$idx" ]

# STP on: the kernel clamps the forward delay to its 2 s minimum while STP runs.
lc create vbr1 1500 52:54:00:aa:00:02 1 10.10.2.1/30 vnet:two >/dev/null || die "create with STP"
d=$(ns ip -d link show vbr1)
check "stp_state 1" has "$d" "stp_state 1 "
check "forward_delay clamped to 2 s with STP" has "$d" "forward_delay 200 "
check "/30 has a broadcast" has "$(ns ip -4 addr show dev vbr1)" "inet 10.10.2.1/30 brd 10.10.2.3 "
lc create vbr2 1500 none 0 10.10.3.1/32 - >/dev/null || die "create with /32, no MAC, no alias"
check "/32 has no broadcast" has "$(ns ip -4 addr show dev vbr2)" "inet 10.10.3.1/32 scope global vbr2"
lc del vbr2 || die "del vbr2"

# --- apply with nothing to change: no netlink change at all ---
# Events on a marker link bracket the apply, so the monitor is known to be listening before
# it and to have caught up after it.
ns ip link add vmark0 type veth peer name vmark1 || die "veth"
# Not through ns(): $! must be the monitor itself, for the kill below and the cleanup.
ip netns exec "$NS" ip monitor link address >"$T/mon" 2>&1 &
MON_PID=$!
wait_marker() { # N: wait until the monitor has printed N lines about vmark0
	for _ in $(seq 1 100); do
		[ "$(grep -c 'vmark0' "$T/mon")" -ge "$1" ] && return 0
		ns ip link set vmark0 alias "m$RANDOM" 2>/dev/null # alias events need the link up
		sleep 0.05
	done
	die "ip monitor printed no marker events"
}
ns ip link set vmark0 up
wait_marker 1
m=$(grep -c vmark0 "$T/mon")
lc apply vbr0 1400 52:54:00:aa:00:01 0 10.10.1.1/24 vnet:one >/dev/null || die "apply (same)"
lc apply vbr1 1500 52:54:00:aa:00:02 1 10.10.2.1/30 vnet:two >/dev/null || die "apply (same, STP)"
wait_marker $((m + 1))
check "apply with an identical spec produced no events" hasnt "$(cat "$T/mon")" "vbr"
# The same monitor sees a real change (the check above is not vacuous).
lc apply vbr1 1500 52:54:00:aa:00:02 1 10.10.2.1/30 vnet:two-b >/dev/null || die "apply alias"
m=$(grep -c vmark0 "$T/mon")
wait_marker $((m + 1))
check "monitor sees a change made by apply" has "$(cat "$T/mon")" "vbr1"
kill "$MON_PID" && wait "$MON_PID" 2>/dev/null
MON_PID=
lc del vbr1 || die "del vbr1"

# --- apply with changes: in place ---
lc apply vbr0 9000 52:54:00:aa:00:0f 1 10.20.0.1/16 vnet:one-b >/dev/null || die "apply (changes)"
d=$(ns ip -d link show vbr0)
a=$(ns ip -4 addr show dev vbr0)
check "apply kept the ifindex" [ "$(ifindex_of vbr0)" = "$idx" ]
check "apply changed the MTU" has "$d" " mtu 9000 "
check "apply changed the MAC" has "$d" "link/ether 52:54:00:aa:00:0f "
check "apply changed the alias" has "$d" "alias vnet:one-b"
check "apply turned STP on" has "$d" "stp_state 1 "
check "apply added the new address" has "$a" "inet 10.20.0.1/16 brd 10.20.255.255 scope global vbr0"
check "apply removed the old address" hasnt "$a" "10.10.1.1"
# STP off again: the delay must go back to 0 (the kernel refuses 0 while STP runs).
lc apply vbr0 9000 52:54:00:aa:00:0f 0 10.20.0.1/16 vnet:one-b >/dev/null || die "apply STP off"
d=$(ns ip -d link show vbr0)
check "apply turned STP off" has "$d" "stp_state 0 "
check "forward_delay back to 0" has "$d" "forward_delay 0 "

# Foreign addresses go; a wanted address that is a secondary of a removed primary survives.
ns ip addr add 192.168.77.1/24 dev vbr0
ns ip addr add 10.20.0.9/16 dev vbr0 # secondary of 10.20.0.1/16
ns ip link set vbr0 down
lc apply vbr0 9000 52:54:00:aa:00:0f 0 10.20.0.9/16 vnet:one-b >/dev/null || die "apply (secondary)"
a=$(ns ip -4 addr show dev vbr0)
check "apply kept only the wanted address" [ "$(grep -c 'inet ' <<<"$a")" = 1 ]
check "wanted former secondary is there" has "$a" "inet 10.20.0.9/16 brd 10.20.255.255 scope global vbr0"
check "apply brought the bridge up" has "$(ns ip link show vbr0)" ",UP"
# A wanted address without the broadcast is fixed in place.
ns ip addr flush dev vbr0
ns ip addr add 10.20.0.9/16 dev vbr0
lc apply vbr0 9000 52:54:00:aa:00:0f 0 10.20.0.9/16 vnet:one-b >/dev/null || die "apply (brd)"
check "apply set the missing broadcast" has "$(ns ip -4 addr show dev vbr0)" "inet 10.20.0.9/16 brd 10.20.255.255 "
lc apply vbr0 9000 52:54:00:aa:00:0f 0 none vnet:one-b >/dev/null || die "apply (no address)"
check "apply with no address removes them all" hasnt "$(ns ip -4 addr show dev vbr0)" "inet "
lc apply vbr0 9000 52:54:00:aa:00:0f 0 10.20.0.1/16 vnet:one-b >/dev/null || die "apply (re-add)"
out=$(lc apply vmark0 1500 none 0 none - 2>&1)
check "apply on a non-bridge is EINVAL" has "$out" "apply: EINVAL"

# --- conflicts ---
ns ip link add vr0 type veth peer name vr1 || die "veth"
ns ip addr add 172.16.5.1/24 dev vr0
ns ip link set vr0 up
ns ip route add 10.128.0.0/9 dev vr0
ns ip route add 198.18.0.0/15 via 172.16.5.254 dev vr0
ns ip route add default via 172.16.5.254 dev vr0
check "equal subnet: address" [ "$(lc conflict 10.20.0.0/16)" = "conflict: address 10.20.0.1/16 on vbr0" ]
check "overlap: wider than the address" [ "$(lc conflict 10.0.0.0/8)" = "conflict: address 10.20.0.1/16 on vbr0" ]
check "overlap: inside the address's subnet" [ "$(lc conflict 10.20.5.0/24)" = "conflict: address 10.20.0.1/16 on vbr0" ]
check "overlap: route" [ "$(lc conflict 10.200.0.0/16)" = "conflict: route 10.128.0.0/9 dev vr0" ]
check "overlap: route via a gateway" [ "$(lc conflict 198.19.0.0/24)" = "conflict: route 198.18.0.0/15 via 172.16.5.254 dev vr0" ]
check "overlap: address on another link" [ "$(lc conflict 172.16.0.0/12)" = "conflict: address 172.16.5.1/24 on vr0" ]
check "no overlap (the default route does not count)" [ "$(lc conflict 10.21.0.0/16)" = "free" ]
check "ignore_ifindex skips the bridge's address and route" [ "$(lc conflict 10.20.0.0/24 vbr0)" = "free" ]
check "ignore_ifindex skips only that link" [ "$(lc conflict 10.0.0.0/8 vbr0)" = "conflict: route 10.128.0.0/9 dev vr0" ]
check "ignore_ifindex on the route's link" [ "$(lc conflict 10.200.0.0/16 vr0)" = "free" ]

# --- ip_forward (per namespace) ---
ns sysctl -qw net.ipv4.ip_forward=0
lc ipforward || die "ipforward"
check "ip_forward enabled" [ "$(ns cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
lc ipforward || die "ipforward when already on"

# --- delete ---
lc del vbr0 || die "del vbr0"
check "del removed the bridge" [ -z "$(ifindex_of vbr0)" ]
out=$(lc del vbr0 2>&1)
check "del of a missing link is ENODEV" has "$out" "del: ENODEV"

# --- a create that fails half-way leaves nothing behind ---
# The kernel accepts the bridge, then refuses the alias (longer than IFALIASZ - 1).
long=$(printf 'vnet:%0300d' 0)
out=$(lc create vbr3 1500 52:54:00:aa:00:03 0 10.30.0.1/24 "$long" 2>&1)
check "create with a refused alias fails" has "$out" "create: E"
check "the half-created bridge was deleted" [ -z "$(ifindex_of vbr3)" ]
out=$(lc create vbr3 60 52:54:00:aa:00:03 0 10.30.0.1/24 vnet:x 2>&1)
check "create with an MTU the bridge refuses fails" has "$out" "create: EINVAL"
check "... and leaves nothing" [ -z "$(ifindex_of vbr3)" ]

[ "$FAILED" -eq 0 ] || die "$FAILED check(s) failed"
echo "all link checks passed"
