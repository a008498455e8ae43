#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest ports end to end through vnetd, without a VMM: vnetctl attach/detach/ports (created
# TAPs and adopted interfaces), MAC allocation, carrier from a tests/tools/taprelay "VMM",
# link events (a TAP deleted or taken off the bridge by hand), ports across vnetd restarts
# (SIGTERM and SIGKILL) and network stop/start/mode/destroy, the data path in every mode, bad
# input refused with nothing changed, and the QEMU script hooks (vnet-ifup, vnet-ifdown).
# uids/gids 4711/4712 have no passwd/group entry, so `ip -d link` prints them as numbers.
. "$(dirname "$0")/lib.sh"

RELAY=$TOOLS/taprelay
NETPROBE=$TOOLS/netprobe
SERVER=203.0.113.10 # in $UPLINK
HOST_UP=198.51.100.1
OWNER=4711
GROUP=4712
[ -x "$RELAY" ] && [ -x "$NETPROBE" ] || die "taprelay/netprobe not built (make tests)"
command -v busybox >/dev/null || die "busybox missing (tests/tools/install-deps)"
for id in $OWNER $GROUP; do
	getent passwd "$id" >/dev/null && die "uid $id has a passwd entry; pick unused ids"
	getent group "$id" >/dev/null && die "gid $id has a group entry; pick unused ids"
done

# --- helpers ----------------------------------------------------------------------------------
lj() { in_host ip -d -j link show "$1" 2>/dev/null; } # one link, `ip -d -j`
lf() { lj "$1" | jq -r ".[0]$2"; }                     # lf IFNAME JQ-PATH
exists() { in_host test -e "/sys/class/net/$1"; }
ifindex() { lf "$1" .ifindex; }
master() { lf "$1" '.master // "none"'; }
tapmac() { echo "fe${1:2}"; } # the TAP's own MAC for guest MAC $1
port() { vnetctl --json ports "$1" | jq -c --arg i "$2" '.[] | select(.ifname == $i)'; }
pfield() { port "$1" "$2" | jq -r "$3"; } # pfield NET IFNAME JQ-PATH
state_is() { [ "$(pfield "$1" "$2" .state)" = "$3" ]; }
no_port() { [ -z "$(port "$1" "$2")" ]; }
on_bridge() { [ "$(master "$1")" = "$2" ]; }

# check_port NET IFNAME GUEST_MAC MTU: a created TAP as the design wants it.
check_port() {
	local net=$1 ifn=$2 mac=$3 mtu=$4 br brindex d
	br=$(vnetctl --json show "$net" | jq -r .bridge)
	brindex=$(ifindex "$br")
	d=$(lj "$ifn") || die "$ifn does not exist"
	assert_eq "$(jq -r '.[0].linkinfo.info_kind' <<<"$d")" tun "$ifn kind"
	assert_eq "$(jq -r '.[0].linkinfo.info_data.type' <<<"$d")" tap "$ifn tun type"
	assert_eq "$(jq -r '.[0].linkinfo.info_data.persist' <<<"$d")" true "$ifn persistent"
	assert_eq "$(jq -r '.[0].mtu' <<<"$d")" "$mtu" "$ifn MTU (the bridge's)"
	assert_eq "$(jq -r '.[0].master' <<<"$d")" "$br" "$ifn master"
	assert_contains "$(jq -r '.[0].flags | join(",")' <<<"$d")" UP "$ifn flags"
	assert_eq "$(jq -r '.[0].address' <<<"$d")" "$(tapmac "$mac")" "$ifn own MAC (guest MAC, 0xfe first)"
	assert_eq "$(jq -r '.[0].group' <<<"$d")" "$brindex" "$ifn device group (the bridge's ifindex)"
}

