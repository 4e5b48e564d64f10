#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Frames cost only what changed (v4l2-damage-check is the KMS client of
# vkms and the capture client of its node; see that tool):
# 1. marker: with V4L2_CID_KMS2V4L_PARTIAL_FRAMES a buffer is written
#    only where the CRTC changed since the frame it holds; without it,
#    everywhere.
# 2. random: flips with and without FB_DAMAGE_CLIPS, DIRTYFB, cursor and
#    overlay moves, the CRTC off and on, buffers held by the client:
#    every frame with partial frames equals the model of the CRTC, byte
#    for byte, with 2, 3 and 8 buffers; and in NV12, YU12 and YUYV
#    against the model converted as vkms converts.
# 3. static: on-change pacing delivers one frame in 10 s of a static
#    screen and lets vkms's vblank timer stop, then the frame of a flip
#    at the flip's vblank and time.
# 4. the damage node (--damage in 1 and 2, XR24): each frame's record has
#    its sequence and time; every pixel that changed since the frame
#    before lies in the record's rectangles, the flip of a 64x64 square
#    gives exactly that square, a static frame no rectangle; and
#    v4l2-compliance on the damage node, streaming beside a capture.
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
check() { "$TOOLS/v4l2-damage-check" "$@" || fail "v4l2-damage-check $*"; }

check --damage --buffers 3 marker "$dev"
for n in 2 3 8; do
	check --damage --buffers "$n" --steps 80 --seed "$n" random "$dev"
done
for f in NV12 YU12 YUYV; do
	check --buffers 3 --steps 40 --seed 7 --format "$f" random "$dev"
done
check --pacing change static "$dev"

meta=$(video_by_name '^vkms card[0-9]+ CRTC 0 damage$') || fail "no damage node beside $dev"
[ "$(v4l2-ctl -d "$meta" --all | sed -n 's/^\s*Bus info\s*: //p')" = \
	"$(v4l2-ctl -d "$dev" --all | sed -n 's/^\s*Bus info\s*: //p')" ] ||
	fail "$meta and $dev differ in bus_info"
compliance_clean "$meta"
# its stream needs frames: a capture beside it, for as long as it takes,
# at every vblank (the static test left the node on on-change pacing)
v4l2-ctl -d "$dev" -c frame_pacing=0 || fail "setting frame_pacing on $dev"
scene_start --mode 160x120@20 gradient
v4l2-ctl -d "$dev" --stream-mmap --stream-count=100000 >/dev/null 2>&1 &
cap=$!
compliance_clean "$meta" -s
kill "$cap"
wait "$cap" 2>/dev/null || true
scene_stop
info "PASS"
