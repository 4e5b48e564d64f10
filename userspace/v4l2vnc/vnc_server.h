// SPDX-License-Identifier: GPL-2.0-or-later
// The VNC side: a libvncserver screen in its threaded mode.  Every viewer
// has its own two libvncserver threads (one reads its messages, one
// encodes and sends its updates), so a viewer that stops reading blocks
// only its own sending thread: never capture, never the other viewers.
// Our own threads accept connections and apply resizes.  Input events of
// viewers are queued and handed to the owner's thread (event_fd()).
//
// Connections: the accept thread only accepts, applies the caps (total
// and per address) and pauses accepting for a moment when out of file
// descriptors; each new connection then gets a short-lived handshake
// thread, which peeks at what it sends first (rfb_gate.h, one deadline)
// and only then hands it to libvncserver.  No lock is held while a
// connection is read, so a client that trickles bytes holds up only its
// own thread; resizes wait only for libvncserver's moment of adding a new
// client to its list (admit_mu_).  Viewers that have not finished the RFB
// handshake (authentication included) within the pre-auth timeout are
// disconnected.
// A resize also waits for every viewer's update in progress (libvncserver
// cannot switch framebuffers under an encoder): a viewer whose update has
// waited on its full socket for the stall timeout while a resize waits is
// disconnected, so that one viewer that stopped reading cannot hold up
// the others' resize for libvncserver's 20 s write timeout.
// The framebuffer is 32 bit 0x00RRGGBB.
#pragma once

#include "blacklist.h"
#include "damage.h"
#include "rfb_gate.h"
#include "tls.h"
#include "unique_fd.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

struct _rfbScreenInfo;
struct _rfbClientRec;

namespace v4l2vnc {

struct VncConfig {
	std::string listen = "127.0.0.1"; // numeric IPv4 or IPv6, or "unix:PATH"
	int port = 5900;
	int listen_fd = -1; // an inherited listening socket (systemd) instead
	GatePolicy gate;    // what may come in besides plain RFB
	// wss (gate.tls): the certificate and key; v4l2vnc does the TLS
	std::shared_ptr<const TlsIdentity> tls;
	unsigned max_clients = 32, max_per_address = 8; // connections, any state
	unsigned preauth_timeout_ms = 30000;            // connect to ServerInit
	unsigned handshake_timeout_ms = 5000;           // the WebSocket request, complete
	unsigned stall_timeout_ms = 2000; // a resize waits for a viewer's unread update
	std::string password;             // empty: no authentication (unless view_password)
	std::string view_password;        // viewers with it see but cannot type or point
	unsigned blacklist_threshold = 5, blacklist_timeout_ms = 10000; // Blacklist
	std::string name = "v4l2vnc";
	bool verbose = false;
};

struct VncStats {
	uint64_t clients_total = 0, rects = 0, updates = 0;
	uint64_t input_dropped = 0; // viewer input events over the queue limit
	uint64_t refused = 0;       // connections closed before libvncserver saw them
	uint64_t timed_out = 0;     // viewers cut at the pre-auth timeout
	uint64_t stalled = 0;       // viewers cut for an unread update a resize waited for
	uint64_t accept_pauses = 0; // out of file descriptors: accepting paused
	uint64_t auth_failures = 0; // wrong passwords
	uint64_t blocked = 0;       // attempts from blacklisted addresses
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

	// @viewer: an id per connection, never reused.  on_gone comes after a
	// viewer's last event (for its keys and buttons to be released).
	// @keycode: the key's XT scancode as a QEMU extended key event gives
	// it (E0-prefixed keys as 0x80 | code; xt_to_evdev()), 0 when the
	// viewer sent a plain key event (a keysym only).  Viewers that ask for
	// the QEMU pseudo-encoding (noVNC, gtk-vnc, libvncclient) send those.
	std::function<void(uint64_t viewer, int mask, int x, int y)> on_pointer;
	std::function<void(uint64_t viewer, uint32_t keysym, uint32_t keycode, bool down)> on_key;
	std::function<void(uint64_t viewer)> on_gone;

private:
	VncServer() = default;
	friend struct VncCallbacks; // libvncserver's C callbacks

