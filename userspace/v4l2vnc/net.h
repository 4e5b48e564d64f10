// SPDX-License-Identifier: GPL-2.0-or-later
// Listening addresses: numeric IPv4 or IPv6, nothing else.
#pragma once

#include <sys/socket.h>

#include <mutex>
#include <optional>
#include <string>

namespace v4l2vnc {

struct ListenAddr {
	sockaddr_storage ss{};
	socklen_t len = 0;
	int family = 0; // AF_INET or AF_INET6
};

// "127.0.0.1", "0.0.0.0", "::1", "::", "[::1]", "fe80::1%eth0"; an IPv4-mapped
// IPv6 address ("::ffff:127.0.0.1") is taken as the IPv4 address it maps.
// nullopt for anything else (names are not resolved).
std::optional<ListenAddr> parse_listen_addr(const std::string &addr, int port);

// 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104.
bool is_loopback(const ListenAddr &a);

// ADDR:PORT, IPv6 in brackets: "127.0.0.1:5900", "[::1]:5900".
std::string host_port(const std::string &addr, int port);

// A listening TCP socket (non-blocking, close-on-exec) on exactly @addr:
// IPv6 sockets are IPV6_V6ONLY, so "::" does not take IPv4 connections
// too.  Returns the fd, or -1 with @error set.
int listen_tcp(const std::string &addr, int port, int backlog, std::string &error);

// The local address of a bound socket, numeric ("127.0.0.1", "::1",
// "unix:PATH"); "?" on error.
std::string local_address(int fd);

// The local port of a bound socket, -1 on error.
int local_port(int fd);

// A listening unix stream socket at @path, mode @mode (0600: only this
// user), non-blocking, close-on-exec; a stale socket left at @path by an
// earlier run is replaced, any other file is not.  -1 with @error set.
int listen_unix(const std::string &path, unsigned mode, int backlog, std::string &error);

// The peer of a connected socket as a numeric address ("127.0.0.1",
// "::1"; IPv4-mapped IPv6 as IPv4), "unix" for unix sockets, "?" if unknown.
std::string peer_address(int fd);

// For an inherited listening socket (systemd): true when it is a unix
// socket or TCP on a loopback address.
bool socket_is_local(int fd);

// True for a unix socket.
bool socket_is_unix(int fd);

// Held by every thread while it makes file descriptors that a spare's
// numbers could go to: VncServer keeps a spare pipe for each connection
// and closes it just before libvncserver's pipe() for the viewer's
// thread, which must get those numbers (at the fd limit libvncserver
// 0.9.14 FD_SETs the -1 of a failed pipe(): the daemon aborted).
std::mutex &fd_mutex();

} // namespace v4l2vnc
