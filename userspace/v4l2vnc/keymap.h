// SPDX-License-Identifier: GPL-2.0-or-later
// VNC keysym -> Linux evdev key code, through an xkbcommon keymap.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace v4l2vnc {

// What a keysym needs: its key and the modifiers of its shift level.
struct KeyLevel {
	unsigned code;      // evdev KEY_*
	bool shift = false; // Shift (level 2, 4)
	bool altgr = false; // ISO_Level3_Shift, AltGr (level 3, 4)
	bool operator==(const KeyLevel &) const = default;
};

// The evdev code (KEY_*) of the key a QEMU extended key event names: an
// XT (PC scan code set 1) make code, with the E0-prefixed keys as 0x80 |
// code (what noVNC and gtk-vnc send).  nullopt for codes not known here
// (the caller falls back to the keysym) and for SysRq (Alt+PrintScreen's
// 0x54), which is not exposed; PrintScreen (0xb7) is KEY_PRINT, as the
// keysym Print is.
std::optional<unsigned> xt_to_evdev(uint32_t keycode);

// Whether a viewer may press evdev key @code (the uinput device has only
// these, and no keysym maps elsewhere).  Not: KEY_SYSRQ (Alt+SysRq
// reaches the kernel's magic SysRq behind a lock screen), nor the keys
// logind acts on by default whoever is logged in, locked or not:
// KEY_POWER, KEY_SLEEP, KEY_SUSPEND, KEY_WAKEUP.
bool key_exposed(unsigned code);

class Keymap {
public:
	// Compiles the keymap (rules evdev, model pc105) for @layout/@variant.
	// Returns nullptr and sets @error when xkbcommon cannot.
	static std::unique_ptr<Keymap> create(const std::string &layout, const std::string &variant,
					      std::string &error);

	// Codes below this are the classic keyboard keys (KEY_ESC..KEY_MICMUTE).
	static constexpr unsigned kClassicEnd = 0x100;

	// The evdev code (KEY_*) that produces @keysym; a keysym found at
	// several keys maps to a classic key before an extended one, then to
	// the one with the lowest shift level, then the lowest code.
	// Modifier keysyms map to their own keys.
	std::optional<unsigned> evdev_code(uint32_t keysym) const;
	// The same key and the modifiers its level needs in this layout.
	std::optional<KeyLevel> key_level(uint32_t keysym) const;
	size_t size() const { return map_.size(); }

private:
	std::unordered_map<uint32_t, KeyLevel> map_;
};

} // namespace v4l2vnc
