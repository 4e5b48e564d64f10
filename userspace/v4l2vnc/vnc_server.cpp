// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_server.h"

#include <rfb/rfb.h>

#include <arpa/inet.h>

#include <cstdio>

namespace v4l2vnc {

namespace {

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

} // namespace

struct VncCallbacks {
	static void ptr_event(int mask, int x, int y, rfbClientPtr cl)
	{
		VncServer *v = self(cl);
		if (v->on_pointer)
			v->on_pointer(mask, x, y);
	}

	static void key_event(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
	{
		VncServer *v = self(cl);
		if (v->on_key)
			v->on_key(keysym, down != 0);
	}

	static void client_gone(rfbClientPtr cl)
	{
		VncServer *v = self(cl);
		v->clients_--;
		if (v->verbose_)
			std::fprintf(stderr, "v4l2vnc: client %s gone (%u left)\n",
				     cl->host ? cl->host : "?", v->clients_);
	}

	static rfbNewClientAction new_client(rfbClientPtr cl)
	{
		VncServer *v = self(cl);
		v->clients_++;
		v->stats_.clients_total++;
		cl->clientGoneHook = client_gone;
		if (v->verbose_)
			std::fprintf(stderr, "v4l2vnc: client %s connected (%u now)\n",
				     cl->host ? cl->host : "?", v->clients_);
		return RFB_CLIENT_ACCEPT;
	}
};

VncServer::~VncServer()
{
	if (screen_) {
		rfbShutdownServer(screen_, TRUE);
		screen_->frameBuffer = nullptr; // ours, freed by fb_
		rfbScreenCleanup(screen_);
	}
}

std::unique_ptr<VncServer> VncServer::create(const VncConfig &cfg, unsigned width,
					     unsigned height, std::string &error)
{
	auto v = std::unique_ptr<VncServer>(new VncServer);
	in_addr addr{};
	if (inet_pton(AF_INET, cfg.listen.c_str(), &addr) != 1) {
		error = "--listen " + cfg.listen + ": not an IPv4 address";
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
	v->width_ = width;
	v->height_ = height;
	v->fb_.reset(new uint32_t[size_t(width) * height]());
	v->name_ = cfg.name;
	v->verbose_ = cfg.verbose;
	s->frameBuffer = reinterpret_cast<char *>(v->fb_.get());
	s->desktopName = v->name_.c_str();
	s->screenData = v.get();
	s->alwaysShared = TRUE;
	s->autoPort = FALSE;
	s->port = cfg.port;
	s->listenInterface = addr.s_addr;
	s->ipv6port = 0; // IPv4 only: never an any-address IPv6 listener
	s->listen6Interface = const_cast<char *>("::1");
	// No server-drawn cursor: viewers see exactly the captured frame (the
	// display's own cursor plane is part of it) plus their local cursor.
	s->cursor = nullptr;
	s->deferUpdateTime = 0; // we call process() right after marking
	s->ptrAddEvent = VncCallbacks::ptr_event;
	s->kbdAddEvent = VncCallbacks::key_event;
	s->newClientHook = VncCallbacks::new_client;
	if (!cfg.password.empty()) {
		v->password_ = cfg.password;
		v->passwords_[0] = v->password_.data();
		s->authPasswdData = v->passwords_;
		s->passwordCheck = rfbCheckPasswordByList;
	}
	set_pixel_format(s);
	rfbInitServer(s);
	if (s->listenSock < 0) {
		error = "cannot listen on " + cfg.listen + ":" + std::to_string(cfg.port) +
			" (port in use?)";
		return nullptr;
	}
	return v;
}

void VncServer::resize(unsigned width, unsigned height)
{
	std::unique_ptr<uint32_t[]> fb(new uint32_t[size_t(width) * height]());
	rfbNewFramebuffer(screen_, reinterpret_cast<char *>(fb.get()), int(width),
			  int(height), 8, 3, 4);
	set_pixel_format(screen_);
	// The old buffer is freed only now, after libvncserver let go of it.
	fb_ = std::move(fb);
	width_ = width;
	height_ = height;
}

void VncServer::mark_modified(std::span<const Rect> rects)
{
	for (const Rect &r : rects)
		rfbMarkRectAsModified(screen_, int(r.x), int(r.y), int(r.x + r.w),
				      int(r.y + r.h));
	stats_.rects += rects.size();
	if (!rects.empty())
		stats_.updates++;
}

void VncServer::process()
{
	// One call handles one message per readable client; go on while
	// libvncserver still finds work (websocket data it buffered itself).
	for (int i = 0; i < 8 && rfbProcessEvents(screen_, 0); i++)
		;
}

std::vector<int> VncServer::fds() const
{
	std::vector<int> fds;
	for (int fd : {screen_->listenSock, screen_->listen6Sock, screen_->httpListenSock,
		       screen_->httpListen6Sock, screen_->httpSock})
		if (fd >= 0)
			fds.push_back(fd);
	rfbClientIteratorPtr it = rfbGetClientIterator(screen_);
	while (rfbClientPtr cl = rfbClientIteratorNext(it))
		if (cl->sock >= 0)
			fds.push_back(cl->sock);
	rfbReleaseClientIterator(it);
	return fds;
}

unsigned VncServer::clients() const
{
	return clients_;
}

} // namespace v4l2vnc
