// SPDX-License-Identifier: Apache-2.0
// The token bucket and its awaitable front.
#include "pipeline/throttle.hh"

#include "io/ops.hh"

#include <algorithm>

namespace tv::pipeline {

token_bucket::token_bucket(uint64_t bytes_per_second, std::chrono::milliseconds burst)
    : _rate(bytes_per_second), _burst(burst) {}

double token_bucket::depth() const {
    return static_cast<double>(_rate) * static_cast<double>(_burst.count()) / 1000.0;
}

void token_bucket::refill(clock::time_point now) {
    if (!_started) {
        // A fresh bucket starts empty: the first second is paced like every other one.
        _started = true;
        _last = now;
        _tokens = 0;
        return;
    }
    if (now <= _last) {
        return;
    }
    double elapsed = std::chrono::duration<double>(now - _last).count();
    _last = now;
    _tokens = std::min(depth(), _tokens + elapsed * static_cast<double>(_rate));
}

void token_bucket::set_rate(uint64_t bytes_per_second, clock::time_point now) {
    std::lock_guard lock(_mutex);
    if (_rate != 0) {
        refill(now);
    }
    uint64_t old = _rate;
    _rate = bytes_per_second;
    if (_rate == 0) {
        _started = false;
        return;
    }
    if (old == 0) {
        _started = false;
        refill(now);
        return;
    }
    // A debt is time owed at the old rate: keep the time, not the bytes, so lowering the limit
    // does not stretch waits already promised and raising it does not make them shorter than
    // the remaining bytes need.
    if (_tokens < 0) {
        _tokens = _tokens * static_cast<double>(_rate) / static_cast<double>(old);
    }
    _tokens = std::min(_tokens, depth());
}

uint64_t token_bucket::rate() const {
    std::lock_guard lock(_mutex);
    return _rate;
}

std::chrono::nanoseconds token_bucket::reserve(uint64_t bytes, clock::time_point now) {
    std::lock_guard lock(_mutex);
    if (_rate == 0) {
        return std::chrono::nanoseconds(0);
    }
    refill(now);
    _tokens -= static_cast<double>(bytes);
    if (_tokens >= 0) {
        return std::chrono::nanoseconds(0);
    }
    double seconds = -_tokens / static_cast<double>(_rate);
    return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

uint64_t token_bucket::slice_bytes() const {
    std::lock_guard lock(_mutex);
    constexpr uint64_t smallest = 4 * 1024;
    constexpr uint64_t largest = 256 * 1024;
    if (_rate == 0) {
        return largest;
    }
    auto tenth = static_cast<uint64_t>(depth() / 10);
    return std::clamp(tenth, smallest, largest);
}

throttle::throttle(uint64_t bytes_per_second) : _bucket(bytes_per_second) {}

void throttle::set_rate(uint64_t bytes_per_second) {
    _bucket.set_rate(bytes_per_second, token_bucket::clock::now());
}

io::task<bool> throttle::take(uint64_t bytes, std::stop_token stop) {
    while (bytes > 0) {
        if (stop.stop_requested()) {
            co_return false;
        }
        uint64_t slice = std::min(bytes, _bucket.slice_bytes());
        auto wait = _bucket.reserve(slice, token_bucket::clock::now());
        bytes -= slice;
        if (wait.count() > 0) {
            auto slept = co_await io::sleep(wait, stop);
            if (!slept) {
                co_return false;
            }
        }
        _released.fetch_add(slice, std::memory_order_relaxed);
    }
    co_return true;
}

}  // namespace tv::pipeline
