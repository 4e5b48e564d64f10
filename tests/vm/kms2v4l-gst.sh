#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# GStreamer's v4l2src (Debian 12's 1.22) keeps streaming across mode
# changes and renegotiates to the new size, as with an HDMI receiver:
#   a. one KMS client changing the mode, the CRTC on throughout (what a
#      compositor does when its output's mode changes): 640x480 -> 800x600;
#   b. one KMS client handing over to another: the CRTC goes off (fbdev
#      lights it again at its own mode) and comes back at another size:
#      800x600 -> (fbdev's) -> 640x480.
# gst-launch-1.0 v4l2src ! videoconvert ! fakesink, stopped with an EOS
# (-e, SIGINT): its caps must end at the new size, it must have passed
# buffers at that size, and it must exit 0.
# c. Encoders take the kernel's NV12 with no videoconvert: v4l2src (MMAP,
#    then io-mode=dmabuf) ! video/x-raw,format=NV12 ! x264enc, lossless
#    (quantizer 0): ffmpeg decodes frames byte-identical to the NV12
#    frame v4l2-ctl captures of the same static scene.
# d. a compositor changing its output's mode at run time: sway (wlroots'
#    DRM backend, pixman renderer) on vkms at 640x480, then
#    'swaymsg output Virtual-1 mode 800x600': v4l2src follows as in a,
#    and a frame captured afterwards shows sway's background at 800x600.
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"

# gst LOG: run the pipeline in the background, its -v output in LOG.
gst() {
	gst-launch-1.0 -e -v v4l2src device="$dev" ! videoconvert ! \
		fakesink name=sink silent=false {SCENE_FD}>&- >"$1" 2>&1 &
	GST=$!
}

# wait_buffers LOG WIDTH HEIGHT N: until N buffers passed after caps of
# WIDTHxHEIGHT reached the sink (up to 60 s).
buffers_at() {
	awk -v w="width=(int)$2," -v h="height=(int)$3," '
		/GstFakeSink:sink.GstPad:sink: caps = / { at = index($0, w) && index($0, h) }
		/last-message = chain/ { if (at) n++ }
		END { print n + 0 }' "$1"
}
wait_buffers() {
	for _ in $(seq 600); do
		[ "$(buffers_at "$@")" -ge "$4" ] && return 0
		kill -0 $GST 2>/dev/null || fail "gst-launch-1.0 exited: $(tail -5 "$1")"
		sleep 0.1
	done
	fail "no $4 buffers of $2x$3 through v4l2src in 60 s: $(grep -E 'caps =|WARN|ERROR' "$1" | tail -8)"
}

# end LOG: EOS, exit 0.
end() {
	kill -INT $GST
	wait $GST || fail "gst-launch-1.0 exited with $? after EOS: $(tail -5 "$1")"
	grep -q "ERROR" "$1" && fail "gst-launch-1.0 reported an error: $(grep ERROR "$1" | head -3)"
	return 0
}

# the sink's caps in order: "FORMAT WxH ..."
caps_seen() {
	awk '/GstFakeSink:sink.GstPad:sink: caps = / {
		f = $0; sub(/.*format=\(string\)/, "", f); sub(/,.*/, "", f)
		w = $0; sub(/.*width=\(int\)/, "", w); sub(/,.*/, "", w)
		h = $0; sub(/.*height=\(int\)/, "", h); sub(/,.*/, "", h)
		c = f " " w "x" h; if (c != last) printf "%s%s", sep, c; sep = ", "; last = c }' "$1"
}
# (an if, not "&&": under set -e a failing kill would end the trap, and
# the script, with status 1)
trap 'if [ -n "${GST:-}" ]; then kill -9 "$GST" 2>/dev/null || true; fi' EXIT

# a. a modeset by the same client, the CRTC on throughout
# (v4l2src must be streaming before the 8 s hold ends)
gst_ready
log=/tmp/gst-a.log
scene_start --mode 640x480@60 --hold 8 --then-mode 800x600@60 gradient
gst $log
wait_buffers $log 640 480 5
wait_buffers $log 800 600 10
end $log
scene_stop
info "a. modeset, CRTC on: v4l2src caps $(caps_seen $log), $(buffers_at $log 800 600) buffers after"

