#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bash completion of vnetctl (contrib/bash-completion/vnetctl), called as bash calls it:
# verbs, global and per-verb options and modes as `vnetctl help` states them (so a verb or an
# option added to the code and not to the completion fails here); network and port names
# from a vnetd in the test's namespace, asked through the socket -s names on the line, with jq
# and without; nothing, and nothing on stderr, when vnetd does not answer; `make install`
# puts the file where bash-completion looks for it.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

COMPLETION=$PWD/contrib/bash-completion/vnetctl
[ -f "$COMPLETION" ] || die "$COMPLETION missing"
bash -n "$COMPLETION" || die "the completion does not parse"
# shellcheck source=SCRIPTDIR/../../contrib/bash-completion/vnetctl
. "$COMPLETION"
[ "$(complete -p vnetctl)" = "complete -F _vnetctl vnetctl" ] ||
	die "not registered for vnetctl: $(complete -p vnetctl 2>&1)"
for hook in vnet-ifup vnet-ifdown vnet-bridge-helper; do
	complete -p "$hook" >/dev/null 2>&1 && die "registered for the hook $hook"
done

# The completion runs the vnetctl on PATH (lib.sh's vnetctl function is not it: `command`).
PATH=$(dirname "$VNETCTL"):$PATH
# Nothing here may reach a vnetd but the test's, whatever the caller's environment says.
export VNET_SOCKET=$T/absent.sock

