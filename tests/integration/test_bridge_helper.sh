#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vnet-bridge-helper against a real vnetd, without QEMU: tapctl plays QEMU's side of
# -netdev bridge (a socket pair, "HELPER --use-vnet --fd=N --br=BR", one TAP fd back).
# vnetd's decision: root, a network's --allow-user, a member of its --allow-group (primary or
# supplementary group) get a TAP on the network's bridge, by bridge or network name; anyone
# else gets one line saying permission is denied and no interface. A stopped network and an
# unknown bridge fail with one line each; a name of 16 bytes or more is refused before any
# policy check. The TAP is not persistent: it goes when the VMM closes it, and so does the port.
. "$(dirname "$0")/lib.sh"

for t in tapctl vlclient; do [ -x "$TOOLS/$t" ] || die "$TOOLS/$t missing: make tests"; done
setup_host
# The users run copies: the build directory need not be reachable for others.
mkdir -p "$T/bin"
cp "$VNETCTL" "$TOOLS/tapctl" "$TOOLS/vlclient" "$T/bin/"
ln -s vnetctl "$T/bin/vnet-bridge-helper"
# What tapctl runs as QEMU's helper: vnet-bridge-helper, with a second line on stderr should
# it break qemu-bridge-helper's contract of exit status 1 for every failure.
cat >"$T/bin/helper" <<'EOF'
#!/bin/sh
"$(dirname "$0")/vnet-bridge-helper" "$@"
rc=$?
[ $rc -le 1 ] || echo "helper: exit status $rc, not 1" >&2
exit $rc
EOF
HELPER=$T/bin/helper
# While tapctl holds the TAP: the bridge it is on, its owner, its tun flags, and vnetd's
# record of the port.
cat >"$T/bin/inspect" <<'EOF'
#!/bin/sh
i=$TAPCTL_IFNAME
master=$(readlink "/sys/class/net/$i/master")
echo "master ${master##*/}"
echo "owner $(cat "/sys/class/net/$i/owner")"
echo "flags $(cat "/sys/class/net/$i/tun_flags")"
# vnetd learns of the carrier from a link event: give it a moment to say "up".
for _ in $(seq 1 100); do
	port=$("$(dirname "$0")/vnetctl" --json ports hnet | jq -c --arg i "$i" '.[] | select(.ifname == $i)')
	case $port in *'"state":"up"'*) break ;; esac
	sleep 0.02
done
echo "port $port"
EOF
chmod 0755 "$T/bin" "$T/bin/vnetctl" "$T/bin/tapctl" "$T/bin/vlclient" "$T/bin/helper" \
	"$T/bin/inspect"
# mktemp made $T 0700: the users pass through to the sockets and the copies.
chmod 0711 "$T"
# The admin socket refuses the users; the helper then uses vnetd-user.sock beside it.
export VNET_SOCKET=$SOCK

GRP=vnt$$g
U1=vnt$$a # allowed by name
U2=vnt$$b # in $GRP as a supplementary group
U3=vnt$$c # in neither
U4=vnt$$d # $GRP is its primary group
groupadd "$GRP" || die "groupadd $GRP"
AT_EXIT+=("groupdel $GRP")
for u in "$U1" "$U2" "$U3" "$U4"; do
	useradd -r -M -N -g nogroup -s /usr/sbin/nologin "$u" || die "useradd $u"
	# Before the group's removal: AT_EXIT runs in order, and a group goes only when empty.
	AT_EXIT=("userdel $u" "${AT_EXIT[@]}")
done
usermod -a -G "$GRP" "$U2" || die "usermod $U2"

start_vnetd
vnetctl create hnet --bridge vbr-h --mode isolated --ipv4 10.88.0.1/24 --no-dhcp \
	--allow-user "$U1" --allow-group "$GRP" >/dev/null || die "create hnet"

