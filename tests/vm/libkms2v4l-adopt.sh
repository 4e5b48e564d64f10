#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A mode change while libkms2v4l adopts the timings is not lost: the
# client gets frames of the new mode.  vivid's HDMI input shows the
# "selected" DV timings, 640x480p59.  libkms2v4l-adopt stops inside
# kms2v4l_set_format() right after its QUERY_DV_TIMINGS; the input then
# changes to 720x480p59 (a SOURCE_CHANGE is queued), so the library sets
# the stale 640x480 and drains the change's event with its own.  Before
# the fix the client streamed 640x480 for ever, never told.  (kms2v4l's
# own nodes took no harm from it: their S_FMT follows the CRTC's mode.)
. "$(dirname "$0")/lib.sh"
A=$KMS2V4L_BUILD/tests/vm/libkms2v4l-adopt
dev=$(vivid_node) || fail "no vivid capture node"
v4l2-ctl -d "$dev" -i 3 >/dev/null || fail "vivid has no input 3 (HDMI)"
v4l2-ctl -d "$dev" -c dv_timings_signal_mode=4,dv_timings=0 || fail "selecting vivid's DV timings"

coproc ADOPT { exec "$A" "$dev" 720x480 2>/tmp/adopt.err; }
apid=$ADOPT_PID
# Own copies of its pipes: bash closes ADOPT's when the coprocess ends.
exec {ain}<&"${ADOPT[0]}" {aout}>&"${ADOPT[1]}"
read -r -t 60 line <&"$ain" || fail "libkms2v4l-adopt said nothing: $(cat /tmp/adopt.err)"
[ "$line" = queried ] || fail "libkms2v4l-adopt: '$line' $(cat /tmp/adopt.err)"
v4l2-ctl -d "$dev" -c dv_timings=2 || fail "changing vivid's DV timings"
echo go >&"$aout"
out=$(cat <&"$ain")
status=0
wait "$apid" || status=$?
echo "$out"
cat /tmp/adopt.err
echo "$out" | grep -q '^streaming 640x480$' ||
	fail "the adoption did not set the stale 640x480 (the change came too early or late)"
[ "$status" = 0 ] || fail "no 720x480 frame after a mode change during the adoption (status $status)"
echo "$out" | grep -q '^source changed$' || fail "the change was not reported"
modprobe -r vivid || fail "modprobe -r vivid"
info "PASS"
