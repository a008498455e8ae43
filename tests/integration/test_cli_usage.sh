#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vnetctl without a daemon: usage errors exit 2 with one line on stderr, a socket nobody
# listens on exits 1 with one line naming it, help exits 0. Needs no root and no namespaces.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
vnetctl=${VNETCTL:-$root/${B:-build}/vnetctl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
        echo "FAIL: $*" >&2
        failures=$((failures + 1))
}

# run STATUS ARGS...: runs vnetctl, checks its exit status; leaves $tmp/out and $tmp/err.
run() {
        local want=$1 got
        shift
        "$vnetctl" "$@" >"$tmp/out" 2>"$tmp/err"
        got=$?
        [ "$got" = "$want" ] || fail "vnetctl $*: exit $got, expected $want"
}

# expect_error STATUS PATTERN ARGS...: one "vnetctl: ..." line on stderr matching PATTERN,
# nothing on stdout.
expect_error() {
        local want=$1 pattern=$2
        shift 2
        run "$want" "$@"
        [ "$(wc -l <"$tmp/err")" = 1 ] ||
                fail "vnetctl $*: expected one line on stderr, got: $(cat "$tmp/err")"
        grep -q "^vnetctl: .*$pattern" "$tmp/err" ||
                fail "vnetctl $*: stderr does not match '$pattern': $(cat "$tmp/err")"
        [ ! -s "$tmp/out" ] || fail "vnetctl $*: unexpected stdout: $(cat "$tmp/out")"
}

[ -x "$vnetctl" ] || { echo "FAIL: $vnetctl not built" >&2; exit 1; }
# Nothing here may reach a real vnetd, whatever the caller's environment says.
export VNET_SOCKET=$tmp/absent.sock

expect_error 2 "missing COMMAND"
expect_error 2 "unknown command 'frobnicate'" frobnicate
expect_error 2 "unknown option '--bogus'" --bogus list
expect_error 2 "unknown option '-x'" -x list
expect_error 2 "option '-s' needs a value" -s
expect_error 2 "create: missing NAME" create
expect_error 2 "create: missing NAME" create --mode nat
expect_error 2 "create: unexpected argument 'two'" create one two
expect_error 2 "create: unknown option '--colour'" create net0 --colour blue
expect_error 2 "create: option '--mode' needs a value" create net0 --mode
expect_error 2 "create: invalid --mtu 'big'" create net0 --mtu big
expect_error 2 "create: invalid --mtu '1500x'" create net0 --mtu 1500x
expect_error 2 "create: invalid --stp 'maybe'" create net0 --stp maybe
for verb in start stop destroy show; do
        expect_error 2 "$verb: missing NAME" "$verb"
        expect_error 2 "$verb: unexpected argument 'extra'" "$verb" net0 extra
        expect_error 2 "$verb: unknown option '--force'" "$verb" net0 --force
