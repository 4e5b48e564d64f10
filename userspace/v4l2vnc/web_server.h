// SPDX-License-Identifier: GPL-2.0-or-later
// noVNC's files over HTTP (--web), served by libmicrohttpd from the main
// loop: its epoll fd (fd()) is watched there, process() runs it and
// timeout_ms() says when it must run anyway (idle connections are closed
// after WebLimits' timeouts).  Connections are capped in total and per
// address.
// The websocket itself goes to the VNC port, where the gate (rfb_gate.h)
// lets in only this page's.
#pragma once

#include "unique_fd.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

struct MHD_Daemon;
namespace v4l2vnc {
class TlsIdentity;
}
struct MHD_Connection;

namespace v4l2vnc {

// Maps a request target ("/app/ui.js?x=1") to a file under @root (a
// realpath()ed directory): nullopt for anything outside it or malformed.
// "/" is "/vnc.html".  Pure apart from realpath(); for unit tests.
std::optional<std::string> resolve_path(const std::string &root, const std::string &target);

// Content-Type for a file name, by extension.
const char *content_type(const std::string &path);

struct WebLimits {
	unsigned max_connections = 128, max_per_address = 64;
	unsigned idle_timeout_s = 30; // a connection that sends nothing is closed
	// ... and this sooner until its first request's headers are in (a
	// connection that never asks holds a slot, and at the fd limit
	// libmicrohttpd accepts nothing until one is freed)
	unsigned request_timeout_s = 2;
};

class WebServer {
public:
	~WebServer();
	// @listen_fd: an inherited listening socket to use instead (systemd).
	// @tls: HTTPS with this certificate and key (kept alive by the caller
	// while the server runs), else HTTP.
	static std::unique_ptr<WebServer> create(const std::string &addr, int port,
						 const std::string &dir, std::string &error,
						 int listen_fd = -1, WebLimits limits = {},
						 const TlsIdentity *tls = nullptr);
	int fd() const { return epoll_fd_; }
	int port() const; // the bound port (useful with port 0)
	// Runs libmicrohttpd for whatever is ready; never blocks.
	void process();
	// Milliseconds until process() must run even if fd() stays quiet
	// (-1: no deadline).
	int timeout_ms() const;
	uint64_t requests() const { return requests_; }
	unsigned connections() const; // open now

private:
	WebServer() = default;
	friend struct WebCallbacks;

	MHD_Daemon *daemon_ = nullptr;
	unsigned idle_timeout_s_ = 0, request_timeout_s_ = 0;
	int epoll_fd_ = -1;    // libmicrohttpd's
	UniqueFd listen_copy_; // a dup of the listening socket, for port()
	std::string root_;
	uint64_t requests_ = 0;
};

} // namespace v4l2vnc