# A snapshot of everything a refused request must leave alone.
snapshot() {
	# vnetd makes a spare TAP after an attach's reply, before it reads the next request: a
	# request first, so that the links are read once that is done.
	vnetctl list >/dev/null
	in_host ip -br link
	in_host ip -j link show | jq -c '.[] | [.ifname, .ifindex, .master, .mtu, .address, .group]'
	for n in $(vnetctl --json list | jq -r '.[].name'); do
		echo "== $n"
		vnetctl ports "$n"
	done
	reservations
}
# refused FIELD DESCRIPTION COMMAND...: fails with one line on stderr that names FIELD, and
# changes nothing.
refused() {
	local field=$1 what=$2 before after msg
	shift 2
	before=$(snapshot)
	msg=$(expect_fail "$what" "$@") || exit 1
	assert_contains "$msg" "$field" "$what: the error line"
	after=$(snapshot)
	if [ "$before" != "$after" ]; then
		diff <(echo "$before") <(echo "$after")
		die "$what: the refused request changed something"
	fi
	log "refused ($what): $msg"
}

# guest NAME TAP ADDR/PREFIX GW MAC: namespace $ID-NAME whose eth0 (with the guest MAC) is a
# veth whose peer r-NAME in $HOST a taprelay joins to TAP. Sets RELAY_PID.
guest() {
	local ns="$ID-$1"
	new_ns "$ns"
	ip link add "r-$1" netns "$HOST" type veth peer name eth0 netns "$ns" || die "veth for $ns"
	in_host ip link set "r-$1" up
	ip -n "$ns" link set eth0 address "$5"
	ip -n "$ns" addr add "$3" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$4"
	start_relay "$2" "r-$1"
}
start_relay() { # TAP VETH
	ip netns exec "$HOST" "$RELAY" "$1" "$2" 2>>"$T/relay.err" &
	RELAY_PID=$!
	PIDS+=("$RELAY_PID")
}
stop_relay() {
	kill -TERM "$RELAY_PID"
	wait "$RELAY_PID" || die "taprelay did not exit 0 on SIGTERM: $(cat "$T/relay.err")"
}
# ping_ok NS ADDR WHAT: one answer within three tries of a second (the machine may be busy).
ping_ok() {
	local i
	for i in 1 2 3; do
		ip netns exec "$1" busybox ping -c1 -W1 "$2" >/dev/null 2>&1 && return 0
	done
	die "$3: $1 cannot ping $2"
}

setup_host
start_vnetd
vnetctl create a --bridge vbr-a --mode nat --ipv4 10.20.1.1/24 --mtu 9000 >/dev/null || die "create a"
vnetctl create b --bridge vbr-b --mode isolated --ipv4 10.20.2.1/24 >/dev/null || die "create b"
vnetctl create default --bridge vbr-def --mode isolated --ipv4 10.20.3.1/24 >/dev/null ||
	die "create default"
vnetctl create idle --bridge vbr-idle --mode isolated >/dev/null || die "create idle"
vnetctl stop idle >/dev/null || die "stop idle"
BRA=$(ifindex vbr-a)

# --- attach: created TAPs ---------------------------------------------------------------------
log "attach with defaults: an allocated vnetN, owned by the caller (root), on the bridge"
out=$(vnetctl attach a) || die "attach a"
read -r P0 M0 rest <<<"$out"
[ -z "$rest" ] || die "attach printed more than 'IFNAME MAC': $out"
[[ $P0 =~ ^vnet[0-9]+$ ]] || die "allocated name '$P0' is not vnetN"
[[ $M0 =~ ^52:54:00(:[0-9a-f]{2}){3}$ ]] || die "allocated MAC '$M0' lacks the 52:54:00 prefix"
check_port a "$P0" "$M0" 9000
assert_eq "$(lf "$P0" .linkinfo.info_data.user)" root "$P0 owner"
assert_eq "$(lf "$P0" '.linkinfo.info_data.group // "none"')" none "$P0 group"
assert_eq "$(lf "$P0" .linkinfo.info_data.multi_queue)" false "$P0 multiqueue"
assert_eq "$(lf "$P0" .group)" "$BRA" "$P0 group"
assert_eq "$(pfield a "$P0" .owner)" 0 "$P0 owner in ports --json"
# The reservation is on disk (the checks that it goes rely on where it lives).
reserved "$P0" || die "no reservation of $P0 in $T/lib/ports.journal"

