#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Spare TAPs: after a network's first attach vnetd keeps one TAP made ahead for its next port
# (on the bridge, down, root's, in the spare device group, named by the runtime record), and
# an attach that can use it gets exactly that TAP, made the port's own (owner, group, MAC,
# up). Checked: when a spare is used and when not (a name of its own, no owner, queues), a
# spare giving up its name (to a multiqueue port, to another network's port, but not to a
# refused request), the hook refusing it, someone deleting or changing it or its bridge,
# vnetd restarts (kept as it is, or made anew), stop, SpareTAPs=no in vnetd.conf, destroy,
# and a guest behind a port that was a spare reaching the gateway.
# uid/gid 4711/4712 have no passwd/group entry, so `ip -d link` prints them as numbers.
. "$(dirname "$0")/lib.sh"

RELAY=$TOOLS/taprelay
SPARE_GROUP=1986946420 # MGR_SPARE_GROUP, "vnet"
OWNER=4711
GROUP=4712
[ -x "$RELAY" ] || die "taprelay not built (make tests)"

lj() { in_host ip -d -j link show "$1" 2>/dev/null; } # one link, `ip -d -j`
lf() { lj "$1" | jq -r ".[0]$2"; }                     # lf IFNAME JQ-PATH
ifindex() { lf "$1" .ifindex; }
spare() { vnetctl --json show "$1" | jq -r '.spare_tap // empty'; }
tapmac() { echo "fe${1:2}"; } # the TAP's own MAC for guest MAC $1
has_spare() { [ -n "$(spare "$1")" ]; }
no_spare() { [ -z "$(spare "$1")" ]; }
spare_links() {
	in_host ip -j link show | jq -r --arg g "$SPARE_GROUP" '.[] | select(.group == $g) | .ifname' |
		sort | xargs
}

# is_spare NET IFNAME: a TAP as a spare must be: persistent, root's, single-queue, on NET's
# bridge with its MTU, down, in the spare group, named by the runtime record.
is_spare() {
	local net=$1 ifn=$2 br d
	br=$(vnetctl --json show "$net" | jq -r .bridge)
	d=$(lj "$ifn") || die "spare $ifn does not exist"
	assert_eq "$(jq -c '.[0] | [.linkinfo.info_kind, .linkinfo.info_data.type,
		.linkinfo.info_data.persist, .linkinfo.info_data.user, .linkinfo.info_data.group // "none",
		.linkinfo.info_data.multi_queue, .master, .group, (.flags | index("UP") != null)]' <<<"$d")" \
		"[\"tun\",\"tap\",true,\"root\",\"none\",false,\"$br\",\"$SPARE_GROUP\",false]" \
		"$ifn as a spare (kind, type, persistent, user, group, multiqueue, master, device group, up)"
	assert_eq "$(lf "$ifn" .mtu)" "$(lf "$br" .mtu)" "$ifn MTU (the bridge's)"
	assert_eq "$(jq -r .spare "$T/run/networks/$net.json")" "$ifn" "the runtime record's spare"
	[ -z "$(vnetctl --json ports "$net" | jq -r --arg i "$ifn" '.[] | select(.ifname == $i)')" ] ||
		die "spare $ifn is listed as a port"
	not reserved "$ifn" || die "spare $ifn has a reservation"
}

setup_host
start_vnetd
vnetctl create a --bridge vbr-a --mode nat --ipv4 10.81.0.1/24 >/dev/null || die "create a"
vnetctl create b --bridge vbr-b --mode isolated --ipv4 10.82.0.1/24 >/dev/null || die "create b"

log "a network gets a spare only once it has had a port"
check "no spare before any attach" no_spare a
check "no TAP in the spare group" [ -z "$(spare_links)" ]
vnetctl attach a --ifname first0 >/dev/null || die "attach first0"
poll "a spare after the first attach" has_spare a
S=$(spare a)
is_spare a "$S"
check "vnetctl show names it" has "$(vnetctl show a)" "Spare TAP.*$S"
S_IDX=$(ifindex "$S")
S_MAC=$(lf "$S" .address)

log "an attach with no name takes the spare: the same TAP, made the port's"
out=$(vnetctl attach a --owner $OWNER --group $GROUP) || die "attach (spare)"
read -r P1 M1 <<<"$out"
assert_eq "$P1" "$S" "the port's name (the spare's)"
assert_eq "$(ifindex "$P1")" "$S_IDX" "the port's ifindex (the spare's)"
assert_eq "$(tapmac "$M1")" "$S_MAC" "the spare's MAC was made for this port"
assert_eq "$(lj "$P1" | jq -c '.[0] | [.linkinfo.info_data.user, .linkinfo.info_data.group,
	.master, .group, (.flags | index("UP") != null), .address]')" \
	"[$OWNER,$GROUP,\"vbr-a\",\"$(ifindex vbr-a)\",true,\"$(tapmac "$M1")\"]" \
	"$P1 as a port (owner, group, master, device group, up, MAC)"
assert_eq "$(vnetctl --json ports a | jq -r --arg i "$P1" '.[] | select(.ifname == $i) |
	"\(.owner) \(.group) \(.state)"')" "$OWNER $GROUP down" "$P1 listed as a port"