# as WHO COMMAND...: COMMAND in the host namespace as root, or as user WHO with the groups
# /etc/group gives it (U4: no supplementary groups; primary $GRP), or as USER:GROUPS with
# exactly the supplementary groups GROUPS (a comma-separated list).
as() {
	local who=$1
	shift
	case $who in
	root) in_host "$@" ;;
	*:*) ip netns exec "$HOST" setpriv --reuid="${who%%:*}" --regid=nogroup \
		--groups="${who#*:}" -- "$@" ;;
	"$U4") ip netns exec "$HOST" setpriv --reuid="$U4" --regid="$GRP" --clear-groups -- "$@" ;;
	*) ip netns exec "$HOST" setpriv --reuid="$who" --regid=nogroup --init-groups -- "$@" ;;
	esac
}
links() { in_host ip -o link show | awk -F': ' '{ print $2 }' | sort; }
ports() { vnetctl --json ports hnet | jq -r '.[].ifname' | sort | paste -sd ' '; }

# open_ok WHO BR [IFNAME]: the helper run as WHO passes a TAP (IFNAME if given) on vbr-h, owned
# by WHO, with IFF_VNET_HDR, which vnetd lists as an up port of hnet owned by WHO; a
# transient one (no IFNAME) is gone, interface and port, once tapctl has closed it.
open_ok() {
	local who=$1 br=$2 want=${3:-} uid tap out flags i
	uid=$(id -u "${who%%:*}")
	as "$who" "$T/bin/tapctl" helper "$HELPER" "$br" "$T/bin/inspect" >"$T/out" 2>"$T/err" ||
		die "$who, --br=$br: the helper failed: $(cat "$T/err")"
	[ -s "$T/err" ] && die "$who, --br=$br: the helper succeeded but wrote: $(cat "$T/err")"
	tap=$(head -n 1 "$T/out")
	out=$(tail -n +2 "$T/out")
	[ -n "$tap" ] || die "$who, --br=$br: no TAP name"
	[ -z "$want" ] || assert_eq "$tap" "$want" "$who, --br=$br: the TAP"
	assert_eq "$(sed -n 's/^master //p' <<<"$out")" vbr-h "$who, --br=$br: the bridge of $tap"
	assert_eq "$(sed -n 's/^owner //p' <<<"$out")" "$uid" "$who, --br=$br: the owner of $tap"
	# IFF_TAP 0x2, IFF_NO_PI 0x1000, IFF_VNET_HDR 0x4000 (--use-vnet).
	flags=$(sed -n 's/^flags //p' <<<"$out")
	[[ $flags == 0x* ]] || die "$who, --br=$br: $tap's tun flags: '$flags'"
	(((flags & 0x5002) == 0x5002)) ||
		die "$who, --br=$br: $tap's tun flags: $flags"
	jq -e --argjson u "$uid" '.network == "hnet" and .owner == $u and .state == "up"' \
		<<<"$(sed -n 's/^port //p' <<<"$out")" >/dev/null ||
		die "$who, --br=$br: vnetd's record of $tap: $out"
	if [ -n "$want" ]; then
		log "$who, --br=$br -> its reservation $tap"
		return 0
	fi
	# The kernel deletes a TAP that is not persistent with its last fd, at tapctl's exit.
	in_host ip link show "$tap" >/dev/null 2>&1 && die "$who, --br=$br: $tap outlived its fd"
	for i in $(seq 1 100); do
		[[ " $(ports) " == *" $tap "* ]] || break
		[ "$i" -lt 100 ] || die "$who, --br=$br: vnetd still lists $tap after it went"
		sleep 0.02
	done
	log "$who, --br=$br -> $tap on vbr-h, gone with its fd"
}

# open_fails WHO BR TEXT: the helper run as WHO fails with status 1 and exactly one line, which
# contains TEXT, and vnetd makes no interface and no port. The line is left in $ERR.
open_fails() {
	local who=$1 br=$2 text=$3 before ports_before rc
	before=$(links)
	ports_before=$(ports)
	as "$who" "$T/bin/tapctl" helper "$HELPER" "$br" "$T/bin/inspect" >"$T/out" 2>"$T/err"
	rc=$?
	ERR=$(cat "$T/err")
	assert_eq "$rc" 1 "$who, --br=$br: exit status ($ERR)"
	[ -s "$T/out" ] && die "$who, --br=$br: a TAP was passed: $(cat "$T/out")"
	assert_eq "$(wc -l <"$T/err")" 1 "$who, --br=$br: lines on stderr ($ERR)"
	assert_contains "$ERR" "vnet-bridge-helper: " "$who, --br=$br"
	assert_contains "$ERR" "$text" "$who, --br=$br"
	assert_eq "$(links)" "$before" "$who, --br=$br: interfaces"
	assert_eq "$(ports)" "$ports_before" "$who, --br=$br: ports of hnet"
	log "$who, --br=$br -> $ERR"
}

