// SPDX-License-Identifier: GPL-2.0-or-later
#include "net.h"
#include "options.h"

#include <kms2v4l/kms2v4l.h>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <vector>

using namespace v4l2vnc;

namespace {

ParseResult parse(std::vector<const char *> args)
{
	args.insert(args.begin(), "v4l2vnc");
	return parse_options(args);
}

} // namespace

TEST(Options, Defaults)
{
	auto r = parse({});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_EQ(r.options->listen, "127.0.0.1");
	EXPECT_EQ(r.options->port, 5900);
	EXPECT_TRUE(r.options->vnc);
	EXPECT_FALSE(r.options->input);
	EXPECT_EQ(r.options->xkb_layout, "us");
	EXPECT_EQ(r.options->web_port, 0);
	EXPECT_EQ(r.options->web_dir, "/usr/share/novnc");
	EXPECT_TRUE(r.options->device.empty());
}

TEST(Options, ValuesBothSpellings)
{
	auto r = parse({"--device", "/dev/video3", "--port=5905", "--format", "YUYV",
			"--size=800x600", "--input", "--xkb-layout", "de", "--web", "6080", "--gst",
			"fakesink", "--buffers=6", "--frames", "10"});
	ASSERT_TRUE(r.options) << r.error;
	const Options &o = *r.options;
	EXPECT_EQ(o.device, "/dev/video3");
	EXPECT_EQ(o.port, 5905);
	EXPECT_EQ(o.fourcc, KMS2V4L_FOURCC('Y', 'U', 'Y', 'V'));
	EXPECT_EQ(o.width, 800u);
	EXPECT_EQ(o.height, 600u);
	EXPECT_TRUE(o.input);
	EXPECT_EQ(o.xkb_layout, "de");
	EXPECT_EQ(o.web_port, 6080);
	EXPECT_EQ(o.gst, "fakesink");
	EXPECT_EQ(o.buffers, 6u);
	EXPECT_EQ(o.frames, 10);
}

TEST(Options, Help)
{
	EXPECT_TRUE(parse({"--help"}).help);
	EXPECT_TRUE(parse({"--port", "1", "-h"}).help);
	auto u = usage("v4l2vnc");
	for (const char *opt : {"--device", "--listen", "--port", "--password-file", "--web",
				"--input", "--xkb-layout", "--gst", "SIGUSR1"})
		EXPECT_NE(u.find(opt), std::string::npos) << opt;
}

