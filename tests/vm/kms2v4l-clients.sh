#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real clients read the kms2v4l node: gst-launch-1.0 v4l2src (MMAP and
# dmabuf io-modes) and ffmpeg -f v4l2 write frames equal, byte for byte,
# to the composition of a known scene; and modetest's own pattern, shown
# at 1024x768, is captured equal to the framebuffer modetest shows.
. "$(dirname "$0")/lib.sh"
# A client that waits forever for a frame is a failure with a reason, not
# a VM killed at its time limit: every client runs under timeout 60.

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
W=320 H=240
scene_start --mode ${W}x${H}@30 --expect /tmp/expect.raw gradient

for io in mmap dmabuf; do
	rm -f /tmp/gst.raw
	timeout 60 gst-launch-1.0 -q v4l2src device="$dev" io-mode=$io num-buffers=4 ! \
		video/x-raw,format=BGRx,width=$W,height=$H ! filesink location=/tmp/gst.raw ||
		fail "gst-launch-1.0 v4l2src io-mode=$io"
	[ "$(stat -c %s /tmp/gst.raw)" = $((4 * W * H * 4)) ] || fail "gst io-mode=$io wrote $(stat -c %s /tmp/gst.raw) bytes"
	tail -c $((W * H * 4)) /tmp/gst.raw | cmp - /tmp/expect.raw ||
		fail "gst io-mode=$io frame differs from the expected composition"
	info "gst-launch-1.0 v4l2src io-mode=$io: frame equals the composition"
done

rm -f /tmp/ff.raw
timeout 60 ffmpeg -loglevel error -f v4l2 -input_format bgr0 -i "$dev" -frames:v 3 -f rawvideo -pix_fmt bgr0 /tmp/ff.raw ||
	fail "ffmpeg -f v4l2"
tail -c $((W * H * 4)) /tmp/ff.raw | cmp - /tmp/expect.raw || fail "ffmpeg frame differs from the expected composition"
info "ffmpeg -f v4l2: frame equals the composition"
scene_stop

# modetest's pattern through the node, against the framebuffer it shows.
read -r conn crtc < <("$TOOLS/kms-wb-check" ids)
exec {mt}> >(sleep 60 | modetest -M vkms -s "$conn@$crtc:1024x768" >/tmp/modetest.log 2>&1)
wait_modetest
"$TOOLS/kms-wb-check" dump /tmp/shown.raw 1024x768 || fail "reading modetest's framebuffer"
timeout 60 v4l2-ctl -d "$dev" -v width=1024,height=768,pixelformat=XR24 --stream-mmap=3 --stream-count=1 \
	--stream-skip=2 --stream-to=/tmp/mt.raw || fail "capturing modetest's pattern"
cmp /tmp/mt.raw /tmp/shown.raw || fail "captured frame differs from modetest's framebuffer"
exec {mt}>&-
info "PASS"
