#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Foreign firewalls: another table's forward or input base chain that drops guests' traffic
# wins over vnetd's accepts. In the host namespace, a Docker-like `ip filter` table (FORWARD,
# policy drop, jumping to DOCKER-USER first) and a host firewall (`inet hostfw`, input policy
# drop). First proof that the drop is real (a nat guest no longer reaches the uplink), then
# that `vnetctl doctor` names both chains with remedies and exits 1, that `vnetctl show` warns,
# and that after the remedy the guest gets through and doctor is content (exit 0).
. "$(dirname "$0")/lib.sh"

NETPROBE="$TOOLS/netprobe"
[ -x "$NETPROBE" ] || die "$NETPROBE missing (make tests)"
command -v jq >/dev/null || die "jq missing (tests/tools/install-deps)"
SERVER=203.0.113.10 # in $UPLINK

# doctor WANT_STATUS [ARGS]: runs vnetctl doctor, checks the exit status; output in $T/out,
# stderr in $T/err.
doctor() {
	local want=$1 got
	shift
	vnetctl doctor "$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" = "$want" ] ||
		die "vnetctl doctor $*: exit $got, expected $want: $(cat "$T/out" "$T/err")"
}

guest_reaches_uplink() {
	ip netns exec "$ID-a" "$NETPROBE" tcp-connect "$SERVER" 80 1000 >/dev/null 2>&1
}

setup_host
in_host sysctl -qw net.ipv4.ip_forward=0
start_vnetd

log "no networks, no other tables: nothing to report, exit 0"
doctor 0
assert_eq "$(cat "$T/out")" "No problems found." "doctor without networks"
[ ! -s "$T/err" ] || die "doctor wrote on stderr: $(cat "$T/err")"
doctor 0 --json
assert_eq "$(jq -c . "$T/out")" "[]" "doctor --json without findings"

vnetctl create nat --mode nat --bridge vbr-nat --ipv4 10.10.1.1/24 >/dev/null || die "create nat"
vnetctl create iso --mode isolated --bridge vbr-iso --ipv4 10.10.2.1/24 >/dev/null ||
	die "create iso"
add_guest a vbr-nat 10.10.1.2/24 10.10.1.1
ip netns exec "$UPLINK" "$NETPROBE" tcp-serve 80 >"$T/tcp-uplink" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
	[ "$(head -n1 "$T/tcp-uplink" 2>/dev/null)" = ready ] && break
	sleep 0.02
done

log "networks but no other tables: no problems, and the nat guest reaches the uplink"
doctor 0
assert_eq "$(cat "$T/out")" "No problems found." "doctor with vnetd's table only"
guest_reaches_uplink || die "the nat guest cannot reach the uplink without other tables"
vnetctl --json show nat | jq -e 'has("warnings") | not' >/dev/null ||
	die "show nat has warnings without other tables"

log "a Docker-like FORWARD (policy drop) and a host firewall's input (policy drop)"
in_host nft -f - <<'NFT' || die "cannot load the foreign tables"
table ip filter {
	chain DOCKER-USER {
	}
	chain FORWARD {
		type filter hook forward priority 0; policy drop;
		jump DOCKER-USER
		oifname "docker0" ct state established,related accept
		iifname "docker0" oifname != "docker0" accept
		iifname "docker0" oifname "docker0" accept
	}
}
table inet hostfw {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established accept
		iifname "lo" accept
	}
}
NFT

log "the drop is real: vnetd's accept does not save the guest's traffic"
if guest_reaches_uplink; then
	die "the nat guest reaches the uplink through FORWARD's policy drop"
fi

log "doctor names both chains with remedies and exits 1"
doctor 1
out=$(cat "$T/out")
echo "$out"
assert_contains "$out" "Table ip filter, chain FORWARD (hook forward, priority 0): its policy drops the forwarded traffic of network nat."
assert_contains "$out" "iptables -I DOCKER-USER -i vbr-nat -j ACCEPT; iptables -I DOCKER-USER -o vbr-nat -j ACCEPT"
assert_contains "$out" "Table inet hostfw, chain input (hook input, priority 0): its policy drops the DHCP and DNS requests to the host from networks iso, nat."
assert_contains "$out" "nft insert rule inet hostfw input iifname vbr-nat udp dport 67 accept"
assert_contains "$out" "nft insert rule inet hostfw input iifname vbr-iso tcp dport 53 accept"
[ "$(wc -l <"$T/err")" -eq 1 ] || die "doctor: expected one line on stderr, got: $(cat "$T/err")"
assert_contains "$(cat "$T/err")" "vnetctl: doctor: 2 problems found"

