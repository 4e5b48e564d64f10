#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A scanout driver's CRTC mirrored by the core (kms2v4l_mirror_init()):
# run in a VM whose display is QEMU's standard VGA (bochs-drm), Cirrus
# VGA (cirrus) or virtio-gpu, with our build of that driver. DRIVER is
# its DRM name.
# 1. Scenes committed by a KMS client (a solid colour, a gradient) are
#    captured byte for byte as the framebuffer holds them in XR24, with
#    alpha 0xff in AR24, and within 1 of the BT.601 reference in NV12,
#    YU12 and YUYV; the node names the driver's connector. ffmpeg's v4l2
#    input and a VNC viewer of v4l2vnc --device Virtual-1 (the output by
#    its name) get the gradient byte for byte. modetest sets another
#    mode while a client streams: SOURCE_CHANGE, the stream keeps its
#    size, and modetest's pattern is captured byte for byte.
# 1c. The cursor plane, where the CRTC has one, is blended into the frame
#    byte for byte as vkms would compose it.
# 2. fbcon: text written to the console shows in a capture equal, byte
#    for byte, to the fbdev framebuffer (/dev/fb0); cirrus's console is
#    RGB565, captured as such and, widened by the core, in XR24.
# 3. Flips between two colours at the mode's rate: every frame is one
#    colour (never two flips in one frame), sequence numbers count the
#    commits, so the colour of every frame follows from its sequence;
#    timestamps rise.
# 4. GStreamer's v4l2src and v4l2-compliance (-s, -f) on the node while a
#    client flips.
# 5. Unbinding the driver while a client streams ends the stream and
#    removes the node; binding it again brings the node back
#    and it captures. (The kernel log is scanned by vm-run.)
# With --short (the second driver), the solid scene, the conversions
# (AR24, YUV) and compliance -f, which are the core's and the same for every driver, are
# left to the first.
. "$(dirname "$0")/lib.sh"

drv=${1:?usage: kms2v4l-mirror.sh DRIVER [--short]}
short=${2:-}
node() { video_by_name "^$drv card[0-9]+ CRTC 0$"; }
dev=$(node) || fail "no kms2v4l node for $drv: $(cat /sys/class/video4linux/*/name 2>/dev/null)"
W=320 H=240
S=${K2V_TIME_SCALE:-1} # the debug kernel's time limits are scaled

# grab DEV FOURCC FILE: the stream's first frame (it shows the last commit).
grab() {
	timeout $((20 * S)) v4l2-ctl -d "$1" -v "pixelformat=$2" --stream-mmap=3 --stream-count=1 \
		--stream-to="$3" >/dev/null 2>&1 || fail "capturing $2 from $1"
}

# 1. scenes
scenes="solid:336699 gradient"
[ -z "$short" ] || scenes=gradient
for scene in $scenes; do
	scene_start --driver "$drv" --mode ${W}x${H}@30 --expect /tmp/expect.raw "$scene"
	grab "$dev" XR24 /tmp/got.raw
	cmp /tmp/expect.raw /tmp/got.raw >/dev/null ||
		fail "$scene XR24: $(cmp -l /tmp/expect.raw /tmp/got.raw | wc -l) bytes differ from the framebuffer"
	info "$scene: XR24 equals the framebuffer"
	if [ -z "$short" ]; then
		grab "$dev" AR24 /tmp/got.raw
		cmp /tmp/expect.raw /tmp/got.raw >/dev/null || fail "$scene AR24 differs from the framebuffer"
		info "$scene: AR24 equals the framebuffer"
	fi
	if [ -z "$short" ] && [ "$scene" = gradient ]; then
		for f in NV12 YU12 YUYV; do
			grab "$dev" "$f" /tmp/got.raw
			yuv_like "$f" $W $H /tmp/expect.raw /tmp/got.raw >/tmp/yuv.out ||
				fail "$scene $f: $(cat /tmp/yuv.out)"
			info "$scene: $(cat /tmp/yuv.out)"
		done
		# ffmpeg and v4l2vnc (by the output's name), unchanged
		timeout $((30 * S)) ffmpeg -loglevel error -f v4l2 -input_format bgr0 -i "$dev" -frames:v 1 \
			-f rawvideo -y /tmp/ff.raw {SCENE_FD}>&- </dev/null >/tmp/ff.out 2>&1 ||
			fail "ffmpeg -f v4l2 on $dev: $(tail -3 /tmp/ff.out)"
		cmp /tmp/expect.raw /tmp/ff.raw >/dev/null || fail "ffmpeg's frame differs from the framebuffer"
		ip link set lo up
		"$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc" --device Virtual-1 --port 5901 \
			>/tmp/vnc.log 2>&1 {SCENE_FD}>&- &
		vnc=$!
		wait_listen '127\.0\.0\.1:5901 ' "$vnc" /tmp/vnc.log
		"$KMS2V4L_BUILD/tests/vm/v4l2vnc-client" snapshot 127.0.0.1:5901 /tmp/vnc.raw >/tmp/vnc.out ||
			fail "VNC snapshot of $dev"
		"$KMS2V4L_BUILD/tests/vm/v4l2vnc-client" cmp /tmp/vnc.raw /tmp/expect.raw XR24 $W $H $((W * 4)) ||
			fail "the VNC viewer's frame differs from the framebuffer"
		kill $vnc
		wait $vnc 2>/dev/null || true
		info "$scene: ffmpeg -f v4l2 and a VNC viewer of v4l2vnc --device Virtual-1 get the framebuffer"
	fi
	conn=$(v4l2-ctl -d "$dev" -C drm_connectors | sed -n "s/.*: *//; s/'//gp")
	ls -d /sys/class/drm/card[0-9]*-"$conn" >/dev/null 2>&1 ||
		fail "the node names connector '$conn', which no card has"
	scene_stop
