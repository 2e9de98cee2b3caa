// SPDX-License-Identifier: Apache-2.0
// The log sink: formats "2026-11-21T11:54:07.123Z INFO  [t3] message" and writes it whole.
// Messages carry names users chose (users, databases, labels), so control bytes in them are
// escaped here, once for every caller: one entry is always exactly one line.
#include "io/log.hh"

#include "io/printable.hh"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>

namespace tv::log {

std::atomic<int> g_level{static_cast<int>(level::info)};

namespace {
std::mutex g_sink_mutex;  // guards g_fd swaps only; each line is one write(2)
int g_fd = STDERR_FILENO;
}  // namespace

std::optional<level> parse_level(std::string_view name) {
    if (name == "debug") return level::debug;
    if (name == "info") return level::info;
    if (name == "warn" || name == "warning") return level::warn;
    if (name == "error") return level::error;
    if (name == "off") return level::off;
    return std::nullopt;
}

std::string_view level_name(level l) {
    switch (l) {
    case level::debug: return "DEBUG";
    case level::info: return "INFO";
    case level::warn: return "WARN";
    case level::error: return "ERROR";
    case level::off: return "OFF";
    }
    return "?";
}

void set_level(level l) {
    g_level.store(static_cast<int>(l), std::memory_order_relaxed);
}

level current_level() {
    return static_cast<level>(g_level.load(std::memory_order_relaxed));
}

std::optional<std::string> set_file(const std::string& path) {
    int fd = STDERR_FILENO;
    if (!path.empty()) {
        fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) {
            return fmt::format("cannot open log file '{}': {}", path, io::errno_text(errno));
        }
    }
    std::lock_guard lock(g_sink_mutex);
    if (g_fd != STDERR_FILENO) {
        ::close(g_fd);
    }
    g_fd = fd;
    return std::nullopt;
}

void write_line(level l, std::string_view message) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    tm utc{};
    ::gmtime_r(&now.tv_sec, &utc);
    static thread_local const long tid = ::syscall(SYS_gettid);
    const bool has_control = std::any_of(message.begin(), message.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c < 0x20 || c == 0x7F;
    });
    std::string escaped = has_control ? escape_control(message) : std::string{};
    if (has_control) {
        message = escaped;
    }
    std::string line = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {:<5} [t{}] {}\n",
                                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                   utc.tm_min, utc.tm_sec, now.tv_nsec / 1000000, level_name(l),
                                   tid, message);
    std::lock_guard lock(g_sink_mutex);
    [[maybe_unused]] ssize_t n = ::write(g_fd, line.data(), line.size());
}

}  // namespace tv::log

namespace tv::io {

std::string errno_text(int err) {
    char buf[128];
    // GNU strerror_r returns the message pointer (maybe not buf).
    const char* text = ::strerror_r(err, buf, sizeof(buf));
    return text;
}

}  // namespace tv::io
