// SPDX-License-Identifier: GPL-2.0-or-later
// Failed VNC authentications per client address, after TigerVNC's
// rfb::Blacklist: once an address has failed @threshold times in a row it
// is blocked for @timeout; when the block ends it gets one attempt, and
// each failure after that blocks it again for twice as long as before.  A
// success forgets the address.  Not thread-safe (VncServer locks it).
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace v4l2vnc {

class Blacklist {
public:
	using Clock = std::chrono::steady_clock;

	explicit Blacklist(unsigned threshold = 5,
			   std::chrono::milliseconds timeout = std::chrono::seconds(10),
			   size_t max_entries = 4096)
		: threshold_(threshold), timeout_(timeout), max_entries_(max_entries)
	{
	}

	// True while @addr may not try.
	bool blocked(const std::string &addr, Clock::time_point now) const;
	// How long @addr stays blocked (0 when it is not).
	std::chrono::milliseconds remaining(const std::string &addr, Clock::time_point now) const;
	void failed(const std::string &addr, Clock::time_point now);
	void succeeded(const std::string &addr) { entries_.erase(addr); }
	size_t size() const { return entries_.size(); }

private:
	struct Entry {
		unsigned marks = 0;
		std::chrono::milliseconds next_timeout{0};
		Clock::time_point until{};
	};
	unsigned threshold_;
	std::chrono::milliseconds timeout_;
	size_t max_entries_;
	std::map<std::string, Entry> entries_;
};

} // namespace v4l2vnc
