#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libkms2v4l on two vivid nodes: enumeration, MMAP streaming with
# sequence/timestamps/damage, error messages, and EXPBUF from one node
# imported as DMABUF into the other (tests/vm/libkms2v4l-check.c).
. "$(dirname "$0")/lib.sh"

modprobe vivid n_devs=2 node_types=0x1,0x1 || fail "modprobe vivid"
a=$(video_by_name '^vivid-000-vid-cap$') || fail "no vivid-000"
b=$(video_by_name '^vivid-001-vid-cap$') || fail "no vivid-001"
"$KMS2V4L_BUILD/tests/vm/libkms2v4l-check" "$a" "$b" || fail "libkms2v4l-check $a $b"
modprobe -r vivid || fail "modprobe -r vivid"
info "PASS"
