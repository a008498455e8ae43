#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input is refused, whole: one line on stderr that names the field, a non-zero exit, the
# right error type on the wire, and nothing changed - rules, links, addresses, routes and the
# files in the configuration and runtime directories are as they were before.
. "$(dirname "$0")/lib.sh"

VLCLIENT="$TOOLS/vlclient"
[ -x "$VLCLIENT" ] || die "$VLCLIENT missing: make tests"

setup_host
start_vnetd

# What vnetd could change, without what moves by itself: bridge timers, counters, and the
# carrier (a bridge without ports loses it a moment after it comes up: the kernel's doing).
# One process in the namespace, few tools: this runs once for each of the many cases.
snapshot() {
	# vnetd makes a spare TAP after an attach's reply, before it reads the next request: a
	# request first, so that the links are read once that is done.
	vnetctl list >/dev/null
	in_host bash -c '
		carrier="NO-CARRIER|LOWER_UP|M-DOWN"
		nft list ruleset
		ip -br link | sed -E -e "s/^([^ ]+) +[A-Z]+ +/\1 /" -e "s/($carrier),?//g" -e "s/,>/>/"
		ip -br addr | sed -E "s/^([^ ]+) +[A-Z]+ +/\1 /"
		ip route show table all | sed "s/ linkdown//"
		ip -d link | sed -E -e "s/ (hello|tcn|topology_change|gc)_timer +[0-9.]+//g" \
			-e "s/ state [A-Z]+ / /" -e "s/($carrier),?//g" -e "s/,>/>/"
		sysctl -n net.ipv4.ip_forward
		find "$1/etc/networks" "$1/run/networks" "$1/run/transient" -type f -printf "%p %m\n" |
			sort
		find "$1/etc/networks" "$1/run/networks" "$1/run/transient" -type f -print0 | sort -z |
			xargs -0r tail -n +1 --
		"$2" -s "$3" --json list
	' snapshot "$T" "$VNETCTL" "$SOCK"
}

# The state before the next refusal: taken again after each change the test makes itself.
BEFORE=
resnap() { BEFORE=$(snapshot); }
unchanged() {
	local after
	after=$(snapshot)
	if [ "$after" != "$BEFORE" ]; then
		diff <(echo "$BEFORE") <(echo "$after")
		die "$1: refused but something changed"
	fi
}

# Error name and parameters of a raw call: a JSON line.
raw_call() { in_host "$VLCLIENT" "$SOCK" connect 0 call 0 "$@"; }

# refuse WHAT FIELD COMMAND...: the vnetctl command must fail with one line on stderr that
# names FIELD (case-insensitive), and change nothing.
refuse() {
	local what=$1 field=$2 err
	shift 2
	err=$(expect_fail "$what" "$@") || exit 1
	log "$what -> $err"
	grep -qi -- "$field" <<<"$err" || die "$what: the message does not name '$field': $err"
	unchanged "$what"
}

# refuse_raw WHAT ERROR PARAMETER METHOD JSON: the call answers io.vnet.ERROR (with
# "parameter": PARAMETER unless that is "-") and changes nothing.
refuse_raw() {
	local what=$1 error=$2 param=$3 out got
	shift 3
	out=$(raw_call "$@") || die "$what: no reply"
	got=$(jq -r '.error + " " + (.parameters.parameter // "")' <<<"$out")
	if [ "$param" = - ]; then
		assert_eq "${got%% *}" "io.vnet.$error" "$what: error"
	else
		assert_eq "$got" "io.vnet.$error $param" "$what: error and parameter"
	fi
	unchanged "$what"
}

# The parameters of CreateNetwork for an io.vnet.Network.
net() { printf '{"network":%s}' "$1"; }
# refuse_create WHAT ERROR PARAMETER NETWORK: refuse_raw of CreateNetwork.
refuse_create() { refuse_raw "$1" "$2" "$3" io.vnet.CreateNetwork "$(net "$4")"; }

log "networks to collide with"
vnetctl create base --bridge vbr-base --ipv4 10.50.0.1/16 --mac 52:54:00:50:00:01 >/dev/null ||
	die "create base"
vnetctl create iso --bridge vbr-iso --mode isolated >/dev/null || die "create iso"
vnetctl create down --bridge vbr-down --mode isolated >/dev/null || die "create down"
vnetctl stop down >/dev/null || die "stop down"
in_host ip link show vbr-base >/dev/null || die "vbr-base missing"
resnap

