#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libkms2v4l on two vivid nodes: enumeration, MMAP streaming with
# sequence/timestamps/damage, error messages, and EXPBUF from one node
# imported as DMABUF into the other (tests/vm/libkms2v4l-check.c).
# Listing nodes (kms2v4l_enumerate) opens no /dev/video* for writing: a
# webcam or encoder of another driver is only looked at (strace).
. "$(dirname "$0")/lib.sh"

modprobe vivid n_devs=2 node_types=0x1,0x1 || fail "modprobe vivid"
a=$(video_by_name '^vivid-000-vid-cap$') || fail "no vivid-000"
b=$(video_by_name '^vivid-001-vid-cap$') || fail "no vivid-001"
"$KMS2V4L_BUILD/tests/vm/libkms2v4l-check" "$a" "$b" || fail "libkms2v4l-check $a $b"
if command -v strace >/dev/null; then
	strace -f -qq -e trace=open,openat -o /tmp/list.strace \
		"$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc" --list >/tmp/list.txt ||
		fail "v4l2vnc --list"
	cat /tmp/list.txt
	grep -q "^$a	" /tmp/list.txt && grep -q "^$b	" /tmp/list.txt ||
		fail "v4l2vnc --list does not list $a and $b"
	opens=$(grep -E '"/dev/video[0-9]+"' /tmp/list.strace) || fail "strace saw no /dev/video* open"
	echo "$opens"
	if echo "$opens" | grep -E 'O_RDWR|O_WRONLY'; then
		fail "kms2v4l_enumerate opened a node for writing"
	fi
else
	fail "no strace in the guest (package strace)"
fi
modprobe -r vivid || fail "modprobe -r vivid"
info "PASS"
