#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc --gst on vivid, five runs:
# - frames go as dma-bufs (EXPBUF) into 'appsrc ! videoconvert ! I420 !
#   x264enc ! mp4mux ! filesink'; SIGINT sends EOS, the file is finished and
#   gst-discoverer-1.0 reports 640x480 H.264;
# - a sink syncing to the pipeline clock (fakesink sync=true, max-lateness
#   50 ms) drops almost no frame as late: vivid's V4L2 timestamps become
#   running times the sink finds on time (a wrong clock or unit would make
#   every frame early or late; start-up lateness itself is guarded by
#   unit.gst-sink-test, as v4l2vnc's start-up here is shorter than one
#   frame of latency plus 50 ms);
# - an encoder that refuses the format (XR24 into x264enc, no videoconvert)
#   ends v4l2vnc at once (well under the old 10 s EOS wait), exit status 1,
#   with the element's error;
# - a pipeline holding 6 frames (a queue, like an encoder's look-ahead)
#   gets copies under --gst-hold copy (the default) and counted drops
#   under --gst-hold drop, never silently nothing;
# - with --no-vnc and no --format the pipeline picks the format: vivid
#   offers NV12, x264enc takes it, so 'appsrc ! x264enc ! mp4mux' needs no
#   videoconvert; the log names NV12, the file is 640x480 H.264 and its
#   decoded colour bars have the right chroma; a pipeline that takes
#   nothing v4l2vnc can give ends with exit status 1 naming both.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
out=/tmp/v4l2vnc.mp4
# The guest's root is read-only: keep GStreamer's plugin registry in the
# build tree, or every boot rescans all plugins (slow under TCG).
export GST_REGISTRY=$KMS2V4L_BUILD/vm-gst-registry.bin

gst-inspect-1.0 x264enc >/dev/null 2>&1 || skip "no x264enc (gstreamer1.0-plugins-ugly)"
dev=$(vivid_node) || fail "no vivid capture node"

# gst_stat LOG FIELD: a number from the exit statistics' gst part, e.g.
# "pushed", "dma-buf", "copied while buffers held", "buffers held", "late
# in the pipeline", "pipeline lagging".
gst_stat() {
	grep 'statistics (exit)' "$1" | sed 's/.*; gst: //' |
		sed -n "s/.*$2 \([0-9]*\).*/\1/p" | head -1
}

# --- 1: x264 into an MP4 file, as dma-bufs, stopped by SIGINT.
"$V" --device "$dev" --format XR24 --size 640x480 --no-vnc \
	--gst "videoconvert ! video/x-raw,format=I420 ! x264enc speed-preset=ultrafast tune=zerolatency ! mp4mux ! filesink location=$out" \
	2>/tmp/v4l2vnc.log &
pid=$!
for i in $(seq 200); do
	grep -q "feeding $dev" /tmp/v4l2vnc.log && break
	kill -0 "$pid" 2>/dev/null || { cat /tmp/v4l2vnc.log; fail "v4l2vnc exited early"; }
	sleep 0.2
done
# Run until some frames went through, then stop it like a user would.
for i in $(seq 100); do
	sleep 0.3
	kill -USR1 "$pid" 2>/dev/null || { cat /tmp/v4l2vnc.log; fail "v4l2vnc exited early"; }
	sleep 0.2
	n=$(sed -n 's/.*gst: pushed \([0-9]*\).*/\1/p' /tmp/v4l2vnc.log | tail -1)
	[ "${n:-0}" -ge 10 ] && break
done
kill -INT "$pid"
wait "$pid" || { cat /tmp/v4l2vnc.log; fail "v4l2vnc exit status $? after SIGINT"; }
cat /tmp/v4l2vnc.log
grep -q 'statistics (exit)' /tmp/v4l2vnc.log || fail "no exit statistics"
pushed=$(gst_stat /tmp/v4l2vnc.log pushed)
dmabuf=$(gst_stat /tmp/v4l2vnc.log dma-buf)
held=$(gst_stat /tmp/v4l2vnc.log "buffers held")
[ "${pushed:-0}" -ge 10 ] || fail "only '${pushed}' frames reached GStreamer"
# Copies are allowed (zerolatency x264 may hold two frames at times), a
# frame lost to the holds is not (--gst-hold copy is the default).
[ "${dmabuf:-0}" -ge $((pushed / 2)) ] || fail "only $dmabuf of $pushed frames went as dma-buf"
[ "$held" = 0 ] || fail "$held frames dropped because buffers were held (--gst-hold copy)"

