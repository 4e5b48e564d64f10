// SPDX-License-Identifier: GPL-2.0-or-later
#include "tls.h"

#include "options.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace v4l2vnc {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxPem = 1 << 20;

std::string gnutls_why(int rc)
{
	return gnutls_strerror(rc);
}

// Milliseconds left until @deadline, at least 1 (0 means "no timeout" to
// GnuTLS).
unsigned ms_left(Clock::time_point deadline)
{
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
			  .count();
	return unsigned(std::clamp<long long>(ms, 1, 1 << 30));
}

// A certificate file: public, any mode; at most kMaxPem bytes.
bool read_public_file(const std::string &path, std::string &out, std::string &error)
{
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		error = path + ": " + std::strerror(errno);
		return false;
	}
	out.clear();
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && out.size() <= kMaxPem)
		out.append(buf, size_t(n));
	const int err = errno;
	close(fd);
	if (n < 0) {
		error = path + ": read: " + std::strerror(err);
		return false;
	}
	if (out.size() > kMaxPem) {
		error = path + ": longer than " + std::to_string(kMaxPem) + " bytes";
		return false;
	}
	return true;
}

gnutls_datum_t datum(const std::string &s)
{
	return {reinterpret_cast<unsigned char *>(const_cast<char *>(s.data())),
		unsigned(s.size())};
}

std::string take(gnutls_datum_t &d)
{
	std::string s(reinterpret_cast<const char *>(d.data), d.size);
	gnutls_free(d.data);
	d.data = nullptr;
	return s;
}

struct Crt {
	gnutls_x509_crt_t c = nullptr;
	~Crt()
	{
		if (c)
			gnutls_x509_crt_deinit(c);
	}
};
struct Key {
	gnutls_x509_privkey_t k = nullptr;
	~Key()
	{
		if (k)
			gnutls_x509_privkey_deinit(k);
	}
};

// All of @len bytes to the socket @fd.
bool write_all(int fd, const char *b, size_t len)
{
	while (len) {
		ssize_t w = send(fd, b, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		b += w;
		len -= size_t(w);
	}
	return true;
}

} // namespace

TlsIdentity::~TlsIdentity()
{
	if (creds_)
		gnutls_certificate_free_credentials(creds_);
}

std::unique_ptr<TlsIdentity> TlsIdentity::load(const std::string &cert_file,
					       const std::string &key_file, std::string &error)
{
	std::string cert;
	if (!read_public_file(cert_file, cert, error)) {
		error = "--tls-cert " + error;
		return nullptr;
	}
	auto key = read_private_file(key_file, kMaxPem, error);
	if (!key) {
		error = "--tls-key " + error;
		return nullptr;
	}
	return from_pem(std::move(cert), std::move(*key),
			"--tls-cert " + cert_file + ", --tls-key " + key_file, error);
}

std::unique_ptr<TlsIdentity> TlsIdentity::from_pem(std::string cert_pem, std::string key_pem,
						   const std::string &what, std::string &error)
{
	auto id = std::unique_ptr<TlsIdentity>(new TlsIdentity);
	id->cert_pem_ = std::move(cert_pem);
	id->key_pem_ = std::move(key_pem);
	const gnutls_datum_t c = datum(id->cert_pem_), k = datum(id->key_pem_);
	// The first certificate: what a browser shows and pins.
	Crt crt;
	int rc = gnutls_x509_crt_init(&crt.c);
	if (rc >= 0)
		rc = gnutls_x509_crt_import(crt.c, &c, GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		error = what + ": no PEM certificate in the certificate file: " + gnutls_why(rc);
		return nullptr;
	}
	Key key;
	rc = gnutls_x509_privkey_init(&key.k);
	if (rc >= 0)
		rc = gnutls_x509_privkey_import2(key.k, &k, GNUTLS_X509_FMT_PEM, nullptr, 0);
	if (rc < 0) {
		error = what +
			": no (unencrypted) PEM private key in the key file: " + gnutls_why(rc);
		return nullptr;
	}
	rc = gnutls_certificate_allocate_credentials(&id->creds_);
	if (rc < 0) {
		error = what + ": gnutls_certificate_allocate_credentials: " + gnutls_why(rc);
		return nullptr;
	}
	rc = gnutls_certificate_set_x509_key_mem2(id->creds_, &c, &k, GNUTLS_X509_FMT_PEM, nullptr,
						  0);
	if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		error = what + ": the key does not belong to the certificate";
		return nullptr;
	}
	if (rc < 0) {
		error = what + ": " + gnutls_why(rc);
		return nullptr;
	}
	unsigned char digest[32];
	size_t size = sizeof(digest);
	rc = gnutls_x509_crt_get_fingerprint(crt.c, GNUTLS_DIG_SHA256, digest, &size);
	if (rc < 0) {
		error = what + ": the certificate's SHA-256 fingerprint: " + gnutls_why(rc);
		return nullptr;
	}
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < size; i++) {
		if (i)
			id->fingerprint_ += ':';
		id->fingerprint_ += hex[digest[i] >> 4];
		id->fingerprint_ += hex[digest[i] & 15];
	}
	return id;
}

