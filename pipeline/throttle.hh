// SPDX-License-Identifier: Apache-2.0
// throttle: one token bucket per transfer direction, shared by every loop, whose rate can change
// while transfers run. Callers take bytes in small slices, so a capped link sees a steady stream
// rather than bursts of whole buffers.
#pragma once

#include "io/task.hh"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>

namespace tv::pipeline {

/// The bucket's arithmetic, with time passed in: deterministic and testable without sleeping.
/// Tokens may go negative (a reservation larger than what is there borrows from the future and
/// the caller waits the debt off), so the long-run rate is exact whatever the slice sizes; the
/// depth (what may be sent at once after an idle spell) is `burst` of a second's worth.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;

    /// `bytes_per_second` 0 = unlimited.
    explicit token_bucket(uint64_t bytes_per_second = 0, std::chrono::milliseconds burst = std::chrono::milliseconds(100));

    /// Takes effect for every later reservation; tokens saved up under the old rate are capped to
    /// the new depth and a debt is rescaled, so a lowered limit is felt at once.
    void set_rate(uint64_t bytes_per_second, clock::time_point now);
    uint64_t rate() const;

    /// Reserves `bytes` at `now` and returns how long the caller must wait before sending them
    /// (zero when the bucket had them, always zero when unlimited).
    std::chrono::nanoseconds reserve(uint64_t bytes, clock::time_point now);

    /// The largest slice a caller should take at once: a tenth of the burst depth, between 4 KiB
    /// and 256 KiB, so a rate change or a stop is noticed within a fraction of a second.
    uint64_t slice_bytes() const;

private:
    void refill(clock::time_point now);
    double depth() const;

    mutable std::mutex _mutex;
    uint64_t _rate;
    std::chrono::milliseconds _burst;
    double _tokens = 0;  // may be negative: bytes reserved ahead of the rate
    clock::time_point _last{};
    bool _started = false;
};

/// The bucket with the real clock and io/ sleeps. Thread-safe: loops share one per direction.
class throttle {
public:
    explicit throttle(uint64_t bytes_per_second = 0);

    void set_rate(uint64_t bytes_per_second);
    uint64_t rate() const { return _bucket.rate(); }
    bool unlimited() const { return rate() == 0; }

    /// Waits until `bytes` may be sent, in slices; false when `stop` fired first.
    io::task<bool> take(uint64_t bytes, std::stop_token stop = {});

    uint64_t slice_bytes() const { return _bucket.slice_bytes(); }

    /// Bytes let through so far (each slice counts once its wait is over): what benchmarks
    /// sample per second to see the achieved rate.
    uint64_t bytes_released() const { return _released.load(std::memory_order_relaxed); }

private:
    token_bucket _bucket;
    std::atomic<uint64_t> _released{0};
};

/// KB/s as the config keys give it (1 KB = 1024 bytes) in bytes per second.
inline uint64_t kbps_to_bytes_per_second(int64_t kbps) {
    return kbps <= 0 ? 0 : static_cast<uint64_t>(kbps) * 1024;
}

}  // namespace tv::pipeline