log "network names"
long33=$(printf 'a%.0s' $(seq 1 33))
refuse "empty name" name vnetctl create "" --mode isolated
refuse "33-character name" name vnetctl create "$long33" --mode isolated
refuse "leading '-'" name vnetctl create --mode isolated -- -lead
refuse "leading '.'" name vnetctl create .hidden --mode isolated
refuse "'/' in name" name vnetctl create a/b --mode isolated
refuse "'..' as name" name vnetctl create .. --mode isolated
refuse "space in name" name vnetctl create "a b" --mode isolated
refuse "newline in name" name vnetctl create $'a\nb' --mode isolated
refuse "non-ASCII name" name vnetctl create "naïve" --mode isolated
refuse "non-UTF-8 name" name vnetctl create $'n\xff' --mode isolated
refuse "bad name to show" name vnetctl show "a/b"
refuse "bad name to destroy" name vnetctl destroy $'x\ny'
refuse_create "raw: 33-character name" InvalidParameter name "{\"name\":\"$long33\"}"
refuse_create "raw: name with newline" InvalidParameter name '{"name":"a\nb","mode":"isolated"}'
refuse_create "raw: name not a string" InvalidParameter name '{"name":7,"mode":"isolated"}'
refuse_create "raw: no name" InvalidParameter name '{"mode":"isolated"}'
refuse_create "raw: unknown field" InvalidParameter color \
	'{"name":"x","mode":"isolated","color":"red"}'
refuse_raw "raw: GetNetwork '../x'" InvalidParameter name io.vnet.GetNetwork '{"name":"../x"}'

log "bridge names"
refuse "16-byte bridge" bridge vnetctl create x --mode isolated --bridge abcdefghijklmnop
refuse "'/' in bridge" bridge vnetctl create x --mode isolated --bridge br/0
refuse "space in bridge" bridge vnetctl create x --mode isolated --bridge "br 0"
refuse "newline in bridge" bridge vnetctl create x --mode isolated --bridge $'br\n0'
refuse "empty bridge" bridge vnetctl create x --mode isolated --bridge ""
refuse "'..' as bridge" bridge vnetctl create x --mode isolated --bridge ..
refuse_create "raw: 16-byte bridge" InvalidParameter bridge \
	'{"name":"x","mode":"isolated","bridge":"abcdefghijklmnop"}'

log "ipv4"
for bad in 10.1.2.1/33 300.1.1.1/24 10.1.2.1 10.1.2.1/ /24 garbage 10.1.2.1/24x 10.1.2/24 \
	10.1.2.0/24 10.1.2.255/24 10.1.2.1/0 10.1.2.1/31 10.1.2.1/32 127.0.0.1/8 224.0.0.1/24 \
	0.1.2.3/8 " 10.1.2.1/24" $'10.1.2.1/24\n'; do
	refuse "--ipv4 '$bad'" ipv4 vnetctl create x --ipv4 "$bad"
done
refuse_create "raw: gateway is the network address" InvalidParameter ipv4 \
	'{"name":"x","ipv4":"10.1.2.0/24"}'
refuse_create "raw: gateway is the broadcast" InvalidParameter ipv4 \
	'{"name":"x","ipv4":"10.1.2.255/24"}'
refuse_create "raw: ipv4 not a string" InvalidParameter ipv4 '{"name":"x","ipv4":167838209}'

log "mtu"
for bad in 67 65536 0 -1 abc 1500x "" 4294967297 99999999999999999999; do
	refuse "--mtu '$bad'" mtu vnetctl create x --mode isolated --mtu "$bad"
done
refuse_create "raw: mtu 67" InvalidParameter mtu '{"name":"x","mode":"isolated","mtu":67}'
refuse_create "raw: mtu 2^32+1500" InvalidParameter mtu \
	'{"name":"x","mode":"isolated","mtu":4294968796}'
refuse_create "raw: mtu as string" InvalidParameter mtu \
	'{"name":"x","mode":"isolated","mtu":"1500"}'
refuse_create "raw: mtu as real" InvalidParameter mtu '{"name":"x","mode":"isolated","mtu":1500.5}'

log "mac"
for bad in 01:00:5e:00:00:01 00:00:00:00:00:00 ff:ff:ff:ff:ff:ff 53:54:00:12:34:56 \
	52:54:00:12:34 52:54:00:12:34:56:78 52-54-00-12-34-56 zz:54:00:12:34:56 " 52:54:00:12:34:5" \
	52:54:00:12:34:5g "" 52:54:00:50:00:01; do
	refuse "--mac '$bad'" mac vnetctl create x --mode isolated --mac "$bad"
done
refuse_create "raw: multicast mac" InvalidParameter mac \
	'{"name":"x","mode":"isolated","mac":"01:00:5e:00:00:01"}'