log "allowed: by name, by a supplementary group, by the primary group, root"
open_ok "$U1" vbr-h
open_ok "$U2" vbr-h
open_ok "$U4" vbr-h
open_ok root vbr-h
# U2's group came from /etc/group through --init-groups; the same given by hand, alone and
# behind 70 others (more than vnetd's first buffer for SO_PEERGROUPS holds, 64).
open_ok "$U2:$GRP" vbr-h
open_ok "$U2:$(seq -s, 70001 70070),$GRP" vbr-h

log "--br may name the network as well as its bridge"
open_ok "$U1" hnet
open_ok "$U2" hnet

log "a user in neither list"
open_fails "$U3" vbr-h "permission denied"
assert_contains "$ERR" "not allowed on network 'hnet'" "$U3"
open_fails "$U3" hnet "permission denied"
# Other supplementary groups are no substitute for $GRP.
open_fails "$U3:nogroup,users" vbr-h "permission denied"

log "unknown --br: one line, no interface"
open_fails "$U1" vbr-nope "'vbr-nope' not found"
open_fails root vbr-nope "'vbr-nope' not found"
# 15 bytes is a name: it reaches vnetd.
open_fails "$U3" vbr-h-012345678 "'vbr-h-012345678' not found"

log "--br of 16 bytes or more: refused before any policy check, before vnetd is asked"
for br in vbr-h-0123456789 "$(printf 'x%.0s' $(seq 1 40))"; do
	open_fails "$U3" "$br" "interface names have at most 15 bytes"
	case $ERR in *ermission*) die "--br=$br as $U3: $ERR" ;; esac
	open_fails "$U1" "$br" "interface names have at most 15 bytes"
done
# With no vnetd to ask the answer is the same.
out=$(VNET_SOCKET=$T/nowhere.sock as "$U3" "$T/bin/tapctl" helper "$HELPER" \
	vbr-h-0123456789 2>&1) && die "a 16-byte --br with no vnetd: $out"
assert_contains "$out" "interface names have at most 15 bytes" "a 16-byte --br with no vnetd"
out=$(VNET_SOCKET=$T/nowhere.sock as "$U3" "$T/bin/tapctl" helper "$HELPER" vbr-h 2>&1) &&
	die "no vnetd: $out"
assert_contains "$out" "cannot connect to vnetd" "no vnetd"
# vnetd's own order, for clients other than the helper: the name first, then the policy.
opentap() {
	as "$U3" "$T/bin/vlclient" "$T/run/vnetd-user.sock" connect 0 call 0 io.vnet.OpenTap \
		"{\"bridge\":\"$1\",\"vnet_hdr\":true}" | jq -r .error
}
assert_eq "$(opentap vbr-h-0123456789)" io.vnet.InvalidParameter \
	"OpenTap of a 16-byte bridge as $U3"
assert_eq "$(opentap vbr-h)" io.vnet.PermissionDenied "OpenTap of vbr-h as $U3"

log "a reservation of the caller's is used before a new TAP is made"
vnetctl attach hnet --owner "$U1" --ifname hres0 >/dev/null || die "attach --owner $U1"
open_ok "$U1" vbr-h hres0
in_host ip link show hres0 >/dev/null || die "hres0, a reservation, went with its fd"
open_ok "$U1" hnet hres0
# Only for its owner: others get a TAP of their own.
open_ok "$U2" vbr-h
vnetctl detach hnet hres0 >/dev/null || die "detach hres0"

log "a stopped network: one line, no interface"
vnetctl stop hnet >/dev/null || die "stop hnet"
for who in "$U1" "$U2" root; do
	for br in vbr-h hnet; do
		open_fails "$who" "$br" "network 'hnet' is not running"
	done
done
# The policy comes first: who may not use the network does not learn its state either.
open_fails "$U3" vbr-h "permission denied"
vnetctl start hnet >/dev/null || die "start hnet"
open_ok "$U1" vbr-h

assert_eq "$(ports)" "" "ports of hnet at the end"
kill -0 "$VNETD_PID" || die "vnetd died"
echo ok
