#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A viewer that stops reading must not stall capture or the other viewers.
# vivid with a moving picture; a normal viewer counts its updates over T
# seconds, first alone (the baseline of this run), then while a second
# viewer asks for whole updates and reads nothing (tiny receive buffer,
# so the daemon's socket to it fills up).  Passes when the normal viewer
# still gets at least half its baseline, capture goes on (the frame
# counter from SIGUSR1 advances at least half as fast) and the daemon
# stops promptly on SIGTERM with the stalled viewer still connected.
# Ratios within one run, no absolute rates: the VM's speed varies.
# Then a resize while a viewer stalls: vkms's node (kms-scene) at 320x240
# with a normal viewer and one that reads nothing; the mode changes to
# 480x320 and the normal viewer must have the whole new picture within
# $RESIZE_MS ms of v4l2vnc logging the change (v4l2vnc cuts a viewer that
# leaves an update unread for 2 s while a resize waits for it; without
# that, libvncserver's resize waited up to its 20 s write timeout).
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client
PORT=5901 SECS=6

ip link set lo up || fail "ip link set lo up"
dev=$(vivid_node) || fail "no vivid capture node"
v4l2-ctl -d "$dev" -c horizontal_movement=5 -c vertical_movement=5 || fail "vivid controls"

pid= spid=
cleanup() {
	[ -z "$spid" ] || kill "$spid" 2>/dev/null || true
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
}
trap cleanup EXIT

"$V" --device "$dev" --format XR24 --size 640x480 --listen 127.0.0.1 --port $PORT --verbose \
	2>/tmp/v4l2vnc.log &
pid=$!
wait_listen "127\\.0\\.0\\.1:$PORT " "$pid" /tmp/v4l2vnc.log

# Captured frames so far ("stuck" when the daemon does not answer SIGUSR1
# within 5 s).  libvncserver drops a viewer that reads nothing after 20 s:
# everything with the stalled viewer must happen well within that, even in
# a slow VM.
frames() {
	local s
	s=$(v4l2vnc_stats "$pid" /tmp/v4l2vnc.log)
	if [ "$s" = stuck ]; then echo stuck; else stat_field "$s" frames; fi
}

diagnose() {
	ss -tn >&2 || true
	grep -v 'statistics\|  ' /tmp/v4l2vnc.log | tail -40 >&2 || true
	cp /tmp/v4l2vnc.log "$KMS2V4L_BUILD/slow-client-daemon.log" 2>/dev/null || true
	cat /tmp/stall.out >&2 || true
}

on_fail() { diagnose; }

