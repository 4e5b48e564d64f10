// SPDX-License-Identifier: GPL-2.0-or-later
// A TCP connection to 127.0.0.1:PORT for the tests of v4l2vnc's servers.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

// A connected, blocking socket; -1 if nothing listens.
inline int loopback_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_port = htons(uint16_t(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}