log "attach --json with name, MAC, owner and group by id, 4 queues"
j=$(vnetctl --json attach a --ifname tq0 --mac 52:54:00:0a:0b:0c --owner $OWNER --group $GROUP \
	--queues 4) || die "attach tq0"
assert_eq "$(jq -r '[.network, .ifname, .mac, .owner, .queues] | join(" ")' <<<"$j")" \
	"a tq0 52:54:00:0a:0b:0c $OWNER 4" "attach --json"
check_port a tq0 52:54:00:0a:0b:0c 9000
assert_eq "$(lf tq0 .linkinfo.info_data.multi_queue)" true "tq0 multiqueue"
assert_eq "$(lf tq0 .linkinfo.info_data.user)" $OWNER "tq0 owner"
assert_eq "$(lf tq0 .linkinfo.info_data.group)" $GROUP "tq0 group"

log "owner and group by name"
uname=$(getent passwd | awk -F: '$3 != 0 { print $1; exit }')
uid=$(id -u "$uname")
gname=$(getent group | awk -F: '$3 != 0 { print $1; exit }')
gid=$(getent group "$gname" | cut -d: -f3)
j=$(vnetctl --json attach a --ifname tn0 --owner "$uname") || die "attach --owner $uname"
assert_eq "$(jq -r .owner <<<"$j")" "$uid" "owner $uname resolved"
assert_eq "$(lf tn0 .linkinfo.info_data.user)" "$uname" "tn0 owner"
j=$(vnetctl --json attach a --ifname tg0 --group "$gname") || die "attach --group $gname"
assert_eq "$(jq -r '.group' <<<"$j")" "$gid" "group $gname resolved"
assert_eq "$(lf tg0 .linkinfo.info_data.group)" "$gname" "tg0 group"
assert_eq "$(lf tg0 '.linkinfo.info_data.user // "none"')" none "tg0 has only a group"
check_port a tg0 "$(jq -r .mac <<<"$j")" 9000
for p in tn0 tg0; do vnetctl detach a $p >/dev/null || die "detach $p"; done

log "--group naming a group with thousands of members (an /etc/group line of ~40 KB)"
# NSS wants a buffer as large as the entry: a fixed one made such a group "no such group".
big="vnbig$$"
groupadd "$big" || die "groupadd $big"
AT_EXIT+=("groupdel '$big'")
members=$(seq -f 'member%05g' 1 3500 | paste -sd, -)
sed -i "s/^$big:\([^:]*\):\([0-9]*\):\$/$big:\1:\2:$members/" /etc/group
bgid=$(getent group "$big" | cut -d: -f3)
[ "$(getent group "$big" | wc -c)" -gt 40000 ] || die "the $big entry is not as large as meant"
j=$(vnetctl --json attach a --ifname tbig0 --group "$big") || die "attach --group $big"
assert_eq "$(jq -r .group <<<"$j")" "$bgid" "group $big resolved"
assert_contains "$(vnetctl ports a | grep '^tbig0 ')" " :$big " "vnetctl ports names the group"
vnetctl detach a tbig0 >/dev/null || die "detach tbig0"

log "detach deletes a created TAP and its reservation"
vnetctl detach a tq0 >/dev/null || die "detach tq0"
exists tq0 && die "tq0 still exists after detach"
no_port a tq0 || die "tq0 still listed after detach"
reserved tq0 && die "tq0's reservation remains"

log "MACs: allocated ones are unique; a name gets its MAC back"
vnetctl create many --bridge vbr-many --mode isolated >/dev/null || die "create many"
for i in $(seq 1 50); do
	vnetctl attach many >>"$T/many" || die "attach many #$i"
