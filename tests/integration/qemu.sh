# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034
# Real QEMU guests for end-to-end tests; source after lib.sh. The guest (tests/tools/guest-image)
# is a Debian cloud kernel + busybox initramfs that configures its NIC as told on the kernel
# command line, reports on the serial console (VNET-MAC, VNET-IP, VNET-PING-OK, VNET-DONE…) and
# powers off. QEMU always runs inside a namespace of the test, so its TAP lives there.
#
#   qemu_available || { echo "SKIP: $QEMU_UNAVAILABLE"; exit 77; }
#   qemu_boot NS LOG [--mac MAC] [--guest 'vnet.ip=A/P vnet.gw=G vnet.ping=G vnet.dhcp=1'] \
#             -netdev tap,id=n0,ifname=tap0,script=no,downscript=no
#   qemu_wait LOG 'VNET-PING-(OK|FAIL)' 60 || die …
#   qemu_value LOG VNET-MAC              prints what follows "VNET-MAC " on its last line
#   qemu_wait_exit 30                    the guest powered off and QEMU exited 0
set -u

QEMU=${QEMU:-qemu-system-x86_64}
GUEST_IMAGE=${GUEST_IMAGE:-$PWD/tests/tools/guest-image}
# TCG: the same everywhere, KVM or not (VNET_QEMU_ACCEL=kvm to try it by hand).
QEMU_ACCEL=${VNET_QEMU_ACCEL:-tcg}
QEMU_KERNEL=
QEMU_INITRD=
QEMU_UNAVAILABLE=
QEMU_PID=
QEMU_START=
# Words put between "ip netns exec NS" and QEMU (e.g. unshare -m … to run in a mount namespace).
QEMU_PREFIX=()

# Returns 0 when QEMU and the guest image are ready (installing qemu-system-x86 and building the
# image as needed); 1 with $QEMU_UNAVAILABLE set when the packages cannot be had here. A guest
# image that fails to build for any other reason is a failure, not a skip.
qemu_available() {
	local out rc
	if ! command -v "$QEMU" >/dev/null 2>&1; then
		if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
			QEMU_UNAVAILABLE="$QEMU not installed (package qemu-system-x86)"
			return 1
		fi
		log "installing qemu-system-x86"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			qemu-system-x86 >/dev/null 2>&1 || {
			apt-get update -qq >/dev/null 2>&1
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				qemu-system-x86 >/dev/null 2>&1
		} || {
			QEMU_UNAVAILABLE="cannot install qemu-system-x86"
			return 1
		}
		command -v "$QEMU" >/dev/null 2>&1 || {
			QEMU_UNAVAILABLE="qemu-system-x86 installed but no $QEMU"
			return 1
		}
	fi
	out=$("$GUEST_IMAGE")
	rc=$?
	if [ $rc -eq 2 ]; then
		QEMU_UNAVAILABLE="cannot get the guest kernel or busybox packages"
		return 1
	fi
	[ $rc -eq 0 ] || die "tests/tools/guest-image failed (exit $rc)"
	QEMU_KERNEL=$(sed -n 's/^kernel //p' <<<"$out")
	QEMU_INITRD=$(sed -n 's/^initrd //p' <<<"$out")
	if [ ! -f "$QEMU_KERNEL" ] || [ ! -f "$QEMU_INITRD" ]; then
		die "guest-image gave no kernel/initrd: $out"
	fi
	return 0
}

# qemu_boot NS LOG [--mac MAC] [--guest 'vnet.k=v …'] QEMU-ARGS…
# Boots the guest in namespace NS, in the background; serial console and QEMU's own messages go
# to LOG. QEMU-ARGS give the backend, whose id must be n0 (-netdev tap,id=n0,…). Sets QEMU_PID
# (also added to PIDS, so lib.sh's cleanup kills it) and QEMU_START. Call it directly, not in $().
qemu_boot() {
	local ns=$1 log=$2 mac=52:54:00:12:34:56 guest=
	shift 2
	while [ $# -gt 0 ]; do
		case "$1" in
		--mac) mac=$2 && shift 2 ;;
		--guest) guest=$2 && shift 2 ;;
		--) shift && break ;;
		*) break ;;
		esac
	done
	[ -n "$QEMU_KERNEL" ] || die "qemu_boot: call qemu_available first"
	: >"$log"
	QEMU_START=$(date +%s.%N)
	# -display none, not -nographic: the serial port then carries only the guest's console
	# (no SeaBIOS screen escapes). romfile= skips the iPXE option ROM: direct kernel boot.
	ip netns exec "$ns" "${QEMU_PREFIX[@]}" "$QEMU" \
		-machine "q35,accel=$QEMU_ACCEL" -m 256 \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial stdio -monitor none \
		-kernel "$QEMU_KERNEL" -initrd "$QEMU_INITRD" \
		-append "console=ttyS0 quiet panic=-1 $guest" \
		"$@" \
		-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" \
		</dev/null >>"$log" 2>&1 &
	QEMU_PID=$!
	PIDS+=("$QEMU_PID")
}

# Seconds since the last qemu_boot.
qemu_elapsed() { printf '%.1f' "$(echo "$(date +%s.%N) - $QEMU_START" | bc)"; }

# qemu_wait LOG PATTERN TIMEOUT [PID]: waits until a line of LOG matches PATTERN (grep -E, the
# serial's \r removed). Returns 1 on timeout, or as soon as QEMU (PID, default the last booted)
# has exited without printing it.
qemu_wait() {
	local log=$1 pat=$2 timeout=$3 pid=${4:-$QEMU_PID} end
	end=$(($(date +%s) + timeout))
	while :; do
		tr -d '\r' <"$log" 2>/dev/null | grep -Eq -- "$pat" && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			tr -d '\r' <"$log" 2>/dev/null | grep -Eq -- "$pat" && return 0
			return 1
		fi
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# qemu_value LOG KEY: what follows "KEY " on the last line that starts with it.
qemu_value() { tr -d '\r' <"$1" | sed -n "s/^$2 //p" | tail -n 1; }

# qemu_wait_exit TIMEOUT [PID]: waits for QEMU to exit (the guest powers off after VNET-DONE);
# returns QEMU's exit status, 124 on timeout.
qemu_wait_exit() {
	local timeout=$1 pid=${2:-$QEMU_PID} end
	end=$(($(date +%s) + timeout))
	while kill -0 "$pid" 2>/dev/null; do
		[ "$(date +%s)" -lt "$end" ] || return 124
		sleep 0.1
	done
	wait "$pid"
}

# qemu_log LOG: the serial log, for a failure message.
qemu_log() {
	echo "--- $1 ---"
	tr -d '\r' <"$1" | tail -n 40
}
