// SPDX-License-Identifier: GPL-2.0-or-later
#include "input.h"
#include "keymap.h"

#include <libevdev/libevdev-uinput.h>
#include <libevdev/libevdev.h>
#include <linux/input.h>

#include <algorithm>
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

int ViewerInputs::combined_mask() const
{
	int m = 0;
	for (const auto &[id, v] : viewers_)
		m |= v.mask;
	return m;
}

std::vector<InputEvent> ViewerInputs::pointer(uint64_t viewer, int mask, int x, int y)
{
	viewers_[viewer].mask = mask;
	x_ = x;
	y_ = y;
	// Wheel bits are presses of their own: only this viewer's count.
	const int buttons = combined_mask() & 7;
	return mapper_.pointer(buttons | (mask & ~7), x, y);
}

std::vector<InputEvent> ViewerInputs::release(unsigned code)
{
	auto h = holders_.find(code);
	if (h == holders_.end() || --h->second > 0)
		return {};
	holders_.erase(h);
	return {{EV_KEY, uint16_t(code), 0}, {EV_SYN, SYN_REPORT, 0}};
}

std::vector<InputEvent> ViewerInputs::key(uint64_t viewer, unsigned code, bool down)
{
	Viewer &v = viewers_[viewer];
	auto held = std::find(v.keys.begin(), v.keys.end(), code);
	if (!down) {
		if (held == v.keys.end())
			return {}; // not pressed by this viewer
		v.keys.erase(held);
		return release(code);
	}
	if (held == v.keys.end()) {
		v.keys.push_back(code);
		if (holders_[code]++ > 0)
			return {}; // another viewer holds it down already
	}
	// A first press, or the viewer's own auto-repeat.
	return {{EV_KEY, uint16_t(code), 1}, {EV_SYN, SYN_REPORT, 0}};
}

namespace {

bool is_modifier(unsigned code)
{
	switch (code) {
	case KEY_LEFTSHIFT:
	case KEY_RIGHTSHIFT:
	case KEY_LEFTCTRL:
	case KEY_RIGHTCTRL:
	case KEY_LEFTALT:
	case KEY_RIGHTALT:
	case KEY_LEFTMETA:
	case KEY_RIGHTMETA:
	case KEY_CAPSLOCK:
		return true;
	default:
		return false;
	}
}

} // namespace

std::vector<InputEvent> ViewerInputs::key(uint64_t viewer, const KeyLevel &k, bool down)
{
	std::vector<InputEvent> ev = key(viewer, k.code, down);
	if (!down || ev.empty() || is_modifier(k.code))
		return ev;
	// What the device holds now, and what this key's level needs.
	std::vector<InputEvent> before, after;
	auto adjust = [&](std::initializer_list<unsigned> codes, bool need) {
		bool held = false;
		for (unsigned c : codes)
			held = held || holders_.count(c);
		if (need && !held) {
			before.push_back({EV_KEY, uint16_t(*codes.begin()), 1});
			after.push_back({EV_KEY, uint16_t(*codes.begin()), 0});
		} else if (!need && held) {
			for (unsigned c : codes)
				if (holders_.count(c)) {
					before.push_back({EV_KEY, uint16_t(c), 0});
					after.push_back({EV_KEY, uint16_t(c), 1});
				}
		}
	};
	adjust({KEY_LEFTSHIFT, KEY_RIGHTSHIFT}, k.shift);
	adjust({KEY_RIGHTALT}, k.altgr);
	if (before.empty())
		return ev;
	before.push_back({EV_SYN, SYN_REPORT, 0});
	after.push_back({EV_SYN, SYN_REPORT, 0});
	before.insert(before.end(), ev.begin(), ev.end());
	before.insert(before.end(), after.begin(), after.end());
	return before;
}

std::vector<InputEvent> ViewerInputs::gone(uint64_t viewer)
{
	auto it = viewers_.find(viewer);
	if (it == viewers_.end())
		return {};
	std::vector<unsigned> keys = std::move(it->second.keys);
	viewers_.erase(it);
	std::vector<InputEvent> ev;
	std::reverse(keys.begin(), keys.end()); // last pressed, first released
	for (unsigned k : keys) {
		auto r = release(k);
		ev.insert(ev.end(), r.begin(), r.end());
	}
	auto p = mapper_.pointer(combined_mask() & 7, x_, y_);
	ev.insert(ev.end(), p.begin(), p.end());
	return ev;
}

UinputDevice::~UinputDevice()
{
	if (uidev_)
		libevdev_uinput_destroy(uidev_);
	if (dev_)
		libevdev_free(dev_);
}

int UinputDevice::scale(int v, unsigned size)
{
	if (size <= 1)
		return 0;
	v = std::clamp(v, 0, int(size) - 1);
	return int((int64_t(v) * kAbsMax + (size - 1) / 2) / (size - 1));
}

std::unique_ptr<UinputDevice> UinputDevice::create(std::string &error)
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
	ax.maximum = kAbsMax;
	libevdev_enable_event_code(u->dev_, EV_ABS, ABS_X, &ax);
	libevdev_enable_event_code(u->dev_, EV_ABS, ABS_Y, &ax);
	libevdev_enable_event_code(u->dev_, EV_REL, REL_WHEEL, nullptr);
	libevdev_enable_event_code(u->dev_, EV_REL, REL_HWHEEL, nullptr);
	for (unsigned code : {BTN_LEFT, BTN_MIDDLE, BTN_RIGHT})
		libevdev_enable_event_code(u->dev_, EV_KEY, code, nullptr);
	for (unsigned code = KEY_ESC; code < BTN_MISC; code++)
		if (key_exposed(code))
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

} // namespace v4l2vnc
