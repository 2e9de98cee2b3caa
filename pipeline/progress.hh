// SPDX-License-Identifier: Apache-2.0
// transfer_progress: what a transfer has done so far (bytes, files, retries, the rate), counted
// by the engine's workers on every loop and read from any thread (job status, bench-path).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace tv::pipeline {

/// Bytes and files, done and total, and the rate; read from any thread while transfers run.
/// One per transfer, and one per direction for everything the engine moves.
class transfer_progress {
public:
    std::atomic<uint64_t> bytes_done{0};
    std::atomic<uint64_t> bytes_total{0};
    std::atomic<uint64_t> files_done{0};
    std::atomic<uint64_t> files_failed{0};
    std::atomic<uint64_t> files_total{0};
    /// Requests the store sent again after a failure that may pass (a 503, a reset, a timeout).
    std::atomic<uint64_t> retries{0};
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    /// Counts `n` more bytes done and keeps a sample for current_rate().
    void add_bytes(uint64_t n);
    /// Counts a request the store sends again, and keeps why (the last reason is shown).
    void add_retry(std::string_view reason);
    /// Why the last retried request failed ("" when none was).
    std::string last_retry() const;
    /// Bytes per second over the whole transfer so far.
    double average_rate() const;
    /// Bytes per second over about the last five seconds (0 when nothing moved in them).
    double current_rate() const;

private:
    mutable std::mutex _mutex;
    std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> _samples;  // (when, bytes_done)
    std::string _last_retry;
};

}  // namespace tv::pipeline
