#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile clients on both ports stall no viewer and no capture, and crash
# nothing: v4l2vnc built with ASan and UBSan (v4l2vnc-asan) serves a moving
# vivid picture with a password, noVNC's web port and --input.  A logged-in
# viewer counts its updates for $B s alone, then for $A s while, all at
# once (tests/vm/v4l2vnc-client.c): 500 connections that never speak on
# each port; slowloris trickling a WebSocket upgrade into the VNC port and
# an HTTP request into the web port; wrong passwords in a loop; malformed
# and oversized RFB messages, one connection each (SetEncodings of 65535,
# 1 MiB and 4 GiB ClientCutText, bad SetPixelFormat, FramebufferUpdate-
# Request outside the screen, key and pointer floods, pixel formats
# flipping under updates, ...).  Passes when the viewer keeps at least half
# its update rate and capture half its frame rate, the daemon's CPU stays
# within one core of its CPU alone (the attack's own work costs it about
# half a core, a spinning thread would add a whole one; the margin keeps a
# loaded host from failing it), noVNC's page is served meanwhile, the caps,
# the handshake deadline and the blacklist did their part, every message
# got its answer (valid: served, invalid: dropped).  Then the same for $E s
# of silent connections while the daemon is out of file descriptors
# (prlimit): no spinning, the viewer and capture go on, and once the
# limit is back noVNC's page is served within 4 s.  The daemon then exits
# 0 on SIGTERM with no sanitizer report (leaks included).  Then the TLS
# web path (--tls-generate: HTTPS on the web port, wss on the VNC port)
# on a new daemon: for $A s, 500 silent connections on each port,
# slowloris trickling a TLS ClientHello into each, junk where the
# ClientHello belongs (a TLS record with no handshake inside, and bytes
# that are no TLS at all) on each; the viewer keeps half its rate,
# capture half its frame rate, the junk is closed within 8 s (the 5 s
# handshake deadline at most), the slowloris on the VNC port is cut at
# that deadline (GnuTLS's own timeout restarted with each byte), and a wss
# upgrade from our https origin and the page over HTTPS are served
# meanwhile; no sanitizer report at the end either.
# Ratios within one run: the VM's speed varies.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc-asan
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client
PORT=5901 WEB=6081 B=4 A=12 E=4
[ -x "$V" ] || skip "no $V (the compiler cannot link ASan+UBSan, or -DKMS2V4L_SANITIZED_DAEMON=OFF)"
[ -f /usr/share/novnc/vnc.html ] || fail "no /usr/share/novnc/vnc.html (package novnc)"

ip link set lo up || fail "ip link set lo up"
modprobe uinput || fail "modprobe uinput"
dev=$(vivid_node) || fail "no vivid capture node"
v4l2-ctl -d "$dev" -c horizontal_movement=5 -c vertical_movement=5 || fail "vivid controls"

san=/tmp/sanitizers
mkdir -p "$san"
pw=hostile1
printf '%s\n' "$pw" >/tmp/vnc-password
chmod 600 /tmp/vnc-password
export V4L2VNC_PASSWORD=$pw
pid= vpid= hostile=()
cleanup() {
	local p
	for p in "${hostile[@]}" $vpid; do kill "$p" 2>/dev/null || true; done
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
}
trap cleanup EXIT

ASAN_OPTIONS=log_path=$san/asan:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$san/ubsan:print_stacktrace=1:halt_on_error=1 \
	"$V" --device "$dev" --format XR24 --size 640x480 --listen 127.0.0.1 --port $PORT \
	--web $WEB --password-file /tmp/vnc-password --input 2>/tmp/v4l2vnc.log &
pid=$!
wait_listen "127\\.0\\.0\\.1:$PORT " "$pid" /tmp/v4l2vnc.log
wait_listen "127\\.0\\.0\\.1:$WEB " "$pid" /tmp/v4l2vnc.log

