// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: the VNC port's gate (rfb_gate.h), fed whatever a
// client may send first.  Beyond "no crash, no sanitizer report" it checks
// the gate's promises: a WebSocket is let in only with our origin or
// token, its header ends in CRLF CRLF within the limit, and nothing is
// let in as a WebSocket without --web; with TLS on, none in the clear
// and inside TLS only ours.
#include "rfb_gate.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace v4l2vnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view in(reinterpret_cast<const char *>(data), size);
  GatePolicy web;
  web.websocket = true;
  web.origins = {"http://127.0.0.1:6080"};
  web.token = "feedc0de";
  GateResult r = gate_classify(in, web);
  if (r.verdict == GateVerdict::kWebSocket) {
    if (r.header_len < 4 || r.header_len > in.size() ||
        r.header_len > kGateMaxRequest ||
        in.substr(r.header_len - 4, 4) != "\r\n\r\n")
      std::abort();
    std::string_view head = in.substr(0, r.header_len);
    if (head.find("token=feedc0de") == std::string_view::npos &&
        head.find("http://127.0.0.1:6080") == std::string_view::npos)
      std::abort();
  }
  if (r.verdict == GateVerdict::kPlain && in.substr(0, 4) != "RFB ")
    std::abort();
  GatePolicy none;
  GateResult n = gate_classify(in, none);
  if (n.verdict == GateVerdict::kWebSocket || n.verdict == GateVerdict::kTls)
    std::abort();
  // --tls-*: in the clear no WebSocket at all, TLS only from a
  // ClientHello's first byte; inside TLS no plain RFB, and a WebSocket
  // only with our https origin or the token.
  GatePolicy tls = web;
  tls.tls = true;
  tls.origins = {"https://127.0.0.1:6080"};
  GateResult t = gate_classify(in, tls);
  if (t.verdict == GateVerdict::kWebSocket ||
      (t.verdict == GateVerdict::kTls && in[0] != 0x16))
    std::abort();
  t = gate_classify(in, tls, true);
  if (t.verdict == GateVerdict::kPlain || t.verdict == GateVerdict::kTls)
    std::abort();
  if (t.verdict == GateVerdict::kWebSocket) {
    std::string_view head = in.substr(0, t.header_len);
    if (head.find("token=feedc0de") == std::string_view::npos &&
        head.find("https://127.0.0.1:6080") == std::string_view::npos)
      std::abort();
  }
  return 0;
}
