#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# DHCP and DNS for guests, for real: vnetd's dnsmasq serves guests in namespaces behind TAPs
# (a tests/tools/taprelay joins each TAP to a veth whose peer is the guest's eth0), and the
# guests run busybox udhcpc and nslookup. Checked: the lease (range, router per mode, DNS
# server, MTU option, domain), static reservations (host add, attach --ip/--hostname), the
# lease list with the name the guest sent, names resolved by the gateway (NAME.DOMAIN and bare
# NAME, a guest's name on its own network only; other names fail at once without forwarders,
# go to the forwarder with one: a second dnsmasq in the uplink namespace, never a real
# upstream), dnsmasq's supervision (kill -9 ->
# restarted at once; reservation changes and mode changes keep the process, and the router
# follows the mode; stop reaps it; a vnetd restart adopts it), detach releasing the lease, dnsmasq bound to its bridge only, and bad input
# refused with one line and nothing changed.
. "$(dirname "$0")/lib.sh"

RELAY=$TOOLS/taprelay
DNSMASQ=$(command -v dnsmasq) || { echo "dnsmasq not installed (dnsmasq-base)"; exit 77; }
[ -x "$RELAY" ] || die "$RELAY missing (make tests)"
command -v busybox >/dev/null || die "busybox missing (tests/tools/install-deps)"
command -v dhcp_release >/dev/null || die "dhcp_release missing (dnsmasq-base)"

now() { echo "${EPOCHREALTIME/./}"; } # microseconds, without a fork
field() { vnetctl --json show "$1" | jq -r "$2"; }
dns_pid() { field "$1" '.dnsmasq.pid // 0'; }

# Safety net (lib.sh's our_dnsmasq, by pid): a dnsmasq vnetd leaves running on purpose (it
# survives vnetd) must not outlive the test.
AT_EXIT+=(kill_our_dnsmasq)

