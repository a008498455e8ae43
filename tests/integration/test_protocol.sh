#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The control socket against misbehaving and unprivileged clients: garbage, oversized and
# stalled messages cost the sender its connection and nobody else anything; the varlink
# service interface answers; the admin socket is 0660 and of vnetd's group, the user socket
# beside it 0666; anyone may read, only root and the group, on the admin socket, may change
# networks.
. "$(dirname "$0")/lib.sh"

GRP="vnet-test-$$"
USR="vnt$$u"
USOCK="$T/run/vnetd-user.sock" # beside $SOCK: for everyone, privileged for nobody

[ -x "$TOOLS/vlclient" ] || die "$TOOLS/vlclient missing: make tests"
setup_host
# The unprivileged user runs copies: the build directory need not be reachable for others.
mkdir -p "$T/bin"
cp "$TOOLS/vlclient" "$VNETCTL" "$T/bin/"
chmod 0755 "$T/bin" "$T/bin/vlclient" "$T/bin/vnetctl"
VL="$T/bin/vlclient"

# vl [-t MS] STEP...: vlclient against vnetd's socket, in the host namespace, as root.
vl() {
	local t=()
	if [ "$1" = -t ]; then
		t=(-t "$2")
		shift 2
	fi
	in_host "$VL" "${t[@]}" "$SOCK" "$@"
}

log "the socket is 0660, of root's group when vnetd's group does not exist; the user socket 0666"
printf '[Daemon]\nGroup=vnet-none-%s\n' "$$" >"$T/etc/vnetd.conf"
getent group "vnet-none-$$" >/dev/null && die "group vnet-none-$$ exists"
start_vnetd
assert_eq "$(stat -c %a "$SOCK")" 660 "socket mode"
assert_eq "$(stat -c %g "$SOCK")" 0 "socket group without vnetd's group"
assert_eq "$(stat -c %a "$USOCK")" 666 "user socket mode"
stop_vnetd

log "...and of vnetd's group when it exists"
groupadd "$GRP" || die "groupadd $GRP"
AT_EXIT+=("groupdel $GRP")
printf '[Daemon]\nGroup=%s\n' "$GRP" >"$T/etc/vnetd.conf"
start_vnetd
assert_eq "$(stat -c %a "$SOCK")" 660 "socket mode"
assert_eq "$(stat -c %G "$SOCK")" "$GRP" "socket group"
assert_eq "$(stat -c %a "$USOCK")" 666 "user socket mode"
vnetctl create pnet --bridge vbr-p --mode isolated >/dev/null || die "create pnet"

log "org.varlink.service"
out=$(vl connect 0 call 0 org.varlink.service.GetInfo) || die "GetInfo"
jq -e '.parameters.interfaces | index("io.vnet") != null' <<<"$out" >/dev/null ||
	die "GetInfo does not list io.vnet: $out"
jq -e '.parameters.interfaces | index("org.varlink.service") != null' <<<"$out" >/dev/null ||
	die "GetInfo does not list org.varlink.service: $out"
out=$(vl connect 0 call 0 org.varlink.service.GetInterfaceDescription '{"interface":"io.vnet"}') ||
	die "GetInterfaceDescription"
jq -j .parameters.description <<<"$out" >"$T/description"
cmp -s "$T/description" libvnet/io.vnet.varlink || {
	diff "$T/description" libvnet/io.vnet.varlink
	die "the description differs from libvnet/io.vnet.varlink"
}
out=$(vl connect 0 call 0 org.varlink.service.GetInterfaceDescription '{"interface":"io.nope"}')
assert_eq "$(jq -r .error <<<"$out")" org.varlink.service.InterfaceNotFound "unknown interface"
for m in io.vnet.Bogus org.varlink.service.Bogus io.vnet.createnetwork; do
	out=$(vl connect 0 call 0 "$m") || die "$m: no reply"
	assert_eq "$(jq -r .error <<<"$out")" org.varlink.service.MethodNotFound "$m"
done
out=$(vl connect 0 call 0 com.example.Thing.Do) || die "com.example: no reply"
assert_eq "$(jq -r .error <<<"$out")" org.varlink.service.InterfaceNotFound "com.example.Thing.Do"
# Errors are answers, not offences: the connection serves the next call.
out=$(vl connect 0 call 0 io.vnet.Bogus call 0 io.vnet.GetNetwork '{"name":"pnet"}' | tail -n 1)
assert_eq "$(jq -r .parameters.network.name <<<"$out")" pnet "a call after an error"
out=$(vl connect 0 send 0 '{"parameters":{}}\0' recv 0 call 0 io.vnet.ListNetworks | head -n 1)
assert_eq "$(jq -r .error <<<"$out")" org.varlink.service.InvalidParameter "a call without method"

