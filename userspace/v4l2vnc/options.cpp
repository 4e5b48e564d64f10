// SPDX-License-Identifier: GPL-2.0-or-later
#include "options.h"

#include "net.h"

#include <kms2v4l/kms2v4l.h>

#include <charconv>
#include <functional>
#include <map>

namespace v4l2vnc {

namespace {

bool parse_int(const std::string &s, int min, int max, int &out)
{
	int v = 0;
	auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max)
		return false;
	out = v;
	return true;
}

} // namespace

bool is_loopback(const std::string &addr)
{
	auto a = parse_listen_addr(addr, 0);
	return a && is_loopback(*a);
}

std::optional<uint32_t> parse_fourcc(const std::string &s)
{
	if (s.size() != 4)
		return std::nullopt;
	return KMS2V4L_FOURCC(s[0], s[1], s[2], s[3]);
}

std::string usage(const char *argv0)
{
	std::string u = "Usage: ";
	u += argv0;
	u += R"( [OPTIONS]

Serves a V4L2 capture device (a kms2v4l display output, vivid, a webcam)
to VNC viewers, and optionally feeds it to a GStreamer pipeline.  Only
the parts of the picture that changed are sent (32x32 tiles compared).

  v4l2vnc --device /dev/video0                 VNC on 127.0.0.1:5900
  vncviewer 127.0.0.1::5900                    look at it
  v4l2vnc --web 6080                           plus noVNC: open
                                               http://127.0.0.1:6080/vnc.html?port=5900

Capture:
  --device PATH|OUTPUT V4L2 capture node, or the output it shows: a
                       connector name (Virtual-1) or card0-crtc0 (kms2v4l
                       nodes); default: the first capture node found
  --format FOURCC      pixel format, e.g. XR24, AR24, BGR4, RGBP, YUYV
                       (default: the best one the device offers)
  --size WxH           ask the device for this size (default: keep)
  --buffers N          V4L2 buffers to allocate (default 4)
  --list               list capture nodes (and what each shows) and exit
VNC:
  --listen ADDR        IPv4 or IPv6 address to listen on, VNC and --web
                       (default 127.0.0.1; e.g. ::1, 0.0.0.0, ::); only
                       that address (:: is IPv6 only); anything but
                       loopback (127.0.0.0/8, ::1) needs --password-file
  --port PORT          VNC port (default 5900)
  --password-file FILE VNC password: first line of FILE
  --web PORT           serve noVNC (from --web-dir) over HTTP on PORT;
                       the browser connects to the VNC port by websocket
  --web-dir DIR        noVNC files (default /usr/share/novnc)
  --name NAME          desktop name shown by viewers (default v4l2vnc)
  --no-vnc             no VNC server (use with --gst)
Input:
  --input              pointer and keyboard of viewers go into the system
                       through a new uinput device (needs /dev/uinput)
  --xkb-layout L       keyboard layout for keysym -> key code (default us)
  --xkb-variant V      its variant (default none)
GStreamer:
  --gst 'PIPELINE'     also feed frames to 'appsrc ! PIPELINE', e.g.
                       --gst 'videoconvert ! x264enc ! mp4mux ! filesink location=out.mp4'
                       dma-buf memory when the device exports, else copies;
                       frames are dropped (and counted) when it lags
  --gst-copy           always copy frames into GStreamer memory
Other:
  --frames N           exit after N captured frames (for tests)
  --verbose            log every resize, client and pipeline event
  --help               this text

Signals: SIGINT/SIGTERM stop (the pipeline gets EOS first), SIGUSR1
prints statistics.  Statistics are printed at exit too.
)";
	return u;
}

