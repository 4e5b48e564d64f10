#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vkms's composer serves three users at once without stalling any: a
# writeback loop (one commit per frame, 1 s limit per out-fence) runs
# for 45 s at 640x480 (four 10 s windows, however fast this machine
# composes: a frame count ended in two windows on an idle one) with
# every fence signalled and at least 100 frames, while a CRC reader
# keeps receiving new frame numbers and a kms2v4l capture client keeps
# dequeuing buffers with increasing sequence numbers, all three
# progressing in every 10 s window of the run.
. "$(dirname "$0")/lib.sh"

SECS=${WB_SECONDS:-45}
crc=/sys/kernel/debug/dri/0/crtc-0/crc
dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"

timeout 600 "$TOOLS/kms-wb-loop" --mode 640x480@60 --seconds "$SECS" --check-every 100 \
	>/tmp/wb.log 2>&1 &
wb=$!
sleep 3
echo auto >"$crc/control" || fail "cannot select the CRC source"
# each CRC line is followed by a NUL (drm's fixed-length lines): drop them
cat "$crc/data" | tr -d '\0' >/tmp/crc.log &
crcpid=$!
v4l2-ctl -d "$dev" --stream-mmap=4 --stream-count=1000000 --verbose >/tmp/cap.log 2>&1 &
cap=$!

count() { grep -c "$2" "$1" 2>/dev/null || true; }
last_crc=0 last_cap=0 windows=0
while kill -0 $wb 2>/dev/null; do
	sleep 10
	kill -0 $wb 2>/dev/null || break
	c=$(wc -l </tmp/crc.log) s=$(count /tmp/cap.log 'seq:')
	[ "$c" -gt "$last_crc" ] || fail "CRC reader stalled ($c lines, $last_crc 10 s ago)"
	[ "$s" -gt "$last_cap" ] || fail "capture stalled ($s frames, $last_cap 10 s ago)"
	last_crc=$c last_cap=$s windows=$((windows + 1))
done
rc=0
wait $wb || rc=$?
kill $crcpid $cap 2>/dev/null || true
pkill -x cat || true
wait 2>/dev/null || true
cat /tmp/wb.log
[ $rc = 0 ] || fail "writeback loop failed (rc $rc): $(cat /tmp/wb.log)"
frames=$(sed -n 's/^frames \([0-9]*\) unsignalled 0 mismatched 0 .*/\1/p' /tmp/wb.log)
[ -n "$frames" ] || fail "writeback loop: $(cat /tmp/wb.log)"
[ "$frames" -ge 100 ] || fail "only $frames writeback frames in $SECS s"

# CRC frame numbers strictly increase; capture sequences strictly increase.
# (the frame numbers are hex: printf converts them, mawk cannot)
# (whole lines only: the reader was killed, its last line may be cut)
grep -aE '^0x[0-9a-f]{8} 0x[0-9a-f]{8}$' /tmp/crc.log | cut -d' ' -f1 | xargs printf '%d\n' >/tmp/crc.frames
awk 'NR > 1 && $1 <= p { print "line " NR ": frame " $1 " after " p; exit 1 } { p = $1 }' /tmp/crc.frames >/tmp/crc.bad ||
	fail "CRC frame numbers do not increase: $(cat /tmp/crc.bad); around it: $(grep -n -m1 -B2 -A2 "^$(awk '{print $4}' /tmp/crc.bad)\$" /tmp/crc.frames | tr '\n' ' ')"
sed -n 's/.*seq: *\([0-9]*\).*/\1/p' /tmp/cap.log | awk 'NR > 1 && $1 <= p { exit 1 } { p = $1 }' ||
	fail "capture sequence numbers do not increase"
[ "$windows" -ge 3 ] || fail "only $windows 10 s windows: the three users were hardly concurrent"
info "PASS: $frames writeback frames in $SECS s, $last_crc CRC lines, $last_cap captured frames, $windows windows"
