#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Source change: v4l2vnc serves vivid's HDMI input at 640x480; the input's
# DV timings change to 720x480 under it (V4L2_EVENT_SOURCE_CHANGE); v4l2vnc
# re-negotiates and resizes, and a viewer that stays connected across the
# change is told the new size (NewFBSize), as is a new one.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client

ip link set lo up || fail "ip link set lo up"
modprobe vivid n_devs=1 node_types=0x1 || fail "modprobe vivid"
dev=$(video_by_name '^vivid-000-vid-cap$') || fail "no vivid capture node"
v4l2-ctl -d "$dev" -i 3 || fail "select vivid's HDMI input"
v4l2-ctl -d "$dev" -c dv_timings_signal_mode=4 -c dv_timings=0 || fail "select 640x480p59"

pid= wpid=
cleanup() { kill $pid $wpid 2>/dev/null || true; }
trap cleanup EXIT
"$V" --device "$dev" --format XR24 --port 5901 --verbose 2>$KMS2V4L_BUILD/v4l2vnc-resize.log &
pid=$!
for i in $(seq 50); do
	ss -ltn | grep -q '127.0.0.1:5901 ' && break
	kill -0 "$pid" 2>/dev/null || { cat $KMS2V4L_BUILD/v4l2vnc-resize.log; fail "v4l2vnc exited"; }
	sleep 0.2
done
"$C" snapshot 127.0.0.1:5901 /tmp/a.raw >/tmp/a.out || fail "snapshot before"
[ "$(cat /tmp/a.out)" = 640x480 ] || fail "before: $(cat /tmp/a.out)"
# A viewer that stays connected until it has seen 720x480.
"$C" watch 127.0.0.1:5901 720x480 30 >/tmp/w.out &
wpid=$!
sleep 1
v4l2-ctl -d "$dev" -c dv_timings=2 || fail "select 720x480p59"
for i in $(seq 100); do
	grep -q 'source changed, now 720x480' $KMS2V4L_BUILD/v4l2vnc-resize.log && break
	sleep 0.2
done
grep -q 'source changed, now 720x480' $KMS2V4L_BUILD/v4l2vnc-resize.log || { cat $KMS2V4L_BUILD/v4l2vnc-resize.log; fail "no resize"; }
wait "$wpid" || { cat /tmp/w.out; fail "connected viewer did not get 720x480"; }
wpid=
"$C" snapshot 127.0.0.1:5901 /tmp/b.raw >/tmp/b.out || fail "snapshot after"
[ "$(cat /tmp/b.out)" = 720x480 ] || fail "after: $(cat /tmp/b.out)"
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=
cat $KMS2V4L_BUILD/v4l2vnc-resize.log
grep -q 'resizes 1' $KMS2V4L_BUILD/v4l2vnc-resize.log || fail "statistics do not count one resize"
info "PASS: 640x480 -> 720x480 followed"
