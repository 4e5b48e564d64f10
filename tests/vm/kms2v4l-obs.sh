#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# OBS Studio's V4L2 source (Debian's obs-studio 29) lists the node by its
# card name and captures what the CRTC shows: OBS runs headless under
# Xvfb with a scene of one "Video Capture Device (V4L2)" source on the
# node, and its own obs-websocket server (tests/vm/obs-check.py) says
# which devices the source offers; OBS's window (its preview of the
# program) must show the scene's colour (within 4 per channel: OBS picks
# the node's pixel format and scales the preview).
. "$(dirname "$0")/lib.sh"

for p in obs Xvfb import python3; do
	command -v "$p" >/dev/null || fail "$p is not installed (scripts/deps)"
done
S=${K2V_TIME_SCALE:-1}
ip link set lo up || fail "ip link set lo up"
dev=$(kms2v4l_node) || fail "no kms2v4l node for vkms"
card=$(cat "/sys/class/video4linux/${dev#/dev/}/name")
PORT=4455
CHECK=$(dirname "$0")/obs-check.py

obs= xvfb=
on_fail() { echo "--- OBS log (tail)"; tail -30 /tmp/obs.log; }
cleanup() {
	[ -z "$obs" ] || kill "$obs" 2>/dev/null || true
	[ -z "$xvfb" ] || kill "$xvfb" 2>/dev/null || true
}
trap cleanup EXIT

scene_start --mode 640x480@30 solid:336699

# OBS's settings: one profile and scene collection, no first-run wizard,
# obs-websocket on without authentication (loopback only in this guest).
export HOME=/tmp/obs-home
c=$HOME/.config/obs-studio
rm -rf "$HOME"
mkdir -p "$c/basic/profiles/K" "$c/basic/scenes"
cat >"$c/global.ini" <<EOF
[General]
FirstRun=true
EnableAutoUpdates=false
ConfirmOnExit=false
Pre19Defaults=false
Pre21Defaults=false
Pre23Defaults=false
Pre24.1Defaults=false
[Basic]
Profile=K
ProfileDir=K
SceneCollection=K
SceneCollectionFile=K
[OBSWebSocket]
FirstLoad=false
ServerEnabled=true
ServerPort=$PORT
AlertsEnabled=false
AuthRequired=false
EOF
cat >"$c/basic/profiles/K/basic.ini" <<EOF
[General]
Name=K
[Video]
BaseCX=640
BaseCY=480
OutputCX=640
OutputCY=480
EOF
cat >"$c/basic/scenes/K.json" <<EOF
{"current_scene": "S", "current_program_scene": "S", "name": "K",
 "scene_order": [{"name": "S"}],
 "sources": [
  {"id": "scene", "versioned_id": "scene", "name": "S",
   "uuid": "6b1a3c1e-0000-4000-8000-000000000001",
   "settings": {"id_counter": 1, "items": [{"id": 1, "name": "cam", "visible": true,
     "source_uuid": "6b1a3c1e-0000-4000-8000-000000000002"}]}},
  {"id": "v4l2_input", "versioned_id": "v4l2_input", "name": "cam",
   "uuid": "6b1a3c1e-0000-4000-8000-000000000002",
   "settings": {"device_id": "$dev"}}]}
EOF

Xvfb :7 -screen 0 1280x800x24 -nolisten tcp >/tmp/xvfb.log 2>&1 {SCENE_FD}>&- &
xvfb=$!
export DISPLAY=:7
obs --disable-missing-files-check --multi >/tmp/obs.log 2>&1 {SCENE_FD}>&- &
obs=$!
end=$((SECONDS + 300 * S))
while ! ss -ltnH | grep -q ":$PORT "; do
	kill -0 "$obs" 2>/dev/null || fail "OBS exited"
	[ $SECONDS -le $end ] || fail "obs-websocket not listening on $PORT after $((300 * S)) s"
	sleep 1
done
info "OBS up after $SECONDS s"

# 1. The source lists the node, labelled with its card name.
python3 "$CHECK" $PORT devices cam >/tmp/obs-devices.txt || fail "obs-check devices"
cat /tmp/obs-devices.txt
grep -qF "$dev	" /tmp/obs-devices.txt || fail "OBS's V4L2 source does not list $dev"
grep -F "$dev	" /tmp/obs-devices.txt | grep -qF "$card" ||
	fail "OBS lists $dev without its card name '$card'"
info "OBS's V4L2 source lists $dev as '$card'"

# 2. OBS's preview of the program shows the CRTC's colour: a screenshot of
# the X display (obs-websocket's GetSourceScreenshot crashes Debian's
# OBS 29 with Mesa's llvmpipe here) has a 640x480-scaled area of it.
# (the preview keeps the source's 4:3 aspect; 10000 pixels is far less
# than it covers, far more than any of OBS's own widgets in that colour)
count=0
end=$((SECONDS + 120 * S))
while [ $SECONDS -le $end ]; do
	kill -0 "$obs" 2>/dev/null || fail "OBS exited"
	import -display :7 -window root -depth 8 rgb:/tmp/screen.rgb 2>/tmp/import.err ||
		fail "import of the X display: $(cat /tmp/import.err)"
	count=$(python3 - /tmp/screen.rgb <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
n = 0
for i in range(0, len(d) - 2, 3):
    if abs(d[i] - 0x33) <= 4 and abs(d[i + 1] - 0x66) <= 4 and abs(d[i + 2] - 0x99) <= 4:
        n += 1
print(n)
PY
)
	[ "$count" -ge 10000 ] && break
	sleep 2
done
[ "$count" -ge 10000 ] || fail "OBS's window shows only $count pixels of the scene's colour 51,102,153"
grep -E "v4l2-input: (Resolution|Pixelformat|Framerate): [^(]*$" /tmp/obs.log | head -3
info "PASS: OBS shows $dev: $count pixels of its window in the scene's colour"
