#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vnetd as a process: daemonizing (ready when the parent returns, pid file), one instance per
# run directory, command-line errors, signals, --socket.
. "$(dirname "$0")/lib.sh"

setup_host

log "usage errors exit 2, --help and --version exit 0"
in_host "$VNETD" --bogus >/dev/null 2>&1
assert_eq $? 2 "exit status for an unknown option"
in_host "$VNETD" extra >/dev/null 2>&1
assert_eq $? 2 "exit status for an extra argument"
in_host "$VNETD" --help | grep -q -- --config-dir || die "--help lacks the options"
in_host "$VNETD" --version | grep -q vnetd || die "--version"

log "without --foreground, vnetd is ready when the command returns"
in_host "$VNETD" --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" 2>>"$T/vnetd.log" ||
	die "vnetd failed to daemonize"
[ -f "$T/run/vnetd.pid" ] || die "no pid file"
VNETD_PID=$(cat "$T/run/vnetd.pid")
kill -0 "$VNETD_PID" || die "the pid file names no process"
vnetctl list >/dev/null || die "not answering right after start"

log "a second vnetd on the same run directory is refused"
out=$(in_host "$VNETD" --foreground --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" 2>&1)
assert_eq $? 1 "second vnetd exit status"
assert_contains "$out" "another vnetd" "second vnetd message"
vnetctl list >/dev/null || die "the first vnetd was disturbed"

log "SIGHUP does not stop it; SIGTERM does, and removes the pid file"
kill -HUP "$VNETD_PID"
sleep 0.1
vnetctl list >/dev/null || die "SIGHUP killed vnetd"
kill -TERM "$VNETD_PID"
timeout 5 tail --pid="$VNETD_PID" -f /dev/null || die "vnetd did not exit on SIGTERM"
VNETD_PID=
[ -e "$T/run/vnetd.pid" ] && die "pid file left behind"

log "ZeroDHCPChecksum: off by default, on when vnetd.conf asks"
in_host "$VNETD" --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" 2>>"$T/vnetd.log" ||
	die "vnetd failed to start"
VNETD_PID=$(cat "$T/run/vnetd.pid")
vnetctl create csum --ipv4 10.66.0.1/24 >/dev/null || die "create csum"
in_host nft list set inet vnet dhcp_csum | grep -q virbr0 && die "DHCP checksums zeroed by default"
kill -TERM "$VNETD_PID"
timeout 5 tail --pid="$VNETD_PID" -f /dev/null
printf '[Daemon]\nZeroDHCPChecksum=yes\n' >"$T/etc/vnetd.conf"
in_host "$VNETD" --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" 2>>"$T/vnetd.log" ||
	die "vnetd failed to start"
VNETD_PID=$(cat "$T/run/vnetd.pid")
in_host nft list set inet vnet dhcp_csum | grep -q virbr0 || die "ZeroDHCPChecksum=yes not applied"
vnetctl destroy csum >/dev/null || die "destroy csum"
kill -TERM "$VNETD_PID"
timeout 5 tail --pid="$VNETD_PID" -f /dev/null
VNETD_PID=

log "--socket PATH: the control socket at PATH, the one for everyone (0666) beside it"
mkdir -p "$T/ctl"
default_sock=$SOCK
SOCK=$T/ctl/admin.sock # what start_vnetd waits for and the vnetctl wrapper connects to
start_vnetd --socket "$SOCK"
out=$(in_host "$VNETCTL" -s "$T/ctl/admin.sock" list) || die "vnetctl -s $T/ctl/admin.sock list"
assert_contains "$(head -n1 <<<"$out")" NAME "vnetctl -s $T/ctl/admin.sock list"
[ -S "$T/ctl/vnetd-user.sock" ] || die "no socket for everyone beside $T/ctl/admin.sock"
assert_eq "$(stat -c %a "$T/ctl/vnetd-user.sock")" 666 "mode of $T/ctl/vnetd-user.sock"
assert_eq "$(stat -c %a "$T/ctl/admin.sock")" 660 "mode of $T/ctl/admin.sock"
in_host "$VNETCTL" -s "$T/ctl/vnetd-user.sock" list >/dev/null ||
	die "vnetctl -s $T/ctl/vnetd-user.sock list"
for f in vnetd.sock vnetd-user.sock; do
	[ -e "$T/run/$f" ] && die "with --socket, vnetd also listens on $T/run/$f"
done
stop_vnetd
for f in admin.sock vnetd-user.sock; do
	[ -e "$T/ctl/$f" ] && die "$T/ctl/$f left behind after SIGTERM"
done
SOCK=$default_sock

log "--socket in a directory that does not exist: refused before any network comes up"
printf '[Network]\nBridge=vbr-early\nMode=isolated\nAutostart=yes\n' >"$T/etc/networks/early.conf"
rm -f "$T/run/autostarted" # a first start in this boot: Autostart=yes networks come up
out=$(in_host "$VNETD" --foreground --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" \
	--socket "$T/nosuchdir/admin.sock" 2>&1)
assert_eq $? 1 "exit status with --socket in a missing directory"
assert_eq "$(wc -l <<<"$out")" 1 "one line of error: $out"
assert_contains "$out" "cannot listen on $T/nosuchdir/admin.sock: No such file or directory" "the error"
in_host ip link show vbr-early >/dev/null 2>&1 && die "the autostart network came up although vnetd could not listen"
out=$(in_host "$VNETD" --foreground --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" \
	--socket "$T/$(printf 'x%.0s' $(seq 1 120)).sock" 2>&1)
assert_eq $? 1 "exit status with a socket path too long"
assert_contains "$out" "File name too long" "the error for a path too long"
rm "$T/etc/networks/early.conf"

log "an idle vnetd sleeps: no client, no wake-up"
start_vnetd
vnetctl create idle --mode isolated >/dev/null || die "create idle"
# voluntary context switches: a daemon that polls (a tick of a few per second) makes them.
switches() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$VNETD_PID/status"; }
sleep 1 # the last client's goodbye and the network's own settling
s0=$(switches)
sleep 2
s1=$(switches)
[ $((s1 - s0)) -le 2 ] || die "idle vnetd woke $((s1 - s0)) times in 2 s"
vnetctl destroy idle >/dev/null || die "destroy idle"
stop_vnetd

log "a broken vnetd.conf is an error at start"
printf '[Daemon\nGroup=x\n' >"$T/etc/vnetd.conf"
in_host "$VNETD" --foreground --config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" \
	>/dev/null 2>"$T/err"
assert_eq $? 1 "exit status with a broken vnetd.conf"
grep -q "vnetd.conf" "$T/err" || die "the error does not name vnetd.conf: $(cat "$T/err")"
echo ok