ParseResult parse_options(std::span<const char *const> args)
{
	ParseResult res;
	Options o;
	using Handler = std::function<bool(const std::string &)>;
	// clang-format off: one option a line, short handlers inline
	const std::map<std::string, Handler> with_value = {
		{"--device",
		 [&](const std::string &v) {
			 o.device = v;
			 return !v.empty();
		 }},
		{"--format",
		 [&](const std::string &v) {
			 auto f = parse_fourcc(v);
			 if (f)
				 o.fourcc = *f;
			 return f.has_value();
		 }},
		{"--size",
		 [&](const std::string &v) {
			 auto x = v.find('x');
			 int w, h;
			 if (x == std::string::npos || !parse_int(v.substr(0, x), 1, 16384, w) ||
			     !parse_int(v.substr(x + 1), 1, 16384, h))
				 return false;
			 o.width = unsigned(w);
			 o.height = unsigned(h);
			 return true;
		 }},
		{"--buffers",
		 [&](const std::string &v) {
			 int n;
			 if (!parse_int(v, 2, 32, n))
				 return false;
			 o.buffers = unsigned(n);
			 return true;
		 }},
		{"--listen",
		 [&](const std::string &v) {
			 o.listen = v;
			 return parse_listen_addr(v, 0).has_value();
		 }},
		{"--port", [&](const std::string &v) { return parse_int(v, 1, 65535, o.port); }},
		{"--password-file",
		 [&](const std::string &v) {
			 o.password_file = v;
			 return !v.empty();
		 }},
		{"--web", [&](const std::string &v) { return parse_int(v, 1, 65535, o.web_port); }},
		{"--web-dir",
		 [&](const std::string &v) {
			 o.web_dir = v;
			 return !v.empty();
		 }},
		{"--name",
		 [&](const std::string &v) {
			 o.desktop_name = v;
			 return true;
		 }},
		{"--xkb-layout",
		 [&](const std::string &v) {
			 o.xkb_layout = v;
			 return !v.empty();
		 }},
		{"--xkb-variant",
		 [&](const std::string &v) {
			 o.xkb_variant = v;
			 return true;
		 }},
		{"--gst",
		 [&](const std::string &v) {
			 o.gst = v;
			 return !v.empty();
		 }},
		{"--frames",
		 [&](const std::string &v) { return parse_int(v, 1, 1 << 30, o.frames); }},
	};
	// clang-format on
	const std::map<std::string, std::function<void()>> flags = {
		{"--no-vnc", [&] { o.vnc = false; }},
		{"--input", [&] { o.input = true; }},
		{"--gst-copy", [&] { o.gst_copy = true; }},
		{"--verbose", [&] { o.verbose = true; }},
		{"--list", [&] { o.list = true; }},
	};

	for (size_t i = 1; i < args.size(); i++) {
		std::string arg = args[i];
		if (arg == "--help" || arg == "-h") {
			res.help = true;
			return res;
		}
		std::string value;
		bool has_value = false;
		if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
			value = arg.substr(eq + 1);
			arg = arg.substr(0, eq);
			has_value = true;
		}
		if (auto f = flags.find(arg); f != flags.end()) {
			if (has_value) {
				res.error = arg + " takes no value";
				return res;
			}
			f->second();
			continue;
		}
		auto h = with_value.find(arg);
		if (h == with_value.end()) {
			res.error = "unknown option '" + arg + "' (see --help)";
			return res;
		}
		if (!has_value) {
			if (i + 1 >= args.size()) {
				res.error = arg + " needs a value";
				return res;
			}
			value = args[++i];
		}
		if (!h->second(value)) {
			res.error = "bad value '" + value + "' for " + arg;
			return res;
		}
	}
	if (!o.vnc && o.gst.empty() && !o.list) {
		res.error = "--no-vnc without --gst leaves nothing to do";
		return res;
	}
	if (o.vnc && !is_loopback(o.listen) && o.password_file.empty()) {
		res.error = "refusing to listen on " + o.listen +
			    " (not loopback) without --password-file";
		return res;
	}
	if (!o.vnc && (o.input || o.web_port)) {
		res.error = "--input and --web need the VNC server (drop --no-vnc)";
		return res;
	}
	if (o.web_port && o.web_port == o.port) {
		res.error = "--web port must differ from --port";
		return res;
	}
	res.options = o;
	return res;
}

} // namespace v4l2vnc
