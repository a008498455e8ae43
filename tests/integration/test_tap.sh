#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# libvnet/tap.c and the port calls of libvnet/link.c through tests/tools/tapctl, in namespaces
# made (and removed) here; no vnetd. Persistent owned TAPs, multiqueue, the port's MAC, MTU,
# bridge, group and up in one request, the kernel's owner check, deletion by device group,
# and a guest namespace behind tests/tools/taprelay that pings the bridge through the TAP.
# uids 4711/4712 have no passwd entry (so `ip -d link` prints them as numbers); no user is
# created.
. "$(dirname "$0")/lib.sh"

TAPCTL=$TOOLS/tapctl
RELAY=$TOOLS/taprelay
OWNER=4711
OTHER=4712
tc() { in_host "$TAPCTL" "$@"; }
link() { in_host ip -d link show "$1" 2>/dev/null; }
exists() { in_host test -e "/sys/class/net/$1"; }
absent() { ! exists "$1"; }

[ -x "$TAPCTL" ] && [ -x "$RELAY" ] || die "tapctl/taprelay not built (make tests)"
for id in $OWNER $OTHER; do
	getent passwd $id >/dev/null && die "uid $id has a passwd entry; pick unused ids"
done

setup_host
in_host ip link add br0 type bridge forward_delay 0 || die "cannot create br0"
# Its own MAC, as vnetd sets it: a bridge without one takes its lowest port's.
in_host ip link set br0 address 52:54:00:00:00:01 mtu 9000 up || die "cannot set up br0"
in_host ip addr add 10.99.0.1/24 dev br0

# --- create ---
tc create vt0 $OWNER - 1 0 || die "create vt0"
d=$(link vt0)
check "persistent single-queue TAP with owner" has "$d" "tun type tap pi off vnet_hdr off persist on user $OWNER "
check "... not multiqueue" hasnt "$d" "multi_queue"
check "... down, no carrier" hasnt "$d" "UP"
tc create vt1 - $OWNER 4 0 || die "create vt1"
d=$(link vt1)
check "multiqueue TAP with group" has "$d" "tun type tap pi off vnet_hdr off multi_queue numqueues 0 numdisabled 0 persist on group $OWNER "
check "... allocated with the kernel's 256 queues" has "$d" "numtxqueues 256 numrxqueues 256"
tc create vt2 $OWNER $OWNER 1 1 || die "create vt2"
check "owner and group, vnet_hdr" has "$(link vt2)" "vnet_hdr on persist on user $OWNER group $OWNER "

out=$(expect_fail "create without owner and group" tc create vt9 - - 1 0)
check "create without owner and group is EINVAL" has "$out" "create: EINVAL"
check "... and leaves nothing" absent vt9
out=$(expect_fail "create over an existing TAP" tc create vt0 $OWNER - 1 0)
check "create over an existing TAP is EEXIST (not an attach)" has "$out" "create: EEXIST"
out=$(expect_fail "create over the bridge's name" tc create br0 $OWNER - 1 0)
check "create over another kind of link is EEXIST" has "$out" "create: EEXIST"
out=$(expect_fail "create with 257 queues" tc create vt9 $OWNER - 257 0)
check "more queues than the kernel has is EINVAL" has "$out" "create: EINVAL"
check "transient TAP lives while its fd is open" \
	[ "$(tc transient vtt $OWNER - 1)" = "open: exists=1 closed: exists=0" ]

# --- enslave: MAC, MTU, group, up and master in one request ---
tc enslave vt0 br0 52:54:00:12:34:56 100 || die "enslave vt0"
d=$(link vt0)
check "port MAC is the guest MAC with 0xfe first" has "$d" "link/ether fe:54:00:12:34:56 "
check "port MTU is the bridge's" has "$d" " mtu 9000 "
check "port is on the bridge" has "$d" " master br0 "
check "port is up" has "$d" ",UP"
check "port is in the device group" has "$d" " group 100 "
check "bridge kept its own MAC" has "$(link br0)" "link/ether 52:54:00:00:00:01 "
tc enslave vt1 br0 52:54:00:12:34:57 100 || die "enslave vt1"
tc enslave vt2 br0 52:54:00:12:34:58 200 || die "enslave vt2"
check "second group" has "$(link vt2)" " master br0 .* group 200 "

# Enslaving to something that is no bridge: the kernel applies MAC, MTU, group and up, then
# refuses the master (it takes the attributes in that order and undoes nothing).
tc create vt3 $OWNER - 1 0 || die "create vt3"
in_host ip link set uplink0 mtu 4000
out=$(expect_fail "enslave to a non-bridge" tc enslave vt3 uplink0 52:54:00:12:34:59 300)
check "enslave to a non-bridge is EOPNOTSUPP" has "$out" "enslave: EOPNOTSUPP"
d=$(link vt3)
check "... after MAC, MTU, group and up were applied" has "$d" "UP> mtu 4000 .* group 300 "
check "... on no bridge" hasnt "$d" "master"
in_host ip link set uplink0 mtu 1500
# An adopted interface keeps its MAC and group when none is given; release takes it off.
mac3=$(in_host cat /sys/class/net/vt3/address)
tc enslave vt3 br0 none 0 || die "enslave vt3"
d=$(link vt3)
check "enslave without MAC keeps the MAC" has "$d" "link/ether $mac3 "
check "enslave without group keeps the group" has "$d" " master br0 .* group 300 "
tc release vt3 || die "release vt3"
d=$(link vt3)
check "release: no master" hasnt "$d" "master"
check "release: still up" has "$d" ",UP"
tc release vt3 || die "release of a link on no bridge"