done
info "connector: $conn"

# 1c. a cursor plane (virtio-gpu's CRTC has one; bochs and cirrus none)
# is in the frames, blended over the primary plane as vkms blends it
if modetest -M "$drv" -p 2>/dev/null | awk '/[0-9] type:$/ { t = 1 } t && /value:/ { print $2; t = 0 }' |
	grep -qx 2; then
	scene_start --driver "$drv" --mode ${W}x${H}@30 --expect /tmp/expect.raw cursor
	grab "$dev" XR24 /tmp/got.raw
	cmp /tmp/expect.raw /tmp/got.raw >/dev/null ||
		fail "cursor scene XR24: $(cmp -l /tmp/expect.raw /tmp/got.raw | wc -l) bytes differ from the primary plane with the cursor blended"
	# the cursor is there: its 64x64 square at (10,10) differs from the background
	[ "$(od -An -v -tx4 -w4 -j $(((20 * W + 20) * 4)) -N 4 /tmp/got.raw)" != \
		"$(od -An -v -tx4 -w4 -j $(((200 * W + 200) * 4)) -N 4 /tmp/got.raw)" ] ||
		fail "cursor scene: no cursor in the frame"
	scene_stop
	info "cursor: the cursor plane blended over the frame, byte for byte"
fi

# 1b. modetest sets another mode while a client streams: the node queues
# SOURCE_CHANGE, the running stream keeps its size (its buffers wait),
# and a capture at the new size equals modetest's pattern byte for byte.
card=$(node_ids "$dev" | cut -d' ' -f2)
cur=$(v4l2-ctl -d "$dev" -V | sed -n 's|.*Width/Height *: *\([0-9]*\)/\([0-9]*\).*|\1x\2|p')
mt=800x600
[ "$cur" != $mt ] || mt=640x480
v4l2-ctl -d "$dev" --stream-mmap=3 --stream-count=100000 >/tmp/held.out 2>&1 &
held=$!
v4l2-ctl -d "$dev" --wait-for-event=source_change=0 >/tmp/event.log 2>&1 &
ev=$!
sleep 1
read -r mconn mcrtc < <("$TOOLS/kms-wb-check" --driver "$drv" ids) || fail "no connector and CRTC ids"
# modetest shows its pattern until a line comes on its stdin
rm -f /tmp/modetest.in
mkfifo /tmp/modetest.in
modetest -M "$drv" -s "$mconn@$mcrtc:$mt" </tmp/modetest.in >/tmp/modetest.log 2>&1 &
mtpid=$!
exec {mtin}>/tmp/modetest.in
wait_modetest "$card"
for _ in $(seq $((100 * S))); do kill -0 $ev 2>/dev/null || break; sleep 0.1; done
if kill -0 $ev 2>/dev/null; then
	kill $ev
	fail "no SOURCE_CHANGE on $dev after modetest set $mt (from $cur)"