sanitizer_reports() { cat "$san"/* 2>/dev/null | head -60 || true; }
diagnose() {
	ss -tan 2>/dev/null | awk '$4 ~ /:(590[12]|608[12])$/ { print $1, $4 }' | sort | uniq -c >&2 || true
	[ -z "$pid" ] || ls "/proc/$pid/fd" 2>/dev/null | wc -l >&2 || true
	[ -z "$pid" ] || grep -E 'State|Threads' "/proc/$pid/status" >&2 || true
	tail -30 /tmp/v4l2vnc.log >&2 || true
	sanitizer_reports >&2
	cp /tmp/v4l2vnc.log "$KMS2V4L_BUILD/hostile-daemon.log" 2>/dev/null || true
}
die() { fail "$*"; }
on_fail() { diagnose; }

# The daemon's CPU time in ms (user + system, all threads).
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$pid/stat"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# The viewer's updates so far (it prints them on SIGUSR1).
updates() {
	local l
	kill -0 "$vpid" 2>/dev/null || die "the viewer is gone: $(cat /tmp/viewer.err)"
	l=$(usr1_line "$vpid" /tmp/viewer.out '^updates')
	[ "$l" != stuck ] || die "the viewer does not answer SIGUSR1"
	echo "${l#updates }"
}
# snap: viewer updates, captured frames, daemon CPU ms, time ms.
snap() {
	local s
	s=$(v4l2vnc_stats "$pid" /tmp/v4l2vnc.log)
	[ "$s" != stuck ] || die "the daemon does not answer SIGUSR1 (its loop is stuck)"
	echo "$(updates) $(stat_field "$s" frames) $(cpu_ms) $(now_ms)"
}

# rates_hold WHEN UPDATES FRAMES MS CPU: against the baseline (the
# intervals differ in length), half the viewer's updates and half the
# captured frames at least, and at most one core more CPU.
rates_hold() {
	[ $((2 * $2 * base_t)) -ge $((base_u * $4)) ] ||
		die "viewer $1: $2 updates in $4 ms, less than half of $base_u in $base_t ms alone"
	[ $((2 * $3 * base_t)) -ge $((base_f * $4)) ] ||
		die "capture $1: $3 frames in $4 ms, less than half of $base_f in $base_t ms alone"
	[ "$5" -le $((base_cpu + 100)) ] ||
		die "v4l2vnc used $5 % of a core $1, $base_cpu % alone: more than one core more"
}

# baseline LABEL: the viewer (vpid) alone for $B s: its updates, the
# frames captured and the daemon's CPU (base_u, base_f, base_cpu in
# base_t ms).
baseline() {
	"$C" count 127.0.0.1:$PORT 600 >/tmp/viewer.out 2>/tmp/viewer.err &
	vpid=$!
	sleep 2 # logged in, first whole update received
	s=$(snap) || exit 1
	read -r u0 f0 c0 t0 <<<"$s"
	sleep $B
	s=$(snap) || exit 1
	read -r u1 f1 c1 t1 <<<"$s"
	base_u=$((u1 - u0)) base_f=$((f1 - f0)) base_t=$((t1 - t0))
	base_cpu=$(((c1 - c0) * 100 / base_t))
	info "$1: $base_u updates, $base_f frames, $base_cpu % CPU in $base_t ms"
	[ "$base_u" -ge 5 ] || die "baseline too small to compare ($base_u updates)"
}
baseline alone

# The attack, from addresses of their own (each has its own caps and
# blacklist entry; the viewer and the messages come from 127.0.0.1).
h() { "$C" "$@" & hostile+=($!); }
h flood 127.0.0.1:$PORT 127.0.0.2 500 $A >/tmp/flood-vnc.out
h flood 127.0.0.1:$WEB 127.0.0.2 500 $A >/tmp/flood-web.out
h slowloris 127.0.0.1:$PORT 127.0.0.4 6 $A ws >/tmp/slow-vnc.out
h slowloris 127.0.0.1:$WEB 127.0.0.5 48 $A http >/tmp/slow-web.out
h passwords 127.0.0.1:$PORT 127.0.0.3 $A >/tmp/passwords.out
h messages 127.0.0.1:$PORT 0 2 >/tmp/messages-even.out
h messages 127.0.0.1:$PORT 1 2 >/tmp/messages-odd.out
sleep 4
"$C" http 127.0.0.1:$WEB /vnc.html >/tmp/http.out || die "GET /vnc.html during the attack: $(cat /tmp/http.out)"
failed=
for p in "${hostile[@]}"; do wait "$p" || failed+=" $p"; done
hostile=()
s=$(snap) || exit 1
read -r u2 f2 c2 t2 <<<"$s"
att_u=$((u2 - u1)) att_f=$((f2 - f1)) att_t=$((t2 - t1)) cpu=$(((c2 - c1) * 100 / (t2 - t1)))
cat /tmp/flood-vnc.out /tmp/flood-web.out /tmp/slow-vnc.out /tmp/slow-web.out \
	/tmp/passwords.out /tmp/messages-even.out /tmp/messages-odd.out /tmp/http.out | sed "s/^/$T: /"
info "attacked: $att_u updates, $att_f frames, $cpu % CPU in $att_t ms"
stats=$(v4l2vnc_stats "$pid" /tmp/v4l2vnc.log)
info "${stats#*: }"

kill -0 "$pid" 2>/dev/null || die "v4l2vnc died"
[ -z "$failed" ] || die "a hostile client failed (pids$failed): see its lines above"
rates_hold "during the attack" "$att_u" "$att_f" "$att_t" "$cpu"
# What the daemon's defences must have done.
read -r _ open closed _ <<<"$(sed -n 's/^flood: \([0-9]*\) open, \([0-9]*\) closed.*/x \1 \2 x/p' /tmp/flood-vnc.out)"
[ "${closed:-0}" -ge 450 ] || die "VNC port: only ${closed:-?} of 500 silent connections closed (caps: 32, 8 per address)"
read -r _ closed held <<<"$(sed -n 's/^slowloris: \([0-9]*\) closed, longest held \([0-9]*\) ms.*/x \1 \2/p' /tmp/slow-vnc.out)"
[ "${closed:-0}" -ge 6 ] && [ "${held:-99999}" -le 8000 ] ||
	die "VNC port: slowloris connections were not cut at the 5 s handshake deadline (${closed:-?} cut, one held ${held:-?} ms)"
tries=$(sed -n 's/^passwords: \([0-9]*\) tries.*/\1/p' /tmp/passwords.out)
wrong=$(stat_field "$stats" "wrong passwords")
[ "${tries:-0}" -ge 20 ] || die "only ${tries:-0} password tries in $A s"
[ "${wrong:-99}" -le 10 ] || die "$wrong wrong passwords checked in $A s: the blacklist did not block 127.0.0.3"
grep -q '^http: 200 ' /tmp/http.out || die "noVNC's page not served during the attack"

# Out of file descriptors (EMFILE): the daemon may open only 8 more while
# 100 silent connections hit each port for $E s.  Accepting pauses
# instead of spinning (VNC: logged; web: libmicrohttpd), the viewer and
# capture go on.  Once the limit is back, noVNC's page at once (it took
# 31 s: libmicrohttpd watched its listening socket again only in a run
# after the one that freed a connection, which came at an idle timeout).
limit=$(prlimit --pid "$pid" --nofile --output SOFT,HARD --noheadings | awk '{ print $1 ":" $2 }')
# The limit is on fd numbers: 8 free ones below it.
room=$(ls "/proc/$pid/fd" | awk '{ used[$1] } END { for (n = 0; free < 8; n++) if (!(n in used)) free++; print n }')
prlimit --pid "$pid" --nofile="$room" || die "prlimit"
s=$(snap) || exit 1
read -r u3 f3 c3 t3 <<<"$s"
h flood 127.0.0.1:$PORT 127.0.0.6 100 $E >/tmp/emfile-vnc.out
h flood 127.0.0.1:$WEB 127.0.0.6 100 $E >/tmp/emfile-web.out
for p in "${hostile[@]}"; do wait "$p" || die "flood at the fd limit: $(cat /tmp/emfile-*.out)"; done
hostile=()
s=$(snap) || exit 1
read -r u4 f4 c4 t4 <<<"$s"
prlimit --pid "$pid" --nofile="$limit" || die "prlimit"
fd_u=$((u4 - u3)) fd_f=$((f4 - f3)) fd_t=$((t4 - t3)) fd_cpu=$(((c4 - c3) * 100 / (t4 - t3)))
info "at the fd limit: $fd_u updates, $fd_f frames, $fd_cpu % CPU in $fd_t ms"
"$C" http 127.0.0.1:$WEB /vnc.html >/tmp/http-after.out || true
back=$(sed -n 's/^http: 200 \([0-9]*\) ms$/\1/p' /tmp/http-after.out)
info "noVNC's page once the fd limit is back: $(cat /tmp/http-after.out)"
[ -n "$back" ] && [ "$back" -le 4000 ] ||
	die "noVNC's page not served within 4 s once the fd limit was back: $(cat /tmp/http-after.out)"
grep -q 'VNC accept: Too many open files; pausing' /tmp/v4l2vnc.log ||
	die "the VNC port never hit the fd limit"
rates_hold "at the fd limit" "$fd_u" "$fd_f" "$fd_t" "$fd_cpu"

# SIGTERM: a clean exit, and only then the leak check has run.
sanitizers_clean() {
	stop_within "$pid" 15
	pid=
	if ls "$san"/* >/dev/null 2>&1; then
		sanitizer_reports
		fail "sanitizer reports in $san"
	fi
	! grep -E 'runtime error|AddressSanitizer|LeakSanitizer' /tmp/v4l2vnc.log ||
		fail "sanitizer output in the daemon's log"
	kill "$vpid" 2>/dev/null || true
	vpid=
}
sanitizers_clean

# The TLS web path.  Same password, same viewer (plain RFB on the VNC
# port), new ports.
PORT=5902 WEB=6082
ASAN_OPTIONS=log_path=$san/asan:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$san/ubsan:print_stacktrace=1:halt_on_error=1 \
	"$V" --device "$dev" --format XR24 --size 640x480 --listen 127.0.0.1 --port $PORT \
	--web $WEB --tls-generate --password-file /tmp/vnc-password --input 2>/tmp/v4l2vnc.log &
pid=$!
wait_listen "127\\.0\\.0\\.1:$PORT " "$pid" /tmp/v4l2vnc.log
wait_listen "127\\.0\\.0\\.1:$WEB " "$pid" /tmp/v4l2vnc.log
baseline "TLS, alone"
h flood 127.0.0.1:$PORT 127.0.0.2 500 $A >/tmp/flood-vnc.out
h flood 127.0.0.1:$WEB 127.0.0.2 500 $A >/tmp/flood-web.out
h slowloris 127.0.0.1:$PORT 127.0.0.4 6 $A tls >/tmp/slow-vnc.out
h slowloris 127.0.0.1:$WEB 127.0.0.5 48 $A tls >/tmp/slow-web.out
h junk 127.0.0.1:$PORT 127.0.0.7 10 >/tmp/junk-vnc.out
h junk 127.0.0.1:$WEB 127.0.0.7 10 >/tmp/junk-web.out
sleep 4
wss=$(python3 "$(dirname "$0")/ws-probe.py" https://127.0.0.1:$WEB /websockify $PORT -k | tail -1) || true
curl -sk --max-time 10 -o /dev/null -w '%{http_code} %{time_total}\n' \
	https://127.0.0.1:$WEB/vnc.html >/tmp/https.out || true
failed=
for p in "${hostile[@]}"; do wait "$p" || failed+=" $p"; done
hostile=()
s=$(snap) || exit 1
read -r u2 f2 c2 t2 <<<"$s"
att_u=$((u2 - u1)) att_f=$((f2 - f1)) att_t=$((t2 - t1)) cpu=$(((c2 - c1) * 100 / (t2 - t1)))
cat /tmp/flood-vnc.out /tmp/flood-web.out /tmp/slow-vnc.out /tmp/slow-web.out \
	/tmp/junk-vnc.out /tmp/junk-web.out | sed "s/^/$T: TLS: /"
info "TLS, attacked: $att_u updates, $att_f frames, $cpu % CPU in $att_t ms;" \
	"wss: $wss; https: $(cat /tmp/https.out)"
kill -0 "$pid" 2>/dev/null || die "v4l2vnc died"
[ -z "$failed" ] || die "a hostile client failed (pids$failed): see its lines above"
rates_hold "during the TLS attack" "$att_u" "$att_f" "$att_t" "$cpu"
[ "$wss" = "101 RFB" ] || die "wss from our https origin during the attack: $wss"
grep -q '^200 ' /tmp/https.out || die "noVNC's page over HTTPS not served during the attack: $(cat /tmp/https.out)"
for port in vnc web; do
	read -r _ cut n held <<<"$(sed -n 's/^junk: \([0-9]*\) of \([0-9]*\) closed.*longest \([0-9]*\) ms/x \1 \2 \3/p' /tmp/junk-$port.out)"
	[ -n "${n:-}" ] && [ "$cut" = "$n" ] ||
		die "$port port: junk in place of a ClientHello not closed within 8 s: $(cat /tmp/junk-$port.out)"
done
read -r _ closed held <<<"$(sed -n 's/^slowloris: \([0-9]*\) closed, longest held \([0-9]*\) ms.*/x \1 \2/p' /tmp/slow-vnc.out)"
[ "${closed:-0}" -ge 6 ] && [ "${held:-99999}" -le 8000 ] ||
	die "VNC port: TLS slowloris not cut at the 5 s handshake deadline (${closed:-?} cut, one held ${held:-?} ms)"
sanitizers_clean
modprobe -r vivid || fail "modprobe -r vivid"
info "PASS"
