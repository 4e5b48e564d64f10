#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lifetime: a second process that tries to stream gets EBUSY; 1000
# open/close cycles; vkms removed while a client streams (the client
# gets an error, the node disappears, nothing oopses) and while another
# only holds the node open; 10 load/unload cycles of vkms and kms2v4l,
# each followed by a working capture; a modeset storm while streaming.
# The runner fails the test on any kernel complaint.
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"

for _ in $(seq 1000); do exec {fd}<"$dev"; exec {fd}<&-; done
info "1000 open/close cycles"

# One streamer; a second one is refused with EBUSY.
v4l2-ctl -d "$dev" --stream-mmap --stream-count=100000 >/tmp/first.log 2>&1 &
first=$!
sleep 2
# (v4l2-ctl exits 0 even when REQBUFS fails: its message is the evidence)
out=$(v4l2-ctl -d "$dev" --stream-mmap --stream-count=1 2>&1) || true
grep -q 'VIDIOC_REQBUFS returned -1 (Device or resource busy)' <<<"$out" ||
	fail "a second streamer was not refused with EBUSY: $out"
info "a second streamer gets EBUSY"

# Modeset storm while the first one streams: sizes change under it.
for m in 640x480@30 320x240@30 800x600@20 320x240@30; do
	"$TOOLS/kms-scene" --mode "$m" --hold 1 gradient >/dev/null || fail "modeset $m"
done
kill -0 $first 2>/dev/null || fail "the streamer died during the modeset storm"
info "modeset storm survived"

# Remove vkms under the streamer and under a process holding the node.
exec {held}<"$dev"
modload -r vkms || fail "rmmod vkms while streaming"
# v4l2-ctl exits 0 whatever happens: it must end, having reported the error
# (an ioctl failing, or its "qbuf error" when the last frames come back
# as errors while the node goes away).
for _ in $(seq 50); do kill -0 $first 2>/dev/null || break; sleep 0.1; done
kill -0 $first 2>/dev/null && fail "the streamer still runs 5 s after vkms went away"
grep -qE 'returned -1|failed:|No such device|qbuf error' /tmp/first.log ||
	fail "the streamer reported no error: $(tail -c 300 /tmp/first.log)"
[ ! -e "$dev" ] || fail "$dev still exists after rmmod vkms"
exec {held}<&-
info "rmmod vkms while streaming: streamer failed cleanly, node gone"

for i in $(seq 10); do
	modload -r vkms kms2v4l || fail "unload (round $i)"
	modload vkms || fail "load (round $i)"
	node=$(kms2v4l_node) || fail "no node after reload (round $i)"
done
v4l2-ctl -d "$node" --stream-mmap --stream-count=3 >/dev/null 2>&1 || fail "capture after 10 reloads"
info "PASS: 10 load/unload cycles, capture works after them"