std::unique_ptr<TlsIdentity> TlsIdentity::generate(const std::vector<std::string> &names,
						   std::string &error)
{
	Key key;
	Crt crt;
	auto fail = [&](const char *call, int rc) {
		error = std::string("--tls-generate: ") + call + ": " + gnutls_why(rc);
		return nullptr;
	};
	int rc = gnutls_x509_privkey_init(&key.k);
	if (rc < 0)
		return fail("gnutls_x509_privkey_init", rc);
	rc = gnutls_x509_privkey_generate(key.k, GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (rc < 0)
		return fail("gnutls_x509_privkey_generate", rc);
	rc = gnutls_x509_crt_init(&crt.c);
	if (rc < 0)
		return fail("gnutls_x509_crt_init", rc);
	unsigned char serial[16];
	if (getrandom(serial, sizeof(serial), 0) != ssize_t(sizeof(serial))) {
		error = std::string("--tls-generate: getrandom: ") + std::strerror(errno);
		return nullptr;
	}
	serial[0] = (serial[0] & 0x7f) | 0x40; // positive, 16 bytes
	const time_t now = time(nullptr);
	static const char cn[] = "v4l2vnc";
	if ((rc = gnutls_x509_crt_set_version(crt.c, 3)) < 0)
		return fail("gnutls_x509_crt_set_version", rc);
	if ((rc = gnutls_x509_crt_set_serial(crt.c, serial, sizeof(serial))) < 0)
		return fail("gnutls_x509_crt_set_serial", rc);
	// An hour back: clocks of the browser's machine may be a little behind.
	if ((rc = gnutls_x509_crt_set_activation_time(crt.c, now - 3600)) < 0)
		return fail("gnutls_x509_crt_set_activation_time", rc);
	if ((rc = gnutls_x509_crt_set_expiration_time(crt.c, now + time_t(365) * 24 * 3600)) < 0)
		return fail("gnutls_x509_crt_set_expiration_time", rc);
	if ((rc = gnutls_x509_crt_set_dn_by_oid(crt.c, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						sizeof(cn) - 1)) < 0)
		return fail("gnutls_x509_crt_set_dn_by_oid", rc);
	if ((rc = gnutls_x509_crt_set_key(crt.c, key.k)) < 0)
		return fail("gnutls_x509_crt_set_key", rc);
	// An end-entity certificate (browsers refuse a CA's as a server's).
	if ((rc = gnutls_x509_crt_set_basic_constraints(crt.c, 0, -1)) < 0)
		return fail("gnutls_x509_crt_set_basic_constraints", rc);
	if ((rc = gnutls_x509_crt_set_key_usage(crt.c, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0)
		return fail("gnutls_x509_crt_set_key_usage", rc);
	if ((rc = gnutls_x509_crt_set_key_purpose_oid(crt.c, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		return fail("gnutls_x509_crt_set_key_purpose_oid", rc);
	for (const std::string &n : names) {
		unsigned char ip[16];
		if (inet_pton(AF_INET, n.c_str(), ip) == 1)
			rc = gnutls_x509_crt_set_subject_alt_name(crt.c, GNUTLS_SAN_IPADDRESS, ip,
								  4, GNUTLS_FSAN_APPEND);
		else if (inet_pton(AF_INET6, n.c_str(), ip) == 1)
			rc = gnutls_x509_crt_set_subject_alt_name(crt.c, GNUTLS_SAN_IPADDRESS, ip,
								  16, GNUTLS_FSAN_APPEND);
		else
			rc = gnutls_x509_crt_set_subject_alt_name(crt.c, GNUTLS_SAN_DNSNAME,
								  n.data(), unsigned(n.size()),
								  GNUTLS_FSAN_APPEND);
		if (rc < 0)
			return fail("gnutls_x509_crt_set_subject_alt_name", rc);
	}
	if ((rc = gnutls_x509_crt_sign2(crt.c, crt.c, key.k, GNUTLS_DIG_SHA256, 0)) < 0)
		return fail("gnutls_x509_crt_sign2", rc);
	gnutls_datum_t c{}, k{};
	if ((rc = gnutls_x509_crt_export2(crt.c, GNUTLS_X509_FMT_PEM, &c)) < 0)
		return fail("gnutls_x509_crt_export2", rc);
	std::string cert_pem = take(c);
	if ((rc = gnutls_x509_privkey_export2(key.k, GNUTLS_X509_FMT_PEM, &k)) < 0)
		return fail("gnutls_x509_privkey_export2", rc);
	std::string key_pem = take(k);
	return from_pem(std::move(cert_pem), std::move(key_pem), "--tls-generate", error);
}

TlsSession::~TlsSession()
{
	if (session_)
		gnutls_deinit(session_);
}

std::unique_ptr<TlsSession> TlsSession::accept(const TlsIdentity &id, int fd,
					       Clock::time_point deadline, std::string &error)
{
	auto s = std::unique_ptr<TlsSession>(new TlsSession);
	s->fd_ = fd;
	// Blocking I/O: GnuTLS waits (poll) up to the timeouts set below.
	const int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		error = std::string("fcntl: ") + std::strerror(errno);
		return nullptr;
	}
	int rc = gnutls_init(&s->session_, GNUTLS_SERVER | GNUTLS_NO_SIGNAL);
	if (rc < 0) {
		s->session_ = nullptr;
		error = "gnutls_init: " + gnutls_why(rc);
		return nullptr;
	}
	if ((rc = gnutls_set_default_priority(s->session_)) < 0 ||
	    (rc = gnutls_credentials_set(s->session_, GNUTLS_CRD_CERTIFICATE, id.credentials())) <
		    0) {
		error = "TLS session set-up: " + gnutls_why(rc);
		return nullptr;
	}
	gnutls_certificate_server_set_request(s->session_, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_ptr(s->session_, s.get());
	gnutls_transport_set_pull_function(s->session_, pull);
	gnutls_transport_set_push_function(s->session_, push);
	gnutls_transport_set_pull_timeout_function(s->session_, pull_timeout);
	s->deadline_ = deadline;
	do {
		gnutls_handshake_set_timeout(s->session_, ms_left(deadline));
		rc = gnutls_handshake(s->session_);
	} while (rc < 0 && !gnutls_error_is_fatal(rc) && Clock::now() < deadline);
	if (rc < 0) {
		error = "TLS handshake: " + gnutls_why(rc);
		return nullptr;
	}
	return s;
}

ssize_t TlsSession::pull(gnutls_transport_ptr_t self, void *buf, size_t len)
{
	return ::recv(static_cast<TlsSession *>(self)->fd_, buf, len, 0);
}

ssize_t TlsSession::push(gnutls_transport_ptr_t self, const void *buf, size_t len)
{
	return ::send(static_cast<TlsSession *>(self)->fd_, buf, len, MSG_NOSIGNAL);
}

int TlsSession::pull_timeout(gnutls_transport_ptr_t self, unsigned ms)
{
	auto *s = static_cast<TlsSession *>(self);
	int wait = ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : int(std::min(ms, 1u << 30));
	if (s->deadline_ != Clock::time_point::max()) {
		if (Clock::now() >= s->deadline_)
			return 0; // a timeout for GnuTLS
		const int left = int(ms_left(s->deadline_));
		wait = wait < 0 ? left : std::min(wait, left);
	}
	pollfd p = {s->fd_, POLLIN, 0};
	return poll(&p, 1, wait);
}

ssize_t TlsSession::recv(char *buf, size_t len, Clock::time_point deadline, std::string &error)
{
	deadline_ = deadline;
	for (;;) {
		gnutls_record_set_timeout(session_, ms_left(deadline));
		ssize_t n = gnutls_record_recv(session_, buf, len);
		if (n >= 0)
			return n;
		if (n == GNUTLS_E_TIMEDOUT)
			return -ETIMEDOUT;
		if (n == GNUTLS_E_PREMATURE_TERMINATION)
			return 0; // the peer closed without close_notify
		if (gnutls_error_is_fatal(int(n)) || Clock::now() >= deadline) {
			error = gnutls_why(int(n));
			return -EIO;
		}
	}
}

bool TlsSession::send_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = gnutls_record_send(session_, buf, len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= size_t(n);
	}
	return true;
}

void TlsSession::relay(int plain)
{
	gnutls_record_set_timeout(session_, 0); // blocking: poll said there is data
	deadline_ = Clock::time_point::max();
	std::vector<char> buf(16384);
	bool clean = false; // the plain side (libvncserver) closed
	for (;;) {
		pollfd p[2] = {{fd_, POLLIN, 0}, {plain, POLLIN, 0}};
		if (gnutls_record_check_pending(session_) > 0)
			p[0].revents = POLLIN; // decrypted bytes already buffered
		else if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = gnutls_record_recv(session_, buf.data(), buf.size());
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n <= 0)
				break;
			if (!write_all(plain, buf.data(), size_t(n)))
				break;
		}
		if (p[1].revents) {
			ssize_t n = read(plain, buf.data(), buf.size());
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				clean = true;
				break;
			}
			if (!send_all(buf.data(), size_t(n)))
				break;
		}
	}
	shutdown(plain, SHUT_RDWR);
	if (clean) {
		// close_notify, without waiting long for a peer that reads nothing.
		timeval tv = {1, 0};
		setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		gnutls_bye(session_, GNUTLS_SHUT_WR);
	}
	shutdown(fd_, SHUT_RDWR);
}

} // namespace v4l2vnc