# Baseline: the normal viewer alone.
f0=$(frames)
base=$("$C" count 127.0.0.1:$PORT $SECS) || fail "baseline viewer"
f1=$(frames)
base=${base#updates }
info "alone: $base updates in $SECS s, $((f1 - f0)) frames captured"
[ "$base" -ge 4 ] || fail "baseline too small to compare ($base updates)"

# stall_start: a viewer that asks for updates and reads none (spid),
# connected, the daemon's socket to it full: sendq, its unsent bytes
# (ss: Send-Q), at least 100000.
stall_start() {
	"$C" stall 127.0.0.1:$PORT 60 >/tmp/stall.out &
	spid=$!
	for _ in $(seq 100); do
		grep -q '^stalling' /tmp/stall.out && break
		kill -0 "$spid" 2>/dev/null || fail "stalling viewer: $(cat /tmp/stall.out)"
		sleep 0.1
	done
	sport=$(sed -n 's/^stalling //p' /tmp/stall.out)
	[ -n "$sport" ] || fail "stalling viewer did not connect: $(cat /tmp/stall.out)"
	# Let the daemon's socket to it fill up.
	sleep 2
	sendq=$(ss -tnH state established "( sport = :$PORT and dport = :$sport )" | awk '{print $2}')
	[ "${sendq:-0}" -ge 100000 ] || fail "the stalled viewer's socket did not fill (Send-Q '${sendq}')"
}

# The stalled viewer.
stall_start

f2=$(frames)
got=$("$C" count 127.0.0.1:$PORT $SECS) || fail "normal viewer next to a stalled one: connection lost"
f3=$(frames)
got=${got#updates }
if [ "$f2" = stuck ] || [ "$f3" = stuck ]; then
	captured="no answer to SIGUSR1 ($f2, $f3)"
else
	captured="$((f3 - f2)) frames captured"
fi
info "with a stalled viewer: $got updates in $SECS s, $captured;" \
	"${sendq:-?} bytes wait in the daemon's socket to the stalled viewer"
[ $((2 * got)) -ge "$base" ] || fail "normal viewer got $got updates, less than half of $base alone"
[ "$f2" != stuck ] && [ "$f3" != stuck ] || fail "capture stuck: the daemon does not answer SIGUSR1"
[ $((2 * (f3 - f2))) -ge $((f1 - f0)) ] ||
	fail "capture slowed down: $((f3 - f2)) frames, $((f1 - f0)) alone"
kill -0 "$spid" 2>/dev/null || fail "the stalled viewer was dropped too early: $(cat /tmp/stall.out)"

# SIGTERM with the stalled viewer still connected: the daemon ends at
# once (well within libvncserver's 20 s write timeout).
stop_within "$pid" 15
pid=
kill "$spid" 2>/dev/null || true
spid=
modprobe -r vivid || fail "modprobe -r vivid"

# A resize while a viewer stalls.  Each line of v4l2vnc's log and of the
# normal viewer's output gets its arrival time (ms, perl), so that the
# delay is measured from the daemon's own line on, however long the
# test's other steps take.
RESIZE_MS=5000
wpid=
cleanup() {
	[ -z "$spid" ] || kill "$spid" 2>/dev/null || true
	[ -z "$wpid" ] || kill "$wpid" 2>/dev/null || true
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
}
stamp() { perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%d %s", time * 1000, $_'; }
scene_start --mode 320x240@30 gradient
"$V" --device Virtual-1 --listen 127.0.0.1 --port $PORT --verbose {SCENE_FD}>&- \
	2> >(stamp >/tmp/v4l2vnc.log) &
pid=$!
wait_listen "127\\.0\\.0\\.1:$PORT " "$pid" /tmp/v4l2vnc.log
"$C" watch 127.0.0.1:$PORT 480x320 60 {SCENE_FD}>&- > >(stamp >/tmp/watch.out) 2>&1 &
wpid=$!
# (the redirection closes the scene's pipe for the viewer started inside)
stall_start {SCENE_FD}>&-
# The scene ends (v4l2vnc follows the CRTC going off, to fbdev's mode: a
# first resize) and comes back at 480x320.  From v4l2vnc's first line of
# a change to the viewer's complete 480x320 picture.
scene_stop
scene_start --mode 480x320@30 gradient
wait "$wpid" || fail "the normal viewer did not get 480x320: $(cat /tmp/watch.out)"
wpid=
t0=$(awk '/source changed/ { print $1; exit }' /tmp/v4l2vnc.log)
t1=$(awk '$2 == "480x320" { print $1; exit }' /tmp/watch.out)
[ -n "$t0" ] && [ -n "$t1" ] || fail "no time for the change ('$t0') or the viewer's picture ('$t1')"
delay=$((t1 - t0))
info "resize with a stalled viewer (${sendq} bytes unread): the other viewer had 480x320 after $delay ms"
[ "$delay" -le $RESIZE_MS ] || fail "the resize reached the other viewer after $delay ms (more than $RESIZE_MS)"
grep -q 'holds up a resize; disconnected' /tmp/v4l2vnc.log || fail "the stalled viewer was not cut"
stop_within "$pid" 15
pid=
kill "$spid" 2>/dev/null || true
spid=
scene_stop
info "PASS"
