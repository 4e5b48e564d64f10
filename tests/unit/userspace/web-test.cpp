// SPDX-License-Identifier: GPL-2.0-or-later
#include "loopback.h"
#include "web_server.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace v4l2vnc;
namespace fs = std::filesystem;

class WebPaths : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/v4l2vnc-web-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		base_ = tmpl;
		fs::create_directories(base_ / "root/app");
		std::ofstream(base_ / "root/vnc.html") << "<html>";
		std::ofstream(base_ / "root/app/ui.js") << "1;";
		std::ofstream(base_ / "root/a b.css") << "x";
		std::ofstream(base_ / "secret") << "no";
		fs::create_symlink(base_ / "secret", base_ / "root/link");
		char real[PATH_MAX];
		ASSERT_NE(realpath((base_ / "root").c_str(), real), nullptr);
		root_ = real;
	}
	void TearDown() override { fs::remove_all(base_); }

	fs::path base_;
	std::string root_;
};

TEST_F(WebPaths, ServesFilesUnderTheRoot)
{
	EXPECT_EQ(resolve_path(root_, "/"), root_ + "/vnc.html");
	EXPECT_EQ(resolve_path(root_, "/vnc.html?autoconnect=1&port=5900"), root_ + "/vnc.html");
	EXPECT_EQ(resolve_path(root_, "/app/ui.js"), root_ + "/app/ui.js");
	EXPECT_EQ(resolve_path(root_, "/a%20b.css"), root_ + "/a b.css");
}

TEST_F(WebPaths, RefusesEverythingElse)
{
	EXPECT_EQ(resolve_path(root_, "/../secret"), std::nullopt);
	EXPECT_EQ(resolve_path(root_, "/app/../../secret"), std::nullopt);
	EXPECT_EQ(resolve_path(root_, "/%2e%2e/secret"), std::nullopt);
	EXPECT_EQ(resolve_path(root_, "/link"), std::nullopt); // symlink out of the root
	EXPECT_EQ(resolve_path(root_, "/missing.js"), std::nullopt);
	EXPECT_EQ(resolve_path(root_, "relative"), std::nullopt);
	EXPECT_EQ(resolve_path(root_, ""), std::nullopt);
	EXPECT_EQ(resolve_path(root_, "/bad%zz"), std::nullopt);
	EXPECT_EQ(resolve_path(root_, "/nul%00.js"), std::nullopt);
	EXPECT_EQ(resolve_path(root_, "//etc/passwd"), std::nullopt);
}

TEST(Web, ContentTypes)
{
	EXPECT_STREQ(content_type("/x/vnc.html"), "text/html; charset=utf-8");
	EXPECT_STREQ(content_type("ui.js"), "application/javascript"); // ES modules need it
	EXPECT_STREQ(content_type("a.css"), "text/css");
	EXPECT_STREQ(content_type("i.svg"), "image/svg+xml");
	EXPECT_STREQ(content_type("f.woff2"), "font/woff2");
	EXPECT_STREQ(content_type("noext"), "application/octet-stream");
}

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

