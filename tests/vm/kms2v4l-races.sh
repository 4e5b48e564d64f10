#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The races and lifetime bugs of the driver contract, each run long
# enough to have hit it on the old core:
# 0. a modeset that keeps the size but changes the refresh shows in
#    G_PARM while a client streams (its buffers keep their size);
# 1. a client that goes straight to REQBUFS after a modeset gets frames
#    of the new size (the format follows the mode when it changes);
# 2. 200 rounds of STREAMON / 3 frames / STREAMOFF / REQBUFS(0) /
#    REQBUFS(4) beside a process doing modesets (a buffer completed
#    after STREAMOFF was a use-after-free at REQBUFS(0));
# 3. 10 rounds of loading vkms, streaming and removing it at once (the
#    node now lives from before drm_dev_register() to after the last
#    commit); each load shows fbdev's mode on the node at once;
# 4. kms2v4l's write fence kept as a sync_file after its node, vkms and
#    the buffer are gone: it still answers SYNC_IOC_FILE_INFO and is
#    signalled, and kms2v4l cannot be unloaded while it lives.
# The runner fails the test on any kernel complaint. On the debug kernel
# (K2V_TIME_SCALE > 1) parts 2 and 3 run a quarter of the rounds: there
# KASAN reports a use-after-free the first time the window is hit, not
# only when the freed memory happens to be reused, and each round takes
# several times as long.
. "$(dirname "$0")/lib.sh"

S=${K2V_TIME_SCALE:-1}
cycles=$((200 / S)) loads=$(((10 + S - 1) / S))

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"

# G_PARM's frame rate, rounded (the custom modes' pixel clocks are whole kHz).
fps() { v4l2-ctl -d "$dev" -P | awk '/Frames per second:/ { printf "%.0f\n", $4 }'; }

# 0. 1024x768@30, then 1024x768@60, under a streaming client.
scene_start --mode 1024x768@30 solid:204060
# (without the scene's stdin, or kms-scene would wait for the streamer)
v4l2-ctl -d "$dev" --stream-mmap --stream-count=100000 >/dev/null 2>&1 {SCENE_FD}>&- &
streamer=$!
sleep 2
[ "$(fps)" = 30 ] || fail "G_PARM says $(fps) fps at 1024x768@30"
scene_stop
scene_start --mode 1024x768@60 solid:204060
[ "$(fps)" = 60 ] || fail "G_PARM says $(fps) fps after a modeset to 1024x768@60 (streaming)"
kill -0 $streamer || fail "the streamer died at a refresh change"
kill $streamer
wait $streamer 2>/dev/null || true
scene_stop
info "a refresh change shows in G_PARM while streaming"

# 1. Nothing but REQBUFS/QBUF/STREAMON after each modeset.
for m in 640x480@60 800x600@60; do
	scene_start --mode "$m" gradient
	out=$("$TOOLS/v4l2-race" minimal "$dev" 5) || fail "minimal client after a modeset to $m"
	echo "$out"
	grep -q "frames of ${m%@*}," <<<"$out" || fail "minimal client got frames of another size than $m"
	scene_stop
done
info "a client going straight to REQBUFS follows the mode"

# 2. Stream cycles while the mode keeps changing.
(
	while :; do
		for m in 640x480@60 320x240@60 800x600@60; do
			"$TOOLS/kms-scene" --mode "$m" --hold 1 gradient >/dev/null 2>&1
		done
	done
) &
modesets=$!
"$TOOLS/v4l2-race" cycle "$dev" $cycles 3 || fail "stream cycles"
kill $modesets
wait $modesets 2>/dev/null || true
# The loop's last kms-scene outlives it by up to its --hold second and
# keeps the card open: vkms is "in use" until it has gone.
pkill -x kms-scene 2>/dev/null || true
for _ in $(seq 50); do pgrep -x kms-scene >/dev/null || break; sleep 0.1; done
pgrep -x kms-scene >/dev/null && fail "a kms-scene of the modeset loop did not exit"
info "$cycles stream cycles beside modesets"

# 3. Bring-up and teardown, with a streaming client and fbdev.
for i in $(seq $loads); do
	modload -r vkms || fail "unload vkms (round $i)"
	modload vkms || fail "load vkms (round $i)"
	node=$(kms2v4l_node) || fail "no node after load (round $i)"
	v4l2-ctl -d "$node" --query-dv-timings >/dev/null 2>&1 ||
		fail "the node shows no signal right after load (round $i)"
	v4l2-ctl -d "$node" --stream-mmap --stream-count=1000 >/dev/null 2>&1 &
	sleep 0.$((RANDOM % 5))
	modload -r vkms || fail "unload vkms while streaming (round $i)"
	wait $! 2>/dev/null || true
done
modload vkms || fail "load vkms"
dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
info "$loads load / stream / unload rounds"

# 4. A write fence outlives its node, vkms and the buffer.
modprobe vgem || fail "modprobe vgem"
scene_start --mode 1280x720@30 gradient
coproc HOLD { exec {SCENE_FD}>&-; exec "$TOOLS/v4l2-race" fence-hold "$dev"; }
hold_pid=$HOLD_PID
# our own copies: bash drops HOLD's once the coprocess exits
exec {hold_out}<&"${HOLD[0]}" {hold_in}>&"${HOLD[1]}"
read -r -t 60 line <&$hold_out || fail "fence-hold did not get a fence"
[ "$line" = holding ] || fail "fence-hold: $line"
scene_stop
modload -r vkms || fail "unload vkms with a fence alive"
rmmod kms2v4l 2>/dev/null && fail "kms2v4l was unloaded while one of its fences lives"
info "kms2v4l stays loaded while its fence lives (refcnt $(cat /sys/module/kms2v4l/refcnt))"
echo go >&$hold_in
while read -r -t 20 line <&$hold_out; do echo "$line"; done
wait $hold_pid || fail "fence-hold: the sync_file outlived its node badly"
modload -r kms2v4l || fail "kms2v4l cannot be unloaded once its fences are gone"
info "PASS"
