// SPDX-License-Identifier: GPL-2.0-or-later
#include "web_server.h"

#include "net.h"
#include "tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace v4l2vnc {

namespace {

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

struct WebCallbacks {
	// Serves only GET and HEAD of files under the root (HEAD: libmicrohttpd
	// leaves the body out).
	static MHD_Result request(void *cls, MHD_Connection *conn, const char *url,
				  const char *method, const char * /*version*/,
				  const char * /*upload_data*/, size_t *upload_size, void **state)
	{
		auto *w = static_cast<WebServer *>(cls);
		if (!*state) { // first call: headers are in; count it once
			w->requests_++;
			*state = w;
			// A client that asks: the idle timeout from now on.
			MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
						  w->idle_timeout_s_);
		}
		if (*upload_size) {
			*upload_size = 0; // a body is read and ignored
			return MHD_YES;
		}
		const bool get = std::strcmp(method, "GET") == 0 ||
				 std::strcmp(method, "HEAD") == 0;
		unsigned status = MHD_HTTP_OK;
		MHD_Response *resp = nullptr;
		std::string type = "text/plain; charset=utf-8";
		if (!get) {
			status = MHD_HTTP_METHOD_NOT_ALLOWED;
			static const char body[] = "405 only GET and HEAD\n";
			resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
							       MHD_RESPMEM_PERSISTENT);
			MHD_add_response_header(resp, "Allow", "GET, HEAD");
		} else if (auto path = resolve_path(w->root_, url)) {
			int fd = open(path->c_str(), O_RDONLY | O_CLOEXEC);
			struct stat st;
			if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			    size_t(st.st_size) <= kMaxFile) {
				resp = MHD_create_response_from_fd(size_t(st.st_size), fd);
				type = content_type(*path);
			} else if (fd >= 0) {
				close(fd);
			}
		}
		if (!resp) {
			status = MHD_HTTP_NOT_FOUND;
			static const char body[] = "404 not found\n";
			resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
							       MHD_RESPMEM_PERSISTENT);
		}
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Content-Type", type.c_str());
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
		MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
		MHD_Result r = MHD_queue_response(conn, status, resp);
		MHD_destroy_response(resp);
		return r;
	}

	// A new connection: the request timeout until it asks (request()).
	static void connection_started(void *cls, MHD_Connection *conn, void ** /*socket_context*/,
				       MHD_ConnectionNotificationCode code)
	{
		if (code == MHD_CONNECTION_NOTIFY_STARTED)
			MHD_set_connection_option(
				conn, MHD_CONNECTION_OPTION_TIMEOUT,
				static_cast<WebServer *>(cls)->request_timeout_s_);
	}

	// The target as sent: resolve_path() decodes (and checks) it itself.
	static size_t no_unescape(void * /*cls*/, MHD_Connection * /*conn*/, char *s)
	{
		return std::strlen(s);
	}
};

WebServer::~WebServer()
{
	if (daemon_)
		MHD_stop_daemon(daemon_); // closes the listening socket too
}

std::unique_ptr<WebServer> WebServer::create(const std::string &addr, int port,
					     const std::string &dir, std::string &error,
					     int listen_fd, WebLimits limits,
					     const TlsIdentity *tls)
{
	auto w = std::unique_ptr<WebServer>(new WebServer);
	char real[PATH_MAX];
	if (!realpath(dir.c_str(), real)) {
		error = "--web-dir " + dir + ": " + std::strerror(errno);
		return nullptr;
	}
	w->root_ = real;
	w->idle_timeout_s_ = limits.idle_timeout_s;
	w->request_timeout_s_ = limits.request_timeout_s;
	UniqueFd sock;
	if (listen_fd >= 0)
		sock.reset(listen_fd);
	else
		sock.reset(listen_tcp(addr, port, 64, error));
	if (!sock.valid()) {
		error = "--web: " + error;
		return nullptr;
	}
	w->listen_copy_.reset(fcntl(sock.get(), F_DUPFD_CLOEXEC, 0));
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	getsockname(sock.get(), reinterpret_cast<sockaddr *>(&ss), &len);
	unsigned flags = MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		error = "--web: this libmicrohttpd has no TLS support";
		return nullptr;
	}
	// With TLS the key and certificate go in as PEM text (libmicrohttpd
	// reads them at start); the options' list then ends early without.
	MHD_OptionItem tls_options[] = {
		{MHD_OPTION_HTTPS_MEM_KEY, 0, tls ? (void *)tls->key_pem().c_str() : nullptr},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, tls ? (void *)tls->cert_pem().c_str() : nullptr},
		{MHD_OPTION_END, 0, nullptr},
	};
	if (tls)
		flags |= MHD_USE_TLS;
	else
		tls_options[0].option = MHD_OPTION_END;
	w->daemon_ = MHD_start_daemon(
		flags, 0, nullptr, nullptr, WebCallbacks::request, w.get(),
		MHD_OPTION_LISTEN_SOCKET, sock.get(), MHD_OPTION_CONNECTION_LIMIT,
		limits.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.max_per_address,
		MHD_OPTION_CONNECTION_TIMEOUT, limits.idle_timeout_s, MHD_OPTION_NOTIFY_CONNECTION,
		WebCallbacks::connection_started, w.get(), MHD_OPTION_UNESCAPE_CALLBACK,
		WebCallbacks::no_unescape, nullptr, MHD_OPTION_ARRAY, tls_options, MHD_OPTION_END);
	if (!w->daemon_) {
		error = std::string("--web: libmicrohttpd failed to start") +
			(tls ? " (with TLS: the certificate or key was refused)" : "");
		return nullptr;
	}
	sock.release(); // libmicrohttpd's now
	const MHD_DaemonInfo *info = MHD_get_daemon_info(w->daemon_, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		error = "--web: libmicrohttpd has no epoll fd";
		return nullptr;
	}
	w->epoll_fd_ = info->epoll_fd;
	return w;
}

int WebServer::port() const
{
	return local_port(listen_copy_.get());
}

void WebServer::process()
{
	// libmicrohttpd accepts here (net.h).
	std::lock_guard<std::mutex> fl(fd_mutex());
	const unsigned before = connections();
	MHD_run(daemon_);
	// Out of file descriptors, libmicrohttpd 0.9.75 stops watching its
	// listening socket until a connection is freed, and watches it again
	// only at the start of the run after that one: with nothing else to
	// come (no connection left, or only idle ones), the page went
	// unanswered until some idle timeout, or for ever.
	if (connections() < before)
		MHD_run(daemon_);
}

unsigned WebServer::connections() const
{
	const MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_,
							 MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return info ? info->num_connections : 0;
}

int WebServer::timeout_ms() const
{
	MHD_UNSIGNED_LONG_LONG t;
	if (MHD_get_timeout(daemon_, &t) != MHD_YES)
		return -1;
	return int(std::min<MHD_UNSIGNED_LONG_LONG>(t, 60000));
}

} // namespace v4l2vnc