# garbage N TEXT: TEXT sent on a connection costs it the connection within a second, while
# another client, connected all along, keeps being served, and so are new ones.
garbage() {
	local what=$1 text=$2 out
	out=$(vl -t 1000 connect 1 connect 2 call 2 io.vnet.ListNetworks send 1 "$text" eof 1 1000 \
		call 2 io.vnet.GetNetwork '{"name":"pnet"}' connect 3 call 3 io.vnet.ListNetworks) ||
		die "$what: $out"
	grep -q '^closed 1 after' <<<"$out" || die "$what: not disconnected: $out"
	[ "$(grep -c '"parameters"' <<<"$out")" -eq 3 ] || die "$what: others not served: $out"
	log "$what: $(grep '^closed' <<<"$out")"
}

log "errors name what they are about, as the daemon found it"
# err_is METHOD PARAMS ERROR JQ-PARAMETERS: the call fails with ERROR and these parameters.
err_is() {
	local out
	out=$(vl connect 0 call 0 "$1" "$2") || die "$1: no reply"
	assert_eq "$(jq -r .error <<<"$out")" "$3" "$1 $2: error"
	assert_eq "$(jq -c .parameters <<<"$out")" "$4" "$1 $2: error parameters"
}
err_is io.vnet.GetNetwork '{"name":"nonet"}' io.vnet.NetworkNotFound '{"name":"nonet"}'
err_is io.vnet.DetachPort '{"network":"pnet","ifname":"nope0"}' io.vnet.PortNotFound \
	'{"network":"pnet","ifname":"nope0"}'
# A hook asks for a reserved TAP without naming a network: the reservation's network is the
# one that is not running, not the default it would have fallen back to.
vnetctl attach pnet --ifname rz0 >/dev/null || die "attach rz0"
vnetctl stop pnet >/dev/null || die "stop pnet"
err_is io.vnet.PortUp '{"ifname":"rz0"}' io.vnet.NetworkNotRunning '{"name":"pnet"}'
vnetctl start pnet >/dev/null || die "start pnet"
vnetctl detach pnet rz0 >/dev/null || die "detach rz0"

log "malformed messages: that client is disconnected, the others are served"
garbage "malformed JSON" '{"method": nope}\0'
garbage "truncated JSON" '{"method":"io.vnet.ListNetworks"\0'
garbage "not an object" '["io.vnet.ListNetworks"]\0'
garbage "a string" '"hello"\0'
garbage "an empty message" '\0'
garbage "binary" '\xff\xfe\x01\x02\0'
garbage "NUL inside a message" '{"method":"io.vnet.List\0Networks"}\0'
garbage "invalid UTF-8" '{"method":"io.vnet.ListNetworks","parameters":{"x":"\xc3\x28"}}\0'
# The reply to a call before the offence is owed.
out=$(vl connect 1 send 1 '{"method":"io.vnet.ListNetworks"}\0{garbage}\0' recv 1 eof 1 1000) ||
	die "call then garbage: $out"
jq -e '.parameters.networks' <<<"$(head -n 1 <<<"$out")" >/dev/null ||
	die "call then garbage: the reply to the call is missing: $out"

log "messages over the bound (VARLINK_MSG_MAX, 1 MiB): disconnected, the others are served"
max=$((1024 * 1024))
out=$(vl -t 3000 connect 1 connect 2 sendbig 1 "$max" nul recv 1 \
	call 2 io.vnet.ListNetworks) || die "a message of exactly 1 MiB: $out"
[ "$(grep -c '"networks"' <<<"$out")" -eq 2 ] || die "exactly 1 MiB: not served: $out"
out=$(vl -t 3000 connect 1 connect 2 sendbig 1 $((max + 1)) nul eof 1 2000 \
	call 2 io.vnet.ListNetworks connect 3 call 3 io.vnet.ListNetworks) ||
	die "a message of 1 MiB + 1: $out"