gst-discoverer-1.0 "$out" >/tmp/disc.txt 2>&1 || { cat /tmp/disc.txt; fail "gst-discoverer-1.0 cannot read $out"; }
cat /tmp/disc.txt
grep -q 'Width: 640' /tmp/disc.txt || fail "width is not 640"
grep -q 'Height: 480' /tmp/disc.txt || fail "height is not 480"
grep -qi 'H.264' /tmp/disc.txt || fail "not H.264"
info "x264: $pushed frames, $dmabuf as dma-buf, $out is 640x480 H.264"

# --- 2: frames on time against the pipeline clock.  fakesink syncs each
# buffer to its PTS (running time) plus the latency (one frame) and drops
# those later than 50 ms, posting QoS messages, which v4l2vnc counts
# ("late in the pipeline").
"$V" --device "$dev" --format XR24 --size 640x480 --no-vnc --frames 40 \
	--gst "fakesink sync=true qos=true max-lateness=50000000" 2>/tmp/late.log ||
	{ cat /tmp/late.log; fail "v4l2vnc with fakesink sync=true failed"; }
cat /tmp/late.log
pushed=$(gst_stat /tmp/late.log pushed)
late=$(gst_stat /tmp/late.log "late in the pipeline")
[ "${pushed:-0}" -ge 30 ] || fail "only '$pushed' frames reached GStreamer"
[ -n "$late" ] || fail "no late count in the statistics"
[ "$late" -le $((pushed / 10)) ] || fail "$late of $pushed frames came too late to fakesink sync=true"
info "latency: $late of $pushed frames late by more than 50 ms"

# --- 3: an encoder that refuses the format ends v4l2vnc at once.
start=$(date +%s%N)
"$V" --device "$dev" --format XR24 --size 640x480 --no-vnc \
	--gst "x264enc ! mp4mux ! filesink location=/tmp/refused.mp4" 2>/tmp/refused.log &
pid=$!
t0=
for i in $(seq 300); do
	[ -z "$t0" ] && grep -q "feeding $dev" /tmp/refused.log && t0=$(date +%s%N)
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
t1=$(date +%s%N)
kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; cat /tmp/refused.log; fail "v4l2vnc still runs 30 s after a pipeline error"; }
status=0
wait "$pid" || status=$?
cat /tmp/refused.log
[ "$status" = 1 ] || fail "exit status $status after a pipeline error (want 1)"
grep -q -- '--gst: .*not-negotiated' /tmp/refused.log || fail "the element's error is not printed"
ms=$(((t1 - ${t0:-$start}) / 1000000))
info "refused format: exit $status ${ms} ms after 'feeding'"
[ "$ms" -lt 3000 ] || fail "v4l2vnc took $ms ms to exit after the pipeline failed"

# --- 4 and 5: a pipeline that keeps 5 frames back (queue with a
# threshold of 6) holds all spare V4L2 buffers (4, two stay with vivid).
hold_pipe="queue min-threshold-buffers=6 max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! fakesink enable-last-sample=false"
"$V" --device "$dev" --format XR24 --size 640x480 --no-vnc --frames 30 --gst "$hold_pipe" \
	2>/tmp/copy.log || { cat /tmp/copy.log; fail "v4l2vnc --gst-hold copy failed"; }
cat /tmp/copy.log
copied=$(gst_stat /tmp/copy.log "copied while buffers held")
held=$(gst_stat /tmp/copy.log "buffers held")
dmabuf=$(gst_stat /tmp/copy.log dma-buf)
[ "${copied:-0}" -ge 5 ] || fail "--gst-hold copy: only '$copied' frames copied while buffers were held"
[ "$held" = 0 ] || fail "--gst-hold copy: $held frames dropped for holds"
[ "${dmabuf:-0}" -ge 2 ] || fail "--gst-hold copy: only '$dmabuf' frames as dma-buf"
grep -q 'frames are copied while it does (--gst-hold copy)' /tmp/copy.log || fail "no note about copying"

"$V" --device "$dev" --format XR24 --size 640x480 --no-vnc --frames 30 --gst "$hold_pipe" \
	--gst-hold drop 2>/tmp/drop.log || { cat /tmp/drop.log; fail "v4l2vnc --gst-hold drop failed"; }