done
expect_error 2 "mode: missing NAME" mode
expect_error 2 "mode: missing MODE" mode net0
expect_error 2 "mode: unexpected argument 'extra'" mode net0 nat extra
expect_error 2 "list: unexpected argument 'extra'" list extra
expect_error 2 "reload: unexpected argument 'extra'" reload extra
expect_error 2 "reload: unknown option '--bogus'" reload --bogus
expect_error 2 "help: unknown command 'nope'" help nope
expect_error 2 "create: option '--allow-user' needs a value" create net0 --allow-user
expect_error 2 "create: option '--allow-group' needs a value" create net0 --allow-group
expect_error 2 "attach: missing NETWORK" attach
expect_error 2 "attach: missing NETWORK" attach --mac 52:54:00:12:34:56
expect_error 2 "attach: unexpected argument 'two'" attach one two
expect_error 2 "attach: unknown option '--colour'" attach net0 --colour blue
expect_error 2 "attach: option '--ifname' needs a value" attach net0 --ifname
expect_error 2 "attach: invalid --queues 'many'" attach net0 --queues many
expect_error 2 "attach: invalid --queues '4x'" attach net0 --queues 4x
expect_error 2 "detach: missing NETWORK" detach
expect_error 2 "detach: missing IFNAME" detach net0
expect_error 2 "detach: unexpected argument 'extra'" detach net0 vnet0 extra
expect_error 2 "detach: unknown option '--force'" detach net0 vnet0 --force
expect_error 2 "ports: missing NETWORK" ports
expect_error 2 "ports: unexpected argument 'extra'" ports net0 extra
expect_error 2 "ports: unknown option '--all'" ports net0 --all
# DHCP and DNS: a lease time is checked here (it is sent as seconds); the rest is vnetd's.
expect_error 2 "create: invalid --lease-time 'soon'" create net0 --lease-time soon
expect_error 2 "create: invalid --lease-time '5x'" create net0 --lease-time 5x
expect_error 2 "create: invalid --lease-time '1s': must be between" create net0 --lease-time 1s
expect_error 2 "create: option '--lease-time' needs a value" create net0 --lease-time
expect_error 2 "create: option '--dhcp' needs a value" create net0 --dhcp
expect_error 2 "create: option '--domain' needs a value" create net0 --domain
expect_error 2 "create: option '--dns-forwarder' needs a value" create net0 --dns-forwarder
expect_error 2 "create: option '--no-dhcp' takes no value" create net0 --no-dhcp=yes
expect_error 2 "leases: option '--json' takes no value" leases net0 --json=1
expect_error 2 "attach: option '--ip' needs a value" attach net0 --ip
expect_error 2 "attach: option '--hostname' needs a value" attach net0 --hostname
expect_error 2 "host: missing SUBCOMMAND (add or del)" host
expect_error 2 "host: unknown subcommand 'list'" host list
expect_error 2 "host add: missing NETWORK" host add
expect_error 2 "host add: missing NETWORK" host add --mac 52:54:00:12:34:56 --ip 192.168.122.10
expect_error 2 "host add: missing --mac" host add net0
expect_error 2 "host add: missing --mac" host add net0 --ip 192.168.122.10 --name web
expect_error 2 "host add: missing --ip" host add net0 --mac 52:54:00:12:34:56
expect_error 2 "host add: option '--name' needs a value" host add net0 --mac 52:54:00:12:34:56 --ip 192.168.122.10 --name
expect_error 2 "host add: unexpected argument 'extra'" host add net0 extra --mac 52:54:00:12:34:56 --ip 192.168.122.10
expect_error 2 "host add: unknown option '--hostname'" host add net0 --mac 52:54:00:12:34:56 --ip 192.168.122.10 --hostname web
expect_error 2 "host del: missing NETWORK" host del
expect_error 2 "host del: missing --mac" host del net0
expect_error 2 "host del: unknown option '--ip'" host del net0 --mac 52:54:00:12:34:56 --ip 192.168.122.10
for verb in hosts leases; do
        expect_error 2 "$verb: missing NETWORK" "$verb"
        expect_error 2 "$verb: unexpected argument 'extra'" "$verb" net0 extra
        expect_error 2 "$verb: unknown option '--all'" "$verb" net0 --all
done
expect_error 2 "doctor: unexpected argument 'extra'" doctor extra
expect_error 2 "doctor: unknown option '--fix'" doctor --fix
expect_error 2 "help: unknown subcommand 'host list'" help host list
expect_error 2 "help: unexpected argument 'extra'" help leases extra

# No daemon: exit 1, one line that names the socket, also with --json.
expect_error 1 "/nonexistent/sock" -s /nonexistent/sock list
expect_error 1 "/nonexistent/sock" -s /nonexistent/sock --json show net0
expect_error 1 "/nonexistent/sock" --socket=/nonexistent/sock create net0 --mtu 1500
expect_error 1 "$tmp/absent.sock" list
# A valid --mtu is the daemon's to judge, so this gets as far as connecting.
expect_error 1 "$tmp/absent.sock" create net0 --mtu 10
expect_error 1 "$tmp/absent.sock" create net0 --allow-user alice --allow-user 1001 --allow-group kvm
expect_error 1 "$tmp/absent.sock" attach net0 --mac 52:54:00:12:34:56 --owner alice --queues 2
expect_error 1 "$tmp/absent.sock" --json attach net0
expect_error 1 "$tmp/absent.sock" detach net0 vnet0
expect_error 1 "$tmp/absent.sock" ports net0
expect_error 1 "$tmp/absent.sock" create net0 --dhcp 10.0.0.2-10.0.0.9 --lease-time 12h \
        --domain lab.example --dns-forwarder 10.0.0.53 --dns-forwarder 10.0.1.53
