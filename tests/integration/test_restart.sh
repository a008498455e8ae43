#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Restart without a trace: with a nat network running, a port attached and its guest (behind
# the TAP through tests/tools/taprelay) pinging the uplink every 50 ms, vnetd is stopped
# (SIGTERM) and started, then killed (SIGKILL) and started, while the ping runs. Nothing the
# guest can see changes: no packet lost, no link deleted, brought down or re-addressed
# (`ip monitor`), no nftables event at all (`nft monitor`), the same bridge and TAP ifindexes,
# the same dnsmasq process (adopted) with the lease it handed out, the same list, ports and
# rules.
. "$(dirname "$0")/lib.sh"

RELAY=$TOOLS/taprelay
SERVER=203.0.113.10 # in $UPLINK
[ -x "$RELAY" ] || die "taprelay not built (make tests)"
command -v busybox >/dev/null || die "busybox missing (tests/tools/install-deps)"
# dnsmasq drops root; it must still reach its files under $T.
chmod 0755 "$T"

setup_host
start_vnetd
vnetctl create rs --bridge vbr-rs --mode nat --ipv4 10.40.0.1/24 \
	--dhcp 10.40.0.100-10.40.0.150 >/dev/null || die "create rs"
read -r TAP MAC < <(vnetctl attach rs --ifname rtap0) || die "attach rtap0"
assert_eq "$TAP" rtap0 "attached TAP"

# The guest: namespace $ID-g whose eth0 (with the guest MAC) is a veth whose peer r-g in $HOST
# the relay joins to the TAP.
G="$ID-g"
new_ns "$G"
ip link add r-g netns "$HOST" type veth peer name eth0 netns "$G" || die "veth for $G"
# No ARP on r-g: it is a link of $HOST too, whose stack would answer the guest's ARP for the
# gateway itself, and the guest would talk past the bridge.
in_host ip link set r-g arp off up
ip -n "$G" link set eth0 address "$MAC"
ip -n "$G" link set eth0 up
ip netns exec "$HOST" "$RELAY" "$TAP" r-g 2>>"$T/relay.err" &
PIDS+=($!)
for _ in $(seq 1 100); do
	in_host ip link show "$TAP" | grep -q LOWER_UP && break
	sleep 0.01
done
in_host ip link show "$TAP" | grep -q LOWER_UP || die "$TAP has no carrier"

# A second guest on a veth, adopted as a port, takes a lease from dnsmasq (udhcpc configures
# nothing: -s /bin/true): the lease must survive the restarts, held by the same dnsmasq.
add_guest d vbr-rs 10.40.0.60/24
vnetctl attach rs --ifname g-d >/dev/null || die "attach (adopt) g-d"
lease=
for _ in 1 2 3; do
	in_guest d busybox udhcpc -i eth0 -s /bin/true -f -q -n -t 3 -T 1 >>"$T/udhcpc.out" 2>&1 &&
		lease=$(vnetctl --json leases rs) && [ "$(jq length <<<"$lease")" = 1 ] && break
	lease=
done
[ -n "$lease" ] || die "the guest got no lease: $(tail -n 5 "$T/udhcpc.out")"
ip -n "$G" addr add 10.40.0.50/24 dev eth0
ip -n "$G" route add default via 10.40.0.1
ok=
for _ in 1 2 3 4 5; do
	ip netns exec "$G" busybox ping -c1 -W1 "$SERVER" >/dev/null 2>&1 && ok=1 && break
done
[ -n "$ok" ] || die "the guest cannot reach $SERVER before the restarts"

