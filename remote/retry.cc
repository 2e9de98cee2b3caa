// SPDX-License-Identifier: Apache-2.0
// retry_policy: full-jitter backoff under a total deadline.
#include "remote/retry.hh"

#include <fmt/format.h>

#include <algorithm>

namespace tv::remote {

std::chrono::milliseconds retry_policy::delay_cap(int attempt, bool throttled) const {
    int64_t base = (throttled ? throttled_base_delay : base_delay).count();
    int64_t most = (throttled ? throttled_max_delay : max_delay).count();
    // The shift stops at 2^20: far past any max_delay, and no overflow.
    int64_t cap = base << std::clamp(attempt - 1, 0, 20);
    return std::chrono::milliseconds(std::max<int64_t>(0, std::min<int64_t>(cap, most)));
}

std::optional<std::chrono::milliseconds> retry_policy::next_delay(int attempt, std::chrono::steady_clock::duration elapsed,
                                                                  std::mt19937_64& random, bool throttled,
                                                                  std::chrono::milliseconds retry_after) const {
    if (attempt >= (throttled ? throttled_max_attempts : max_attempts) || elapsed >= deadline) {
        return std::nullopt;
    }
    int64_t cap = delay_cap(attempt, throttled).count();
    std::uniform_int_distribution<int64_t> pick(throttled ? cap / 2 : 0, cap);
    auto delay = std::max(std::chrono::milliseconds(pick(random)), retry_after);
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - elapsed);
    return std::min(delay, left);
}

std::string retry_policy::why_given_up(int attempts, bool throttled) const {
    if (attempts < (throttled ? throttled_max_attempts : max_attempts)) {
        auto shown = deadline.count() % 1000 == 0 ? fmt::format("{} s", deadline.count() / 1000)
                                                  : fmt::format("{} ms", deadline.count());
        return fmt::format(" (after {} attempt{}; the retry deadline of {} passed)", attempts,
                           attempts == 1 ? "" : "s", shown);
    }
    return attempts > 1 ? fmt::format(" (after {} attempts)", attempts) : std::string();
}

}  // namespace tv::remote
