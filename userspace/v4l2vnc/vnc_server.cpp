// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_server.h"

#include "net.h"

#include <rfb/rfb.h>
extern "C" { // rfbregion.h has no C++ guard
#include <rfb/rfbregion.h>
}

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

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

// How long a new connection may stay silent before it is taken as a plain
// RFB viewer (which waits for the server to speak first).  A browser sends
// its upgrade request at once; one that is slower than this is refused by
// new_client() (libvncserver would do the handshake unchecked).
constexpr int kFirstBytesMs = 150;

// What the handshake thread decided, for new_client() in the same thread
// (it runs inside rfbNewClient).
struct Admission {
	uint64_t id = 0;
	bool websocket = false;
	std::string path;
};
thread_local const Admission *admission = nullptr;

// Set in the resize thread while rfbNewFramebuffer() holds every viewer's
// send lock (it calls set_translate_function() for each).
thread_local bool holding_send_locks = false;

// The client pixel formats libvncserver 0.9.14 can translate to
// (rfbSetTranslateFunction refuses the others).
bool translatable(const rfbPixelFormat &f)
{
	return (f.bitsPerPixel == 8 || f.bitsPerPixel == 16 || f.bitsPerPixel == 32) &&
	       (f.trueColour || f.bitsPerPixel == 8);
}

// Each viewer's translation function and the bits per pixel it writes,
// keyed by &cl->format (the `out` every libvncserver encoder passes).
struct Translation {
	rfbTranslateFnType fn = nullptr;
	int bits_per_pixel = 8;
};
std::mutex translations_mu; // protects translations
std::unordered_map<const rfbPixelFormat *, Translation> translations;

// Every viewer's translation function.  libvncserver 0.9.14 writes a
// SetPixelFormat into cl->format before it asks for the new translation,
// unlocked, while the viewer's output thread may be encoding an update:
// the encoder sizes its buffer from cl->format, and the old translation
// would write its own bytes per pixel (32 into room for 8: past the
// buffer).  Until the new translation is in, rows come out black in the
// smaller of the two sizes (a viewer that changes its format in the middle
// of an update gets that update wrong).
void safe_translate(char *table, rfbPixelFormat *in, rfbPixelFormat *out, char *iptr, char *optr,
		    int bytes_between_input_lines, int width, int height)
{
	Translation t;
	{
		std::lock_guard<std::mutex> l(translations_mu);
		auto it = translations.find(out);
		if (it != translations.end())
			t = it->second;
	}
	if (t.fn && t.bits_per_pixel == out->bitsPerPixel) {
		t.fn(table, in, out, iptr, optr, bytes_between_input_lines, width, height);
		return;
	}
	const int bits = std::min<int>(t.bits_per_pixel, out->bitsPerPixel);
	std::memset(optr, 0, size_t(width) * size_t(height) * size_t(bits / 8));
}

// Puts safe_translate() in front of the viewer's translation; with its send
// lock held (or before its threads run).
void guard_translation(rfbClientPtr cl)
{
	std::lock_guard<std::mutex> l(translations_mu);
	if (cl->translateFn != safe_translate)
		translations[&cl->format] = {cl->translateFn, cl->format.bitsPerPixel};
	cl->translateFn = safe_translate;
}

void forget_translation(rfbClientPtr cl)
{
	std::lock_guard<std::mutex> l(translations_mu);
	translations.erase(&cl->format);
}

uint64_t conn_id(rfbClientPtr cl)
{
	return reinterpret_cast<uintptr_t>(cl->clientData);
}

} // namespace

struct VncCallbacks {
	// Called from the viewer's libvncserver thread.
	static void ptr_event(int mask, int x, int y, rfbClientPtr cl)
	{
		self(cl)->push_event({VncServer::InputEvent::kPointer, conn_id(cl), mask, x, y});
	}

