// SPDX-License-Identifier: GPL-2.0-or-later
#include "options.h"

#include "format.h"
#include "net.h"

#include <kms2v4l/kms2v4l.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <map>
#include <vector>

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
	if (addr.rfind("unix:", 0) == 0)
		return addr.size() > 5; // a unix socket reaches only this machine
	auto a = parse_listen_addr(addr, 0);
	return a && is_loopback(*a);
}

std::optional<std::string> read_private_file(const std::string &path, size_t max_bytes,
					     std::string &error_out)
{
	std::string error;
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		error_out = path + ": " + std::strerror(errno);
		return std::nullopt;
	}
	struct stat st;
	std::string data;
	const std::string too_long = path + ": longer than " + std::to_string(max_bytes) + " bytes";
	if (fstat(fd, &st) < 0) {
		error = path + ": fstat: " + std::strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		error = path + ": not a regular file";
	} else if (st.st_mode & 077) {
		char mode[8];
		std::snprintf(mode, sizeof(mode), "%03o", unsigned(st.st_mode & 0777));
		error = path + ": mode " + mode +
			" lets group or others at it; refusing (chmod 600 " + path + ")";
	} else if (size_t(st.st_size) > max_bytes) {
		error = too_long;
	} else {
		std::vector<char> buf(max_bytes + 1);
		ssize_t n;
		while ((n = read(fd, buf.data(), buf.size())) > 0 && data.size() <= max_bytes)
			data.append(buf.data(), size_t(n));
		if (n < 0)
			error = path + ": read: " + std::strerror(errno);
	}
	close(fd);
	if (error.empty() && data.size() > max_bytes)
		error = too_long;
	if (!error.empty()) {
		error_out = error;
		return std::nullopt;
	}
	return data;
}