// Many clients at once against the real server, driven from this thread:
// every one gets its whole file, a bad path gets 404, and nothing hangs.
TEST_F(WebPaths, ManyParallelConnections)
{
	std::string big(300000, 'x'); // larger than a socket buffer
	std::ofstream(base_ / "root/app/big.js") << big;
	std::string err;
	auto web = WebServer::create("127.0.0.1", 0, root_, err);
	ASSERT_TRUE(web) << err;
	const int port = web->port();
	ASSERT_GT(port, 0);

	struct Client {
		int fd;
		std::string want_status, path, got;
		bool done = false;
	};
	std::vector<Client> clients;
	for (int i = 0; i < 40; i++) {
		const char *path = i % 4 == 0   ? "/app/big.js"
				   : i % 4 == 1 ? "/vnc.html"
				   : i % 4 == 2 ? "/app/ui.js"
						: "/../secret";
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ASSERT_GE(fd, 0);
		sockaddr_in sa{};
		sa.sin_family = AF_INET;
		sa.sin_port = htons(uint16_t(port));
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
		std::string req = std::string("GET ") + path +
				  " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		ASSERT_EQ(write(fd, req.data(), req.size()), ssize_t(req.size()));
		fcntl(fd, F_SETFL, O_NONBLOCK);
		clients.push_back({fd, i % 4 == 3 ? "404" : "200", path, "", false});
	}
	for (int round = 0; round < 2000; round++) {
		web->process();
		bool all = true;
		for (auto &c : clients) {
			if (c.done)
				continue;
			char buf[65536];
			ssize_t n;
			while ((n = read(c.fd, buf, sizeof(buf))) > 0)
				c.got.append(buf, size_t(n));
			if (n == 0) {
				c.done = true;
				close(c.fd);
			} else {
				all = false;
			}
		}
		if (all)
			break;
		pollfd p{web->fd(), POLLIN, 0};
		poll(&p, 1, 10);
	}
	for (auto &c : clients) {
		ASSERT_TRUE(c.done) << c.path << " never finished";
		EXPECT_EQ(c.got.substr(9, 3), c.want_status) << c.path;
		if (c.want_status != "200")
			continue;
		auto body = c.got.substr(c.got.find("\r\n\r\n") + 4);
		if (c.path == "/app/big.js")
			EXPECT_EQ(body, big);
		else if (c.path == "/app/ui.js") {
			EXPECT_EQ(body, "1;");
			EXPECT_NE(c.got.find("Content-Type: application/javascript"),
				  std::string::npos);
		} else
			EXPECT_EQ(body, "<html>");
	}
	EXPECT_EQ(web->requests(), 40u);
}

namespace {

int connect_to(int port)
{
	int fd = loopback_connect(port);
	if (fd >= 0)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

// Runs @web for @ms as the main loop would (its fd and its timeout).
void run_for(WebServer &web, int ms)
{
	auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
	while (std::chrono::steady_clock::now() < end) {
		pollfd p{web.fd(), POLLIN, 0};
		int t = web.timeout_ms();
		poll(&p, 1, t < 0 || t > 20 ? 20 : t);
		web.process();
	}
}

// True once the server has closed @fd (non-blocking; reads what is there).
bool closed(int fd)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	return n == 0 || (n < 0 && errno != EAGAIN);
}

} // namespace

// Idle connections (128 of them locked noVNC out before) are closed after
// the idle timeout, and one address cannot take every connection.
TEST_F(WebPaths, IdleConnectionsAreClosedAndCapped)
{
	std::string err;
	WebLimits limits;
	limits.max_per_address = 4;
	limits.idle_timeout_s = limits.request_timeout_s = 1;
	auto web = WebServer::create("127.0.0.1", 0, root_, err, -1, limits);
	ASSERT_TRUE(web) << err;
	std::vector<int> idle;
	for (int i = 0; i < 4; i++) {
		idle.push_back(connect_to(web->port()));
		ASSERT_GE(idle.back(), 0);
	}
	run_for(*web, 200);
	int extra = connect_to(web->port());
	ASSERT_GE(extra, 0);
	run_for(*web, 200);
	EXPECT_TRUE(closed(extra)) << "a 5th connection from one address was kept";
	close(extra);
	for (int fd : idle)
		EXPECT_FALSE(closed(fd));
	run_for(*web, 1800);
	for (int fd : idle) {
		EXPECT_TRUE(closed(fd)) << "idle connection not closed after the timeout";
		close(fd);
	}
	int fd = connect_to(web->port());
	ASSERT_GE(fd, 0);
	const char req[] = "GET /vnc.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	ASSERT_EQ(write(fd, req, sizeof(req) - 1), ssize_t(sizeof(req) - 1));
	std::string got;
	for (int i = 0; i < 100 && got.find("<html>") == std::string::npos; i++) {
		run_for(*web, 20);
		char buf[4096];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			got.append(buf, size_t(n));
	}
	EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 200") << got;
	close(fd);
}