[ "$(grep -c '"networks"' <<<"$out")" -eq 2 ] || die "1 MiB + 1: others not served: $out"
out=$(vl -t 3000 connect 1 connect 2 sendbig 1 $((4 * max)) eof 1 2000 \
	call 2 io.vnet.ListNetworks) || die "an unterminated message of 4 MiB: $out"
grep -q '"networks"' <<<"$out" || die "4 MiB: others not served: $out"

log "a client that stalls in the middle of a message is dropped after ~5 s; the others are not"
# Connection 1 stalls; 2 keeps calling and 4 comes and calls, each answered within a second
# (vlclient -t), a fifth of the stall timeout; 3 is idle between whole messages, which is no
# offence. vnetd checks its stall timeout (5 s) several times a second.
start=$(date +%s%N)
out=$(vl -t 1000 connect 1 connect 2 connect 3 call 3 io.vnet.ListNetworks \
	send 1 '{"method":"io.vnet.ListNetworks","param' \
	call 2 io.vnet.ListNetworks sleep 1000 call 2 io.vnet.ListNetworks sleep 1500 \
	connect 4 call 4 org.varlink.service.GetInfo call 2 io.vnet.ListNetworks \
	eof 1 4500 call 2 io.vnet.ListNetworks call 3 io.vnet.ListNetworks) ||
	die "stall: $out"
elapsed=$((($(date +%s%N) - start) / 1000000))
closed=$(sed -n 's/^closed 1 after \([0-9]*\) ms$/\1/p' <<<"$out")
[ -n "$closed" ] || die "stall: not disconnected: $out"
if [ "$closed" -lt 4900 ] || [ "$closed" -gt 6500 ]; then
	die "stall: disconnected after $closed ms, expected 5000..6500"
fi
[ "$(grep -c '"parameters"' <<<"$out")" -eq 7 ] || die "stall: others not served: $out"
log "stalled client dropped after $closed ms (the whole exchange took $elapsed ms)"
grep -q "stalled in the middle of a message" "$T/vnetd.log" || die "vnetd did not log the stall"

log "the user socket: the same protocol, the same defences, and nobody is privileged on it"
out=$(in_host "$VL" -t 1000 "$USOCK" connect 0 call 0 org.varlink.service.GetInfo \
	call 0 io.vnet.GetNetwork '{"name":"pnet"}' \
	call 0 io.vnet.StopNetwork '{"name":"pnet"}') || die "root on the user socket: $out"
grep -q '"io.vnet"' <<<"$(sed -n 1p <<<"$out")" || die "GetInfo on the user socket: $out"
assert_eq "$(sed -n 2p <<<"$out" | jq -r .parameters.network.state)" running \
	"GetNetwork on the user socket"
assert_eq "$(sed -n 3p <<<"$out" | jq -r .error)" io.vnet.PermissionDenied "root on the user socket"
# Garbage on the user socket while a client of the admin socket calls, and the reverse.
out=$(in_host "$VL" -t 1000 "$USOCK" connect 1 send 1 '{nope}\0' eof 1 1000) ||
	die "garbage on the user socket: $out"
vnetctl list >/dev/null || die "the admin socket after garbage on the user socket"
out=$(in_host "$VL" -t 1000 "$USOCK" connect 1 call 1 io.vnet.ListNetworks) ||
	die "the user socket after garbage on it: $out"

log "permissions: anyone may read; changes need root or vnetd's group"
useradd -r -M -N -g nogroup -s /usr/sbin/nologin "$USR" || die "useradd $USR"
AT_EXIT+=("userdel $USR")
uid=$(id -u "$USR")
gid=$(id -g "$USR")
# mktemp made $T 0700: others may pass through to the sockets, not list them.
chmod 0711 "$T"
as_user() { ip netns exec "$HOST" setpriv --reuid="$uid" --regid="$gid" --init-groups "$@"; }
uctl() { as_user "$T/bin/vnetctl" -s "$SOCK" "$@"; }