log "mode"
refuse "unknown mode at create" mode vnetctl create x --mode bridge
refuse "mode with newline" mode vnetctl create x --mode $'nat\nrouted' --ipv4 10.1.2.1/24
refuse "unknown mode at set" mode vnetctl mode base bogus
refuse "empty mode at set" mode vnetctl mode base ""
refuse "nat without ipv4" ipv4 vnetctl create x
refuse "explicit nat without ipv4" ipv4 vnetctl create x --mode nat
refuse "routed without ipv4" ipv4 vnetctl create x --mode routed
refuse "isolated network set to nat without ipv4" ipv4 vnetctl mode iso nat
refuse "stopped network set to routed without ipv4" ipv4 vnetctl mode down routed
refuse_create "raw: unknown mode at create" InvalidParameter mode \
	'{"name":"x","mode":"NAT","ipv4":"10.1.2.1/24"}'
refuse_raw "raw: unknown mode at set" InvalidParameter mode io.vnet.SetMode \
	'{"name":"base","mode":"bogus"}'
refuse_raw "raw: mode not a string" InvalidParameter mode io.vnet.SetMode '{"name":"base","mode":1}'
refuse_raw "raw: set routed without ipv4" InvalidParameter - io.vnet.SetMode \
	'{"name":"iso","mode":"routed"}'
refuse_create "raw: transient and autostart" InvalidParameter autostart \
	'{"name":"x","mode":"isolated","transient":true,"autostart":true}'

log "subnets that overlap another network's"
for ov in 10.50.0.1/16 10.50.3.1/24 10.0.0.1/8 10.50.255.254/30 10.48.0.1/13; do
	refuse "--ipv4 $ov overlaps base" ipv4 vnetctl create x --ipv4 "$ov"
	refuse_create "raw: $ov overlaps base" AddressConflict ipv4 "{\"name\":\"x\",\"ipv4\":\"$ov\"}"
done
# A stopped network's subnet is taken too: it comes back with it.
vnetctl create parked --bridge vbr-parked --ipv4 10.60.0.1/24 >/dev/null || die "create parked"
vnetctl stop parked >/dev/null || die "stop parked"
resnap
refuse "--ipv4 overlaps a stopped network" ipv4 vnetctl create x --ipv4 10.60.0.129/25

log "subnets that overlap an address or a route of the host"
refuse "--ipv4 overlaps the uplink's subnet" ipv4 vnetctl create x --ipv4 198.51.100.5/24
refuse "--ipv4 contains the uplink's subnet" ipv4 vnetctl create x --ipv4 198.51.0.1/16
in_host ip addr add 192.0.2.1/24 dev uplink0 || die "add a host address"
resnap
refuse "--ipv4 overlaps a host address" ipv4 vnetctl create x --ipv4 192.0.2.129/25
refuse_create "raw: host address" AddressConflict ipv4 '{"name":"x","ipv4":"192.0.2.200/24"}'
in_host ip route add 10.70.0.0/16 via 198.51.100.2 dev uplink0 || die "add a host route"
resnap
refuse "--ipv4 inside a host route" ipv4 vnetctl create x --ipv4 10.70.5.1/24
refuse "--ipv4 around a host route" ipv4 vnetctl create x --ipv4 10.64.0.1/12
refuse_create "raw: host route" AddressConflict ipv4 '{"name":"x","ipv4":"10.70.1.1/24"}'
# The default route is not a conflict: every network "overlaps" it.
vnetctl create fine --bridge vbr-fine --ipv4 10.80.0.1/24 >/dev/null ||
	die "a subnet overlapping only the default route was refused"
resnap

log "the conflict check follows the host's changes (vnetd keeps a view of them)"
in_host ip route del 10.70.0.0/16 || die "del the host route"
vnetctl create x70 --bridge vbr-x70 --ipv4 10.70.5.1/24 >/dev/null ||
	die "a subnet was refused after the route in its way was deleted"
vnetctl destroy x70 >/dev/null || die "destroy x70"
vnetctl create x70 --bridge vbr-x70 --ipv4 10.70.5.1/24 >/dev/null ||
	die "the subnet of a network just destroyed was refused"
vnetctl destroy x70 >/dev/null || die "destroy x70 again"
in_host ip addr del 192.0.2.1/24 dev uplink0 || die "del the host address"
vnetctl create x192 --bridge vbr-x192 --ipv4 192.0.2.129/25 >/dev/null ||
	die "a subnet was refused after the address in its way was deleted"
