#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc --gst: vivid frames go as dma-bufs (EXPBUF) into
# 'appsrc ! videoconvert ! I420 ! x264enc ! mp4mux ! filesink'; SIGINT sends EOS,
# the file is finished and gst-discoverer-1.0 reports 640x480 H.264.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
out=/tmp/v4l2vnc.mp4
# The guest's root is read-only: keep GStreamer's plugin registry in the
# build tree, or every boot rescans all plugins (slow under TCG).
export GST_REGISTRY=$KMS2V4L_BUILD/vm-gst-registry.bin

gst-inspect-1.0 x264enc >/dev/null 2>&1 || skip "no x264enc (gstreamer1.0-plugins-ugly)"
dev=$(vivid_node) || fail "no vivid capture node"

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
last=$(grep 'statistics (exit)' /tmp/v4l2vnc.log) || fail "no exit statistics"
pushed=$(echo "$last" | sed -n 's/.*gst: pushed \([0-9]*\) (dma-buf \([0-9]*\)).*/\1/p')
dmabuf=$(echo "$last" | sed -n 's/.*gst: pushed \([0-9]*\) (dma-buf \([0-9]*\)).*/\2/p')
[ "${pushed:-0}" -ge 10 ] || fail "only '${pushed}' frames reached GStreamer"
[ "$dmabuf" = "$pushed" ] || fail "only $dmabuf of $pushed frames went as dma-buf"

gst-discoverer-1.0 "$out" >/tmp/disc.txt 2>&1 || { cat /tmp/disc.txt; fail "gst-discoverer-1.0 cannot read $out"; }
cat /tmp/disc.txt
grep -q 'Width: 640' /tmp/disc.txt || fail "width is not 640"
grep -q 'Height: 480' /tmp/disc.txt || fail "height is not 480"
grep -qi 'H.264' /tmp/disc.txt || fail "not H.264"
modprobe -r vivid || fail "modprobe -r vivid"
info "PASS: $pushed frames as dma-buf, $out is 640x480 H.264"
