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
expect_error 2 "help: unknown command 'nope'" help nope

# No daemon: exit 1, one line that names the socket, also with --json.
expect_error 1 "/nonexistent/sock" -s /nonexistent/sock list
expect_error 1 "/nonexistent/sock" -s /nonexistent/sock --json show net0
expect_error 1 "/nonexistent/sock" --socket=/nonexistent/sock create net0 --mtu 1500
expect_error 1 "$tmp/absent.sock" list
# A valid --mtu is the daemon's to judge, so this gets as far as connecting.
expect_error 1 "$tmp/absent.sock" create net0 --mtu 10

for args in --help -h help; do
        run 0 $args
        [ ! -s "$tmp/err" ] || fail "vnetctl $args: unexpected stderr: $(cat "$tmp/err")"
        for verb in create start stop destroy list show mode; do
                grep -q "^  $verb\b" "$tmp/out" || fail "vnetctl $args: '$verb' not listed"
        done
done
run 0 create --help
grep -q "create NAME .*--mode" "$tmp/out" || fail "vnetctl create --help: $(cat "$tmp/out")"
run 0 help mode
grep -q "mode NAME MODE" "$tmp/out" || fail "vnetctl help mode: $(cat "$tmp/out")"
run 0 --version
grep -q "^vnetctl " "$tmp/out" || fail "vnetctl --version: $(cat "$tmp/out")"

if [ "$failures" -gt 0 ]; then
        echo "test_cli_usage: $failures failure(s)" >&2
        exit 1
fi
echo "test_cli_usage: ok"
