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
. "$(dirname "$0")/lib.sh"

dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
check() { "$TOOLS/v4l2-damage-check" "$@" || fail "v4l2-damage-check $*"; }

check --buffers 3 marker "$dev"
for n in 2 3 8; do
	check --buffers "$n" --steps 80 --seed "$n" random "$dev"
done
for f in NV12 YU12 YUYV; do
	check --buffers 3 --steps 40 --seed 7 --format "$f" random "$dev"
done
check --pacing change static "$dev"
info "PASS"