log "doctor --json: the findings array; the isolated network forwards nothing"
doctor 1 --json
jq -e 'length == 2' "$T/out" >/dev/null || die "doctor --json: $(cat "$T/out")"
jq -e '.[] | select(.family == "ip" and .table == "filter" and .chain == "FORWARD") |
	.hook == "forward" and .priority == 0 and .what == "policy drop" and .certain and
	.networks == ["nat"] and (.remedy | contains("DOCKER-USER"))' "$T/out" >/dev/null ||
	die "doctor --json: no finding for ip filter FORWARD as expected: $(cat "$T/out")"
jq -e '.[] | select(.family == "inet" and .table == "hostfw" and .chain == "input") |
	.hook == "input" and .what == "policy drop" and .certain and .networks == ["iso", "nat"]' \
	"$T/out" >/dev/null ||
	die "doctor --json: no finding for inet hostfw input as expected: $(cat "$T/out")"

log "show warns about a running network"
out=$(vnetctl show nat) || die "show nat"
assert_contains "$out" "Warning: table ip filter, chain FORWARD (hook forward, priority 0): its policy drops guests' forwarded traffic; to fix it, allow the bridge's traffic in DOCKER-USER"
assert_contains "$out" "Warning: table inet hostfw, chain input (hook input, priority 0)"
out=$(vnetctl show iso) || die "show iso"
assert_contains "$out" "Warning: table inet hostfw, chain input"
case $out in *"chain FORWARD"*) die "show iso warns about FORWARD: $out" ;; esac
vnetctl --json show nat | jq -e '.warnings | length == 2' >/dev/null ||
	die "show --json nat: no two warnings"
vnetctl stop iso >/dev/null || die "stop iso"
vnetctl --json show iso | jq -e 'has("warnings") | not' >/dev/null ||
	die "show iso warns while stopped"
vnetctl start iso >/dev/null || die "start iso"

log "after the remedy in DOCKER-USER (iptables -I DOCKER-USER -i/-o vbr-nat -j ACCEPT) the guest gets through"
in_host nft insert rule ip filter DOCKER-USER oifname vbr-nat accept || die "remedy"
in_host nft insert rule ip filter DOCKER-USER iifname vbr-nat accept || die "remedy"
guest_reaches_uplink || die "the nat guest cannot reach the uplink after the remedy"
doctor 1
out=$(cat "$T/out")
case $out in *"chain FORWARD"*) die "doctor still reports FORWARD after the remedy: $out" ;; esac
assert_contains "$out" "Table inet hostfw, chain input"
assert_contains "$(cat "$T/err")" "1 problem found"

log "the input remedy, run as doctor prints it, leaves nothing to report"
remedy=$(vnetctl --json doctor | jq -r '.[] | select(.table == "hostfw") | .remedy')
cmds=${remedy#*: }
cmds=${cmds% (and the same*}
log "running: $cmds"
in_host sh -c "$cmds" || die "the remedy's commands failed: $cmds"
doctor 0
assert_eq "$(cat "$T/out")" "No problems found." "doctor after both remedies"
vnetctl --json show nat | jq -e 'has("warnings") | not' >/dev/null ||
	die "show nat still warns after the remedies"

log "a drop rule is reported as a rule, one that may match as possible"
in_host nft add rule inet hostfw input iifname vbr-nat drop || die "add drop rule"
in_host nft add rule inet hostfw input ip saddr 10.10.0.0/16 udp dport 53 drop || die "add rule"
doctor 0 # both come after the accepts: nothing changes for the guests
in_host nft insert rule inet hostfw input ip saddr 10.10.0.0/16 udp dport 53 drop ||
	die "insert rule"
doctor 1 --json
jq -e 'length == 1 and .[0].what == "rule drop" and (.[0].certain | not) and
	(.[0].rule | type == "number") and .[0].networks == ["iso", "nat"]' "$T/out" >/dev/null ||
	die "doctor --json for a conditional drop rule: $(cat "$T/out")"
in_host nft insert rule inet hostfw input iifname vbr-nat drop || die "insert drop rule"
doctor 1 --json
jq -e '.[] | select(.networks == ["nat"]) | .what == "rule drop" and .certain' "$T/out" \
	>/dev/null || die "doctor --json for an unconditional drop of nat's traffic: $(cat "$T/out")"

log "ok"
