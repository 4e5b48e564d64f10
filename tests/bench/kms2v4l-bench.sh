#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# kms2v4l benchmark (not a test): run in the VM,
#   scripts/vm-run --timeout 1200 -- tests/bench/kms2v4l-bench.sh [SECONDS] [compose|memory|damage|yuv|vnc|all|mirror]
#
# compose: for each mode (640x480, which the guest sustains, and 1920x1080, which
# it does not under emulation) and over equal spans, measures
#   (a) vkms composing for CRC only (compositions counted with the
#       workqueue tracepoint, since the CRC file back-fills lines),
#   (b) kms2v4l capture to a client that dequeues and requeues
#       (v4l2-share bench idle),
#   (c) a writeback loop, one atomic commit per frame, as a user of
#       today's vkms must do,
# and prints frames delivered, frames dropped (vblanks without a frame)
# and guest CPU time per delivered frame (all CPUs: wall time less idle time),
# then the ratios (b)/(a) and (b)/(c) of CPU per frame.
#
# memory: for the same modes, CPU per delivered frame when the frame is
# held (and read, one word per 64-byte line) as
#   (m) MMAP, by the capturing process,
#   (d) DMABUF import of vgem buffers, through vgem's mapping,
#   (e) MMAP + EXPBUF, by a second process through its dma-buf mapping,
# and the ratios (d)/(m) and (e)/(m): nothing copies, so all are near 1.
#
# damage: at 1920x1080@60 with partial frames and on-change pacing
# (v4l2-damage-check bench-*, which is the KMS client itself: primary
# plane and cursor), CPU per delivered frame of
#   (f) a full-screen flip at every vblank,
#   (d) a 192x108 square (1 % of the frame) moving at every vblank,
#       flipped with FB_DAMAGE_CLIPS,
#   (F), (D) the flips of (f) and (d) with no capture stream (the KMS
#       client's and vkms's own cost, which the capture adds to),
# beside (m) a plain memcpy of one 1920x1080 XRGB8888 frame in the
# guest, and CPU per second of a static screen
#   (t) over the span from its first frame,
#   (s) settled: from 7 s after its first frame (vkms's vblank timer
#       stops after DRM's 5 s vblank off delay when no frame is due),
# with the ratios (f)/(m), (d)/(f) and ((d)-(D))/((f)-(F)) per frame and
# (t)/(f), (s)/(f) per second, less the idle guest's own CPU.
# vnc: at 1920x1080@60, the flips (no capture of their own) served by
# v4l2vnc (its defaults: on-change pacing, frames' damage from the
# damage node) to one libvncclient viewer (tests/vm/v4l2vnc-client
# count, asking for tight, zrle and raw, libvncclient's own order): the
# frames v4l2vnc took and the updates the viewer got, the server's CPU
# (all its threads, from their run times) per frame and the bytes it
# sent per update, for
#   (f) a full-screen flip at every vblank, every pixel repainted
#       (v4l2-damage-check bench-repaint),
#   (d) the 1 % square of damage's (d),
#   (s) a static screen: its CPU per second and bytes in the span,
# with the ratios (d)/(f) of bytes per update and CPU per frame.
# yuv: at 1920x1080@60 through gst-launch-1.0 v4l2src ! fakesink, CPU
# per frame of (r) XR24 capture, (y) NV12 composed by the kernel and
# (x) XR24 + a userspace videoconvert to NV12, with (y)/(r) and (y)/(x).
#
# mirror: the core reading a scanout driver's CRTC back
# (kms2v4l_mirror_init()), in a VM whose display is QEMU's standard VGA
# (bochs-drm) or virtio-gpu:
#   scripts/vm-run --vga std -m kms2v4l,bochs --timeout 1200 -- tests/bench/kms2v4l-bench.sh 10 mirror
#   scripts/vm-run --vga virtio -m kms2v4l,virtio-gpu --timeout 1200 -- tests/bench/kms2v4l-bench.sh 10 mirror
# at 1024x768@60 with partial frames and on-change pacing (neither driver
# has vblanks: v4l2-damage-check --driver paces its flips at 60 Hz),
# CPU per delivered frame of (f) full-screen flips, (d) a 1 % square
# moving, flipped with FB_DAMAGE_CLIPS, (F), (D) the same flips with no
# capture, (k) ffmpeg -f kmsgrab (as root) reading the CRTC at 60 Hz
# during (F)'s flips, each frame downloaded to memory (hwdownload, a
# copy as a capture makes; counted from its first frame), beside (m) a
# memcpy of one 1024x768 XRGB8888 frame, with (f)/(m), (d)/(f),
# ((d)-(D))/((f)-(F)) and (f)-(F) against (k)-(F). Where kmsgrab cannot
# read the driver's framebuffers, the row says why.
#
# Each case runs 3 interleaved spans of SECONDS (in every part); the
# span with the least CPU per frame is shown.
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"

