// SPDX-License-Identifier: GPL-2.0-or-later
#include "input.h"

#include <libevdev/libevdev-uinput.h>
#include <libevdev/libevdev.h>
#include <linux/input.h>

#include <cerrno>
#include <cstring>

namespace v4l2vnc {

std::vector<InputEvent> PointerMapper::pointer(int mask, int x, int y)
{
	static constexpr struct {
		int bit;
		uint16_t code;
	} buttons[] = {{0, BTN_LEFT}, {1, BTN_MIDDLE}, {2, BTN_RIGHT}};
	static constexpr struct {
		int bit;
		uint16_t code;
		int value;
	} wheels[] = {
		{3, REL_WHEEL, 1}, {4, REL_WHEEL, -1}, {5, REL_HWHEEL, -1}, {6, REL_HWHEEL, 1}};
	std::vector<InputEvent> ev;

	if (x != x_)
		ev.push_back({EV_ABS, ABS_X, x});
	if (y != y_)
		ev.push_back({EV_ABS, ABS_Y, y});
	x_ = x;
	y_ = y;
	for (const auto &b : buttons) {
		bool now = mask & (1 << b.bit), before = mask_ & (1 << b.bit);
		if (now != before)
			ev.push_back({EV_KEY, b.code, now ? 1 : 0});
	}
	for (const auto &w : wheels)
		if ((mask & (1 << w.bit)) && !(mask_ & (1 << w.bit)))
			ev.push_back({EV_REL, w.code, w.value});
	mask_ = mask;
	if (!ev.empty())
		ev.push_back({EV_SYN, SYN_REPORT, 0});
	return ev;
}

UinputDevice::~UinputDevice()
{
	if (uidev_)
		libevdev_uinput_destroy(uidev_);
	if (dev_)
		libevdev_free(dev_);
}

std::unique_ptr<UinputDevice> UinputDevice::create(unsigned width, unsigned height,
						   std::string &error)
{
	auto u = std::unique_ptr<UinputDevice>(new UinputDevice);
	u->dev_ = libevdev_new();
	if (!u->dev_) {
		error = "libevdev_new: out of memory";
		return nullptr;
	}
	libevdev_set_name(u->dev_, "v4l2vnc pointer+keyboard");
	libevdev_set_id_bustype(u->dev_, BUS_VIRTUAL);
	libevdev_enable_property(u->dev_, INPUT_PROP_DIRECT);
	input_absinfo ax{};
	ax.maximum = int(width > 0 ? width - 1 : 0);
	libevdev_enable_event_code(u->dev_, EV_ABS, ABS_X, &ax);
	ax.maximum = int(height > 0 ? height - 1 : 0);
	libevdev_enable_event_code(u->dev_, EV_ABS, ABS_Y, &ax);
	libevdev_enable_event_code(u->dev_, EV_REL, REL_WHEEL, nullptr);
	libevdev_enable_event_code(u->dev_, EV_REL, REL_HWHEEL, nullptr);
	for (unsigned code : {BTN_LEFT, BTN_MIDDLE, BTN_RIGHT})
		libevdev_enable_event_code(u->dev_, EV_KEY, code, nullptr);
	for (unsigned code = KEY_ESC; code < BTN_MISC; code++)
		libevdev_enable_event_code(u->dev_, EV_KEY, code, nullptr);
	int r = libevdev_uinput_create_from_device(u->dev_, LIBEVDEV_UINPUT_OPEN_MANAGED,
						   &u->uidev_);
	if (r < 0) {
		error = std::string("/dev/uinput: libevdev_uinput_create_from_device: ") +
			std::strerror(-r);
		return nullptr;
	}
	return u;
}

std::string UinputDevice::devnode() const
{
	const char *n = libevdev_uinput_get_devnode(uidev_);
	return n ? n : "";
}

int UinputDevice::write(const std::vector<InputEvent> &ev)
{
	for (const auto &e : ev) {
		int r = libevdev_uinput_write_event(uidev_, e.type, e.code, e.value);
		if (r < 0)
			return r;
	}
	return 0;
}

int UinputDevice::pointer(int button_mask, int x, int y)
{
	return write(mapper_.pointer(button_mask, x, y));
}

int UinputDevice::key(const Keymap &km, uint32_t keysym, bool down)
{
	auto code = km.evdev_code(keysym);
	if (!code)
		return -ENOENT;
	return write({{EV_KEY, uint16_t(*code), down ? 1 : 0}, {EV_SYN, SYN_REPORT, 0}});
}

} // namespace v4l2vnc