fi
wait $ev || fail "waiting for SOURCE_CHANGE: $(cat /tmp/event.log)"
kill -0 $held 2>/dev/null || fail "the streaming client died at the modeset: $(tail -3 /tmp/held.out)"
kill $held
wait $held 2>/dev/null || true
"$TOOLS/kms-wb-check" --driver "$drv" dump /tmp/shown.raw $mt || fail "reading modetest's framebuffer"
timeout $((20 * S)) v4l2-ctl -d "$dev" -v "width=${mt%x*},height=${mt#*x},pixelformat=XR24" \
	--stream-mmap=3 --stream-count=1 --stream-to=/tmp/mt.raw >/dev/null 2>&1 ||
	fail "capturing modetest's pattern at $mt"
cmp /tmp/shown.raw /tmp/mt.raw >/dev/null ||
	fail "modetest's pattern: $(cmp -l /tmp/shown.raw /tmp/mt.raw | wc -l) bytes differ from its framebuffer"
echo >&$mtin
exec {mtin}>&-
wait $mtpid || fail "modetest: $(tail -3 /tmp/modetest.log)"
info "modetest set $mt while a client streamed $cur: SOURCE_CHANGE, the stream kept its size, modetest's pattern captured byte for byte"

# 2. fbcon (fbdev lit the CRTC again when the scene's client went)
echo 0 >/sys/class/graphics/fbcon/cursor_blink 2>/dev/null || true
printf '\033[2J\033[Hkms2v4l mirrors %s: the quick brown fox\n' "$drv" >/dev/tty1
sleep 1
read -r fw fh < <(tr ',' ' ' </sys/class/graphics/fb0/virtual_size)
stride=$(cat /sys/class/graphics/fb0/stride)
# fbdev's depth is the driver's preferred one: 32 bpp, or 16 (cirrus)
cpp=$((stride / fw))
case "$stride:$cpp" in
$((fw * 4)):4) fbfmt=XR24 ;;
$((fw * 2)):2) fbfmt=RGBP ;;
*) fail "fb0's stride $stride is not ${fw}x4 nor ${fw}x2" ;;
esac
grab "$dev" $fbfmt /tmp/con.raw
head -c $((stride * fh)) /dev/fb0 >/tmp/fb0.raw
[ "$(stat -c %s /tmp/con.raw)" = $((stride * fh)) ] ||
	fail "console capture has $(stat -c %s /tmp/con.raw) bytes, fb0 ${fw}x$fh"
cmp /tmp/fb0.raw /tmp/con.raw >/dev/null ||
	fail "console capture differs from /dev/fb0 in $(cmp -l /tmp/fb0.raw /tmp/con.raw | wc -l) bytes"
colours=$(head -c $((stride * 32)) /tmp/con.raw | od -An -v -tx$cpp -w$cpp | sort -u | wc -l)
[ "$colours" -ge 2 ] || fail "the console's first text lines are blank"
info "fbcon: ${fw}x$fh console in $fbfmt equals /dev/fb0 ($colours colours in its first lines)"
if [ $fbfmt = RGBP ]; then
	# and widened by the core into XR24: each 5/6-bit channel's bits
	# repeated into the low ones
	grab "$dev" XR24 /tmp/con32.raw
	python3 - /tmp/fb0.raw /tmp/con32.raw <<'PY' || fail "the console in XR24"
import struct, sys
fb0, got = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
n = len(fb0) // 2
if len(got) != 4 * n:
    sys.exit(f"{len(got)} bytes, expected {4 * n}")
want = bytearray(4 * n)
for i, (p,) in enumerate(struct.iter_unpack("<H", fb0)):
    r, g, b = p >> 11, (p >> 5) & 63, p & 31
    want[4 * i:4 * i + 3] = bytes(((b << 3) | (b >> 2), (g << 2) | (g >> 4), (r << 3) | (r >> 2)))
bad = sum(1 for i in range(n) if got[4 * i:4 * i + 3] != want[4 * i:4 * i + 3])
if bad:
    sys.exit(f"{bad} of {n} pixels differ from the RGB565 console widened")