SPAN=${1:-10}
WHAT=${2:-all}
if [ "$WHAT" = mirror ]; then
	dev=$(video_by_name '^(bochs-drm|virtio_gpu) card[0-9]+ CRTC 0$') ||
		fail "no bochs or virtio-gpu mirror node (boot with scripts/vm-run --vga std -m kms2v4l,bochs)"
else
	dev=$(kms2v4l_node) || fail "no kms2v4l node"
fi
trace=/sys/kernel/debug/tracing
crc=/sys/kernel/debug/dri/0/crtc-0/crc

# Busy CPU milliseconds so far, all CPUs: wall time less idle time. The
# kernel's idle time is exact (NOHZ); its user/system ticks are samples
# that charge a whole tick to any CPU found busy, which at 60 short
# wake-ups a second counts a jiffy for each.
ncpu=$(nproc)
busy_ms() { awk -v n="$ncpu" '{ printf "%d\n", ($1 * n - $2) * 1000 }' /proc/uptime; }
# Local timer interrupts so far, all CPUs (vkms's vblank timer is one of
# their sources: 60 a second while it runs).
timer_irqs() { awk '$1 == "LOC:" { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }' /proc/interrupts; }
stamp() { echo "$(busy_ms) $(timer_irqs)"; }

# measure NAME CMD...: run CMD for the span; CMD prints the frames it got.
declare -A CPU FRAMES IRQS
measure() {
	local name=$1 t0 t1 i0 i1 frames
	shift
	stamp >"$T0_FILE"
	: >"$T1_FILE"
	frames=$("$@")
	read -r t1 i1 < <(stamp)
	read -r t0 i0 <"$T0_FILE"	# a CMD may start its span later
	[ ! -s "$T1_FILE" ] || read -r t1 i1 <"$T1_FILE"	# and end it earlier
	IRQS[$name]=$(awk -v i=$((i1 - i0)) -v span="$SPAN" 'BEGIN { printf "%.0f", i / span }')
	FRAMES[$name]=$frames
	CPU[$name]=$(awk -v t=$((t1 - t0)) -v f="$frames" \
		'BEGIN { printf "%.2f", f ? t / f : 0 }')
}

crc_only() {
	echo 0 >"$trace/tracing_on"
	echo >"$trace/trace"
	echo 1 >"$trace/events/workqueue/workqueue_execute_start/enable"
	echo auto >"$crc/control"
	echo 1 >"$trace/tracing_on"
	timeout "$SPAN" cat "$crc/data" >/dev/null || true
	echo 0 >"$trace/tracing_on"
	echo 0 >"$trace/events/workqueue/workqueue_execute_start/enable"
	grep -c 'vkms_composer_worker' "$trace/trace" || true
}

wb_loop() {
	"$TOOLS/kms-wb-loop" --mode "$1" --seconds "$SPAN" --check-every 0 |
		sed -n 's/^frames \([0-9]*\) .*/\1/p'
}

header() { printf '%-10s %-26s %8s %8s %14s\n' mode case frames dropped "CPU ms/frame"; }

# report MODE "X/Y ..." K:WHAT...: a row per case K, then the ratios X/Y
# of CPU per delivered frame.
report() {
	local mode=$1 pairs=$2 kw r ratios=
	shift 2
	for kw in "$@"; do
		local dropped=$((SPAN * 60 - FRAMES[${kw%%:*}]))
		[ "$dropped" -ge 0 ] || dropped=-	# not frames of the CRTC (memcpy)
		printf '%-10s %-26s %8s %8s %14s\n' "$mode" "(${kw%%:*}) ${kw#*:}" \
			"${FRAMES[${kw%%:*}]}" "$dropped" "${CPU[${kw%%:*}]}"
	done
	for r in $pairs; do
		ratios+=$(awk -v x="${CPU[${r%/*}]}" -v y="${CPU[${r#*/}]}" -v r="$r" \
			'BEGIN { split(r, k, "/"); printf "   (%s)/(%s) = %.2f", k[1], k[2], y ? x / y : 0 }')
	done
	printf '%-10s%s   (CPU per delivered frame)\n' "$mode" "$ratios"
}

