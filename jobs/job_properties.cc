// SPDX-License-Identifier: Apache-2.0
// PROPERTIES values (see job_properties.hh).
#include "jobs/job_properties.hh"

#include "remote/snapshot_layout.hh"
#include "storage/catalog_types.hh"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iterator>

namespace tv::jobs {

std::optional<int64_t> parse_int(std::string_view text) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::optional<bool> parse_bool(std::string_view text) {
    if (storage::iequals(text, "true")) {
        return true;
    }
    if (storage::iequals(text, "false")) {
        return false;
    }
    return std::nullopt;
}

job_result<int64_t> parse_timeout(std::string_view value) {
    auto seconds = parse_int(value);
    if (!seconds) {
        return make_job_error(status_code::common_error, fmt::format("Invalid timeout format: {}", value));
    }
    if (*seconds <= 0) {
        return make_job_error(status_code::common_error,
                              fmt::format("timeout must be a positive number of seconds, got {}", value));
    }
    return *seconds;
}

job_result<int64_t> parse_ttl(std::string_view value) {
    auto trim = [](std::string_view t) {
        while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) {
            t.remove_prefix(1);
        }
        while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) {
            t.remove_suffix(1);
        }
        return t;
    };
    std::string_view text = trim(value);
    if (text.empty()) {
        return int64_t{0};
    }
    auto refuse = [value] {
        return make_job_error(status_code::common_error,
                              fmt::format("Invalid ttl: '{}'; it should look like '7 DAY': a whole number above 0 "
                                          "and SECOND, MINUTE, HOUR or DAY",
                                          value));
    };
    size_t space = text.find_first_of(" \t");
    if (space == std::string_view::npos) {
        return refuse();
    }
    auto count = parse_int(text.substr(0, space));
    std::string_view unit = trim(text.substr(space));
    if (unit.size() > 1 && (unit.back() == 's' || unit.back() == 'S')) {
        unit.remove_suffix(1);
    }
    constexpr std::pair<std::string_view, int64_t> units[] = {
        {"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}};
    const auto* found = std::find_if(std::begin(units), std::end(units),
                                     [unit](const auto& u) { return storage::iequals(unit, u.first); });
    // Ten years at most: beyond it "forever" (no ttl) says it better, and the sum cannot overflow.
    constexpr int64_t max_seconds = int64_t{3650} * 86400;
    if (!count || *count <= 0 || found == std::end(units) || *count > max_seconds / found->second) {
        return refuse();
    }
    return *count * found->second;
}

job_result<std::string> parse_backup_timestamp(std::string_view value) {
    if (!remote::parse_snapshot_timestamp(value)) {
        return make_job_error(status_code::common_error,
                              fmt::format("Invalid backup_timestamp: {}; it looks like 2024-12-09-10-25-58-842 "
                                          "(SHOW SNAPSHOT's Timestamp)",
                                          value));
    }
    return std::string(value);
}

job_result<int64_t> parse_speed_kbps(std::string_view key, std::string_view value) {
    auto kbps = parse_int(value);
    if (!kbps || *kbps < 0) {
        return make_job_error(status_code::common_error,
                              fmt::format("Invalid {}: {}; it is KB/s, 0 or more (0: only the global limit)", key,
                                          value));
    }
    return *kbps;
}

}  // namespace tv::jobs