PY
	info "fbcon: the RGB565 console captured in XR24 equals it widened, pixel for pixel"
fi

# 2b. damage: with partial frames, digits typed into one cell of the
# console cost about that cell, and every frame still equals the console
# outside the cell's line
if [ -z "$short" ]; then
	dbg=$(mirror_debugfs "$dev") || fail "$dev: no mirror debugfs folder"
	[ -r "$dbg/mirror_read_bytes" ] || fail "no $dbg/mirror_read_bytes"
	frame=$((stride * fh))
	b0=$(cat "$dbg/mirror_read_bytes") c0=$(cat "$dbg/mirror_copies") n0=$(cat "$dbg/mirror_copy_ns")
	printf '\033[?25l' >/dev/tty1
	(for i in $(seq 100); do printf '\033[3;1H%s' $((i % 10)) >/dev/tty1; sleep 0.1; done) &
	typer=$!
	timeout $((60 * S)) v4l2-ctl -d "$dev" -c partial_frames=1 -v pixelformat=XR24 --stream-mmap=3 \
		--stream-count=12 --stream-to=/tmp/part.raw >/tmp/part.out 2>&1 ||
		fail "partial-frame capture: $(tail -3 /tmp/part.out)"
	kill $typer 2>/dev/null || true
	wait $typer 2>/dev/null || true
	v4l2-ctl -d "$dev" -c partial_frames=0
	b=$(($(cat "$dbg/mirror_read_bytes") - b0)) c=$(($(cat "$dbg/mirror_copies") - c0))
	ns=$(($(cat "$dbg/mirror_copy_ns") - n0))
	head -c $frame /dev/fb0 >/tmp/fb0.raw
	python3 - /tmp/part.raw /tmp/fb0.raw "$stride" 32 64 <<'PY' || fail "partial frames"
import sys
part, fb0 = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
stride, y1, y2 = map(int, sys.argv[3:])
n = len(part) // len(fb0)
typed = set()
for i in range(n):
    f = part[i * len(fb0):(i + 1) * len(fb0)]
    if f[:y1 * stride] != fb0[:y1 * stride] or f[y2 * stride:] != fb0[y2 * stride:]:
        sys.exit(f"frame {i} differs from the console outside the typed line")
    if i >= 3:
        typed.add(f[y1 * stride:y2 * stride])
if len(typed) < 2:
    sys.exit("the partial frames never showed the typed cell change")
PY
	# three buffers get a whole frame each, then only what changed
	small=$(((b - 3 * frame) / (c - 3)))
	[ "$c" -ge 12 ] && [ "$small" -lt $((frame / 50)) ] ||
		fail "$c copies read $b bytes: $small per partial frame, a frame is $frame"
	# the copies took time, and less than the 12 s the capture lasted at most
	[ "$ns" -gt 0 ] && [ "$ns" -lt $((c * 1000000000)) ] ||
		fail "mirror_copy_ns: $c copies took $ns ns"
	info "partial frames: $c copies read $b bytes in $((ns / 1000)) us, $small per frame after the first three (a frame: $frame); every frame equals the console outside the typed line"
	printf '\033[?25h' >/dev/tty1
fi

# 3. flips, sequence by sequence
N=40
"$TOOLS/kms-scene" --driver "$drv" --mode 160x120@20 --hold 2 --flips 100 \
	--log /tmp/flips.log >/tmp/scene.out 2>&1 &
scene=$!
sleep 1
timeout $((60 * S)) v4l2-ctl -d "$dev" -v pixelformat=XR24 --stream-mmap=4 --stream-count=$N \
	--stream-to=/tmp/frames.raw --verbose >/tmp/cap.log 2>&1 || fail "capture: $(tail -5 /tmp/cap.log)"
wait $scene || fail "kms-scene: $(cat /tmp/scene.out)"
python3 - /tmp/cap.log /tmp/frames.raw 160 120 $N <<'PY' || fail "flips"
import re, sys
log, raw, w, h, n = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
seqs = [int(x) for x in re.findall(r"seq: *([0-9]+)", open(log).read())]
stamps = [float(x) for x in re.findall(r" ts: *([0-9.]+)", open(log).read())]
if len(seqs) != n:
    sys.exit(f"{len(seqs)} frames, expected {n}")
