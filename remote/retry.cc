// SPDX-License-Identifier: Apache-2.0
// retry_policy: full-jitter backoff under a total deadline.
#include "remote/retry.hh"

#include <fmt/format.h>

#include <algorithm>

namespace tv::remote {

std::chrono::milliseconds retry_policy::delay_cap(int attempt) const {
    // The shift stops at 2^20: far past any max_delay, and no overflow.
    int64_t cap = base_delay.count() << std::clamp(attempt - 1, 0, 20);
    return std::chrono::milliseconds(std::max<int64_t>(0, std::min<int64_t>(cap, max_delay.count())));
}

std::optional<std::chrono::milliseconds> retry_policy::next_delay(int attempt, std::chrono::steady_clock::duration elapsed,
                                                                  std::mt19937_64& random) const {
    if (attempt >= max_attempts || elapsed >= deadline) {
        return std::nullopt;
    }
    std::uniform_int_distribution<int64_t> pick(0, delay_cap(attempt).count());
    auto delay = std::chrono::milliseconds(pick(random));
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - elapsed);
    return std::min(delay, left);
}

std::string retry_policy::why_given_up(int attempts) const {
    if (attempts < max_attempts) {
        auto shown = deadline.count() % 1000 == 0 ? fmt::format("{} s", deadline.count() / 1000)
                                                  : fmt::format("{} ms", deadline.count());
        return fmt::format(" (after {} attempt{}; the retry deadline of {} passed)", attempts,
                           attempts == 1 ? "" : "s", shown);
    }
    return attempts > 1 ? fmt::format(" (after {} attempts)", attempts) : std::string();
}

}  // namespace tv::remote
