// SPDX-License-Identifier: GPL-2.0-or-later
// Input injection: VNC pointer and key events into a uinput device.
#pragma once

#include "keymap.h"

#include <cstdint>
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

class UinputDevice {
public:
	~UinputDevice();
	// Creates "v4l2vnc pointer+keyboard" with absolute axes 0..width-1 and
	// 0..height-1.  nullptr and @error on failure (names /dev/uinput and errno).
	static std::unique_ptr<UinputDevice> create(unsigned width, unsigned height,
						    std::string &error);
	int pointer(int button_mask, int x, int y);            // -errno
	int key(const Keymap &km, uint32_t keysym, bool down); // -errno, -ENOENT unmapped
	std::string devnode() const;

private:
	UinputDevice() = default;
	int write(const std::vector<InputEvent> &ev);
	libevdev *dev_ = nullptr;
	libevdev_uinput *uidev_ = nullptr;
	PointerMapper mapper_;
};

} // namespace v4l2vnc