	static void key_event(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
	{
		self(cl)->push_event(
			{VncServer::InputEvent::kKey, conn_id(cl), int(keysym), down != 0, 0});
	}

	// QEMU extended key events (the viewer's XT scancodes), which
	// libvncserver 0.9.14's server does not know, as a protocol extension:
	// a viewer whose SetEncodings holds the pseudo-encoding gets it.
	// Called from the viewer's thread inside libvncserver's SetEncodings,
	// with libvncserver's extension list locked (every new connection
	// waits for it): nothing here may block, so the answer (a
	// pseudo-rectangle) is only noted, for qemu_ack() to send.
	static rfbBool qemu_enable(rfbClientPtr cl, void ** /*data*/, int encoding)
	{
		if (encoding != int(rfbEncodingQemuExtendedKeyEvent))
			return FALSE;
		VncServer *v = self(cl);
		{
			std::lock_guard<std::mutex> l(v->qemu_mu_);
			if (std::find(v->qemu_acks_.begin(), v->qemu_acks_.end(), conn_id(cl)) ==
			    v->qemu_acks_.end())
				v->qemu_acks_.push_back(conn_id(cl));
		}
		v->qemu_acks_owed_ = true;
		return TRUE;
	}

	// libvncserver's displayHook and displayFinishedHook: in the viewer's
	// output thread, with its send lock held, around each update it
	// writes (what a resize waits for).
	static void update_begins(rfbClientPtr cl)
	{
		self(cl)->note_sending(conn_id(cl), true);
		qemu_ack(cl);
	}

	static void update_done(rfbClientPtr cl, int /*result*/)
	{
		self(cl)->note_sending(conn_id(cl), false);
	}

	// Before an update: the owed answer goes first, as an update of its
	// own (QEMU's way).
	static void qemu_ack(rfbClientPtr cl)
	{
		VncServer *v = self(cl);
		if (!v->qemu_acks_owed_.load())
			return;
		{
			std::lock_guard<std::mutex> l(v->qemu_mu_);
			auto it = std::find(v->qemu_acks_.begin(), v->qemu_acks_.end(),
					    conn_id(cl));
			if (it == v->qemu_acks_.end())
				return;
			v->qemu_acks_.erase(it);
			v->qemu_acks_owed_ = !v->qemu_acks_.empty();
		}
		// FramebufferUpdate, one rectangle: 0,0 0x0, the pseudo-encoding.
		uint8_t msg[sz_rfbFramebufferUpdateMsg + sz_rfbFramebufferUpdateRectHeader] = {
			rfbFramebufferUpdate, 0, 0, 1};
		const uint32_t enc = rfbEncodingQemuExtendedKeyEvent;
		for (int i = 0; i < 4; i++)
			msg[sizeof(msg) - 1 - i] = uint8_t(enc >> (8 * i));
		if (rfbWriteExact(cl, reinterpret_cast<char *>(msg), sizeof(msg)) < 0) {
			// The update after it fails the same way and closes the viewer.
		}
	}

	// A client message libvncserver does not know, for a viewer that
	// enabled the extension; its type byte is read.  TRUE when handled.
	static rfbBool qemu_message(rfbClientPtr cl, void * /*data*/,
				    const rfbClientToServerMsg *msg)
	{
		if (msg->type != rfbQemuEvent)
			return FALSE;
		rfbQemuExtendedKeyEventMsg ke{};
		char *rest = reinterpret_cast<char *>(&ke) + 1;
		// The submessage type first: only key events (0) are known, and
		// the others' lengths are not, so they close the viewer.
		if (rfbReadExact(cl, rest, 1) <= 0 || ke.subtype != 0 ||
		    rfbReadExact(cl, rest + 1, sz_rfbQemuExtendedKeyEventMsg - 2) <= 0) {
			if (self(cl)->verbose_ && ke.subtype != 0)
				std::fprintf(
					stderr,
					"v4l2vnc: client %s: QEMU message %u unknown, closed\n",
					cl->host ? cl->host : "?", unsigned(ke.subtype));
			rfbCloseClient(cl);
			return TRUE;
		}
		if (cl->viewOnly) // as libvncserver does for its key events
			return TRUE;
		self(cl)->push_event({VncServer::InputEvent::kKey, conn_id(cl),
				      int(Swap32IfLE(ke.keysym)), Swap16IfLE(ke.down) != 0,
				      int(Swap32IfLE(ke.keycode))});
		return TRUE;
	}

	// Called from the viewer's libvncserver thread, as it ends.
	static void client_gone(rfbClientPtr cl)
	{
		VncServer *v = self(cl);
		forget_translation(cl); // its threads have ended
		unsigned left = --v->clients_;
		if (v->verbose_)
			std::fprintf(stderr, "v4l2vnc: client %s gone (%u left)\n",
				     cl->host ? cl->host : "?", left);
		v->conn_closed(conn_id(cl));
		{
			std::lock_guard<std::mutex> l(v->qemu_mu_);
			std::erase(v->qemu_acks_, conn_id(cl));
		}
		// libvncserver 0.9.14 allocates an entry of cl->extensions for
		// each extension a viewer enables (the QEMU keys) and never frees
		// it: 24 bytes per such viewer.  Nothing reads the list after
		// this hook; the entries' data is ours (none).
		for (rfbExtensionData *e = cl->extensions, *next; e; e = next) {
			next = e->next;
			std::free(e);
		}
		cl->extensions = nullptr;
		// Nor the WebSocket context it allocates for each WebSocket
		// viewer (one calloc of 45 KB, found by vm.v4l2vnc-hostile's
		// leak check): any local process can send the Origin header.
		free(cl->wsctx);
		cl->wsctx = nullptr;
		// Never dropped (unlike input over the limit): its keys and
		// buttons must be released.
		v->push_event({VncServer::InputEvent::kGone, conn_id(cl), 0, 0, 0}, true);
		v->client_thread_done(pthread_self());
	}

	// Called by rfbNewClient in a handshake thread, once libvncserver has
	// done its part of the handshake (WebSocket upgrade included).
	static rfbNewClientAction new_client(rfbClientPtr cl)
	{
		VncServer *v = self(cl);
		const Admission *a = admission;
		// libvncserver took a WebSocket upgrade the gate did not see (it
		// came after kFirstBytesMs), or the other way round: refuse.
		const bool ws = cl->wsctx != nullptr;
		if (!a || ws != a->websocket || (ws && (!cl->wspath || a->path != cl->wspath))) {
			v->refused_++;
			if (v->verbose_)
				std::fprintf(stderr,
					     "v4l2vnc: client %s refused: WebSocket after the "
					     "first %d ms\n",
					     cl->host ? cl->host : "?", kFirstBytesMs);
			return RFB_CLIENT_REFUSE;
		}
		// libvncserver 0.9.14 frees wspath in every rfbCloseClient(), and
		// in threaded mode a client may be closed twice (its thread and
		// our shutdown): a double free.  Nothing else reads it.
		free(cl->wspath);
		cl->wspath = nullptr;
		cl->clientData = reinterpret_cast<void *>(uintptr_t(a->id));
		{
			std::lock_guard<std::mutex> l(v->conn_mu_);
			auto it = v->conns_.find(a->id);
			if (it != v->conns_.end())
				it->second.cl = cl;
		}
		unsigned now = ++v->clients_;
		v->clients_total_++;
		cl->clientGoneHook = client_gone;
		guard_translation(cl); // its threads have not started
		if (v->verbose_)
			std::fprintf(stderr, "v4l2vnc: client %s connected%s (%u now)\n",
				     cl->host ? cl->host : "?", ws ? " by WebSocket" : "", now);
		return RFB_CLIENT_ACCEPT;
	}

	// Called from the viewer's thread with its VNC authentication response.
	static rfbBool password_check(rfbClientPtr cl, const char *response, int len)
	{
		return self(cl)->check_password(cl, response, len) ? TRUE : FALSE;
	}

	// libvncserver's rfbNewFramebuffer() resets the server's pixel format
	// to its own default and then installs each viewer's translation from
	// that: restore ours first, or viewers connected across a resize
	// would get red and blue swapped.
	//
	// On a SetPixelFormat, libvncserver 0.9.14 has written the viewer's
	// format into cl->format already, unlocked, while the viewer's output
	// thread may be encoding an update (safe_translate() covers the
	// translation that does not match it yet):
	//  - a format it refuses (7 bits per pixel, a 32-bit colour map) stays
	//    in cl->format after it closes the viewer, and an update still
	//    sent divides by its bytes per pixel (SIGFPE: the whole daemon
	//    dies): put ours back at once, then close;
	//  - the new translation goes in between updates, under the viewer's
	//    send lock (libvncserver would free the old lookup table under
	//    an encoder using it).
	static rfbBool set_translate_function(rfbClientPtr cl)
	{
		set_pixel_format(cl->screen);
		if (!translatable(cl->format)) {
			cl->format = cl->screen->serverFormat;
			if (self(cl)->verbose_)
				std::fprintf(stderr,
					     "v4l2vnc: client %s: unusable pixel format, closed\n",
					     cl->host ? cl->host : "?");
			rfbCloseClient(cl);
			return FALSE;
		}
		if (!holding_send_locks)
			pthread_mutex_lock(&cl->sendMutex);
		const rfbBool ok = rfbSetTranslateFunction(cl);
		if (ok)
			guard_translation(cl);
		if (!holding_send_locks)
			pthread_mutex_unlock(&cl->sendMutex);
		return ok;
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
			if (close && cl->state != rfbClientRec::RFB_SHUTDOWN)
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
	// Handshakes in progress end at once (their reads fail).
	std::vector<std::thread> hs;
	{
		std::lock_guard<std::mutex> l(conn_mu_);
		for (auto &[id, c] : conns_)
			if (c.watch.valid())
				shutdown(c.watch.get(), SHUT_RDWR);
		hs.swap(handshakes_);
	}
	for (std::thread &t : hs)
		t.join();
	shut_all(false);
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
	if (cfg.listen_fd >= 0) {
		v->listen_.reset(cfg.listen_fd);
		fcntl(cfg.listen_fd, F_SETFL, fcntl(cfg.listen_fd, F_GETFL) | O_NONBLOCK);
	} else if (cfg.listen.rfind("unix:", 0) == 0)
		v->listen_.reset(listen_unix(cfg.listen.substr(5), 0600, 128, error));
	else
		v->listen_.reset(listen_tcp(cfg.listen, cfg.port, 128, error));
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
	v->gate_ = cfg.gate;
	v->tls_ = cfg.tls;
	if (v->gate_.tls && !v->tls_) {
		error = "wss without a certificate";
		return nullptr;
	}
	v->max_clients_ = cfg.max_clients;
	v->max_per_address_ = cfg.max_per_address;
	v->preauth_timeout_ = std::chrono::milliseconds(cfg.preauth_timeout_ms);
	v->handshake_timeout_ = std::chrono::milliseconds(cfg.handshake_timeout_ms);
	v->stall_timeout_ = std::chrono::milliseconds(cfg.stall_timeout_ms);
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
	s->displayHook = VncCallbacks::update_begins;
	s->displayFinishedHook = VncCallbacks::update_done;
	// libvncserver's extensions are global: registered once (it ignores
	// a second registration), for every screen.
	static int qemu_encodings[] = {int(rfbEncodingQemuExtendedKeyEvent), 0};
	static rfbProtocolExtension qemu_keys = [] {
		rfbProtocolExtension e{};
		e.pseudoEncodings = qemu_encodings;
		e.enablePseudoEncoding = VncCallbacks::qemu_enable;
		e.handleMessage = VncCallbacks::qemu_message;
		return e;
	}();
	rfbRegisterProtocolExtension(&qemu_keys);
	s->setTranslateFunction = VncCallbacks::set_translate_function;
	// rfbCheckPasswordByList: the list's entries from
	// authPasswdFirstViewOnly on are view-only (cl->viewOnly: libvncserver
	// then drops the viewer's key and pointer events).
	v->blacklist_ = Blacklist(cfg.blacklist_threshold,
				  std::chrono::milliseconds(cfg.blacklist_timeout_ms));
	if (!cfg.password.empty() || !cfg.view_password.empty()) {
		v->password_ = cfg.password;
		v->view_password_ = cfg.view_password;
		int n = 0;
		if (!v->password_.empty())
			v->passwords_[n++] = v->password_.data();
		s->authPasswdFirstViewOnly = n;
		if (!v->view_password_.empty())
			v->passwords_[n++] = v->view_password_.data();
		s->authPasswdData = v->passwords_;
		s->passwordCheck = VncCallbacks::password_check;
	}
	set_pixel_format(s);
	v->unix_ = cfg.listen_fd < 0 ? cfg.listen.rfind("unix:", 0) == 0 : false;
	if (cfg.listen_fd >= 0) {
		sockaddr_storage ss{};
		socklen_t len = sizeof(ss);
		v->unix_ = getsockname(cfg.listen_fd, reinterpret_cast<sockaddr *>(&ss), &len) ==
				   0 &&
			   ss.ss_family == AF_UNIX;
	}
	if (v->unix_)
		v->gate_.websocket = false; // browsers do not reach unix sockets
	rfbInitServer(s);
	v->acceptor_ = std::thread(&VncServer::accept_loop, v.get());
	v->resizer_ = std::thread(&VncServer::resize_loop, v.get());
	return v;
}

void VncServer::accept_loop()
{
	while (!quit_) {
		auto now = Clock::now();
		const bool paused = now < accept_paused_until_;
		pollfd p[2] = {{wake_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}};
		// Once a second at least: the pre-auth timeout; ten times a
		// second while a resize may wait for a stalled viewer.
		int timeout = resizing_.load(std::memory_order_relaxed) ? 100 : 1000;
		if (paused) {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
				accept_paused_until_ - now);
			timeout = std::min(timeout, int(left.count()) + 1);
		}
		int n = poll(p, paused ? 1 : 2, timeout);
		if (n < 0 && errno != EINTR)
			break;
		now = Clock::now();
		sweep(now);
		cut_stalled(now);
		if (n > 0 && p[0].revents) {
			drain_fd(wake_.get());
			reap_client_threads();
		}
		if (n > 0 && !paused && (p[1].revents & POLLIN))
			accept_one();
	}
}

void VncServer::pause_accepting(int err)
{
	// The connection stays in the backlog: try again in a moment instead
	// of spinning on a listener that stays readable.
	accept_paused_until_ = Clock::now() + std::chrono::milliseconds(250);
	if (accept_pauses_++ % 64 == 0)
		std::fprintf(stderr, "v4l2vnc: VNC accept: %s; pausing 250 ms\n",
			     std::strerror(err));
}

void VncServer::accept_one()
{
	// Each connection takes four file descriptors: the socket, its watch,
	// and later the pipe libvncserver's rfbStartOnHoldClient() makes for
	// the viewer's thread, which FD_SETs whatever pipe() gave: -1 when out
	// of descriptors (an abort, or a write before its fd_set).  That pipe
	// is taken here as a spare, and handshake() closes the spare just
	// before libvncserver's pipe() reuses its numbers, under fd_mutex().
	std::lock_guard<std::mutex> fl(fd_mutex());
	int fd = accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			pause_accepting(errno);
		return; // EAGAIN, or a connection that died meanwhile
	}
	UniqueFd sock(fd);
	std::string addr = unix_ ? "unix" : peer_address(fd);
	Conn c;
	c.watch.reset(fcntl(fd, F_DUPFD_CLOEXEC, 0));
	int spare[2];
	if (c.watch.valid() && pipe2(spare, O_CLOEXEC) == 0) {
		c.spare[0].reset(spare[0]);
		c.spare[1].reset(spare[1]);
	} else {
		pause_accepting(errno);
	}
	// libvncserver keeps its sockets in fd_sets (FD_SET past FD_SETSIZE
	// writes beyond them).
	const char *why = nullptr;
	std::lock_guard<std::mutex> l(conn_mu_);
	if (!c.spare[1].valid())
		why = "out of file descriptors";
	else if (c.spare[1].get() >= FD_SETSIZE)
		why = "file descriptor beyond FD_SETSIZE";
	else if (conns_.size() >= max_clients_)
		why = "too many connections";
	else if (per_address_[addr] >= max_per_address_)
		why = "too many connections from this address";
	else if (blacklist_.blocked(addr, Clock::now())) {
		why = "too many authentication failures";
		blocked_++;
	}
	if (why) {
		refused_++;
		if (verbose_)
			std::fprintf(stderr, "v4l2vnc: connection from %s refused: %s\n",
				     addr.c_str(), why);
		if (per_address_[addr] == 0)
			per_address_.erase(addr);
		return;
	}
	c.addr = addr;
	c.since = Clock::now();
	uint64_t id = next_id_++;
	per_address_[addr]++;
	conns_.emplace(id, std::move(c));
	// Finished handshake threads are joined here, so that there are never
	// more of them than connections.
	for (std::thread::id done : handshakes_done_) {
		auto it = std::find_if(handshakes_.begin(), handshakes_.end(),
				       [&](const std::thread &t) { return t.get_id() == done; });
		if (it != handshakes_.end()) {
			it->join();
			handshakes_.erase(it);
		}
	}
	handshakes_done_.clear();
	handshakes_.emplace_back(&VncServer::handshake, this, id, std::move(sock));
}

