#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc --web: Debian's noVNC is served over HTTP, also to many parallel
# requests (noVNC 1.3 loads dozens of ES modules at once), nothing outside
# the noVNC folder is served, and the VNC port accepts a websocket (what
# noVNC opens) and speaks RFB inside it -- but only from v4l2vnc's own page
# (its exact origin, or the token of the URL it prints): a page from
# another origin (http://evil.example) gets 403 and no RFB (issue 18).
# Without --web the VNC port takes no websocket at all.  A viewer connects
# over --listen unix:PATH (a 0600 socket) and over a socket systemd passes
# (systemd-socket-activate).
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc

[ -f /usr/share/novnc/vnc.html ] || skip "noVNC not installed (package novnc)"
ip link set lo up || fail "ip link set lo up"
dev=$(vivid_node) || fail "no vivid capture node"
# 2 frames/s: fewer wake-ups of vivid's capture thread, whose timeout
# computation races with a busy host (see userspace/README.md).
v4l2-ctl -d "$dev" -p 2 || fail "vivid frame rate"

pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
"$V" --device "$dev" --format XR24 --size 640x480 --port 5901 --web 6080 ${V4L2VNC_VERBOSE:+--verbose} \
	2> >(tee /tmp/v4l2vnc.log >&2) &
pid=$!
wait_listen '127\.0\.0\.1:6080 ' "$pid"
# Nothing listens beyond loopback (no IPv6 listener either).
ss -ltn | awk 'NR > 1 { print $4 }' | grep -vE '^(127\.0\.0\.1|\[::1\]):' &&
	fail "a socket listens beyond loopback"