share() { "$TOOLS/v4l2-share" bench "$dev" "$1" "$SPAN"; }

# The idle guest for the span (one "frame", so CPU per frame is the total).
idle_span() { sleep "$SPAN"; echo 1; }
T0_FILE=$(mktemp) T1_FILE=$(mktemp)

# A static screen, measured from SETTLE s after its first frame (past
# DRM's 5 s vblank off delay) for the span; prints its frames.
SETTLE=7
static_settled() {
	local out pid
	out=$(mktemp)
	"$TOOLS/v4l2-damage-check" --mode 1920x1080@60 bench-static $((SETTLE + SPAN)) "$dev" >"$out" &
	pid=$!
	sleep "$SETTLE"
	stamp >"$T0_FILE"
	wait $pid
	cat "$out"
	rm -f "$out"
}

# best K:CMD...: three interleaved rounds of the cases, and for each case
# the round with the least CPU per frame kept: a busy host slows some
# rounds, never speeds one up. CMD is split on spaces.
best() {
	local round kc k
	for round in 1 2 3; do
		for kc in "$@"; do
			k=${kc%%:*}
			# shellcheck disable=SC2086
			measure "$k$round" ${kc#*:}
			if [ "$round" = 1 ] || awk -v a="${CPU[$k$round]}" -v b="${CPU[$k]}" \
				'BEGIN { exit !(a < b) }'; then
				CPU[$k]=${CPU[$k$round]}
				FRAMES[$k]=${FRAMES[$k$round]}
				IRQS[$k]=${IRQS[$k$round]}
			fi
		done
	done
}

compose() {
	header
	for mode in 640x480@60 1920x1080@60; do
		scene_start --mode "$mode" gradient
		best a:crc_only "b:share idle"
		scene_stop
		best "c:wb_loop $mode"
		report "${mode%@*}" "b/a b/c" "a:CRC only" "b:kms2v4l" "c:writeback"
	done
}

memory() {
	modprobe vgem
	header
	for mode in 640x480@60 1920x1080@60; do
		scene_start --mode "$mode" gradient
		best "m:share mmap" "d:share dmabuf" "e:share expbuf"
		scene_stop
		report "${mode%@*}" "d/m e/m" "m:MMAP" "d:DMABUF import (vgem)" "e:MMAP+EXPBUF, 2nd proc"
	done
}

# report_flips MODE: the rows of the flip cases m, f, d, F, D (damage and
# mirror), then what the capture itself costs: each case less its flips
# alone.
report_flips() {
	header
	report "$1" "f/m d/f" "m:memcpy of a frame" "f:full-screen flips" \
		"d:1 % square moving" "F:(f)'s flips, no capture" "D:(d)'s flips, no capture"
	awk -v f="${CPU[f]}" -v F="${CPU[F]}" -v d="${CPU[d]}" -v D="${CPU[D]}" -v mode="$1" \
		'BEGIN { printf "%-10s   capture alone: (f)-(F) %.2f, (d)-(D) %.2f CPU ms/frame: ((d)-(D))/((f)-(F)) = %.3f\n",
			mode, f - F, d - D, (f > F) ? (d - D) / (f - F) : 0 }'
}

damage() {
	local m=1920x1080@60 dc="$TOOLS/v4l2-damage-check --mode 1920x1080@60"
	best "m:$dc bench-memcpy $SPAN" "f:$dc bench-full $SPAN $dev" \
		"d:$dc bench-square $SPAN $dev" "F:$dc --no-capture bench-full $SPAN $dev" \
		"D:$dc --no-capture bench-square $SPAN $dev" \
		"t:$dc bench-static $SPAN $dev" "s:static_settled" "i:idle_span"
	# the guest's own CPU time while idle, per second (TCG timers, ticks)
	local idle_ms
	idle_ms=$(awk -v c="${CPU[i]}" -v span="$SPAN" 'BEGIN { printf "%.1f", c / span }')
	report_flips "${m%@*}"
	# (t), (s): CPU per second above the idle guest's, against (f)'s
	awk -v t="${CPU[t]}" -v tf="${FRAMES[t]}" -v s="${CPU[s]}" -v sf="${FRAMES[s]}" \
		-v f="${CPU[f]}" -v ff="${FRAMES[f]}" -v span="$SPAN" -v settle="$SETTLE" \
		-v mode="${m%@*}" -v idle="$idle_ms" 'BEGIN {
		ts = t * tf / span - idle; ss = s * sf / span - idle; fs = f * ff / span - idle
		printf "%-10s %-26s %8s %8s %14s\n", mode, "(t) static, first span", tf, "-", "-"
		printf "%-10s %-26s %8s %8s %14s\n", mode, "(s) static, settled", sf, "-", "-"
		printf "%-10s   idle guest %.1f CPU ms/s; above it: (t) %.1f, (s) %.1f (from %d s after its frame), (f) %.1f CPU ms/s: (t)/(f) = %.3f   (s)/(f) = %.3f   (CPU per second)\n",
			mode, idle, ts, ss, settle, fs, fs ? ts / fs : 0, fs ? ss / fs : 0 }'
	printf '%-10s   local timer interrupts per second: idle guest %s, (t) %s, (s) %s, (f) %s\n' \
		"${m%@*}" "${IRQS[i]}" "${IRQS[t]}" "${IRQS[s]}" "${IRQS[f]}"
}