reserved "$P1" || die "$P1 has no reservation"
poll "a new spare after it" has_spare a
S2=$(spare a)
check "the new spare has another name" [ "$S2" != "$S" ]
is_spare a "$S2"
check "one spare at a time" [ "$(spare_links)" = "$S2" ]

log "a MAC given: the spare is used and takes that MAC"
S=$(spare a)
S_IDX=$(ifindex "$S")
out=$(vnetctl attach a --mac 52:54:00:11:22:33) || die "attach --mac"
check "--mac: the spare's ifindex" [ "$(ifindex "${out%% *}")" = "$S_IDX" ]
check "--mac: the TAP's MAC follows" [ "$(lf "${out%% *}" .address)" = fe:54:00:11:22:33 ]

log "attaches the spare cannot serve leave it alone"
poll "a spare again" has_spare a
S=$(spare a)
S_IDX=$(ifindex "$S")
out=$(vnetctl attach a --group $GROUP) || die "attach --group only"
P=${out%% *}
check "group only (a TAP cannot lose the spare's owner): not the spare" [ "$P" != "$S" ]
check "group only: no owner on the TAP" [ "$(lf "$P" '.linkinfo.info_data.user // "none"')" = none ]
out=$(vnetctl attach a --queues 2) || die "attach --queues 2"
P=${out%% *}
check "two queues: not the spare" [ "$P" != "$S" ]
check "two queues: a multiqueue TAP" [ "$(lf "$P" .linkinfo.info_data.multi_queue)" = true ]
out=$(vnetctl attach a --ifname named0) || die "attach --ifname named0"
check "a name of its own: not the spare" [ "$(ifindex named0)" != "$S_IDX" ]
check "the spare is still the same TAP" eval '[ "$(spare a)" = "$S" ] && [ "$(ifindex "$S")" = "$S_IDX" ]'
is_spare a "$S"

log "its own name asked for: the spare is used"
out=$(vnetctl attach a --ifname "$S") || die "attach --ifname $S"
check "--ifname $S: the spare's ifindex" [ "$(ifindex "$S")" = "$S_IDX" ]
check "--ifname $S: a port now" [ "$(lf "$S" .group)" = "$(ifindex vbr-a)" ]

log "its own name with two queues: the spare gives the name up for a multiqueue TAP"
poll "a spare again" has_spare a
S=$(spare a)
S_IDX=$(ifindex "$S")
vnetctl attach a --ifname "$S" --queues 2 >/dev/null || die "attach --ifname $S --queues 2"
check "--ifname $S --queues 2: a new TAP" [ "$(ifindex "$S")" != "$S_IDX" ]
check "--ifname $S --queues 2: multiqueue" [ "$(lf "$S" .linkinfo.info_data.multi_queue)" = true ]

log "another network asks for a's spare's name: a gives it up, unless the request is refused"
poll "a spare again" has_spare a
S=$(spare a)
S_IDX=$(ifindex "$S")
expect_fail "attach b --ifname $S with a multicast MAC" \
	vnetctl attach b --ifname "$S" --mac 01:00:5e:00:00:01 >/dev/null || exit 1
check "a refused request leaves a's spare alone" \
	eval '[ "$(spare a)" = "$S" ] && [ "$(ifindex "$S")" = "$S_IDX" ]'
vnetctl attach b --ifname "$S" >/dev/null || die "attach b --ifname $S"
check "the name is b's port, a new TAP" [ "$(ifindex "$S")" != "$S_IDX" ]
check "on b's bridge" [ "$(lf "$S" .master)" = vbr-b ]
poll "a makes another spare" eval '[ -n "$(spare a)" ] && [ "$(spare a)" != "$S" ]'
poll "b has a spare too (it had a port attached)" has_spare b

log "the hook (vnet-ifup) does not adopt a spare"
mkdir -p "$T/hooks"
ln -s "$VNETCTL" "$T/hooks/vnet-ifup"
S=$(spare a)
msg=$(ip netns exec "$HOST" env VNET_SOCKET="$SOCK" VNET_NETWORK=a "$T/hooks/vnet-ifup" "$S" 2>&1 >/dev/null) &&
	die "vnet-ifup $S succeeded"
check "vnet-ifup on a spare: one line naming ifname and the way to reserve it" \
	eval 'has "$msg" "ifname" && has "$msg" "vnetctl attach a --ifname $S" && [ "$(wc -l <<<"$msg")" = 1 ]'
is_spare a "$S"

