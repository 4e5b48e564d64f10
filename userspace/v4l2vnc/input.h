// SPDX-License-Identifier: GPL-2.0-or-later
// Input injection: VNC pointer and key events into a uinput device.
#pragma once

#include "keymap.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct libevdev;
struct libevdev_uinput;

namespace v4l2vnc {

struct InputEvent {
	uint16_t type, code;
	int32_t value;
	bool operator==(const InputEvent &) const = default;
};

// Turns VNC pointer events (button mask, absolute position) into evdev
// events: ABS_X/ABS_Y, BTN_LEFT/MIDDLE/RIGHT on mask bits 0/1/2, and
// REL_WHEEL (bits 3/4: up/down) and REL_HWHEEL (bits 5/6: left/right) on
// press, each batch ended by SYN_REPORT.  Pure, for unit tests.
class PointerMapper {
public:
	std::vector<InputEvent> pointer(int button_mask, int x, int y);

private:
	int mask_ = 0;
	int x_ = -1, y_ = -1;
};

// The pointer and keys of several viewers on one device: each viewer's
// buttons and keys are its own (the device shows a button down while any
// viewer holds it, a key until the last viewer holding it lets go), and a
// viewer that disconnects lets go of everything it held.  Pure, for unit
// tests; positions are device units (UinputDevice::kAbsMax).
class ViewerInputs {
public:
	std::vector<InputEvent> pointer(uint64_t viewer, int button_mask, int x, int y);
	// @code: an evdev KEY_* code.
	std::vector<InputEvent> key(uint64_t viewer, unsigned code, bool down);
	// A keysym's key: on a press, the modifiers its level needs are set
	// around it (Shift, AltGr pressed or released for that one key, then
	// restored), so that '@' from a US viewer (Shift+2) arrives as
	// AltGr+Q on a German layout.  Modifier keys themselves go as they are.
	std::vector<InputEvent> key(uint64_t viewer, const KeyLevel &k, bool down);
	std::vector<InputEvent> gone(uint64_t viewer);

private:
	struct Viewer {
		int mask = 0;
		std::vector<unsigned> keys; // held, in press order
	};
	std::vector<InputEvent> release(unsigned code);
	int combined_mask() const;

	std::map<uint64_t, Viewer> viewers_;
	std::map<unsigned, unsigned> holders_; // key code -> viewers holding it
	PointerMapper mapper_;
	int x_ = 0, y_ = 0;
};

class UinputDevice {
public:
	~UinputDevice();
	// The absolute axes' range, whatever the frame size: the device stays
	// the same across resizes (scale() maps frame pixels onto it).
	static constexpr int kAbsMax = 32767;
	// Creates "v4l2vnc pointer+keyboard": ABS_X/ABS_Y 0..kAbsMax, three
	// buttons, wheels, the keyboard's keys that key_exposed() (keymap.h) lets through.
	// nullptr and @error on failure (names /dev/uinput and errno).
	static std::unique_ptr<UinputDevice> create(std::string &error);
	// Frame pixel @v of a frame @size pixels wide (or high) in device units.
	static int scale(int v, unsigned size);
	int write(const std::vector<InputEvent> &ev); // -errno
	std::string devnode() const;

private:
	UinputDevice() = default;
	libevdev *dev_ = nullptr;
	libevdev_uinput *uidev_ = nullptr;
};

} // namespace v4l2vnc
