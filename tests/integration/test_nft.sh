#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# libvnet/nft.c against the kernel, through tests/tools/nftctl, inside a namespace made here:
# the skeleton, each mode's chains and map elements as `nft` prints them, mode changes in one
# batch, deletion back to the bare skeleton, refused batches that change nothing, and a
# rebuild with 200 networks. Needs root; touches nothing outside its namespace.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
nftctl=${TOOLS:-$root/${B:-build}/tests/tools}/nftctl
NS="vnt-nft-$$"
tmp=$(mktemp -d /tmp/vnet-nft.XXXXXX)
failures=0

cleanup() {
        ip netns del "$NS" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
        echo "FAIL: $*" >&2
        failures=$((failures + 1))
}

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x "$nftctl" ] || { echo "FAIL: $nftctl not built" >&2; exit 1; }
command -v nft >/dev/null || { echo "SKIP: nft not installed"; exit 77; }
ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS" >&2; exit 1; }

in_ns() { ip netns exec "$NS" "$@"; }

# ok ARGS... / refused ARGS...: nftctl must succeed / fail.
ok() { in_ns "$nftctl" "$@" >"$tmp/out" 2>"$tmp/err" || fail "nftctl $*: $(cat "$tmp/err")"; }
refused() {
        if in_ns "$nftctl" "$@" >"$tmp/out" 2>"$tmp/err"; then
                fail "nftctl $*: succeeded, expected an error"
        elif [ ! -s "$tmp/err" ]; then
                fail "nftctl $*: failed without saying why"
        fi
}

# Lists the table into $tmp/table; `nft list ruleset` must print it without complaint.
list() {
        in_ns nft list table inet vnet >"$tmp/table" 2>"$tmp/nfterr" ||
                fail "nft list table inet vnet: $(cat "$tmp/nfterr")"
        if ! in_ns nft list ruleset >"$tmp/ruleset" 2>"$tmp/nfterr" || [ -s "$tmp/nfterr" ]; then
                fail "nft list ruleset: $(cat "$tmp/nfterr")"
        fi
}

# chain_rules CHAIN: the rules of CHAIN in $tmp/table, one per line, trimmed.
chain_rules() {
        awk -v c="chain $1 {" '
                $0 ~ /^\t}/ { on = 0 }
                on && NF && $1 != "type" { sub(/^[ \t]+/, ""); print }
                $0 == "\t" c { on = 1 }' "$tmp/table"
}

# expect_chain CHAIN RULE...: CHAIN holds exactly these rules, in this order.
expect_chain() {
        local chain=$1 want got
        shift
        want=$(printf '%s\n' "$@")
        got=$(chain_rules "$chain")
        [ "$got" = "$want" ] || fail "chain $chain:"$'\n'"--- want"$'\n'"$want"$'\n'"--- got"$'\n'"$got"
}

# no_chain CHAIN
no_chain() {
        ! grep -q "^	chain $1 {" "$tmp/table" || fail "chain $1 exists, expected none"
}

# elements MAP: the map's elements, sorted, as "key : verdict" lines.
elements() {
        in_ns nft list map inet vnet "$1" 2>/dev/null |
                tr -d '\n\t' | sed -n 's/.*elements = { \(.*\) }.*/\1/p' |
                sed 's/, */\n/g' | sed 's/^ *//; s/ *$//' | sort
}

expect_elements() {
        local map=$1 want got
        shift
        want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
        got=$(elements "$map")
        [ "$got" = "$want" ] || fail "map $map: want [$want], got [$got]"
}

chain_count() { grep -c "^	chain " "$tmp/table"; }

REJECT="reject with icmpx admin-prohibited"
IN_RULES=("udp dport 67 accept" "udp dport 53 accept" "tcp dport 53 accept")

# nat_chains NAME BR SUBNET
expect_nat() {
        local n=$1 br=$2 s=$3
        expect_chain "net-$n-to" "iifname \"$br\" return" \
                "ip daddr $s ct state established,related return" "$REJECT"
        expect_chain "net-$n-from" "oifname \"$br\" return" "ip saddr $s return" "$REJECT"
        expect_chain "net-$n-in" "${IN_RULES[@]}"
        expect_chain "net-$n-nat" \
                "ip saddr $s ip daddr 224.0.0.0/24 return" \
                "ip saddr $s ip daddr 255.255.255.255 return" \
                "ip saddr $s ip daddr != $s meta l4proto tcp masquerade to :1024-65535" \
                "ip saddr $s ip daddr != $s meta l4proto udp masquerade to :1024-65535" \
                "ip saddr $s ip daddr != $s masquerade"
}

expect_routed() {
        local n=$1 br=$2 s=$3
        expect_chain "net-$n-to" "iifname \"$br\" return" "ip daddr $s return" "$REJECT"
        expect_chain "net-$n-from" "oifname \"$br\" return" "ip saddr $s return" "$REJECT"
        expect_chain "net-$n-in" "${IN_RULES[@]}"
        no_chain "net-$n-nat"
}

expect_isolated() {
        local n=$1 br=$2
        expect_chain "net-$n-to" "iifname \"$br\" return" "$REJECT"
        expect_chain "net-$n-from" "oifname \"$br\" return" "$REJECT"
        expect_chain "net-$n-in" "${IN_RULES[@]}"
        no_chain "net-$n-nat"
}

expect_none() {
        local n=$1
        for c in to from in nat; do no_chain "net-$n-$c"; done
}

