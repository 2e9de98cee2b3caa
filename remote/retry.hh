// SPDX-License-Identifier: Apache-2.0
// retry_policy: the one retry policy for requests to object stores, and how a caller hears of
// retries. The S3 client is the only place that sends a request again; the layers above
// (transfers, repositories) never retry, so one failing request is sent at most max_attempts
// times, under one backoff, within one deadline.
#pragma once

#include "remote/remote_error.hh"

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>

namespace tv::remote {

struct retry_policy {
    /// Sends of one request, the first included.
    int max_attempts = 4;
    std::chrono::milliseconds base_delay{200};
    std::chrono::milliseconds max_delay{5'000};
    /// No attempt starts later than this after the first one did, and a wait is cut short to
    /// end by it; an attempt under way when it passes runs to its own timeout.
    std::chrono::milliseconds deadline{300'000};
    /// A store that says it is overloaded (503 SlowDown, 429) is given longer: more attempts,
    /// waits that grow from a second to tens of seconds, and never shorter than its Retry-After.
    int throttled_max_attempts = 10;
    std::chrono::milliseconds throttled_base_delay{1'000};
    std::chrono::milliseconds throttled_max_delay{20'000};

    /// The longest wait after failed attempt `attempt` (from 1):
    /// min(max_delay, base_delay * 2^(attempt - 1)), or the throttled pair's.
    std::chrono::milliseconds delay_cap(int attempt, bool throttled = false) const;

    /// After failed attempt `attempt` (from 1), `elapsed` after the first attempt began: the wait
    /// before the next attempt, or nothing when no attempt may follow (the attempts are used up
    /// or the deadline has passed). Full jitter: uniform in [0, delay_cap(attempt)], so clients
    /// that failed together do not come back together; never past the deadline.
    /// Throttled (the store asked for less): up to throttled_max_attempts, "equal jitter" in
    /// [cap / 2, cap] so that the load really drops, and at least `retry_after`.
    std::optional<std::chrono::milliseconds> next_delay(int attempt, std::chrono::steady_clock::duration elapsed,
                                                        std::mt19937_64& random, bool throttled = false,
                                                        std::chrono::milliseconds retry_after = {}) const;

    /// Why a retryable failure was not retried, for its message: " (after 4 attempts)", or
    /// " (after 2 attempts; the retry deadline of 300 s passed)"; "" for a single attempt
    /// that the attempts, not the deadline, ended.
    std::string why_given_up(int attempts, bool throttled = false) const;
};

/// Hears each retry of a call before its wait: the failed attempt's error, whose `attempts`
/// is that attempt's number (from 1). Called on the loop that runs the call.
using retry_observer = std::function<void(const remote_error&)>;

}  // namespace tv::remote
