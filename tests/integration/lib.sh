# SPDX-License-Identifier: GPL-2.0-or-later
# Shared setup for integration tests. Everything happens in namespaces made here:
#   $HOST    where vnetd runs (with temporary directories) and the bridges live
#   $UPLINK  plays the internet: veth to $HOST (198.51.100.0/24), a server at 203.0.113.10
#   guests   made with add_guest, one namespace each, on a bridge through a veth
# Nothing touches the machine's own namespace; cleanup runs on exit, also on failure.
set -u

VNETD=${VNETD:-$PWD/build/vnetd}
VNETCTL=${VNETCTL:-$PWD/build/vnetctl}
TOOLS=${TOOLS:-$PWD/build/tests/tools}
ID="vnt$$"
HOST="$ID-host"
UPLINK="$ID-up"
T=$(mktemp -d /tmp/vnet-it.XXXXXX)
SOCK="$T/run/vnetd.sock"
NAMESPACES=()
PIDS=()
AT_EXIT=() # commands (strings) run at cleanup, e.g. removing a throwaway user
VNETD_PID=

log() { echo "# $*"; }
die() {
	echo "FAIL: $*" >&2
	exit 1
}

cleanup() {
	local rc=$?
	set +e
	if [ "${FAILED:-0}" -gt 0 ] && [ $rc -eq 0 ]; then
		echo "FAIL: $FAILED check(s) failed"
		rc=1
	fi
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$VNETD_PID" ]; then
		kill "$VNETD_PID" 2>/dev/null
		timeout 10 tail --pid="$VNETD_PID" -f /dev/null 2>/dev/null
		wait "$VNETD_PID" 2>/dev/null
		local vrc=$?
		if [ $vrc -ne 0 ] && [ $rc -eq 0 ]; then
			echo "FAIL: vnetd exited with status $vrc at the end of the test"
			rc=1
		fi
	fi
	for p in "${PIDS[@]}"; do
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
	if [ $rc -ne 0 ] && [ -f "$T/vnetd.log" ]; then
		echo "--- vnetd log ---"
		tail -n 40 "$T/vnetd.log"
	fi
	# vnetd leaves its dnsmasq children running on purpose (they serve the networks); the
	# test's networks end here, so do they.
	for p in $(our_dnsmasq); do kill "$p" 2>/dev/null; done
	# Whatever else still runs in our namespaces (a monitor started through a function, whose
	# $! was a subshell) would keep each namespace, with all in it, alive after `ip netns del`.
	for ns in "${NAMESPACES[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	done
	for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for c in "${AT_EXIT[@]}"; do eval "$c" >/dev/null 2>&1; done
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_host() { ip netns exec "$HOST" "$@"; }
in_uplink() { ip netns exec "$UPLINK" "$@"; }
vnetctl() { ip netns exec "$HOST" "$VNETCTL" -s "$SOCK" "$@"; }

new_ns() {
	ip netns add "$1" || die "cannot create namespace $1"
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

# The host namespace and the uplink namespace ("the internet").
setup_host() {
	new_ns "$HOST"
	new_ns "$UPLINK"
	# IPv4 only: IPv6 autoconfiguration would add addresses in the background, which the
	# tests that watch for changes would take for vnetd's doing.
	in_host sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add "$ID-h" netns "$HOST" type veth peer name "$ID-u" netns "$UPLINK"
	ip -n "$HOST" link set "$ID-h" name uplink0
	ip -n "$UPLINK" link set "$ID-u" name eth0
	ip -n "$HOST" addr add 198.51.100.1/24 dev uplink0
	ip -n "$HOST" link set uplink0 up
	ip -n "$HOST" route add default via 198.51.100.2
	ip -n "$UPLINK" addr add 198.51.100.2/24 dev eth0
	ip -n "$UPLINK" link set eth0 up
	ip -n "$UPLINK" addr add 203.0.113.10/32 dev lo
	mkdir -p "$T/etc/networks" "$T/lib" "$T/run"
}

# VNETD_ENV: extra environment for vnetd (e.g. VNETD_ENV=(VNET_TEST_CRASH_AT=up:dns)).
VNETD_ENV=()
start_vnetd() {
	# Not through in_host: a function would run in a subshell, and $! would not be vnetd.
	# env execs vnetd, so $! is still vnetd's pid.
	ip netns exec "$HOST" env ${VNETD_ENV[@]+"${VNETD_ENV[@]}"} "$VNETD" --foreground \
		--config-dir "$T/etc" --state-dir "$T/lib" --run-dir "$T/run" "$@" >>"$T/vnetd.log" 2>&1 &
	VNETD_PID=$!
	for _ in $(seq 1 200); do
		[ -S "$SOCK" ] && vnetctl list >/dev/null 2>&1 && return 0
		kill -0 "$VNETD_PID" 2>/dev/null || {
			cat "$T/vnetd.log"
			die "vnetd exited at start"
		}
		sleep 0.02
	done
	die "vnetd did not become ready"
}

# Stops vnetd with a signal (default TERM) and waits for it. After TERM it must exit 0: under
# the sanitizers a leak or an error at exit makes that fail.
stop_vnetd() {
	local sig=${1:-TERM} rc
	[ -n "$VNETD_PID" ] || return 0
	kill -"$sig" "$VNETD_PID"
	wait "$VNETD_PID" 2>/dev/null
	rc=$?
	VNETD_PID=
	if [ "$sig" = TERM ] && [ $rc -ne 0 ]; then
		tail -n 30 "$T/vnetd.log"
		die "vnetd exited with status $rc after SIGTERM"
	fi
	return 0
}

# add_guest NAME BRIDGE ADDR/PREFIX [GATEWAY]: namespace $ID-NAME whose eth0 is a veth whose
# other end, g-NAME in $HOST, is a port of BRIDGE.
add_guest() {
	local ns="$ID-$1" br=$2 addr=$3 gw=${4:-}
	new_ns "$ns"
	ip link add "g-$1" netns "$HOST" type veth peer name eth0 netns "$ns" ||
		die "cannot create veth for $ns"
	ip -n "$HOST" link set "g-$1" master "$br" up || die "cannot put g-$1 on $br"
	ip -n "$ns" addr add "$addr" dev eth0
	ip -n "$ns" link set eth0 up
	if [ -n "$gw" ]; then ip -n "$ns" route add default via "$gw"; fi
	return 0
}

in_guest() {
	local ns="$ID-$1"
	shift
	ip netns exec "$ns" "$@"
}

# expect_fail DESCRIPTION COMMAND...: the command must fail with exactly one line on stderr.
expect_fail() {
	local what=$1 err
	shift
	if "$@" >/dev/null 2>"$T/err"; then
		die "$what: succeeded but should have failed"
	fi
	err=$(cat "$T/err")
	[ "$(wc -l <"$T/err")" -eq 1 ] || die "$what: expected one line on stderr, got: $err"
	echo "$err"
}

# check DESCRIPTION COMMAND...: runs COMMAND; a failure is recorded and the test goes on (it
# fails at the end: cleanup turns FAILED > 0 into a failed test).
FAILED=0
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok    $what"
	else
		echo "FAIL: $what" >&2
		FAILED=$((FAILED + 1))
	fi
}
# poll DESCRIPTION COMMAND...: the command must succeed within about 2 s (tried every 20 ms).
poll() {
	local what=$1 i
	shift
	for i in $(seq 1 100); do
		"$@" && return 0
		sleep 0.02
	done
	die "$what (not within 2 s)"
}
has() { grep -q -- "$2" <<<"$1"; } # has TEXT PATTERN
hasnt() { ! grep -q -- "$2" <<<"$1"; }
not() { ! "$@"; }

# reservations: the port reservations vnetd has recorded in $T/lib/ports.journal, as
# "IFNAME NETWORK" lines: the journal replayed (a later line of an ifname replaces it).
reservations() {
	[ -f "$T/lib/ports.journal" ] || return 0
	jq -rn 'reduce inputs as $r ({};
		if $r.port then .[$r.port.ifname] = $r.port.network
		elif $r.removed then del(.[$r.removed]) else . end) |
		to_entries[] | "\(.key) \(.value)"' "$T/lib/ports.journal"
}
# reserved IFNAME: whether vnetd has a reservation of IFNAME on record
reserved() { reservations | grep -q "^$1 "; }
assert_eq() { [ "$1" = "$2" ] || die "${3:-value}: expected '$2', got '$1'"; }
assert_contains() {
	case "$1" in *"$2"*) ;; *) die "${3:-output}: '$2' not in: $1" ;; esac
}

