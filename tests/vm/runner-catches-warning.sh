#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Host side: a kernel WARNING in the guest fails the VM run with status
# 125 and names the line, even though the guest command itself succeeds;
# a clean run passes; a run over its time limit is killed with 124; a
# wedged guest is made to print its backtraces (NMI) and gives 124.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
run="$src/scripts/vm-run"
fail() { echo "runner-catches-warning: FAIL: $*" >&2; exit 1; }

out=$("$run" -q --no-modules --name selftest-warn -- \
	sh -c 'echo "<4>WARNING: CPU: 0 PID: 1 at kms2v4l-selftest" >/dev/kmsg; true' 2>&1)
rc=$?
[ "$rc" = 125 ] || fail "a WARNING gave status $rc, expected 125 ($out)"
grep -q 'kms2v4l-selftest' <<<"$out" || fail "the report does not name the line: $out"

# A clean run keeps its command's status (a false report would be 125).
"$run" -q --no-modules --name selftest-status -- sh -c 'exit 3'
rc=$?
[ "$rc" = 3 ] || fail "the guest command's status 3 came back as $rc"

"$run" -q --no-modules --timeout 12 --name selftest-timeout -- sleep 600
rc=$?
[ "$rc" = 124 ] || fail "an overrun gave status $rc, expected 124"
pgrep -f "selftest-timeout" >/dev/null && fail "QEMU left behind after the timeout"

# A guest that does not stop its command itself (here its timeout is
# stopped) is wedged: at the limit it gets an NMI and panics with every
# CPU's backtrace on the console; the run still ends with 124. (16 s:
# the guest boots to its command in about 6 s; the console must show
# that the command was reached, and stopped its timeout, before the NMI.)
out=$("$run" -q --no-modules --timeout 16 --name selftest-wedged -- \
	sh -c 'echo "selftest: wedging"; kill -STOP $PPID; sleep 1000' 2>&1)
rc=$?
[ "$rc" = 124 ] || fail "a wedged guest gave status $rc, expected 124 ($out)"
grep -q 'wedged; NMI sent' <<<"$out" || fail "the report does not say the guest was wedged: $out"
console=${KMS2V4L_BUILD:-$src/build}/vm-runs/selftest-wedged/console.log
grep -q 'selftest: wedging' "$console" ||
	fail "the guest's command did not run before the time limit: $console"
grep -q 'NMI received' "$console" && grep -q 'Call Trace' "$console" ||
	fail "no NMI backtrace in $console"
pgrep -f "selftest-wedged" >/dev/null && fail "QEMU left behind after the NMI"
echo "runner-catches-warning: PASS"
