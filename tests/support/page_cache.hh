// SPDX-License-Identifier: Apache-2.0
// A file's pages in the page cache as cachestat(2) (Linux 6.5) counts them: how tests see that
// writeback was started without waiting for it. Debian 12's headers predate the call.
#pragma once

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>

namespace tv::testing {

struct page_cache_state {
    uint64_t cached = 0;
    uint64_t dirty = 0;
    uint64_t writeback = 0;
    uint64_t evicted = 0;
    uint64_t recently_evicted = 0;
};

inline constexpr long cachestat_syscall = 451;

/// The whole file's pages; nullopt (errno set) where the kernel has no cachestat.
inline std::optional<page_cache_state> page_cache_of(int fd) {
    struct {
        uint64_t offset = 0;
        uint64_t length = 0;  // to the end
    } whole;
    page_cache_state state;
    if (::syscall(cachestat_syscall, fd, &whole, &state, 0) != 0) {
        return std::nullopt;
    }
    return state;
}

inline std::optional<page_cache_state> page_cache_of(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    auto state = page_cache_of(fd);
    ::close(fd);
    return state;
}

}  // namespace tv::testing
