#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# modetest sets 1024x768 on vkms's virtual output with its test pattern;
# our libdrm client captures that CRTC through the writeback connector and
# compares every written-back pixel with the pattern modetest shows.
. "$(dirname "$0")/lib.sh"

read -r conn crtc < <("$TOOLS/kms-wb-check" ids) || fail "cannot find vkms ids"
info "modetest -M vkms -d -s $conn@$crtc:1024x768"
# modetest keeps the mode until its stdin closes; -d drops DRM master so
# that the checker can take over.
exec 3> >(sleep 60 | modetest -M vkms -d -s "$conn@$crtc:1024x768" >/tmp/modetest.log 2>&1)
wait_modetest
"$TOOLS/kms-wb-check" capture 1024x768 ||
	fail "writeback capture does not match the pattern (modetest: $(cat /tmp/modetest.log))"
pkill -x modetest || true
info "PASS"