# vnc_case K BENCH: one span of v4l2vnc serving the flips of
# v4l2-damage-check BENCH to a viewer, from 3 s after it connected; keeps
# VFRAMES[K], VUPD[K], VBYTES[K] (per update; per span for a static
# screen), VCPU[K] (ms per frame; per second for a static screen) if its
# CPU is the least of the rounds so far.
declare -A VFRAMES VUPD VBYTES VCPU
VNC_PORT=5911
task_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ n += $1 } END { printf "%.0f\n", n }'; }
# viewer_updates PID OUT: the viewer's update count, asked by SIGUSR1
viewer_updates() {
	local l
	l=$(usr1_line "$1" "$2" '^updates' 30)
	[ "$l" != stuck ] || fail "the viewer gave no update count: $(cat "$2")"
	echo "${l#updates }"
}
vnc_case() {
	local k=$1 what=$2 log flips vnc viewer s0 s1 n0 n1 u0 u1 frames upd bytes cpu
	log=$(mktemp)
	"$TOOLS/v4l2-damage-check" --no-capture --mode 1920x1080@60 "$what" $((SPAN + 90)) "$dev" \
		>/dev/null 2>&1 &
	flips=$!
	sleep 2 # the mode set
	"$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc" --device "$dev" --port $VNC_PORT >"$log" 2>&1 &
	vnc=$!
	wait_listen "127\\.0\\.0\\.1:$VNC_PORT " "$vnc" "$log"
	"$KMS2V4L_BUILD/tests/vm/v4l2vnc-client" count 127.0.0.1:$VNC_PORT $((SPAN + 90)) \
		"tight zrle raw" >"$log.viewer" 2>&1 &
	viewer=$!
	sleep 3
	# The viewer's count around the server's; its loop may wait for an
	# update being encoded before it answers SIGUSR1: a long wait.
	u0=$(viewer_updates $viewer "$log.viewer")
	n0=$(task_ns "$vnc")
	s0=$(v4l2vnc_stats "$vnc" "$log" 30)
	sleep "$SPAN"
	s1=$(v4l2vnc_stats "$vnc" "$log" 30)
	n1=$(task_ns "$vnc")
	u1=$(viewer_updates $viewer "$log.viewer")
	kill $viewer $flips 2>/dev/null || true
	stop_within "$vnc" 30
	wait $viewer $flips 2>/dev/null || true
	{ [ "$s0" != stuck ] && [ "$s1" != stuck ]; } || fail "v4l2vnc ($what) gave no statistics: $(cat "$log")"
	grep -q "clients 1 now" <<<"$s1" ||
		fail "v4l2vnc ($what): the viewer is not connected: $s1; viewer: $(cat "$log.viewer")"
	rm -f "$log" "$log.viewer"
	frames=$(($(stat_field "$s1" frames) - $(stat_field "$s0" frames)))
	upd=$((${u1:-0} - ${u0:-0}))
	bytes=$(($(stat_field "$s1" "bytes to current clients") - $(stat_field "$s0" "bytes to current clients")))
	if [ "$k" = s ]; then
		cpu=$(awk -v n=$((n1 - n0)) -v span="$SPAN" 'BEGIN { printf "%.2f", n / 1e6 / span }')
	else
		{ [ "$frames" -gt 0 ] && [ "$upd" -gt 0 ]; } ||
			fail "v4l2vnc ($what): $frames frames, $upd updates in $SPAN s"
		cpu=$(awk -v n=$((n1 - n0)) -v f="$frames" 'BEGIN { printf "%.2f", n / 1e6 / f }')
		bytes=$((bytes / upd))
	fi
	if [ -z "${VCPU[$k]:-}" ] || awk -v a="$cpu" -v b="${VCPU[$k]}" 'BEGIN { exit !(a < b) }'; then
		VFRAMES[$k]=$frames VUPD[$k]=$upd VBYTES[$k]=$bytes VCPU[$k]=$cpu
	fi
}

