// SPDX-License-Identifier: GPL-2.0-or-later
// Command line of v4l2vnc.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace v4l2vnc {

struct Options {
	std::string device;             // empty: the first capture node found
	uint32_t fourcc = 0;            // 0: best supported format of the node
	unsigned width = 0, height = 0; // 0: keep the node's
	unsigned buffers = 4;
	bool vnc = true;
	std::string listen = "127.0.0.1"; // or "unix:PATH"
	int port = 5900;
	std::string password_file;
	std::string view_password_file;       // --view-only-password-file
	bool insecure_vnc_auth = false;       // VNC auth beyond loopback, knowingly
	int web_port = 0;                     // 0: no noVNC web server
	std::vector<std::string> web_origins; // --web-origin: more page origins
	std::string tls_cert, tls_key;        // --tls-cert/--tls-key: HTTPS and wss
	bool tls_generate = false;            // --tls-generate: a self-signed one
	unsigned max_clients = 32, max_per_address = 8;
	std::string web_dir = "/usr/share/novnc";
	std::string desktop_name = "v4l2vnc";
	bool input = false;
	std::string xkb_layout = "us";
	std::string xkb_variant;
	std::string gst; // pipeline after "appsrc !", empty: none
	bool gst_copy = false;
	bool gst_hold_drop = false; // --gst-hold drop (default copy)
	// --pacing: frames at every vblank, or only when the screen changed
	// (kms2v4l nodes); unset: on change, but every vblank with --gst
	std::optional<bool> pacing_on_change;
	int frames = 0; // exit after this many frames (0: run until a signal)
	bool verbose = false;
	bool list = false; // --list: print the capture nodes and exit
};

struct ParseResult {
	std::optional<Options> options; // set when the program should run
	bool help = false;              // --help: print usage(), exit 0
	std::string error;              // set on a bad command line
};

// Parses argv[1..]; "--opt VALUE" and "--opt=VALUE" are both accepted.
ParseResult parse_options(std::span<const char *const> args);

std::string usage(const char *argv0);

// True for 127.0.0.0/8, ::1 and IPv4-mapped ::ffff:127.0.0.0/104.
bool is_loopback(const std::string &addr);

// A file only its owner may read (a password, a TLS key): its bytes.
// Refused (nullopt, @error set, naming @path and the cause) unless it is a
// regular file that neither group nor others may read or write, of at
// most @max_bytes.
std::optional<std::string> read_private_file(const std::string &path, size_t max_bytes,
					     std::string &error_out);

// A password file: its exact bytes, less one final line end ("\n" or
// "\r\n").  Refused (nullopt, @error set) unless it is a regular file
// that neither group nor others may read or write (chmod 600; systemd's
// LoadCredential= files are 0400), and holds one non-empty line without
// NUL bytes, at most 4096 bytes.
std::optional<std::string> read_password_file(const std::string &path, std::string &error_out);

// "XR24" -> fourcc; nullopt unless exactly 4 characters.
std::optional<uint32_t> parse_fourcc(const std::string &s);

} // namespace v4l2vnc