# comp WORD...: runs _vnetctl as bash does for the line WORD... (the last word is the one
# under the cursor), leaving its offers in COMPREPLY. It must succeed and print nothing.
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_vnetctl 2>"$T/comp.err" || die "_vnetctl failed on: $*"
	[ -s "$T/comp.err" ] && die "_vnetctl printed on stderr for '$*': $(<"$T/comp.err")"
	return 0
}
# offers: COMPREPLY sorted, separated by spaces.
offers() { printf '%s\n' ${COMPREPLY[@]+"${COMPREPLY[@]}"} | words; }
words() { grep -v '^$' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# expect "WORDS" WORD...: what comp offers must be exactly WORDS (sorted, spaces).
expect() {
	local want=$1
	shift
	comp "$@"
	assert_eq "$(offers)" "$want" "completion of '$*'"
}

log "what vnetctl help says"
help=$("$VNETCTL" help) || die "vnetctl help"
verbs=$(awk '/^  [a-z]/ { print $1 }' <<<"$help" | words)
globals=$(sed -n '/^Options:/,/^$/p' <<<"$help" | grep -oE -- '--?[a-z][a-z0-9-]*' | words)
# usage_options VERB...: the options of a verb's usage line, and --help and --json, which
# every verb takes.
usage_options() {
	{
		"$VNETCTL" help "$@" | head -n 1 | grep -o -- '--[a-z][a-z0-9-]*'
		echo --help
		echo --json
	} | words
}
modes=$("$VNETCTL" help create | head -n 1 | grep -o -- '--mode [a-z|]*' | cut -d' ' -f2 |
	tr '|' '\n' | words)
assert_contains "$verbs" "create" "verbs in help"
assert_contains "$globals" "--socket" "global options in help"
assert_eq "$modes" "isolated nat open routed" "modes in help"

log "verbs, global options"
expect "$verbs" vnetctl ''
expect "show start stop" vnetctl s
expect "$globals" vnetctl -
expect "$verbs" vnetctl -s /tmp/x.sock -j ''
expect "$verbs" vnetctl --socket = /tmp/x.sock ''
expect "$verbs" vnetctl help ''
expect "add del" vnetctl host ''
expect "add del" vnetctl help host ''

log "each verb's options"
expect "$(usage_options create)" vnetctl create x --
expect "$(usage_options create)" vnetctl -j create --
expect "$(usage_options attach)" vnetctl attach lab --
expect "$(usage_options host add)" vnetctl host add lab --
expect "$(usage_options host del)" vnetctl host del lab --
for verb in start stop destroy list show mode detach ports hosts leases reload doctor; do
	expect "--help --json" vnetctl "$verb" --
done
expect "--no-dhcp --no-dns" vnetctl create x --no-d
# After an option that takes a value, not the options; after a flag, nothing (a new NAME).
expect "" vnetctl create x --bridge ''
expect "" vnetctl create x --autostart ''

log "modes"
expect "$modes" vnetctl mode lab ''
expect "isolated" vnetctl mode lab i
expect "$modes" vnetctl mode --json lab ''
expect "$modes" vnetctl create x --mode ''
expect "routed" vnetctl create x --mode r
expect "$modes" vnetctl create x --mode = ''
expect "nat" vnetctl create x --mode = n
expect "off on" vnetctl create x --stp ''
expect "" vnetctl mode lab nat ''
expect "root" vnetctl attach lab --owner roo

log "vnetd not reachable: nothing, quietly"
expect "" vnetctl show ''
expect "" vnetctl -s "$T/nothing-here.sock" show ''
expect "" vnetctl -s "$T/nothing-here.sock" detach lab ''

log "network and port names from vnetd, through -s"
setup_host
# shellcheck disable=SC2119 # no options for vnetd
start_vnetd
vnetctl create lab --mode nat --ipv4 10.77.0.1/24 >/dev/null || die "create lab"
vnetctl create web --mode isolated --ipv4 10.77.1.1/24 >/dev/null || die "create web"
read -r port _ < <(vnetctl attach lab) || die "attach lab"
[ -n "$port" ] || die "attach printed no IFNAME"

for verb in start stop destroy show ports hosts leases attach detach mode; do
	expect "lab web" vnetctl -s "$SOCK" "$verb" ''
done
expect "lab web" vnetctl -s "$SOCK" host add ''
expect "lab" vnetctl -s "$SOCK" show l
expect "lab web" vnetctl --socket "$SOCK" --json show ''
expect "lab web" vnetctl --socket = "$SOCK" show ''
expect "lab web" vnetctl "-s$SOCK" show ''
expect "$port" vnetctl -s "$SOCK" detach lab ''
expect "" vnetctl -s "$SOCK" detach web ''
expect "$modes" vnetctl -s "$SOCK" mode lab ''
expect "" vnetctl -s "$SOCK" create ''
# Without -s, the socket of the environment (here none: nothing).
expect "" vnetctl show ''
VNET_SOCKET=$SOCK expect "lab web" vnetctl show ''
# vnetctl typed as a path is the one asked.
expect "lab web" "$VNETCTL" -s "$SOCK" show ''

log "the same without jq: vnetctl's tables"
mkdir "$T/nojq"
ln -s "$VNETCTL" "$T/nojq/vnetctl"
ln -s "$(command -v awk)" "$T/nojq/awk"
# In a subshell: a failure comes out as a mismatch.
nojq() { (PATH=$T/nojq comp "$@" && echo "[$(offers)]"); }
assert_eq "$(nojq vnetctl -s "$SOCK" show '')" "[lab web]" "without jq: show"
assert_eq "$(nojq vnetctl -s "$SOCK" detach lab '')" "[$port]" "without jq: detach lab"
assert_eq "$(nojq vnetctl -s "$SOCK" detach web '')" "[]" "without jq: detach web"
assert_eq "$(nojq vnetctl -s "$T/nothing-here.sock" show '')" "[]" "without jq, no vnetd"

log "make install puts it where bash-completion looks"
# -o all: install what is built; this test does not rebuild.
make --no-print-directory -s -o all install B="${B:-build}" PREFIX=/usr DESTDIR="$T/root" >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; die "make install failed"; }
cmp "$COMPLETION" "$T/root/usr/share/bash-completion/completions/vnetctl" ||
	die "the completion is not installed as share/bash-completion/completions/vnetctl"

echo ok
