// SPDX-License-Identifier: GPL-2.0-or-later
// TLS for the web path (--tls-cert/--tls-key, --tls-generate): one
// certificate and key, served by libmicrohttpd on the --web port (HTTPS)
// and by v4l2vnc itself for WebSockets on the VNC port (wss).
//
// v4l2vnc terminates wss itself, not libvncserver: libvncserver 0.9.14
// (rfbssl_gnutls.c) loads the files and generates 1024-bit DH parameters
// for every TLS connection, spins on GNUTLS_E_AGAIN over its non-blocking
// socket while a client is slow, never frees its context, and keeps no
// Origin header for us to check.  Here the handshake thread does the TLS
// handshake against its deadline, judges the decrypted upgrade request
// with the gate (rfb_gate.h), and libvncserver gets one end of a socket
// pair carrying the plain WebSocket; the thread then moves bytes between
// the TLS session and the pair until either side closes.
#pragma once

#include <gnutls/gnutls.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace v4l2vnc {

// A certificate chain and its key (PEM) and the credentials made of them.
class TlsIdentity {
public:
	~TlsIdentity();
	TlsIdentity(const TlsIdentity &) = delete;
	TlsIdentity &operator=(const TlsIdentity &) = delete;

	// --tls-cert @cert_file, --tls-key @key_file.  The key file must be
	// a regular file that neither group nor others may read or write (as
	// the password file); the certificate must parse and match the key.
	// Errors name the file and the cause.
	static std::unique_ptr<TlsIdentity> load(const std::string &cert_file,
						 const std::string &key_file, std::string &error);
	// A new self-signed certificate (ECDSA P-256, one year) for @names:
	// IP addresses (IPv4 or IPv6) or DNS names, its subjectAltName.
	static std::unique_ptr<TlsIdentity> generate(const std::vector<std::string> &names,
						     std::string &error);
	// From PEM text (@what names its origin in errors).
	static std::unique_ptr<TlsIdentity> from_pem(std::string cert_pem, std::string key_pem,
						     const std::string &what, std::string &error);

	const std::string &cert_pem() const { return cert_pem_; }
	const std::string &key_pem() const { return key_pem_; }
	// SHA-256 of the (first) certificate's DER, "AB:CD:...", as browsers
	// and `openssl x509 -fingerprint -sha256` show it.
	const std::string &fingerprint() const { return fingerprint_; }
	gnutls_certificate_credentials_t credentials() const { return creds_; }

private:
	TlsIdentity() = default;
	std::string cert_pem_, key_pem_, fingerprint_;
	gnutls_certificate_credentials_t creds_ = nullptr;
};

// A server-side TLS session over a connected socket (blocking I/O with
// deadlines).
class TlsSession {
public:
	~TlsSession();
	TlsSession(const TlsSession &) = delete;
	TlsSession &operator=(const TlsSession &) = delete;

	// The handshake on @fd (not owned), finished before @deadline.
	static std::unique_ptr<TlsSession> accept(const TlsIdentity &id, int fd,
						  std::chrono::steady_clock::time_point deadline,
						  std::string &error);
	// Decrypted bytes: > 0 read, 0 the peer closed, < 0 -errno
	// (-ETIMEDOUT at @deadline, -EIO for a TLS error, in @error).
	ssize_t recv(char *buf, size_t len, std::chrono::steady_clock::time_point deadline,
		     std::string &error);
	// Writes all of @len bytes; false on an error.
	bool send_all(const char *buf, size_t len);
	// Moves bytes both ways between this session and @plain (a socket)
	// until either side closes or fails; then shuts both down.
	void relay(int plain);

private:
	TlsSession() = default;
	// GnuTLS's transport on fd_: its waits for data end at deadline_
	// (GnuTLS's own timeouts restart with every byte: a client that
	// trickles its ClientHello held the handshake thread for ever).
	static ssize_t pull(gnutls_transport_ptr_t self, void *buf, size_t len);
	static ssize_t push(gnutls_transport_ptr_t self, const void *buf, size_t len);
	static int pull_timeout(gnutls_transport_ptr_t self, unsigned ms);
	gnutls_session_t session_ = nullptr;
	int fd_ = -1;
	std::chrono::steady_clock::time_point deadline_ =
		std::chrono::steady_clock::time_point::max();
};

} // namespace v4l2vnc
