#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A network's life: create, list, show, stop, start, destroy; the bridge as asked; files on
# disk; autostart of hand-written definitions; restart of vnetd without touching bridges; --json
# output of the verbs that change things.
. "$(dirname "$0")/lib.sh"

setup_host
# A hand-written definition (the shipped default) must come up at start: it autostarts.
cp config/networks/default.conf "$T/etc/networks/default.conf"
# ...and one that does not autostart stays down.
cat >"$T/etc/networks/manual.conf" <<EOF
[Network]
Mode=isolated
EOF
# ...and one whose bridge name is taken by a foreign interface fails alone, saying why.
cat >"$T/etc/networks/clash.conf" <<EOF
[Network]
Bridge=foreign0
Mode=isolated
Autostart=yes
EOF
in_host ip link add foreign0 type veth peer name foreign0p
start_vnetd

log "a network that cannot come up is failed, with the reason; the others are fine"
out=$(vnetctl --json show clash)
assert_eq "$(jq -r .state <<<"$out")" failed "clash state"
assert_contains "$(jq -r .error <<<"$out")" "does not belong to vnet" "clash error"
assert_contains "$(jq -r .error <<<"$out")" "foreign0" "clash error"
assert_contains "$(vnetctl show clash)" "does not belong to vnet" "show clash"
in_host ip -d link show foreign0 | grep -q veth || die "the foreign interface was touched"
vnetctl destroy clash >/dev/null || die "destroy clash"
in_host ip link show foreign0 >/dev/null || die "destroying the failed network removed foreign0"

log "the default network came up at start"
out=$(vnetctl --json show default)
assert_eq "$(jq -r .state <<<"$out")" running "default state"
assert_eq "$(jq -r .bridge <<<"$out")" virbr0 "default bridge"
assert_eq "$(jq -r .ipv4 <<<"$out")" 192.168.122.1/24 "default ipv4"
mac=$(jq -r .mac <<<"$out")
[[ $mac == 52:54:00:* ]] || die "generated MAC $mac lacks the 52:54:00 prefix"
grep -q "^MAC=$mac" "$T/etc/networks/default.conf" || die "generated MAC not written back"
assert_eq "$(vnetctl --json show manual | jq -r .state)" stopped "manual state"
in_host ip -4 -o addr show dev virbr0 | grep -q "192.168.122.1/24 brd 192.168.122.255" ||
	die "virbr0 lacks its address"

log "create with every option"
vnetctl create lab --bridge vbr-lab --mode routed --ipv4 10.77.0.1/16 --mtu 9000 \
	--mac 52:54:00:aa:bb:cc --stp on --autostart >/dev/null || die "create lab"
d=$(in_host ip -d -j link show vbr-lab)
assert_eq "$(jq -r '.[0].mtu' <<<"$d")" 9000 "lab mtu"
assert_eq "$(jq -r '.[0].address' <<<"$d")" 52:54:00:aa:bb:cc "lab mac"
assert_eq "$(jq -r '.[0].linkinfo.info_data.stp_state' <<<"$d")" 1 "lab stp"
# With STP on the kernel keeps the forward delay at its minimum of 2 s (200 centiseconds).
assert_eq "$(jq -r '.[0].linkinfo.info_data.forward_delay' <<<"$d")" 200 "lab forward delay"
assert_contains "$(jq -r '.[0].flags | join(",")' <<<"$d")" UP "lab flags"
[ -f "$T/etc/networks/lab.conf" ] || die "lab.conf not written"
grep -q '^Mode=routed' "$T/etc/networks/lab.conf" || die "lab.conf lacks Mode=routed"
grep -q '^Autostart=yes' "$T/etc/networks/lab.conf" || die "lab.conf lacks Autostart=yes"

log "defaults: first free virbrN, nat, STP off, MTU 1500"
vnetctl create plain --ipv4 10.78.0.1/24 >/dev/null || die "create plain"
out=$(vnetctl --json show plain)
assert_eq "$(jq -r .bridge <<<"$out")" virbr1 "plain bridge"
assert_eq "$(jq -r .mode <<<"$out")" nat "plain mode"
d=$(in_host ip -d -j link show virbr1)
assert_eq "$(jq -r '.[0].mtu' <<<"$d")" 1500 "plain mtu"
assert_eq "$(jq -r '.[0].linkinfo.info_data.stp_state' <<<"$d")" 0 "plain stp"
assert_eq "$(jq -r '.[0].linkinfo.info_data.forward_delay' <<<"$d")" 0 "plain forward delay"

