#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash consistency: vnetd killed (SIGKILL, by itself: VNET_TEST_CRASH_AT=STEP, netd/crash.h)
# at every step of create, mode, attach (and the spare TAP made after it), detach, stop and
# destroy comes back, started again without the variable, to a consistent state: each network
# is either whole (definition, runtime record, bridge with its address, its chains and map/set
# elements, its dnsmasq, its ports' TAPs on the bridge, its spare TAP if it has one) or
# stopped/absent with nothing of it left (no bridge, TAP, chain, element, file in RUN_DIR or
# dnsmasq process); what was acknowledged before the crash is still there; and vnetctl,
# nftables, the links and the processes agree. One setup, one state directory: each step
# crashes on a network of its own, destroyed after its checks.
. "$(dirname "$0")/lib.sh"

chmod 0755 "$T" # dnsmasq drops root
setup_host

SPARE_GROUP=1986946420 # the device group of spare TAPs (MGR_SPARE_GROUP, "vnet")

# --- the consistency check ------------------------------------------------------------------
# bad WHAT: one inconsistency, collected; consistent reports them all at once.
BAD=()
bad() { BAD+=("$*"); }

# consistent WHAT: vnetctl, files, links, rules and processes agree.
consistent() {
	local what=$1 list nftj links net state br mode ipv4 pid ifx ports p f name recorded
	local -A running=() bridges=() known=() port_ok=() spare_ok=()
	local dns
	BAD=()
	dns=$(our_dnsmasq)
	list=$(vnetctl --json list) || die "$what: vnetctl list failed"
	nftj=$(in_host nft -j list table inet vnet) || die "$what: no table inet vnet"
	links=$(in_host ip -d -j link show)
	recorded=$(reservations)
	# Elements of a map or set: "KEY TARGET" lines (TARGET the jump's chain, or "-").
	elems() {
		jq -r --arg s "$1" '.nftables[] | (.map // .set) | select(.name? == $s) | (.elem // [])[]
			| if type == "array" then "\(.[0]) \(.[1].jump.target // .[1].goto.target // "-")"
			  else "\(.) -" end' <<<"$nftj"
	}
	for net in $(jq -r '.[].name' <<<"$list"); do
		known[$net]=1
		state=$(jq -r --arg n "$net" '.[] | select(.name == $n) | .state' <<<"$list")
		br=$(jq -r --arg n "$net" '.[] | select(.name == $n) | .bridge' <<<"$list")
		mode=$(jq -r --arg n "$net" '.[] | select(.name == $n) | .mode' <<<"$list")
		ipv4=$(jq -r --arg n "$net" '.[] | select(.name == $n) | .ipv4 // ""' <<<"$list")
		bridges[$br]=$net
		[ -f "$T/etc/networks/$net.conf" ] || [ -f "$T/run/transient/$net.conf" ] ||
			bad "$net ($state): no definition file"
		case $state in
		running)
			running[$net]=1
			ifx=$(jq -r --arg b "$br" '.[] | select(.ifname == $b and .linkinfo.info_kind == "bridge") | .ifindex' <<<"$links")
			[ -n "$ifx" ] || bad "$net (running): no bridge $br"
			[ -z "$ipv4" ] || in_host ip -4 -o addr show dev "$br" 2>/dev/null | grep -qF " $ipv4 " ||
				bad "$net (running): bridge $br lacks $ipv4"
			[ "$(jq -r .ifindex "$T/run/networks/$net.json" 2>/dev/null)" = "$ifx" ] ||
				bad "$net (running): runtime record missing or not naming ifindex $ifx"
			for m in to from in; do
				jq -e --arg c "net-$net-$m" '.nftables[] | select(.chain.name? == $c)' \
					<<<"$nftj" >/dev/null || bad "$net (running, $mode): no chain net-$net-$m"
			done
			for m in to_net from_net in_net; do
				elems $m | grep -qx "$br net-$net-${m%_net}" ||
					bad "$net (running, $mode): no element $br in $m"
			done
			if [ "$mode" = nat ]; then
				elems nat_net | grep -qx "$br net-$net-nat" || bad "$net (nat): no element $br in nat_net"
			else
				elems nat_net | grep -q "^$br " && bad "$net ($mode): element $br in nat_net"
			fi
			# dhcp_csum: not required (vnetd.conf may keep DHCP checksums); an element of a
			# network that is not running is an orphan, checked below.
			if [ -n "$ipv4" ]; then
				pid=$(vnetctl --json show "$net" | jq -r '.dnsmasq.pid // empty')
				if [ -z "$pid" ] || ! grep -qx "$pid" <<<"$dns"; then
					bad "$net (running): dnsmasq '$pid' not running"
				elif ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$T/run/dnsmasq/$net.conf"; then
					bad "$net (running): dnsmasq $pid is not the network's"
				fi
				[ -f "$T/run/dnsmasq/$net.conf" ] || bad "$net (running): no dnsmasq config"
			fi
			# The spare TAP, if the network has one: on the bridge, down, in the spare
			# group, named by the runtime record.
			local spare sd
			spare=$(vnetctl --json show "$net" | jq -r '.spare_tap // empty')
			if [ -n "$spare" ]; then
				spare_ok[$spare]=$net
				sd=$(jq -c --arg i "$spare" 'map(select(.ifname == $i)) | .[0] |
					[.linkinfo.info_kind, .master, .group, (.flags | index("UP") != null)]' <<<"$links")
				[ "$sd" = "[\"tun\",\"$br\",\"$SPARE_GROUP\",false]" ] ||
					bad "$net (running): spare $spare is $sd, not a TAP on $br, down, in the spare group"
				[ "$(jq -r '.spare // ""' "$T/run/networks/$net.json" 2>/dev/null)" = "$spare" ] ||
					bad "$net (running): runtime record does not name spare $spare"
			fi
			;;
		stopped)
			jq -e --arg b "$br" '.[] | select(.ifname == $b)' <<<"$links" >/dev/null &&
				bad "$net (stopped): bridge $br exists"
			[ -e "$T/run/networks/$net.json" ] && bad "$net (stopped): runtime record remains"
			;;
		*) bad "$net: state $state ($(vnetctl --json show "$net" | jq -r '.error // ""'))" ;;
		esac
		# Ports: a TAP on the bridge when running, none when stopped.
		ports=$(vnetctl --json ports "$net") || bad "$net: ports failed"
		for p in $(jq -r '.[].ifname' <<<"$ports"); do
			port_ok[$p]=$net
			local pst master kind
			pst=$(jq -r --arg i "$p" '.[] | select(.ifname == $i) | .state' <<<"$ports")
			master=$(jq -r --arg i "$p" 'map(select(.ifname == $i)) | .[0].master // "none"' <<<"$links")
			kind=$(jq -r --arg i "$p" 'map(select(.ifname == $i)) | .[0].linkinfo.info_kind // "none"' <<<"$links")
			grep -q "^$p $net\$" <<<"$recorded" || bad "port $p of $net: no reservation"
			if [ "$state" = running ]; then
				[ "$kind" = tun ] && [ "$master" = "$br" ] ||
					bad "port $p of $net (running): TAP is '$kind' on '$master', not a TAP on $br"
				[ "$pst" = up ] || [ "$pst" = down ] || bad "port $p of $net (running): state $pst"
			else
				[ "$kind" = none ] || bad "port $p of $net (stopped): its $kind exists"
				[ "$pst" = stopped ] || bad "port $p of $net (stopped): state $pst"
			fi
		done
	done
	# Nothing of a network that is not running.
	for f in "$T"/run/networks/*.json; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .json)
		[ -n "${running[$name]:-}" ] || bad "orphan runtime record $f"
	done
	for f in "$T"/run/dnsmasq/*; do
		[ -e "$f" ] || continue
		name=$(basename "$f")
		name=${name%.*}
		[ -n "${running[$name]:-}" ] || bad "orphan dnsmasq file $f"
	done
	while read -r name _; do
		[ -z "$name" ] || [ -n "${port_ok[$name]:-}" ] || bad "orphan reservation $name"
	done <<<"$recorded"
	for pid in $dns; do
		name=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n 's|^--conf-file=.*/\([^/]*\)\.conf$|\1|p')
		[ -n "${running[$name]:-}" ] &&
			[ "$(vnetctl --json show "$name" | jq -r .dnsmasq.pid)" = "$pid" ] ||
			bad "orphan dnsmasq $pid ($name)"
	done
	for name in $(jq -r '.[] | select(.linkinfo.info_kind == "bridge") | .ifname' <<<"$links"); do
		[ -n "${bridges[$name]:-}" ] && [ -n "${running[${bridges[$name]}]:-}" ] ||
			bad "orphan bridge $name"
	done
	for name in $(jq -r '.[] | select(.linkinfo.info_kind == "tun") | .ifname' <<<"$links"); do
		[ -n "${spare_ok[$name]:-}" ] && continue
		[ -n "${port_ok[$name]:-}" ] && [ -n "${running[${port_ok[$name]}]:-}" ] ||
			bad "orphan TAP $name"
	done
	for name in $(jq -r '.nftables[] | .chain.name? // empty' <<<"$nftj" | sed -n 's/^net-\(.*\)-[a-z]*$/\1/p' | sort -u); do
		[ -n "${running[$name]:-}" ] || bad "orphan chains net-$name-*"
	done
	for m in to_net from_net in_net nat_net dhcp_csum; do
		while read -r key _; do
			[ -n "${bridges[$key]:-}" ] && [ -n "${running[${bridges[$key]}]:-}" ] ||
				bad "orphan element $key in $m"
		done < <(elems $m)
	done
	if [ ${#BAD[@]} -gt 0 ]; then
		printf '  %s\n' "${BAD[@]}" >&2
		in_host nft list table inet vnet >&2
		in_host ip -br link >&2
		vnetctl list >&2
		die "$what: inconsistent state (above)"
	fi
	return 0
}

# --- what was acknowledged before any crash ---------------------------------------------------
start_vnetd
vnetctl create keep --bridge vbr-keep --mode nat --ipv4 10.50.0.1/24 >/dev/null || die "create keep"
vnetctl attach keep --ifname kp0 >/dev/null || die "attach kp0"
vnetctl create idle --bridge vbr-idle --mode isolated --ipv4 10.50.1.1/24 >/dev/null ||
	die "create idle"
vnetctl attach idle --ifname ip0 >/dev/null || die "attach ip0"
vnetctl stop idle >/dev/null || die "stop idle"
consistent "before any crash"
KEEP_IDX=$(in_host cat /sys/class/net/vbr-keep/ifindex)
KP0_IDX=$(in_host cat /sys/class/net/kp0/ifindex)
KEEP_PID=$(vnetctl --json show keep | jq -r .dnsmasq.pid)
stop_vnetd TERM

# acked: what earlier steps and the setup acknowledged is still there, untouched.
acked() {
	local what=$1
	assert_eq "$(vnetctl --json show keep | jq -r '[.state, .mode] | join(" ")')" "running nat" "$what: keep"
	assert_eq "$(in_host cat /sys/class/net/vbr-keep/ifindex)" "$KEEP_IDX" "$what: vbr-keep's ifindex"
	assert_eq "$(in_host cat /sys/class/net/kp0/ifindex)" "$KP0_IDX" "$what: kp0's ifindex"
	assert_eq "$(vnetctl --json show keep | jq -r .dnsmasq.pid)" "$KEEP_PID" "$what: keep's dnsmasq"
	assert_eq "$(vnetctl --json show idle | jq -r .state)" stopped "$what: idle"
	assert_eq "$(vnetctl --json ports idle | jq -r 'map(.ifname) | join(",")')" ip0 "$what: ports of idle"
}

# --- every step ---------------------------------------------------------------------------------
# step STEP NET PREP-COMMANDS OP-COMMAND: with vnetd dying at STEP, runs PREP (each must
# succeed: it does not reach STEP) and then OP (vnetd dies in it: it fails); then starts vnetd
# again and checks. Each step gets a network NET of its own, subnet 10.60.I.0/24.
I=0
step() {
	local st=$1 net=$2 prep=$3 op=$4 rc outcome
	I=$((I + 1))
	VNETD_ENV=(VNET_TEST_CRASH_AT="$st")
	start_vnetd
	VNETD_ENV=()
	eval "$prep" || die "$st: preparation '$prep' failed"
	if eval "$op" >/dev/null 2>"$T/op.err"; then
		die "$st: '$op' succeeded: vnetd did not die at $st"
	fi
	wait "$VNETD_PID" 2>/dev/null
	rc=$?
	VNETD_PID=
	assert_eq "$rc" 137 "$st: vnetd's exit status (SIGKILL)"
	grep -q "VNET_TEST_CRASH_AT=$st: dying here" "$T/vnetd.log" || die "$st: vnetd did not die at $st"
	start_vnetd
	consistent "after a crash at $st"
	acked "after a crash at $st"
	outcome=$(vnetctl --json list | jq -r --arg n "$net" '.[] | select(.name == $n) |
		"\(.state) \(.mode)"')
	outcome="$net: ${outcome:-absent}; ports: $(vnetctl --json ports "$net" 2>/dev/null |
		jq -r 'map(.ifname + " " + .state) | join(", ")')"
	log "$st: consistent ($outcome)"
	echo "$st $outcome" >>"$T/outcomes"
	# Checks cost per network: keep the count small.
	if vnetctl show "$net" >/dev/null 2>&1; then
		vnetctl destroy "$net" >/dev/null || die "$st: destroy $net"
	fi
	stop_vnetd TERM
}
mk() { vnetctl create "$1" --bridge "vbr-$1" --mode nat --ipv4 "10.60.$I.1/24" >/dev/null; }
mkp() { mk "$1" && vnetctl attach "$1" --ifname "t-$1" >/dev/null; }

for s in create:defined up:record up:bridge up:dns up:rules; do
	n=c${s#*:}
	step "$s" "$n" true "mk $n"
done
step mode:defined md "mkp md" "vnetctl mode md isolated"
step mode:rules mr "mkp mr" "vnetctl mode mr isolated"
step attach:reserved ar "mk ar" "vnetctl attach ar --ifname t-ar"
step attach:tap at "mk at" "vnetctl attach at --ifname t-at"
step detach:tap dt "mkp dt" "vnetctl detach dt t-dt"
# After an attach's reply vnetd makes the network's spare TAP: it dies there, the attach
# having been acknowledged (the op then waits for vnetd to die: it fails only if it does).
dies_after() { "$@" >/dev/null && ! timeout 5 tail --pid="$VNETD_PID" -f /dev/null; }
step spare:named sn "mk sn" "dies_after vnetctl attach sn --ifname t-sn"
step spare:enslaved se "mk se" "dies_after vnetctl attach se --ifname t-se"
for s in down:ports down:dns down:bridge down:rules; do
	step "$s" "s${s#*:}" "mkp s${s#*:}" "vnetctl stop s${s#*:}"
	step "$s" "d${s#*:}" "mkp d${s#*:}" "vnetctl destroy d${s#*:}"
done
step destroy:stopped ds "mkp ds" "vnetctl destroy ds"

# --- outcomes the design asks for --------------------------------------------------------------
# Unacknowledged requests may go either way, but a request the crash interrupted after its
# desired state was on disk is finished, not undone: the new mode, the attached port, the
# running network whose stop was never acknowledged.
outcome() { sed -n "s/^$1 //p" "$T/outcomes"; }
assert_contains "$(outcome mode:defined)" "running isolated" "mode:defined: md"
assert_contains "$(outcome mode:rules)" "running isolated" "mode:rules: mr"
assert_contains "$(outcome attach:reserved)" "t-ar" "attach:reserved: the reservation made real"
assert_contains "$(outcome attach:tap)" "t-at" "attach:tap: the port"
assert_contains "$(outcome spare:named)" "t-sn" "spare:named: the acknowledged port"
assert_contains "$(outcome spare:enslaved)" "t-se" "spare:enslaved: the acknowledged port"
for s in down:ports down:dns down:bridge down:rules; do
	assert_contains "$(outcome "$s" | head -n 1)" "running nat" "$s (stop): the network"
done

log "the end: destroy everything; nothing remains"
start_vnetd
for n in $(vnetctl --json list | jq -r '.[].name'); do
	vnetctl destroy "$n" >/dev/null || die "destroy $n"
done
consistent "after destroying everything"
assert_eq "$(vnetctl --json list)" "[]" "networks left"
echo "ok"