log "a guest behind a port that was a spare reaches the gateway"
out=$(vnetctl attach a) || die "attach (spare) for the guest"
read -r GP GM <<<"$out"
# The guest: namespace g1 whose eth0 (the guest MAC) is a veth; taprelay joins its peer
# r-g1 in $HOST to the TAP, as a VMM would.
new_ns "$ID-g1"
ip link add r-g1 netns "$HOST" type veth peer name eth0 netns "$ID-g1" || die "veth for g1"
in_host ip link set r-g1 up
ip -n "$ID-g1" link set eth0 address "$GM"
ip -n "$ID-g1" addr add 10.81.0.50/24 dev eth0
ip -n "$ID-g1" link set eth0 up
# Not through in_host: $! must be taprelay itself, for cleanup to stop it.
ip netns exec "$HOST" "$RELAY" "$GP" r-g1 2>>"$T/relay.err" &
PIDS+=($!)
poll "$GP up while the relay holds it" eval '[ "$(vnetctl --json ports a | jq -r --arg i "$GP" ".[] | select(.ifname == \$i) | .state")" = up ]'
pinged() {
	local i
	for i in 1 2 3; do
		in_guest g1 busybox ping -c1 -W1 10.81.0.1 >/dev/null 2>&1 && return 0
	done
	return 1
}
check "guest behind $GP pings the gateway" pinged

log "a spare deleted by someone is replaced; attaches go on"
poll "a spare again" has_spare a
S=$(spare a)
S_IDX=$(ifindex "$S")
in_host ip link del "$S" || die "delete $S"
# The name is free again: the new spare may well have it, but it is another TAP.
new_spare() { has_spare a && [ "$(ifindex "$(spare a)")" != "$S_IDX" ]; }
poll "a new spare after the old one was deleted" new_spare
check "vnetd saw it go" grep -q "spare TAP $S has gone" "$T/vnetd.log"
is_spare a "$(spare a)"
out=$(vnetctl attach a) || die "attach after the spare was deleted"
check "the attach gets a TAP on the bridge" [ "$(lf "${out%% *}" .master)" = vbr-a ]

log "a bridge deleted by someone is made again, and the spare is put back on it"
poll "a spare again" has_spare a
S=$(spare a)
S_IDX=$(ifindex "$S")
in_host ip link del vbr-a || die "delete vbr-a"
poll "vbr-a made again" in_host test -e /sys/class/net/vbr-a
poll "the spare back on vbr-a" eval '[ "$(lf "$S" .master)" = vbr-a ]'
check "the same spare TAP" [ "$(ifindex "$S")" = "$S_IDX" ]
is_spare a "$S"

log "a restart keeps the spare as it is"
S=$(spare a)
S_IDX=$(ifindex "$S")
stop_vnetd TERM
start_vnetd
check "after a restart: the same spare" [ "$(spare a)" = "$S" ]
check "after a restart: the same TAP" [ "$(ifindex "$S")" = "$S_IDX" ]
is_spare a "$S"
out=$(vnetctl attach a) || die "attach after the restart"
check "after a restart the spare serves an attach" [ "$(ifindex "${out%% *}")" = "$S_IDX" ]

log "a spare taken off its bridge while vnetd was down is put back at the restart"
poll "a spare again" has_spare a
S=$(spare a)
S_IDX=$(ifindex "$S")
stop_vnetd TERM
in_host ip link set "$S" nomaster || die "take $S off vbr-a"
start_vnetd
check "the same spare after the restart" eval '[ "$(spare a)" = "$S" ] && [ "$(ifindex "$S")" = "$S_IDX" ]'
is_spare a "$S"

log "a spare someone changed (brought up) is not taken back at a restart: it is deleted"
poll "a spare again" has_spare a
S=$(spare a)
stop_vnetd TERM
in_host ip link set "$S" up || die "bring $S up"
start_vnetd
check "the changed spare is gone" not in_host test -e "/sys/class/net/$S"
check "no spare until the next attach" no_spare a
vnetctl attach a >/dev/null || die "attach after the changed spare"
poll "a spare again" has_spare a

log "stop: the spare goes with the TAPs; start: none until an attach"
vnetctl stop a >/dev/null || die "stop a"
check "no spare of a left" [ "$(spare_links)" = "$(spare b)" ]
vnetctl start a >/dev/null || die "start a"
check "no spare after start" no_spare a
vnetctl attach a >/dev/null || die "attach after start"
poll "a spare again" has_spare a

log "SpareTAPs=no: a spare left from before goes at start, and none is made"
poll "a spare again" has_spare a
S=$(spare a)
stop_vnetd TERM
printf '[Daemon]\nSpareTAPs=no\n' >"$T/etc/vnetd.conf"
start_vnetd
check "SpareTAPs=no: the old spare is gone" not in_host test -e "/sys/class/net/$S"
check "SpareTAPs=no: none reported" no_spare a
out=$(vnetctl attach a) || die "attach with SpareTAPs=no"
check "SpareTAPs=no: the attach makes its TAP" [ "$(lf "${out%% *}" .master)" = vbr-a ]
vnetctl list >/dev/null # the reply to this comes after any spare would have been made
check "SpareTAPs=no: no spare after an attach" eval 'no_spare a && [ -z "$(spare_links)" ]'
rm "$T/etc/vnetd.conf"

log "destroy: nothing left"
vnetctl destroy a >/dev/null || die "destroy a"
vnetctl destroy b >/dev/null || die "destroy b"
check "no TAP in the spare group" [ -z "$(spare_links)" ]
check "no TAP at all" [ -z "$(in_host ip -j link show type tun | jq -r '.[].ifname')" ]
echo "ok"