void VncServer::sweep(Clock::time_point now)
{
	std::lock_guard<std::mutex> l(conn_mu_);
	for (auto &[id, c] : conns_) {
		if (c.cut || now - c.since < preauth_timeout_)
			continue;
		// Reading cl->state races with its thread; an int read at worst
		// sees the state a moment late.
		if (c.cl && c.cl->state == rfbClientRec::RFB_NORMAL)
			continue;
		c.cut = true;
		timed_out_++;
		if (verbose_)
			std::fprintf(stderr,
				     "v4l2vnc: client %s: no complete handshake in %lld ms\n",
				     c.addr.c_str(), (long long)preauth_timeout_.count());
		shutdown(c.watch.get(), SHUT_RDWR); // its reads and writes fail now
	}
}

void VncServer::cut_stalled(Clock::time_point now)
{
	std::lock_guard<std::mutex> l(conn_mu_);
	if (resize_since_ == Clock::time_point{})
		return;
	for (auto &[id, c] : conns_) {
		if (c.cut || c.sending_since == Clock::time_point{} ||
		    now - std::max(c.sending_since, resize_since_) < stall_timeout_)
			continue;
		// An update still being written: cut only a viewer it waits for
		// (its socket full), never one whose update is still encoded.
		// wss: the watch is the TCP socket the relay writes to.
		pollfd p = {c.watch.get(), POLLOUT, 0};
		if (poll(&p, 1, 0) != 0)
			continue;
		c.cut = true;
		stalled_++;
		std::fprintf(stderr,
			     "v4l2vnc: client %s: an update unread for %lld ms holds up a resize; "
			     "disconnected\n",
			     c.addr.c_str(), (long long)stall_timeout_.count());
		shutdown(c.watch.get(), SHUT_RDWR); // its blocked write fails now
	}
}

