// SPDX-License-Identifier: GPL-2.0-or-later
// What may come in on the VNC port before libvncserver sees a connection.
// libvncserver answers a WebSocket upgrade on the RFB port by itself and
// checks only that an Origin header is there, so any web page open in any
// browser on the machine could watch the screen.  Each connection's first
// bytes are therefore peeked (never consumed) and judged here first: plain
// RFB always; a WebSocket upgrade only with --web, and only from the page
// v4l2vnc serves (an exact Origin, or the per-start token in the URL).
// Pure: no I/O; for the unit tests and the fuzzer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace v4l2vnc {

struct GatePolicy {
	bool websocket = false;           // --web is on
	std::vector<std::string> origins; // Origin values taken as our page's
	std::string token;                // "token=" in the request target; empty: none
	// --tls-*: WebSockets only inside TLS (wss; v4l2vnc terminates it and
	// judges the decrypted request), never in the clear.
	bool tls = false;
};

enum class GateVerdict {
	kNeedMore,  // a prefix of something acceptable: wait for more bytes
	kPlain,     // plain RFB (the viewer waits for the server's greeting)
	kWebSocket, // an acceptable upgrade request, complete in @bytes
	kTls,       // a TLS ClientHello, with policy.tls: do the handshake, then
		    // judge what comes inside (gate_classify(..., true))
	kReject,    // close the connection (reason in GateResult)
};

struct GateResult {
	GateVerdict verdict;
	std::string reason;    // for kReject: why, for the log
	std::string path;      // for kWebSocket: the request target
	size_t header_len = 0; // for kWebSocket: bytes up to the blank line
};

// The longest request accepted: libvncserver's handshake buffer is 4096.
constexpr size_t kGateMaxRequest = 4000;

// Judges @bytes, everything the connection sent so far (it has sent
// nothing yet when empty: kNeedMore; the caller decides on kPlain when a
// short wait brings nothing, as a viewer waits for the greeting).
// @inside_tls: @bytes are what came inside a TLS session (kTls before):
// only a WebSocket upgrade is taken there (plain RFB is not offered in TLS).
GateResult gate_classify(std::string_view bytes, const GatePolicy &policy, bool inside_tls = false);

// A random token of @bytes bytes as lowercase hex; empty on failure.
std::string gate_make_token(size_t bytes = 16);

} // namespace v4l2vnc