std::optional<std::string> read_password_file(const std::string &path, std::string &error_out)
{
	auto file = read_private_file(path, 4096, error_out);
	if (!file)
		return std::nullopt;
	std::string data = std::move(*file);
	if (!data.empty() && data.back() == '\n') {
		data.pop_back();
		if (!data.empty() && data.back() == '\r')
			data.pop_back();
	}
	if (data.empty()) {
		error_out = path + ": empty password";
		return std::nullopt;
	}
	if (data.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
		error_out = path + ": more than one line, or a NUL byte (the password is the "
				   "file's one line, exactly)";
		return std::nullopt;
	}
	return data;
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
  v4l2vnc --web 6080 --tls-generate            the same over HTTPS and wss:
                                               https://...&encrypt=1 (see the log)

Capture:
  --device PATH|OUTPUT V4L2 capture node, or the output it shows: a
                       connector name (Virtual-1) or card0-crtc0 (kms2v4l
                       nodes); default: the first capture node found
  --format FOURCC      pixel format, e.g. XR24, AR24, BGR4, RGBP, YUYV;
                       NV12 and YU12 with --no-vnc only (GStreamer's NV12,
                       I420).  Default: the best one for VNC the device
                       offers; with --gst and --no-vnc the one the
                       pipeline takes (see --gst)
  --size WxH           ask the device for this size (default: keep)
  --buffers N          V4L2 buffers to allocate (default 4)
  --list               list capture nodes (and what each shows) and exit
VNC:
  --listen ADDR        IPv4 or IPv6 address to listen on, VNC and --web
                       (default 127.0.0.1; e.g. ::1, 0.0.0.0, ::); only
                       that address (:: is IPv6 only); anything but
                       loopback (127.0.0.0/8, ::1) needs --password-file
                       and --insecure-vnc-auth (libvncserver 0.9.14 offers
                       no VeNCrypt or RSA-AES: nothing better to require)
  --listen unix:PATH   VNC on a unix socket instead (mode 0600: this user
                       only); no --web then
                       Started by systemd with sockets (LISTEN_FDS): the
                       socket named "web" serves --web, the other VNC;
                       --listen/--port/--web's port are not used then
  --port PORT          VNC port (default 5900)
  --password-file FILE VNC password: the exact bytes of FILE, less one
                       final newline; FILE must be mode 600 or 400 (no
                       group/other access), e.g. a systemd credential:
                       LoadCredential=vnc-password:/etc/v4l2vnc/password and
                       --password-file ${CREDENTIALS_DIRECTORY}/vnc-password.
                       Only its first 8 bytes count (VNC authentication).
                       5 wrong passwords from one address block it for 10 s,
                       doubling with each failure after that
  --view-only-password-file FILE
                       a second password (same rules) for viewers that may
                       watch but not type or point
  --insecure-vnc-auth  allow --listen beyond loopback.  Says that you know:
                       VNC authentication is DES challenge-response with 8
                       significant characters, open to offline guessing by
                       anyone who records one login, and the session
                       (picture, keys typed) is not encrypted at all.
                       Prefer loopback plus an SSH tunnel or a VPN
  --web PORT           serve noVNC (from --web-dir) over HTTP (HTTPS with
                       --tls-*) on PORT;
                       the browser connects to the VNC port by websocket.
                       Without --web the VNC port takes no websocket; with
                       it only from noVNC's page here: its exact origin
                       (http://ADDR:PORT, and http://localhost:PORT on
                       loopback) or the per-start token in the URL that
                       v4l2vnc prints (path=websockify?token=...)
  --tls-cert FILE      with --web: serve noVNC over HTTPS and take only
  --tls-key FILE       encrypted websockets (wss) on the VNC port, with
                       this PEM certificate (chain) and key (unencrypted
                       PEM; the key file mode 600 or 400, as the password
                       file).  The page's origin is then https://ADDR:PORT
                       and the printed URL says encrypt=1.  Plain VNC
                       viewers on the VNC port stay unencrypted
  --tls-generate       the same with a self-signed certificate (ECDSA
                       P-256, one year, for the --listen address, plus
                       localhost on loopback and this host's name on
                       0.0.0.0/::) made at each start and kept in memory
                       only; its SHA-256 fingerprint is printed beside the
                       URL: compare it with the one the browser shows.
                       Without any of these --web is plain HTTP and ws
  --web-origin ORIGIN  also take websockets from this page origin, e.g.
                       http://vnc.example:8080 behind a proxy (repeatable)
  --web-dir DIR        noVNC files (default /usr/share/novnc)
  --name NAME          desktop name shown by viewers (default v4l2vnc)
  --max-clients N      VNC connections at once, handshakes included
                       (default 32); more are closed at once
  --max-clients-per-address N
                       the same per client address (default 8)
  --no-vnc             no VNC server (use with --gst)
Input:
  --input              pointer and keyboard of viewers go into the system
                       through a new uinput device (needs /dev/uinput)
  --xkb-layout L       keyboard layout for keysym -> key code (default us)
  --xkb-variant V      its variant (default none)
GStreamer:
  --gst 'PIPELINE'     also feed frames to 'appsrc ! PIPELINE', e.g.
                       --gst 'videoconvert ! x264enc ! mp4mux ! filesink location=out.mp4'
                       or, without VNC, straight into the encoder:
                       --no-vnc --gst 'x264enc ! mp4mux ! filesink location=out.mp4'
                       The format: --format if given, else with VNC the
                       best one for VNC (RGB first), else (--no-vnc) the
                       first of NV12, YU12, YUYV, UYVY, XR24, AR24, BGR4,
                       BX24, BA24, RGB4, RGB3, BGR3, RGBP that the device
                       offers and the pipeline's first element takes (a
                       caps query on appsrc's peer, system memory; one
                       that takes any format, such as videoconvert or
                       fakesink, gets the first of these the device has),
                       logged as 'DEVICE: NV12 640x480 for the pipeline
                       (its first element takes NV12)'.  If none: exit
                       status 1, naming the device, the pipeline and what
                       each takes.  NV12 and YU12 buffers carry the V4L2
                       planes in a GstVideoMeta: Y, then CbCr (NV12), or
                       Cb then Cr at half the stride (YU12, GStreamer's
                       I420).
                       dma-buf memory when the device exports, else copies;
                       frames are dropped (and counted) when more than one
                       waits in appsrc.  Buffers carry the pipeline's
                       running time at capture (V4L2 timestamp against the
                       pipeline clock, as v4l2src's); an error of any
                       element stops v4l2vnc at once with its message
  --gst-copy           always copy frames into GStreamer memory
  --gst-hold copy|drop when the pipeline holds all V4L2 buffers but two
                       (an encoder's look-ahead, a queue): copy the frame
                       into pooled GStreamer memory and requeue the buffer
                       (copy, the default), or drop the frame (drop).
                       Either way it is counted; --buffers N (up to 32)
                       lets dma-buf go further before that
Capture:
  --pacing change|vblank
                       on a kms2v4l node: a frame only when what the CRTC
                       shows changed (change, the default without --gst: a
                       static screen costs nothing), or at every vblank
                       (vblank, the default with --gst: constant rate).
                       Frames are also written only where they changed,
                       unless GStreamer elements get the V4L2 buffers
                       themselves (dma-buf)
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
			 if (v.rfind("unix:", 0) == 0)
				 return v.size() > 5;
			 return parse_listen_addr(v, 0).has_value();
		 }},
		{"--port", [&](const std::string &v) { return parse_int(v, 1, 65535, o.port); }},
		{"--password-file",
		 [&](const std::string &v) {
			 o.password_file = v;
			 return !v.empty();
		 }},
		{"--view-only-password-file",
		 [&](const std::string &v) {
			 o.view_password_file = v;
			 return !v.empty();
		 }},
		{"--web", [&](const std::string &v) { return parse_int(v, 1, 65535, o.web_port); }},
		{"--tls-cert",
		 [&](const std::string &v) {
			 o.tls_cert = v;
			 return !v.empty();
		 }},
		{"--tls-key",
		 [&](const std::string &v) {
			 o.tls_key = v;
			 return !v.empty();
		 }},
		{"--web-origin",
		 [&](const std::string &v) {
			 o.web_origins.push_back(v);
			 return v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0;
		 }},
		{"--max-clients",
		 [&](const std::string &v) {
			 int n;
			 if (!parse_int(v, 1, 512, n))
				 return false;
			 o.max_clients = unsigned(n);
			 return true;
		 }},
		{"--max-clients-per-address",
		 [&](const std::string &v) {
			 int n;
			 if (!parse_int(v, 1, 512, n))
				 return false;
			 o.max_per_address = unsigned(n);
			 return true;
		 }},
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
		{"--gst-hold",
		 [&](const std::string &v) {
			 o.gst_hold_drop = v == "drop";
			 return v == "drop" || v == "copy";
		 }},
		{"--pacing",
		 [&](const std::string &v) {
			 o.pacing_on_change = v == "change";
			 return v == "change" || v == "vblank";
		 }},
		{"--frames",
		 [&](const std::string &v) { return parse_int(v, 1, 1 << 30, o.frames); }},
	};
	// clang-format on
	const std::map<std::string, std::function<void()>> flags = {
		{"--no-vnc", [&] { o.vnc = false; }},
		{"--input", [&] { o.input = true; }},
		{"--insecure-vnc-auth", [&] { o.insecure_vnc_auth = true; }},
		{"--tls-generate", [&] { o.tls_generate = true; }},
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
	if (o.vnc && !is_loopback(o.listen) && o.password_file.empty() &&
	    o.view_password_file.empty()) {
		res.error = "refusing to listen on " + o.listen +
			    " (not loopback) without --password-file";
		return res;
	}
	if (o.vnc && !is_loopback(o.listen) && !o.insecure_vnc_auth) {
		res.error = "refusing to listen on " + o.listen +
			    " (not loopback): VNC authentication is weak and the session is not "
			    "encrypted; use an SSH tunnel to 127.0.0.1, or say --insecure-vnc-auth "
			    "(see --help)";
		return res;
	}
	if (const FormatInfo *f = format_info(o.fourcc); o.vnc && f && !f->to_rgb) {
		char name[5];
		res.error = std::string("--format ") + kms2v4l_fourcc_str(o.fourcc, name) +
			    " is for --gst only (VNC needs a format v4l2vnc converts to RGB); "
			    "add --no-vnc";
		return res;
	}
	if (!o.vnc && (o.input || o.web_port)) {
		res.error = "--input and --web need the VNC server (drop --no-vnc)";
		return res;
	}
	if (o.web_port && o.listen.rfind("unix:", 0) == 0) {
		res.error =
			"--web needs a TCP --listen address (browsers do not reach unix sockets)";
		return res;
	}
	if (o.tls_cert.empty() != o.tls_key.empty()) {
		res.error = "--tls-cert and --tls-key go together";
		return res;
	}
	if (!o.tls_cert.empty() && o.tls_generate) {
		res.error = "--tls-generate or --tls-cert/--tls-key, not both";
		return res;
	}
	if ((!o.tls_cert.empty() || o.tls_generate) && !o.web_port) {
		res.error = "--tls-cert, --tls-key and --tls-generate are for --web (HTTPS and "
			    "wss); plain VNC viewers stay unencrypted";
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
