// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_server.h"

#include "net.h"

#include <rfb/rfb.h>
extern "C" { // rfbregion.h has no C++ guard
#include <rfb/rfbregion.h>
}

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

namespace v4l2vnc {

namespace {

// Events waiting for the owner's thread beyond this are dropped (counted):
// a viewer flooding input cannot grow memory without bound.
constexpr size_t kMaxEvents = 4096;

void set_pixel_format(rfbScreenInfoPtr s)
{
	// 0x00RRGGBB in host order: bytes B,G,R,X like DRM XRGB8888.
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
	s->serverFormat.redMax = 255;
	s->serverFormat.greenMax = 255;
	s->serverFormat.blueMax = 255;
}

VncServer *self(rfbClientPtr cl)
{
	return static_cast<VncServer *>(cl->screen->screenData);
}

void signal_fd(int fd)
{
	const uint64_t one = 1;
	// A full eventfd counter is already readable: nothing is lost.
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

void drain_fd(int fd)
{
	uint64_t n;
	while (read(fd, &n, sizeof(n)) == sizeof(n))
		;
}

} // namespace

struct VncCallbacks {
	// Called from the viewer's libvncserver thread.
	static void ptr_event(int mask, int x, int y, rfbClientPtr cl)
	{
		self(cl)->push_event({false, mask, x, y});
	}

