// SPDX-License-Identifier: GPL-2.0-or-later
// TLS for the web path: certificates generated and loaded (the key file's
// mode, a key of another certificate, a file that is no certificate), and
// real GnuTLS clients against VncServer (wss: our https origin gets RFB
// inside the WebSocket, another origin 403, plain ws refused, plain RFB
// still greets) and WebServer (HTTPS; plain HTTP gets nothing).
#include "loopback.h"
#include "tls.h"
#include "vnc_server.h"
#include "web_server.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

using namespace v4l2vnc;
using Clock = std::chrono::steady_clock;

namespace {

// A TLS client over a loopback connection; no certificate verification
// (the tests compare the fingerprint instead).
class Client {
public:
	explicit Client(int port) : fd_(loopback_connect(port))
	{
		if (fd_ < 0 || gnutls_certificate_allocate_credentials(&creds_) < 0 ||
		    gnutls_init(&s_, GNUTLS_CLIENT) < 0)
			return;
		gnutls_set_default_priority(s_);
		gnutls_credentials_set(s_, GNUTLS_CRD_CERTIFICATE, creds_);
		gnutls_transport_set_int(s_, fd_);
		gnutls_handshake_set_timeout(s_, 5000);
		gnutls_record_set_timeout(s_, 3000);
		int rc;
		do
			rc = gnutls_handshake(s_);
		while (rc < 0 && !gnutls_error_is_fatal(rc));
		ok_ = rc >= 0;
	}
	~Client()
	{
		if (s_)
			gnutls_deinit(s_);
		if (creds_)
			gnutls_certificate_free_credentials(creds_);
		if (fd_ >= 0)
			close(fd_);
	}
	bool ok() const { return ok_; }
	// The server certificate's SHA-256, as TlsIdentity::fingerprint().
	std::string fingerprint() const
	{
		unsigned n = 0;
		const gnutls_datum_t *c = gnutls_certificate_get_peers(s_, &n);
		if (!c || !n)
			return {};
		unsigned char d[32];
		size_t size = sizeof(d);
		if (gnutls_fingerprint(GNUTLS_DIG_SHA256, c, d, &size) < 0)
			return {};
		std::string out;
		char hex[4];
		for (size_t i = 0; i < size; i++) {
			std::snprintf(hex, sizeof(hex), i ? ":%02X" : "%02X", d[i]);
			out += hex;
		}
		return out;
	}
	bool send(const std::string &b) { return gnutls_record_send(s_, b.data(), b.size()) > 0; }
	// Up to @n bytes, until EOF, an error or 3 s.
	std::string read(size_t n)
	{
		std::string out;
		char buf[4096];
		while (out.size() < n) {
			ssize_t r = gnutls_record_recv(s_, buf, std::min(sizeof(buf), n - out.size()));
			if (r <= 0)
				break;
			out.append(buf, size_t(r));
		}
		return out;
	}

private:
	int fd_ = -1;
	gnutls_certificate_credentials_t creds_ = nullptr;
	gnutls_session_t s_ = nullptr;
	bool ok_ = false;
};

std::string upgrade(const std::string &origin, const std::string &path = "/websockify")
{
	return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:5900\r\nOrigin: " + origin +
	       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	       "Sec-WebSocket-Protocol: binary\r\n\r\n";
}

class Tls : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/tls-test-XXXXXX";
		ASSERT_TRUE(mkdtemp(tmpl));
		dir_ = tmpl;
	}
	void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
	std::string write(const std::string &name, const std::string &text, mode_t mode)
	{
		std::string p = dir_ + "/" + name;
		std::ofstream(p) << text;
		chmod(p.c_str(), mode);
		return p;
	}
	std::string dir_;
};

} // namespace

TEST_F(Tls, GeneratedCertificateLoadsBackWithTheSameFingerprint)
{
	std::string err;
	auto gen = TlsIdentity::generate({"127.0.0.1", "::1", "localhost"}, err);
	ASSERT_TRUE(gen) << err;
	EXPECT_EQ(gen->fingerprint().size(), 32u * 3 - 1);
	EXPECT_NE(gen->cert_pem().find("BEGIN CERTIFICATE"), std::string::npos);
	std::string cert = write("c.pem", gen->cert_pem(), 0644);
	std::string key = write("k.pem", gen->key_pem(), 0600);
	auto loaded = TlsIdentity::load(cert, key, err);
	ASSERT_TRUE(loaded) << err;
	EXPECT_EQ(loaded->fingerprint(), gen->fingerprint());
	// Each start makes a new one.
	auto other = TlsIdentity::generate({"127.0.0.1"}, err);
	ASSERT_TRUE(other) << err;
	EXPECT_NE(other->fingerprint(), gen->fingerprint());
}

