#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGHUP re-reads CONFIG_DIR/networks and converges: hand edits take effect in place, new
# files define networks, removed files destroy them, and what did not change is not touched;
# a dnsmasq configuration that cannot be written is written and used once it can be.
. "$(dirname "$0")/lib.sh"

setup_host
cat >"$T/etc/networks/lab.conf" <<EOF
[Network]
Mode=nat
Autostart=yes
[IPv4]
Address=10.7.0.1/24
EOF
cat >"$T/etc/networks/calm.conf" <<EOF
[Network]
Mode=isolated
Autostart=yes
[IPv4]
Address=10.8.0.1/24
EOF
start_vnetd

reload() {
	local out
	out=$(vnetctl reload) || die "vnetctl reload failed"
	assert_eq "$out" "Definitions reloaded." "vnetctl reload's output"
}
sighup() {
	kill -HUP "$VNETD_PID"
	# The signal is handled in the loop before the next call is served; wait for the log.
	for _ in $(seq 1 50); do
		[ "$(grep -c 'definitions reloaded' "$T/vnetd.log")" -gt "${1:-0}" ] && return 0
		sleep 0.02
	done
	die "vnetd did not reload on SIGHUP"
}
field() { vnetctl --json show "$1" | jq -r "$2"; }
ifindex() { in_host ip -j link show "$1" | jq -r '.[0].ifindex'; }

lab_br=$(field lab .bridge)
calm_br=$(field calm .bridge)
lab_idx=$(ifindex "$lab_br")
calm_pid=$(field calm .dnsmasq.pid)
[ "$calm_pid" -gt 0 ] 2>/dev/null || die "calm has no dnsmasq"

# Not through in_host (a function: $! would be a subshell): $! must be the monitor itself.
ip netns exec "$HOST" ip monitor link address >"$T/monitor" 2>&1 &
PIDS+=($!)
monitor_mark "$T/monitor" link

log "a hand-edited mode and MTU take effect in place"
sed -i 's/^Mode=nat/Mode=routed/; s/^MTU=.*/MTU=9000/' "$T/etc/networks/lab.conf"
grep -q '^MTU=9000' "$T/etc/networks/lab.conf" || die "the settled file has no MTU line"
reload
assert_eq "$(field lab .mode)" routed "lab mode after reload"
assert_eq "$(ifindex "$lab_br")" "$lab_idx" "lab bridge kept"
assert_eq "$(in_host ip -j link show "$lab_br" | jq -r '.[0].mtu')" 9000 "lab MTU"
in_host nft list chain inet vnet net-lab-nat >/dev/null 2>&1 && die "routed lab still has a nat chain"
in_host nft list chain inet vnet net-lab-to | grep -q 'ip daddr 10.7.0.0/24 return' ||
	die "lab has no routed rules"

log "the network that did not change saw nothing"
monitor_mark "$T/monitor" link
[ -z "$(link_flaps "$T/monitor" "$calm_br")" ] || die "calm's bridge changed: $(cat "$T/monitor")"
assert_eq "$(field calm .dnsmasq.pid)" "$calm_pid" "calm's dnsmasq"

log "a reservation added by hand: same dnsmasq, new hosts file"
printf '[DHCP]\nHost=52:54:00:00:08:10,10.8.0.10,db\n' >>"$T/etc/networks/calm.conf"
reload
assert_eq "$(field calm '.hosts[0].hostname')" db "calm reservation"
assert_eq "$(field calm .dnsmasq.pid)" "$calm_pid" "calm's dnsmasq after a reservation"
grep -q '52:54:00:00:08:10,10.8.0.10,db' "$T/run/dnsmasq/calm.hosts" || die "hosts file not rewritten"

log "DNS turned off by hand, DHCP off already: the dnsmasq goes; turned on: it comes back"
cp "$T/etc/networks/lab.conf" "$T/lab.before-dns"
printf '[DHCP]\nEnabled=no\n' >>"$T/etc/networks/lab.conf"
reload
lab_pid=$(field lab '.dnsmasq.pid // 0')
[ "$lab_pid" -gt 0 ] || die "lab without DHCP has no dnsmasq for its DNS"
printf '[DNS]\nEnabled=no\n' >>"$T/etc/networks/lab.conf"
reload
kill -0 "$lab_pid" 2>/dev/null && die "lab's dnsmasq $lab_pid still runs with DHCP and DNS off"
assert_eq "$(field lab '.dnsmasq.pid // 0')" 0 "lab's dnsmasq with DHCP and DNS off"
cp "$T/lab.before-dns" "$T/etc/networks/lab.conf"
reload
[ "$(field lab '.dnsmasq.pid // 0')" -gt 0 ] || die "lab has no dnsmasq after DNS came back"

log "a new file defines and (autostart) starts a network (SIGHUP)"
printf '[Network]\nMode=isolated\nAutostart=yes\n' >"$T/etc/networks/fresh.conf"
sighup 0
assert_eq "$(field fresh .state)" running "fresh state"

log "a broken file keeps the old definition"
cp "$T/etc/networks/lab.conf" "$T/lab.good"
printf '[Network]\nMode=bogus\n' >"$T/etc/networks/lab.conf"
reload
assert_eq "$(field lab .mode)" routed "lab after a broken edit"
assert_eq "$(field lab .state)" running "lab state after a broken edit"
grep -q "lab.conf.*keeps its definition" "$T/vnetd.log" || die "the broken file was not reported"
cp "$T/lab.good" "$T/etc/networks/lab.conf"

log "a dnsmasq configuration that cannot be written: retried until it can be, then used"
# chattr +i makes RUN_DIR/dnsmasq unwritable even for root (on ext4 and the like).
if chattr +i "$T/run/dnsmasq" 2>/dev/null; then
	AT_EXIT+=("chattr -i '$T/run/dnsmasq'")
	calm_pid=$(field calm .dnsmasq.pid)
	printf '[DNS]\nDomain=calm.example\n' >>"$T/etc/networks/calm.conf"
	vnetctl reload >/dev/null 2>&1 # the reload itself may report the failure
	poll "calm's dnsmasq reports that its configuration cannot be written" \
		eval 'field calm ".dnsmasq.last_exit // \"\"" | grep -q "Operation not permitted"'
	check "the old dnsmasq was replaced" not kill -0 "$calm_pid"
	check "no dnsmasq runs meanwhile" [ "$(field calm .dnsmasq.running)" = false ]
	chattr -i "$T/run/dnsmasq"
	# The supervisor's backoff: retries 0.25, 1 and 5 s apart, then every 30 s.
	for _ in $(seq 1 120); do
		[ "$(field calm .dnsmasq.running)" = true ] && break
		sleep 0.1
	done
	check "calm's dnsmasq runs again once it can" [ "$(field calm .dnsmasq.running)" = true ]
	check "with the new configuration, not the one on disk before" \
		grep -qx "domain=calm.example" "$T/run/dnsmasq/calm.conf"
	new_pid=$(field calm .dnsmasq.pid)
	check "the running dnsmasq read it" \
		eval 'tr "\0" " " <"/proc/$new_pid/cmdline" | grep -qF "$T/run/dnsmasq/calm.conf"'
else
	log "SKIP the unwritable dnsmasq configuration: chattr +i does not work in $T"
fi

log "a removed file destroys its network"
rm "$T/etc/networks/fresh.conf"
fresh_br=$(field fresh .bridge)
reload
vnetctl show fresh >/dev/null 2>&1 && die "fresh still defined"
in_host ip link show "$fresh_br" >/dev/null 2>&1 && die "fresh's bridge still there"
assert_eq "$(field lab .state)" running "lab untouched"
echo ok