# The admin socket's mode keeps the user out; vnetctl then uses the user socket.
out=$(as_user "$VL" "$SOCK" connect 0 2>&1) && die "$USR connected to the 0660 admin socket"
assert_contains "$out" "ermission denied" "$USR on the admin socket"
before=$(vnetctl --json list)
uctl list >"$T/out" || die "list as $USR"
grep -q '^pnet ' "$T/out" || die "list as $USR lacks pnet: $(cat "$T/out")"
assert_eq "$(uctl --json show pnet | jq -r .state)" running "show as $USR"
out=$(as_user "$VL" "$USOCK" connect 0 call 0 org.varlink.service.GetInfo) || die "GetInfo as $USR"
grep -q io.vnet <<<"$out" || die "GetInfo as $USR: $out"
for cmd in "create unet --mode isolated" "create unet --ipv4 10.1.1.1/24" "stop pnet" \
	"start pnet" "destroy pnet" "mode pnet open" "destroy ghost" "mode pnet bogus"; do
	# shellcheck disable=SC2086 # the command's words
	err=$(expect_fail "$cmd as $USR" uctl $cmd) || exit 1
	assert_contains "$err" "permission denied" "$cmd as $USR"
	log "$cmd as $USR -> $err"
done
calls=(io.vnet.CreateNetwork '{"network":{"name":"unet","mode":"isolated"}}'
	io.vnet.StopNetwork '{"name":"pnet"}' io.vnet.StartNetwork '{"name":"pnet"}'
	io.vnet.DestroyNetwork '{"name":"pnet"}' io.vnet.SetMode '{"name":"pnet","mode":"open"}')
for ((i = 0; i < ${#calls[@]}; i += 2)); do
	out=$(as_user "$VL" "$USOCK" connect 0 call 0 "${calls[i]}" "${calls[i + 1]}") ||
		die "${calls[i]} as $USR: no reply"
	assert_eq "$(jq -r .error <<<"$out")" io.vnet.PermissionDenied "${calls[i]} as $USR"
done
assert_eq "$(vnetctl --json list)" "$before" "networks after refused changes"
in_host ip link show vbr-p >/dev/null || die "vbr-p gone after refused changes"
in_host ip link show vbr-unet >/dev/null 2>&1 && die "a refused create made a bridge"

log "PortDown: an adopted port goes only for its owner or a privileged caller"
in_host ip link add pd0 type veth peer name pd1 || die "add pd0"
out=$(vl connect 0 call 0 io.vnet.PortUp '{"ifname":"pd0","network":"pnet"}') || die "PortUp pd0"
assert_eq "$(jq -r '.error // "none"' <<<"$out")" none "PortUp pd0 (adopted by root)"
out=$(as_user "$VL" "$USOCK" connect 0 call 0 io.vnet.PortDown '{"ifname":"pd0"}') ||
	die "PortDown pd0 as $USR: no reply"
assert_eq "$(jq -r .error <<<"$out")" io.vnet.PermissionDenied "PortDown of root's port as $USR"
vnetctl ports pnet | grep -q '^pd0 ' || die "pd0 is no longer a port after a refused PortDown"
# A reservation outlives its VMM: PortDown leaves it, for anyone, and says so with success.
vnetctl attach pnet --ifname rz1 >/dev/null || die "attach rz1"
out=$(as_user "$VL" "$USOCK" connect 0 call 0 io.vnet.PortDown '{"ifname":"rz1"}') ||
	die "PortDown rz1 as $USR: no reply"
assert_eq "$(jq -r '.error // "none"' <<<"$out")" none "PortDown of a reservation as $USR"
vnetctl ports pnet | grep -q '^rz1 ' || die "PortDown removed the reservation rz1"
vl connect 0 call 0 io.vnet.PortDown '{"ifname":"pd0"}' >/dev/null || die "PortDown pd0 as root"
vnetctl ports pnet | grep -q '^pd0 ' && die "pd0 is still a port after root's PortDown"
vnetctl detach pnet rz1 >/dev/null || die "detach rz1"
in_host ip link del pd0 || die "del pd0"

log "the same user in vnetd's group may change networks"
usermod -a -G "$GRP" "$USR" || die "usermod"
as_user "$VL" "$SOCK" connect 0 call 0 io.vnet.ListNetworks >/dev/null ||
	die "a member of $GRP cannot connect to the admin socket"
uctl create unet --bridge vbr-unet --mode isolated >/dev/null || die "create as a group member"
in_host ip link show vbr-unet >/dev/null || die "create as a group member made no bridge"
uctl mode unet open >/dev/null || die "mode as a group member"
uctl stop pnet >/dev/null || die "stop as a group member"
uctl start pnet >/dev/null || die "start as a group member"
uctl destroy unet >/dev/null || die "destroy as a group member"
assert_eq "$(vnetctl --json list | jq -r 'map(.name + ":" + .state) | join(",")')" \
	pnet:running "networks at the end"
kill -0 "$VNETD_PID" || die "vnetd died"
echo "ok"