TEST(Options, NonLoopbackNeedsPassword)
{
	auto r = parse({"--listen", "0.0.0.0"});
	EXPECT_FALSE(r.options);
	EXPECT_NE(r.error.find("--password-file"), std::string::npos);
	// A password alone is not enough: VNC authentication is weak and the
	// session unencrypted; the flag says so knowingly.
	r = parse({"--listen", "192.168.1.2", "--password-file", "/etc/pw"});
	EXPECT_FALSE(r.options);
	EXPECT_NE(r.error.find("--insecure-vnc-auth"), std::string::npos);
	r = parse({"--listen", "192.168.1.2", "--password-file", "/etc/pw", "--insecure-vnc-auth"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_TRUE(r.options->insecure_vnc_auth);
	r = parse({"--listen", "192.168.1.2", "--view-only-password-file", "/etc/pw",
		   "--insecure-vnc-auth"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_NE(usage("v").find("DES"), std::string::npos);
	r = parse({"--listen", "127.0.0.2"});
	EXPECT_TRUE(r.options) << r.error;
	// Without VNC no listen policy applies.
	r = parse({"--listen", "0.0.0.0", "--no-vnc", "--gst", "fakesink"});
	EXPECT_TRUE(r.options) << r.error;
}

TEST(Options, UnixListener)
{
	auto r = parse({"--listen", "unix:/run/v4l2vnc.sock"});
	ASSERT_TRUE(r.options) << r.error; // local: no password needed
	EXPECT_EQ(r.options->listen, "unix:/run/v4l2vnc.sock");
	EXPECT_NE(parse({"--listen", "unix:"}).error, "");
	r = parse({"--listen", "unix:/run/v.sock", "--web", "6080"});
	EXPECT_NE(r.error.find("--web"), std::string::npos);
}

namespace {
std::string write_file(const std::string &data, mode_t mode)
{
	char name[] = "/tmp/v4l2vnc-pw-XXXXXX";
	int fd = mkstemp(name);
	EXPECT_GE(fd, 0);
	EXPECT_EQ(write(fd, data.data(), data.size()), ssize_t(data.size()));
	fchmod(fd, mode);
	close(fd);
	return name;
}
} // namespace

TEST(Options, PasswordFileIsExactBytesAndPrivate)
{
	struct {
		const char *data;
		const char *want; // nullptr: refused
	} cases[] = {
		{"s3cret\n", "s3cret"},   {"s3cret", "s3cret"},
		{"s3cret\r\n", "s3cret"}, {" two words \n", " two words "},
		{"tab\t\n", "tab\t"},     {"s3cret\n\n", nullptr},
		{"s3cret\r", nullptr},    {"a\nb\n", nullptr},
		{"\n", nullptr},          {"", nullptr},
	};
	for (const auto &t : cases) {
		std::string path = write_file(t.data, 0600), err;
		auto pw = read_password_file(path, err);
		if (t.want) {
			ASSERT_TRUE(pw) << t.data << ": " << err;
			EXPECT_EQ(*pw, t.want);
		} else {
			EXPECT_FALSE(pw) << t.data;
			EXPECT_NE(err, "");
		}
		unlink(path.c_str());
	}
	std::string path = write_file(std::string("a\0b", 3), 0600), err;
	EXPECT_FALSE(read_password_file(path, err));
	unlink(path.c_str());
	for (mode_t m : {0640, 0604, 0620, 0602, 0644}) {
		path = write_file("s3cret\n", m);
		err.clear();
		EXPECT_FALSE(read_password_file(path, err)) << std::oct << m;
		EXPECT_NE(err.find("chmod 600"), std::string::npos) << err;
		unlink(path.c_str());
	}
	path = write_file("s3cret\n", 0400);
	EXPECT_TRUE(read_password_file(path, err)) << err;
	unlink(path.c_str());
	err.clear();
	EXPECT_FALSE(read_password_file("/nonexistent/pw", err));
	EXPECT_NE(err.find("No such file"), std::string::npos);
	EXPECT_FALSE(read_password_file("/tmp", err));
}

TEST(Options, Errors)
{
	EXPECT_NE(parse({"--bogus"}).error, "");
	EXPECT_NE(parse({"--port"}).error, "");
	EXPECT_NE(parse({"--port", "0"}).error, "");
	EXPECT_NE(parse({"--port", "65536"}).error, "");
	EXPECT_NE(parse({"--port", "59x"}).error, "");
	EXPECT_NE(parse({"--format", "XR2"}).error, "");
	EXPECT_NE(parse({"--size", "800"}).error, "");
	EXPECT_NE(parse({"--listen", "localhost"}).error, "");
	EXPECT_NE(parse({"--input=yes"}).error, "");
	EXPECT_NE(parse({"--no-vnc"}).error, "");
	EXPECT_NE(parse({"--no-vnc", "--gst", "fakesink", "--input"}).error, "");
	EXPECT_NE(parse({"--web", "5900"}).error, "");
	// NV12/YU12 go to GStreamer only: not with VNC on.
	EXPECT_NE(parse({"--format", "NV12"}).error.find("--no-vnc"), std::string::npos);
	EXPECT_NE(parse({"--format", "YU12", "--gst", "fakesink"}).error, "");
	EXPECT_TRUE(parse({"--format", "NV12", "--no-vnc", "--gst", "fakesink"}).options);
	EXPECT_FALSE(parse({"--bogus"}).options);
}

// --gst-hold: copy (the default) or drop; nothing else.
TEST(Options, GstHold)
{
	auto r = parse({"--no-vnc", "--gst", "fakesink"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_FALSE(r.options->gst_hold_drop);
	r = parse({"--no-vnc", "--gst", "fakesink", "--gst-hold", "drop"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_TRUE(r.options->gst_hold_drop);
	r = parse({"--no-vnc", "--gst", "fakesink", "--gst-hold=copy"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_FALSE(r.options->gst_hold_drop);
	EXPECT_NE(parse({"--no-vnc", "--gst", "fakesink", "--gst-hold", "keep"}).error, "");
	EXPECT_NE(usage("v4l2vnc").find("--gst-hold copy|drop"), std::string::npos);
}

// --pacing: change or vblank; unset leaves the choice to v4l2vnc.
TEST(Options, Pacing)
{
	auto r = parse({});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_FALSE(r.options->pacing_on_change.has_value());
	r = parse({"--pacing", "vblank"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_EQ(r.options->pacing_on_change, false);
	r = parse({"--pacing=change"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_EQ(r.options->pacing_on_change, true);
	EXPECT_NE(parse({"--pacing", "sometimes"}).error, "");
}

TEST(Options, Loopback)
{
	EXPECT_TRUE(is_loopback("127.0.0.1"));
	EXPECT_TRUE(is_loopback("127.255.0.9"));
	EXPECT_FALSE(is_loopback("128.0.0.1"));
	EXPECT_FALSE(is_loopback("0.0.0.0"));
	EXPECT_TRUE(is_loopback("::1"));
	EXPECT_TRUE(is_loopback("[::1]"));
	EXPECT_TRUE(is_loopback("::ffff:127.0.0.1")); // IPv4-mapped loopback
	EXPECT_TRUE(is_loopback("::ffff:127.1.2.3"));
	EXPECT_FALSE(is_loopback("::ffff:10.0.0.1"));
	EXPECT_FALSE(is_loopback("::"));
	EXPECT_FALSE(is_loopback("::2"));
	EXPECT_FALSE(is_loopback("fe80::1"));
	EXPECT_FALSE(is_loopback("2001:db8::1"));
	EXPECT_FALSE(is_loopback("nonsense"));
	EXPECT_FALSE(is_loopback("localhost")); // names are not resolved
	EXPECT_FALSE(is_loopback(""));
}

TEST(Options, ListenIpv6)
{
	for (const char *a : {"::1", "[::1]", "::ffff:127.0.0.1"}) {
		auto r = parse({"--listen", a});
		ASSERT_TRUE(r.options) << a << ": " << r.error;
		EXPECT_EQ(r.options->listen, a);
	}
	auto r = parse({"--listen=::"});
	EXPECT_FALSE(r.options);
	EXPECT_NE(r.error.find("--password-file"), std::string::npos);
	r = parse({"--listen", "::", "--password-file", "/etc/pw", "--insecure-vnc-auth"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_EQ(r.options->listen, "::");
	r = parse({"--listen", "2001:db8::1"});
	EXPECT_FALSE(r.options);
	EXPECT_NE(r.error.find("--password-file"), std::string::npos);
	r = parse({"--listen", "::ffff:192.168.1.2"});
	EXPECT_FALSE(r.options);
	EXPECT_NE(r.error.find("--password-file"), std::string::npos);
	for (const char *bad : {"localhost", "::1::", "1.2.3", "[::1", "::1]", "[]", "",
				"127.0.0.1:5900", "[::1]:5900", "::g"})
		EXPECT_NE(parse({"--listen", bad}).error, "") << bad;
}

TEST(Net, ParseListenAddr)
{
	auto a = parse_listen_addr("::1", 5900);
	ASSERT_TRUE(a);
	EXPECT_EQ(a->family, AF_INET6);
	EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6 &>(a->ss).sin6_port), 5900);
	a = parse_listen_addr("127.0.0.1", 5901);
	ASSERT_TRUE(a);
	EXPECT_EQ(a->family, AF_INET);
	EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in &>(a->ss).sin_port), 5901);
	// An IPv4-mapped address is listened on as IPv4.
	a = parse_listen_addr("::ffff:127.0.0.1", 1);
	ASSERT_TRUE(a);
	EXPECT_EQ(a->family, AF_INET);
	EXPECT_EQ(ntohl(reinterpret_cast<const sockaddr_in &>(a->ss).sin_addr.s_addr), 0x7f000001u);
	EXPECT_FALSE(parse_listen_addr("example.org", 1));
}

TEST(Net, HostPort)
{
	EXPECT_EQ(host_port("127.0.0.1", 5900), "127.0.0.1:5900");
	EXPECT_EQ(host_port("::1", 5900), "[::1]:5900");
	EXPECT_EQ(host_port("[::1]", 6080), "[::1]:6080");
}

TEST(Net, ListenOnlyWhereAsked)
{
	// An IPv6 loopback listener takes no IPv4 connection.
	std::string err;
	int fd = listen_tcp("::1", 0, 4, err);
	if (fd < 0)
		GTEST_SKIP() << "no IPv6 here: " << err;
	int one = 0;
	socklen_t len = sizeof(one);
	ASSERT_EQ(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, &len), 0);
	EXPECT_EQ(one, 1);
	close(fd);
	EXPECT_LT(listen_tcp("localhost", 0, 4, err), 0);
	EXPECT_NE(err.find("not a numeric"), std::string::npos);
}

TEST(Options, Tls)
{
	auto r = parse({"--web", "6080", "--tls-cert", "/etc/c.pem", "--tls-key=/etc/k.pem"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_EQ(r.options->tls_cert, "/etc/c.pem");
	EXPECT_EQ(r.options->tls_key, "/etc/k.pem");
	EXPECT_FALSE(r.options->tls_generate);
	r = parse({"--web", "6080", "--tls-generate"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_TRUE(r.options->tls_generate);
	EXPECT_TRUE(r.options->tls_cert.empty());
	// Defaults: no TLS.
	r = parse({"--web", "6080"});
	ASSERT_TRUE(r.options) << r.error;
	EXPECT_FALSE(r.options->tls_generate);
	EXPECT_TRUE(r.options->tls_cert.empty());
	// One without the other, both kinds, without --web.
	r = parse({"--web", "6080", "--tls-cert", "/etc/c.pem"});
	EXPECT_FALSE(r.options);
	EXPECT_NE(r.error.find("go together"), std::string::npos) << r.error;
	r = parse({"--web", "6080", "--tls-key", "/etc/k.pem"});
	EXPECT_FALSE(r.options);
	r = parse({"--web", "6080", "--tls-cert", "c", "--tls-key", "k", "--tls-generate"});
	EXPECT_FALSE(r.options);
	EXPECT_NE(r.error.find("not both"), std::string::npos) << r.error;
	r = parse({"--tls-generate"});
	EXPECT_FALSE(r.options);
	EXPECT_NE(r.error.find("for --web"), std::string::npos) << r.error;
	r = parse({"--tls-cert", "c", "--tls-key", "k"});
	EXPECT_FALSE(r.options);
	EXPECT_FALSE(parse({"--web", "6080", "--tls-cert="}).options);
	EXPECT_FALSE(parse({"--web", "6080", "--tls-generate=yes"}).options);
	auto u = usage("v4l2vnc");
	for (const char *opt : {"--tls-cert", "--tls-key", "--tls-generate", "encrypt=1"})
		EXPECT_NE(u.find(opt), std::string::npos) << opt;
}

TEST(Options, PrivateFile)
{
	char path[] = "/tmp/v4l2vnc-private-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "key\n", 4), 4);
	close(fd);
	std::string err;
	chmod(path, 0600);
	auto d = read_private_file(path, 4096, err);
	ASSERT_TRUE(d) << err;
	EXPECT_EQ(*d, "key\n"); // exact bytes
	EXPECT_FALSE(read_private_file(path, 3, err));
	EXPECT_NE(err.find("longer than 3 bytes"), std::string::npos) << err;
	chmod(path, 0640);
	EXPECT_FALSE(read_private_file(path, 4096, err));
	EXPECT_NE(err.find(std::string(path) + ": mode 640"), std::string::npos) << err;
	unlink(path);
}
