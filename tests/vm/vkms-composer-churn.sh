#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 120 rounds of starting and stopping the composer's three users (CRC
# reader, kms2v4l capture, a short writeback loop) in random order while
# the others run. No writeback out-fence is ever left unsignalled, and
# afterwards each user still works on its own. The runner fails the test
# on any kernel complaint (an unbalanced vblank reference warns).
. "$(dirname "$0")/lib.sh"

ROUNDS=${CHURN_ROUNDS:-120}
crc=/sys/kernel/debug/dri/0/crtc-0/crc
dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
crcpid= cappid=
RANDOM=4242	# a fixed order, so that a failure can be replayed

toggle_crc() {
	if [ -n "$crcpid" ]; then
		kill $crcpid; wait $crcpid 2>/dev/null || true; crcpid=
	else
		echo auto >"$crc/control" && { cat "$crc/data" >/dev/null & crcpid=$!; }
	fi
}
toggle_cap() {
	if [ -n "$cappid" ]; then
		kill $cappid; wait $cappid 2>/dev/null || true; cappid=
	else
		v4l2-ctl -d "$dev" --stream-mmap=3 --stream-count=1000000 >/dev/null 2>&1 & cappid=$!
	fi
}
wb_burst() {
	out=$(timeout 60 "$TOOLS/kms-wb-loop" --mode 320x240@60 --frames 5 --check-every 1 2>&1) ||
		fail "round $1: writeback burst failed: $out"
}

for i in $(seq "$ROUNDS"); do
	case $((RANDOM % 3)) in
	0) toggle_crc ;;
	1) toggle_cap ;;
	2) wb_burst "$i" ;;
	esac
	[ $((i % 20)) = 0 ] && info "round $i"
done
[ -n "$crcpid" ] && toggle_crc
[ -n "$cappid" ] && toggle_cap
info "$ROUNDS rounds done"

# Each user alone still works.
wb_burst final
out=$(timeout 60 "$TOOLS/kms-wb-loop" --mode 320x240@60 --frames 30 2>&1) || fail "final writeback loop: $out"
echo auto >"$crc/control"
timeout 10 head -n 5 "$crc/data" >/tmp/crc.txt || fail "no CRC lines after the churn"
v4l2-ctl -d "$dev" --stream-mmap --stream-count=5 --verbose 2>&1 | grep -c 'seq:' | grep -qx 5 ||
	fail "capture of 5 frames after the churn"
info "PASS"
