#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vkms unloads and reloads cleanly, three times: the card disappears and
# comes back, and is usable again each time.
. "$(dirname "$0")/lib.sh"

for i in 1 2 3; do
	modload -r vkms || fail "rmmod vkms (round $i)"
	[ ! -d /sys/module/vkms ] || fail "vkms still loaded after rmmod (round $i)"
	vkms_card >/dev/null && fail "a vkms card still exists after rmmod (round $i)"
	modload vkms || fail "reloading vkms (round $i)"
	card=$(vkms_card) || fail "no vkms card after reload (round $i)"
	modetest -M vkms -c | grep -q 'Virtual-1' || fail "modetest sees no Virtual-1 after reload (round $i)"
	info "round $i: $card back"
done
info "PASS"