vnc() {
	local m=1920x1080 round
	ip link set lo up || fail "ip link set lo up"
	for round in 1 2 3; do
		vnc_case f bench-repaint
		vnc_case d bench-square
		vnc_case s bench-static
	done
	printf '%-10s %-26s %8s %8s %14s %14s\n' mode "case (v4l2vnc, a viewer)" frames updates \
		"CPU ms/frame" "bytes/update"
	printf '%-10s %-26s %8s %8s %14s %14s\n' $m "(f) full-screen repaint" "${VFRAMES[f]}" \
		"${VUPD[f]}" "${VCPU[f]}" "${VBYTES[f]}"
	printf '%-10s %-26s %8s %8s %14s %14s\n' $m "(d) 1 % square moving" "${VFRAMES[d]}" \
		"${VUPD[d]}" "${VCPU[d]}" "${VBYTES[d]}"
	printf '%-10s %-26s %8s %8s %14s %14s\n' $m "(s) static" "${VFRAMES[s]}" "${VUPD[s]}" \
		"${VCPU[s]}/s" "${VBYTES[s]}/span"
	awk -v fc="${VCPU[f]}" -v dc="${VCPU[d]}" -v fb="${VBYTES[f]}" -v db="${VBYTES[d]}" -v m=$m \
		-v sb="${VBYTES[s]}" -v span="$SPAN" 'BEGIN {
		printf "%-10s   (d)/(f) = %.4f in bytes per update, %.3f in server CPU per frame; (s) sent %d bytes in %d s\n",
			m, fb ? db / fb : 0, fc ? dc / fc : 0, sb, span }'
}