void VncServer::note_sending(uint64_t id, bool sending)
{
	std::lock_guard<std::mutex> l(conn_mu_);
	auto it = conns_.find(id);
	if (it != conns_.end())
		it->second.sending_since = sending ? Clock::now() : Clock::time_point{};
}

void VncServer::conn_closed(uint64_t id)
{
	std::lock_guard<std::mutex> l(conn_mu_);
	auto it = conns_.find(id);
	if (it == conns_.end())
		return;
	auto pa = per_address_.find(it->second.addr);
	if (pa != per_address_.end() && --pa->second == 0)
		per_address_.erase(pa);
	conns_.erase(it);
}

bool VncServer::check_password(rfbClientPtr cl, const char *response, int len)
{
	std::string addr;
	{
		std::lock_guard<std::mutex> l(conn_mu_);
		auto it = conns_.find(conn_id(cl));
		addr = it != conns_.end() ? it->second.addr : "?";
		if (blacklist_.blocked(addr, Clock::now())) {
			// Not even checked: a guess now tells nothing.
			blocked_++;
			return false;
		}
	}
	// DES of the challenge with each password: no I/O, quick.
	const bool ok = rfbCheckPasswordByList(cl, response, len) != FALSE;
	std::lock_guard<std::mutex> l(conn_mu_);
	if (ok) {
		blacklist_.succeeded(addr);
	} else {
		auth_failures_++;
		blacklist_.failed(addr, Clock::now());
		auto left = blacklist_.remaining(addr, Clock::now());
		if (left.count() || verbose_)
			std::fprintf(stderr, "v4l2vnc: client %s: wrong password%s\n", addr.c_str(),
				     left.count() ? (", blocked for " +
						     std::to_string(left.count()) + " ms")
							    .c_str()
						  : "");
	}
	return ok;
}

