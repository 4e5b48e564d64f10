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
# /tmp/expect.raw (XRGB8888), each sample within 1 of the reference.
yuv_check() {
	python3 - "$1" $W $H /tmp/expect.raw "$2" <<'PY'
import sys

fourcc, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rgb = open(sys.argv[4], "rb").read()
got = open(sys.argv[5], "rb").read()
size = {"NV12": w * h * 3 // 2, "YU12": w * h * 3 // 2, "YUYV": w * h * 2}[fourcc]
if len(got) != size:
    sys.exit(f"{fourcc}: {len(got)} bytes, expected {size}")


def px(x, y):
    o = (y * w + x) * 4
    return rgb[o + 2], rgb[o + 1], rgb[o]  # B, G, R, X in memory


def luma(r, g, b):
    return 16 + 219 * (0.299 * r + 0.587 * g + 0.114 * b) / 255


def chroma(x, y):
    (r0, g0, b0), (r1, g1, b1) = px(x, y), px(x + 1, y)
    r, g, b = (r0 + r1) / 2, (g0 + g1) / 2, (b0 + b1) / 2
    cb = 128 + 224 * (-0.168736 * r - 0.331264 * g + 0.5 * b) / 255
    cr = 128 + 224 * (0.5 * r - 0.418688 * g - 0.081312 * b) / 255
    return cb, cr


worst = 0
def check(what, value, want):
    global worst
    err = abs(value - want)
    worst = max(worst, err)
    if err > 1:
        sys.exit(f"{fourcc}: {what} is {value}, the reference {want:.2f}")


for y in range(h):
    for x in range(w):
        yv = got[y * w + x] if fourcc != "YUYV" else got[y * w * 2 + x * 2]
        check(f"Y({x},{y})", yv, luma(*px(x, y)))
for y in range(0 if fourcc == "YUYV" else 0, h, 1 if fourcc == "YUYV" else 2):
    for x in range(0, w, 2):
        cb, cr = chroma(x, y)
        if fourcc == "NV12":
            o = w * h + (y // 2) * w + x
            gcb, gcr = got[o], got[o + 1]
        elif fourcc == "YU12":
            o = w * h + (y // 2) * (w // 2) + x // 2
            gcb, gcr = got[o], got[o + w * h // 4]
        else:
            o = y * w * 2 + x * 2
            gcb, gcr = got[o + 1], got[o + 3]
        check(f"Cb({x},{y})", gcb, cb)
        check(f"Cr({x},{y})", gcr, cr)
print(f"{fourcc}: every sample within {worst:.2f} of the reference")
PY
}

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