# --- opening by name, as a VMM: the kernel's owner check ---
check "the owner opens the TAP" [ "$(tc open vt0 1 $OWNER $OWNER 2>&1)" = "queues=1" ]
out=$(expect_fail "open by another uid" tc open vt0 1 $OTHER $OTHER)
check "another uid is refused with EPERM" has "$out" "open: EPERM"
check "a member of the TAP's group opens 4 queues" [ "$(tc open vt1 4 $OTHER $OWNER 2>&1)" = "queues=4" ]
out=$(expect_fail "open by another group" tc open vt1 4 $OTHER $OTHER)
check "another group is refused with EPERM" has "$out" "open: EPERM"
check "a queue of each opened fd is live" [ "$(tc open vt1 256)" = "queues=256" ]
out=$(expect_fail "multiqueue open of a single-queue TAP" tc open vt0 2)
check "multiqueue open of a single-queue TAP is EINVAL" has "$out" "open: EINVAL"
out=$(expect_fail "open of a missing TAP" tc open vtnone 1)
check "open of a missing TAP is ENODEV" has "$out" "open: ENODEV"
check "... and creates none" absent vtnone

# --- a guest behind the TAP ---
G="$ID-g1"
new_ns "$G"
ip link add r-g1 netns "$HOST" type veth peer name eth0 netns "$G" || die "cannot create veth"
in_host ip link set r-g1 mtu 9000 up
ip -n "$G" link set eth0 mtu 9000
ip -n "$G" addr add 10.99.0.2/24 dev eth0
ip -n "$G" link set eth0 up
ip netns exec "$HOST" "$RELAY" vt0 r-g1 2>"$T/relay.err" &
RELAY_PID=$!
PIDS+=("$RELAY_PID")
for _ in $(seq 1 100); do
	has "$(link vt0)" "LOWER_UP" && break
	sleep 0.02
done
check "TAP has carrier while the relay has it open" has "$(link vt0)" "LOWER_UP"
check "guest pings the bridge through the TAP" \
	ip netns exec "$G" busybox ping -c 2 -W 2 10.99.0.1 >/dev/null
check "a 8000-byte ping fits the 9000 MTU path" \
	ip netns exec "$G" busybox ping -c 1 -W 2 -s 8000 10.99.0.1 >/dev/null
kill -TERM "$RELAY_PID"
wait "$RELAY_PID"
rc=$?
check "relay exits 0 on SIGTERM" [ $rc -eq 0 ]
[ -s "$T/relay.err" ] && cat "$T/relay.err"
check "TAP has no carrier after the relay stopped" has "$(link vt0)" "NO-CARRIER"
check "... and stays (persistent)" exists vt0

# --- delete by group ---
in_host ip link add vother0 type veth peer name vother1
tc delete-group 100 || die "delete-group 100"
check "group delete removed the group's TAPs" absent vt0
check "... all of them" absent vt1
check "... not another group's" exists vt2
check "... not links of the default group" exists vt3
check "... not the bridge" exists br0
check "... not other kinds" exists vother0
check "... not the relay's veth" exists r-g1
out=$(expect_fail "delete of an empty group" tc delete-group 100)
check "deleting an empty group is ENODEV" has "$out" "delete-group: ENODEV"
out=$(expect_fail "delete of group 0" tc delete-group 0)
check "group 0 (every link) is refused" has "$out" "delete-group: EINVAL"

# --- delete one ---
tc delete vt2 || die "delete vt2"
check "delete removed the TAP" absent vt2
tc create vt4 - $OWNER 2 0 && tc delete vt4 || die "delete of a multiqueue TAP"
check "delete removed a multiqueue TAP" absent vt4
out=$(expect_fail "delete of a missing TAP" tc delete vt2)
check "delete of a missing TAP is ENODEV" has "$out" "delete: ENODEV"
check "... and creates none" absent vt2
out=$(expect_fail "delete of a bridge" tc delete br0)
check "delete of a non-TAP is EINVAL" has "$out" "delete: EINVAL"
check "... and leaves it" exists br0

tc delete vt3 || die "delete vt3"

# --- the bench runs (figures from a real run are in its output, not checked here) ---
out=$(tc bench 3 br0) || die "bench: $out"
echo "$out" | sed 's/^/# /'
check "bench reports the cost at 1 port" has "$out" "attach at    1 ports: median"
check "bench reports group delete" has "$out" "delete 3 TAPs: by group"
check "bench leaves no TAP behind" [ -z "$(in_host ip -o link show type tun)" ]

[ "$FAILED" -eq 0 ] || die "$FAILED check(s) failed"
echo "all tap checks passed"
