#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The product path: v4l2vnc serves vkms's kms2v4l node, chosen by its
# output's name (--device Virtual-1; --list shows it). A viewer gets,
# byte for byte, the frame vkms must compose for kms-scene's gradient at
# 320x240; the scene ends (CRTC off) and comes back at 480x320: v4l2vnc
# follows the source changes, a viewer connected across them is told the
# new size, and a new viewer again gets exactly the composed frame.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client
log=/tmp/v4l2vnc.log

ip link set lo up || fail "ip link set lo up"
dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT

sleep 12 | "$TOOLS/kms-scene" --mode 320x240@30 --expect /tmp/e1.raw gradient >/tmp/s1.out 2>&1 &
s1=$!
pids+=($s1)
for i in $(seq 50); do
	grep -q 'gradient on 320x240' /tmp/s1.out && break
	sleep 0.2
done
grep -q 'gradient on 320x240' /tmp/s1.out || fail "kms-scene 320x240: $(cat /tmp/s1.out)"

# v4l2vnc --list says what the node shows; --device takes the output.
"$V" --list >/tmp/list.out || fail "v4l2vnc --list"
cat /tmp/list.out
grep -q "^$dev	.*	shows card0-crtc0 (CRTC id [0-9]*) on Virtual-1	mode 320x240@" /tmp/list.out ||
	fail "v4l2vnc --list does not say that $dev shows Virtual-1 at 320x240"
"$V" --device No-Such-1 --port 5901 >/tmp/nosuch.out 2>&1 && fail "--device No-Such-1 accepted"
grep -q "No-Such-1: no capture node shows this output" /tmp/nosuch.out ||
	fail "--device No-Such-1: $(cat /tmp/nosuch.out)"

"$V" --device Virtual-1 --port 5901 --verbose >"$log" 2>&1 &
vnc=$!
pids+=($vnc)
wait_listen '127\.0\.0\.1:5901 ' "$vnc" "$log"
"$C" snapshot 127.0.0.1:5901 /tmp/a.raw >/tmp/a.out || fail "snapshot at 320x240"
[ "$(cat /tmp/a.out)" = 320x240 ] || fail "viewer saw $(cat /tmp/a.out)"
"$C" cmp /tmp/a.raw /tmp/e1.raw XR24 320 240 1280 || fail "320x240 frame differs from vkms's composition"

# A viewer that stays across the mode changes.
"$C" watch 127.0.0.1:5901 480x320 60 >/tmp/w.out 2>&1 &
watcher=$!
pids+=($watcher)
wait "$s1" || fail "kms-scene 320x240: $(cat /tmp/s1.out)"
sleep 12 | "$TOOLS/kms-scene" --mode 480x320@30 --expect /tmp/e2.raw gradient >/tmp/s2.out 2>&1 &
pids+=($!)
for i in $(seq 150); do
	grep -q 'source changed, now 480x320' "$log" && break
	kill -0 "$vnc" 2>/dev/null || { cat "$log"; fail "v4l2vnc exited"; }
	sleep 0.2
done
grep -q 'source changed, now 480x320' "$log" || { cat "$log"; fail "v4l2vnc did not follow to 480x320"; }
wait "$watcher" || { cat /tmp/w.out; fail "connected viewer was not resized to 480x320"; }
"$C" snapshot 127.0.0.1:5901 /tmp/b.raw >/tmp/b.out || fail "snapshot at 480x320"
[ "$(cat /tmp/b.out)" = 480x320 ] || fail "viewer saw $(cat /tmp/b.out)"
"$C" cmp /tmp/b.raw /tmp/e2.raw XR24 480 320 1920 || fail "480x320 frame differs from vkms's composition"
kill -TERM "$vnc"
wait "$vnc" || { cat "$log"; fail "v4l2vnc exit status $? after SIGTERM"; }
cat "$log"
info "PASS: exact frames at 320x240 and 480x320, resize followed"
