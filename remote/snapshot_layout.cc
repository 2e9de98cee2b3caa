// SPDX-License-Identifier: Apache-2.0
// Snapshot key naming, timestamps, checksum suffixes, and the listing SHOW SNAPSHOT reads.
#include "remote/snapshot_layout.hh"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace tv::remote {

namespace {

bool is_lower_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<int> number_at(std::string_view text, size_t pos, size_t digits) {
    if (pos + digits > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + digits, value);
    if (ec != std::errc{} || end != text.data() + pos + digits) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::string snapshot_timestamp(int64_t unix_ms) {
    auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms));
    auto seconds = std::chrono::floor<std::chrono::seconds>(t);
    int64_t millis = ((unix_ms % 1000) + 1000) % 1000;
    return fmt::format("{:%Y-%m-%d-%H-%M-%S}-{:03}", seconds, millis);
}

std::optional<int64_t> parse_snapshot_timestamp(std::string_view text) {
    // yyyy-MM-dd-HH-mm-ss-SSS: 23 characters, dashes at fixed places.
    if (text.size() != 23) {
        return std::nullopt;
    }
    for (size_t dash : {4u, 7u, 10u, 13u, 16u, 19u}) {
        if (text[dash] != '-') {
            return std::nullopt;
        }
    }
    auto year = number_at(text, 0, 4);
    auto month = number_at(text, 5, 2);
    auto day = number_at(text, 8, 2);
    auto hour = number_at(text, 11, 2);
    auto minute = number_at(text, 14, 2);
    auto second = number_at(text, 17, 2);
    auto milli = number_at(text, 20, 3);
    if (!year || !month || !day || !hour || !minute || !second || !milli || *hour > 23 || *minute > 59 ||
        *second > 59) {
        return std::nullopt;
    }
    std::chrono::year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                                     std::chrono::day(static_cast<unsigned>(*day))};
    if (!date.ok()) {
        return std::nullopt;
    }
    auto t = std::chrono::sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
             std::chrono::seconds(*second) + std::chrono::milliseconds(*milli);
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string snapshot_prefix(std::string_view root, std::string_view label) {
    return fmt::format("{}/{}{}/", root, snapshot_dir_prefix, label);
}

std::string info_key_base(std::string_view root, std::string_view label, std::string_view timestamp) {
    return fmt::format("{}{}{}", snapshot_prefix(root, label), info_prefix, timestamp);
}

std::string meta_key_base(std::string_view root, std::string_view label, std::string_view timestamp) {
    return fmt::format("{}{}{}", snapshot_prefix(root, label), meta_prefix, timestamp);
}

std::string manifest_key_base(std::string_view root, std::string_view label, std::string_view timestamp) {
    return fmt::format("{}{}{}", snapshot_prefix(root, label), manifest_prefix, timestamp);
}

std::string with_checksum(std::string_view base, std::string_view checksum_hex) {
    return fmt::format("{}.{}", base, checksum_hex);
}

std::optional<std::pair<std::string, std::string>> split_checksum(std::string_view key) {
    size_t dot = key.rfind('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view sum = key.substr(dot + 1);
    if (sum.size() != 32 || !is_lower_hex(sum)) {
        return std::nullopt;
    }
    return std::pair{std::string(key.substr(0, dot)), std::string(sum)};
}

std::string data_key(std::string_view root, std::string_view cluster_id, uint64_t tablet_id, std::string_view file) {
    return fmt::format("{}/{}/{}/{}/{}", root, data_dir_name, cluster_id, tablet_id, file);
}

std::string pack_key(std::string_view root, std::string_view cluster_id, std::string_view name) {
    return fmt::format("{}/{}/{}/{}/{}", root, data_dir_name, cluster_id, packs_dir_name, name);
}

namespace {

/// Sorts a listing's objects by label: its info objects by timestamp, and the meta and manifest
/// that are the only ones of their timestamp (a backup resumed after a crash may leave a second).
std::map<std::string, snapshot_listing> by_label(std::string_view root, const std::vector<object_info>& objects) {
    std::string prefix = fmt::format("{}/{}", root, snapshot_dir_prefix);
    std::map<std::string, snapshot_listing> out;
    std::map<std::pair<std::string, std::string>, int> seen;  // (label, meta or manifest base): count
    for (const auto& object : objects) {
        if (!object.key.starts_with(prefix)) {
            continue;
        }
        std::string_view rest = std::string_view(object.key).substr(prefix.size());
        size_t slash = rest.find('/');
        if (slash == std::string_view::npos || slash == 0) {
            continue;
        }
        std::string label(rest.substr(0, slash));
        std::string_view name = rest.substr(slash + 1);
        snapshot_listing& entry = out[label];
        entry.label = label;
        if (name.find('/') != std::string_view::npos) {
            continue;
        }
        auto split = split_checksum(name);
        auto note_unique = [&](std::string_view kind, std::map<std::string, std::string>& keys) {
            if (split && name.starts_with(kind)) {
                std::string timestamp = split->first.substr(kind.size());
                if (!parse_snapshot_timestamp(timestamp)) {
                    return;
                }
                if (++seen[{label, split->first}] == 1) {
                    keys.emplace(timestamp, object.key);
                } else {
                    keys.erase(timestamp);
                }
            }
        };
        note_unique(meta_prefix, entry.meta_keys);
        note_unique(manifest_prefix, entry.manifest_keys);
        if (!name.starts_with(info_prefix)) {
            continue;
        }
        std::string_view timestamp =
            split ? std::string_view(split->first).substr(info_prefix.size()) : std::string_view{};
        if (split && parse_snapshot_timestamp(timestamp)) {
            entry.info_keys.emplace(std::string(timestamp), object.key);
        } else {
            entry.timestamps.push_back(fmt::format("Invalid: {}", name));
        }
    }
    for (auto& [label, entry] : out) {
        std::vector<std::string> valid;
        for (const auto& [timestamp, key] : entry.info_keys) {
            valid.push_back(timestamp);
        }
        entry.status = valid.empty() ? "ERROR: no snapshot" : "OK";
        valid.insert(valid.end(), entry.timestamps.begin(), entry.timestamps.end());
        entry.timestamps = std::move(valid);
    }
    return out;
}

}  // namespace

io::task<remote_result<std::vector<snapshot_listing>>> list_snapshots(object_store& store, std::string root,
                                                                      std::stop_token stop) {
    auto objects = co_await store.list(fmt::format("{}/{}", root, snapshot_dir_prefix), stop);
    if (!objects) {
        co_return objects.error();
    }
    std::vector<snapshot_listing> out;
    for (auto& [label, entry] : by_label(root, *objects)) {
        out.push_back(std::move(entry));
    }
    co_return out;
}

io::task<remote_result<std::optional<snapshot_listing>>> list_snapshot_label(object_store& store, std::string root,
                                                                             std::string label, std::stop_token stop) {
    if (label.empty() || label.find('/') != std::string::npos) {
        co_return std::nullopt;  // no label has a slash: its prefix would reach into another's
    }
    auto objects = co_await store.list(snapshot_prefix(root, label), stop);
    if (!objects) {
        co_return objects.error();
    }
    auto labels = by_label(root, *objects);
    auto it = labels.find(label);
    if (it == labels.end()) {
        co_return std::nullopt;
    }
    co_return std::move(it->second);
}

io::task<remote_result<bool>> label_exists(object_store& store, std::string root, std::string label,
                                           std::stop_token stop) {
    auto objects = co_await store.list(snapshot_prefix(root, label), stop);
    if (!objects) {
        co_return objects.error();
    }
    co_return !objects->empty();
}

}  // namespace tv::remote