# link_flaps FILE [NAME]: the lines of an `ip monitor link address` log that show a link (or
# link NAME) deleted, brought down, or its addresses changed. The kernel's own late
# notifications after a bridge is made (carrier checks, still UP) are not flaps.
link_flaps() {
	local file=$1 name=${2:-}
	grep -E 'Deleted|inet|^[0-9]+: [^:]+: <' "$file" | grep -v quietmark |
		grep -vE '^[0-9]+: [^:]+: <[^>]*[<,]UP[,>]' |
		{ if [ -n "$name" ]; then grep -F "$name"; else cat; fi; } || true
}

# A quiet window (a restart, a reload that must change nothing) is shown by a monitor in $HOST
# writing FILE; monitor_mark FILE link|nft makes a change of our own and waits until FILE
# shows it: before the window the monitor is then known to listen, after it to have caught
# up (a sleep proves neither). The marks: the alias of a veth quietmark0 that is up (made on
# first use; link_flaps leaves it out), and a table "ip quietmarkN" added and deleted by nft
# (nft_events leaves those out).
MARK_N=0
monitor_mark() {
	local file=$1 kind=$2 before
	if [ "$kind" = link ] && ! in_host ip link show quietmark0 >/dev/null 2>&1; then
		in_host ip link add quietmark0 type veth peer name quietmark1 &&
			in_host ip link set quietmark1 up && in_host ip link set quietmark0 up ||
			die "cannot make the marker link"
	fi
	for _ in $(seq 1 100); do
		MARK_N=$((MARK_N + 1))
		before=$(grep -c "quietmark" "$file")
		case $kind in
		link) in_host ip link set quietmark0 alias "mark$MARK_N" || die "marker alias" ;;
		nft) in_host nft add table ip "quietmark$MARK_N" && in_host nft delete table ip "quietmark$MARK_N" ||
			die "marker table" ;;
		esac
		for _ in 1 2 3 4 5; do
			[ "$(grep -c "quietmark" "$file")" -gt "$before" ] && return 0
			sleep 0.01
		done
	done
	die "the monitor writing $file shows nothing of our marks"
}
# nft_events FILE: what nft monitor saw besides our marks (our nft's generations included).
nft_events() { grep -v -e quietmark -e ' (nft)$' "$1" || true; }

# our_dnsmasq: the pids of the dnsmasq processes whose command line names this test's
# directory $T (vnetd leaves them running when it stops or dies: they belong to the networks).
our_dnsmasq() {
	# One pgrep: a zombie (it has exited; its parent reaps it) has no command line to match.
	pgrep -f "^[^ ]*dnsmasq .*--conf-file=${T//./\\.}/" || true
}
# kill_our_dnsmasq: for AT_EXIT, after vnetd: ends those processes, by pid.
kill_our_dnsmasq() {
	local p
	for p in $(our_dnsmasq); do kill "$p" 2>/dev/null; done
}