done
assert_eq "$(wc -l <"$T/many")" 50 "ports attached to many"
assert_eq "$(cut -d' ' -f2 "$T/many" | sort -u | wc -l)" 50 "distinct MACs of 50 ports"
assert_eq "$(cut -d' ' -f1 "$T/many" | sort -u | wc -l)" 50 "distinct names of 50 ports"
grep -vqE '^vnet[0-9]+ 52:54:00(:[0-9a-f]{2}){3}$' "$T/many" && die "a port without a 52:54:00 MAC: $(cat "$T/many")"
grep -q " $M0\$" "$T/many" && die "a port of many got $P0's MAC $M0"
assert_eq "$(vnetctl --json ports many | jq length)" 50 "ports of many"
# Every TAP carries its own port's MAC.
while read -r p m; do
	assert_eq "$(in_host cat "/sys/class/net/$p/address")" "$(tapmac "$m")" "TAP MAC of $p"
done < <(shuf -n 5 "$T/many")
m1=$(vnetctl attach a --ifname keep0 | cut -d' ' -f2) || die "attach keep0"
vnetctl detach a keep0 >/dev/null || die "detach keep0"
m2=$(vnetctl attach a --ifname keep0 | cut -d' ' -f2) || die "attach keep0 again"
assert_eq "$m2" "$m1" "MAC of keep0 after detach + attach"

log "destroy removes a network's TAPs and reservations"
vnetctl destroy many >/dev/null || die "destroy many"
while read -r p _; do exists "$p" && die "$p remains after destroy"; done <"$T/many"
reservations | grep " many$" && die "reservations of many remain"
expect_fail "ports of a destroyed network" vnetctl ports many >/dev/null

# --- adopting an existing interface -------------------------------------------------------------
log "attach --ifname of an existing veth adopts it; detach only releases it"
in_host ip link add ve0 type veth peer name ve0p
j=$(vnetctl --json attach a --ifname ve0) || die "adopt ve0"
assert_eq "$(jq -r .adopted <<<"$j")" true "ve0 adopted (attach reply)"
assert_eq "$(pfield a ve0 .adopted)" true "ve0 adopted (ports)"
assert_eq "$(master ve0)" vbr-a "ve0 master"
assert_eq "$(lf ve0 .mtu)" 9000 "ve0 MTU"
assert_contains "$(lf ve0 '.flags | join(",")')" UP "ve0 flags"
vnetctl detach a ve0 >/dev/null || die "detach ve0"
exists ve0 || die "detaching an adopted veth deleted it"
assert_eq "$(master ve0)" none "ve0 master after detach"
no_port a ve0 || die "ve0 still listed after detach"
vnetctl attach a --ifname ve0 >/dev/null || die "adopt ve0 again" # kept for the restarts

# --- ports, carrier, data path ------------------------------------------------------------------
log "ports: a table of ifname, MAC, owner, queues, state"
table=$(vnetctl ports a)
hdr=$(head -n1 <<<"$table")
for c in IFNAME MAC OWNER QUEUES STATE; do assert_contains "$hdr" "$c" "ports header"; done
row=$(grep "^$P0 " <<<"$table") || die "ports lacks $P0: $table"
read -r -a f <<<"$row"
assert_eq "${f[*]:0:5}" "$P0 $M0 root 1 down" "ports row of $P0"
assert_eq "$(grep -c . <<<"$table")" 4 "ports lines (header, $P0, keep0, ve0)"

log "a guest behind $P0 (taprelay): carrier makes the port up"
guest g "$P0" 10.20.1.50/24 10.20.1.1 "$M0"
poll "$P0 up while the relay holds it" state_is a "$P0" up
assert_eq "$(grep "^$P0 " <<<"$(vnetctl ports a)" | awk '{print $5}')" up "ports table state"
G="$ID-g"
ping_ok "$G" 10.20.1.1 "nat: guest to its gateway"
ping_ok "$G" "$SERVER" "nat: guest to the uplink host"
ip netns exec "$UPLINK" "$NETPROBE" tcp-serve 80 >"$T/tcp-up" 2>&1 &
PIDS+=($!)
poll "uplink server starts" grep -qx ready "$T/tcp-up"
seen=$(ip netns exec "$G" "$NETPROBE" tcp-connect "$SERVER" 80 1000) ||
	die "nat: guest cannot connect to $SERVER"
