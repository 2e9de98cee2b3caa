// SPDX-License-Identifier: Apache-2.0
// Leveled, timestamped log lines to stderr or a file. One write(2) per line; callers must keep
// logging off per-block paths. Arguments are not evaluated when the level is disabled.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

namespace tv::log {

enum class level : int { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

std::optional<level> parse_level(std::string_view name);
std::string_view level_name(level l);

void set_level(level l);
level current_level();

/// Sends log lines to `path` (appending), or to stderr when path is empty. Returns an error
/// message on failure (the previous sink stays).
std::optional<std::string> set_file(const std::string& path);

/// Writes one line. Control bytes in `message` (a user name holding "\n", say) are written as
/// \n, \r, \t or \xNN, so no message can start a line of its own.
void write_line(level l, std::string_view message);

inline bool enabled(level l) {
    extern std::atomic<int> g_level;
    return static_cast<int>(l) >= g_level.load(std::memory_order_relaxed);
}

}  // namespace tv::log

namespace tv::io {
/// strerror-like text for an errno value ("No such file or directory").
std::string errno_text(int err);
}  // namespace tv::io

#define TV_LOG_AT(lvl, ...)                                                        \
    do {                                                                           \
        if (::tv::log::enabled(lvl)) {                                             \
            ::tv::log::write_line(lvl, ::fmt::format(__VA_ARGS__));                \
        }                                                                          \
    } while (0)
#define TV_LOG_DEBUG(...) TV_LOG_AT(::tv::log::level::debug, __VA_ARGS__)
#define TV_LOG_INFO(...) TV_LOG_AT(::tv::log::level::info, __VA_ARGS__)
#define TV_LOG_WARN(...) TV_LOG_AT(::tv::log::level::warn, __VA_ARGS__)
#define TV_LOG_ERROR(...) TV_LOG_AT(::tv::log::level::error, __VA_ARGS__)