TEST_F(Tls, LoadRefusesWhatItShould)
{
	std::string err;
	auto a = TlsIdentity::generate({"127.0.0.1"}, err), b = TlsIdentity::generate({}, err);
	ASSERT_TRUE(a && b) << err;
	std::string cert = write("c.pem", a->cert_pem(), 0644);
	// A key group or others may read: refused, naming the file and mode.
	for (mode_t m : {0640, 0604, 0660}) {
		std::string key = write("k.pem", a->key_pem(), m);
		EXPECT_FALSE(TlsIdentity::load(cert, key, err)) << std::oct << m;
		EXPECT_NE(err.find(key + ": mode "), std::string::npos) << err;
		EXPECT_NE(err.find("--tls-key"), std::string::npos) << err;
	}
	std::string key = write("k.pem", a->key_pem(), 0600);
	EXPECT_TRUE(TlsIdentity::load(cert, key, err)) << err;
	// Another certificate's key.
	std::string wrong = write("wrong.pem", b->key_pem(), 0400);
	EXPECT_FALSE(TlsIdentity::load(cert, wrong, err));
	EXPECT_NE(err.find("does not belong"), std::string::npos) << err;
	EXPECT_NE(err.find(wrong), std::string::npos) << err;
	// No certificate in the file; a file that is not there.
	std::string junk = write("junk.pem", "hello\n", 0644);
	EXPECT_FALSE(TlsIdentity::load(junk, key, err));
	EXPECT_NE(err.find("no PEM certificate"), std::string::npos) << err;
	EXPECT_NE(err.find(junk), std::string::npos) << err;
	EXPECT_FALSE(TlsIdentity::load(dir_ + "/none.pem", key, err));
	EXPECT_NE(err.find("none.pem: No such file"), std::string::npos) << err;
	// The certificate as the key.
	std::string as_key = write("ck.pem", a->cert_pem(), 0600);
	EXPECT_FALSE(TlsIdentity::load(cert, as_key, err));
	EXPECT_NE(err.find("no (unencrypted) PEM private key"), std::string::npos) << err;
}

class Wss : public ::testing::Test {
protected:
	void SetUp() override
	{
		std::string err;
		id_ = TlsIdentity::generate({"127.0.0.1"}, err);
		ASSERT_TRUE(id_) << err;
		VncConfig cfg;
		cfg.port = 0;
		cfg.gate.websocket = true;
		cfg.gate.tls = true;
		cfg.gate.origins = {"https://127.0.0.1:6080"};
		cfg.gate.token = "feedc0de";
		cfg.tls = id_;
		vnc_ = VncServer::create(cfg, 64, 48, err);
		ASSERT_TRUE(vnc_) << err;
		port_ = vnc_->port();
	}
	std::shared_ptr<TlsIdentity> id_;
	std::unique_ptr<VncServer> vnc_;
	int port_ = 0;
};

TEST_F(Wss, OwnHttpsOriginGetsRfbInsideTls)
{
	Client c(port_);
	ASSERT_TRUE(c.ok());
	EXPECT_EQ(c.fingerprint(), id_->fingerprint());
	ASSERT_TRUE(c.send(upgrade("https://127.0.0.1:6080")));
	std::string got = c.read(4096);
	ASSERT_EQ(got.rfind("HTTP/1.1 101", 0), 0u) << got;
	size_t body = got.find("\r\n\r\n");
	ASSERT_NE(body, std::string::npos);
	got = got.substr(body + 4);
	if (got.size() < 14)
		got += c.read(14 - got.size());
	ASSERT_GE(got.size(), 14u);
	EXPECT_EQ(got.substr(2, 12), "RFB 003.008\n");
	// The token also lets a page of another origin in (a forwarded port).
	Client t(port_);
	ASSERT_TRUE(t.ok());
	ASSERT_TRUE(t.send(upgrade("https://127.0.0.1:40000", "/websockify?token=feedc0de")));
	EXPECT_EQ(t.read(12), "HTTP/1.1 101");
}

