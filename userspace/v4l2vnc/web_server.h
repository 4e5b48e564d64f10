// SPDX-License-Identifier: GPL-2.0-or-later
// A small static-file HTTP server for noVNC (--web).  libvncserver's own
// HTTP server handles one connection at a time and closes it when the
// next one arrives, which breaks noVNC 1.3's dozens of parallel module
// loads; this one serves many connections from the event loop.  The
// websocket itself goes to the VNC port, where libvncserver handles it.
// It has its own epoll fd, watched by the main loop (no thread).
#pragma once

#include "unique_fd.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace v4l2vnc {

// Maps a request target ("/app/ui.js?x=1") to a file under @root (a
// realpath()ed directory): nullopt for anything outside it or malformed.
// "/" is "/vnc.html".  Pure apart from realpath(); for unit tests.
std::optional<std::string> resolve_path(const std::string &root, const std::string &target);

// Content-Type for a file name, by extension.
const char *content_type(const std::string &path);

class WebServer {
public:
	static std::unique_ptr<WebServer> create(const std::string &addr, int port,
						 const std::string &dir, std::string &error);
	int fd() const { return epoll_.get(); }
	int port() const; // the bound port (useful with port 0)
	// Accepts, reads and answers whatever is ready; never blocks.
	void process();
	uint64_t requests() const { return requests_; }

private:
	struct Conn {
		UniqueFd fd;
		std::string in, out;
		size_t sent = 0;
	};
	WebServer() = default;
	void accept_all();
	// False when the connection is finished (to be closed).
	bool on_readable(Conn &c);
	bool on_writable(Conn &c);
	void respond(Conn &c);

	UniqueFd epoll_, listen_;
	std::string root_;
	std::map<int, Conn> conns_;
	uint64_t requests_ = 0;
};

} // namespace v4l2vnc