cat /tmp/drop.log
held=$(gst_stat /tmp/drop.log "buffers held")
copied=$(gst_stat /tmp/drop.log "copied while buffers held")
[ "${held:-0}" -ge 5 ] || fail "--gst-hold drop: only '$held' frames dropped for holds"
[ "$copied" = 0 ] || fail "--gst-hold drop: $copied frames copied"
grep -q 'frames are dropped while it does (--gst-hold drop' /tmp/drop.log || fail "no note about dropping"
# --- 6: no videoconvert, no --format: v4l2vnc asks x264enc and sets the
# node to NV12; frames go as dma-bufs, --frames ends with EOS.
out6=/tmp/v4l2vnc-nv12.mp4
rm -f "$out6"
timeout 120 "$V" --device "$dev" --size 640x480 --no-vnc --frames 40 \
	--gst "x264enc speed-preset=ultrafast tune=zerolatency ! mp4mux ! filesink location=$out6" \
	2>/tmp/nv12.log || { cat /tmp/nv12.log; fail "v4l2vnc --no-vnc --gst 'x264enc ! ...' failed"; }
cat /tmp/nv12.log
grep -qF "$dev: NV12 640x480 for the pipeline (its first element takes NV12)" /tmp/nv12.log ||
	fail "the log does not say NV12 was chosen for the pipeline"
grep -qF "$dev: NV12 640x480 stride" /tmp/nv12.log || fail "the node was not set to NV12 640x480"
pushed=$(gst_stat /tmp/nv12.log pushed)
dmabuf=$(gst_stat /tmp/nv12.log dma-buf)
[ "${pushed:-0}" -ge 30 ] || fail "NV12: only '$pushed' frames reached GStreamer"
[ "${dmabuf:-0}" -ge $((pushed / 2)) ] || fail "NV12: only $dmabuf of $pushed frames went as dma-buf"
gst-discoverer-1.0 "$out6" >/tmp/disc6.txt 2>&1 || { cat /tmp/disc6.txt; fail "gst-discoverer-1.0 cannot read $out6"; }
cat /tmp/disc6.txt
grep -q 'Width: 640' /tmp/disc6.txt || fail "NV12: width is not 640"
grep -q 'Height: 480' /tmp/disc6.txt || fail "NV12: height is not 480"
grep -qi 'H.264' /tmp/disc6.txt || fail "NV12: not H.264"
# Decode one frame and look at vivid's 75% colour bars (8 bars of 80
# pixels: white, yellow, cyan, green, magenta, red, blue, black) on line
# 240, below vivid's text: yellow's Cb is low (~44), blue's high (~212),
# white's near 128.  NV12 in the file: Y, then CbCr pairs.
timeout 60 ffmpeg -loglevel error -i "$out6" -frames:v 1 -f rawvideo -pix_fmt nv12 \
	-y /tmp/nv12-dec.raw || fail "ffmpeg cannot decode $out6"
[ "$(stat -c %s /tmp/nv12-dec.raw)" = $((640 * 480 * 3 / 2)) ] || fail "decoded frame is not 640x480 NV12"
cb_at() { od -An -tu1 -j $((640 * 480 + 120 * 640 + $1)) -N1 /tmp/nv12-dec.raw | tr -d ' '; }
cb_white=$(cb_at 40) cb_yellow=$(cb_at 120) cb_blue=$(cb_at 520)
info "decoded Cb on line 240: white $cb_white, yellow $cb_yellow, blue $cb_blue"
[ "$cb_yellow" -lt 90 ] && [ "$cb_blue" -gt 170 ] &&
	[ "$cb_white" -gt 110 ] && [ "$cb_white" -lt 146 ] ||
	fail "decoded chroma is not vivid's colour bars (plane layout wrong?)"
info "NV12: $pushed frames ($dmabuf dma-buf) into x264enc without videoconvert, $out6 is 640x480 H.264"

# --- 7: nothing v4l2vnc can give the first element (vivid's NV21 is not
# among v4l2vnc's formats): exit status 1 at once, naming device and pipeline.
status=0
timeout 60 "$V" --device "$dev" --size 640x480 --no-vnc \
	--gst "video/x-raw,format=NV21 ! fakesink" 2>/tmp/nomatch.log || status=$?
cat /tmp/nomatch.log
[ "$status" = 1 ] || fail "exit status $status when the pipeline takes no format (want 1)"
grep -qF "$dev: the pipeline 'appsrc ! video/x-raw,format=NV21 ! fakesink' takes none" /tmp/nomatch.log ||
	fail "the error does not name the device and the pipeline"
info "no matching format: exit 1 with the device and the pipeline named"
modprobe -r vivid || fail "modprobe -r vivid"
info "PASS"