[[ $seen == "$HOST_UP":* ]] || die "nat: the uplink saw the guest as $seen, not $HOST_UP"

log "modes: the port stays; the guest reaches its gateway in each"
pidx=$(ifindex "$P0")
for mode in routed isolated open nat; do
	vnetctl mode a $mode >/dev/null || die "mode a $mode"
	assert_eq "$(ifindex "$P0")" "$pidx" "ifindex of $P0 in $mode mode"
	assert_eq "$(master "$P0")" vbr-a "master of $P0 in $mode mode"
	assert_eq "$(master ve0)" vbr-a "master of ve0 in $mode mode"
	ping_ok "$G" 10.20.1.1 "$mode: guest to its gateway"
done
stop_relay
poll "$P0 down after the relay stopped" state_is a "$P0" down

# --- restarts -----------------------------------------------------------------------------------
log "ports survive vnetd restarts (SIGTERM, SIGKILL) without a flap"
start_relay "$P0" r-g
poll "$P0 up again" state_is a "$P0" up
links() { in_host ip -j link show | jq -c '[.[] | select(.ifname|test("^(vnet|keep|ve0|vbr-a)")) | [.ifname, .ifindex, .master, .address]] | sort'; }
# A name's guest MAC comes from the salt in the state directory, not from vnetd's memory: a
# name detached before the restarts below gets the same MAC when attached after them.
out=$(vnetctl attach a --ifname salt0) || die "attach salt0"
msalt=${out#* }
vnetctl detach a salt0 >/dev/null || die "detach salt0"
links_before=$(links)
ports_before=$(vnetctl ports a)
ip netns exec "$HOST" ip monitor link >"$T/monitor" 2>&1 &
mon=$!
PIDS+=("$mon")
monitor_mark "$T/monitor" link
for sig in TERM KILL; do
	stop_vnetd $sig
	start_vnetd
	assert_eq "$(links)" "$links_before" "links after a restart after SIG$sig"
	assert_eq "$(vnetctl ports a)" "$ports_before" "ports after a restart after SIG$sig"
done
monitor_mark "$T/monitor" link
kill "$mon"
wait "$mon" 2>/dev/null
bad=$(grep -E "Deleted.*: ($P0|keep0|ve0)[:@]" "$T/monitor" || true)
[ -z "$bad" ] || die "the restarts deleted or released ports: $bad"
out=$(vnetctl attach a --ifname salt0) || die "attach salt0 after the restarts"
assert_eq "${out#* }" "$msalt" "MAC of salt0 after detach, vnetd restarts, attach"
vnetctl detach a salt0 >/dev/null || die "detach salt0 after the restarts"
assert_eq "$(stat -c %a:%s "$T/lib/mac-salt")" 600:16 "mode and size of $T/lib/mac-salt"
ping_ok "$G" 10.20.1.1 "after the restarts: guest to its gateway"
stop_relay
poll "$P0 down after the relay stopped" state_is a "$P0" down

# --- link events ----------------------------------------------------------------------------
log "a TAP deleted by hand releases its port"
vnetctl attach a --ifname gone0 >/dev/null || die "attach gone0"
in_host ip link del gone0
poll "gone0's port released" no_port a gone0
reserved gone0 && die "gone0's reservation remains"
log "a port taken off the bridge by hand is put back"
in_host ip link set keep0 nomaster
poll "keep0 back on vbr-a" on_bridge keep0 vbr-a
in_host ip link set ve0 nomaster
poll "ve0 back on vbr-a" on_bridge ve0 vbr-a

# --- stop, start, destroy -----------------------------------------------------------------------
log "stop removes the TAPs and keeps the reservations; start brings them back"
vnetctl attach b --ifname bt0 >/dev/null || die "attach bt0"
vnetctl attach b --ifname bt1 --queues 2 >/dev/null || die "attach bt1"
pb=$(vnetctl --json ports b | jq -c 'map([.ifname, .mac, .owner, .queues])')
vnetctl stop b >/dev/null || die "stop b"
for p in bt0 bt1; do exists $p && die "$p remains after stop"; done
assert_eq "$(vnetctl --json ports b | jq -r 'map(.state) | join(",")')" stopped,stopped "states after stop"
assert_eq "$(vnetctl ports b | awk 'NR > 1 { print $1, $5 }' | sort | xargs)" "bt0 stopped bt1 stopped" \
	"ports table after stop"
assert_eq "$(vnetctl --json ports b | jq -c 'map([.ifname, .mac, .owner, .queues])')" "$pb" "reservations after stop"
exists "$P0" || die "stopping b removed $P0 of a"
vnetctl start b >/dev/null || die "start b"
assert_eq "$(vnetctl --json ports b | jq -c 'map([.ifname, .mac, .owner, .queues])')" "$pb" "reservations after start"
for p in bt0 bt1; do check_port b $p "$(pfield b $p .mac)" 1500; done
assert_eq "$(lf bt1 .linkinfo.info_data.multi_queue)" true "bt1 multiqueue after start"
assert_eq "$(vnetctl --json ports b | jq -r 'map(.state) | join(",")')" down,down "states after start"

# --- bad input ------------------------------------------------------------------------------
log "bad input is refused, names the field, and changes nothing"
in_host ip link add br9 type bridge
in_host ip link add ve9 type veth peer name ve9p
in_host ip link set ve9 master br9
# The kernel reports carrier and operational state changes late (linkwatch runs at most once a
# second), and bridges follow their ports' carrier: wait until the links have settled, so that
# only a change made by a refused request can show.
settle() {
	local last cur same=0
	last=$(in_host ip -br link)
	for _ in $(seq 1 40); do
		sleep 0.1
		cur=$(in_host ip -br link)
		if [ "$cur" = "$last" ]; then
			same=$((same + 1))
			[ $same -ge 12 ] && return 0
		else
			same=0
			last=$cur
		fi
	done
	die "the links did not settle: $cur"
}
settle
refused mac "multicast MAC" vnetctl attach a --mac 01:00:5e:00:00:01
refused mac "zero MAC" vnetctl attach a --mac 00:00:00:00:00:00
refused mac "malformed MAC" vnetctl attach a --mac 52:54:00:zz:00:01
refused mac "short MAC" vnetctl attach a --mac 52:54:00:00:01
refused mac "MAC of another port" vnetctl attach a --mac "$M0"
refused mac "MAC of another network's port" vnetctl attach a --mac "$(pfield b bt0 .mac)"
refused ifname "16-byte ifname" vnetctl attach a --ifname 0123456789abcdef
refused ifname "ifname with /" vnetctl attach a --ifname a/b
refused owner "unknown owner" vnetctl attach a --owner "nosuchuser$$"
refused group "unknown group" vnetctl attach a --group "nosuchgroup$$"
refused queues "0 queues" vnetctl attach a --queues 0
refused queues "999 queues" vnetctl attach a --queues 999
refused "network 'nosuch'" "unknown network" vnetctl attach nosuch
refused "network 'idle'" "stopped network" vnetctl attach idle
refused ve9 "a port of another bridge" vnetctl attach a --ifname ve9
assert_eq "$(master ve9)" br9 "ve9's master after the refusal"
refused uplink0 "the uplink" vnetctl attach a --ifname uplink0
refused keep0 "an ifname that is already a port" vnetctl attach a --ifname keep0
refused bt0 "an ifname that is already a port of another network" vnetctl attach a --ifname bt0
refused vbr-b "another network's bridge" vnetctl attach a --ifname vbr-b
refused "port 'bt0'" "detach of another network's port" vnetctl detach a bt0
refused "port 'nosuch0'" "detach of a port that does not exist" vnetctl detach a nosuch0
refused "network 'nosuch'" "detach on an unknown network" vnetctl detach nosuch keep0

# --- the QEMU script hooks ----------------------------------------------------------------------
log "vnet-ifup / vnet-ifdown (vnetctl under other names)"
mkdir "$T/hooks"
ln -s "$VNETCTL" "$T/hooks/vnet-ifup"
ln -s "$VNETCTL" "$T/hooks/vnet-ifdown"
export VNET_SOCKET=$SOCK
unset VNET_NETWORK VNET_MAC
ifup() { ip netns exec "$HOST" "$T/hooks/vnet-ifup" "$@"; }
ifdown() { ip netns exec "$HOST" "$T/hooks/vnet-ifdown" "$@"; }

vnetctl attach a --ifname vmtap0 >/dev/null || die "attach vmtap0"
ifup vmtap0 || die "vnet-ifup vmtap0 (reserved)"
assert_eq "$(master vmtap0)" vbr-a "vmtap0 after vnet-ifup"
ifup vmtap0 || die "vnet-ifup vmtap0 a second time"
assert_eq "$(pfield a vmtap0 .adopted)" false "vmtap0 stays a created port"

in_host ip tuntap add vmtap1 mode tap || die "ip tuntap add vmtap1"
VNET_NETWORK=a VNET_MAC=52:54:00:aa:00:01 ifup vmtap1 || die "vnet-ifup vmtap1"
assert_eq "$(pfield a vmtap1 '[.adopted, .mac] | join(" ")')" "true 52:54:00:aa:00:01" "vmtap1's port"
assert_eq "$(master vmtap1)" vbr-a "vmtap1 after vnet-ifup"
assert_eq "$(lf vmtap1 .address)" fe:54:00:aa:00:01 "vmtap1's own MAC"
assert_eq "$(lf vmtap1 .mtu)" 9000 "vmtap1's MTU"
VNET_NETWORK=a VNET_MAC=52:54:00:aa:00:01 ifup vmtap1 || die "vnet-ifup vmtap1 a second time"
ifdown vmtap1 || die "vnet-ifdown vmtap1"
no_port a vmtap1 || die "vmtap1 still a port after vnet-ifdown"
exists vmtap1 || die "vnet-ifdown deleted the adopted vmtap1"
assert_eq "$(master vmtap1)" none "vmtap1 after vnet-ifdown"

in_host ip tuntap add vmtap2 mode tap || die "ip tuntap add vmtap2"
ifup vmtap2 || die "vnet-ifup vmtap2 (no network given)"
assert_eq "$(pfield default vmtap2 .adopted)" true "vmtap2 adopted on the default network"
assert_eq "$(master vmtap2)" vbr-def "vmtap2 after vnet-ifup"
in_host ip link del vmtap2
ifdown vmtap2 || die "vnet-ifdown of a vanished interface"
poll "vmtap2's port released" no_port default vmtap2
ifdown vmtap9 || die "vnet-ifdown of an interface that never was"

ifdown vmtap0 || die "vnet-ifdown vmtap0 (reserved)"
assert_eq "$(pfield a vmtap0 .ifname)" vmtap0 "vmtap0's reservation after vnet-ifdown"
exists vmtap0 || die "vnet-ifdown deleted the reserved vmtap0"

# --- the end ------------------------------------------------------------------------------------
log "destroy a: its TAPs go, adopted interfaces stay"
vnetctl destroy a >/dev/null || die "destroy a"
for p in "$P0" keep0 vmtap0; do exists "$p" && die "$p remains after destroy a"; done
exists ve0 || die "destroy a deleted the adopted ve0"
for p in "$P0" keep0 vmtap0 ve0; do
	reserved "$p" && die "the reservation of $p remains after destroy a"
done
expect_fail "ports of a destroyed network" vnetctl ports a >/dev/null
echo "ok"
