// SPDX-License-Identifier: GPL-2.0-or-later
#include "rfb_gate.h"

#include <sys/random.h>

#include <algorithm>
#include <cstdint>

namespace v4l2vnc {

namespace {

bool iequals(std::string_view a, std::string_view b)
{
	return a.size() == b.size() &&
	       std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
		       auto lower = [](char c) {
			       return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
		       };
		       return lower(x) == lower(y);
	       });
}

std::string_view trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
		s.remove_suffix(1);
	return s;
}

// Constant time in the length of @want: the token is a secret.
bool same_secret(std::string_view got, std::string_view want)
{
	unsigned diff = got.size() != want.size();
	for (size_t i = 0; i < want.size(); i++)
		diff |= unsigned(uint8_t(want[i]) ^ uint8_t(i < got.size() ? got[i] : 0));
	return diff == 0;
}

// "token=" as a parameter of the query of @target.
bool has_token(std::string_view target, std::string_view token)
{
	size_t q = target.find('?');
	if (token.empty() || q == std::string_view::npos)
		return false;
	std::string_view query = target.substr(q + 1);
	while (!query.empty()) {
		size_t amp = query.find('&');
		std::string_view param = query.substr(0, amp);
		if (param.substr(0, 6) == "token=" && same_secret(param.substr(6), token))
			return true;
		if (amp == std::string_view::npos)
			break;
		query.remove_prefix(amp + 1);
	}
	return false;
}

GateResult reject(std::string why)
{
	return {GateVerdict::kReject, std::move(why), {}, 0};
}

GateResult judge_upgrade(std::string_view req, const GatePolicy &p)
{
	if (!p.websocket)
		return reject("WebSocket upgrade on the VNC port without --web");
	size_t end = req.find("\r\n\r\n");
	if (end == std::string_view::npos)
		return req.size() >= kGateMaxRequest
			       ? reject("request too long")
			       : GateResult{GateVerdict::kNeedMore, {}, {}, 0};
	if (end + 4 > kGateMaxRequest)
		return reject("request too long");
	std::string_view head = req.substr(0, end + 2); // every line ends in CRLF
	size_t eol = head.find("\r\n");
	std::string_view line = head.substr(0, eol);
	// "GET <target> HTTP/1.1": libvncserver cuts the last 11 bytes off
	// the line as " HTTP/1.1"; anything else would confuse it.
	constexpr std::string_view kVersion = " HTTP/1.1";
	if (line.size() < 4 + 1 + kVersion.size() ||
	    line.substr(line.size() - kVersion.size()) != kVersion)
		return reject("not an HTTP/1.1 request line");
	std::string_view target = line.substr(4, line.size() - 4 - kVersion.size());
	if (target.empty() || target[0] != '/' ||
	    target.find_first_of(" \t\r\n") != std::string_view::npos)
		return reject("bad request target");
	std::string_view origin;
	int origins = 0;
	bool upgrade = false;
	for (size_t pos = eol + 2; pos < head.size();) {
		size_t e = head.find("\r\n", pos);
		std::string_view h = head.substr(pos, e - pos);
		pos = e + 2;
		// A bare CR or LF inside a line: libvncserver splits lines at LF
		// alone and would read other headers than we do.
		if (h.find_first_of("\r\n") != std::string_view::npos)
			return reject("bare CR or LF in a header");
		size_t colon = h.find(':');
		if (colon == std::string_view::npos || colon == 0)
			return reject("malformed header line");
		std::string_view name = h.substr(0, colon), value = trim(h.substr(colon + 1));
		if (iequals(name, "origin")) {
			origin = value;
			origins++;
		} else if (iequals(name, "upgrade")) {
			upgrade = iequals(value, "websocket");
		} else if (iequals(name, "sec-websocket-key1") ||
			   iequals(name, "sec-websocket-key2")) {
			// Hixie-76: libvncserver would then block reading 8 more bytes.
			return reject("Hixie-76 WebSocket handshake");
		}
	}
	if (!upgrade)
		return reject("not a WebSocket upgrade (plain HTTP goes to the --web port)");
	if (origins > 1)
		return reject("more than one Origin header");
	bool ok = has_token(target, p.token);
	for (const std::string &o : p.origins)
		ok = ok || (origins == 1 && origin == o);
	if (!ok)
		return reject(origins ? "WebSocket from origin '" +
						std::string(origin.substr(0, 200)) +
						"', not v4l2vnc's page"
				      : std::string("WebSocket without an Origin header"));
	return {GateVerdict::kWebSocket, {}, std::string(target), end + 4};
}

} // namespace

GateResult gate_classify(std::string_view bytes, const GatePolicy &policy, bool inside_tls)
{
	constexpr std::string_view kGet = "GET ", kRfb = "RFB ";
	if (bytes.empty())
		return {GateVerdict::kNeedMore, {}, {}, 0};
	size_t n = std::min(bytes.size(), size_t(4));
	if (bytes.substr(0, n) == kRfb.substr(0, n) && !inside_tls)
		return n < 4 ? GateResult{GateVerdict::kNeedMore, {}, {}, 0}
			     : GateResult{GateVerdict::kPlain, {}, {}, 0};
	if (bytes.substr(0, n) == kGet.substr(0, n)) {
		if (policy.tls && !inside_tls)
			return reject("WebSocket upgrade without TLS (with --tls-* only wss)");
		if (n < 4)
			return policy.websocket
				       ? GateResult{GateVerdict::kNeedMore, {}, {}, 0}
				       : reject("WebSocket upgrade on the VNC port without --web");
		return judge_upgrade(bytes, policy);
	}
	if (inside_tls)
		return reject("inside TLS neither a WebSocket upgrade nor a prefix of one");
	// A TLS record of type handshake (22); SSLv2's hello (0x80) is not taken.
	if (bytes[0] == '\x16' && policy.tls && policy.websocket)
		return {GateVerdict::kTls, {}, {}, 0};
	if (bytes[0] == '\x16' || bytes[0] == '\x80')
		return reject(policy.tls ? "TLS other than a TLS 1.x ClientHello"
					 : "TLS on the VNC port (wss needs --web and --tls-*)");
	return reject("neither RFB nor a WebSocket upgrade");
}

std::string gate_make_token(size_t bytes)
{
	std::string raw(bytes, '\0');
	if (getrandom(raw.data(), raw.size(), 0) != ssize_t(raw.size()))
		return {};
	static const char hex[] = "0123456789abcdef";
	std::string out;
	for (char c : raw) {
		out += hex[uint8_t(c) >> 4];
		out += hex[uint8_t(c) & 15];
	}
	return out;
}

} // namespace v4l2vnc
