// SPDX-License-Identifier: GPL-2.0-or-later
// v4l2vnc: serve a V4L2 capture device over VNC and/or into GStreamer.
// One epoll loop owns the V4L2 fd, a signalfd, the viewers' input queue,
// the web server and GStreamer's bus and buffer-release pipe; libvncserver
// serves each viewer from threads of its own (vnc_server.h).
#include "capture.h"
#include "damage.h"
#include "gst_sink.h"
#include "input.h"
#include "keymap.h"
#include "net.h"
#include "options.h"
#include "tls.h"
#include "unique_fd.h"
#include "vnc_server.h"
#include "web_server.h"

#include <kms2v4l/kms2v4l.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>

namespace v4l2vnc {
namespace {

enum Source : uint32_t { kV4l2 = 1, kSignal, kVncInput, kGstBus, kGstRelease, kWeb };

uint64_t tag(Source s, int fd)
{
	return (uint64_t(s) << 32) | uint32_t(fd);
}

struct Stats {
	uint64_t frames = 0, frames_changed = 0, tiles_changed = 0, resizes = 0;
	uint64_t frames_damaged = 0; // frames whose damage was less than the whole frame
	uint64_t tiles_hashed = 0;
	uint64_t frame_errors = 0, keys_unmapped = 0;
};

class App {
public:
	explicit App(Options o) : opt_(std::move(o)) {}
	int run();

private:
	int setup();
	bool setup_vnc(unsigned width, unsigned height);
	bool choose_pipeline_format();
	bool configure_capture();
	void on_v4l2();
	void on_frame(const kms2v4l_frame &f);
	void on_source_change();
	void on_signal();
	void on_gst_release();
	void on_gst_push(GstPush what);
	void print_stats(const char *why);
	void inject(const std::vector<InputEvent> &ev)
	{
		if (int r = input_->write(ev); r < 0)
			log("uinput: " + std::string(std::strerror(-r)));
	}
	bool watch(Source s, int fd, uint32_t events);
	void log(const std::string &msg) const
	{
		std::fprintf(stderr, "v4l2vnc: %s\n", msg.c_str());
	}