vnetctl destroy x192 >/dev/null || die "destroy x192"
# IPv4 drops the routes through an interface that goes down, and says nothing of it
# (a veth: this kernel may have no dummy interfaces).
in_host ip link add dummyc type veth peer name dummyc1 || die "add dummyc"
in_host ip link set dummyc1 up || die "dummyc1 up"
in_host ip link set dummyc up || die "dummyc up"
in_host ip route add 10.71.0.0/16 dev dummyc || die "add a route through dummyc"
resnap
refuse "--ipv4 inside a route through dummyc" ipv4 vnetctl create x --ipv4 10.71.1.1/24
in_host ip link set dummyc down || die "dummyc down"
[ -z "$(in_host ip route show 10.71.0.0/16)" ] || die "the kernel kept the route of a link down"
vnetctl create x71 --bridge vbr-x71 --ipv4 10.71.1.1/24 >/dev/null ||
	die "a subnet was refused after the link of the route in its way went down"
vnetctl destroy x71 >/dev/null || die "destroy x71"
in_host ip link set dummyc up || die "dummyc up again"
in_host ip route add 10.71.0.0/16 dev dummyc || die "add the route again"
in_host ip link del dummyc || die "del dummyc"
vnetctl create x71 --bridge vbr-x71 --ipv4 10.71.1.1/24 >/dev/null ||
	die "a subnet was refused after the link of the route in its way was deleted"
vnetctl destroy x71 >/dev/null || die "destroy x71 again"
resnap

log "a network that exists"
refuse "create base again" base vnetctl create base --bridge vbr-other --ipv4 10.90.0.1/24
refuse "create iso again, same definition" iso vnetctl create iso --bridge vbr-iso --mode isolated
refuse_create "raw: create base again" NetworkExists - '{"name":"base","mode":"isolated"}'
out=$(raw_call io.vnet.CreateNetwork "$(net '{"name":"base","mode":"isolated"}')")
assert_contains "$out" '"name":"base"' \
	"NetworkExists names the network"

log "bridges that are not free"
in_host ip link add foreign0 type bridge || die "add foreign0"
in_host ip link add foreignv0 type veth peer name foreignv1 || die "add foreignv0"
resnap
refuse "foreign bridge" bridge vnetctl create x --bridge foreign0 --mode isolated
refuse "foreign veth" bridge vnetctl create x --bridge foreignv0 --mode isolated
refuse "the uplink" bridge vnetctl create x --bridge uplink0 --mode isolated
refuse "lo" bridge vnetctl create x --bridge lo --mode isolated
refuse "another network's bridge" bridge vnetctl create x --bridge vbr-base --mode isolated
refuse "a stopped network's bridge" bridge vnetctl create x --bridge vbr-down --mode isolated
refuse_create "raw: foreign bridge" InterfaceInUse - \
	'{"name":"x","mode":"isolated","bridge":"foreign0"}'
refuse_create "raw: another network's bridge" InterfaceInUse - \
	'{"name":"x","mode":"isolated","bridge":"vbr-iso"}'
# A stopped network whose bridge name someone else took meanwhile does not start.
in_host ip link add vbr-down type bridge || die "add vbr-down"
resnap
refuse "start over a foreign bridge" bridge vnetctl start down
in_host ip link del vbr-down
resnap

log "unknown networks"
for verb in start stop show destroy; do
	refuse "$verb ghost" ghost vnetctl "$verb" ghost
	refuse_raw "raw: $verb ghost" NetworkNotFound - \
		"$(case $verb in start) echo io.vnet.StartNetwork ;; stop) echo io.vnet.StopNetwork ;;
			show) echo io.vnet.GetNetwork ;; destroy) echo io.vnet.DestroyNetwork ;; esac)" \
		'{"name":"ghost"}'
done
refuse "mode ghost" ghost vnetctl mode ghost isolated
refuse_raw "raw: mode ghost" NetworkNotFound - io.vnet.SetMode '{"name":"ghost","mode":"isolated"}'
err=$(expect_fail "show ghost" vnetctl show ghost)
assert_contains "$err" "not found" "show ghost"

log "--json changes only the output: errors are still one line on stderr"
refuse "--json create with a bad mtu" mtu vnetctl --json create x --mode isolated --mtu 67
refuse "--json show ghost" ghost vnetctl --json show ghost
vnetctl --json show ghost >"$T/out" 2>/dev/null && die "--json show ghost succeeded"
[ -s "$T/out" ] && die "--json show ghost wrote to stdout: $(cat "$T/out")"

log "after all that, the networks are as they were and vnetd still answers"
assert_eq "$(vnetctl --json list | jq -r 'map(.name + ":" + .state) | join(",")')" \
	base:running,down:stopped,fine:running,iso:running,parked:stopped "networks"
kill -0 "$VNETD_PID" || die "vnetd died"
echo "ok"
