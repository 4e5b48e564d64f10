// SPDX-License-Identifier: GPL-2.0-or-later
// The VNC port's gate: a web page from another origin gets no WebSocket
// (the cross-origin viewer of issue 18), our own page and plain RFB do.
#include "rfb_gate.h"

#include <gtest/gtest.h>

using namespace v4l2vnc;

namespace {

GatePolicy web_policy()
{
	GatePolicy p;
	p.websocket = true;
	p.origins = {"http://127.0.0.1:6080"};
	p.token = "0123456789abcdef";
	return p;
}

std::string upgrade(const std::string &origin, const std::string &target = "/websockify")
{
	std::string r = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:5900\r\n";
	if (!origin.empty())
		r += "Origin: " + origin + "\r\n";
	return r + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		   "Sec-WebSocket-Version: 13\r\n\r\n";
}

} // namespace

TEST(Gate, SilenceAndRfbArePlainViewers)
{
	GatePolicy none;
	EXPECT_EQ(gate_classify("", none).verdict, GateVerdict::kNeedMore);
	EXPECT_EQ(gate_classify("RF", none).verdict, GateVerdict::kNeedMore);
	EXPECT_EQ(gate_classify("RFB 003.008\n", none).verdict, GateVerdict::kPlain);
}

TEST(Gate, NoWebSocketWithoutWeb)
{
	GatePolicy none;
	auto r = gate_classify(upgrade("http://127.0.0.1:6080"), none);
	EXPECT_EQ(r.verdict, GateVerdict::kReject);
	EXPECT_NE(r.reason.find("--web"), std::string::npos);
	EXPECT_EQ(gate_classify("G", none).verdict, GateVerdict::kReject);
}

TEST(Gate, OtherOriginsAreRefused)
{
	auto p = web_policy();
	auto r = gate_classify(upgrade("http://evil.example"), p);
	EXPECT_EQ(r.verdict, GateVerdict::kReject);
	EXPECT_NE(r.reason.find("evil.example"), std::string::npos);
	// Near misses of our origin.
	for (const char *o :
	     {"http://127.0.0.1:6081", "http://127.0.0.1:60800", "https://127.0.0.1:6080",
	      "http://127.0.0.1:6080.evil.example", "null", "http://localhost:6080"})
		EXPECT_EQ(gate_classify(upgrade(o), p).verdict, GateVerdict::kReject) << o;
	EXPECT_EQ(gate_classify(upgrade(""), p).verdict, GateVerdict::kReject);
	// Two Origin headers: refused even if one is ours.
	std::string two = upgrade("http://127.0.0.1:6080");
	two.insert(two.find("Upgrade:"), "Origin: http://evil.example\r\n");
	EXPECT_EQ(gate_classify(two, p).verdict, GateVerdict::kReject);
}

TEST(Gate, OurOriginOrTokenIsTaken)
{
	auto p = web_policy();
	auto r = gate_classify(upgrade("http://127.0.0.1:6080"), p);
	ASSERT_EQ(r.verdict, GateVerdict::kWebSocket) << r.reason;
	EXPECT_EQ(r.path, "/websockify");
	EXPECT_EQ(r.header_len, upgrade("http://127.0.0.1:6080").size());
	// Any origin (a forwarded port, a proxy) with the token.
	r = gate_classify(upgrade("http://127.0.0.1:40000", "/websockify?token=0123456789abcdef"),
			  p);
	EXPECT_EQ(r.verdict, GateVerdict::kWebSocket) << r.reason;
	r = gate_classify(upgrade("http://x", "/websockify?a=1&token=0123456789abcdef&b"), p);
	EXPECT_EQ(r.verdict, GateVerdict::kWebSocket) << r.reason;
	for (const char *t :
	     {"/websockify?token=0123456789abcde", "/websockify?token=0123456789abcdef0",
	      "/websockify?xtoken=0123456789abcdef", "/token=0123456789abcdef",
	      "/websockify?token="})
		EXPECT_EQ(gate_classify(upgrade("http://x", t), p).verdict, GateVerdict::kReject)
			<< t;
	// No token configured: an empty one matches nothing.
	p.token.clear();
	EXPECT_EQ(gate_classify(upgrade("http://x", "/w?token="), p).verdict, GateVerdict::kReject);
}