# unchanged WHAT: the table is as it was at the last `snapshot`.
snapshot() { list; cp "$tmp/table" "$tmp/snap"; }
unchanged() {
        list
        cmp -s "$tmp/table" "$tmp/snap" || fail "$1 changed the table:
$(diff "$tmp/snap" "$tmp/table")"
}

echo "# skeleton"
[ "$(in_ns "$nftctl" exists)" = 0 ] || fail "exists: expected 0 before rebuild"
ok rebuild
[ "$(in_ns "$nftctl" exists)" = 1 ] || fail "exists: expected 1 after rebuild"
list
cp "$tmp/table" "$tmp/skeleton"
for m in to_net from_net in_net nat_net; do
        grep -q "^	map $m {" "$tmp/table" || fail "map $m missing"
        in_ns nft list map inet vnet "$m" | grep -q "type ifname : verdict" ||
                fail "map $m: not printed as ifname : verdict"
done
expect_chain forward "oifname vmap @to_net" "iifname vmap @from_net"
expect_chain input "iifname vmap @in_net"
expect_chain postrouting "iifname vmap @nat_net"
grep -q "type filter hook forward priority filter; policy accept;" "$tmp/table" ||
        fail "forward: wrong hook"
grep -q "type filter hook input priority filter; policy accept;" "$tmp/table" ||
        fail "input: wrong hook"
grep -q "type nat hook postrouting priority srcnat; policy accept;" "$tmp/table" ||
        fail "postrouting: wrong hook"
[ "$(chain_count)" = 3 ] || fail "skeleton: $(chain_count) chains, expected 3"

echo "# one network of each mode"
ok add web vbr0 nat 192.168.122.1/24
ok add r1 vbr1 routed 10.1.16.1/20
ok add iso vbr2 isolated
ok add o vbr3 open 10.3.0.1/24
list
expect_nat web vbr0 192.168.122.0/24
expect_routed r1 vbr1 10.1.16.0/20
expect_isolated iso vbr2
expect_none o
[ "$(chain_count)" = $((3 + 4 + 3 + 3)) ] || fail "$(chain_count) chains, expected 13"
expect_elements to_net '"vbr0" : jump net-web-to' '"vbr1" : jump net-r1-to' '"vbr2" : jump net-iso-to'
expect_elements from_net '"vbr0" : jump net-web-from' '"vbr1" : jump net-r1-from' \
        '"vbr2" : jump net-iso-from'
expect_elements in_net '"vbr0" : jump net-web-in' '"vbr1" : jump net-r1-in' '"vbr2" : jump net-iso-in'
expect_elements nat_net '"vbr0" : jump net-web-nat'

echo "# refused batches change nothing"
snapshot
refused add web vbr0 nat 192.168.122.1/24
unchanged "adding an existing network"
refused del nosuch vbx nat 10.9.0.1/24
unchanged "deleting a missing network"
refused mode iso vbr2 nat routed 10.2.0.1/24
unchanged "a mode change from the wrong old mode"
refused add new vbr0 isolated
unchanged "adding a network on a bridge already keyed"

echo "# mode changes, each one batch"
ok mode web vbr0 nat routed 192.168.122.1/24
list
expect_routed web vbr0 192.168.122.0/24
expect_elements nat_net
expect_elements to_net '"vbr0" : jump net-web-to' '"vbr1" : jump net-r1-to' '"vbr2" : jump net-iso-to'
ok mode web vbr0 routed isolated 192.168.122.1/24
list
expect_isolated web vbr0
ok mode web vbr0 isolated open
list
expect_none web
expect_elements to_net '"vbr1" : jump net-r1-to' '"vbr2" : jump net-iso-to'
ok mode web vbr0 open nat 192.168.122.1/24
list
expect_nat web vbr0 192.168.122.0/24
ok mode web vbr0 nat isolated 192.168.122.1/24
ok mode web vbr0 isolated nat 192.168.122.1/24
list
expect_nat web vbr0 192.168.122.0/24
expect_elements nat_net '"vbr0" : jump net-web-nat'
# the other networks are untouched by all this
expect_routed r1 vbr1 10.1.16.0/20
expect_isolated iso vbr2

echo "# deleting every network leaves the bare skeleton"
ok del web vbr0 nat 192.168.122.1/24
ok del r1 vbr1 routed 10.1.16.1/20
ok del iso vbr2 isolated
ok del o vbr3 open
list
cmp -s "$tmp/table" "$tmp/skeleton" || fail "after deleting all networks:
$(diff "$tmp/skeleton" "$tmp/table")"
for m in to_net from_net in_net nat_net; do expect_elements "$m"; done

echo "# rebuild over a populated table, and with 200 networks"
ok add web vbr0 nat 192.168.122.1/24
ok rebuild
list
cmp -s "$tmp/table" "$tmp/skeleton" || fail "rebuild did not reset the table"
ok rebuild 200
list
[ "$(chain_count)" = $((3 + 200 * 4)) ] || fail "rebuild 200: $(chain_count) chains, expected 803"
[ "$(elements nat_net | wc -l)" = 200 ] || fail "rebuild 200: nat_net has not 200 elements"
expect_nat n199 vb199 10.0.199.0/24
ok rebuild
list
cmp -s "$tmp/table" "$tmp/skeleton" || fail "rebuild after 200 networks did not reset the table"

echo "# timing (informational)"
in_ns "$nftctl" bench web vbr0 192.168.122.1/24 50 || fail "bench"
ok rebuild
list
cmp -s "$tmp/table" "$tmp/skeleton" || fail "bench left networks behind"

if [ $failures -gt 0 ]; then
        echo "$failures check(s) failed" >&2
        exit 1
fi
echo "all nft checks passed"
