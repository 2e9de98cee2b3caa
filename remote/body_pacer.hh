// SPDX-License-Identifier: Apache-2.0
// body_pacer: how a caller with a rate limit (the transfer pipeline's throttle) paces the bytes
// a store sends, without remote/ knowing about throttles.
#pragma once

#include "io/task.hh"

#include <chrono>
#include <cstddef>
#include <functional>

namespace tv::remote {

/// Paces a request or file body for a rate limit: `take(n)` is awaited before each slice of at most
/// `slice` bytes goes out (false stops the request as cancelled), so a capped link sees a steady
/// stream instead of a whole part at line rate. `allowance` is how long pacing may hold the
/// body back; it is added to the request timeout.
struct body_pacer {
    std::function<io::task<bool>(size_t)> take;
    size_t slice = 256 * 1024;
    std::chrono::milliseconds allowance{0};

    explicit operator bool() const noexcept { return static_cast<bool>(take); }
};

}  // namespace tv::remote