# gst_frames CAPS [CONVERT_TO]: frames through gst-launch-1.0 v4l2src in
# CAPS (then videoconvert to CONVERT_TO, if given) into a fakesink, for
# the span.
gst_frames() {
	local conv=()
	[ $# -gt 1 ] && conv=(videoconvert ! "video/x-raw,format=$2" !)
	timeout -s INT "$SPAN" gst-launch-1.0 -e -v v4l2src device="$dev" ! "video/x-raw,format=$1" ! \
		"${conv[@]}" fakesink name=sink silent=false {SCENE_FD}>&- 2>&1 |
		grep -c 'sink: last-message = chain' || true
}

yuv() {
	local m=1920x1080@60
	scene_start --mode $m gradient
	best "r:gst_frames BGRx" "y:gst_frames NV12" "x:gst_frames BGRx NV12"
	scene_stop
	header
	report "${m%@*}" "y/r y/x" "r:XR24 (BGRx) capture" "y:NV12 by the kernel" \
		"x:XR24 + videoconvert to NV12"
}

# kmsgrab_frames CMD...: ffmpeg -f kmsgrab reading the card of the
# mirror node at 60 Hz, each frame downloaded into memory, while CMD (the
# flips) runs; the span starts at its first frame (its start-up is not
# the capture's cost); prints the frames it got, 0 if it got none (its
# error in $KMSGRAB_ERR).
KMSGRAB_ERR=$(mktemp)
kmsgrab_frames() {
	local card progress flips ff f0=0 f1=0
	card=/dev/dri/card$(node_ids "$dev" | cut -d' ' -f2)
	progress=$(mktemp)
	"$@" >/dev/null &
	flips=$!
	ffmpeg -nostdin -loglevel error -device "$card" -f kmsgrab -framerate 60 -i - \
		-vf hwdownload,format=bgr0 -f null -stats_period 0.1 -progress "$progress" - >"$KMSGRAB_ERR" 2>&1 &
	ff=$!
	for _ in $(seq 300); do
		f0=$(sed -n 's/^frame=//p' "$progress" | tail -1)
		[ "${f0:-0}" -gt 0 ] && break
		kill -0 $ff 2>/dev/null || break
		sleep 0.1
	done
	if [ "${f0:-0}" -gt 0 ]; then
		stamp >"$T0_FILE"
		sleep "$SPAN"
		f1=$(sed -n 's/^frame=//p' "$progress" | tail -1)
		stamp >"$T1_FILE"
		: >"$KMSGRAB_ERR"
	fi
	kill -INT $ff 2>/dev/null || true
	wait $ff 2>/dev/null || true
	kill $flips 2>/dev/null || true
	wait $flips 2>/dev/null || true
	rm -f "$progress"
	echo $((${f1:-0} - ${f0:-0}))
}

# copy_counted K CMD...: CMD, adding the mirror's copies in it, the time
# they took and the framebuffer bytes they read (its debugfs counters) to
# the lines of K in $COPIES
COPIES=$(mktemp)
copy_counted() {
	local k=$1 c0 n0 b0
	shift
	c0=$(cat "$dbg/mirror_copies") n0=$(cat "$dbg/mirror_copy_ns") b0=$(cat "$dbg/mirror_read_bytes")
	"$@"
	echo "$k $(($(cat "$dbg/mirror_copies") - c0)) $(($(cat "$dbg/mirror_copy_ns") - n0))" \
		"$(($(cat "$dbg/mirror_read_bytes") - b0))" >>"$COPIES"
}

mirror() {
	local m=1024x768@60 drv dc dbg
	drv=$(node_ids "$dev" | cut -d' ' -f1)
	dbg=$(mirror_debugfs "$dev") || fail "$dev is not a mirror node"
	[ -r "$dbg/mirror_copy_ns" ] || fail "no $dbg/mirror_copy_ns"
	dc="$TOOLS/v4l2-damage-check --driver $drv --mode $m"
	# the flips of (k) last past its span: ffmpeg starts late
	best "m:$dc bench-memcpy $SPAN" "f:copy_counted f $dc bench-full $SPAN $dev" \
		"d:copy_counted d $dc bench-square $SPAN $dev" \
		"F:$dc --no-capture bench-full $SPAN $dev" \
		"D:$dc --no-capture bench-square $SPAN $dev" \
		"k:kmsgrab_frames $dc --no-capture bench-full $((SPAN * 4)) $dev"
	echo "driver: $drv"
	report_flips "${m%@*}"
	# the copies alone, over all three spans: the time in the worker's
	# copy (debugfs mirror_copy_ns), not the frame's delivery
	awk -v m="${CPU[m]}" -v mode="${m%@*}" '
		{ n[$1] += $2; t[$1] += $3; b[$1] += $4 }
		END {
			cf = n["f"] ? t["f"] / n["f"] / 1e6 : 0
			cd = n["d"] ? t["d"] / n["d"] / 1e6 : 0
			printf "%-10s   the copy alone (debugfs): (f) %.3f ms and %d bytes in each of %d copies, (d) %.3f ms and %d bytes in each of %d: (f)/(m) = %.2f   (d)/(f) = %.4f\n",
				mode, cf, n["f"] ? b["f"] / n["f"] : 0, n["f"], cd, n["d"] ? b["d"] / n["d"] : 0,
				n["d"], m ? cf / m : 0, cf ? cd / cf : 0 }' "$COPIES"
	if [ "${FRAMES[k]}" = 0 ]; then
		printf '%-10s   (k) kmsgrab cannot read %s: %s\n' "${m%@*}" "$drv" \
			"$(tr '\n' ' ' <"$KMSGRAB_ERR")"
		return
	fi
	# kmsgrab reads at its own rate, repeats included: no drop count
	printf '%-10s %-26s %8s %8s %14s\n' "${m%@*}" "(k) ffmpeg -f kmsgrab" "${FRAMES[k]}" \
		- "${CPU[k]}"
	awk -v f="${CPU[f]}" -v F="${CPU[F]}" -v k="${CPU[k]}" -v mode="${m%@*}" \
		'BEGIN { printf "%-10s   capture alone: kms2v4l (f)-(F) %.2f, kmsgrab (k)-(F) %.2f CPU ms/frame: ((f)-(F))/((k)-(F)) = %.3f\n",
			mode, f - F, k - F, (k > F) ? (f - F) / (k - F) : 0 }'
}

case $WHAT in
mirror) mirror ;;
compose) compose ;;
memory) memory ;;
damage) damage ;;
yuv) yuv ;;
vnc) vnc ;;
all) compose; memory; damage; yuv; vnc ;;
*) fail "what to measure: compose, memory, damage, yuv, vnc, all or mirror, not '$WHAT'" ;;
esac