GateResult VncServer::tls_handshake(int fd, Clock::time_point deadline,
				    std::unique_ptr<TlsSession> &session, std::string &buf,
				    size_t &have)
{
	have = 0;
	if (!tls_)
		return {GateVerdict::kReject, "TLS without a certificate", {}, 0};
	std::string error;
	auto s = TlsSession::accept(*tls_, fd, deadline, error);
	if (!s)
		return {GateVerdict::kReject, error, {}, 0};
	GateResult g{GateVerdict::kNeedMore, {}, {}, 0};
	while (g.verdict == GateVerdict::kNeedMore) {
		if (have == buf.size()) {
			g = {GateVerdict::kReject, "request too long", {}, 0};
			break;
		}
		ssize_t n = s->recv(buf.data() + have, buf.size() - have, deadline, error);
		if (n <= 0) {
			g = {GateVerdict::kReject,
			     n == 0            ? "closed before the handshake"
			     : n == -ETIMEDOUT ? "incomplete request at the deadline"
					       : "TLS: " + error,
			     {},
			     0};
			break;
		}
		have += size_t(n);
		g = gate_classify(std::string_view(buf.data(), have), gate_, true);
	}
	session = std::move(s); // also for a 403 inside TLS
	return g;
}

void VncServer::handshake(uint64_t id, UniqueFd fd)
{
	const auto start = Clock::now();
	const auto deadline = start + handshake_timeout_;
	const auto quiet_until = start + std::chrono::milliseconds(kFirstBytesMs);
	GateResult g{GateVerdict::kNeedMore, {}, {}, 0};
	std::string buf(kGateMaxRequest, '\0');
	size_t have = 0;
	for (;;) {
		ssize_t n = recv(fd.get(), buf.data(), buf.size(), MSG_PEEK);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			g = {GateVerdict::kReject, "closed before the handshake", {}, 0};
			break;
		}
		if (n > 0) {
			have = size_t(n);
			g = gate_classify(std::string_view(buf.data(), have), gate_);
			if (g.verdict != GateVerdict::kNeedMore)
				break;
			// Peeked bytes stay readable: poll for more than we have.
			// TCP honours SO_RCVLOWAT in poll; unix sockets carry no
			// WebSocket (the gate rejects "GET" there).
			int lowat = int(have) + 1;
			setsockopt(fd.get(), SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
		}
		auto now = Clock::now();
		auto until = have ? deadline : std::min(deadline, quiet_until);
		if (now >= until) {
			if (!have)
				g = {GateVerdict::kPlain, {}, {}, 0};
			else
				g = {GateVerdict::kReject,
				     "incomplete request at the deadline",
				     {},
				     0};
			break;
		}
		pollfd p = {fd.get(), POLLIN, 0};
		poll(&p, 1,
		     int(std::chrono::duration_cast<std::chrono::milliseconds>(until - now)
				 .count()) +
			     1);
	}
	const int one = 1;
	setsockopt(fd.get(), SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	// wss: the TLS handshake, the request inside it judged as a plain one
	// is; libvncserver then gets the plain side of a socket pair (tls.h).
	std::unique_ptr<TlsSession> tls;
	UniqueFd relay_end, tcp;
	const bool was_tls = g.verdict == GateVerdict::kTls;
	if (was_tls)
		g = tls_handshake(fd.get(), deadline, tls, buf, have);
	if (g.verdict == GateVerdict::kWebSocket && tls) {
		int pair[2];
		int made;
		{
			std::lock_guard<std::mutex> fl(fd_mutex());
			made = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
		}
		if (made < 0) {
			g = {GateVerdict::kReject,
			     std::string("socketpair: ") + std::strerror(errno),
			     {},
			     0};
		} else {
			UniqueFd plain(pair[0]);
			relay_end.reset(pair[1]);
			// The request as libvncserver would have read it in the
			// clear (a few KB: the pair's buffer takes it at once).
			if (pair[0] >= FD_SETSIZE)
				g = {GateVerdict::kReject,
				     "file descriptor beyond FD_SETSIZE",
				     {},
				     0};
			else if (send(pair[1], buf.data(), have, MSG_NOSIGNAL) != ssize_t(have))
				g = {GateVerdict::kReject,
				     std::string("socketpair send: ") + std::strerror(errno),
				     {},
				     0};
			if (g.verdict == GateVerdict::kWebSocket) {
				tcp = std::move(fd); // relayed below
				fd = std::move(plain);
			}
		}
	}
	if (g.verdict == GateVerdict::kReject) {
		refused_++;
		std::string addr;
		{
			std::lock_guard<std::mutex> l(conn_mu_);
			auto it = conns_.find(id);
			addr = it != conns_.end() ? it->second.addr : "?";
		}
		const bool get = std::string_view(buf.data(), std::min(have, size_t(4))) == "GET ";
		if (verbose_ || get || was_tls)
			std::fprintf(stderr, "v4l2vnc: connection from %s refused: %s%s\n",
				     addr.c_str(), was_tls ? "wss: " : "", g.reason.c_str());
		if (get) {
			static const char kForbidden[] =
				"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: "
				"close\r\n\r\n";
			if (tls) {
				if (!tls->send_all(kForbidden, sizeof(kForbidden) - 1)) {
					// Gone already: nothing to tell.
				}
			} else if (send(fd.get(), kForbidden, sizeof(kForbidden) - 1,
					MSG_NOSIGNAL) < 0) {
				// Gone already: nothing to tell.
			}
		}
		tls.reset();
		fd.reset();
		conn_closed(id);
	} else {
		Admission a;
		a.id = id;
		a.websocket = g.verdict == GateVerdict::kWebSocket;
		a.path = g.path;
		// libvncserver adds the client to its list early in rfbNewClient:
		// a resize must not run then (admit_mu_), and waits only for
		// that moment, not for the rest of the handshake.
		const int sock = fd.get();
		{
			std::unique_lock<std::mutex> l(admit_mu_);
			admit_cv_.wait(l, [&] { return !resize_waits_; });
			admitting_.push_back(sock);
		}
		admission = &a;
		rfbClientPtr cl = rfbNewClient(screen_, fd.release());
		admission = nullptr;
		{
			std::lock_guard<std::mutex> l(admit_mu_);
			std::erase(admitting_, sock);
		}
		admit_cv_.notify_all();
		if (!cl) {
			conn_closed(id); // refused or failed: libvncserver closed it
		} else {
			// The reference keeps cl alive until we read its thread,
			// even when the viewer is gone at once.
			rfbIncrClientRef(cl);
			{
				std::lock_guard<std::mutex> fl(fd_mutex());
				std::lock_guard<std::mutex> l(conn_mu_);
				auto it = conns_.find(id);
				if (it != conns_.end())
					for (UniqueFd &f : it->second.spare)
						f.reset();
				rfbStartOnHoldClient(cl);
			}
			{
				std::lock_guard<std::mutex> t(threads_mu_);
				client_threads_.push_back(cl->client_thread);
			}
			rfbDecrClientRef(cl);
			// wss: this thread carries the viewer's bytes until it
			// or libvncserver closes (a pre-auth cut or the server's
			// end shuts the TCP socket down through its watch).
			if (tls)
				tls->relay(relay_end.get());
		}
	}
	tls.reset();
	std::lock_guard<std::mutex> l(conn_mu_);
	handshakes_done_.push_back(std::this_thread::get_id());
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

bool VncServer::listed(int fd) const
{
	bool found = false;
	rfbClientIteratorPtr it = rfbGetClientIterator(screen_);
	while (rfbClientPtr cl = rfbClientIteratorNext(it))
		found = found || cl->sock == fd;
	rfbReleaseClientIterator(it);
	return found;
}

void VncServer::switch_framebuffer(const Pending &p)
{
	// rfbNewFramebuffer() unlocks, in its second pass over the list, only
	// the viewers still connected: one that went away meanwhile (cut by
	// cut_stalled(), or at libvncserver's write timeout) kept its send
	// lock, and its thread hung in rfbClientConnectionGone() on it (the
	// daemon could not exit).  A reference keeps each viewer's struct
	// until its lock is given back below.
	std::vector<rfbClientPtr> held;
	rfbClientIteratorPtr it = rfbGetClientIterator(screen_);
	while (rfbClientPtr cl = rfbClientIteratorNext(it)) {
		rfbIncrClientRef(cl);
		held.push_back(cl);
	}
	rfbReleaseClientIterator(it);
	// Waits for every viewer's send in progress (libvncserver locks each
	// sendMutex): for a viewer that stopped reading, until cut_stalled()
	// cuts it (libvncserver itself would wait for its 20 s write timeout,
	// rfbMaxClientWait).
	holding_send_locks = true;
	rfbNewFramebuffer(screen_, reinterpret_cast<char *>(p.fb), int(p.width), int(p.height), 8,
			  3, 4);
	holding_send_locks = false;
	set_pixel_format(screen_);
	for (rfbClientPtr cl : held) {
		// Its socket is closed only after both its threads are done
		// with the lock: if it is held now, it is held by us.  Either
		// way this thread holds it after the trylock.
		if (cl->sock < 0) {
			(void)pthread_mutex_trylock(&cl->sendMutex);
			pthread_mutex_unlock(&cl->sendMutex);
		}
		rfbDecrClientRef(cl);
	}
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
			std::lock_guard<std::mutex> c(conn_mu_);
			resize_since_ = Clock::now(); // for cut_stalled()
		}
		{
			// rfbNewFramebuffer locks each client's sendMutex in one
			// pass over the list and unlocks in a second: no client may
			// join the list in between.  New rfbNewClient calls wait;
			// those already running are waited for only until their
			// client is in the list (libvncserver adds it before any
			// read), never for their handshake.
			std::unique_lock<std::mutex> a(admit_mu_);
			resize_waits_ = true;
			while (!std::all_of(admitting_.begin(), admitting_.end(),
					    [&](int fd) { return listed(fd); }))
				admit_cv_.wait_for(a, std::chrono::milliseconds(1));
			switch_framebuffer(p);
			resize_waits_ = false;
		}
		admit_cv_.notify_all();
		{
			std::lock_guard<std::mutex> c(conn_mu_);
			resize_since_ = {};
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

void VncServer::push_event(const InputEvent &e, bool always)
{
	{
		std::lock_guard<std::mutex> l(event_mu_);
		if (events_.size() >= kMaxEvents && !always) {
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
		if (e.kind == InputEvent::kKey && on_key)
			on_key(e.viewer, uint32_t(e.a), uint32_t(e.c), e.b != 0);
		else if (e.kind == InputEvent::kPointer && on_pointer)
			on_pointer(e.viewer, e.a, e.b, e.c);
		else if (e.kind == InputEvent::kGone && on_gone)
			on_gone(e.viewer);
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
	s.refused = refused_.load();
	s.timed_out = timed_out_.load();
	s.stalled = stalled_.load();
	s.accept_pauses = accept_pauses_.load();
	s.auth_failures = auth_failures_.load();
	s.blocked = blocked_.load();
	return s;
}

} // namespace v4l2vnc
