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
///
/// Paced answers: the kernel accepts bytes into a socket before anyone reads them, so pacing
/// the reads alone lets the link run ahead of the limit by a receive buffer per connection.
/// When `expected` (the answer body's size) is known, the client pays for the bytes its receive
/// buffer may take ahead of the reads before they can come (never more than `expected` in all),
/// so the link carries no byte that was not let through. 0: each read is paid once it has come.
struct body_pacer {
    std::function<io::task<bool>(size_t)> take;
    size_t slice = 256 * 1024;
    std::chrono::milliseconds allowance{0};
    uint64_t expected = 0;

    explicit operator bool() const noexcept { return static_cast<bool>(take); }
};

}  // namespace tv::remote
