#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Each mode checked with real traffic: guests in namespaces behind veths on the bridges, the
# uplink namespace as the internet (server 203.0.113.10; the host's uplink address is
# 198.51.100.1). nat masquerades to the uplink address with source ports >= 1024 and lets
# nothing in; routed forwards the guests' own addresses both ways; isolated forwards nothing;
# open has no rules. Between networks only a routed network's guests can be reached. Then the
# rules every mode must have, IP forwarding, and a live mode change (one transaction, the
# guest stays on the same bridge, the behaviour switches at once).
#
# Every "cannot reach" is preceded by a check, in the same setup, that the path would work
# (server up, routes right), so a negative result means the rules refused it.
. "$(dirname "$0")/lib.sh"

NETPROBE="$TOOLS/netprobe"
[ -x "$NETPROBE" ] || die "$NETPROBE missing (make tests)"
command -v busybox >/dev/null || die "busybox missing (tests/tools/install-deps)"
SERVER=203.0.113.10 # in $UPLINK
HOST_UP=198.51.100.1

ns_of() {
	case $1 in
	uplink) echo "$UPLINK" ;;
	host) echo "$HOST" ;;
	*) echo "$ID-$1" ;;
	esac
}

# serve WHERE: a TCP server on port 80 and a UDP server on port 9999 in WHERE (a guest name,
# uplink or host); each logs the peers it served to $T/{tcp,udp}-WHERE.
serve() {
	local ns
	ns=$(ns_of "$1")
	ip netns exec "$ns" "$NETPROBE" tcp-serve 80 >"$T/tcp-$1" 2>&1 &
	PIDS+=($!)
	ip netns exec "$ns" "$NETPROBE" udp-serve 9999 >"$T/udp-$1" 2>&1 &
	PIDS+=($!)
}

wait_servers() {
	local f
	for f in "$@"; do
		for _ in $(seq 1 100); do
			[ "$(head -n1 "$f" 2>/dev/null)" = ready ] && continue 2
			sleep 0.02
		done
		cat "$f" 2>/dev/null
		die "server $(basename "$f") did not start"
	done
}

# tcp_ok FROM ADDR WHAT: FROM connects to ADDR:80; prints the address:port the server saw.
tcp_ok() {
	local out
	out=$(ip netns exec "$(ns_of "$1")" "$NETPROBE" tcp-connect "$2" 80 1000 2>"$T/err") ||
		die "$3: $1 cannot connect to $2: $(cat "$T/err")"
	[ -n "$out" ] || die "$3: $2 answered $1 with nothing"
	echo "$out"
}

# tcp_blocked FROM ADDR WHAT: FROM must not get a connection to ADDR:80.
tcp_blocked() {
	local out
	if out=$(ip netns exec "$(ns_of "$1")" "$NETPROBE" tcp-connect "$2" 80 1000 2>/dev/null); then
		die "$3: $1 connected to $2 (the server saw $out)"
	fi
	return 0
}

# udp_ok FROM SRCPORT ADDR WHAT: prints the address:port the server at ADDR:9999 saw.
udp_ok() {
	local out
	out=$(ip netns exec "$(ns_of "$1")" "$NETPROBE" udp-send "$2" "$3" 9999 1000 2>"$T/err") ||
		die "$4: no answer from $3 to $1: $(cat "$T/err")"
	echo "$out"
}

# udp_blocked FROM FROM_ADDR TO TO_ADDR WHAT: a datagram from FROM must not reach TO at all
# (not only no answer: TO's server log must not show FROM_ADDR).
udp_blocked() {
	local out
	if out=$(ip netns exec "$(ns_of "$1")" "$NETPROBE" udp-send 0 "$4" 9999 1000 2>/dev/null); then
		die "$5: $1 got an answer from $4 (the server saw $out)"
	fi
	if grep -q "^$2:" "$T/udp-$3"; then
		die "$5: a datagram from $1 ($2) reached $3: $(grep "^$2:" "$T/udp-$3" | head -n1)"
	fi
	return 0
}

