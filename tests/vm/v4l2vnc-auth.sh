#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# v4l2vnc refuses to listen beyond loopback without --password-file; with
# one, a viewer with the right password gets the picture and a viewer
# with a wrong one is refused.
. "$(dirname "$0")/lib.sh"
V=$KMS2V4L_BUILD/userspace/v4l2vnc/v4l2vnc
C=$KMS2V4L_BUILD/tests/vm/v4l2vnc-client

ip link set lo up || fail "ip link set lo up"
modprobe vivid n_devs=1 node_types=0x1 || fail "modprobe vivid"
dev=$(video_by_name '^vivid-000-vid-cap$') || fail "no vivid capture node"

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
"$V" --device "$dev" --format XR24 --size 640x480 --listen 0.0.0.0 --port 5901 \
	--password-file /tmp/pw &
pid=$!
for i in $(seq 50); do
	ss -ltn | grep -q '0.0.0.0:5901 ' && break
	kill -0 "$pid" 2>/dev/null || fail "v4l2vnc exited"
	sleep 0.2
done
V4L2VNC_PASSWORD=s3cret "$C" snapshot 127.0.0.1:5901 /tmp/a.raw >/tmp/a.out ||
	fail "right password refused"
[ "$(cat /tmp/a.out)" = 640x480 ] || fail "client saw $(cat /tmp/a.out)"
if V4L2VNC_PASSWORD=wrong "$C" snapshot 127.0.0.1:5901 /tmp/b.raw >/dev/null 2>&1; then
	fail "wrong password accepted"
fi
if "$C" snapshot 127.0.0.1:5901 /tmp/b.raw >/dev/null 2>&1; then
	fail "empty password accepted"
fi
kill -0 "$pid" || fail "v4l2vnc died"
kill -TERM "$pid"
wait "$pid" || fail "v4l2vnc exit status $? after SIGTERM"
pid=
info "PASS: loopback-only without password; right password in, wrong ones out"
