// SPDX-License-Identifier: GPL-2.0-or-later
#include "net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace v4l2vnc {

std::optional<ListenAddr> parse_listen_addr(const std::string &addr, int port)
{
	std::string host = addr;
	if (host.size() > 2 && host.front() == '[' && host.back() == ']')
		host = host.substr(1, host.size() - 2);
	if (host.empty())
		return std::nullopt;
	addrinfo hints{};
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	addrinfo *res = nullptr;
	if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
		return std::nullopt;
	ListenAddr a;
	if (res->ai_addrlen <= sizeof(a.ss)) {
		std::memcpy(&a.ss, res->ai_addr, res->ai_addrlen);
		a.len = res->ai_addrlen;
		a.family = res->ai_family;
	}
	freeaddrinfo(res);
	if (a.family != AF_INET && a.family != AF_INET6)
		return std::nullopt;
	if (a.family == AF_INET6) {
		const auto &s6 = reinterpret_cast<const sockaddr_in6 &>(a.ss);
		if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
			// An IPV6_V6ONLY socket cannot bind it: listen on IPv4.
			sockaddr_in s4{};
			s4.sin_family = AF_INET;
			s4.sin_port = s6.sin6_port;
			std::memcpy(&s4.sin_addr, &s6.sin6_addr.s6_addr[12], 4);
			a.ss = {};
			std::memcpy(&a.ss, &s4, sizeof(s4));
			a.len = sizeof(s4);
			a.family = AF_INET;
		}
	}
	return a;
}

bool is_loopback(const ListenAddr &a)
{
	if (a.family == AF_INET) {
		const auto &s4 = reinterpret_cast<const sockaddr_in &>(a.ss);
		return (ntohl(s4.sin_addr.s_addr) >> 24) == 127;
	}
	if (a.family == AF_INET6) {
		const auto &s6 = reinterpret_cast<const sockaddr_in6 &>(a.ss);
		if (IN6_IS_ADDR_LOOPBACK(&s6.sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr) && s6.sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

std::string host_port(const std::string &addr, int port)
{
	const bool v6 = addr.find(':') != std::string::npos && addr.front() != '[';
	return (v6 ? "[" + addr + "]" : addr) + ":" + std::to_string(port);
}

int listen_tcp(const std::string &addr, int port, int backlog, std::string &error)
{
	auto a = parse_listen_addr(addr, port);
	if (!a) {
		error = addr + ": not a numeric IPv4 or IPv6 address";
		return -1;
	}
	int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	const int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (a->family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, reinterpret_cast<const sockaddr *>(&a->ss), a->len) < 0 ||
	    listen(fd, backlog) < 0) {
		error = "listening on " + host_port(addr, port) + ": " + std::strerror(errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

std::string local_address(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) < 0)
		return "?";
	if (ss.ss_family == AF_UNIX)
		return std::string("unix:") + reinterpret_cast<const sockaddr_un &>(ss).sun_path;
	char host[INET6_ADDRSTRLEN] = "?";
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 &>(ss).sin6_addr, host,
			  sizeof(host));
	else if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in &>(ss).sin_addr, host,
			  sizeof(host));
	return host;
}

int local_port(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(reinterpret_cast<const sockaddr_in6 &>(ss).sin6_port);
	return ntohs(reinterpret_cast<const sockaddr_in &>(ss).sin_port);
}

int listen_unix(const std::string &path, unsigned mode, int backlog, std::string &error)
{
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	if (path.empty() || path.size() >= sizeof(sa.sun_path)) {
		error = "unix:" + path + ": path empty or too long";
		return -1;
	}
	std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
	struct stat st;
	if (lstat(path.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			error = "unix:" + path + ": exists and is not a socket";
			return -1;
		}
		unlink(path.c_str()); // left by an earlier run
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		error = std::string("socket(AF_UNIX): ") + std::strerror(errno);
		return -1;
	}
	// The socket file gets its mode from the umask at bind(): never wider
	// than @mode, not even for a moment.
	mode_t old = umask(0777 & ~mode_t(mode));
	int r = bind(fd, reinterpret_cast<const sockaddr *>(&sa), sizeof(sa));
	int bind_errno = errno;
	umask(old);
	if (r < 0 || chmod(path.c_str(), mode) < 0 || listen(fd, backlog) < 0) {
		error = "listening on unix:" + path + ": " +
			std::strerror(r < 0 ? bind_errno : errno);
		close(fd);
		return -1;
	}
	return fd;
}

std::string peer_address(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) < 0)
		return "?";
	if (ss.ss_family == AF_UNIX)
		return "unix";
	char host[INET6_ADDRSTRLEN] = "?";
	if (ss.ss_family == AF_INET6) {
		const auto &s6 = reinterpret_cast<const sockaddr_in6 &>(ss);
		if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr))
			inet_ntop(AF_INET, &s6.sin6_addr.s6_addr[12], host, sizeof(host));
		else
			inet_ntop(AF_INET6, &s6.sin6_addr, host, sizeof(host));
	} else if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in &>(ss).sin_addr, host,
			  sizeof(host));
	}
	return host;
}

bool socket_is_unix(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	return getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) == 0 &&
	       ss.ss_family == AF_UNIX;
}

bool socket_is_local(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) < 0)
		return false;
	if (ss.ss_family == AF_UNIX)
		return true;
	ListenAddr a;
	a.ss = ss;
	a.len = len;
	a.family = ss.ss_family;
	return is_loopback(a);
}

std::mutex &fd_mutex()
{
	static std::mutex mu;
	return mu;
}

} // namespace v4l2vnc
