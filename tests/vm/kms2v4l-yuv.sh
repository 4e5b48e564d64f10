#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# YUV composed by vkms straight into the capture buffer: NV12, YU12 and
# YUYV frames of known scenes (gradient, an ARGB overlay with alpha, the
# cursor) equal an exact BT.601 limited-range conversion of the RGB
# composition within 1 per sample (chroma: the mean of each pixel pair,
# from the even line for 4:2:0). The node reports that colorimetry. At
# an odd size the subsampled formats are not offered (and S_FMT falls
# back to XR24) while RGB capture still works. ffmpeg's v4l2 input picks
# yuv420p (YU12) by default and its frame is right.
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
W=320 H=240

capture() { capture_frame "$dev" "$@"; } # capture FOURCC FILE

# yuv_check FOURCC FILE: FILE is one frame in FOURCC of the composition in
# /tmp/expect.raw, each sample within 1 of the reference.
yuv_check() { yuv_like "$1" $W $H /tmp/expect.raw "$2"; }

for scene in gradient overlay cursor; do
	scene_start --mode ${W}x${H}@30 --expect /tmp/expect.raw "$scene"
	for fourcc in NV12 YU12 YUYV; do
		capture "$fourcc" /tmp/got.raw
		yuv_check "$fourcc" /tmp/got.raw ||
			fail "$scene $fourcc differs from the BT.601 conversion of the composition"
		info "$scene $fourcc: equals the reference conversion within 1"
	done
	if [ "$scene" = gradient ]; then
		# ffmpeg's v4l2 input, with no -input_format, takes YU12 now.
		out=$(timeout 60 ffmpeg -loglevel info -f v4l2 -i "$dev" -frames:v 3 \
			-f rawvideo -y /tmp/ff.raw 2>&1) || fail "ffmpeg -f v4l2: $out"
		grep -qE 'Video: rawvideo .*yuv420p' <<<"$out" ||
			fail "ffmpeg's default input format is not yuv420p: $(grep Video: <<<"$out")"
		tail -c $((W * H * 3 / 2)) /tmp/ff.raw >/tmp/got.raw
		yuv_check YU12 /tmp/got.raw || fail "ffmpeg's default capture differs from the composition"
		info "ffmpeg -f v4l2 by default: yuv420p, equal to the reference within 1"
	fi
	scene_stop
done

fmt=$(v4l2-ctl -d "$dev" -v pixelformat=NV12 --get-fmt-video)
grep -q "YCbCr/HSV Encoding: ITU-R 601" <<<"$fmt" || fail "NV12 does not report BT.601: $fmt"
grep -q "Quantization      : Limited Range" <<<"$fmt" || fail "NV12 does not report limited range: $fmt"

# An odd size: no subsampled format, RGB still streams.
scene_start --mode 321x241@30 --expect /tmp/expect.raw gradient
formats=$(v4l2-ctl -d "$dev" --list-formats)
grep -qE "'(NV12|YU12|YUYV)'" <<<"$formats" && fail "a subsampled format is offered at 321x241: $formats"
out=$(v4l2-ctl -d "$dev" -v pixelformat=NV12 --get-fmt-video)
grep -q "'XR24'" <<<"$out" || fail "S_FMT NV12 at 321x241 did not fall back to XR24: $out"
capture XR24 /tmp/got.raw
cmp -s /tmp/expect.raw /tmp/got.raw || fail "XR24 at 321x241 differs from the composition"
scene_stop
info "odd size: only unsubsampled formats, XR24 byte-exact"
info "PASS"
