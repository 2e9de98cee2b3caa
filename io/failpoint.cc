// SPDX-License-Identifier: Apache-2.0
// TV_FAILPOINTS parsing and the per-point hit counters (see failpoint.hh).
#include "io/failpoint.hh"

#ifdef TV_FAILPOINTS

#include "io/log.hh"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>

namespace tv::io {

namespace {

enum class armed_action { crash, throw_exception, error, delay };

struct armed_point {
    std::string name;
    armed_action action;
    unsigned fire_at = 1;
    std::chrono::milliseconds delay{0};
    std::atomic<unsigned> hits{0};
};

struct failpoint_table {
    std::mutex lock;  // guards `points` while it is built; reads after that are lock-free
    std::array<armed_point*, failpoints.size()> by_index{};
    std::string error;
    bool configured = false;
};

failpoint_table& table() {
    static failpoint_table t;
    return t;
}

std::optional<size_t> index_of(std::string_view name) {
    auto found = std::find_if(failpoints.begin(), failpoints.end(),
                              [name](const failpoint_spec& spec) { return spec.name == name; });
    if (found == failpoints.end()) {
        return std::nullopt;
    }
    return static_cast<size_t>(found - failpoints.begin());
}

std::string parse_into(failpoint_table& t, std::string_view spec) {
    while (!spec.empty()) {
        size_t comma = spec.find(',');
        std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            return fmt::format("TV_FAILPOINTS: '{}' is not name=action", item);
        }
        std::string_view name = item.substr(0, eq);
        std::string_view action = item.substr(eq + 1);
        unsigned fire_at = 1;
        if (size_t at = action.find('@'); at != std::string_view::npos) {
            std::string_view count = action.substr(at + 1);
            auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), fire_at);
            if (ec != std::errc() || end != count.data() + count.size() || fire_at == 0) {
                return fmt::format("TV_FAILPOINTS: '{}' has a bad hit number (1 or more)", item);
            }
            action = action.substr(0, at);
        }
        auto index = index_of(name);
        if (!index) {
            return fmt::format("TV_FAILPOINTS: no failpoint is named '{}'", name);
        }
        armed_action armed;
        std::chrono::milliseconds delay{0};
        if (action == "crash") {
            armed = armed_action::crash;
        } else if (action == "throw") {
            armed = armed_action::throw_exception;
        } else if (action == "error") {
            armed = armed_action::error;
        } else if (action.starts_with("delay:")) {
            std::string_view ms = action.substr(6);
            int64_t count = 0;
            auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), count);
            if (ec != std::errc() || end != ms.data() + ms.size() || count <= 0 || count > 3'600'000) {
                return fmt::format("TV_FAILPOINTS: '{}' has a bad delay (milliseconds, 1 to 3600000)", item);
            }
            armed = armed_action::delay;
            delay = std::chrono::milliseconds(count);
        } else {
            return fmt::format("TV_FAILPOINTS: '{}' is not an action (crash, throw, error or delay:<ms>)", action);
        }
        failpoint_use use = failpoints[*index].use;
        if (use == failpoint_use::crash_only && armed != armed_action::crash) {
            return fmt::format("TV_FAILPOINTS: '{}' can only crash", name);
        }
        if (use == failpoint_use::error_only && armed != armed_action::error) {
            return fmt::format("TV_FAILPOINTS: '{}' can only fail with error", name);
        }
        if ((use == failpoint_use::delay_only) != (armed == armed_action::delay)) {
            return fmt::format("TV_FAILPOINTS: '{}' {}", name,
                               use == failpoint_use::delay_only ? "can only delay" : "is not a delay point");
        }
        // Leaked on purpose: points are read from any thread until the process ends.
        t.by_index[*index] = new armed_point{std::string(name), armed, fire_at, delay};
    }
    return {};
}

}  // namespace

std::string configure_failpoints_from_env() {
    failpoint_table& t = table();
    std::lock_guard guard(t.lock);
    if (!t.configured) {
        t.configured = true;
        if (const char* spec = std::getenv("TV_FAILPOINTS"); spec != nullptr && *spec != '\0') {
            t.error = parse_into(t, spec);
            if (t.error.empty()) {
                TV_LOG_WARN("TV_FAILPOINTS={}: the server fails on purpose there (tests only)", spec);
            }
        }
    }
    return t.error;
}

namespace {

/// The point `name` when it is armed and this pass is the one it fires on; counts the pass.
armed_point* firing(std::string_view name, failpoint_use expected, unsigned& hit) {
    auto index = index_of(name);
    if (!index || (failpoints[*index].use == failpoint_use::delay_only) != (expected == failpoint_use::delay_only)) {
        std::abort();  // a call site names a point the list does not have, or reads it wrongly
    }
    armed_point* point = table().by_index[*index];
    if (point == nullptr) {
        return nullptr;
    }
    hit = point->hits.fetch_add(1, std::memory_order_relaxed) + 1;
    return hit == point->fire_at ? point : nullptr;
}

}  // namespace

std::chrono::milliseconds failpoint_delay(std::string_view name) {
    unsigned hit = 0;
    armed_point* point = firing(name, failpoint_use::delay_only, hit);
    if (point == nullptr) {
        return std::chrono::milliseconds(0);
    }
    TV_LOG_WARN("failpoint {}: delaying {} ms on hit {}", name, point->delay.count(), hit);
    return point->delay;
}

failpoint_action failpoint(std::string_view name) {
    unsigned hit = 0;
    armed_point* point = firing(name, failpoint_use::any, hit);
    if (point == nullptr) {
        return failpoint_action::none;
    }
    switch (point->action) {
    case armed_action::delay:
        return failpoint_action::none;  // parsing refuses it here
    case armed_action::crash:
        TV_LOG_WARN("failpoint {}: crashing (SIGKILL) on hit {}", name, hit);
        std::raise(SIGKILL);
        std::abort();
    case armed_action::throw_exception:
        TV_LOG_WARN("failpoint {}: throwing on hit {}", name, hit);
        throw failpoint_exception(fmt::format("failpoint {}", name));
    case armed_action::error:
        TV_LOG_WARN("failpoint {}: failing on hit {}", name, hit);
        return failpoint_action::error;
    }
    return failpoint_action::none;
}

}  // namespace tv::io

#endif  // TV_FAILPOINTS