expect_error 1 "$tmp/absent.sock" create net0 --no-dhcp --lease-time 3600
expect_error 1 "$tmp/absent.sock" attach net0 --ip 192.168.122.10 --hostname web
expect_error 1 "$tmp/absent.sock" host add net0 --mac 52:54:00:12:34:56 --ip 192.168.122.10 --name web
expect_error 1 "$tmp/absent.sock" host add net0 --mac 52:54:00:12:34:56 --ip 192.168.122.10
expect_error 1 "$tmp/absent.sock" --json host del net0 --mac 52:54:00:12:34:56
expect_error 1 "$tmp/absent.sock" hosts net0
expect_error 1 "$tmp/absent.sock" leases --json net0
expect_error 1 "$tmp/absent.sock" doctor
expect_error 1 "$tmp/absent.sock" doctor --json

for args in --help -h help; do
        run 0 $args
        [ ! -s "$tmp/err" ] || fail "vnetctl $args: unexpected stderr: $(cat "$tmp/err")"
        for verb in create start stop destroy list reload show mode attach detach ports leases \
                hosts "host add" "host del" doctor help; do
                grep -q "^  $verb\b" "$tmp/out" || fail "vnetctl $args: '$verb' not listed"
        done
done
run 0 create --help
grep -q "create NAME .*--mode" "$tmp/out" || fail "vnetctl create --help: $(cat "$tmp/out")"
run 0 help mode
grep -q "mode NAME MODE" "$tmp/out" || fail "vnetctl help mode: $(cat "$tmp/out")"
run 0 attach --help
grep -q "attach NETWORK .*--owner" "$tmp/out" || fail "vnetctl attach --help: $(cat "$tmp/out")"
run 0 help ports
grep -q "ports NETWORK" "$tmp/out" || fail "vnetctl help ports: $(cat "$tmp/out")"
run 0 create --help
grep -q "create NAME .*--dhcp START-END.*--lease-time" "$tmp/out" || fail "vnetctl create --help: $(cat "$tmp/out")"
run 0 attach --help
grep -q "attach NETWORK .*--ip ADDR.*--hostname" "$tmp/out" || fail "vnetctl attach --help: $(cat "$tmp/out")"
for args in "host --help" "help host"; do
        run 0 $args
        grep -q "host add NETWORK --mac MAC --ip ADDR" "$tmp/out" || fail "vnetctl $args: $(cat "$tmp/out")"
        grep -q "host del NETWORK --mac MAC" "$tmp/out" || fail "vnetctl $args: $(cat "$tmp/out")"
done
run 0 help host add
grep -q "host add NETWORK .*--name HOSTNAME" "$tmp/out" || fail "vnetctl help host add: $(cat "$tmp/out")"
grep -q "host del" "$tmp/out" && fail "vnetctl help host add: shows host del: $(cat "$tmp/out")"
run 0 host add --help
grep -q "host add NETWORK" "$tmp/out" || fail "vnetctl host add --help: $(cat "$tmp/out")"
run 0 help leases
grep -q "leases NETWORK" "$tmp/out" || fail "vnetctl help leases: $(cat "$tmp/out")"
run 0 help doctor
grep -q "^usage: vnetctl .* doctor$" "$tmp/out" || fail "vnetctl help doctor: $(cat "$tmp/out")"
grep -q "Exit status 1 when something was found" "$tmp/out" ||
        fail "vnetctl help doctor: no exit status: $(cat "$tmp/out")"
