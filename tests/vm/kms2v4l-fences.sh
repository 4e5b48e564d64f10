#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dma-buf handoff with real fences and real consumers.
# 1. vgem buffers imported as DMABUF capture buffers; one holds an
#    unsignalled vgem fence and is not written until the fence signals,
#    while the stream goes on in the other; then it receives the expected
#    frame. kms2v4l's own write fence is seen unsignalled on the dma-buf
#    during composition and signalled at DQBUF. A 1280x720 scene makes
#    composition long enough to observe the fence.
# 2. MMAP buffers exported with EXPBUF to a second process, which maps
#    them itself and through vgem's import: every frame it is handed
#    equals the expected composition.
. "$(dirname "$0")/lib.sh"

modprobe vgem || fail "modprobe vgem"
dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
scene_start --mode 1280x720@30 --expect /tmp/expect.raw gradient
"$TOOLS/v4l2-fence-check" "$dev" /tmp/expect.raw || fail "v4l2-fence-check"
scene_stop

scene_start --mode 640x480@60 --expect /tmp/expect.raw overlay
"$TOOLS/v4l2-share" check "$dev" /tmp/expect.raw 120 || fail "v4l2-share check"
scene_stop
info "PASS"
