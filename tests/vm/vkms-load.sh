#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Our vkms (built from Debian's source with the project's patches) loads,
# gives a DRM card driven by "vkms" with a connected virtual connector,
# and modetest can talk to it.
. "$(dirname "$0")/lib.sh"

[ -d /sys/module/vkms ] || fail "vkms is not loaded"
card=$(vkms_card) || fail "no DRM card driven by vkms in /sys/class/drm"
[ -c "$card" ] || fail "$card is not a character device"
info "vkms card: $card"
out=$(modetest -M vkms -c) || fail "modetest -M vkms -c failed"
grep -qE 'connected[[:space:]]+Virtual-1' <<<"$out" || fail "no connected Virtual-1 connector: $out"
info "PASS"