	struct InputEvent {
		enum Kind { kPointer, kKey, kGone } kind;
		uint64_t viewer;
		int a, b, c; // pointer: mask, x, y; key: keysym, down, keycode
	};
	struct Pending {
		uint32_t *fb;
		unsigned width, height;
	};

	using Clock = std::chrono::steady_clock;
	// A connection from accept to close: what the caps count and the
	// pre-auth timeout watches.
	struct Conn {
		std::string addr;
		Clock::time_point since;
		UniqueFd watch;              // a dup of the socket, to shut it down safely
		UniqueFd spare[2];           // kept for rfbStartOnHoldClient()'s pipe
		_rfbClientRec *cl = nullptr; // once libvncserver has it
		bool cut = false;
		// Since when its output thread writes an update (with its send
		// lock held); the epoch when it writes none.
		Clock::time_point sending_since{};
	};

	void accept_loop();
	void accept_one();
	void pause_accepting(int err); // out of file descriptors (@err)
	void sweep(Clock::time_point now);
	// Cuts viewers whose unread update a resize has waited for too long.
	void cut_stalled(Clock::time_point now);
	void note_sending(uint64_t id, bool sending);
	void handshake(uint64_t id, UniqueFd fd);
	// kTls: the TLS handshake and the request inside it, against
	// @deadline; on kWebSocket @session is set and @buf/@have hold the
	// decrypted bytes.
	GateResult tls_handshake(int fd, std::chrono::steady_clock::time_point deadline,
				 std::unique_ptr<TlsSession> &session, std::string &buf,
				 size_t &have);
	void conn_closed(uint64_t id);
	// libvncserver's password check, with the blacklist around it.
	bool check_password(_rfbClientRec *cl, const char *response, int len);
	void resize_loop();
	// rfbNewFramebuffer() with @p, no viewer's send lock left held.
	void switch_framebuffer(const Pending &p);
	bool listed(int fd) const; // a client with socket @fd is in the list
	void push_event(const InputEvent &e, bool always = false);
	void client_thread_done(pthread_t t);
	void reap_client_threads();

	_rfbScreenInfo *screen_ = nullptr;
	std::string password_, view_password_, name_;
	char *passwords_[3] = {nullptr, nullptr, nullptr};
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

	GatePolicy gate_;
	std::shared_ptr<const TlsIdentity> tls_;
	unsigned max_clients_ = 0, max_per_address_ = 0;
	std::chrono::milliseconds preauth_timeout_{0}, handshake_timeout_{0}, stall_timeout_{0};
	std::atomic<uint64_t> refused_{0}, timed_out_{0}, accept_pauses_{0}, stalled_{0};
	std::atomic<uint64_t> auth_failures_{0}, blocked_{0};
	Blacklist blacklist_; // under conn_mu_
	Clock::time_point accept_paused_until_{};
	bool unix_ = false;

	// Connections (accept to close), keyed by an id of ours.
	std::mutex conn_mu_;
	std::map<uint64_t, Conn> conns_;
	std::map<std::string, unsigned> per_address_;
	Clock::time_point resize_since_{}; // a resize waits for viewers' sends (else epoch)
	uint64_t next_id_ = 1;
	std::vector<std::thread> handshakes_;
	std::vector<std::thread::id> handshakes_done_;

	// rfbNewClient() calls in progress (their sockets) and a resize
	// waiting for them to be in libvncserver's client list.
	std::mutex admit_mu_;
	std::condition_variable admit_cv_;
	std::vector<int> admitting_;
	bool resize_waits_ = false;

	std::thread acceptor_, resizer_;
	std::atomic<bool> quit_{false}; // tells accept_loop to end
	std::mutex threads_mu_;
	std::vector<pthread_t> client_threads_, finished_threads_;

	// Viewers (ids) that asked for QEMU extended key events and are owed
	// the pseudo-rectangle that says yes; sent before their next update.
	std::mutex qemu_mu_;
	std::vector<uint64_t> qemu_acks_;
	std::atomic<bool> qemu_acks_owed_{false};

	std::mutex event_mu_;
	std::deque<InputEvent> events_;
	std::atomic<uint64_t> input_dropped_{0};

	std::atomic<unsigned> clients_{0};
	std::atomic<uint64_t> clients_total_{0};
};

} // namespace v4l2vnc
