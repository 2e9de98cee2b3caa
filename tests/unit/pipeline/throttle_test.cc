// SPDX-License-Identifier: Apache-2.0
// The token bucket under a simulated clock (deterministic, no sleeps): long-run rate, burst
// depth after idling, live rate changes, unlimited; the awaitable throttle on a real loop; and
// how a transfer's limits (the engine's and a job's) combine.
#include "pipeline/throttle.hh"
#include "pipeline/transfer_limits.hh"

#include "support/co_test.hh"

#include <gtest/gtest.h>

#include <chrono>

namespace tv::pipeline {
namespace {

using namespace std::chrono_literals;
using clock_type = token_bucket::clock;

/// Sends `total` bytes through `bucket` in `slice` pieces the way throttle::take does, advancing
/// the simulated clock by each wait; returns the simulated time it took.
std::chrono::duration<double> simulate(token_bucket& bucket, clock_type::time_point& now, uint64_t total,
                                       uint64_t slice) {
    auto start = now;
    while (total > 0) {
        uint64_t n = std::min(total, slice);
        now += bucket.reserve(n, now);
        total -= n;
    }
    return now - start;
}

TEST(token_bucket, long_run_rate_is_exact_for_any_slice_size) {
    for (uint64_t slice : {4096ull, 65536ull, 262144ull, 8ull << 20}) {
        token_bucket bucket(10'000'000);
        clock_type::time_point now{};
        auto took = simulate(bucket, now, 100'000'000, slice);
        // 100 MB at 10 MB/s is 10 s: the first slice is free only up to the (empty) bucket.
        EXPECT_NEAR(took.count(), 10.0, 0.01) << "slice " << slice;
    }
}

TEST(token_bucket, every_one_second_window_is_within_two_percent) {
    token_bucket bucket(50 * 1024 * 1024);
    clock_type::time_point now{};
    // Record when each slice may go out and count bytes per simulated second.
    std::vector<uint64_t> per_second(20, 0);
    uint64_t slice = bucket.slice_bytes();
    auto start = now;
    for (uint64_t sent = 0; sent < 20ull * 50 * 1024 * 1024; sent += slice) {
        now += bucket.reserve(slice, now);
        auto second = static_cast<size_t>(std::chrono::duration<double>(now - start).count());
        if (second < per_second.size()) {
            per_second[second] += slice;
        }
    }
    for (size_t s = 0; s + 1 < per_second.size(); ++s) {
        double error = (static_cast<double>(per_second[s]) - 50.0 * 1024 * 1024) / (50.0 * 1024 * 1024);
        EXPECT_LT(std::abs(error), 0.02) << "second " << s << ": " << per_second[s];
    }
}

TEST(token_bucket, an_idle_spell_allows_only_the_burst_depth) {
    token_bucket bucket(1'000'000, 100ms);
    clock_type::time_point now{};
    EXPECT_GT(bucket.reserve(1, now).count(), 0);  // starts empty
    now += 1h;  // idle for an hour: saves up 100 ms worth, not an hour's
    EXPECT_EQ(bucket.reserve(99'999, now).count(), 0);
    auto wait = bucket.reserve(100'000, now);
    EXPECT_NEAR(std::chrono::duration<double>(wait).count(), 0.1, 0.001);
}

TEST(token_bucket, a_lower_rate_is_felt_at_once_and_a_higher_one_too) {
    token_bucket bucket(10'000'000);
    clock_type::time_point now{};
    simulate(bucket, now, 10'000'000, 65536);
    bucket.set_rate(1'000'000, now);
    EXPECT_NEAR(simulate(bucket, now, 1'000'000, 4096).count(), 1.0, 0.02);
    bucket.set_rate(100'000'000, now);
    EXPECT_NEAR(simulate(bucket, now, 100'000'000, 262144).count(), 1.0, 0.02);
}

TEST(token_bucket, unlimited_never_waits_and_limits_can_come_and_go) {
    token_bucket bucket(0);
    clock_type::time_point now{};
    EXPECT_EQ(bucket.reserve(1ull << 40, now).count(), 0);
    bucket.set_rate(1'000'000, now);
    EXPECT_NEAR(simulate(bucket, now, 2'000'000, 4096).count(), 2.0, 0.01);
    bucket.set_rate(0, now);
    EXPECT_EQ(bucket.reserve(1ull << 40, now).count(), 0);
}

TEST(token_bucket, slices_are_small_parts_of_the_depth) {
    EXPECT_EQ(token_bucket(0).slice_bytes(), 256u * 1024);
    EXPECT_EQ(token_bucket(10'000).slice_bytes(), 4096u);                    // tiny rates: 4 KiB
    EXPECT_EQ(token_bucket(10'000'000).slice_bytes(), 100'000u);              // a tenth of 100 ms
    EXPECT_EQ(token_bucket(1'000'000'000).slice_bytes(), 256u * 1024);       // capped
}

CO_TEST(throttle, take_paces_real_time_and_stops_on_request) {
    throttle t(4 * 1024 * 1024);
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(co_await t.take(1024 * 1024));
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GT(took, 0.2);  // 1 MiB at 4 MiB/s from an empty bucket: 250 ms, never less

    std::stop_source stop;
    stop.request_stop();
    EXPECT_FALSE(co_await t.take(64 * 1024 * 1024, stop.get_token()));

    t.set_rate(0);
    EXPECT_TRUE(t.unlimited());
    EXPECT_TRUE(co_await t.take(1ull << 34));  // 16 GiB: would take an hour if it were paced
}

TEST(transfer_limits, the_lower_rate_wins_and_zero_is_unlimited) {
    throttle engine;
    transfer_limits limits{&engine, nullptr};
    EXPECT_FALSE(limits.active()) << "nothing to take from";
    EXPECT_FALSE(limits.body_pacer(1 << 20, {}));
    engine.set_rate(1000);
    EXPECT_EQ(limits.lowest_rate(), 1000u);
    throttle job;
    limits.job = &job;
    EXPECT_EQ(limits.lowest_rate(), 1000u) << "an unlimited job leaves the engine's";
    job.set_rate(500);
    EXPECT_EQ(limits.lowest_rate(), 500u);
    engine.set_rate(0);
    EXPECT_EQ(limits.lowest_rate(), 500u);
    job.set_rate(0);
    EXPECT_EQ(limits.lowest_rate(), 0u);
    EXPECT_TRUE(limits.active()) << "a job's throttle counts every byte even while unlimited";
    EXPECT_TRUE(limits.body_pacer(1 << 20, {}));
}

}  // namespace
}  // namespace tv::pipeline
