// SPDX-License-Identifier: Apache-2.0
// The refresh schedule loop: once a second, every asynchronous view with an EVERY clause whose
// time has come is refreshed (one at a time, on the catalog's loop, as root).
#include "sql/exec/mv_scheduler.hh"

#include "io/ascii.hh"
#include "io/log.hh"
#include "io/ops.hh"
#include "sql/exec/engine.hh"
#include "sql/exec/exec_data.hh"
#include "storage/catalog.hh"

#include <charconv>
#include <ctime>
#include <map>

namespace tv::sql {

std::optional<std::chrono::seconds> parse_refresh_interval(std::string_view text) {
    constexpr std::string_view prefix = "INTERVAL ";
    if (!text.starts_with(prefix)) {
        return std::nullopt;
    }
    text.remove_prefix(prefix.size());
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || n <= 0 || end == text.data() + text.size() || *end != ' ') {
        return std::nullopt;
    }
    std::string unit = ascii_upper(std::string_view(end + 1, text.data() + text.size() - end - 1));
    static const std::map<std::string, int64_t> seconds_per = {
        {"SECOND", 1},           {"MINUTE", 60},          {"HOUR", 3600},           {"DAY", 86400},
        {"WEEK", 7 * 86400},     {"MONTH", 30 * 86400},   {"QUARTER", 91 * 86400}, {"YEAR", 365 * 86400},
    };
    auto it = seconds_per.find(unit);
    if (it == seconds_per.end()) {
        return std::nullopt;
    }
    return std::chrono::seconds(n * it->second);
}

std::chrono::system_clock::time_point next_refresh(std::chrono::system_clock::time_point start,
                                                   std::chrono::seconds interval,
                                                   std::chrono::system_clock::time_point now) {
    if (start > now) {
        return start;
    }
    auto periods = (now - start) / interval + 1;
    return start + periods * interval;
}

namespace {

/// START ('2024-01-01 00:00:00') in the server's local time, as StarRocks reads it.
std::optional<std::chrono::system_clock::time_point> parse_start(const std::string& text) {
    std::tm tm{};
    if (text.empty() || ::strptime(text.c_str(), "%Y-%m-%d %H:%M:%S", &tm) == nullptr) {
        return std::nullopt;
    }
    tm.tm_isdst = -1;
    return std::chrono::system_clock::from_time_t(std::mktime(&tm));
}

}  // namespace

io::task<void> engine::run_refresh_schedule(std::stop_token stop) {
    // Next due time per view id; a view seen for the first time is due one interval from now
    // (or at its START), so a restart does not refresh everything at once.
    std::map<storage::object_id, std::chrono::system_clock::time_point> due;
    session root;
    root.user = "root";
    root.host = "%";
    const std::string no_text;
    while (!stop.stop_requested()) {
        auto slept = co_await io::sleep(std::chrono::seconds(1), stop);
        if (!slept && io::is_cancelled(slept.error())) {
            break;
        }
        auto now = std::chrono::system_clock::now();
        std::vector<std::pair<std::string, std::string>> refresh;
        std::map<storage::object_id, std::chrono::system_clock::time_point> seen;
        for (const auto& [db_name, db] : catalog().databases()) {
            for (const auto& [name, mv] : db.mvs) {
                if (mv.refresh.mode.find("ASYNC") == std::string::npos || mv.columns.empty() || !mv.active) {
                    continue;
                }
                auto interval = parse_refresh_interval(mv.refresh.interval);
                if (!interval) {
                    continue;
                }
                auto it = due.find(mv.id);
                auto when = it != due.end() ? it->second
                                            : next_refresh(parse_start(mv.refresh.start).value_or(now), *interval, now);
                if (when <= now) {
                    refresh.emplace_back(db_name, name);
                    when = next_refresh(when, *interval, now);
                }
                seen[mv.id] = when;
            }
        }
        due = std::move(seen);
        for (auto& [db_name, name] : refresh) {
            exec_context ctx{catalog(), root, options(), no_text};
            auto refreshed = co_await refresh_materialized_view(ctx, db_name, name);
            if (!refreshed) {
                TV_LOG_WARN("materialized view {}.{}: scheduled refresh failed: {}", db_name, name,
                            refreshed.error().message);
            } else {
                TV_LOG_INFO("materialized view {}.{}: refreshed on schedule", db_name, name);
            }
        }
    }
}

}  // namespace tv::sql
