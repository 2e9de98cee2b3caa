// SPDX-License-Identifier: Apache-2.0
// transfer_limits: the throttles one transfer's bytes go through, the engine's for its direction
// and, when the caller set one, the job's own; the lower rate wins.
#pragma once

#include "io/task.hh"
#include "pipeline/throttle.hh"
#include "remote/body_pacer.hh"

#include <cstdint>
#include <functional>
#include <stop_token>

namespace tv::pipeline {

/// Both throttles outlive the transfer; `job` may be null.
struct transfer_limits {
    throttle* engine = nullptr;
    throttle* job = nullptr;

    /// Whether bytes must be taken before they move: the engine's limit is on, or the job has
    /// one (taken from even while unlimited, so every byte is counted and a rate set later is
    /// felt at the next slice).
    bool active() const { return engine->rate() != 0 || job != nullptr; }

    /// The lower of the two rates, 0 when neither limits.
    uint64_t lowest_rate() const;

    /// Waits until `n` bytes may go through both; false when `stop` fired first.
    io::task<bool> take(uint64_t n, std::stop_token stop) const;

    /// Paces a request body of `length` bytes through both (an empty pacer when !active()).
    /// `on_taken`, when given, hears of each slice let through (progress counts paced bytes as
    /// they go, so a slow capped object shows its rate before it completes).
    remote::body_pacer body_pacer(uint64_t length, std::stop_token stop,
                                  std::function<void(size_t)> on_taken = {}) const;
};

}  // namespace tv::pipeline
