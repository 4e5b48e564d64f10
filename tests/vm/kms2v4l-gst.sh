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
info "PASS"
