// SPDX-License-Identifier: GPL-2.0-or-later
// Wrong VNC passwords in a loop get an address blocked, TigerVNC-style:
// 5 failures, 10 s, then twice as long after each further failure.
#include "blacklist.h"

#include <gtest/gtest.h>

using namespace v4l2vnc;
using namespace std::chrono_literals;

TEST(Blacklist, FiveFailuresBlockForTenSeconds)
{
	Blacklist b;
	auto t = Blacklist::Clock::time_point() + 1000s;
	for (int i = 0; i < 4; i++) {
		b.failed("10.0.0.1", t);
		EXPECT_FALSE(b.blocked("10.0.0.1", t)) << i;
	}
	b.failed("10.0.0.1", t);
	EXPECT_TRUE(b.blocked("10.0.0.1", t));
	EXPECT_TRUE(b.blocked("10.0.0.1", t + 9999ms));
	EXPECT_FALSE(b.blocked("10.0.0.1", t + 10s));
	EXPECT_FALSE(b.blocked("10.0.0.2", t)); // per address
	EXPECT_EQ(b.remaining("10.0.0.1", t + 4s), 6000ms);
}

TEST(Blacklist, EachFailureAfterABlockDoublesIt)
{
	Blacklist b;
	auto t = Blacklist::Clock::time_point() + 1000s;
	for (int i = 0; i < 5; i++)
		b.failed("a", t);
	t += 10s;
	b.failed("a", t); // the one attempt after the block
	EXPECT_TRUE(b.blocked("a", t + 19s));
	EXPECT_FALSE(b.blocked("a", t + 20s));
	t += 20s;
	b.failed("a", t);
	EXPECT_TRUE(b.blocked("a", t + 39s));
	// Failures while blocked do not extend the block.
	b.failed("a", t + 1s);
	EXPECT_FALSE(b.blocked("a", t + 40s));
}

TEST(Blacklist, SuccessForgets)
{
	Blacklist b;
	auto t = Blacklist::Clock::time_point() + 1000s;
	for (int i = 0; i < 4; i++)
		b.failed("a", t);
	b.succeeded("a");
	b.failed("a", t);
	EXPECT_FALSE(b.blocked("a", t));
	EXPECT_EQ(b.size(), 1u);
}

TEST(Blacklist, StaysBounded)
{
	Blacklist b(5, 10s, 100);
	auto t = Blacklist::Clock::time_point() + 1000s;
	for (int i = 0; i < 1000; i++)
		b.failed("10.0." + std::to_string(i), t);
	EXPECT_LE(b.size(), 100u);
}