run 0 doctor --help
grep -q "^usage: vnetctl .* doctor$" "$tmp/out" || fail "vnetctl doctor --help: $(cat "$tmp/out")"
run 0 --version
grep -q "^vnetctl " "$tmp/out" || fail "vnetctl --version: $(cat "$tmp/out")"
# Output that cannot be written (stdout is buffered: only the flush at exit sees it) is a
# failure, exit 1 with one line, not a silent success.
"$vnetctl" --help >/dev/full 2>"$tmp/err"
got=$?
[ "$got" = 1 ] || fail "vnetctl --help >/dev/full: exit $got, expected 1"
[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "^vnetctl: cannot write the output: " "$tmp/err" ||
        fail "vnetctl --help >/dev/full: expected one line about the output, got: $(cat "$tmp/err")"

# The VMM hooks are vnetctl under other names (make install adds the symlinks).
for hook in vnet-ifup vnet-ifdown vnet-bridge-helper; do
        ln -s "$vnetctl" "$tmp/$hook"
done

# expect_hook HOOK STATUS PATTERN ARGS...: one "HOOK: ..." line on stderr matching PATTERN,
# nothing on stdout. STATUS "nz" means any non-zero status.
expect_hook() {
        local hook=$1 want=$2 pattern=$3 got
        shift 3
        "$tmp/$hook" "$@" >"$tmp/out" 2>"$tmp/err"
        got=$?
        if [ "$want" = nz ]; then
                [ "$got" != 0 ] || fail "$hook $*: exit 0, expected a failure"
        else
                [ "$got" = "$want" ] || fail "$hook $*: exit $got, expected $want"
        fi
        [ "$(wc -l <"$tmp/err")" = 1 ] ||
                fail "$hook $*: expected one line on stderr, got: $(cat "$tmp/err")"
        grep -q "^$hook: .*$pattern" "$tmp/err" ||
                fail "$hook $*: stderr does not match '$pattern': $(cat "$tmp/err")"
        [ ! -s "$tmp/out" ] || fail "$hook $*: unexpected stdout: $(cat "$tmp/out")"
}

long=abcdefghijklmnop # 16 bytes, one over the kernel's limit
for hook in vnet-ifup vnet-ifdown; do
        expect_hook $hook nz "missing IFNAME"
        expect_hook $hook nz "unexpected argument 'tap1'" tap0 tap1
        # Refused before connecting: the socket is missing, yet the line is about the name.
        expect_hook $hook nz "invalid IFNAME '$long': interface names have at most 15 bytes" "$long"
        expect_hook $hook nz "invalid IFNAME 'a/b'" a/b
        # A good name gets as far as connecting.
        expect_hook $hook 1 "$tmp/absent.sock" tap0
done
VNET_NETWORK=lab VNET_MAC=52:54:00:12:34:56 expect_hook vnet-ifup 1 "$tmp/absent.sock" tap0

# qemu-bridge-helper's contract: every failure is exit 1 and one line.
expect_hook vnet-bridge-helper 1 "missing --br"
expect_hook vnet-bridge-helper 1 "missing --br" --fd=3 --use-vnet
expect_hook vnet-bridge-helper 1 "missing --fd" --br=virbr0
expect_hook vnet-bridge-helper 1 "missing --fd" --use-vnet --br virbr0
expect_hook vnet-bridge-helper 1 "invalid --fd 'x'" --br=virbr0 --fd=x
expect_hook vnet-bridge-helper 1 "unknown option '--bogus'" --br=virbr0 --fd=3 --bogus
expect_hook vnet-bridge-helper 1 "unexpected argument 'virbr0'" --fd=3 virbr0
expect_hook vnet-bridge-helper 1 "interface names have at most 15 bytes" --use-vnet --fd=3 --br="$long"
# Descriptor 3 is a regular file here, not the socket QEMU would pass: refused before connecting.
expect_hook vnet-bridge-helper 1 "invalid --fd=3: not a socket" --use-vnet --fd=3 --br=virbr0 3<"$0"
expect_hook vnet-bridge-helper 1 "invalid --fd=9: Bad file descriptor" --fd=9 --br=virbr0 9<&-
"$tmp/vnet-bridge-helper" --help >"$tmp/out" 2>"$tmp/err" || fail "vnet-bridge-helper --help failed"
grep -q "^usage: vnet-bridge-helper .*--br=" "$tmp/out" || fail "vnet-bridge-helper --help: $(cat "$tmp/out")"

if [ "$failures" -gt 0 ]; then
        echo "test_cli_usage: $failures failure(s)" >&2
        exit 1
fi
echo "test_cli_usage: ok"