	Options opt_;
	std::string vnc_where_, web_url_; // for the log
	std::unique_ptr<Capture> cap_;
	std::unique_ptr<VncServer> vnc_;
	std::shared_ptr<const TlsIdentity> tls_; // --tls-*: HTTPS and wss
	std::unique_ptr<WebServer> web_;
	std::unique_ptr<GstSink> gst_;
	std::unique_ptr<Keymap> keymap_;
	std::unique_ptr<UinputDevice> input_;
	ViewerInputs viewer_inputs_;
	TileDamage tiles_;
	UniqueFd epoll_, sigfd_;
	bool gst_hold_noted_ = false; // the hold policy's first use was logged
	bool gst_chose_ = false;      // the format is the one the pipeline takes
	bool running_ = true;
	int exit_code_ = 0;
	Stats stats_;
};

bool App::watch(Source s, int fd, uint32_t events)
{
	epoll_event ev{};
	ev.events = events;
	ev.data.u64 = tag(s, fd);
	if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
		log(std::string("epoll_ctl ADD: ") + std::strerror(errno));
		return false;
	}
	return true;
}

// --gst without VNC and without --format: the first of
// pipeline_formats() the node offers and the pipeline's first element
// takes (NV12 for an encoder, no videoconvert needed).
bool App::choose_pipeline_format()
{
	std::vector<uint32_t> offered;
	if (cap_->offered_formats(offered) < 0) {
		log(cap_->error());
		return false;
	}
	opt_.fourcc = choose_format(pipeline_formats(), offered,
				    [this](const FormatInfo &f) { return gst_->accepts(f); });
	if (!opt_.fourcc) {
		std::string list;
		for (uint32_t f : offered)
			list += " " + fourcc_name(f);
		const std::string takes = gst_->accepted_caps();
		log(cap_->path() + ": the pipeline 'appsrc ! " + opt_.gst +
		    "' takes none of the formats v4l2vnc can give it from this device (the "
		    "device offers" +
		    list + "; the pipeline's first element takes " + takes +
		    "); put a videoconvert first, or see --format");
		return false;
	}
	gst_chose_ = true;
	return true;
}

bool App::configure_capture()
{
	int r = cap_->configure(opt_.fourcc, opt_.width, opt_.height, opt_.buffers,
				gst_ && !opt_.gst_copy);
	if (r < 0) {
		log(cap_->error());
		return false;
	}
	// On change by default, but at every vblank for an encoder; partial
	// frames unless GStreamer elements get the buffers themselves.
	cap_->set_policy(opt_.pacing_on_change.value_or(!gst_), !cap_->exported());
	const auto &f = cap_->format();
	if (gst_)
		gst_->reset_buffers(cap_->buffer_count());
	tiles_.reset(f.width, f.height, cap_->info().bytes_per_pixel);
	if (gst_chose_ && stats_.resizes == 0)
		log(cap_->path() + ": " + fourcc_name(f.fourcc) + " " + std::to_string(f.width) +
		    "x" + std::to_string(f.height) + " for the pipeline (its first element takes " +
		    cap_->info().gst_format + ")");
	if (opt_.verbose || stats_.resizes == 0)
		log(cap_->path() + ": " + fourcc_name(f.fourcc) + " " + std::to_string(f.width) +
		    "x" + std::to_string(f.height) + " stride " + std::to_string(f.stride) + ", " +
		    std::to_string(cap_->buffer_count()) + " buffers" +
		    (gst_ ? (cap_->exported() ? ", dma-buf to GStreamer" : ", copies to GStreamer")
			  : ""));
	return true;
}

bool App::setup_vnc(unsigned width, unsigned height)
{
	std::string err;
	VncConfig vc;
	vc.listen = opt_.listen;
	vc.port = opt_.port;
	vc.name = opt_.desktop_name;
	vc.verbose = opt_.verbose;
	vc.max_clients = opt_.max_clients;
	vc.max_per_address = opt_.max_per_address;
	// systemd socket activation: the socket named "web" is noVNC's, the
	// first other one VNC's; they replace --listen/--port/--web PORT.
	int web_fd = -1;
	char **names = nullptr;
	int n = sd_listen_fds_with_names(1, &names);
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const bool web = names && names[i] && std::strcmp(names[i], "web") == 0;
		if (web && web_fd < 0)
			web_fd = fd;
		else if (!web && vc.listen_fd < 0)
			vc.listen_fd = fd;
		else
			close(fd);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if (names) {
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	if (n > 0 && vc.listen_fd < 0) {
		log("socket activation: no socket for VNC (only one named \"web\")");
		return false;
	}
	if (vc.listen_fd >= 0 && !socket_is_local(vc.listen_fd) &&
	    ((opt_.password_file.empty() && opt_.view_password_file.empty()) ||
	     !opt_.insecure_vnc_auth)) {
		log("refusing the inherited VNC socket " + local_address(vc.listen_fd) +
		    " (not loopback) without --password-file and --insecure-vnc-auth");
		return false;
	}
	if (!opt_.password_file.empty()) {
		auto pw = read_password_file(opt_.password_file, err);
		if (!pw) {
			log("--password-file " + err);
			return false;
		}
		vc.password = *pw;
	}
	if (!opt_.view_password_file.empty()) {
		auto pw = read_password_file(opt_.view_password_file, err);
		if (!pw) {
			log("--view-only-password-file " + err);
			return false;
		}
		vc.view_password = *pw;
	}
	// VNC authentication compares 8 bytes: the two must differ in them.
	if (!vc.password.empty() && !vc.view_password.empty() &&
	    vc.password.substr(0, 8) == vc.view_password.substr(0, 8)) {
		log("the password and the view-only password must differ in their first 8 bytes");
		return false;
	}
	if (vc.password.size() > 8 || vc.view_password.size() > 8)
		log("note: VNC authentication uses only the first 8 bytes of a password");
	const bool web = opt_.web_port || web_fd >= 0;
	std::string web_host;
	int web_port = opt_.web_port;
	if (web) {
		if (web_fd >= 0) {
			web_host = local_address(web_fd);
			web_port = local_port(web_fd);
		} else {
			web_host = opt_.listen;
		}
		vc.gate.websocket = true;
		vc.gate.token = gate_make_token();
		if (vc.gate.token.empty()) {
			log("getrandom failed: no token for noVNC's page");
			return false;
		}
		// The exact origin of our page, where it is known.
		auto a = parse_listen_addr(web_host, web_port);
		bool any = a &&
			   ((a->family == AF_INET &&
			     reinterpret_cast<const sockaddr_in &>(a->ss).sin_addr.s_addr ==
				     htonl(INADDR_ANY)) ||
			    (a->family == AF_INET6 &&
			     IN6_IS_ADDR_UNSPECIFIED(
				     &reinterpret_cast<const sockaddr_in6 &>(a->ss).sin6_addr)));
		// HTTPS and wss (--tls-*): the page's origin is https://, and the
		// VNC port takes WebSockets only inside TLS.
		if (!opt_.tls_cert.empty()) {
			tls_ = TlsIdentity::load(opt_.tls_cert, opt_.tls_key, err);
		} else if (opt_.tls_generate) {
			std::vector<std::string> names;
			if (a && !any)
				names.push_back(web_host);
			if (a && is_loopback(*a))
				names.emplace_back("localhost");
			char host[256] = {};
			if (any && gethostname(host, sizeof(host) - 1) == 0 && host[0])
				names.emplace_back(host);
			tls_ = TlsIdentity::generate(names, err);
		}
		if ((!opt_.tls_cert.empty() || opt_.tls_generate) && !tls_) {
			log(err);
			return false;
		}
		vc.tls = tls_;
		vc.gate.tls = tls_ != nullptr;
		const std::string scheme = tls_ ? "https://" : "http://";
		if (a && !any)
			vc.gate.origins.push_back(scheme + host_port(web_host, web_port));
		if (a && is_loopback(*a))
			vc.gate.origins.push_back(scheme + "localhost:" + std::to_string(web_port));
		for (const std::string &o : opt_.web_origins)
			vc.gate.origins.push_back(o);
	}
	vnc_ = VncServer::create(vc, width, height, err);
	if (!vnc_) {
		log(err);
		return false;
	}
	if (vc.listen_fd >= 0)
		vnc_where_ = (socket_is_unix(vc.listen_fd) ? local_address(vc.listen_fd)
							   : host_port(local_address(vc.listen_fd),
								       local_port(vc.listen_fd))) +
			     " (from systemd)";
	else if (opt_.listen.rfind("unix:", 0) == 0)
		vnc_where_ = opt_.listen;
	else
		vnc_where_ = host_port(opt_.listen, opt_.port);
	if (web) {
		web_ = WebServer::create(opt_.listen, opt_.web_port, opt_.web_dir, err, web_fd, {},
					 tls_.get());
		if (!web_) {
			log(err);
			return false;
		}
		const bool shown_any = web_host == "0.0.0.0" || web_host == "::";
		web_url_ = (tls_ ? "https://" : "http://") +
			   host_port(shown_any ? "HOST" : web_host, web_port) +
			   "/vnc.html?port=" + std::to_string(vnc_->port()) +
			   (tls_ ? "&encrypt=1" : "") + "&path=websockify%3Ftoken%3D" +
			   vc.gate.token;
		if (tls_)
			web_url_ += " (TLS certificate " +
				    std::string(opt_.tls_cert.empty() ? "self-signed, generated"
								      : opt_.tls_cert) +
				    ", SHA-256 " + tls_->fingerprint() + ")";
	}
	return true;
}

int App::setup()
{
	// Signals wait in the signalfd from the start, also during set-up
	// (GStreamer's first start can take seconds).
	sigset_t mask;
	sigemptyset(&mask);
	for (int s : {SIGINT, SIGTERM, SIGUSR1})
		sigaddset(&mask, s);
	sigprocmask(SIG_BLOCK, &mask, nullptr);
	signal(SIGPIPE, SIG_IGN);

	std::string err;
	std::string path = opt_.device;
	if (!path.empty() && path[0] != '/') {
		// An output: a connector name ("Virtual-1") or "card0-crtc0".
		kms2v4l_node_info node = KMS2V4L_NODE_INFO_INIT;
		int r = kms2v4l_find(path.c_str(), &node);
		if (r < 0) {
			log("--device " + path + ": " +
			    (r == -ENOENT ? std::string("no capture node shows this output "
							"(v4l2vnc --list shows what each shows)")
					  : std::string(std::strerror(-r))));
			return 1;
		}
		log("output " + path + " is " + node.path);
		path = node.path;
	}
	if (path.empty()) {
		kms2v4l_node_info *nodes;
		size_t n;
		if (kms2v4l_enumerate(&nodes, &n) < 0 || n == 0) {
			log("no V4L2 capture device found in /sys/class/video4linux (use "
			    "--device)");
			return 1;
		}
		path = nodes[0].path;
		free(nodes);
	}
	cap_ = Capture::open(path, err);
	if (!cap_) {
		log(err);
		return 1;
	}
	if (!opt_.gst.empty()) {
		gst_ = GstSink::create(
			opt_.gst, opt_.gst_hold_drop ? HoldPolicy::kDrop : HoldPolicy::kCopy, err);
		if (!gst_) {
			log("--gst: " + err);
			return 1;
		}
	}
	if (gst_ && !opt_.vnc && !opt_.fourcc && !choose_pipeline_format())
		return 1;
	if (!configure_capture())
		return 1;
	const auto &f = cap_->format();
	if (gst_) {
		uint32_t num, den;
		cap_->frame_rate(num, den);
		gst_->set_format(cap_->info(), f.width, f.height, f.stride, f.sizeimage, num, den,
				 cap_->color());
	}
	if (opt_.vnc && !setup_vnc(f.width, f.height))
		return 1;
	if (opt_.input) {
		keymap_ = Keymap::create(opt_.xkb_layout, opt_.xkb_variant, err);
		if (!keymap_) {
			log("--xkb-layout: " + err);
			return 1;
		}
		input_ = UinputDevice::create(err);
		if (!input_) {
			log("--input: " + err);
			return 1;
		}
		log("input device " + input_->devnode());
		vnc_->on_pointer = [this](uint64_t viewer, int mask, int x, int y) {
			inject(viewer_inputs_.pointer(viewer, mask,
						      UinputDevice::scale(x, vnc_->width()),
						      UinputDevice::scale(y, vnc_->height())));
		};
		vnc_->on_key = [this](uint64_t viewer, uint32_t keysym, uint32_t keycode,
				      bool down) {
			// A viewer that names the key (QEMU extended key event)
			// gets exactly that key; its modifiers come the same way.
			if (auto code = keycode ? xt_to_evdev(keycode) : std::nullopt) {
				inject(viewer_inputs_.key(viewer, *code, down));
				return;
			}
			auto k = keymap_->key_level(keysym);
			if (!k) {
				stats_.keys_unmapped++;
				if (opt_.verbose)
					log("keysym 0x" + std::to_string(keysym) +
					    " not in layout " + opt_.xkb_layout);
				return;
			}
			inject(viewer_inputs_.key(viewer, *k, down));
		};
		vnc_->on_gone = [this](uint64_t viewer) { inject(viewer_inputs_.gone(viewer)); };
	}

	epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
	sigfd_.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!epoll_.valid() || !sigfd_.valid()) {
		log(std::string("epoll_create1/signalfd: ") + std::strerror(errno));
		return 1;
	}
	if (!watch(kV4l2, cap_->fd(), EPOLLIN | EPOLLPRI) || !watch(kSignal, sigfd_.get(), EPOLLIN))
		return 1;
	if (vnc_ && !watch(kVncInput, vnc_->event_fd(), EPOLLIN))
		return 1;
	if (web_ && !watch(kWeb, web_->fd(), EPOLLIN))
		return 1;
	if (gst_ && (!watch(kGstBus, gst_->bus_fd(), EPOLLIN) ||
		     !watch(kGstRelease, gst_->release_fd(), EPOLLIN)))
		return 1;
	if (cap_->start() < 0) {
		log(cap_->error());
		return 1;
	}
	if (vnc_)
		log("serving " + cap_->path() + " on " + vnc_where_ +
		    (web_ ? ", noVNC on " + web_url_ : ""));
	if (gst_)
		log("feeding " + cap_->path() + " to 'appsrc ! " + opt_.gst + "' (colorimetry " +
		    gst_colorimetry(cap_->info(), cap_->color()) + ")");
	sd_notify(0, "READY=1");
	return 0;
}

void App::on_gst_push(GstPush what)
{
	if (gst_hold_noted_ || (what != GstPush::kCopiedHeld && what != GstPush::kDroppedHeld))
		return;
	gst_hold_noted_ = true;
	log("--gst: the pipeline holds " + std::to_string(gst_->held()) + " of " +
	    std::to_string(cap_->buffer_count()) + " V4L2 buffers; " +
	    (what == GstPush::kCopiedHeld
		     ? "frames are copied while it does (--gst-hold copy)"
		     : "frames are dropped while it does (--gst-hold drop; more --buffers help)"));
}

void App::on_frame(const kms2v4l_frame &f)
{
	stats_.frames++;
	const auto &fmt = cap_->format();
	const auto *data = static_cast<const uint8_t *>(f.data);
	if (vnc_) {
		std::vector<Rect> areas;
		for (size_t i = 0; i < f.n_damage; i++)
			areas.push_back({f.damage[i].x, f.damage[i].y, f.damage[i].width,
					 f.damage[i].height});
		// The driver's damage (kms2v4l's damage node, through
		// libkms2v4l): only tiles in it are hashed, compared and sent.
		// Other nodes' frames are whole: every tile is hashed.
		if (!is_whole_frame(areas, fmt.width, fmt.height))
			stats_.frames_damaged++;
		size_t changed = tiles_.update(data, fmt.stride, areas);
		stats_.tiles_hashed += tiles_.hashed();
		std::vector<Rect> rects;
		if (changed) {
			stats_.frames_changed++;
			stats_.tiles_changed += changed;
			auto dirty = tiles_.dirty();
			for (unsigned ty = 0; ty < tiles_.tiles_y(); ty++)
				for (unsigned tx = 0; tx < tiles_.tiles_x(); tx++) {
					if (!dirty[ty * tiles_.tiles_x() + tx])
						continue;
					Rect r = tiles_.tile_rect(tx, ty);
					convert_rect(cap_->info().layout, data, fmt.stride,
						     vnc_->framebuffer(), vnc_->width(), r.x, r.y,
						     r.w, r.h);
				}
			rects = tiles_.rects();
		}
		// Every frame: it also completes a resize.  Viewers' threads may
		// be encoding a rectangle while it is rewritten (a torn rectangle);
		// as it is marked again after the copy, it is sent again.
		vnc_->mark_modified(rects);
	}
	if (gst_) {
		std::function<int()> dmabuf;
		if (cap_->exported())
			dmabuf = [this, &f] { return cap_->dmabuf(f.index); };
		on_gst_push(gst_->push_frame(f.index, dmabuf, data, f.bytesused, f.timestamp_ns));
	}
	if (!(gst_ && gst_->holds(f.index)) && cap_->queue(f.index) < 0)
		log(cap_->error());
	if (opt_.frames && stats_.frames >= uint64_t(opt_.frames))
		running_ = false;
}

void App::on_source_change()
{
	stats_.resizes++;
	cap_->stop();
	cap_->release();              // buffers GStreamer still holds are orphaned, not reused
	opt_.width = opt_.height = 0; // take the new mode
	opt_.fourcc = cap_->format().fourcc;
	if (!configure_capture()) {
		running_ = false;
		exit_code_ = 1;
		return;
	}
	const auto &f = cap_->format();
	log(cap_->path() + ": source changed, now " + std::to_string(f.width) + "x" +
	    std::to_string(f.height));
	if (vnc_)
		vnc_->resize(f.width, f.height);
	if (gst_) {
		uint32_t num, den;
		cap_->frame_rate(num, den);
		gst_->set_format(cap_->info(), f.width, f.height, f.stride, f.sizeimage, num, den,
				 cap_->color());
	}
	if (cap_->start() < 0) {
		log(cap_->error());
		running_ = false;
		exit_code_ = 1;
	}
}

void App::on_v4l2()
{
	for (int i = 0; i < 64 && running_; i++) {
		kms2v4l_frame f = KMS2V4L_FRAME_INIT;
		int r = cap_->dequeue(f);
		if (r == -EAGAIN)
			return;
		if (r == KMS2V4L_SOURCE_CHANGED) {
			on_source_change();
			continue;
		}
		if (r == -EPIPE) {
			stats_.frame_errors++;
			continue;
		}
		if (r < 0) {
			log(cap_->error());
			running_ = false;
			exit_code_ = 1;
			return;
		}
		on_frame(f);
	}
}

void App::on_gst_release()
{
	unsigned index;
	while (gst_->read_release(index))
		if (cap_->queue(index) < 0)
			log(cap_->error());
}

void App::on_signal()
{
	signalfd_siginfo si;
	while (read(sigfd_.get(), &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			print_stats("SIGUSR1");
		} else {
			running_ = false;
		}
	}
}

void App::print_stats(const char *why)
{
	const auto &f = cap_->format();
	std::string s = std::string("statistics (") + why + "): " + cap_->path() + " " +
			fourcc_name(f.fourcc) + " " + std::to_string(f.width) + "x" +
			std::to_string(f.height) + ": frames " + std::to_string(stats_.frames) +
			", changed " + std::to_string(stats_.frames_changed) + ", with damage " +
			std::to_string(stats_.frames_damaged) + ", tiles hashed " +
			std::to_string(stats_.tiles_hashed) + ", tiles " +
			std::to_string(stats_.tiles_changed) + ", resizes " +
			std::to_string(stats_.resizes) + ", frame errors " +
			std::to_string(stats_.frame_errors);
	if (vnc_)
		s += "; vnc: clients " + std::to_string(vnc_->clients()) + " now, " +
		     std::to_string(vnc_->stats().clients_total) + " total, updates " +
		     std::to_string(vnc_->stats().updates) + ", rects " +
		     std::to_string(vnc_->stats().rects) + ", bytes to current clients " +
		     std::to_string(vnc_->bytes_sent()) + ", input events dropped " +
		     std::to_string(vnc_->stats().input_dropped) + ", connections refused " +
		     std::to_string(vnc_->stats().refused) + ", cut before login " +
		     std::to_string(vnc_->stats().timed_out) + ", cut stalling a resize " +
		     std::to_string(vnc_->stats().stalled) + ", wrong passwords " +
		     std::to_string(vnc_->stats().auth_failures) + ", tries while blocked " +
		     std::to_string(vnc_->stats().blocked);
	if (web_)
		s += "; web: requests " + std::to_string(web_->requests());
	if (input_)
		s += "; input: unmapped keysyms " + std::to_string(stats_.keys_unmapped);
	if (gst_)
		s += "; gst: pushed " + std::to_string(gst_->stats().pushed) + " (dma-buf " +
		     std::to_string(gst_->stats().pushed_dmabuf) + ", copied while buffers held " +
		     std::to_string(gst_->stats().copied_held) + "), dropped " +
		     std::to_string(gst_->stats().dropped_lag + gst_->stats().dropped_held +
				    gst_->stats().dropped_failed) +
		     " (pipeline lagging " + std::to_string(gst_->stats().dropped_lag) +
		     ", buffers held " + std::to_string(gst_->stats().dropped_held) + ", refused " +
		     std::to_string(gst_->stats().dropped_failed) + "), late in the pipeline " +
		     std::to_string(gst_->stats().late);
	log(s);
}

int App::run()
{
	if (int r = setup(); r)
		return r;
	// systemd's WatchdogSec=: the loop pings at half the interval.
	uint64_t wd_usec = 0;
	int wd_ms = sd_watchdog_enabled(0, &wd_usec) > 0 ? int(wd_usec / 2000) : -1;
	auto wd_last = std::chrono::steady_clock::now();
	while (running_) {
		if (wd_ms >= 0 && std::chrono::steady_clock::now() - wd_last >=
					  std::chrono::milliseconds(wd_ms)) {
			sd_notify(0, "WATCHDOG=1");
			wd_last = std::chrono::steady_clock::now();
		}
		epoll_event ev[16];
		// libmicrohttpd's idle timeouts need a run when nothing happens,
		// and the watchdog its ping: wake for the sooner of the two.
		int timeout = web_ ? web_->timeout_ms() : -1;
		if (wd_ms >= 0 && (timeout < 0 || wd_ms < timeout))
			timeout = wd_ms;
		int n = epoll_wait(epoll_.get(), ev, 16, timeout);
		if (n == 0 && web_)
			web_->process();
		if (n < 0 && errno != EINTR) {
			log(std::string("epoll_wait: ") + std::strerror(errno));
			exit_code_ = 1;
			break;
		}
		for (int i = 0; i < n && running_; i++) {
			switch (Source(ev[i].data.u64 >> 32)) {
			case kV4l2:
				on_v4l2();
				break;
			case kSignal:
				on_signal();
				break;
			case kGstBus: {
				std::string err;
				if (!gst_->handle_bus(err)) {
					log(err.empty() ? "--gst: pipeline ended"
							: "--gst: " + err);
					running_ = false;
					exit_code_ = err.empty() ? 0 : 1;
				}
				break;
			}
			case kGstRelease:
				on_gst_release();
				break;
			case kWeb:
				web_->process();
				break;
			case kVncInput:
				vnc_->dispatch_events();
				break;
			}
		}
	}
	sd_notify(0, "STOPPING=1");
	if (gst_) {
		std::string err;
		if (!gst_->finish(10000, err)) {
			log("--gst: " + err);
			exit_code_ = 1;
		}
	}
	print_stats("exit");
	cap_->stop();
	gst_.reset();
	return exit_code_;
}

int list_nodes()
{
	kms2v4l_node_info *nodes;
	size_t n;
	int r = kms2v4l_enumerate(&nodes, &n);
	if (r < 0) {
		std::fprintf(stderr, "v4l2vnc: /sys/class/video4linux: %s\n", std::strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const kms2v4l_node_info &x = nodes[i];
		std::printf("%s\t%s\tdriver %s\tcard %s\tbus %s", x.path, x.name, x.driver, x.card,
			    x.bus_info);
		if (x.drm_card >= 0)
			std::printf("\tshows card%d-crtc%d (CRTC id %u) on %s", x.drm_card,
				    x.drm_crtc_index, x.drm_crtc_id,
				    x.connectors[0] ? x.connectors : "no connector (off)");
		if (x.width)
			std::printf("\tmode %ux%u@%u.%03u", x.width, x.height, x.refresh_mhz / 1000,
				    x.refresh_mhz % 1000);
		std::printf("\n");
	}
	free(nodes);
	return 0;
}

} // namespace
} // namespace v4l2vnc

int main(int argc, char **argv)
{
	using namespace v4l2vnc;
	ParseResult p = parse_options(std::span<const char *const>(argv, size_t(argc)));
	if (p.help) {
		std::fputs(usage(argv[0]).c_str(), stdout);
		return 0;
	}
	if (!p.options) {
		std::fprintf(stderr, "v4l2vnc: %s\n", p.error.c_str());
		return 2;
	}
	if (p.options->list)
		return list_nodes();
	App app(std::move(*p.options));
	return app.run();
}