ping_ok() {
	ip netns exec "$(ns_of "$1")" busybox ping -c1 -W1 "$2" >/dev/null 2>&1 ||
		die "$3: $1 cannot ping $2"
}

# rules CHAIN: the chain's rules from `nft -j`, one a line, e.g.
# "ip.saddr==10.10.1.0/24 ip.daddr==224.0.0.0/24 return", "udp.dport==67 accept",
# "ip.saddr==10.10.1.0/24 ip.daddr!=10.10.1.0/24 l4proto==tcp masquerade:1024-65535".
rules() {
	in_host nft -j list table inet vnet | jq -r --arg c "$1" '
		.nftables[] | select(.rule and .rule.chain == $c) | .rule.expr |
		map(if .match then
			((.match.left.payload | select(.) | "\(.protocol).\(.field)") //
			 (.match.left.meta.key // "?")) + .match.op +
			(.match.right | if type == "object" and .prefix
				then "\(.prefix.addr)/\(.prefix.len)" else tostring end)
		  elif .masquerade and .masquerade.port then
			"masquerade:\(.masquerade.port.range | join("-"))"
		  else keys[0] end) | join(" ")'
}

ifindex() { in_host ip -j link show "$1" | jq -r '.[0].ifindex'; }
master() { in_host ip -j link show "$1" | jq -r '.[0].master // "none"'; }
ipv4() { in_host ip -j -4 addr show dev "$1" | jq -r '[.[0].addr_info[] | "\(.local)/\(.prefixlen)"] | join(",")'; }

setup_host
# The uplink has a route back to all the networks' subnets, so that only the rules decide
# whether it can open connections to guests.
in_uplink ip route add 10.10.0.0/16 via "$HOST_UP"

log "IP forwarding is off in the fresh host namespace"
fwd=$(in_host sysctl -n net.ipv4.ip_forward)
if [ "$fwd" != 0 ]; then
	# A new namespace inherits the machine's setting (net.core.devconf_inherit_init_net=0);
	# start from off, in our namespace only, so that switching it on is vnetd's doing.
	log "inherited ip_forward=$fwd from the machine; switching it off in $HOST"
	in_host sysctl -qw net.ipv4.ip_forward=0
fi
assert_eq "$(in_host sysctl -n net.ipv4.ip_forward)" 0 "ip_forward in the fresh namespace"
start_vnetd

log "isolated and open networks leave IP forwarding off"
vnetctl create iso --mode isolated --bridge vbr-iso --ipv4 10.10.2.1/24 >/dev/null || die "create iso"
assert_eq "$(in_host sysctl -n net.ipv4.ip_forward)" 0 "ip_forward after an isolated network"
vnetctl create op --mode open --bridge vbr-open --ipv4 10.10.4.1/24 >/dev/null || die "create op"
assert_eq "$(in_host sysctl -n net.ipv4.ip_forward)" 0 "ip_forward after an open network"

log "a nat network switches IP forwarding on"
vnetctl create nat --mode nat --bridge vbr-nat --ipv4 10.10.1.1/24 >/dev/null || die "create nat"
assert_eq "$(in_host sysctl -n net.ipv4.ip_forward)" 1 "ip_forward after a nat network"
vnetctl create rt --mode routed --bridge vbr-rt --ipv4 10.10.3.1/24 >/dev/null || die "create rt"
assert_eq "$(in_host sysctl -n net.ipv4.ip_forward)" 1 "ip_forward after a routed network"

add_guest a vbr-nat 10.10.1.2/24 10.10.1.1
add_guest b1 vbr-iso 10.10.2.2/24 10.10.2.1
add_guest b2 vbr-iso 10.10.2.3/24 10.10.2.1
add_guest c vbr-rt 10.10.3.2/24 10.10.3.1
for w in uplink a b1 b2 c; do serve "$w"; done
wait_servers "$T"/tcp-* "$T"/udp-*

log "paths that need no forwarding work (servers up, routes right)"
for g in a:10.10.1 b1:10.10.2 b2:10.10.2 c:10.10.3; do
	n=${g%%:*} net=${g#*:}
	[ "$n" = b2 ] && addr=$net.3 || addr=$net.2
	seen=$(tcp_ok host "$addr" "host to guest $n") || exit 1
	[[ $seen == "$net.1":* ]] || die "host to guest $n: seen as $seen, not from $net.1"
done
for gw in 10.10.1.1 10.10.2.1 10.10.3.1; do ping_ok uplink "$gw" "uplink's route to the networks"; done
tcp_ok host "$SERVER" "host to the uplink server" >/dev/null

log "nat: the guest reaches the uplink, masqueraded to the host's uplink address"
seen=$(tcp_ok a "$SERVER" "nat guest to the uplink") || exit 1
[[ $seen == "$HOST_UP":* ]] || die "nat: the uplink saw the guest's TCP as $seen, not from $HOST_UP"
seen=$(udp_ok a 500 "$SERVER" "nat guest UDP from port 500") || exit 1
[[ $seen == "$HOST_UP":* ]] || die "nat: the uplink saw the guest's UDP as $seen, not from $HOST_UP"
port=${seen##*:}
if [ "$port" -lt 1024 ] || [ "$port" -gt 65535 ]; then
	die "nat: UDP from guest port 500 left with source port $port, not in 1024-65535"
fi
ping_ok a 10.10.1.1 "nat guest to its gateway"

log "nat: the uplink cannot open a connection to the guest, even with a route"
tcp_blocked uplink 10.10.1.2 "nat: uplink to guest"
udp_blocked uplink 198.51.100.2 a 10.10.1.2 "nat: uplink to guest"

log "routed: the uplink sees the guest's own address and can connect to it"
seen=$(tcp_ok c "$SERVER" "routed guest to the uplink") || exit 1
[[ $seen == 10.10.3.2:* ]] || die "routed: the uplink saw the guest as $seen, not 10.10.3.2"
seen=$(tcp_ok uplink 10.10.3.2 "routed: uplink to guest") || exit 1
[[ $seen == 198.51.100.2:* ]] || die "routed: the guest saw the uplink as $seen"

log "isolated: gateway and guests of the same bridge, nothing forwarded"
ping_ok b1 10.10.2.1 "isolated guest to its gateway"
seen=$(tcp_ok b1 10.10.2.3 "isolated guest to a guest on the same bridge") || exit 1
[[ $seen == 10.10.2.2:* ]] || die "isolated: b2 saw b1 as $seen"
tcp_ok b2 10.10.2.2 "isolated guest to a guest on the same bridge" >/dev/null
# The uplink server answers others (nat and routed guests above); the uplink has a route here.
tcp_blocked b1 "$SERVER" "isolated: guest to uplink"
udp_blocked b1 10.10.2.2 uplink "$SERVER" "isolated: guest to uplink"
tcp_blocked b1 198.51.100.2 "isolated: guest to the uplink's near address"
tcp_blocked uplink 10.10.2.2 "isolated: uplink to guest"
udp_blocked uplink 198.51.100.2 b1 10.10.2.2 "isolated: uplink to guest"

log "between networks: only the routed network's guests can be reached"
seen=$(tcp_ok a 10.10.3.2 "nat guest to routed guest") || exit 1
[[ $seen == 10.10.3.* ]] || die "nat guest to routed guest: seen as $seen"
# All guests' servers answer the host (checked above), and every guest has its default route.
tcp_blocked c 10.10.1.2 "routed guest to nat guest"
udp_blocked c 10.10.3.2 a 10.10.1.2 "routed guest to nat guest"
tcp_blocked a 10.10.2.2 "nat guest to isolated guest"
udp_blocked a 10.10.1.2 b1 10.10.2.2 "nat guest to isolated guest"
tcp_blocked c 10.10.2.2 "routed guest to isolated guest"
udp_blocked c 10.10.3.2 b1 10.10.2.2 "routed guest to isolated guest"
tcp_blocked b1 10.10.1.2 "isolated guest to nat guest"
udp_blocked b1 10.10.2.2 a 10.10.1.2 "isolated guest to nat guest"
# isolated forwards nothing, also not into a network that accepts from anywhere
udp_blocked b1 10.10.2.2 c 10.10.3.2 "isolated guest to routed guest"
tcp_blocked b1 10.10.3.2 "isolated guest to routed guest"

log "open: bridge and address, no rules"
assert_eq "$(ipv4 vbr-open)" 10.10.4.1/24 "open bridge address"
j=$(in_host nft -j list table inet vnet)
assert_eq "$(jq -r '[.nftables[] | select(.chain) | .chain.name | select(startswith("net-op-"))] | join(",")' <<<"$j")" \
	"" "chains of the open network"
assert_eq "$(jq -r '[.nftables[] | select(.map) | .map.name as $m | (.map.elem // [])[] |
	select(.[0] == "vbr-open") | $m] | join(",")' <<<"$j")" "" "maps with an element for vbr-open"
assert_eq "$(jq -r '[.nftables[] | select(.map) | (.map.elem // [])[] |
	select(.[0] == "vbr-nat")] | length' <<<"$j")" 4 "map elements for vbr-nat (the query works)"

log "all modes but open accept DHCP and DNS on the input hook"
for n in nat rt iso; do
	got=$(rules "net-$n-in")
	for r in "udp.dport==67 accept" "udp.dport==53 accept" "tcp.dport==53 accept"; do
		grep -qxF "$r" <<<"$got" || die "net-$n-in lacks '$r': $got"
	done
done
in_net_open=$(jq -r '.nftables[] | select(.map and .map.name == "in_net") |
	(.map.elem // [])[] | select(.[0] == "vbr-open") | .[1] | tostring' <<<"$j")
assert_eq "$in_net_open" "" "input dispatch for the open network"

log "nat never masquerades to 224.0.0.0/24 or 255.255.255.255"
nat_rules=$(rules net-nat-nat)
first_masq=$(grep -n masquerade <<<"$nat_rules" | head -n1 | cut -d: -f1)
[ -n "$first_masq" ] || die "net-nat-nat has no masquerade rule: $nat_rules"
for d in 224.0.0.0/24 255.255.255.255; do
	line=$(grep -nE "ip\.daddr==${d//./\\.} (.* )?return$" <<<"$nat_rules" | head -n1 | cut -d: -f1)
	[ -n "$line" ] || die "net-nat-nat has no return rule for $d: $nat_rules"
	[ "$line" -lt "$first_masq" ] || die "the return for $d comes after a masquerade: $nat_rules"
done
for p in tcp udp; do
	grep -qE "l4proto==$p masquerade:1024-65535$" <<<"$nat_rules" ||
		die "net-nat-nat does not masquerade $p to ports 1024-65535: $nat_rules"
done

log "mode changes are live: the guest stays on the same bridge"
idx=$(ifindex vbr-nat)
addr=$(ipv4 vbr-nat)
still_attached() {
	assert_eq "$(vnetctl --json show nat | jq -r .mode)" "$1" "mode after the change"
	assert_eq "$(master g-a)" vbr-nat "bridge of the guest's veth in $1 mode"
	assert_eq "$(ifindex vbr-nat)" "$idx" "ifindex of vbr-nat in $1 mode"
	assert_eq "$(ipv4 vbr-nat)" "$addr" "address of vbr-nat in $1 mode"
}

# nft monitor prints "# new generation N by process P (NAME)" when a transaction commits:
# that line closes each transaction. Marker tables (in $HOST only) open and close the window.
# Not through in_host (a function: $! would be a subshell): $! must be the monitor itself.
ip netns exec "$HOST" nft monitor >"$T/monitor" 2>&1 &
mon=$!
PIDS+=("$mon")
# mark NAME: commit a transaction of our own and wait until the monitor shows it; sets MARK
# to the table's name (the monitor may start listening only after the first tries).
mark() {
	local i
	for i in $(seq 1 100); do
		in_host nft add table ip "$1$i" || die "cannot add a marker table"
		for _ in 1 2 3 4 5; do
			grep -qx "add table ip $1$i" "$T/monitor" && { MARK=$1$i; return 0; }
			sleep 0.01
		done
	done
	die "nft monitor shows nothing"
}
mark vnettest_begin
m1=$MARK
vnetctl mode nat routed >/dev/null || die "mode nat routed"
mark vnettest_end
m2=$MARK
kill "$mon"
wait "$mon" 2>/dev/null
in_host nft -j list tables | jq -r '.nftables[] | select(.table) | .table.name' |
	grep '^vnettest_' | while read -r t; do in_host nft delete table ip "$t"; done
# From the generation line closing the first marker to the second marker.
window=$(awk -v b="add table ip $m1" -v e="add table ip $m2" '
	$0 == b { on = 1; next } $0 == e { on = 0 } on' "$T/monitor")
if ! grep -q '^# new generation' "$T/monitor"; then
	# nftables before 0.9.x printed no generation lines, so transactions cannot be told apart.
	log "SKIP one-transaction check: this nft monitor prints no transaction boundaries"
else
	changes=$(sed '1{/^# new generation/d}' <<<"$window")
	n_gen=$(grep -c '^# new generation' <<<"$changes")
	n_changes=$(grep -vc '^# new generation' <<<"$changes")
	[ "$n_changes" -gt 0 ] || die "nft monitor saw no change for the mode change: $window"
	if [ "$n_gen" -ne 1 ] || [[ $(tail -n1 <<<"$changes") != "# new generation"* ]]; then
		cat "$T/monitor"
		die "the mode change took $n_gen transactions, not one"
	fi
	grep -v '^# new generation' <<<"$changes" | grep -qv ' inet vnet ' &&
		die "the mode change's transaction touched more than table inet vnet: $changes"
	log "the mode change was one transaction of $n_changes changes: $(tail -n1 <<<"$changes")"
fi

log "nat -> routed: the uplink now sees the guest's own address and can connect to it"
still_attached routed
seen=$(tcp_ok a "$SERVER" "routed (was nat) guest to the uplink") || exit 1
[[ $seen == 10.10.1.2:* ]] || die "after nat -> routed the uplink saw the guest as $seen"
seen=$(tcp_ok uplink 10.10.1.2 "routed (was nat): uplink to guest") || exit 1
[[ $seen == 198.51.100.2:* ]] || die "after nat -> routed the guest saw the uplink as $seen"

log "routed -> isolated: the uplink is out of reach, the gateway is not"
vnetctl mode nat isolated >/dev/null || die "mode nat isolated"
still_attached isolated
tcp_blocked a "$SERVER" "isolated (was routed) guest to the uplink"
tcp_blocked uplink 10.10.1.2 "isolated (was routed): uplink to guest"
ping_ok a 10.10.1.1 "isolated (was routed) guest to its gateway"
tcp_ok host 10.10.1.2 "host to the isolated (was routed) guest" >/dev/null

log "isolated -> nat: masquerade again"
vnetctl mode nat nat >/dev/null || die "mode nat nat"
still_attached nat
seen=$(tcp_ok a "$SERVER" "nat (was isolated) guest to the uplink") || exit 1
[[ $seen == "$HOST_UP":* ]] || die "after isolated -> nat the uplink saw the guest as $seen"
tcp_blocked uplink 10.10.1.2 "nat (was isolated): uplink to guest"
echo "ok"
