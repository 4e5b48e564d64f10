// SPDX-License-Identifier: GPL-2.0-or-later
#include "blacklist.h"

namespace v4l2vnc {

bool Blacklist::blocked(const std::string &addr, Clock::time_point now) const
{
	auto it = entries_.find(addr);
	return it != entries_.end() && it->second.marks >= threshold_ && now < it->second.until;
}

std::chrono::milliseconds Blacklist::remaining(const std::string &addr, Clock::time_point now) const
{
	if (!blocked(addr, now))
		return std::chrono::milliseconds(0);
	return std::chrono::duration_cast<std::chrono::milliseconds>(entries_.at(addr).until - now);
}

void Blacklist::failed(const std::string &addr, Clock::time_point now)
{
	auto it = entries_.find(addr);
	if (it == entries_.end()) {
		// Bounded: forget addresses that are not blocked, then any.
		if (entries_.size() >= max_entries_) {
			for (auto e = entries_.begin(); e != entries_.end();)
				e = now >= e->second.until ? entries_.erase(e) : std::next(e);
			if (entries_.size() >= max_entries_)
				entries_.erase(entries_.begin());
		}
		it = entries_.emplace(addr, Entry{}).first;
		it->second.next_timeout = timeout_;
	}
	Entry &e = it->second;
	if (e.marks >= threshold_ && now < e.until)
		return; // already blocked: the block stands as it is
	e.marks++;
	if (e.marks >= threshold_) {
		e.until = now + e.next_timeout;
		e.next_timeout *= 2;
	}
}

} // namespace v4l2vnc