curl -sf http://127.0.0.1:6080/vnc.html -o /tmp/vnc.html || fail "GET /vnc.html"
cmp -s /tmp/vnc.html /usr/share/novnc/vnc.html || fail "vnc.html differs from noVNC's"
curl -sf -D /tmp/h.txt -o /dev/null http://127.0.0.1:6080/app/ui.js || fail "GET /app/ui.js"
grep -qi '^Content-Type: application/javascript' /tmp/h.txt || fail "ui.js not served as JavaScript"
# Every module noVNC loads, all at once.
cd /usr/share/novnc
mapfile -t files < <(find app core vendor -name '*.js' -type f | sort | head -24)
[ ${#files[@]} -ge 20 ] || fail "noVNC has only ${#files[@]} modules?"
mkdir -p /tmp/got
cpids=()
for f in "${files[@]}"; do
	curl -sf --max-time 60 "http://127.0.0.1:6080/$f" -o "/tmp/got/${f//\//_}" &
	cpids+=($!)
done
for p in "${cpids[@]}"; do
	wait "$p" || true # cmp below names the file
done
for f in "${files[@]}"; do
	cmp -s "$f" "/tmp/got/${f//\//_}" || fail "parallel GET /$f"
done
cd - >/dev/null
info "${#files[@]} parallel module requests served"
code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is http://127.0.0.1:6080/../../etc/passwd)
[ "$code" = 404 ] || fail "path traversal answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:6080/%2e%2e/%2e%2e/etc/passwd)
[ "$code" = 404 ] || fail "encoded path traversal answered $code"

# ws ORIGIN PATH PORT: the websocket upgrade (tests/vm/ws-probe.py,
# plain); prints "101 RFB" when the server answered 101 and sent RFB
# 003.008 inside, else the status line.
ws() { python3 "$(dirname "$0")/ws-probe.py" "$1" "$2" "$3" plain; }
r=$(ws http://127.0.0.1:6080 /websockify 5901) || fail "websocket from our page: $r"
[ "$r" = "101 RFB" ] || fail "websocket from our page (exact origin): $r"
info "websocket from http://127.0.0.1:6080: 101, RFB 003.008 inside"
r=$(ws http://evil.example /websockify 5901) || fail "websocket from evil.example: $r"
case $r in "HTTP/1.1 403"*) ;; *) fail "websocket from http://evil.example: $r, not 403" ;; esac
grep -q "refused: WebSocket from origin 'http://evil.example'" /tmp/v4l2vnc.log ||
	fail "the refusal is not logged"
info "websocket from http://evil.example: $r"
r=$(ws http://127.0.0.1:6081 /websockify 5901)
case $r in "HTTP/1.1 403"*) ;; *) fail "websocket from port 6081: $r, not 403" ;; esac
# The printed URL carries the token: any origin (a forwarded port) with it.
tok=$(sed -n 's/.*path=websockify%3Ftoken%3D\([0-9a-f]*\).*/\1/p' /tmp/v4l2vnc.log)
[ ${#tok} = 32 ] || fail "no token in the printed URL: $(cat /tmp/v4l2vnc.log)"
r=$(ws http://127.0.0.1:40000 "/websockify?token=$tok" 5901)
[ "$r" = "101 RFB" ] || fail "websocket with the token: $r"
# A wrong token: the last digit changed (to 1 if it was 0, else to 0).
case $tok in *0) bad=${tok%?}1 ;; *) bad=${tok%?}0 ;; esac
r=$(ws http://127.0.0.1:40000 "/websockify?token=$bad" 5901)
case $r in "HTTP/1.1 403"*) ;; *) fail "websocket with a wrong token: $r, not 403" ;; esac
info "token URL accepted from another origin, a wrong token refused"
# A plain viewer still gets the picture.
"$KMS2V4L_BUILD/tests/vm/v4l2vnc-client" snapshot 127.0.0.1:5901 /tmp/a.raw >/tmp/a.out ||
	fail "plain viewer next to --web"
[ "$(cat /tmp/a.out)" = 640x480 ] || fail "plain viewer saw $(cat /tmp/a.out)"
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=

# Without --web: no websocket at all, even from "our" origin; and a unix
# socket viewer.
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client
rm -f /tmp/vnc.sock
"$V" --device "$dev" --format XR24 --size 640x480 --listen unix:/tmp/vnc.sock &
pid=$!
for _ in $(seq 100); do [ -S /tmp/vnc.sock ] && break; sleep 0.2; done
[ -S /tmp/vnc.sock ] || fail "no unix socket /tmp/vnc.sock"
[ "$(stat -c %a /tmp/vnc.sock)" = 600 ] || fail "unix socket mode $(stat -c %a /tmp/vnc.sock), not 600"
ss -ltnH | grep -q ':5900 ' && fail "--listen unix: listens on TCP too"
"$C" snapshot /tmp/vnc.sock /tmp/u.raw >/tmp/u.out || fail "viewer over the unix socket"
[ "$(cat /tmp/u.out)" = 640x480 ] || fail "unix-socket viewer saw $(cat /tmp/u.out)"
info "viewer over unix:/tmp/vnc.sock (mode 600): 640x480"
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=
"$V" --device "$dev" --format XR24 --size 640x480 --port 5902 &
pid=$!
wait_listen '127\.0\.0\.1:5902 ' "$pid"
r=$(ws http://127.0.0.1:6080 /websockify 5902)
[ "$r" != "101 RFB" ] || fail "websocket accepted without --web"
info "without --web a websocket gets: $r"
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=

# systemd socket activation: v4l2vnc serves the socket it is given.
if command -v systemd-socket-activate >/dev/null; then
	# as v4l2vnc@.socket and v4l2vnc-web@.socket pass them: "vnc", "web"
	systemd-socket-activate -l 127.0.0.1:5903 -l 127.0.0.1:6083 --fdname=vnc:web -- \
		"$V" --device "$dev" --format XR24 --size 640x480 --port 5999 2>/tmp/sa.log &
	pid=$!
	wait_listen '127\.0\.0\.1:5903 ' "$pid"
	"$C" snapshot 127.0.0.1:5903 /tmp/s.raw >/tmp/s.out || fail "viewer over an inherited socket: $(cat /tmp/sa.log)"
	curl -sf --max-time 30 http://127.0.0.1:6083/vnc.html -o /tmp/vnc-sa.html ||
		fail "GET /vnc.html on the inherited web socket: $(cat /tmp/sa.log)"
	cmp -s /tmp/vnc-sa.html /usr/share/novnc/vnc.html || fail "vnc.html over the inherited web socket differs"
	[ "$(cat /tmp/s.out)" = 640x480 ] || fail "socket-activated viewer saw $(cat /tmp/s.out)"
	grep -q 'on 127.0.0.1:5903 (from systemd)' /tmp/sa.log || fail "inherited socket not used: $(cat /tmp/sa.log)"
	ss -ltnH | grep -q ':5999 ' && fail "--port 5999 opened despite the inherited socket"
	info "viewer and noVNC's page over sockets from systemd-socket-activate"
	kill -TERM "$pid"
	wait "$pid" || true
	pid=
else
	info "systemd-socket-activate not installed: socket activation not tried"
fi
info "PASS: noVNC files served, RFB over websocket only from our page, unix socket, socket activation"