log "with DHCP and DNS off a network has no dnsmasq"
vnetctl create quiet --ipv4 10.79.0.1/24 --no-dhcp --no-dns >/dev/null || die "create quiet"
assert_eq "$(vnetctl --json show quiet | jq -r '.dnsmasq // "none"')" none "quiet's dnsmasq"
[ -e "$T/run/dnsmasq/quiet.conf" ] && die "quiet has a dnsmasq configuration"
grep -q '^Enabled=no' "$T/etc/networks/quiet.conf" || die "quiet.conf lacks Enabled=no"
assert_eq "$(vnetctl --json show plain | jq -r '.dnsmasq.running')" true "plain's dnsmasq"
vnetctl destroy quiet >/dev/null || die "destroy quiet"

log "transient networks are not written to the configuration directory"
vnetctl create temp --transient --mode isolated >/dev/null || die "create temp"
[ -e "$T/etc/networks/temp.conf" ] && die "transient network written to config dir"
assert_eq "$(vnetctl --json show temp | jq -r .transient)" true "temp transient"

log "list: a table for people and JSON for scripts"
table=$(vnetctl list)
head -n1 <<<"$table" | grep -q NAME || die "list has no header: $table"
for n in default lab plain temp manual; do grep -q "^$n " <<<"$table" || die "list lacks $n"; done
assert_eq "$(vnetctl --json list | jq -r 'map(.name) | join(",")')" default,lab,manual,plain,temp \
	"list --json names"
show=$(vnetctl show lab)
assert_contains "$show" "routed" "show lab"
assert_contains "$show" "10.77.0.1/16" "show lab"

log "stop keeps the definition; start brings the same bridge back"
vnetctl stop plain >/dev/null || die "stop plain"
in_host ip link show virbr1 >/dev/null 2>&1 && die "virbr1 still there after stop"
assert_eq "$(vnetctl --json show plain | jq -r .state)" stopped "plain after stop"
vnetctl start plain >/dev/null || die "start plain"
assert_eq "$(in_host ip -j link show virbr1 | jq -r '.[0].address')" \
	"$(jq -r .mac <<<"$out")" "MAC kept across stop/start"

log "restarting vnetd touches no bridge"
idx_before=$(in_host ip -j link show | jq -c '[.[] | select(.ifname|test("^(virbr|vbr)")) | [.ifname,.ifindex]]')
rules_before=$(in_host nft list table inet vnet | sort)
# Not through in_host (a function: $! would be a subshell): $! must be the monitor itself.
ip netns exec "$HOST" ip monitor link address >"$T/monitor" 2>&1 &
mon=$!
PIDS+=("$mon")
# a restart whose table is already right changes no rule: nft monitor sees nothing
ip netns exec "$HOST" nft monitor >"$T/nft-monitor" 2>&1 &
nmon=$!
PIDS+=("$nmon")
monitor_mark "$T/monitor" link
monitor_mark "$T/nft-monitor" nft
stop_vnetd TERM
log "vnetd stopped"
in_host ip link show virbr0 >/dev/null || die "SIGTERM took the default network down"
in_host nft list table inet vnet >/dev/null || die "SIGTERM removed the rules"
start_vnetd
monitor_mark "$T/monitor" link
monitor_mark "$T/nft-monitor" nft
kill "$mon" "$nmon"
wait "$mon" "$nmon" 2>/dev/null
if nft_events "$T/nft-monitor" | grep -qE '^(add|delete|flush|replace|insert) '; then
	cat "$T/nft-monitor"
	die "the restart changed nftables rules"
fi
bad=$(link_flaps "$T/monitor")
if [ -n "$bad" ]; then
	cat "$T/monitor"
	die "the restart changed links or addresses: $bad"
fi
idx_after=$(in_host ip -j link show | jq -c '[.[] | select(.ifname|test("^(virbr|vbr)")) | [.ifname,.ifindex]]')
assert_eq "$idx_after" "$idx_before" "bridges after restart"
assert_eq "$(in_host nft list table inet vnet | sort)" "$rules_before" "rules after restart"
assert_eq "$(vnetctl --json show plain | jq -r .state)" running "plain after restart"
assert_eq "$(vnetctl --json show temp | jq -r .state)" running "transient after restart"
assert_eq "$(vnetctl --json show manual | jq -r .state)" stopped "manual after restart"