TEST_F(Wss, OtherOriginsAndPlainWebSocketsAreRefused)
{
	for (const char *o : {"https://evil.example", "http://127.0.0.1:6080",
			      "https://127.0.0.1:6081"}) {
		Client c(port_);
		ASSERT_TRUE(c.ok());
		ASSERT_TRUE(c.send(upgrade(o)));
		std::string got = c.read(4096);
		EXPECT_EQ(got.rfind("HTTP/1.1 403", 0), 0u) << o << ": " << got;
		EXPECT_EQ(got.find("RFB"), std::string::npos) << o;
	}
	// Our own origin, but in the clear: no WebSocket without TLS.
	int fd = loopback_connect(port_);
	ASSERT_GE(fd, 0);
	std::string req = upgrade("https://127.0.0.1:6080");
	ASSERT_EQ(::write(fd, req.data(), req.size()), ssize_t(req.size()));
	char buf[4096];
	pollfd p = {fd, POLLIN, 0};
	ASSERT_EQ(poll(&p, 1, 3000), 1);
	ssize_t n = read(fd, buf, sizeof(buf));
	std::string got(buf, size_t(std::max<ssize_t>(n, 0)));
	EXPECT_EQ(got.rfind("HTTP/1.1 403", 0), 0u) << got;
	close(fd);
	EXPECT_EQ(vnc_->clients(), 0u);
}

TEST_F(Wss, PlainRfbStillGreets)
{
	int fd = loopback_connect(port_);
	ASSERT_GE(fd, 0);
	char buf[12];
	pollfd p = {fd, POLLIN, 0};
	ASSERT_EQ(poll(&p, 1, 3000), 1); // after the 150 ms of silence
	ASSERT_EQ(read(fd, buf, sizeof(buf)), 12);
	EXPECT_EQ(std::string(buf, 12), "RFB 003.008\n");
	close(fd);
}

TEST_F(Wss, SilentTlsClientHoldsNobody)
{
	// A ClientHello's first bytes, then nothing: a plain viewer still
	// gets its greeting at once, and a wss viewer its upgrade.
	int slow = loopback_connect(port_);
	ASSERT_GE(slow, 0);
	ASSERT_EQ(::write(slow, "\x16\x03\x01", 3), 3);
	auto t0 = Clock::now();
	Client c(port_);
	ASSERT_TRUE(c.ok());
	ASSERT_TRUE(c.send(upgrade("https://127.0.0.1:6080")));
	EXPECT_EQ(c.read(12), "HTTP/1.1 101");
	EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
	close(slow);
}

TEST_F(Tls, WebServerSpeaksHttpsOnly)
{
	std::string err;
	auto id = TlsIdentity::generate({"127.0.0.1"}, err);
	ASSERT_TRUE(id) << err;
	write("vnc.html", "<html>noVNC</html>\n", 0644);
	auto web = WebServer::create("127.0.0.1", 0, dir_, err, -1, {}, id.get());
	ASSERT_TRUE(web) << err;
	std::atomic<bool> stop{false};
	std::thread loop([&] {
		while (!stop) {
			pollfd p = {web->fd(), POLLIN, 0};
			poll(&p, 1, 20);
			web->process();
		}
	});
	{
		Client c(web->port());
		ASSERT_TRUE(c.ok());
		EXPECT_EQ(c.fingerprint(), id->fingerprint());
		ASSERT_TRUE(c.send("GET /vnc.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
		std::string got = c.read(4096);
		EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
		EXPECT_NE(got.find("<html>noVNC</html>"), std::string::npos) << got;
	}
	{
		// Plain HTTP: no HTTP answer.
		int fd = loopback_connect(web->port());
		ASSERT_GE(fd, 0);
		static const char req[] = "GET /vnc.html HTTP/1.1\r\nHost: x\r\n\r\n";
		ASSERT_EQ(::write(fd, req, sizeof(req) - 1), ssize_t(sizeof(req) - 1));
		std::string got;
		char buf[4096];
		pollfd p = {fd, POLLIN, 0};
		while (poll(&p, 1, 3000) == 1) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			got.append(buf, size_t(n));
		}
		EXPECT_EQ(got.find("HTTP/1"), std::string::npos) << got;
		EXPECT_EQ(got.find("noVNC"), std::string::npos) << got;
		close(fd);
	}
	stop = true;
	loop.join();
}
