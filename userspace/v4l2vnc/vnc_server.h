// SPDX-License-Identifier: GPL-2.0-or-later
// The VNC side: a libvncserver screen in its threaded mode.  Every viewer
// has its own two libvncserver threads (one reads its messages, one
// encodes and sends its updates), so a viewer that stops reading blocks
// only its own sending thread: never capture, never the other viewers.
// Our own threads accept connections and apply resizes.  Input events of
// viewers are queued and handed to the owner's thread (event_fd()).
// The framebuffer is 32 bit 0x00RRGGBB.
#pragma once

#include "damage.h"
#include "unique_fd.h"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

struct _rfbScreenInfo;

namespace v4l2vnc {

struct VncConfig {
	std::string listen = "127.0.0.1"; // numeric IPv4 or IPv6
	int port = 5900;
	std::string password; // empty: no authentication
	std::string name = "v4l2vnc";
	bool verbose = false;
};

struct VncStats {
	uint64_t clients_total = 0, rects = 0, updates = 0;
	uint64_t input_dropped = 0; // viewer input events over the queue limit
};

class VncServer {
public:
	~VncServer();
	static std::unique_ptr<VncServer> create(const VncConfig &cfg, unsigned width,
						 unsigned height, std::string &error);

	// New size: a new black framebuffer at once for the caller; viewers
	// are switched to it (NewFBSize) by a helper thread, as libvncserver
	// waits for every viewer's send in progress first.
	void resize(unsigned width, unsigned height);
	uint32_t *framebuffer() { return fb_; }
	unsigned width() const { return width_; }
	unsigned height() const { return height_; }

	// Tells viewers these areas of the framebuffer changed.  Call it for
	// every frame, also with no rectangles (it completes resizes).
	void mark_modified(std::span<const Rect> rects);
	// Readable while viewer input events wait; dispatch_events() runs
	// on_pointer/on_key for them in the calling thread.
	int event_fd() const { return event_fd_.get(); }
	void dispatch_events();
	unsigned clients() const { return clients_.load(); }
	// The port listened on (useful with port 0).
	int port() const;
	// Bytes sent to the viewers connected now (libvncserver's counters).
	uint64_t bytes_sent() const;
	VncStats stats() const;

	std::function<void(int mask, int x, int y)> on_pointer;
	std::function<void(uint32_t keysym, bool down)> on_key;

private:
	VncServer() = default;
	friend struct VncCallbacks; // libvncserver's C callbacks

	struct InputEvent {
		bool key;
		int a, b, c; // pointer: mask, x, y; key: keysym, down
	};
	struct Pending {
		uint32_t *fb;
		unsigned width, height;
	};

	void accept_loop();
	void resize_loop();
	void push_event(const InputEvent &e);
	void client_thread_done(pthread_t t);
	void reap_client_threads();

	_rfbScreenInfo *screen_ = nullptr;
	std::string password_, name_;
	char *passwords_[2] = {nullptr, nullptr};
	bool verbose_ = false;
	UniqueFd listen_, wake_, event_fd_;

	// Owner's thread: the buffer it writes and its size.
	uint32_t *fb_ = nullptr;
	unsigned width_ = 0, height_ = 0;
	bool remark_ = false; // marks were skipped while a resize was applied
	uint64_t rects_ = 0, updates_ = 0;

	// Framebuffers, shared with the resize thread.
	std::mutex fb_mu_;
	std::condition_variable fb_cv_;
	std::vector<std::unique_ptr<uint32_t[]>> fbs_; // not freed yet
	std::optional<Pending> pending_;
	uint32_t *applied_ = nullptr; // libvncserver's
	bool stop_ = false;
	std::atomic<bool> resizing_{false};
	// Held around rfbNewClient and rfbNewFramebuffer: libvncserver's
	// resize must not see the client list change under it.
	std::mutex screen_mu_;

	std::thread acceptor_, resizer_;
	std::atomic<bool> quit_{false}; // tells accept_loop to end
	std::mutex threads_mu_;
	std::vector<pthread_t> client_threads_, finished_threads_;

	std::mutex event_mu_;
	std::deque<InputEvent> events_;
	std::atomic<uint64_t> input_dropped_{0};

	std::atomic<unsigned> clients_{0};
	std::atomic<uint64_t> clients_total_{0};
};

} // namespace v4l2vnc