	static void key_event(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
	{
		self(cl)->push_event({true, int(keysym), down != 0, 0});
	}

	// Called from the viewer's libvncserver thread, as it ends.
	static void client_gone(rfbClientPtr cl)
	{
		VncServer *v = self(cl);
		unsigned left = --v->clients_;
		if (v->verbose_)
			std::fprintf(stderr, "v4l2vnc: client %s gone (%u left)\n",
				     cl->host ? cl->host : "?", left);
		v->client_thread_done(pthread_self());
	}

	// Called from our accept thread.
	static rfbNewClientAction new_client(rfbClientPtr cl)
	{
		VncServer *v = self(cl);
		unsigned now = ++v->clients_;
		v->clients_total_++;
		cl->clientGoneHook = client_gone;
		if (v->verbose_)
			std::fprintf(stderr, "v4l2vnc: client %s connected (%u now)\n",
				     cl->host ? cl->host : "?", now);
		return RFB_CLIENT_ACCEPT;
	}

	// libvncserver's rfbNewFramebuffer() resets the server's pixel format
	// to its own default and then installs each viewer's translation from
	// that: restore ours first, or viewers connected across a resize
	// would get red and blue swapped.
	static rfbBool set_translate_function(rfbClientPtr cl)
	{
		set_pixel_format(cl->screen);
		return rfbSetTranslateFunction(cl);
	}
};

VncServer::~VncServer()
{
	if (!screen_)
		return;
	// Wake every viewer's sending thread, even one blocked in a write to
	// a viewer that stopped reading (and with it a resize waiting for it).
	auto shut_all = [&](bool close) {
		rfbClientIteratorPtr it = rfbGetClientIterator(screen_);
		while (rfbClientPtr cl = rfbClientIteratorNext(it)) {
			if (cl->sock >= 0)
				shutdown(cl->sock, SHUT_RDWR);
			if (close)
				rfbCloseClient(cl); // its threads end
		}
		rfbReleaseClientIterator(it);
	};
	shut_all(false);
	if (acceptor_.joinable()) { // no new viewers
		quit_ = true;
		signal_fd(wake_.get());
		acceptor_.join();
	}
	shut_all(true);
	if (resizer_.joinable()) {
		{
			std::lock_guard<std::mutex> l(fb_mu_);
			stop_ = true;
		}
		fb_cv_.notify_all();
		resizer_.join();
	}
	// The accept thread is gone: the list of viewer threads is final.
	std::vector<pthread_t> threads;
	{
		std::lock_guard<std::mutex> l(threads_mu_);
		threads.swap(client_threads_);
	}
	for (pthread_t t : threads)
		pthread_join(t, nullptr);
	screen_->frameBuffer = nullptr; // ours, freed with fbs_
	rfbScreenCleanup(screen_);
}

std::unique_ptr<VncServer> VncServer::create(const VncConfig &cfg, unsigned width, unsigned height,
					     std::string &error)
{
	auto v = std::unique_ptr<VncServer>(new VncServer);
	// Our own listening socket: exactly the address asked for, IPv4 or
	// IPv6 (libvncserver's would add an IPv6 any-address listener).
	v->listen_.reset(listen_tcp(cfg.listen, cfg.port, 16, error));
	if (!v->listen_.valid()) {
		error = "VNC: " + error;
		return nullptr;
	}
	v->wake_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	v->event_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!v->wake_.valid() || !v->event_fd_.valid()) {
		error = "eventfd failed";
		return nullptr;
	}
	rfbLogEnable(cfg.verbose ? 1 : 0);
	int argc = 0;
	v->screen_ = rfbGetScreen(&argc, nullptr, int(width), int(height), 8, 3, 4);
	if (!v->screen_) {
		error = "rfbGetScreen failed";
		return nullptr;
	}
	rfbScreenInfoPtr s = v->screen_;
	v->fbs_.emplace_back(new uint32_t[size_t(width) * height]());
	v->fb_ = v->applied_ = v->fbs_.back().get();
	v->width_ = width;
	v->height_ = height;
	v->name_ = cfg.name;
	v->verbose_ = cfg.verbose;
	s->frameBuffer = reinterpret_cast<char *>(v->fb_);
	s->desktopName = v->name_.c_str();
	s->screenData = v.get();
	s->alwaysShared = TRUE;
	s->autoPort = FALSE;
	s->port = 0; // no libvncserver listener: we accept (accept_loop)
	s->ipv6port = 0;
	// Threaded mode: each viewer gets an input and an output thread
	// (rfbStartOnHoldClient).  The output thread sleeps this long before
	// each update (to gather the rectangles of one frame) and while the
	// viewer is still in the handshake (0 would spin there).
	s->backgroundLoop = TRUE;
	s->deferUpdateTime = 5;
	// No server-drawn cursor: viewers see exactly the captured frame (the
	// display's own cursor plane is part of it) plus their local cursor.
	s->cursor = nullptr;
	s->ptrAddEvent = VncCallbacks::ptr_event;
	s->kbdAddEvent = VncCallbacks::key_event;
	s->newClientHook = VncCallbacks::new_client;
	s->setTranslateFunction = VncCallbacks::set_translate_function;
	if (!cfg.password.empty()) {
		v->password_ = cfg.password;
		v->passwords_[0] = v->password_.data();
		s->authPasswdData = v->passwords_;
		s->passwordCheck = rfbCheckPasswordByList;
	}
	set_pixel_format(s);
	rfbInitServer(s);
	v->acceptor_ = std::thread(&VncServer::accept_loop, v.get());
	v->resizer_ = std::thread(&VncServer::resize_loop, v.get());
	return v;
}

void VncServer::accept_loop()
{
	while (!quit_) {
		pollfd p[2] = {{listen_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
		if (poll(p, 2, -1) < 0)
			continue; // EINTR
		if (p[1].revents) {
			drain_fd(wake_.get());
			reap_client_threads();
			continue;
		}
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		// rfbNewClient waits up to 100 ms for a websocket handshake (noVNC)
		// and greets the viewer; then the viewer's own threads take over.
		std::lock_guard<std::mutex> l(screen_mu_);
		rfbClientPtr cl = rfbNewClient(screen_, fd);
		if (cl && !cl->onHold) {
			// The reference keeps cl alive until we read its thread,
			// even when the viewer is gone at once.
			rfbIncrClientRef(cl);
			rfbStartOnHoldClient(cl);
			{
				std::lock_guard<std::mutex> t(threads_mu_);
				client_threads_.push_back(cl->client_thread);
			}
			rfbDecrClientRef(cl);
		}
	}
}

void VncServer::client_thread_done(pthread_t t)
{
	{
		std::lock_guard<std::mutex> l(threads_mu_);
		finished_threads_.push_back(t);
	}
	signal_fd(wake_.get());
}

void VncServer::reap_client_threads()
{
	std::vector<pthread_t> done;
	{
		std::lock_guard<std::mutex> l(threads_mu_);
		for (pthread_t t : finished_threads_) {
			auto it = std::find_if(client_threads_.begin(), client_threads_.end(),
					       [&](pthread_t c) { return pthread_equal(c, t); });
			if (it != client_threads_.end()) {
				client_threads_.erase(it);
				done.push_back(t);
			}
		}
		finished_threads_.clear();
	}
	// They are ending (their gone hook ran): joining takes a moment.
	for (pthread_t t : done)
		pthread_join(t, nullptr);
}

void VncServer::resize_loop()
{
	std::unique_lock<std::mutex> l(fb_mu_);
	for (;;) {
		fb_cv_.wait(l, [&] { return stop_ || pending_; });
		if (stop_)
			return;
		Pending p = *pending_;
		pending_.reset();
		l.unlock();
		{
			// Waits for every viewer's send in progress (libvncserver
			// locks each sendMutex): up to rfbMaxClientWait for a
			// viewer that stopped reading.
			std::lock_guard<std::mutex> s(screen_mu_);
			rfbNewFramebuffer(screen_, reinterpret_cast<char *>(p.fb), int(p.width),
					  int(p.height), 8, 3, 4);
			set_pixel_format(screen_);
		}
		l.lock();
		applied_ = p.fb;
		// Keep libvncserver's buffer and the one the owner writes.
		uint32_t *keep = pending_ ? pending_->fb : nullptr;
		std::erase_if(fbs_, [&](const std::unique_ptr<uint32_t[]> &b) {
			return b.get() != applied_ && b.get() != keep;
		});
		if (!pending_)
			resizing_.store(false, std::memory_order_release);
	}
}

void VncServer::resize(unsigned width, unsigned height)
{
	auto fb = std::make_unique<uint32_t[]>(size_t(width) * height);
	uint32_t *p = fb.get();
	{
		std::lock_guard<std::mutex> l(fb_mu_);
		fbs_.push_back(std::move(fb));
		pending_ = Pending{p, width, height};
		resizing_.store(true, std::memory_order_relaxed);
	}
	fb_cv_.notify_one();
	fb_ = p;
	width_ = width;
	height_ = height;
}

void VncServer::mark_modified(std::span<const Rect> rects)
{
	if (resizing_.load(std::memory_order_acquire)) {
		// libvncserver still has the old size; the resize marks the
		// whole new framebuffer, and once more after it (remark_), as
		// what we write meanwhile may land after that first mark.
		remark_ = true;
		return;
	}
	if (remark_) {
		remark_ = false;
		rfbMarkRectAsModified(screen_, 0, 0, int(width_), int(height_));
		updates_++;
		rects_++;
		return;
	}
	if (rects.empty())
		return;
	// One region, so each viewer's lock is taken once per frame.
	sraRegionPtr region = sraRgnCreate();
	for (const Rect &r : rects) {
		sraRegionPtr one = sraRgnCreateRect(int(r.x), int(r.y), int(r.x + r.w),
						    int(r.y + r.h));
		sraRgnOr(region, one);
		sraRgnDestroy(one);
	}
	rfbMarkRegionAsModified(screen_, region);
	sraRgnDestroy(region);
	rects_ += rects.size();
	updates_++;
}

void VncServer::push_event(const InputEvent &e)
{
	{
		std::lock_guard<std::mutex> l(event_mu_);
		if (events_.size() >= kMaxEvents) {
			input_dropped_++;
			return;
		}
		events_.push_back(e);
	}
	signal_fd(event_fd_.get());
}

void VncServer::dispatch_events()
{
	drain_fd(event_fd_.get());
	std::deque<InputEvent> evs;
	{
		std::lock_guard<std::mutex> l(event_mu_);
		evs.swap(events_);
	}
	for (const InputEvent &e : evs) {
		if (e.key) {
			if (on_key)
				on_key(uint32_t(e.a), e.b != 0);
		} else if (on_pointer) {
			on_pointer(e.a, e.b, e.c);
		}
	}
}

int VncServer::port() const
{
	return local_port(listen_.get());
}

uint64_t VncServer::bytes_sent() const
{
	uint64_t n = 0;
	rfbClientIteratorPtr it = rfbGetClientIterator(screen_);
	while (rfbClientPtr cl = rfbClientIteratorNext(it))
		n += uint64_t(rfbStatGetSentBytes(cl));
	rfbReleaseClientIterator(it);
	return n;
}

VncStats VncServer::stats() const
{
	VncStats s;
	s.clients_total = clients_total_.load();
	s.rects = rects_;
	s.updates = updates_;
	s.input_dropped = input_dropped_.load();
	return s;
}

} // namespace v4l2vnc
