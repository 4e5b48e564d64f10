#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Our vkms (built from Debian's source with the project's patches) loads,
# gives a DRM card driven by "vkms" with a connected virtual connector,
# and modetest can talk to it; with enable_capture=0 it works the same
# without a capture node, and with the default it has one.
. "$(dirname "$0")/lib.sh"

[ -d /sys/module/vkms ] || fail "vkms is not loaded"
card=$(vkms_card) || fail "no DRM card driven by vkms in /sys/class/drm"
[ -c "$card" ] || fail "$card is not a character device"
info "vkms card: $card"
out=$(modetest -M vkms -c) || fail "modetest -M vkms -c failed"
grep -qE 'connected[[:space:]]+Virtual-1' <<<"$out" || fail "no connected Virtual-1 connector: $out"
kms2v4l_node >/dev/null || fail "vkms has no capture node by default"

modload -r vkms || fail "rmmod vkms"
modload vkms enable_capture=0 || fail "modload vkms enable_capture=0"
grep -qx 0 /sys/module/vkms/parameters/enable_capture 2>/dev/null ||
	grep -qx N /sys/module/vkms/parameters/enable_capture || fail "enable_capture is not 0"
kms2v4l_node >/dev/null && fail "vkms enable_capture=0 still has a capture node"
out=$(modetest -M vkms -c) || fail "modetest -M vkms -c failed with enable_capture=0"
grep -qE 'connected[[:space:]]+Virtual-1' <<<"$out" || fail "no connected Virtual-1 with enable_capture=0"
info "enable_capture=0: no capture node, vkms works"
info "PASS"