TEST(Gate, WaitsForTheWholeRequestWithinALimit)
{
	auto p = web_policy();
	std::string req = upgrade("http://127.0.0.1:6080");
	for (size_t n = 1; n < req.size(); n++)
		EXPECT_EQ(gate_classify(req.substr(0, n), p).verdict, GateVerdict::kNeedMore) << n;
	std::string big = "GET /websockify HTTP/1.1\r\nX: " + std::string(kGateMaxRequest, 'a');
	EXPECT_EQ(gate_classify(big, p).verdict, GateVerdict::kReject);
}

TEST(Gate, RefusesWhatLibvncserverWouldMisread)
{
	auto p = web_policy();
	std::string hixie = upgrade("http://127.0.0.1:6080");
	hixie.insert(hixie.find("Upgrade:"), "Sec-WebSocket-Key1: 1\r\nSec-WebSocket-Key2: 2\r\n");
	EXPECT_EQ(gate_classify(hixie, p).verdict, GateVerdict::kReject);
	std::string bare_lf = upgrade("http://127.0.0.1:6080");
	bare_lf.insert(bare_lf.find("Upgrade:"), "X: a\nOrigin: http://evil.example\r\n");
	EXPECT_EQ(gate_classify(bare_lf, p).verdict, GateVerdict::kReject);
	EXPECT_EQ(
		gate_classify("GET / HTTP/1.0\r\nOrigin: http://127.0.0.1:6080\r\n\r\n", p).verdict,
		GateVerdict::kReject);
	EXPECT_EQ(gate_classify("GET /x HTTP/1.1\r\nOrigin: http://127.0.0.1:6080\r\n\r\n", p)
			  .verdict,
		  GateVerdict::kReject); // no Upgrade: websocket
	EXPECT_EQ(gate_classify("\x16\x03\x01", p).verdict, GateVerdict::kReject); // TLS
	EXPECT_EQ(gate_classify("\x01\x02", p).verdict, GateVerdict::kReject);
}

TEST(Gate, TokensAreRandomHex)
{
	std::string a = gate_make_token(), b = gate_make_token();
	EXPECT_EQ(a.size(), 32u);
	EXPECT_NE(a, b);
	EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Gate, TlsOnlyWithTlsAndInsideItOnlyOurPage)
{
	GatePolicy p = web_policy();
	p.tls = true;
	p.origins = {"https://127.0.0.1:6080"};
	// A ClientHello: the handshake is ours to do.
	EXPECT_EQ(gate_classify("\x16", p).verdict, GateVerdict::kTls);
	EXPECT_EQ(gate_classify("\x16\x03\x01\x02\x00", p).verdict, GateVerdict::kTls);
	EXPECT_EQ(gate_classify("\x80\x2e", p).verdict, GateVerdict::kReject); // SSLv2 hello
	// Without --web no TLS either.
	GatePolicy no_web = p;
	no_web.websocket = false;
	EXPECT_EQ(gate_classify("\x16\x03\x01", no_web).verdict, GateVerdict::kReject);
	// Plain RFB outside TLS as ever; a plain upgrade is refused, even ours.
	EXPECT_EQ(gate_classify("RFB 003.008\n", p).verdict, GateVerdict::kPlain);
	auto r = gate_classify(upgrade("https://127.0.0.1:6080"), p);
	EXPECT_EQ(r.verdict, GateVerdict::kReject);
	EXPECT_NE(r.reason.find("without TLS"), std::string::npos) << r.reason;
	// Inside TLS: our https origin, the token, nothing else.
	r = gate_classify(upgrade("https://127.0.0.1:6080"), p, true);
	EXPECT_EQ(r.verdict, GateVerdict::kWebSocket) << r.reason;
	EXPECT_EQ(r.path, "/websockify");
	EXPECT_EQ(gate_classify(upgrade("http://127.0.0.1:6080"), p, true).verdict,
		  GateVerdict::kReject);
	EXPECT_EQ(gate_classify(upgrade("https://evil.example"), p, true).verdict,
		  GateVerdict::kReject);
	EXPECT_EQ(gate_classify(upgrade("https://evil.example",
					"/websockify?token=0123456789abcdef"),
				p, true)
			  .verdict,
		  GateVerdict::kWebSocket);
	EXPECT_EQ(gate_classify("GE", p, true).verdict, GateVerdict::kNeedMore);
	EXPECT_EQ(gate_classify("RFB 003.008\n", p, true).verdict, GateVerdict::kReject);
	EXPECT_EQ(gate_classify("\x16\x03", p, true).verdict, GateVerdict::kReject);
}
