#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Timing truth: kms-scene page-flips between two colours at every vblank
# and logs each flip's vblank sequence (from the KMS flip event). Every
# captured frame, placed at vblank (sequence base control + buffer
# sequence), shows the colour of the last flip completed at or before
# that vblank: never content from before a flip it claims to follow.
# Timestamps increase by whole frame periods.
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
W=320 H=240 HZ=30 N=90

"$TOOLS/kms-scene" --mode ${W}x${H}@$HZ --hold 2 --flips 120 --log /tmp/flips.log \
	>/tmp/scene.out 2>&1 &
scene=$!
sleep 1
v4l2-ctl -d "$dev" -v pixelformat=XR24 --stream-mmap=4 --stream-count=$N \
	--stream-to=/tmp/frames.raw --verbose >/tmp/cap.log 2>&1 || fail "capture: $(tail -5 /tmp/cap.log)"
wait $scene || fail "kms-scene: $(cat /tmp/scene.out)"
base=$(v4l2-ctl -d "$dev" -C sequence_base_vblank | sed -n 's/.*: *//p')
[ -n "$base" ] || fail "no sequence base control"

checked=$(check_flips /tmp/cap.log /tmp/frames.raw /tmp/flips.log $W $H $HZ $N "$base")
info "PASS: $checked frames match their flips; sequence base $base"