# udhcpc runs this at its events (Debian's busybox ships none): it configures eth0 from the
# lease and prints what it got, one line.
cat >"$T/udhcpc.sh" <<'EOF'
#!/bin/sh
case "$1" in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
	[ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
	echo "lease ip=$ip mask=$mask router=$router dns=$dns domain=$domain mtu=$mtu lease=$lease"
	;;
esac
exit 0
EOF
chmod 0755 "$T/udhcpc.sh"
# dnsmasq drops root and re-reads its hosts file (in $T/run) on SIGHUP as nobody.
chmod 0755 "$T"

declare -A RELAYS
# guest NAME NETWORK MAC [attach options...]: a port t-NAME on NETWORK for MAC, and namespace
# $ID-NAME whose eth0 (with MAC) is a veth whose peer r-NAME a taprelay joins to the TAP.
guest() {
	local name=$1 net=$2 mac=$3 ns="$ID-$1"
	shift 3
	vnetctl attach "$net" --ifname "t-$name" --mac "$mac" "$@" >/dev/null || die "attach t-$name"
	new_ns "$ns"
	ip link add "r-$name" netns "$HOST" type veth peer name eth0 netns "$ns" || die "veth $ns"
	# The relay carries whatever the bridge does; the guest learns its MTU from DHCP. No ARP
	# (taprelay sets it too): the host's stack must not answer the guest's ARP on r-NAME.
	in_host ip link set "r-$name" mtu 9000 arp off up
	ip -n "$ns" link set eth0 address "$mac" up
	ip netns exec "$HOST" "$RELAY" "t-$name" "r-$name" 2>>"$T/relay.err" &
	RELAYS[$name]=$!
	PIDS+=($!)
	for _ in $(seq 1 100); do
		in_host ip link show "t-$name" | grep -q LOWER_UP && return 0
		sleep 0.01
	done
	die "t-$name has no carrier"
}
# dhcp NAME [udhcpc options...]: a lease for guest NAME; prints the script's "lease ..." line.
dhcp() {
	local name=$1
	shift
	ip netns exec "$ID-$name" busybox udhcpc -i eth0 -s "$T/udhcpc.sh" -f -q -n -t 3 -T 1 \
		-O mtu "$@" 2>>"$T/udhcpc.err" | grep '^lease '
}
val() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; } # val LEASE_LINE KEY
# lookup NAME FROM SERVER: the address busybox nslookup in guest FROM got for NAME, or fails.
lookup() {
	ip netns exec "$ID-$2" busybox nslookup "$1" "$3" 2>/dev/null |
		awk '/^Name:/ { n = 1 } n && /^Address/ { print $NF; exit }' | grep .
}
in_range() { # ADDR PREFIX LO HI: ADDR is PREFIX.N with LO <= N <= HI
	local n=${1##*.}
	[ "${1%.*}" = "$2" ] && [ "$n" -ge "$3" ] && [ "$n" -le "$4" ]
}
lease_of() { vnetctl --json leases "$1" | jq -c --arg m "$2" '.[] | select(.mac == $m)'; }
# A dnsmasq that runs (not a zombie: one vnetd left and later stopped is init's to reap).
alive() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = dnsmasq ] &&
		[ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

setup_host
start_vnetd

# --- the internet's DNS server: answers example.test, in the uplink namespace only ---
ip netns exec "$UPLINK" "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv \
	--no-hosts --address=/example.test/203.0.113.99 --port=53 --listen-address=203.0.113.10 \
	--bind-interfaces --pid-file="$T/uplink-dns.pid" >"$T/uplink-dns.log" 2>&1 &
PIDS+=($!)

# --- networks ---
vnetctl create a --bridge vbr-a --mode nat --ipv4 10.30.1.1/24 --mtu 9000 \
	--dhcp 10.30.1.100-10.30.1.150 --domain lab.test --lease-time 1h \
	--dns-forwarder 203.0.113.10 >/dev/null || die "create a"
vnetctl create b --bridge vbr-b --mode isolated --ipv4 10.30.2.1/24 >/dev/null || die "create b"
vnetctl create c --bridge vbr-c --mode routed --ipv4 10.30.3.1/24 >/dev/null || die "create c"
PA=$(dns_pid a)
PB=$(dns_pid b)
check "each network has its own running dnsmasq" \
	eval '[ "$PA" -gt 0 ] && [ "$PB" -gt 0 ] && [ "$PA" != "$PB" ] && alive "$PA" && alive "$PB"'

# --- leases: range, router, DNS server, MTU, domain ---
M1=52:54:00:30:01:01 M2=52:54:00:30:01:02 M3=52:54:00:30:01:03 M4=52:54:00:30:02:04
M5=52:54:00:30:03:05 M6=52:54:00:30:01:06
guest g1 a $M1
t0=$(now)
# No lease here while DHCP replies reach guests with a bad UDP checksum (a VMM without
# checksum offload gets what the TAP computes; see the report on "udp checksum set 0").
L1=$(dhcp g1 -x hostname:alpha) || die "g1: no lease: $(tail -n 4 "$T/udhcpc.err" | tr '\n' ' ')"
log "g1 (nat, mtu 9000): $L1 in $((($(now) - t0) / 1000)) ms"
A1=$(val "$L1" ip)
check "nat: address in the range" in_range "$A1" 10.30.1 100 150
check "nat: router is the gateway" [ "$(val "$L1" router)" = 10.30.1.1 ]
check "nat: DNS server is the gateway" [ "$(val "$L1" dns)" = 10.30.1.1 ]
check "nat: domain" [ "$(val "$L1" domain)" = lab.test ]
check "nat: MTU 9000 (option 26)" [ "$(val "$L1" mtu)" = 9000 ]
check "nat: lease time 1h" [ "$(val "$L1" lease)" = 3600 ]
check "g1 configured its MTU and pings the gateway through the TAP with 8000 bytes" \
	ip netns exec "$ID-g1" busybox ping -c1 -W1 -s 8000 10.30.1.1 >/dev/null

guest g4 b $M4
L4=$(dhcp g4 -x hostname:iota) || die "g4: no lease"
log "g4 (isolated): $L4"
check "isolated: address in the default range" in_range "$(val "$L4" ip)" 10.30.2 2 254
check "isolated: no router" [ -z "$(val "$L4" router)" ]
check "isolated: no default route in the guest" \
	[ -z "$(ip -n "$ID-g4" route show default)" ]
check "isolated: DNS server is the gateway" [ "$(val "$L4" dns)" = 10.30.2.1 ]
check "isolated: domain defaults to the network's name" [ "$(val "$L4" domain)" = b ]
check "MTU 1500: no option 26" [ -z "$(val "$L4" mtu)" ]

guest g5 c $M5
L5=$(dhcp g5) || die "g5: no lease"
check "routed: router is the gateway" [ "$(val "$L5" router)" = 10.30.3.1 ]

# --- static reservations ---
vnetctl host add a --mac $M2 --ip 10.30.1.20 --name beta >/dev/null || die "host add beta"
guest g2 a $M2
L2=$(dhcp g2) || die "g2: no lease"
check "host add: the reserved MAC gets its address" [ "$(val "$L2" ip)" = 10.30.1.20 ]
guest g3 a $M3 --ip 10.30.1.21 --hostname gamma
L3=$(dhcp g3) || die "g3: no lease"
check "attach --ip: the port's MAC gets its address" [ "$(val "$L3" ip)" = 10.30.1.21 ]
h=$(vnetctl hosts a)
check "hosts lists both reservations" eval 'has "$h" "$M2.*10.30.1.20.*beta" && has "$h" "$M3.*10.30.1.21.*gamma"'

# --- a reservation that cannot be written refuses the attach, with nothing made ---
# chattr +i makes the definitions' directory unwritable even for root (on ext4 and the like).
if chattr +i "$T/etc/networks" 2>/dev/null; then
	AT_EXIT+=("chattr -i '$T/etc/networks'")
	ports_before=$(vnetctl --json ports a)
	hosts_before=$(vnetctl hosts a)
	links_before=$(in_host ip -o link | awk '{ print $2, $(NF-2) }' | sort)
	msg=$(expect_fail "attach --ip with the definition unwritable" \
		vnetctl attach a --ip 10.30.1.22) || exit 1
	check "unwritable definition: the error says so" has "$msg" "cannot write the definition"
	check "unwritable definition: no port" [ "$(vnetctl --json ports a)" = "$ports_before" ]
	check "unwritable definition: no reservation" [ "$(vnetctl hosts a)" = "$hosts_before" ]
	check "unwritable definition: no link made or changed" \
		[ "$(in_host ip -o link | awk '{ print $2, $(NF-2) }' | sort)" = "$links_before" ]
	chattr -i "$T/etc/networks"
else
	log "SKIP the unwritable definition: chattr +i does not work in $T"
fi

# --- leases ---
out=$(vnetctl leases a)
check "leases shows the name the guest sent" has "$out" "$M1 *$A1 *alpha"
j=$(lease_of a $M1)
check "leases --json: mac, address, hostname, expires" \
	jq -e --arg a "$A1" --argjson now "$(date +%s)" \
	'.address == $a and .hostname == "alpha" and .expires > $now + 3000 and .expires <= $now + 3600' \
	<<<"$j" >/dev/null
check "leases --json: the reserved guests' names" \
	[ "$(lease_of a $M2 | jq -r .hostname)/$(lease_of a $M3 | jq -r .hostname)" = beta/gamma ]

# --- DNS through the gateway ---
check "alpha.lab.test resolves from another guest" [ "$(lookup alpha.lab.test g2 10.30.1.1)" = "$A1" ]
check "bare alpha resolves" [ "$(lookup alpha g2 10.30.1.1)" = "$A1" ]
check "gamma.lab.test (a reservation's name) resolves" \
	[ "$(lookup gamma.lab.test g1 10.30.1.1)" = 10.30.1.21 ]
check "an outside name goes to the forwarder in the uplink namespace" \
	[ "$(lookup www.example.test g1 10.30.1.1)" = 203.0.113.99 ]
check "a missing name in the domain is not found" not lookup nosuch.lab.test g1 10.30.1.1
A4=$(val "$L4" ip)
check "isolated: the lease has the name g4 sent" [ "$(lease_of b $M4 | jq -r .hostname)" = iota ]
check "isolated: iota.b resolves at b's gateway" [ "$(lookup iota.b g4 10.30.2.1)" = "$A4" ]
check "isolated: bare iota resolves at b's gateway" [ "$(lookup iota g4 10.30.2.1)" = "$A4" ]
# Network a's dnsmasq knows nothing of b's guests: it answers (no timeout), without the address.
for q in iota iota.lab.test iota.b; do
	out=$(ip netns exec "$ID-g1" timeout 5 busybox nslookup $q 10.30.1.1 2>&1)
	check "b's guest name $q: not resolved through a's gateway ($(grep -m1 "can't find" <<<"$out"))" \
		eval 'has "$out" "can.t find $q: " && hasnt "$out" "$A4"'
done
t0=$(now)
out=$(ip netns exec "$ID-g4" timeout 5 busybox nslookup www.example.test 10.30.2.1 2>&1)
rc=$?
ms=$((($(now) - t0) / 1000))
log "no forwarders: www.example.test failed in $ms ms: $(tr '\n' ' ' <<<"$out")"
check "no forwarders: an outside name fails" eval '[ $rc -ne 0 ] && hasnt "$out" 203.0.113.99'
check "... fast (< 1 s)" [ $ms -lt 1000 ]

# --- bound to the bridge only ---
socks=$(in_host ss -lunpH; in_host ss -ltnpH)
ours=$(awk '$4 ~ /:(53|67)$/ { print $4 }' <<<"$socks" | sort -u)
log "listening on 53/67 in the host namespace: $(tr '\n' ' ' <<<"$ours")"
check "something listens on the gateways' port 53" has "$ours" "^10.30.1.1:53$"
bad=$(grep -vE '^(10\.30\.[123]\.1:(53|67)|(0\.0\.0\.0|\*)%vbr-[abc]:67)$' <<<"$ours")
check "no socket on 53/67 outside the bridges (none on the uplink's 198.51.100.1)" [ -z "$bad" ]
check "the uplink namespace gets no DNS answer from the host's uplink address" \
	not ip netns exec "$UPLINK" timeout 3 busybox nslookup alpha.lab.test 198.51.100.1 >/dev/null 2>&1

# --- kill -9: restarted at once ---
kill -9 "$PA"
t0=$(now)
new=0
for _ in $(seq 1 100); do
	new=$(dns_pid a)
	[ "$new" != "$PA" ] && [ "$new" -gt 0 ] && break
	sleep 0.01
done
ok=false
for _ in $(seq 1 20); do
	[ "$(lookup alpha.lab.test g2 10.30.1.1)" = "$A1" ] && ok=true && break
	sleep 0.05
done
ms=$((($(now) - t0) / 1000))
log "kill -9 $PA: new dnsmasq $new answers after $ms ms"
check "kill -9: a new dnsmasq (new pid)" eval '[ "$new" != "$PA" ] && alive "$new"'
check "... answers DNS within 1 s" eval '$ok && [ $ms -lt 1000 ]'
check "... restart count 1" [ "$(field a .dnsmasq.restarts)" = 1 ]
check "... the existing lease is still listed" [ "$(lease_of a $M1 | jq -r .address)" = "$A1" ]
PA=$new
guest g7 a 52:54:00:30:01:07
check "... a fresh guest gets a lease from it" eval 'dhcp g7 -x hostname:eta >/dev/null'

# --- reservation changes: same process ---
vnetctl host add a --mac $M6 --ip 10.30.1.30 --name delta >/dev/null || die "host add delta"
check "host add: same dnsmasq pid" [ "$(dns_pid a)" = "$PA" ]
guest g6 a $M6
L6=$(dhcp g6) || die "g6: no lease"
check "host add: the new reservation is served" [ "$(val "$L6" ip)" = 10.30.1.30 ]
check "... and its name resolves" [ "$(lookup delta.lab.test g1 10.30.1.1)" = 10.30.1.30 ]
vnetctl host del a --mac $M6 >/dev/null || die "host del delta"
check "host del: same dnsmasq pid" [ "$(dns_pid a)" = "$PA" ]
check "host del: gone from hosts" hasnt "$(vnetctl hosts a)" "$M6"

# --- mode changes: same process, the router follows the mode ---
# The router is in the options file dnsmasq re-reads on SIGHUP; the configuration does not
# depend on the mode, so to isolated and back is a rewrite and a signal, never a restart.
conf_a=$(cat "$T/run/dnsmasq/a.conf")
t0=$(now)
vnetctl mode a isolated >/dev/null || die "mode a isolated"
log "mode a isolated: $((($(now) - t0) / 1000)) ms"
check "mode isolated: same dnsmasq pid" eval '[ "$(dns_pid a)" = "$PA" ] && alive "$PA"'
check "mode isolated: dnsmasq's configuration unchanged" \
	[ "$(cat "$T/run/dnsmasq/a.conf")" = "$conf_a" ]
L2=$(dhcp g2) || die "g2: no lease in isolated mode"
log "g2 (a isolated): $L2"
check "mode isolated: the lease has no router" [ -z "$(val "$L2" router)" ]
check "mode isolated: still the reserved address, the gateway as DNS server" \
	[ "$(val "$L2" ip)/$(val "$L2" dns)" = 10.30.1.20/10.30.1.1 ]
t0=$(now)
vnetctl mode a nat >/dev/null || die "mode a nat"
log "mode a nat: $((($(now) - t0) / 1000)) ms"
check "back to nat: same dnsmasq pid" eval '[ "$(dns_pid a)" = "$PA" ] && alive "$PA"'
L2=$(dhcp g2) || die "g2: no lease back in nat mode"
log "g2 (a nat again): $L2"
check "back to nat: the lease has the gateway as router" [ "$(val "$L2" router)" = 10.30.1.1 ]
check "mode changes: no restart counted, none logged" \
	eval '[ "$(field a .dnsmasq.restarts)" = 1 ] && ! grep -q "network a: dnsmasq configuration changed" "$T/vnetd.log"'

# --- bad input: one line naming the field, nothing changed ---
conf_before=$(cat "$T/etc/networks/a.conf")
hosts_before=$(vnetctl hosts a)
list_before=$(vnetctl list)
refused() { # FIELD DESCRIPTION vnetctl-args...
	local fieldname=$1 what=$2 out
	shift 2
	out=$(expect_fail "$what" vnetctl "$@") || {
		echo "FAIL: $what: not refused with one line" >&2
		FAILED=$((FAILED + 1))
		return
	}
	check "refused: $what ($out)" has "$out" "$fieldname"
}
long=$(printf 'h%.0s' $(seq 1 64))
for n in $'bad\nname' 'a,b' 'a b' 'a=b' "$long"; do
	refused hostname "host add, hostname '${n//$'\n'/\\n}'" host add a --mac 52:54:00:30:01:09 \
		--ip 10.30.1.40 --name "$n"
done
refused hostname "attach --hostname with a newline" attach a --ifname t-bad \
	--mac 52:54:00:30:01:0a --ip 10.30.1.41 --hostname $'x\ny'
check "... and no port t-bad" not in_host test -e /sys/class/net/t-bad
refused "ip\|address" "reservation outside the subnet" host add a --mac 52:54:00:30:01:09 --ip 10.30.9.5
refused "ip\|address" "reservation equal to the gateway" host add a --mac 52:54:00:30:01:09 --ip 10.30.1.1
refused "ip\|address" "second reservation for one address" host add a --mac 52:54:00:30:01:09 --ip 10.30.1.20
refused mac "second reservation for one MAC" host add a --mac $M2 --ip 10.30.1.42
refused dhcp "DHCP range outside the subnet" create x --ipv4 10.30.8.1/24 --dhcp 10.30.9.2-10.30.9.9
refused dhcp "DHCP range reversed" create x --ipv4 10.30.8.1/24 --dhcp 10.30.8.50-10.30.8.10
for d in 'bad_domain!' '-lead.test' 'a..b' "$(printf 'd%.0s' $(seq 1 64)).test"; do
	refused domain "domain '$d'" create x --ipv4 10.30.8.1/24 --domain "$d"
done
for lt in abc 0 -5 10x; do
	refused lease "lease time '$lt'" create x --ipv4 10.30.8.1/24 --lease-time "$lt"
done
check "nothing changed: hosts" [ "$(vnetctl hosts a)" = "$hosts_before" ]
check "nothing changed: the definition file" [ "$(cat "$T/etc/networks/a.conf")" = "$conf_before" ]
check "nothing changed: the networks" [ "$(vnetctl list)" = "$list_before" ]
check "nothing changed: no definition for x" [ ! -e "$T/etc/networks/x.conf" ]
check "nothing changed: same dnsmasq" [ "$(dns_pid a)" = "$PA" ]

# --- detach releases the dynamic lease; a reservation stays ---
kill "${RELAYS[g1]}" "${RELAYS[g3]}"
wait "${RELAYS[g1]}" "${RELAYS[g3]}" 2>/dev/null
vnetctl detach a t-g1 >/dev/null || die "detach t-g1"
vnetctl detach a t-g3 >/dev/null || die "detach t-g3"
check "detach: the port's dynamic lease is released" [ -z "$(lease_of a $M1)" ]
check "detach: the reservation of an attach --ip stays" has "$(vnetctl hosts a)" "$M3.*10.30.1.21"

# --- stop: dnsmasq stopped and reaped ---
vnetctl stop b >/dev/null || die "stop b"
z=$(ps -o pid=,stat= -p "$PB" 2>/dev/null)
check "stop: b's dnsmasq is gone (no zombie either)" eval '[ ! -e "/proc/$PB" ] && [ -z "$z" ]'
check "stop: a's dnsmasq still runs" alive "$PA"
check "stop: no dnsmasq for b left" not eval 'our_dnsmasq | xargs -r -I{} cat /proc/{}/cmdline | tr "\0" " " | grep -q "/b.conf"'

# --- vnetd restart: dnsmasq keeps running and is adopted ---
stop_vnetd TERM
check "vnetd stopped: a's dnsmasq keeps running" alive "$PA"
start_vnetd
check "new vnetd adopts the same dnsmasq" [ "$(dns_pid a)" = "$PA" ]
check "... which still answers" [ "$(lookup beta.lab.test g6 10.30.1.1)" = 10.30.1.20 ]
check "... and the leases are still listed" [ -n "$(lease_of a $M2)" ]

# --- the end: every dnsmasq of this test stopped ---
for g in "${!RELAYS[@]}"; do kill "${RELAYS[$g]}" 2>/dev/null; done # before their TAPs go
wait "${RELAYS[@]}" 2>/dev/null
vnetctl destroy a >/dev/null || die "destroy a"
vnetctl destroy c >/dev/null || die "destroy c"
vnetctl destroy b >/dev/null || die "destroy b"
for _ in $(seq 1 100); do
	[ -z "$(our_dnsmasq)" ] && break
	sleep 0.01
done
check "no dnsmasq of this test is left (adopted one too)" [ -z "$(our_dnsmasq)" ]
check "... and the adopted one's pid is gone or a zombie of init" eval '! alive "$PA"'

[ "$FAILED" -eq 0 ] || sed "s/^/# relay: /" "$T/relay.err" 2>/dev/null
[ "$FAILED" -eq 0 ] || die "$FAILED check(s) failed"
echo "all dhcp checks passed"