# --- what the guest and the host see, before -------------------------------------------------
links() {
	in_host ip -j link show | jq -c '[.[] | select(.ifname | test("^(vbr-rs|rtap0|g-d)$"))
		| [.ifname, .ifindex, .master, .address, .mtu, (.flags | join(","))]] | sort'
}
# alive PID: a dnsmasq process that has not exited (a zombie has).
alive() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = dnsmasq ] &&
		[ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
dns_pid() { vnetctl --json show rs | jq -r .dnsmasq.pid; }
snapshot() {
	echo "== list"
	vnetctl list
	vnetctl --json list | jq -c 'map(del(.dnsmasq.restarts))'
	# In any order: vnetd lists ports in attach order, and after a restart in the order it
	# read them back from disk.
	echo "== ports"
	vnetctl ports rs | sed -n 1p
	vnetctl ports rs | sed 1d | sort
	vnetctl --json ports rs | jq -c 'sort_by(.ifname)'
	echo "== leases"
	vnetctl --json leases rs
	echo "== addresses"
	in_host ip -4 -o addr show dev vbr-rs
	echo "== rules"
	in_host nft list table inet vnet
}
LINKS=$(links)
PID0=$(dns_pid)
[[ $PID0 =~ ^[0-9]+$ ]] || die "no dnsmasq pid in show rs: $PID0"
SNAP=$(snapshot)
assert_contains "$SNAP" rtap0 "snapshot"
assert_contains "$SNAP" g-d "snapshot"

# Not through in_host (a function: $! would be a subshell): $! must be the monitor itself.
ip netns exec "$HOST" ip monitor link address >"$T/monitor" 2>&1 &
MON=$!
PIDS+=("$MON")
# Not through in_host (a function: $! would be a subshell): $! must be the monitor itself.
ip netns exec "$HOST" nft monitor >"$T/nft-monitor" 2>&1 &
NFTMON=$!
PIDS+=("$NFTMON")
monitor_mark "$T/monitor" link
monitor_mark "$T/nft-monitor" nft

# 140 echo requests 50 ms apart (7 s); the restarts happen in the middle.
COUNT=140
ip netns exec "$G" busybox ping -i 0.05 -c $COUNT -W 2 "$SERVER" >"$T/ping" 2>&1 &
PING=$!
PIDS+=("$PING")
sleep 1

check_after() { # WHAT
	local pid
	assert_eq "$(links)" "$LINKS" "bridge, TAP and veth (ifindex, master, MAC, MTU, flags) $1"
	pid=$(dns_pid)
	assert_eq "$pid" "$PID0" "dnsmasq pid (adopted) $1"
	alive "$PID0" || die "dnsmasq $PID0 is gone $1"
	assert_eq "$(our_dnsmasq | xargs)" "$PID0" "dnsmasq processes of this test $1"
	if [ "$(snapshot)" != "$SNAP" ]; then
		diff <(echo "$SNAP") <(snapshot)
		die "list, ports, leases, address or rules changed $1"
	fi
}

log "SIGTERM, then start, while the guest pings"
stop_vnetd TERM
start_vnetd
check_after "after SIGTERM + start"
sleep 1

log "SIGKILL, then start, while the guest pings"
stop_vnetd KILL
start_vnetd
check_after "after SIGKILL + start"
grep -c "adopted running dnsmasq (pid $PID0)" "$T/vnetd.log" | grep -qx 2 ||
	die "vnetd did not say twice that it adopted dnsmasq $PID0"

wait "$PING"
summary=$(grep -E 'packets transmitted' "$T/ping") || die "ping printed no summary: $(cat "$T/ping")"
log "ping: $summary"
tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$summary")
rx=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' <<<"$summary")
assert_eq "$tx" $COUNT "echo requests sent"
assert_eq "$rx" $COUNT "echo replies received (0 lost across the restarts)"

monitor_mark "$T/monitor" link
monitor_mark "$T/nft-monitor" nft
kill "$MON" "$NFTMON"
wait "$MON" "$NFTMON" 2>/dev/null
bad=$(link_flaps "$T/monitor")
if [ -n "$bad" ]; then
	cat "$T/monitor"
	die "the restarts changed links or addresses: $bad"
fi
if [ -n "$(nft_events "$T/nft-monitor")" ]; then
	cat "$T/nft-monitor"
	die "the restarts changed the rules (nft monitor saw events)"
fi

log "destroy: the network and its dnsmasq go"
vnetctl destroy rs >/dev/null || die "destroy rs"
in_host ip link show vbr-rs >/dev/null 2>&1 && die "vbr-rs remains after destroy"
# It is not vnetd's child any more (adopted): its new parent reaps it, maybe a moment later.
for _ in $(seq 1 50); do alive "$PID0" || break; sleep 0.02; done
alive "$PID0" && die "dnsmasq $PID0 remains after destroy"
echo "ok"
