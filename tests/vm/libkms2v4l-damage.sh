#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Frames carry what changed, and v4l2vnc hashes only that: libkms2v4l
# fills frame.damage from kms2v4l's damage node, and v4l2vnc hashes
# (and sends) only the tiles inside it (before, every tile of every
# frame).  v4l2-damage-check drives vkms's CRTC at 640x480 (no capture
# of its own): a 1 % square (64x48) moving at every vblank, flipped with
# FB_DAMAGE_CLIPS, then full-screen flips without clips.
# 1. libkms2v4l-damage: under the square, every pixel that changed since
#    the frame before lies in the frame's damage, the first frame is
#    whole, at least 20 changed frames have damage smaller than the
#    whole frame (none above an eighth of it); under full-screen flips
#    every frame is whole or unchanged.
# 2. v4l2vnc's statistics: under the square, most frames have damage
#    less than the whole frame and the tiles hashed per frame are at
#    most a tenth of those under full-screen flips, which hash every
#    tile (20x15 = 300) as before.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
D=$KMS2V4L_BUILD/tests/vm/libkms2v4l-damage
W=640
H=480
TILES=$((((W + 31) / 32) * ((H + 31) / 32)))

ip link set lo up || fail "ip link set lo up"
dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
video_by_name '^vkms card[0-9]+ CRTC 0 damage$' >/dev/null || fail "no damage node beside $dev"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT

# drive square|full: v4l2-damage-check's bench flips on the CRTC, until
# undrive; waits until the node has the mode, then 2 s more (its first
# flips follow a redraw of the shown buffer that no damage names).
drive() {
	"$TOOLS/v4l2-damage-check" --no-capture --mode ${W}x${H}@30 "bench-$1" 600 "$dev" \
		>"/tmp/drive-$1.out" 2>&1 &
	DRIVE=$!
	pids+=("$DRIVE")
	local t
	for _ in $(seq 100); do
		t=$(v4l2-ctl -d "$dev" --query-dv-timings 2>&1 || true)
		grep -q "Active width: $W\$" <<<"$t" && grep -q "Active height: $H\$" <<<"$t" && break
		kill -0 "$DRIVE" 2>/dev/null || fail "v4l2-damage-check bench-$1: $(cat "/tmp/drive-$1.out")"
		sleep 0.2
	done
	grep -q "Active height: $H\$" <<<"$t" ||
		fail "$dev did not get the ${W}x${H} mode of bench-$1: $t"
	sleep 2
	kill -0 "$DRIVE" 2>/dev/null || fail "v4l2-damage-check bench-$1: $(cat "/tmp/drive-$1.out")"
}
undrive() {
	kill "$DRIVE" 2>/dev/null || true
	wait "$DRIVE" 2>/dev/null || true
}

# vnc_tiles square|full: v4l2vnc on the node for 8 s after a 3 s start;
# sets FRAMES, HASHED and DAMAGED (frames with damage less than the
# whole frame) over those 8 s.
vnc_tiles() {
	local log=/tmp/v4l2vnc-$1.log s0 s1 vnc
	"$V" --device "$dev" --port 5901 >"$log" 2>&1 &
	vnc=$!
	pids+=("$vnc")
	wait_listen '127\.0\.0\.1:5901 ' "$vnc" "$log"
	sleep 3
	s0=$(v4l2vnc_stats "$vnc" "$log")
	sleep 8
	s1=$(v4l2vnc_stats "$vnc" "$log")
	if [ "$s0" = stuck ] || [ "$s1" = stuck ]; then
		cat "$log"
		fail "v4l2vnc ($1) gave no statistics"
	fi
	stop_within "$vnc" 10
	info "v4l2vnc $1: $s1"
	grep -q "XR24 ${W}x${H}" <<<"$s1" || { cat "$log"; fail "v4l2vnc ($1) did not stream ${W}x${H} XR24"; }
	FRAMES=$(($(stat_field "$s1" frames) - $(stat_field "$s0" frames)))
	HASHED=$(($(stat_field "$s1" "tiles hashed") - $(stat_field "$s0" "tiles hashed")))
	DAMAGED=$(($(stat_field "$s1" "with damage") - $(stat_field "$s0" "with damage")))
	info "v4l2vnc $1: $FRAMES frames, $HASHED tiles hashed, $DAMAGED with damage, in 8 s"
	[ "$FRAMES" -ge 20 ] || { cat "$log"; fail "v4l2vnc ($1): only $FRAMES frames in 8 s"; }
}

drive square
"$D" square 150 "$dev" || fail "libkms2v4l-damage square"
vnc_tiles square
sq_frames=$FRAMES sq_hashed=$HASHED sq_damaged=$DAMAGED
undrive

drive full
"$D" full 60 "$dev" || fail "libkms2v4l-damage full"
vnc_tiles full
full_frames=$FRAMES full_hashed=$HASHED
undrive

# per frame, in hundredths
sq=$((sq_hashed * 100 / sq_frames))
full=$((full_hashed * 100 / full_frames))
info "tiles hashed per frame: square $((sq / 100)).$(printf %02d $((sq % 100))), full $((full / 100)).$(printf %02d $((full % 100))) (of $TILES)"
[ $((sq_damaged * 2)) -ge "$sq_frames" ] ||
	fail "v4l2vnc: only $sq_damaged of $sq_frames frames of the moving square had damage less than the whole frame"
[ "$full" -ge $((TILES * 90)) ] ||
	fail "v4l2vnc: full-screen flips hashed $full/100 tiles per frame, not all $TILES"
[ $((sq * 10)) -le "$full" ] ||
	fail "v4l2vnc: the moving square hashed $sq/100 tiles per frame, more than a tenth of full frames' $full/100"
info "PASS"
