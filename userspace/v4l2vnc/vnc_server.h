// SPDX-License-Identifier: GPL-2.0-or-later
// The VNC side: a libvncserver screen driven from our event loop (no
// libvncserver threads).  The framebuffer is 32 bit 0x00RRGGBB.
#pragma once

#include "damage.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct _rfbScreenInfo;

namespace v4l2vnc {

struct VncConfig {
	std::string listen = "127.0.0.1";
	int port = 5900;
	std::string password; // empty: no authentication
	std::string name = "v4l2vnc";
	bool verbose = false;
};

struct VncStats {
	uint64_t clients_total = 0, rects = 0, updates = 0;
};

class VncServer {
public:
	~VncServer();
	static std::unique_ptr<VncServer> create(const VncConfig &cfg, unsigned width,
						 unsigned height, std::string &error);

	// New size: a new black framebuffer; clients are told (NewFBSize).
	void resize(unsigned width, unsigned height);
	uint32_t *framebuffer() { return fb_.get(); }
	unsigned width() const { return width_; }
	unsigned height() const { return height_; }

	// Tells clients these areas of the framebuffer changed.
	void mark_modified(std::span<const Rect> rects);
	// Accepts connections, reads client messages, sends due updates.
	void process();
	// Sockets to watch for input (listening + clients); changes over time.
	std::vector<int> fds() const;
	unsigned clients() const;
	const VncStats &stats() const { return stats_; }

	std::function<void(int mask, int x, int y)> on_pointer;
	std::function<void(uint32_t keysym, bool down)> on_key;

private:
	VncServer() = default;
	friend struct VncCallbacks; // libvncserver's C callbacks

	_rfbScreenInfo *screen_ = nullptr;
	std::unique_ptr<uint32_t[]> fb_;
	unsigned width_ = 0, height_ = 0;
	std::string password_, name_;
	char *passwords_[2] = {nullptr, nullptr};
	bool verbose_ = false;
	unsigned clients_ = 0;
	VncStats stats_;
};

} // namespace v4l2vnc
