// SPDX-License-Identifier: Apache-2.0
// retry_policy: full-jitter waits stay in [0, min(max_delay, base * 2^(attempt-1))] and use
// the whole range, no attempt follows the last one or the deadline, a wait never runs past
// the deadline, and the message says which of the two ended the retries.
#include "remote/retry.hh"

#include <gtest/gtest.h>

#include <chrono>

using namespace std::chrono_literals;
using tv::remote::retry_policy;

TEST(retry_policy, the_cap_doubles_per_attempt_up_to_the_max_delay) {
    retry_policy policy;  // 200 ms base, 5 s max
    EXPECT_EQ(policy.delay_cap(1), 200ms);
    EXPECT_EQ(policy.delay_cap(2), 400ms);
    EXPECT_EQ(policy.delay_cap(3), 800ms);
    EXPECT_EQ(policy.delay_cap(5), 3200ms);
    EXPECT_EQ(policy.delay_cap(6), 5000ms);
    EXPECT_EQ(policy.delay_cap(1000), 5000ms) << "no overflow however many attempts";
}

TEST(retry_policy, waits_are_full_jitter_within_the_cap) {
    retry_policy policy;
    policy.max_attempts = 10;
    std::mt19937_64 random(7);
    for (int attempt = 1; attempt < 4; ++attempt) {
        auto cap = policy.delay_cap(attempt);
        bool low = false;
        bool high = false;
        for (int i = 0; i < 2000; ++i) {
            auto delay = policy.next_delay(attempt, 0s, random);
            ASSERT_TRUE(delay.has_value());
            ASSERT_GE(delay->count(), 0);
            ASSERT_LE(*delay, cap);
            low = low || *delay < cap / 4;
            high = high || *delay > cap * 3 / 4;
        }
        EXPECT_TRUE(low && high) << "attempt " << attempt << ": waits spread over [0, " << cap.count() << " ms]";
    }
}

TEST(retry_policy, no_attempt_follows_the_last_one) {
    retry_policy policy;  // 4 attempts
    std::mt19937_64 random(1);
    EXPECT_TRUE(policy.next_delay(3, 0s, random).has_value());
    EXPECT_FALSE(policy.next_delay(4, 0s, random).has_value());
    policy.max_attempts = 1;
    EXPECT_FALSE(policy.next_delay(1, 0s, random).has_value()) << "one attempt: retries off";
}

TEST(retry_policy, the_deadline_ends_retries_and_cuts_the_wait) {
    retry_policy policy;
    policy.max_attempts = 100;
    policy.base_delay = 10s;
    policy.max_delay = 10s;
    policy.deadline = 300s;
    std::mt19937_64 random(3);
    EXPECT_FALSE(policy.next_delay(2, 300s, random).has_value());
    EXPECT_FALSE(policy.next_delay(2, 301s, random).has_value());
    for (int i = 0; i < 200; ++i) {
        auto delay = policy.next_delay(2, 299s, random);
        ASSERT_TRUE(delay.has_value());
        ASSERT_LE(*delay, 1s) << "the wait ends by the deadline";
    }
}

TEST(retry_policy, the_message_says_what_ended_the_retries) {
    retry_policy policy;
    EXPECT_EQ(policy.why_given_up(4), " (after 4 attempts)");
    EXPECT_EQ(policy.why_given_up(2), " (after 2 attempts; the retry deadline of 300 s passed)");
    policy.deadline = 250ms;
    EXPECT_EQ(policy.why_given_up(1), " (after 1 attempt; the retry deadline of 250 ms passed)");
    policy.max_attempts = 1;
    EXPECT_EQ(policy.why_given_up(1), "") << "a single attempt by policy says nothing";
}

TEST(retry_policy, a_throttled_request_waits_longer_and_at_least_what_the_store_asked) {
    retry_policy policy;  // throttled: 10 attempts, 1 s growing to 20 s
    EXPECT_EQ(policy.delay_cap(1, true), 1000ms);
    EXPECT_EQ(policy.delay_cap(3, true), 4000ms);
    EXPECT_EQ(policy.delay_cap(6, true), 20000ms);
    std::mt19937_64 random(11);
    for (int i = 0; i < 500; ++i) {
        auto delay = policy.next_delay(2, 0s, random, true);
        ASSERT_TRUE(delay.has_value());
        ASSERT_GE(*delay, 1000ms) << "at least half the cap: the load must drop";
        ASSERT_LE(*delay, 2000ms);
    }
    EXPECT_TRUE(policy.next_delay(9, 0s, random, true).has_value()) << "past the 4 attempts of other failures";
    EXPECT_FALSE(policy.next_delay(10, 0s, random, true).has_value());
    EXPECT_EQ(policy.next_delay(1, 0s, random, true, 7000ms), 7000ms) << "Retry-After: 7";
    EXPECT_EQ(policy.next_delay(1, 298s, random, true, 7000ms), 2000ms) << "but never past the deadline";
    EXPECT_EQ(policy.why_given_up(10, true), " (after 10 attempts)");
}
