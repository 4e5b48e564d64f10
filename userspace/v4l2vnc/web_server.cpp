// SPDX-License-Identifier: GPL-2.0-or-later
#include "web_server.h"

#include "net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace v4l2vnc {

namespace {

constexpr size_t kMaxRequest = 8192;
constexpr size_t kMaxConns = 128;
constexpr size_t kMaxFile = 16 << 20;

bool ends_with(const std::string &s, const char *suffix)
{
	size_t n = std::strlen(suffix);
	return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

} // namespace

const char *content_type(const std::string &p)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		// clang-format off: a table
		{".html", "text/html; charset=utf-8"},
		{".js", "application/javascript"},
		{".css", "text/css"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".json", "application/json"},
		{".woff", "font/woff"},
		{".woff2", "font/woff2"},
		{".ttf", "font/ttf"},
		{".oga", "audio/ogg"},
		{".mp3", "audio/mpeg"},
		{".txt", "text/plain; charset=utf-8"},
		// clang-format on
	};
	for (const auto &t : types)
		if (ends_with(p, t.ext))
			return t.type;
	return "application/octet-stream";
}

std::optional<std::string> resolve_path(const std::string &root, const std::string &target)
{
	if (target.empty() || target[0] != '/')
		return std::nullopt;
	std::string path;
	for (size_t i = 0; i < target.size() && target[i] != '?' && target[i] != '#'; i++) {
		char c = target[i];
		if (c == '%') {
			if (i + 2 >= target.size())
				return std::nullopt;
			int h = hexval(target[i + 1]), l = hexval(target[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return std::nullopt;
			c = char(h * 16 + l);
			i += 2;
		}
		path += c;
	}
	if (path == "/")
		path = "/vnc.html";
	// No "..", "." or empty segments, nothing hidden.
	if (path.find("/.") != std::string::npos || path.find("//") != std::string::npos ||
	    path.find('\\') != std::string::npos)
		return std::nullopt;
	std::string full = root + path;
	char real[PATH_MAX];
	if (!realpath(full.c_str(), real))
		return std::nullopt;
	std::string r = real;
	// Symlinks must not lead out of the root either.
	if (r.compare(0, root.size() + 1, root + "/") != 0)
		return std::nullopt;
	return r;
}

std::unique_ptr<WebServer> WebServer::create(const std::string &addr, int port,
					     const std::string &dir, std::string &error)
{
	auto w = std::unique_ptr<WebServer>(new WebServer);
	char real[PATH_MAX];
	if (!realpath(dir.c_str(), real)) {
		error = "--web-dir " + dir + ": " + std::strerror(errno);
		return nullptr;
	}
	w->root_ = real;
	w->listen_.reset(listen_tcp(addr, port, 64, error));
	if (!w->listen_.valid()) {
		error = "--web: " + error;
		return nullptr;
	}
	w->epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = w->listen_.get();
	if (!w->epoll_.valid() ||
	    epoll_ctl(w->epoll_.get(), EPOLL_CTL_ADD, w->listen_.get(), &ev) < 0) {
		error = std::string("--web: epoll: ") + std::strerror(errno);
		return nullptr;
	}
	return w;
}

int WebServer::port() const
{
	return local_port(listen_.get());
}

void WebServer::accept_all()
{
	for (;;) {
		int fd = accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; // EAGAIN, or a connection that died meanwhile
		if (conns_.size() >= kMaxConns) {
			close(fd);
			continue;
		}
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		conns_[fd].fd.reset(fd);
	}
}

void WebServer::respond(Conn &c)
{
	requests_++;
	std::istringstream req(c.in);
	std::string method, target, version;
	req >> method >> target >> version;
	int status = 200;
	const char *reason = "OK";
	std::string body, type = "text/plain; charset=utf-8";

	if (method != "GET" && method != "HEAD") {
		status = 405;
		reason = "Method Not Allowed";
		body = "405 only GET and HEAD\n";
	} else if (auto path = resolve_path(root_, target)) {
		std::ifstream f(*path, std::ios::binary);
		std::ostringstream data;
		if (f && (data << f.rdbuf()) && data.str().size() <= kMaxFile) {
			body = data.str();
			type = content_type(*path);
		} else {
			status = 404;
			reason = "Not Found";
			body = "404 not found\n";
		}
	} else {
		status = 404;
		reason = "Not Found";
		body = "404 not found\n";
	}
	c.out = "HTTP/1.0 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
		"\r\nContent-Length: " + std::to_string(body.size()) +
		"\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: "
		"close\r\n\r\n";
	if (method != "HEAD")
		c.out += body;
	c.sent = 0;
	epoll_event ev{};
	ev.events = EPOLLOUT;
	ev.data.fd = c.fd.get();
	epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
}

bool WebServer::on_readable(Conn &c)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(c.fd.get(), buf, sizeof(buf));
		if (n > 0) {
			c.in.append(buf, size_t(n));
			if (c.in.size() > kMaxRequest)
				return false;
			continue;
		}
		if (n == 0)
			return false;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return false;
		break;
	}
	if (c.out.empty() && c.in.find("\r\n\r\n") != std::string::npos) {
		respond(c);
		return on_writable(c);
	}
	return true;
}

bool WebServer::on_writable(Conn &c)
{
	while (c.sent < c.out.size()) {
		ssize_t n = send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent,
				 MSG_NOSIGNAL);
		if (n > 0) {
			c.sent += size_t(n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN; // wait for EPOLLOUT, or give up
	}
	shutdown(c.fd.get(), SHUT_WR);
	return false;
}

void WebServer::process()
{
	epoll_event ev[32];
	int n = epoll_wait(epoll_.get(), ev, 32, 0);
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;
		if (fd == listen_.get()) {
			accept_all();
			continue;
		}
		auto it = conns_.find(fd);
		if (it == conns_.end())
			continue;
		bool keep;
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			keep = false;
		else if (it->second.out.empty())
			keep = on_readable(it->second);
		else
			keep = on_writable(it->second);
		if (!keep)
			conns_.erase(it); // closing the fd also leaves epoll
	}
}

} // namespace v4l2vnc
