// SPDX-License-Identifier: Apache-2.0
// Scheduled refreshes of asynchronous materialized views: REFRESH ASYNC [START (t)] EVERY
// (INTERVAL n unit) runs the view's refresh every interval, from START when given.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tv::sql {

/// "INTERVAL 1 DAY" (as the catalog keeps an EVERY clause) as a duration; nullopt when the text
/// is not a positive whole number of SECOND, MINUTE, HOUR, DAY, WEEK, MONTH (30 days), QUARTER
/// or YEAR (365 days).
std::optional<std::chrono::seconds> parse_refresh_interval(std::string_view text);

/// When a view refreshed every `interval` from `start` is next due after `now`: the first
/// start + k * interval later than `now` (start itself when still ahead).
std::chrono::system_clock::time_point next_refresh(std::chrono::system_clock::time_point start,
                                                   std::chrono::seconds interval,
                                                   std::chrono::system_clock::time_point now);

}  // namespace tv::sql