log "a network stopped on purpose stays stopped across a vnetd restart"
vnetctl stop default >/dev/null || die "stop default"
stop_vnetd TERM
start_vnetd
assert_eq "$(vnetctl --json show default | jq -r .state)" stopped "default after restart"

log "destroy removes bridge, rules and definition"
vnetctl destroy lab >/dev/null || die "destroy lab"
in_host ip link show vbr-lab >/dev/null 2>&1 && die "vbr-lab still there"
[ -e "$T/etc/networks/lab.conf" ] && die "lab.conf still there"
in_host nft list table inet vnet | grep -q 'lab' && die "rules of lab remain"
expect_fail "show destroyed" vnetctl show lab | grep -q "not found" || die "show lab message"

log "--json (and -j, before or after the verb): one JSON document per command"
# json WHAT ARGS...: runs vnetctl ARGS, which must succeed and print exactly one JSON document;
# sets J to it.
json() {
	local what=$1
	shift
	J=$(vnetctl "$@") || die "$what failed"
	[ "$(jq -s length <<<"$J" 2>/dev/null)" = 1 ] || die "$what: not one JSON document: $J"
}
json "create --json" --json create js --mode isolated --ipv4 10.81.0.1/24
assert_eq "$(jq -r '[.name, .state] | join(" ")' <<<"$J")" "js running" "create --json"
json "-j stop" -j stop js
assert_eq "$(jq -r '[.name, .state] | join(" ")' <<<"$J")" "js stopped" "-j stop"
json "start --json (after the verb)" start js --json
assert_eq "$(jq -r '[.name, .state] | join(" ")' <<<"$J")" "js running" "start --json"
json "-j mode" -j mode js routed
assert_eq "$(jq -r '[.name, .mode] | join(" ")' <<<"$J")" "js routed" "-j mode"
json "-j attach" -j attach js --ifname jt0
assert_eq "$(jq -r '[.network, .ifname] | join(" ")' <<<"$J")" "js jt0" "-j attach"
json "-j ports" -j ports js
assert_eq "$(jq -r 'map(.ifname) | join(",")' <<<"$J")" jt0 "-j ports"
json "-j detach" -j detach js jt0
assert_eq "$(jq -c . <<<"$J")" "{}" "-j detach"
json "-j ports after detach" -j ports js
assert_eq "$(jq -c . <<<"$J")" "[]" "-j ports after detach"
json "-j host add" -j host add js --mac 52:54:00:81:00:10 --ip 10.81.0.10 --name web
assert_eq "$(jq -r 'map([.mac, .ip, .hostname] | join(" ")) | join(",")' <<<"$J")" \
	"52:54:00:81:00:10 10.81.0.10 web" "-j host add (the reservations)"
json "-j hosts" -j hosts js
assert_eq "$(jq -r 'map(.mac) | join(",")' <<<"$J")" 52:54:00:81:00:10 "-j hosts"
json "-j host del" -j host del js --mac 52:54:00:81:00:10
assert_eq "$(jq -c . <<<"$J")" "[]" "-j host del (the reservations left)"
json "-j reload" -j reload
assert_eq "$(jq -c . <<<"$J")" "{}" "-j reload"
json "destroy --json" --json destroy js
assert_eq "$(jq -c . <<<"$J")" "{}" "destroy --json"
expect_fail "show js after destroy --json" vnetctl show js >/dev/null

log "after the last network stops, no rule of any network remains"
for n in plain temp; do vnetctl destroy "$n" >/dev/null || die "destroy $n"; done
vnetctl destroy manual >/dev/null || die "destroy manual"
vnetctl destroy default >/dev/null || die "destroy default"
j=$(in_host nft -j list table inet vnet)
assert_eq "$(jq -r '[.nftables[] | select(.chain) | .chain.name] | sort | join(",")' <<<"$j")" \
	forward,input,mangle_postrouting,postrouting "chains left (the skeleton only)"
assert_eq "$(jq '[.nftables[] | select(.map) | (.map.elem // []) | length] | add' <<<"$j")" 0 \
	"map elements left"
assert_eq "$(jq '[.nftables[] | select(.set) | (.set.elem // []) | length] | add // 0' <<<"$j")" 0 \
	"set elements left"
assert_eq "$(vnetctl --json list)" "[]" "list after destroying all"
echo "ok"
