#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc refuses to listen beyond loopback without --password-file and
# --insecure-vnc-auth, and refuses a password file others may read; with
# them, a viewer with the right password gets the picture, a viewer with
# a wrong one is refused, and after 5 wrong ones the address is blocked
# (the right password too) for 10 s.  IPv6: ::1 needs no password and listens on
# ::1 only; :: needs one and takes no IPv4 connection.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client

ip link set lo up || fail "ip link set lo up"
dev=$(vivid_node) || fail "no vivid capture node"

set +e
"$V" --device "$dev" --listen 0.0.0.0 --port 5901 2>/tmp/refuse.txt
rc=$?
set -e
[ "$rc" = 2 ] || fail "--listen 0.0.0.0 without a password: exit status $rc, not 2"
grep -q -- '--password-file' /tmp/refuse.txt || fail "refusal does not name --password-file"

pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
printf 's3cret\n' >/tmp/pw
chmod 644 /tmp/pw
set +e
"$V" --device "$dev" --listen 0.0.0.0 --port 5901 --password-file /tmp/pw 2>/tmp/refuse.txt
rc=$?
set -e
[ "$rc" = 2 ] || fail "--listen 0.0.0.0 without --insecure-vnc-auth: exit status $rc, not 2"
grep -q -- '--insecure-vnc-auth' /tmp/refuse.txt || fail "refusal does not name --insecure-vnc-auth"
set +e
"$V" --device "$dev" --listen 0.0.0.0 --port 5901 --password-file /tmp/pw --insecure-vnc-auth \
	2>/tmp/refuse.txt
rc=$?
set -e
[ "$rc" = 1 ] || fail "a mode 644 password file: exit status $rc, not 1"
grep -q 'chmod 600' /tmp/refuse.txt || fail "mode 644 refusal: $(cat /tmp/refuse.txt)"
chmod 600 /tmp/pw
"$V" --device "$dev" --format XR24 --size 640x480 --listen 0.0.0.0 --port 5901 \
	--password-file /tmp/pw --insecure-vnc-auth 2> >(tee /tmp/v.log >&2) &
pid=$!
wait_listen '0\.0\.0\.0:5901 ' "$pid"
V4L2VNC_PASSWORD=s3cret "$C" snapshot 127.0.0.1:5901 /tmp/a.raw >/tmp/a.out ||
	fail "right password refused"
[ "$(cat /tmp/a.out)" = 640x480 ] || fail "client saw $(cat /tmp/a.out)"
if V4L2VNC_PASSWORD=wrong "$C" snapshot 127.0.0.1:5901 /tmp/b.raw >/dev/null 2>&1; then
	fail "wrong password accepted"
fi
if "$C" snapshot 127.0.0.1:5901 /tmp/b.raw >/dev/null 2>&1; then
	fail "empty password accepted"
fi
# Wrong passwords in a loop (an empty one is not sent, so 1 + 5 here):
# blocked after 5 (TigerVNC's blacklist).
for i in 1 2 3 4 5; do
	V4L2VNC_PASSWORD=wrong$i "$C" snapshot 127.0.0.1:5901 /tmp/b.raw >/dev/null 2>&1 &&
		fail "wrong password $i accepted"
done
if V4L2VNC_PASSWORD=s3cret "$C" snapshot 127.0.0.1:5901 /tmp/a.raw >/dev/null 2>&1; then
	fail "right password accepted while blocked"
fi
grep -q 'wrong password, blocked for' /tmp/v.log || fail "no block logged"
info "5 wrong passwords: blocked, the right one refused too"
sleep 10.5
V4L2VNC_PASSWORD=s3cret "$C" snapshot 127.0.0.1:5901 /tmp/a.raw >/dev/null ||
	fail "right password refused after the block ended"
kill -0 "$pid" || fail "v4l2vnc died"
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=

# IPv6.
for a in :: 2001:db8::1 ::ffff:10.0.0.1; do
	set +e
	"$V" --device "$dev" --listen "$a" --port 5901 2>/tmp/refuse.txt
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "--listen $a without a password: exit status $rc, not 2"
done
"$V" --device "$dev" --format XR24 --size 640x480 --listen ::1 --port 5902 --web 6082 &
pid=$!
wait_listen '\[::1\]:5902 ' "$pid"
wait_listen '\[::1\]:6082 ' "$pid"
ss -ltnH | grep -E ':590[0-9] |:608[0-9] ' | grep -v '\[::1\]:' &&
	fail "--listen ::1 listens elsewhere too"
"$C" snapshot '[::1]:5902' /tmp/a.raw >/tmp/a.out || fail "no picture over [::1]"
[ "$(cat /tmp/a.out)" = 640x480 ] || fail "[::1] client saw $(cat /tmp/a.out)"
"$C" count '[::1]:5902' 3 >/tmp/c.out || fail "own-socket client over [::1]"
"$C" stall '[::1]:5902' 1 >/tmp/s.out || fail "raw handshake over [::1]"
grep -q '^stalling' /tmp/s.out || fail "raw handshake over [::1]: $(cat /tmp/s.out)"
if "$C" snapshot 127.0.0.1:5902 /tmp/b.raw >/dev/null 2>&1; then
	fail "--listen ::1 answers on 127.0.0.1"
fi
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=
"$V" --device "$dev" --format XR24 --size 640x480 --listen :: --port 5903 \
	--password-file /tmp/pw --insecure-vnc-auth &
pid=$!
# ss shows :: as * when it reads /proc (no inet_diag in the guest).
wait_listen '(\[::\]|\*):5903 ' "$pid"
V4L2VNC_PASSWORD=s3cret "$C" snapshot '[::1]:5903' /tmp/a.raw >/dev/null ||
	fail "right password refused over IPv6"
if V4L2VNC_PASSWORD=s3cret "$C" snapshot 127.0.0.1:5903 /tmp/b.raw >/dev/null 2>&1; then
	fail "--listen :: takes IPv4 connections too"
fi
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=
info "PASS: loopback-only without password; right password in, wrong ones out; IPv6 as asked"