data = open(raw, "rb").read()
size = w * h * 4
colours = {bytes.fromhex("0020ff"): 0, bytes.fromhex("40ff00"): 1}  # B, G, R
parity, flipped = None, 0
for i, s in enumerate(seqs):
    frame = data[i * size:(i + 1) * size]
    px = set(frame[o:o + 3] for o in range(0, size, 4))
    if len(px) != 1:
        sys.exit(f"frame {i} (sequence {s}) shows {len(px)} colours: {sorted(p.hex() for p in px)[:4]}")
    c = colours.get(px.pop())
    if i and (s <= seqs[i - 1] or stamps[i] <= stamps[i - 1]):
        sys.exit(f"frame {i}: sequence {seqs[i - 1]} -> {s}, time {stamps[i - 1]} -> {stamps[i]}")
    if c is None:
        continue  # before the first flip
    flipped += 1
    if parity is None:
        parity = (s + c) % 2
    elif (s + c) % 2 != parity:
        sys.exit(f"frame {i} (sequence {s}) shows flip colour {c}: not the flip its sequence names")
if flipped < 20:
    sys.exit(f"only {flipped} frames showed a flip")
print(f"{flipped} frames of flips, each one colour, each the flip its sequence names")
PY

# 4. real clients while a client flips
"$TOOLS/kms-scene" --driver "$drv" --mode 160x120@20 --hold 0 --flips 100000 \
	--log /tmp/flips2.log >/tmp/scene2.out 2>&1 &
scene=$!
sleep 1
timeout $((60 * S)) gst-launch-1.0 -q v4l2src device="$dev" num-buffers=20 ! videoconvert ! \
	video/x-raw,format=I420 ! fakesink >/tmp/gst.out 2>&1 || fail "gst-launch: $(tail -5 /tmp/gst.out)"
info "gst v4l2src: 20 buffers"
compliance_clean "$dev" -s
[ -n "$short" ] || compliance_clean "$dev" -f
# the flip chain's framebuffers stay mapped by the mirror while a stream
# lasts, holding a reference; when their owner exits (removing them) the
# mirror lets go of them at its next frame, though the stream goes on
v4l2-ctl -d "$dev" --stream-mmap=4 --stream-count=100000 >/tmp/stream4.out 2>&1 &
streamer=$!
sleep 1
fbs=/sys/kernel/debug/dri/$card/framebuffer
grep -q 'allocated by = kms-scene' "$fbs" || fail "kms-scene's framebuffers are not in $fbs"
kill $scene
wait $scene 2>/dev/null || true
for _ in $(seq $((50 * S))); do
	grep -q 'allocated by = kms-scene' "$fbs" || break
	sleep 0.1
done
grep -q 'allocated by = kms-scene' "$fbs" &&
	fail "$((5 * S)) s after kms-scene exited, a stream still holds its framebuffers: $(grep -c '^framebuffer' "$fbs") in $fbs"
kill -0 $streamer 2>/dev/null || fail "the stream ended when kms-scene exited: $(tail -3 /tmp/stream4.out)"
kill $streamer
wait $streamer 2>/dev/null || true
info "kms-scene exited while a stream went on: its framebuffers were freed"

# 5. the driver goes while a client streams, and comes back
pci=$(basename "$(readlink -f "/sys/class/video4linux/${dev#/dev/}/device")")
drvdir=$(readlink -f "/sys/class/video4linux/${dev#/dev/}/device/driver")
v4l2-ctl -d "$dev" --stream-mmap=3 --stream-count=100000 >/tmp/stream.out 2>&1 &
streamer=$!
sleep 2
echo "$pci" >"$drvdir/unbind"
for _ in $(seq 100); do kill -0 $streamer 2>/dev/null || break; sleep 0.1; done
kill -0 $streamer 2>/dev/null && fail "the stream went on after the driver was unbound"
wait $streamer || true
grep -q '<' /tmp/stream.out || fail "no frame was streamed before the unbind: $(tail -3 /tmp/stream.out)"
node >/dev/null && fail "the node stayed after the driver was unbound"
echo "$pci" >"$drvdir/bind"
sleep 2
dev=$(node) || fail "no node after the driver was bound again"
grab "$dev" XR24 /tmp/again.raw
info "unbind while streaming: the stream ended, the node went; bound again: $dev captures"
info "PASS"
