# SPDX-License-Identifier: MIT
# Helpers for the VM tests (sourced inside the guest).
set -euo pipefail
T=${0##*/}
TOOLS=${KMS2V4L_BUILD:?}/tests/tools
# GStreamer's plugin registry: the guest's home is this machine's, read
# only. Without a registry there (no gst run on the host yet), every
# gst-launch-1.0 would rescan all plugins, seconds under TCG, and miss a
# test's timing: keep one in the guest's /tmp instead, built once.
if [ -z "${GST_REGISTRY:-}" ] && [ ! -r "$HOME/.cache/gstreamer-1.0/registry.$(uname -m).bin" ]; then
	export GST_REGISTRY=/tmp/gst-registry.bin
fi
# gst_ready: build that registry now, before anything is timed.
gst_ready() { gst-inspect-1.0 v4l2src >/dev/null 2>&1 || fail "gst-inspect-1.0 v4l2src: no v4l2src"; }
# A test may define on_fail (e.g. to print a daemon's log): fail runs it once.
fail() {
	echo "$T: FAIL: $*" >&2
	if [ -z "${_in_on_fail:-}" ] && declare -F on_fail >/dev/null; then
		_in_on_fail=1
		on_fail || true
	fi
	exit 1
}
skip() { echo "$T: SKIP: $*"; exit 77; }
# Each line carries the guest's uptime, so a console log shows where a
# test spends its time (read from /proc, without a process).
info() {
	local up _
	read -r up _ </proc/uptime
	echo "$T: [${up}s] $*"
}

# The /dev/dri/cardN whose parent (platform) device is named $1: "vkms"
# for the module parameters' device, a configfs device's own name.
card_of() {
	local c
	for c in /sys/devices/platform/"$1"/drm/card[0-9]*; do
		[ -e "$c" ] || return 1
		echo "/dev/dri/${c##*/}"
		return 0
	done
}

# udev_start: systemd-udevd as a daemon (weston, wlroots and libinput find
# cards, their seat tags and hotplug events through it), every device
# announced and settled. The guest runs chrooted, which udevadm only
# accepts with SYSTEMD_IGNORE_CHROOT. Stop it with 'udevadm control --exit'.
udev_start() {
	export SYSTEMD_IGNORE_CHROOT=1
	/lib/systemd/systemd-udevd --daemon >/tmp/udevd.log 2>&1 || fail "systemd-udevd did not start"
	udevadm trigger --action=add || fail "udevadm trigger"
	udevadm settle --timeout=30 || info "udevadm settle timed out"
}

# The /dev/dri/cardN of the vkms device.
vkms_card() { card_of vkms; }

# The /dev/videoN whose V4L2 name (sysfs 'name') matches the ERE $1.
video_by_name() {
	local v
	for v in /sys/class/video4linux/video*; do
		grep -qE "$1" "$v/name" 2>/dev/null || continue
		echo "/dev/${v##*/}"
		return 0
	done
	return 1
}

# The kms2v4l node of vkms's first CRTC.
kms2v4l_node() { video_by_name '^vkms card[0-9]+ CRTC 0$'; }

# node_ids DEV: "DRIVER CARD CRTC" of kms2v4l node DEV, from its V4L2
# name: "bochs card0 CRTC 0" gives "bochs 0 0".
node_ids() {
	local name
	name=$(cat "/sys/class/video4linux/${1#/dev/}/name") || return 1
	[[ $name =~ ^([^ ]+)\ card([0-9]+)\ CRTC\ ([0-9]+)$ ]] || return 1
	echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
}

# mirror_debugfs DEV: the debugfs folder of mirror node DEV's counters
# (mirror_copies, mirror_copy_ns, mirror_read_bytes).
mirror_debugfs() {
	local drv card crtc
	read -r drv card crtc < <(node_ids "$1") && [ -n "$crtc" ] || return 1
	echo "/sys/kernel/debug/kms2v4l-$drv-card$card-crtc$crtc"
}

# Load vivid with one video capture node and print that node's path.
vivid_node() {
	modprobe vivid n_devs=1 node_types=0x1 || { echo "modprobe vivid failed" >&2; return 1; }
	video_by_name '^vivid-000-vid-cap$'
}

# Start kms-scene ARGS... in the background, holding its scene until the
# test ends; waits until the scene is committed.
scene_start() {
	local out=/tmp/kms-scene.$$.$RANDOM
	exec {SCENE_FD}> >(exec "$TOOLS/kms-scene" "$@" >"$out" 2>&1)
	SCENE_PID=$!
	for _ in $(seq 100); do
		grep -q '^kms-scene: ' "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "kms-scene $* did not start: $(cat "$out")"
}

# capture_frame DEV FOURCC FILE: the third frame of a stream in FOURCC
# (the first ones may predate the scene), as raw bytes into FILE.
capture_frame() {
	v4l2-ctl -d "$1" -v "pixelformat=$2" --stream-mmap=3 --stream-count=1 \
		--stream-skip=2 --stream-to="$3" >/dev/null 2>&1 ||
		fail "capturing $2 from $1"
}

# End the scene started last (kms-scene exits when its stdin closes) and
# wait (up to 20 s) until it has exited: it is DRM master until then. A
# process started in the background while the scene runs must close
# {SCENE_FD} ("CMD {SCENE_FD}>&- &"), or it keeps kms-scene alive.
scene_stop() {
	exec {SCENE_FD}>&-
	for _ in $(seq 200); do
		kill -0 "$SCENE_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "kms-scene (pid $SCENE_PID) did not exit after its scene was stopped"
}

# wait_modetest [CARD]: wait (up to 20 s) until modetest has a
# framebuffer on card CARD (default 0, vkms), read from debugfs so that
# this check never opens the card (which could make it DRM master in
# modetest's place), then a little for its mode set.
wait_modetest() {
	local fbs=/sys/kernel/debug/dri/${1:-0}/framebuffer
	for _ in $(seq 200); do
		grep -q 'allocated by = modetest' "$fbs" 2>/dev/null && { sleep 1; return 0; }
		sleep 0.1
	done
	fail "modetest put no framebuffer on card ${1:-0}"
}

# wait_listen PATTERN PID [LOG]: wait (up to 30 s: a loaded VM starts
# slowly) until a listening TCP socket matches PATTERN (ERE on `ss -ltnH`,
# e.g. '127\.0\.0\.1:5901 '); fails, with LOG, if PID exits first.
wait_listen() {
	local end=$((SECONDS + 30 * ${K2V_TIME_SCALE:-1}))
	while [ $SECONDS -le $end ]; do
		ss -ltnH | grep -Eq -- "$1" && return 0
		kill -0 "$2" 2>/dev/null || fail "process $2 exited before listening on $1${3:+: $(cat "$3")}"
		sleep 0.2
	done
	fail "nothing listens on $1${3:+: $(cat "$3")}"
}

# compliance_clean DEV ARGS...: v4l2-compliance -d DEV ARGS must end with
# 0 warnings and no failure but those listed, with their reasons, in
# compliance-known.txt. A run whose only other complaints are sequence
# gaps (frames the guest dropped on a loaded host) is repeated, at most
# four times, after a pause (a busy host stays busy for a while: in a
# clean-clone CI run three runs in a row each dropped a frame); only a
# clean run passes.
compliance_clean() {
	local dev=$1 out total try complaints fails nfail known
	shift
	known=$(grep -vE '^(#|$)' "$(dirname "${BASH_SOURCE[0]}")/compliance-known.txt" | paste -sd'|')
	for try in 1 2 3 4 5; do
		out=$(v4l2-compliance -d "$dev" "$@" 2>&1) || true
		total=$(grep -E "^Total for kms2v4l device $dev:" <<<"$out") ||
			fail "v4l2-compliance $* printed no total: $out"
		info "v4l2-compliance $*: $total"
		fails=$(grep -oE 'fail: .*' <<<"$out" || true)
		nfail=$(sed -n 's/.*Failed: \([0-9]*\),.*/\1/p' <<<"$total")
		if grep -qE 'Warnings: 0$' <<<"$total" &&
			[ "$nfail" = "$(grep -c . <<<"$fails")" -o "$nfail" = 0 ] &&
			! grep -vE "$known" <<<"$fails" | grep -q .; then
			[ "$nfail" = 0 ] || info "known failures (compliance-known.txt): $fails"
			return 0
		fi
		complaints=$(grep -oE '(fail|warn): .*' <<<"$out" | grep -vE "$known" || true)
		grep -E 'fail|warn' <<<"$out" | head -20
		if [ "$try" -lt 5 ] &&
			! grep -qvE 'got sequence number [0-9]+, expected [0-9]+$' <<<"$complaints"; then
			info "only sequence gaps (frames dropped under host load): run $((try + 1)) of 5"
			sleep 2
			continue
		fi
		break
	done
	fail "v4l2-compliance $* on $dev: $total"
}

# usr1_line PID FILE PATTERN [SECS]: SIGUSR1 to PID, then the last line
# of FILE matching PATTERN (grep) once there is a new one, or "stuck" when
# none comes within SECS (default 5) seconds.
usr1_line() {
	local n0 end=$((SECONDS + ${4:-5}))
	n0=$(grep -c -- "$3" "$2" || true)
	kill -USR1 "$1"
	while [ $SECONDS -le $end ]; do
		if [ "$(grep -c -- "$3" "$2" || true)" -gt "$n0" ]; then
			grep -- "$3" "$2" | tail -1
			return
		fi
		sleep 0.1
	done
	echo stuck
}

# v4l2vnc_stats PID LOG [SECS]: the statistics line that v4l2vnc (PID, its
# stderr in LOG) prints on SIGUSR1, or "stuck" when none comes within SECS
# (default 5) seconds (its loop is stuck).
v4l2vnc_stats() { usr1_line "$1" "$2" 'statistics (SIGUSR1)' "${3:-5}"; }

# stat_field LINE NAME: the number after NAME in a statistics line
# ("frames", "wrong passwords").
stat_field() { sed -n "s/.*[:,;] $2 \([0-9]*\).*/\1/p" <<<"$1"; }

# stop_within PID SECS: SIGTERM to PID (a child of this shell), which must
# exit within SECS seconds with status 0.
stop_within() {
	local rc=0
	kill -TERM "$1"
	for _ in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && fail "pid $1 still running $2 s after SIGTERM"
	wait "$1" || rc=$?
	[ "$rc" = 0 ] || fail "pid $1: exit status $rc after SIGTERM"
}

# check_flips CAPLOG RAW FLIPLOG W H HZ N BASE: a capture of N XRGB8888
# frames (v4l2-ctl --verbose log CAPLOG, frames in RAW) against a flip
# log ("VBLANK RRGGBB" lines: from that vblank on the CRTC shows that
# colour). Sequences start at 0 and rise; timestamps advance by the
# sequence delta times the frame period; each frame, placed at vblank
# BASE + sequence, shows the colour of the last flip at or before it in
# every pixel. Prints how many frames fell after a flip; fails if fewer
# than 10.
check_flips() {
	python3 - "$@" <<'PY'
import re, sys
caplog, raw, flips, w, h, hz, n, base = sys.argv[1:]
w, h, hz, n, base = int(w), int(h), int(hz), int(n), int(base)
def fail(msg):
    sys.stderr.write("check_flips: FAIL: %s: %s\n" % (caplog, msg))
    sys.exit(1)
log = open(caplog).read()
seqs = [int(x) for x in re.findall(r"seq: *([0-9]+)", log)]
stamps = [float(x) for x in re.findall(r" ts: *([0-9.]+)", log)]
if len(seqs) != n or len(stamps) != n:
    fail("got %d frames, expected %d" % (len(seqs), n))
if seqs[0] != 0:
    fail("first sequence is %d, expected 0" % seqs[0])
marks = [(int(v), c) for v, c in (l.split() for l in open(flips) if l.strip())]
data = open(raw, "rb").read()
checked = 0
for i in range(n):
    vbl = base + seqs[i]
    if i:
        d = seqs[i] - seqs[i - 1]
        if d <= 0:
            fail("sequence %d after %d" % (seqs[i], seqs[i - 1]))
        # the timestamp delta over the frame period is the sequence delta
        p = (stamps[i] - stamps[i - 1]) * hz
        if not d - 0.05 < p < d + 0.05:
            fail("frame %d: timestamps %s -> %s for %d vblanks" % (i, stamps[i - 1], stamps[i], d))
    want = None
    for v, c in marks:
        if v <= vbl:
            want = c
    if want is None:
        continue
    frame = data[i * w * h * 4:(i + 1) * w * h * 4]
    px = frame[:4]
    got = "%02x%02x%02x" % (px[2], px[1], px[0])
    if frame != px * (w * h):
        other = next(j for j in range(0, len(frame), 4) if frame[j:j + 4] != px) // 4
        q = frame[other * 4:other * 4 + 3]
        fail("frame %d (vblank %d) is torn: %s at (0,0), %02x%02x%02x at (%d,%d)"
             % (i, vbl, got, q[2], q[1], q[0], other % w, other // w))
    if got != want:
        near = " ".join("%d:%s" % m for m in marks if vbl - 3 <= m[0] <= vbl + 3)
        frames = " ".join(str(base + q) for q in seqs[max(0, i - 2):i + 3])
        fail("frame %d (vblank %d) shows %s, the last flip before it shows %s "
             "(flips near it %s; frames at vblanks %s)" % (i, vbl, got, want, near, frames))
    checked += 1
if checked < 10:
    fail("only %d frames fell after the first flip" % checked)
print(checked)
PY
}

# yuv_like FOURCC W H RGB FILE: FILE is a WxH frame in FOURCC (NV12, YU12
# or YUYV) of the XRGB8888 frame RGB, each sample within 1 of an exact
# BT.601 limited-range conversion (chroma: the mean of each pixel pair,
# from the even line for 4:2:0).
yuv_like() {
	python3 - "$@" <<'PY'
import sys

fourcc, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rgb = open(sys.argv[4], "rb").read()
got = open(sys.argv[5], "rb").read()
size = {"NV12": w * h * 3 // 2, "YU12": w * h * 3 // 2, "YUYV": w * h * 2}[fourcc]
if len(got) != size:
    sys.exit(f"{fourcc}: {len(got)} bytes, expected {size}")


def px(x, y):
    o = (y * w + x) * 4
    return rgb[o + 2], rgb[o + 1], rgb[o]  # B, G, R, X in memory


def luma(r, g, b):
    return 16 + 219 * (0.299 * r + 0.587 * g + 0.114 * b) / 255


def chroma(x, y):
    (r0, g0, b0), (r1, g1, b1) = px(x, y), px(x + 1, y)
    r, g, b = (r0 + r1) / 2, (g0 + g1) / 2, (b0 + b1) / 2
    cb = 128 + 224 * (-0.168736 * r - 0.331264 * g + 0.5 * b) / 255
    cr = 128 + 224 * (0.5 * r - 0.418688 * g - 0.081312 * b) / 255
    return cb, cr


worst = 0
def check(what, value, want):
    global worst
    err = abs(value - want)
    worst = max(worst, err)
    if err > 1:
        sys.exit(f"{fourcc}: {what} is {value}, the reference {want:.2f}")


for y in range(h):
    for x in range(w):
        yv = got[y * w + x] if fourcc != "YUYV" else got[y * w * 2 + x * 2]
        check(f"Y({x},{y})", yv, luma(*px(x, y)))
for y in range(0 if fourcc == "YUYV" else 0, h, 1 if fourcc == "YUYV" else 2):
    for x in range(0, w, 2):
        cb, cr = chroma(x, y)
        if fourcc == "NV12":
            o = w * h + (y // 2) * w + x
            gcb, gcr = got[o], got[o + 1]
        elif fourcc == "YU12":
            o = w * h + (y // 2) * (w // 2) + x // 2
            gcb, gcr = got[o], got[o + w * h // 4]
        else:
            o = y * w * 2 + x * 2
            gcb, gcr = got[o + 1], got[o + 3]
        check(f"Cb({x},{y})", gcb, cb)
        check(f"Cr({x},{y})", gcr, cr)
print(f"{fourcc}: every sample within {worst:.2f} of the reference")
PY
}