# b. a hand-over: off, fbdev, another client at another size
log=/tmp/gst-b.log
scene_start --mode 800x600@60 gradient
gst $log
wait_buffers $log 800 600 5
scene_stop
sleep 2
scene_start --mode 640x480@60 gradient
wait_buffers $log 640 480 10
end $log
scene_stop
info "b. hand-over: v4l2src caps $(caps_seen $log), $(buffers_at $log 640 480) buffers after"
# c. NV12 straight into x264enc, MMAP and DMABUF
scene_start --mode 320x240@60 gradient
capture_frame "$dev" NV12 /tmp/want.nv12
size=$((320 * 240 * 3 / 2))
[ "$(stat -c %s /tmp/want.nv12)" = $size ] || fail "v4l2-ctl's NV12 frame is not $size bytes"
for io in mmap dmabuf; do
	rm -f /tmp/enc.h264 /tmp/dec.nv12
	timeout 120 gst-launch-1.0 -q v4l2src device="$dev" io-mode=$io num-buffers=5 ! \
		video/x-raw,format=NV12 ! x264enc speed-preset=ultrafast pass=quant quantizer=0 ! \
		video/x-h264,stream-format=byte-stream ! filesink location=/tmp/enc.h264 \
		{SCENE_FD}>&- >/tmp/enc.log 2>&1 || fail "v4l2src io-mode=$io ! NV12 ! x264enc: $(tail -3 /tmp/enc.log)"
	timeout 60 ffmpeg -loglevel error -i /tmp/enc.h264 -frames:v 1 -f rawvideo -pix_fmt nv12 \
		-y /tmp/dec.nv12 {SCENE_FD}>&- || fail "ffmpeg cannot decode x264enc's stream ($io)"
	cmp -s /tmp/want.nv12 /tmp/dec.nv12 ||
		fail "io-mode=$io: the decoded frame differs from the node's NV12 ($(cmp /tmp/want.nv12 /tmp/dec.nv12 | head -1))"
	info "c. v4l2src io-mode=$io ! NV12 ! x264enc (lossless): the decoded frame equals the node's NV12"
done
scene_stop

# d. sway changes its output's mode
command -v sway >/dev/null || fail "sway is not installed (scripts/deps)"
export XDG_RUNTIME_DIR=/run/gst-sway
udev_start
rm -rf $XDG_RUNTIME_DIR
mkdir -m 0700 $XDG_RUNTIME_DIR
# sway refuses to run as root: it runs as nobody, and seatd (root) opens
# the card for it.
command -v seatd >/dev/null || fail "seatd is not installed (scripts/deps)"
seatd -u nobody -l error >/tmp/seatd.log 2>&1 &
SEATD=$!
for _ in $(seq 100); do [ -S /run/seatd.sock ] && break; sleep 0.1; done
[ -S /run/seatd.sock ] || fail "seatd did not start: $(cat /tmp/seatd.log)"
chown nobody $XDG_RUNTIME_DIR
cat >$XDG_RUNTIME_DIR/config <<'EOF2'
output Virtual-1 mode 640x480 bg #336699 solid_color
default_border none
EOF2
setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=$XDG_RUNTIME_DIR \
	WLR_BACKENDS=drm WLR_RENDERER=pixman WLR_DRM_DEVICES=$(vkms_card) LIBSEAT_BACKEND=seatd \
	sway -c $XDG_RUNTIME_DIR/config >/tmp/sway.log 2>&1 &
SWAY=$!
trap 'if [ -n "${GST:-}" ]; then kill -9 "$GST" 2>/dev/null || true; fi
if [ -n "${SWAY:-}" ]; then kill "$SWAY" 2>/dev/null || true; fi
if [ -n "${SEATD:-}" ]; then kill "$SEATD" 2>/dev/null || true; fi
udevadm control --exit 2>/dev/null || true' EXIT
# the mode of the CRTC, as the node's DV timings say
shown() { v4l2-ctl -d "$dev" --query-dv-timings 2>/dev/null | awk '/Active width:/ { w = $3 } /Active height:/ { h = $3 } END { print w "x" h }'; }
for _ in $(seq $((600 * ${K2V_TIME_SCALE:-1}))); do
	[ "$(shown)" = 640x480 ] && ls $XDG_RUNTIME_DIR/sway-ipc.* >/dev/null 2>&1 && break
	kill -0 $SWAY 2>/dev/null || fail "sway exited: $(tail -5 /tmp/sway.log)"
	sleep 0.1
done
[ "$(shown)" = 640x480 ] || fail "sway did not set 640x480 (the node shows '$(shown)'): $(tail -5 /tmp/sway.log)"
export SWAYSOCK=$(ls $XDG_RUNTIME_DIR/sway-ipc.*)
log=/tmp/gst-d.log
gst $log
wait_buffers $log 640 480 5
swaymsg output Virtual-1 mode 800x600 >/tmp/swaymsg.log 2>&1 || fail "swaymsg: $(cat /tmp/swaymsg.log)"
wait_buffers $log 800 600 10
end $log
GST=
# sway drew the new mode: its background in the middle of a frame
v4l2-ctl -d "$dev" -v width=800,height=600,pixelformat=XR24 --stream-mmap=3 --stream-count=1 \
	--stream-skip=2 --stream-to=/tmp/sway.raw >/dev/null 2>&1 || fail "capturing 800x600 from $dev"
px=$(od -An -tx1 -j $(((300 * 800 + 400) * 4)) -N3 /tmp/sway.raw | awk '{ print $3 $2 $1 }')
[ "$px" = 336699 ] || fail "the 800x600 frame shows $px in its middle, not sway's background 336699"
info "d. sway's mode change: v4l2src caps $(caps_seen $log), $(buffers_at $log 800 600) buffers after; the frame shows sway's background"
info "PASS"
